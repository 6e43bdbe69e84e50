# Thin wrapper over CMake. The two commands: `make run` and `make test`.
comma := ,
BUILD ?= build
SANITIZE ?=
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

ifneq ($(SANITIZE),)
BUILD := build-$(subst $(comma),-,$(SANITIZE))
CMAKE_FLAGS += -DJOT_SANITIZE=$(SANITIZE) -DCMAKE_BUILD_TYPE=Debug
endif


.PHONY: all deps configure build test run demo install clean format

all: build

deps:
	@scripts/install-deps

configure:
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: deps
	@$(MAKE) --no-print-directory build CMAKE_FLAGS="$(CMAKE_FLAGS) -DJOT_WERROR=ON"
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The main job: jotd on http://127.0.0.1:8080 with ./var (first start creates an admin user).
run: deps build
	@exec $(BUILD)/bin/jotd serve --data ./var --listen 127.0.0.1:8080

# A short tour of the jot command line.
demo: build
	@scripts/demo $(BUILD)/bin/jot

install: build
	@cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

format:
	@clang-format -i include/jot/*.h lib/*.[ch] cli/*.[ch] server/*.[ch] tests/unit/*.[ch] tests/conformance/*.[ch]

clean:
	@rm -rf build build-*

# Fuzzing (fuzz/README.md): a clang build in build-fuzz with -DJOT_FUZZ=ON (libFuzzer, ASan,
# UBSan), then every target for FUZZ_SECONDS each; FUZZ_TARGETS picks some. New inputs and
# crash files go to build-fuzz/fuzz-work/<target>/, never into fuzz/corpus/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
.PHONY: fuzz
fuzz:
	@CC=clang cmake -S . -B build-fuzz -DJOT_FUZZ=ON -DCMAKE_C_COMPILER=clang >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzz_all
	@fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)
