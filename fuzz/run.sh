#!/bin/sh
# Drive the libFuzzer binaries of a JOT_FUZZ=ON build (see fuzz/README.md).
#
#   fuzz/run.sh BUILD_DIR SECONDS [TARGET...]   fuzz each target SECONDS seconds, one after
#                                               the other, and print executions and crashes
#   fuzz/run.sh --merge BUILD_DIR [TARGET...]   add the scratch inputs that bring new
#                                               coverage to fuzz/corpus/<target>/
#   fuzz/run.sh --minimise BUILD_DIR [TARGET...] replace fuzz/corpus/<target>/ by a minimal
#                                               set covering the same edges as it and the
#                                               scratch inputs together (seeds that stay
#                                               keep their names)
#
# Each run reads fuzz/corpus/<target>/ (never written) and fuzz/<target>.dict, and keeps its
# new inputs, crash files and log in BUILD_DIR/fuzz-work/<target>/. Exit status 1 when any
# target crashed, leaked, timed out or ran out of memory.
set -u

ALL="token b64url json jwk jwks pem request admin config redirect"
SRC=$(cd "$(dirname "$0")" && pwd)

# Longest input per target: a little over the largest seed (RSA keys, JWKS documents).
max_len() {
    case $1 in
    jwks) echo 32768 ;;
    token | jwk | pem) echo 8192 ;;
    *) echo 4096 ;;
    esac
}

merge=0
case ${1:-} in
--merge)
    merge=1
    shift
    ;;
--minimise | --minimize)
    merge=2
    shift
    ;;
esac
if [ $# -lt $((merge ? 1 : 2)) ]; then
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
BUILD=$(cd "$1" && pwd) || exit 2
shift
if [ $merge -eq 0 ]; then
    SECONDS_EACH=$1
    shift
fi
TARGETS=${*:-$ALL}

status=0
if [ $merge -eq 1 ]; then
    for t in $TARGETS; do
        work=$BUILD/fuzz-work/$t
        [ -d "$work/corpus" ] || continue
        before=$(ls "$SRC/corpus/$t" | wc -l)
        "$BUILD/fuzz/fuzz_$t" -merge=1 -max_len="$(max_len "$t")" -timeout=25 \
            "$SRC/corpus/$t" "$work/corpus" >"$work/merge.log" 2>&1 || status=1
        echo "$t: $before -> $(ls "$SRC/corpus/$t" | wc -l) files"
    done
    exit $status
fi
if [ $merge -eq 2 ]; then
    for t in $TARGETS; do
        work=$BUILD/fuzz-work/$t
        mkdir -p "$work/corpus"
        min=$(mktemp -d) || exit 1
        before=$(ls "$SRC/corpus/$t" | wc -l)
        # edges only (no hit counts, no comparison operands): the smallest useful set
        if "$BUILD/fuzz/fuzz_$t" -merge=1 -use_counters=0 -use_cmp=0 -max_len="$(max_len "$t")" \
            -timeout=25 "$min" "$SRC/corpus/$t" "$work/corpus" >"$work/minimise.log" 2>&1; then
            # libFuzzer names what it keeps by SHA-1: give the surviving seeds their names back
            for f in "$SRC/corpus/$t"/*; do
                h=$(sha1sum <"$f" | cut -c1-40)
                [ -f "$min/$h" ] && mv "$min/$h" "$min/$(basename "$f")"
            done
            rm -f "$SRC/corpus/$t"/*
            cp "$min"/* "$SRC/corpus/$t/"
            echo "$t: $before -> $(ls "$SRC/corpus/$t" | wc -l) files"
        else
            echo "$t: minimisation failed, see $work/minimise.log" >&2
            status=1
        fi
        rm -rf "$min"
    done
    exit $status
fi

printf '%-8s %12s %8s %8s  %s\n' target executions exec/s cov result
for t in $TARGETS; do
    bin=$BUILD/fuzz/fuzz_$t
    work=$BUILD/fuzz-work/$t
    if [ ! -x "$bin" ]; then
        echo "$t: $bin missing (configure with CC=clang -DJOT_FUZZ=ON)" >&2
        status=1
        continue
    fi
    mkdir -p "$work/corpus" "$work/artifacts"
    "$bin" -max_total_time="$SECONDS_EACH" -print_final_stats=1 -dict="$SRC/$t.dict" \
        -max_len="$(max_len "$t")" -timeout=25 -rss_limit_mb=2048 \
        -artifact_prefix="$work/artifacts/" "$work/corpus" "$SRC/corpus/$t" \
        >"$work/log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -n 1 | sed 's/cov: //')
    found=$(ls "$work/artifacts" 2>/dev/null | grep -E '^(crash|leak|timeout|oom|slow-unit)-' |
        sed "s|^|$work/artifacts/|")
    if [ $rc -ne 0 ] || [ -n "$found" ]; then
        status=1
        result="FAILED (exit $rc), see $work/log"
    else
        result=ok
    fi
    printf '%-8s %12s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$result"
    for f in $found; do
        echo "         $f"
    done
done
exit $status
