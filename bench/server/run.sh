#!/usr/bin/env bash
# Server benchmark: jotd against nginx on this machine (see bench/load/README.md, "make
# bench-server").
#
#   bench/server/run.sh [SECONDS]        default BENCH_SECONDS or 10 s per scenario
#
# Builds nothing: uses build/bin/jotd (or $JOTD). Starts nginx (1 worker, `return 204`) and
# jotd on free 127.0.0.1 ports with temporary directories, measures the raw ES256 verify rate
# (`openssl speed ecdsap256`) and the raw Argon2id rate (bench/argon2/argon2_rate.c:
# libargon2 at jotd's m/t/p, one thread per CPU), then drives each scenario with wrk for
# SECONDS after a WARMUP, and stops what it started:
#   nginx            GET / on nginx: the reference rate
#   verify_same      GET /verify, one valid ES256 bearer repeated         target >= 0.5 x nginx
#   verify_distinct  GET /verify, a different valid token on every request
#                                                     target >= 0.9 x raw ES256 verify/s
#   introspect       POST /introspect token=..., HTTP Basic client auth   target >= 0.4 x nginx
#   refresh          POST /token grant_type=refresh_token (refresh chains of load.lua)
#                                                     target >= 4800 req/s
#   login            POST /token grant_type=password  target >= 0.9 x raw Argon2id rate
# Output: machine lines "name value unit", then a table. Exit 0 when every scenario ran
# without errors (targets are reported, not enforced: the machine may be shared), 1 when a
# scenario had non-2xx answers or socket errors, 2 on a set-up error.
#
# Tunables (environment): JOTD, BENCH_SECONDS (10), WARMUP (2), CONNECTIONS (64),
# LOGIN_CONNECTIONS (8), WRK_THREADS (2), JOTD_THREADS (CPUs), JOTD_ARGS (extra flags),
# ARGON2_M_KIB (19456), ARGON2_T (2), ARGON2_P (1), RAW_SECONDS (3),
# SCENARIOS ("nginx verify_same verify_distinct introspect refresh login").
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

DURATION=${1:-${BENCH_SECONDS:-10}}
JOTD=${JOTD:-$root/build/bin/jotd}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-64}
LOGIN_CONNECTIONS=${LOGIN_CONNECTIONS:-8}
WRK_THREADS=${WRK_THREADS:-2}
JOTD_THREADS=${JOTD_THREADS:-$(nproc)}
ARGON2_M_KIB=${ARGON2_M_KIB:-19456}
ARGON2_T=${ARGON2_T:-2}
ARGON2_P=${ARGON2_P:-1}
RAW_SECONDS=${RAW_SECONDS:-3}
SCENARIOS=${SCENARIOS:-nginx verify_same verify_distinct introspect refresh login}
read -r -a jotd_extra <<<"${JOTD_ARGS:-}"

[[ "$DURATION" =~ ^[0-9]+$ ]] && [ "$DURATION" -ge 1 ] && [ "$DURATION" -le 600 ] ||
    bench_die "SECONDS must be 1..600"
[ -x "$JOTD" ] || bench_die "no jotd at $JOTD (run make first, or set JOTD)"
bench_need wrk curl node nginx openssl cc
[ -d "$root/tests/e2e/node_modules/jose" ] ||
    bench_die "tests/e2e/node_modules is missing (scripts/install-deps)"

bench_tmp jotd-bench
nginx_pid=""
stop_nginx() { bench_kill_wait "$nginx_pid"; }
bench_on_exit stop_nginx

# ---- nginx -----------------------------------------------------------------------------------
nginx_port=$(bench_free_port)
mkdir -p "$tmp/nginx"
sed -e "s|@DIR@|$tmp/nginx|g" -e "s|@PORT@|$nginx_port|g" "$here/nginx.conf.in" >"$tmp/nginx/nginx.conf"
# the master stays in the foreground (daemon off) as our child; as root its worker runs as
# nobody, which needs nothing from the prefix directory
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" &
nginx_pid=$!
for _ in $(seq 1 50); do
    curl -s -o /dev/null "http://127.0.0.1:$nginx_port/" && break
    sleep 0.1
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$nginx_port/")" = 204 ] ||
    bench_die "nginx did not start: $(tail -3 "$tmp/nginx/error.log")"

# ---- jotd ------------------------------------------------------------------------------------
port=$(bench_free_port)
data="$tmp/data"
argon2_args=(--argon2-m-kib "$ARGON2_M_KIB" --argon2-t "$ARGON2_T" --argon2-p "$ARGON2_P")
bench_jotd_setup "$JOTD" "$data" "$port" "${argon2_args[@]}"
jotd_args=(--data "$data" --listen "127.0.0.1:$port" --threads "$JOTD_THREADS"
    --max-connections 4096 "${argon2_args[@]}" "${jotd_extra[@]}")
