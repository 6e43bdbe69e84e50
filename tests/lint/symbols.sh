#!/bin/sh
# The exported ABI of libjot is pinned in tests/symbols.txt (STYLE.md rule 3): every jot_*
# symbol that libjot.so defines in its dynamic symbol table, one per line, sorted (C locale).
# Any addition or removal fails this check until the list is updated on purpose.
#
#   tests/lint/symbols.sh LIBJOT_SO [SYMBOLS_TXT]            compare
#   tests/lint/symbols.sh --update LIBJOT_SO [SYMBOLS_TXT]   rewrite the list from the library
set -eu

update=0
if [ "${1:-}" = "--update" ]; then
    update=1
    shift
fi
[ $# -ge 1 ] || {
    echo "usage: $0 [--update] LIBJOT_SO [SYMBOLS_TXT]" >&2
    exit 2
}
so=$1
here=$(cd "$(dirname "$0")" && pwd)
list=${2:-$(cd "$here/.." && pwd)/symbols.txt}
[ -f "$so" ] || {
    echo "symbols: $so: no such file (build first)" >&2
    exit 2
}
command -v nm >/dev/null 2>&1 || {
    echo "symbols: nm not found (binutils)" >&2
    exit 2
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$so" | awk '$NF ~ /^jot_/ { print $NF }' | LC_ALL=C sort -u >"$tmp/actual"

# common/ (jotx_*) is compiled into libjot for jot_static's users and makes no API promise:
# the shared library must never export it (C_VISIBILITY_PRESET hidden keeps it so).
nm -D --defined-only "$so" | awk '$NF ~ /^jotx_/ { print $NF }' | LC_ALL=C sort -u >"$tmp/jotx"
if [ -s "$tmp/jotx" ]; then
    echo "symbols: $so exports common/ helpers (jotx_*), which are never API:"
    sed 's/^/    /' "$tmp/jotx"
    echo "(they must stay hidden: no JOT_API on them, and jot_objs keeps -fvisibility=hidden)"
    exit 1
fi

if [ "$update" -eq 1 ]; then
    {
        echo "# Exported symbols of libjot.so (nm -D --defined-only, jot_* only), checked by"
        echo "# tests/lint/symbols.sh. Update on purpose: make symbols-update"
        cat "$tmp/actual"
    } >"$list"
    echo "symbols: wrote $(wc -l <"$tmp/actual") symbols to $list"
    exit 0
fi

grep -v '^#' "$list" | sed '/^$/d' >"$tmp/pinned"
if diff -u "$tmp/pinned" "$tmp/actual" >"$tmp/diff"; then
    echo "symbols: $(wc -l <"$tmp/actual") exported jot_* symbols match $list"
    exit 0
fi
echo "symbols: the exported symbols of $so differ from $list"
echo "('-' pinned but no longer exported, '+' exported but not pinned):"
tail -n +3 "$tmp/diff"
echo
echo "An ABI change must be deliberate. If it is (a new JOT_API function documented in"
echo "include/jot/jot.h, or a removal that comes with a SOVERSION bump), update the list:"
echo "    make symbols-update"
echo "(or: tests/lint/symbols.sh --update $so $list) and commit tests/symbols.txt with it."
exit 1
