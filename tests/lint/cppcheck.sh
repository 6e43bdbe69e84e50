#!/bin/sh
# cppcheck over lib/, common/, cli/ and server/ with the committed check set: the warning, style,
# performance and portability classes, the posix and openssl library models, and the
# suppressions in tests/lint/cppcheck.supp (false positives only, each with its reason).
# Exit 0 clean, 1 findings, 77 cppcheck not installed (CTest reports the test as skipped).
#
#   tests/lint/cppcheck.sh [SOURCE_DIR]
set -eu
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)

if ! command -v cppcheck >/dev/null 2>&1; then
    echo "SKIPPED: cppcheck is not installed (scripts/install-deps installs it)"
    exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# cppcheck gets no system headers (too slow, too noisy) except jansson's: its iteration
# macros (json_object_foreach, json_array_foreach) hide loops, and without them cppcheck
# misreads the code in them ("condition always false", "scope can be reduced").
mkdir "$tmp/inc"
jinc=$(pkg-config --variable=includedir jansson 2>/dev/null || echo /usr/include)
for h in jansson.h jansson_config.h; do
    [ -f "$jinc/$h" ] && ln -s "$jinc/$h" "$tmp/inc/$h"
done

cd "$src"
echo "cppcheck $(cppcheck --version | sed 's/^Cppcheck //') over lib/ common/ cli/ server/"
# shellcheck disable=SC2046 # the file list is split on purpose (no spaces in our paths)
cppcheck --quiet --std=c11 --language=c --platform=unix64 \
    --enable=warning,style,performance,portability \
    --library=posix --library=openssl \
    -D_DEFAULT_SOURCE -D__GNUC__ -Iinclude -I. -Ilib -Icli -Iserver -I"$tmp/inc" \
    --suppress=missingIncludeSystem \
    --suppressions-list=tests/lint/cppcheck.supp \
    --error-exitcode=1 --inline-suppr \
    --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
    -j "$(nproc 2>/dev/null || echo 2)" \
    $(find lib common cli server -name '*.c' | LC_ALL=C sort)
echo "cppcheck: clean"