bench_jotd_start "$JOTD" "$port" "${jotd_args[@]}"
access=$(bench_login | sed -n 's/.*"access_token":"\([A-Za-z0-9_.-]*\)".*/\1/p')
[ -n "$access" ] || bench_die "cannot log in"

# distinct tokens: the shape of the one jotd just issued, signed with jotd's own key; enough
# for the whole run at 25 000 req/s (the warm-up has its own set)
kid=$(node -e 'const h=JSON.parse(Buffer.from(process.argv[1].split(".")[0],"base64url"));console.log(h.kid)' "$access")
mint() { node "$here/mint.mjs" "$data/keys/$kid.jwk" "$access" "$1" 900 >"$2" || bench_die "minting tokens failed"; }
distinct_count=$((25000 * DURATION))

echo "jotd $("$JOTD" --version | cut -d' ' -f2) on $base (${jotd_args[*]:4}); nginx $(nginx -v 2>&1 | sed 's|.*/||') on :$nginx_port, 1 worker"
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); wrk -t$WRK_THREADS -c$CONNECTIONS (login -c$LOGIN_CONNECTIONS); ${DURATION}s per scenario (+${WARMUP}s warm-up)"

# ---- raw rates -----------------------------------------------------------------------------
# Each is measured right before the scenario compared with it (the machine may be shared, so
# a figure taken minutes earlier would compare different loads).
raw_verify=""
raw_argon2=""
# openssl speed prints "256 bits ecdsa (nistp256) sign verify sign/s verify/s": the last field
measure_raw_verify() {
    raw_verify=$(openssl speed -seconds "$RAW_SECONDS" ecdsap256 2>/dev/null |
        awk '/ecdsa \(nistp256\)/ {v = $NF} END {print v}')
    [ -n "$raw_verify" ] || bench_die "cannot parse openssl speed ecdsap256"
}

# Argon2id: bench/argon2/argon2_rate.c (libargon2, the library jotd links), one thread per
# CPU for RAW_SECONDS, at jotd's m/t/p, work areas from malloc (glibc's heap, reused).
measure_raw_argon2() {
    cc -O2 -o "$tmp/argon2_rate" "$here/../argon2/argon2_rate.c" -largon2 -lpthread ||
        bench_die "cannot build argon2_rate (Debian packages build-essential, libargon2-dev)"
    raw_argon2=$("$tmp/argon2_rate" "$(nproc)" "$RAW_SECONDS" "$ARGON2_M_KIB" "$ARGON2_T" \
        "$ARGON2_P" malloc | sed -n 's/.* rate=\([0-9.]*\)\/s.*/\1/p')
    [ -n "$raw_argon2" ] || bench_die "cannot parse argon2_rate's output"
}

# ---- scenarios -------------------------------------------------------------------------------
wrk_run() { # scenario seconds connections url [token file] -> RESULT line
    JOT_SCENARIO=$1 JOT_ACCESS=$access JOT_BASIC=$basic JOT_REFRESH_FILE=$tmp/refresh.txt \
        JOT_TOKEN_FILE=${5:-} JOT_PASSWORD=$password JOT_WRK_THREADS=$WRK_THREADS \
        JOT_LOAD_LUA=$root/bench/load/load.lua \
        wrk -t"$WRK_THREADS" -c"$3" -d"$2s" --timeout 10s --latency -s "$here/server.lua" "$4" \
        >"$tmp/wrk-$1.txt" 2>&1 || true
    grep '^RESULT' "$tmp/wrk-$1.txt" || { cat "$tmp/wrk-$1.txt" >&2; echo "RESULT scenario=$1 failed"; }
}

