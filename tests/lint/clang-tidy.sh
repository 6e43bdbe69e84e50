#!/bin/sh
# clang-tidy over lib/, common/, cli/ and server/ with the committed check set (.clang-tidy at the top
# of the source tree, which also says why each disabled check is off). Needs the compile
# database of a configured build tree (CMAKE_EXPORT_COMPILE_COMMANDS is on).
# Exit 0 clean, 1 findings, 77 clang-tidy not installed (CTest reports the test as skipped).
#
#   tests/lint/clang-tidy.sh BUILD_DIR [SOURCE_DIR]
set -eu
[ $# -ge 1 ] || {
    echo "usage: $0 BUILD_DIR [SOURCE_DIR]" >&2
    exit 2
}
build=$(cd "$1" && pwd)
src=$(cd "${2:-$(dirname "$0")/../..}" && pwd)

tidy=${CLANG_TIDY:-}
if [ -z "$tidy" ]; then
    for t in clang-tidy clang-tidy-14; do
        if command -v "$t" >/dev/null 2>&1; then
            tidy=$t
            break
        fi
    done
fi
if [ -z "$tidy" ]; then
    echo "SKIPPED: clang-tidy is not installed (scripts/install-deps installs it)"
    exit 77
fi
[ -f "$build/compile_commands.json" ] || {
    echo "clang-tidy: $build/compile_commands.json missing (configure with cmake first)" >&2
    exit 2
}

cd "$src"
jobs=$(nproc 2>/dev/null || echo 2)
echo "$("$tidy" --version | sed -n 's/.*version/clang-tidy/p' | head -n 1) over lib/ common/ cli/ server/ ($jobs jobs)"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# One clang-tidy per file, $jobs at a time; .clang-tidy turns every warning into an error.
# Only the diagnostics are kept ("N warnings generated" counts system-header noise that
# is never shown).
status=0
find lib common cli server -name '*.c' | LC_ALL=C sort |
    xargs -P "$jobs" -n 1 "$tidy" -p "$build" --quiet >"$out" 2>&1 || status=$?
grep -v -e '^[0-9]* warnings\{0,1\} generated\.$' -e '^[0-9]* warnings and [0-9]* errors\{0,1\} generated\.$' \
    -e '^Suppressed [0-9]* warnings' -e '^Use -header-filter' -e '^Error while processing' \
    "$out" || true
if [ "$status" -ne 0 ]; then
    echo "clang-tidy: findings above (fix them; see .clang-tidy for the check set)"
    exit 1
fi
echo "clang-tidy: clean"
