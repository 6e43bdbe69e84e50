#!/usr/bin/env bash
# Load test of jotd on loopback (see bench/load/README.md).
#
#   bench/load/run.sh [SECONDS]          default 60 s per scenario
#
# Builds nothing: uses build/bin/jotd (or $JOTD). Starts jotd on a free 127.0.0.1 port with
# a temporary data directory, creates a user and a confidential client, then runs, each for
# SECONDS (after a short warm-up):
#   verify      wrk  GET /verify with one valid bearer token
#   refresh     wrk  POST /token grant_type=refresh_token, one refresh chain per connection
#   introspect  wrk  POST /introspect with HTTP Basic client authentication
#   slowloris   SLOW_CONNECTIONS connections sending headers one byte per second, while wrk
#               drives /verify and a probe opens fresh connections to /healthz
#   idle        IDLE_CONNECTIONS connections that send nothing, same measurements
# and reports req/s, p50/p99 latency, non-2xx answers (429 counted apart), socket errors,
# and jotd's RSS and open file descriptors before, during (min-max) and after each one.
# Exit status 1 when an error criterion is met (non-2xx other than 429, socket errors,
# fresh-connection probe failures, a broken refresh chain).
#
# Tunables (environment): JOTD, CONNECTIONS (64), WRK_THREADS (2), JOTD_THREADS (CPUs),
# MAX_CONNECTIONS (12000), CONNECTION_TIMEOUT (15), IDLE_CONNECTIONS (10000),
# SLOW_CONNECTIONS (1000), SLOW_INTERVAL_MS (1000), SCENARIOS ("verify refresh introspect
# slowloris idle"), WARMUP (5).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
DURATION=${1:-60}
JOTD=${JOTD:-$root/build/bin/jotd}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
JOTD_THREADS=${JOTD_THREADS:-$(nproc)}
MAX_CONNECTIONS=${MAX_CONNECTIONS:-12000}
CONNECTION_TIMEOUT=${CONNECTION_TIMEOUT:-15}
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-10000}
SLOW_CONNECTIONS=${SLOW_CONNECTIONS:-1000}
SLOW_INTERVAL_MS=${SLOW_INTERVAL_MS:-1000}
SCENARIOS=${SCENARIOS:-verify refresh introspect slowloris idle}
WARMUP=${WARMUP:-5}

# shellcheck source=../lib.sh
. "$here/../lib.sh"
die() { bench_die "$@"; }
[[ "$DURATION" =~ ^[0-9]+$ ]] && [ "$DURATION" -ge 1 ] && [ "$DURATION" -le 3600 ] ||
    die "SECONDS must be 1..3600"
[ -x "$JOTD" ] || die "no jotd at $JOTD (run make first, or set JOTD)"
bench_need wrk curl node

# ---- file descriptors: 10 000 idle connections need 10 000+ on each side ----------------
need=$((IDLE_CONNECTIONS > SLOW_CONNECTIONS ? IDLE_CONNECTIONS : SLOW_CONNECTIONS))
need=$((need + CONNECTIONS + 512))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$need" ]; then
    ulimit -Hn "$need" 2>/dev/null || true # needs CAP_SYS_RESOURCE
    hard=$(ulimit -Hn)
fi
if [ "$hard" = unlimited ] || [ "$hard" -ge "$need" ]; then
    ulimit -n "$need"
else
    ulimit -n "$hard"
    echo "run.sh: only $hard file descriptors allowed (need $need): fewer hostile connections" >&2
    IDLE_CONNECTIONS=$((hard - CONNECTIONS - 512))
    SLOW_CONNECTIONS=$((SLOW_CONNECTIONS < IDLE_CONNECTIONS ? SLOW_CONNECTIONS : IDLE_CONNECTIONS))
fi
[ "$MAX_CONNECTIONS" -gt $((IDLE_CONNECTIONS + CONNECTIONS + 16)) ] ||
    echo "run.sh: note: --max-connections $MAX_CONNECTIONS leaves no room beside $IDLE_CONNECTIONS idle connections" >&2

# ---- jotd ---------------------------------------------------------------------------------
bench_tmp jotd-load
holder_pid=""
stop_holder() { [ -z "$holder_pid" ] || kill "$holder_pid" 2>/dev/null || true; }
bench_on_exit stop_holder