declare -A rps p50 p99 errors
failures=0
run_scenario() {
    local s=$1 url=$base conns=$CONNECTIONS scen=$1 file=""
    case "$s" in
    nginx) url="http://127.0.0.1:$nginx_port" ;;
    verify_same) scen=verify ;;
    verify_distinct)
        mint 5000 "$tmp/tokens-warm.txt"
        mint "$distinct_count" "$tmp/tokens.txt"
        file=$tmp/tokens-warm.txt
        ;;
    refresh) bench_fresh_tokens $((CONNECTIONS * 2)) "$tmp/refresh.txt" ;;
    login) conns=$LOGIN_CONNECTIONS ;;
    esac
    case "$s" in
    verify_distinct) measure_raw_verify ;;
    login) measure_raw_argon2 ;;
    esac
    wrk_run "$scen" "$WARMUP" "$conns" "$url" "$file" >/dev/null
    case "$s" in
    verify_distinct) file=$tmp/tokens.txt ;;
    refresh) bench_fresh_tokens $((CONNECTIONS * 2)) "$tmp/refresh.txt" ;;
    esac
    sleep 1
    local res
    res=$(wrk_run "$scen" "$DURATION" "$conns" "$url" "$file")
    echo "# $s: ${res#RESULT }" >>"$tmp/results"
    rps[$s]=$(bench_field "$res" rps)
    p50[$s]=$(bench_field "$res" p50_ms)
    p99[$s]=$(bench_field "$res" p99_ms)
    local non2xx errs requests
    non2xx=$(bench_field "$res" non2xx)
    errs=$(bench_field "$res" socket_errors)
    requests=$(bench_field "$res" requests)
    errors[$s]=""
    if [ -z "$non2xx" ] || [ "${requests:-0}" -eq 0 ] || [ "$non2xx" -ne 0 ] || [ "$errs" != 0/0/0/0 ] ||
        [ "$(bench_field "$res" chain_lost)" != 0 ]; then
        errors[$s]="ERRORS: $(bench_field "$res" statuses) socket $errs"
        failures=$((failures + 1))
    fi
    if [ "$s" = verify_distinct ] && [ "${requests:-0}" -gt "$distinct_count" ]; then
        errors[$s]="tokens reused: $requests requests, $distinct_count tokens"
    fi
}

for s in $SCENARIOS; do
    case "$s" in
    nginx | verify_same | verify_distinct | introspect | refresh | login) run_scenario "$s" ;;
    *) bench_die "unknown scenario $s" ;;
    esac
done
kill -0 "$jotd_pid" 2>/dev/null || { echo "jotd died: $(tail -5 "$tmp/jotd.log")"; exit 1; }

# ---- report ----------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b}'; }
declare -A ref_name ref_value target
ref_name=([verify_same]=nginx [introspect]=nginx [verify_distinct]=raw [login]=raw [refresh]=target)
target=([verify_same]=0.5 [introspect]=0.4 [verify_distinct]=0.9 [login]=0.9 [refresh]=1.0)
ref_value=([verify_same]=${rps[nginx]:-} [introspect]=${rps[nginx]:-} [verify_distinct]=$raw_verify
    [login]=$raw_argon2 [refresh]=4800)
[ -z "$raw_verify" ] || echo "raw.ecdsap256_verify $raw_verify verify/s"
[ -z "$raw_argon2" ] || echo "raw.argon2id $raw_argon2 hash/s"
declare -A ratio_of
for s in $SCENARIOS; do
    echo "server.$s.rps ${rps[$s]} req/s"
    echo "server.$s.p50 ${p50[$s]} ms"
    echo "server.$s.p99 ${p99[$s]} ms"
    [ -n "${ref_name[$s]:-}" ] || continue
    ratio_of[$s]=$(ratio "${rps[$s]}" "${ref_value[$s]}")
    echo "server.$s.ratio_${ref_name[$s]} ${ratio_of[$s]} x"
    [ -z "${rps[nginx]:-}" ] || [ "$s" = verify_same ] || [ "$s" = introspect ] ||
        echo "server.$s.ratio_nginx $(ratio "${rps[$s]}" "${rps[nginx]}") x"
done
echo
printf '%-16s %10s %9s %9s  %-28s %s\n' scenario req/s p50_ms p99_ms "ratio (target)" notes
for s in $SCENARIOS; do
    r="-"
    if [ -n "${ref_name[$s]:-}" ]; then
        mark=$(awk -v r="${ratio_of[$s]}" -v t="${target[$s]}" 'BEGIN {print (r != "-" && r + 0 >= t) ? "ok" : "below"}')
        case "${ref_name[$s]}" in
        nginx) r="${ratio_of[$s]} x nginx (>= ${target[$s]}) $mark" ;;
        raw) r="${ratio_of[$s]} x raw (>= ${target[$s]}) $mark" ;;
        target) r="${ratio_of[$s]} x 4800/s $mark" ;;
        esac
    fi
    printf '%-16s %10s %9s %9s  %-28s %s\n' "$s" "${rps[$s]}" "${p50[$s]}" "${p99[$s]}" "$r" "${errors[$s]:-}"
done
echo "raw: openssl speed ecdsap256 verify $raw_verify/s (one core); argon2_rate.c (libargon2) Argon2id m=$ARGON2_M_KIB t=$ARGON2_T p=$ARGON2_P on $(nproc) threads: $raw_argon2 hash/s"
[ "$failures" -eq 0 ] || { echo "run.sh: $failures scenario(s) had errors"; exit 1; }
