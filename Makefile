# Thin wrapper over CMake. The two commands: `make run` and `make test`.
comma := ,
BUILD ?= build
SANITIZE ?=
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

ifneq ($(SANITIZE),)
BUILD := build-$(subst $(comma),-,$(SANITIZE))
CMAKE_FLAGS += -DJOT_SANITIZE=$(SANITIZE) -DCMAKE_BUILD_TYPE=Debug
# the PostgreSQL variants (pg.*, unit.test_jotd_store.pg, e2e.pg.*) run once, in `make test`
CMAKE_FLAGS += -DJOT_PG_TESTS=OFF
# Leaks are errors; the first report stops the process (tests/CMakeLists.txt sets the same
# for its tests; this covers the rest, e.g. the fuzz corpus replays).
SANITIZER_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
endif


.PHONY: all deps configure build test run demo install clean format \
	valgrind check-clang lint symbols-update

all: build

deps:
	@scripts/install-deps

configure:
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# Everything, including lint.* (checksrc, exported symbols, cppcheck, clang-tidy) and the
# constant-time check valgrind.ct. SANITIZE=address,undefined: the same under ASan + UBSan.
test: deps
	@$(MAKE) --no-print-directory build \
		CMAKE_FLAGS="$(CMAKE_FLAGS) -DJOT_WERROR=ON -DJOT_VALGRIND_UNIT=OFF"
	@cd $(BUILD) && $(SANITIZER_ENV) ctest --output-on-failure -j $(JOBS)

# Every unit test under valgrind memcheck (zero errors, no definite leak) plus the
# constant-time check; a normal build only. VALGRIND_LABEL=valgrind adds test_oom (slow).
VALGRIND_LABEL ?= ^valgrind\.unit$$|^ct$$
valgrind: deps
	@if [ -n "$(SANITIZE)" ]; then echo "make valgrind: not with SANITIZE" >&2; exit 2; fi
	@$(MAKE) --no-print-directory build \
		CMAKE_FLAGS="$(CMAKE_FLAGS) -DJOT_WERROR=ON -DJOT_VALGRIND_UNIT=ON"
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L '$(VALGRIND_LABEL)'

# The whole tree built by clang with -Werror (gcc's is `make test`), then its unit tests.
# (Without unit.test_jotd_store.pg: the PostgreSQL variants run once, in `make test`.)
check-clang: deps
	@CC=clang cmake -S . -B build-clang -DCMAKE_C_COMPILER=clang -DJOT_WERROR=ON -DJOT_PG_TESTS=OFF >/dev/null
	@cmake --build build-clang -j $(JOBS)
	@cd build-clang && ctest --output-on-failure -j $(JOBS) -R '^unit\.'

# Source rules, pinned exported symbols, cppcheck and clang-tidy (also CTest tests lint.*).
# (Uses the build tree as it is, configured as by `make test` if there is none yet.)
lint:
	@[ -f $(BUILD)/CMakeCache.txt ] || cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DJOT_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target jot
	@rc=0; \
	scripts/checksrc || rc=1; \
	tests/lint/symbols.sh $(BUILD)/lib/libjot.so || rc=1; \
	tests/lint/cppcheck.sh . || { [ $$? -eq 77 ] || rc=1; }; \
	tests/lint/clang-tidy.sh $(BUILD) . || { [ $$? -eq 77 ] || rc=1; }; \
	exit $$rc

# Rewrite tests/symbols.txt from the library: for a deliberate change of the exported API.
symbols-update:
	@[ -f $(BUILD)/CMakeCache.txt ] || cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DJOT_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target jot
	@tests/lint/symbols.sh --update $(BUILD)/lib/libjot.so

# The main job: jotd on http://127.0.0.1:$(PORT) (default 8080) with ./var (the first start
# creates it, with an admin user whose password it prints): make run PORT=9000
PORT ?= 8080
run: deps build
	@exec $(BUILD)/bin/jotd serve --data ./var --listen 127.0.0.1:$(PORT)

# A short tour of the jot command line.
demo: build
	@scripts/demo $(BUILD)/bin/jot

# make install [PREFIX=P] [DESTDIR=D]: jot, jotd, libjot (shared and static), jot.h, jot.pc,
# the man pages and lib/systemd/system/jotd.service; jot.pc and the unit are written with the
# prefix of this install (dist/install.cmake), whatever the build was configured with. The
# shared libjot outside the loader's path: run ldconfig after installing into /usr/local, or
# link with -Wl,-rpath,P/lib (docs/operations.md, "Install").
install: build
	@cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

# clang-format -i (.clang-format) over every C source and header of the tree: the library,
# the programs, their shared helpers, the tests, the fuzz targets and the benchmarks.
FORMAT_DIRS := include lib common cli server tests/unit tests/conformance fuzz bench
format:
	@find $(wildcard $(FORMAT_DIRS)) -name '*.[ch]' | LC_ALL=C sort | xargs clang-format -i

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

# ThreadSanitizer run of the libjot thread-safety test (tests/unit/test_threads.c).
.PHONY: tsan load bench
tsan:
	@cmake -S . -B build-tsan -DJOT_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug -DJOT_WERROR=ON >/dev/null
	@cmake --build build-tsan -j $(JOBS) --target test_threads
	@cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ctest --output-on-failure -R '^unit\.test_threads$$'

# Server benchmark (bench/load/README.md, "make bench-server"): nginx and $(BUILD)/bin/jotd
# on loopback under wrk, SERVER_BENCH_SECONDS per scenario.
SERVER_BENCH_SECONDS ?= 10
.PHONY: bench-server
bench-server: build
	@scripts/install-deps --bench # --bench: wrk (nginx is in the default list); plus the npm jose that mints tokens
	@JOTD=$(BUILD)/bin/jotd bench/server/run.sh $(SERVER_BENCH_SECONDS)
	@JOTD=$(BUILD)/bin/jotd bench/server/metrics_overhead.sh $(SERVER_BENCH_SECONDS)

# Load test (bench/load/README.md) against $(BUILD)/bin/jotd, LOAD_SECONDS per scenario.
LOAD_SECONDS ?= 60
load: build
	@JOTD=$(BUILD)/bin/jotd bench/load/run.sh $(LOAD_SECONDS)

# Micro-benchmark (bench/README.md): libjot vs the raw OpenSSL primitive per algorithm, on an
# optimised build of its own (build-bench, CMAKE_BUILD_TYPE=Release: -O3, where the default
# RelWithDebInfo is -O2 -g). BENCH_SECONDS per figure, BENCH_ARGS passed on (e.g. --only
# ES256). Output: build-bench/bench.txt, and build-bench/bench.png when gnuplot is there
# (scripts/install-deps --bench installs it).
BENCH_SECONDS ?= 1
BENCH_ARGS ?=
bench:
	@scripts/install-deps --bench || echo "make bench: install-deps --bench failed; going on" >&2
	@cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DJOT_BENCH=ON >/dev/null
	@cmake --build build-bench -j $(JOBS) --target jot_bench
	@{ build-bench/bin/jot_bench --seconds $(BENCH_SECONDS) $(BENCH_ARGS); \
		echo $$? >build-bench/bench.rc; } | tee build-bench/bench.txt; \
		exit "$$(cat build-bench/bench.rc)"
	@if command -v gnuplot >/dev/null 2>&1; then \
		bench/chart.sh build-bench/bench.txt build-bench/bench.png; \
	else echo "make bench: gnuplot not installed, no chart" >&2; fi
