#!/bin/sh
# Runs one program under valgrind memcheck with the project's settings: any memory error or
# definite leak fails (--error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite).
#
#   tests/lint/valgrind.sh PROGRAM [ARGS...]
#       exit status of the program, or 1 on any memcheck error
#   tests/lint/valgrind.sh --expect-uninit PROGRAM [ARGS...]
#       the negative control of the constant-time test (test_ct --leaky): passes only when
#       memcheck DID fail it with "Conditional jump or move depends on uninitialised
#       value(s)", in memcmp() and in the early-exit loop leaky_loop_equal() alike
# Exit 77 when valgrind is not installed (CTest reports the test as skipped).
set -eu

expect=0
if [ "${1:-}" = "--expect-uninit" ]; then
    expect=1
    shift
fi
[ $# -ge 1 ] || {
    echo "usage: $0 [--expect-uninit] PROGRAM [ARGS...]" >&2
    exit 2
}
if ! command -v valgrind >/dev/null 2>&1; then
    echo "SKIPPED: valgrind is not installed (scripts/install-deps installs it)"
    exit 77
fi

set -- valgrind --tool=memcheck --error-exitcode=1 --leak-check=full \
    --errors-for-leak-kinds=definite --num-callers=30 "$@"

if [ "$expect" -eq 0 ]; then
    exec "$@"
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
"$@" >"$log" 2>&1 || status=$?
cat "$log"
n=$(grep -c 'Conditional jump or move depends on uninitialised value' "$log" || true)
if [ "$status" -ne 0 ] && [ "$n" -ge 2 ] && grep -q 'leaky_loop_equal' "$log" &&
    grep -Eq '(memcmp|bcmp) ' "$log"; then
    echo "expected: memcheck flagged the leaky comparisons ($n report(s), exit $status)"
    exit 0
fi
echo "UNEXPECTED: memcheck did not flag the leaky comparisons (exit $status, $n report(s));"
echo "the constant-time test could not catch a secret-dependent branch either."
exit 1