port=$(bench_free_port)
data="$tmp/data"
bench_jotd_setup "$JOTD" "$data" "$port"

# --max-connections and --connection-timeout are the slow-client defences: set explicitly.
jotd_args=(--data "$data" --listen "127.0.0.1:$port" --threads "$JOTD_THREADS"
    --max-connections "$MAX_CONNECTIONS" --connection-timeout "$CONNECTION_TIMEOUT")
bench_jotd_start "$JOTD" "$port" "${jotd_args[@]}"

access=$(bench_login | sed -n 's/.*"access_token":"\([A-Za-z0-9_.-]*\)".*/\1/p')
[ -n "$access" ] || die "cannot log in"
# refresh chains: two per connection (wrk spreads connections evenly over threads and each
# thread takes every WRK_THREADS-th line)
fresh_tokens() { bench_fresh_tokens $((CONNECTIONS * 2)) "$tmp/refresh.txt"; }

echo "jotd $("$JOTD" --version | cut -d' ' -f2) on $base, pid $jotd_pid: ${jotd_args[*]:4}"
echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); wrk -t$WRK_THREADS -c$CONNECTIONS; ${DURATION}s per scenario (+${WARMUP}s warm-up); ulimit -n $(ulimit -n)"

# ---- measurements -------------------------------------------------------------------------
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$jotd_pid/status"; }
fds() { find "/proc/$jotd_pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
sample_loop() { # every second until killed: "rss fds"
    while kill -0 "$jotd_pid" 2>/dev/null; do
        echo "$(rss_kb) $(fds)"
        sleep 1
    done
}
minmax() { sort -n | awk 'NR==1{min=$1} {max=$1} END{printf "%s-%s", min, max}'; }

wrk_run() { # scenario seconds connections -> RESULT line
    JOT_SCENARIO=$1 JOT_ACCESS=$access JOT_BASIC=$basic JOT_REFRESH_FILE=$tmp/refresh.txt \
        JOT_WRK_THREADS=$WRK_THREADS \
        wrk -t"$WRK_THREADS" -c"$3" -d"$2s" --timeout 10s --latency -s "$here/load.lua" "$base" \
        >"$tmp/wrk-$1.txt" 2>&1 || true
    grep '^RESULT' "$tmp/wrk-$1.txt" || { cat "$tmp/wrk-$1.txt" >&2; echo "RESULT scenario=$1 failed"; }
}

probe_loop() { # fresh connection every 200 ms: "status seconds"
    while :; do
        curl -s -o /dev/null -m 10 -w '%{http_code} %{time_total}\n' "$base/healthz" || echo "000 10"
        sleep 0.2
    done
}

failures=0
report() { # name result before_rss before_fds during after_rss after_fds [extra]
    local name=$1 res=$2
    local non2xx s429 errs lost starved
    non2xx=$(sed -n 's/.* non2xx=\([0-9]*\).*/\1/p' <<<"$res")
    s429=$(sed -n 's/.* s429=\([0-9]*\).*/\1/p' <<<"$res")
    errs=$(sed -n 's/.* socket_errors=\([0-9/]*\).*/\1/p' <<<"$res")
    lost=$(sed -n 's/.* chain_lost=\([0-9]*\).*/\1/p' <<<"$res")
    starved=$(sed -n 's/.* pool_starved=\([0-9]*\).*/\1/p' <<<"$res")
    printf '%-11s %s\n' "$name" "$(sed 's/^RESULT //' <<<"$res")"
    printf '%-11s jotd RSS %s kB -> during %s -> after %s kB; fds %s -> during %s -> after %s\n' "" \
        "$3" "$5" "$6" "$4" "$7" "$8"
    [ -n "${9:-}" ] && printf '%-11s %s\n' "" "$9"
    local requests
    requests=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$res")
    if [ -z "$non2xx" ] || [ "${requests:-0}" -eq 0 ] || [ "$((non2xx - s429))" -ne 0 ] || [ "$errs" != 0/0/0/0 ] ||
        [ "${lost:-0}" -ne 0 ] || [ "${starved:-0}" -ne 0 ]; then
        printf '%-11s FAIL: no requests served, or errors other than designed 429s\n' ""
        failures=$((failures + 1))
    fi
}

run_plain() {
    local s=$1
    [ "$s" != refresh ] || fresh_tokens
    wrk_run "$s" "$WARMUP" "$CONNECTIONS" >/dev/null
    [ "$s" != refresh ] || fresh_tokens
    sleep 1
    local r0 f0
    r0=$(rss_kb)
    f0=$(fds)
    sample_loop >"$tmp/samples-$s" &
    local sp=$!
    local res
    res=$(wrk_run "$s" "$DURATION" "$CONNECTIONS")
    kill "$sp" 2>/dev/null || true
    wait "$sp" 2>/dev/null || true
    sleep 2
    report "$s" "$res" "$r0" "$f0" "$(cut -d' ' -f1 "$tmp/samples-$s" | minmax)" "$(rss_kb)" \
        "$(cut -d' ' -f2 "$tmp/samples-$s" | minmax)" "$(fds)"
}

run_hostile() { # name mode count
    local name=$1 mode=$2 count=$3
    wrk_run verify "$WARMUP" "$CONNECTIONS" >/dev/null
    local r0 f0
    r0=$(rss_kb)
    f0=$(fds)
    # hold the hostile connections a little longer than the measurement
    node "$here/holder.mjs" "$mode" "$count" "$port" $((DURATION + 30)) "$SLOW_INTERVAL_MS" \
        >"$tmp/holder-$name.json" 2>"$tmp/holder-$name.err" &
    holder_pid=$!
    for _ in $(seq 1 300); do grep -q READY "$tmp/holder-$name.err" && break; sleep 0.1; done
    local ready
    ready=$(sed -n 's/^READY //p' "$tmp/holder-$name.err")
    sample_loop >"$tmp/samples-$name" &
    local sp=$!
    probe_loop >"$tmp/probe-$name" &
    local pp=$!
    local res
    res=$(wrk_run verify "$DURATION" "$CONNECTIONS")
    kill "$pp" "$sp" 2>/dev/null || true
    wait "$pp" "$sp" 2>/dev/null || true
    local fd_during rss_during
    fd_during=$(cut -d' ' -f2 "$tmp/samples-$name" | minmax)
    rss_during=$(cut -d' ' -f1 "$tmp/samples-$name" | minmax)
    kill -TERM "$holder_pid" 2>/dev/null || true
    wait "$holder_pid" 2>/dev/null || true
    holder_pid=""
    sleep 2
    local probes bad p50 pmax
    probes=$(wc -l <"$tmp/probe-$name")
    # a probe fails on anything but 200 within 2 s; fewer probes than one per second means
    # probes hung (the loop was stopped in the middle of one)
    bad=$(awk '$1 != 200 || $2 > 2' "$tmp/probe-$name" | wc -l)
    [ "$probes" -ge "$DURATION" ] || bad=$((bad + DURATION - probes))
    p50=$(awk '{print $2 * 1000}' "$tmp/probe-$name" | sort -n | awk '{a[NR]=$1} END{printf "%.1f", a[int((NR+1)/2)]}')
    pmax=$(awk '{print $2 * 1000}' "$tmp/probe-$name" | sort -n | tail -1)
    local extra="$count $mode connections ($ready open before the run); holder: $(cat "$tmp/holder-$name.json")"
    extra+=$'\n'"$(printf '%-11s' '')fresh-connection probe /healthz: $probes probes, $bad failed, median ${p50} ms, max ${pmax} ms"
    report "$name" "$res" "$r0" "$f0" "$rss_during" "$(rss_kb)" "$fd_during" "$(fds)" "$extra"
    [ "$bad" -eq 0 ] || { printf '%-11s FAIL: fresh connections failed or were slow\n' ""; failures=$((failures + 1)); }
}

for s in $SCENARIOS; do
    case "$s" in
    verify | refresh | introspect) run_plain "$s" ;;
    slowloris) run_hostile slowloris slow "$SLOW_CONNECTIONS" ;;
    idle) run_hostile idle idle "$IDLE_CONNECTIONS" ;;
    *) die "unknown scenario $s" ;;
    esac
done

kill -0 "$jotd_pid" 2>/dev/null || { echo "jotd died: $(tail -5 "$tmp/jotd.log")"; exit 1; }
echo "jotd alive at the end: RSS $(rss_kb) kB, $(fds) fds; log lines: $(wc -l <"$tmp/jotd.log")"
[ "$failures" -eq 0 ] || { echo "run.sh: $failures scenario(s) failed"; exit 1; }
