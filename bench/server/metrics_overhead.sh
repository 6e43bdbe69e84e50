#!/usr/bin/env bash
# The cost of counting: /verify and refresh throughput of jotd with --metrics on against
# --metrics off, in one run (part of `make bench-server`; alone: bench/server/metrics_overhead.sh
# [SECONDS] [ROUNDS]). Two jotd with the same flags but --metrics, each on its own data
# directory, driven in turn by wrk with bench/load/load.lua (verify: one bearer repeated;
# refresh: refresh chains), ROUNDS rounds of SECONDS each, the order of on/off alternating
# between rounds so that drift on a shared machine falls on both. Prints each round and the
# ratio on/off of the medians; the issue's target is >= 0.97.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
DURATION=${1:-${BENCH_SECONDS:-10}}
ROUNDS=${2:-${METRICS_ROUNDS:-3}}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
JOTD_THREADS=${JOTD_THREADS:-$(nproc)}
JOTD=${JOTD:-$root/build/bin/jotd}
bench_need wrk curl
[ -x "$JOTD" ] || bench_die "no jotd at $JOTD (run make first, or set JOTD)"
bench_tmp jotd-metrics-bench

declare -A base_of access_of basic_of password_of pid_of
for m in on off; do
    port=$(bench_free_port)
    bench_jotd_setup "$JOTD" "$tmp/data-$m" "$port" --argon2-m-kib 1024 --argon2-t 1
    BENCH_JOTD_LOG=jotd-$m bench_jotd_start "$JOTD" "$port" --data "$tmp/data-$m" \
        --listen "127.0.0.1:$port" --threads "$JOTD_THREADS" --max-connections 4096 \
        --argon2-m-kib 1024 --argon2-t 1 --metrics "$m"
    base_of[$m]=$base
    password_of[$m]=$password
    basic_of[$m]=$basic
    pid_of[$m]=$jotd_pid
    access_of[$m]=$(bench_login | sed -n 's/.*"access_token":"\([A-Za-z0-9_.-]*\)".*/\1/p')
    [ -n "${access_of[$m]}" ] || bench_die "cannot log in (--metrics $m)"
done
stop_all() { bench_kill_wait "${pid_of[on]:-}"; bench_kill_wait "${pid_of[off]:-}"; }
bench_on_exit stop_all

run() { # scenario metrics -> rps
    local s=$1 m=$2
    base=${base_of[$m]} password=${password_of[$m]}
    if [ "$s" = refresh ]; then bench_fresh_tokens $((CONNECTIONS * 2)) "$tmp/refresh-$m.txt"; fi
    JOT_SCENARIO=$s JOT_ACCESS=${access_of[$m]} JOT_BASIC=${basic_of[$m]} \
        JOT_REFRESH_FILE=$tmp/refresh-$m.txt JOT_WRK_THREADS=$WRK_THREADS \
        wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency \
        -s "$root/bench/load/load.lua" "${base_of[$m]}" >"$tmp/wrk.txt" 2>&1 || true
    local r
    r=$(grep '^RESULT' "$tmp/wrk.txt") || { cat "$tmp/wrk.txt" >&2; bench_die "wrk failed"; }
    [ "$(bench_field "$r" non2xx)" = 0 ] || bench_die "non-2xx answers: $r"
    bench_field "$r" rps
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "jotd $("$JOTD" --version | cut -d' ' -f2), $JOTD_THREADS threads, $(nproc) CPUs, wrk -t$WRK_THREADS -c$CONNECTIONS, ${DURATION}s x $ROUNDS rounds"
for s in verify refresh; do
    : >"$tmp/$s-on" && : >"$tmp/$s-off"
    for r in $(seq 1 "$ROUNDS"); do
        order="on off"
        [ $((r % 2)) = 0 ] && order="off on"
        line="$s round $r:"
        for m in $order; do
            v=$(run "$s" "$m")
            echo "$v" >>"$tmp/$s-$m"
            line+=" metrics $m $v req/s"
        done
        echo "$line"
    done
    on=$(median <"$tmp/$s-on")
    off=$(median <"$tmp/$s-off")
    echo "RESULT metrics_overhead scenario=$s on=$on off=$off ratio=$(awk -v a="$on" -v b="$off" 'BEGIN {printf "%.3f", a / b}')"
done
