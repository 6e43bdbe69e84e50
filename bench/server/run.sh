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
#   pg_refresh       refresh, against a second jotd on a PostgreSQL store (--store), same flags
#                    reference: the same SQL by pgbench (below), no target
#   pg_login         login, against that jotd             reference: raw Argon2id rate
#
# PostgreSQL pass (pg_refresh, pg_login): on with BENCH_PG=1, off with BENCH_PG=0, and by
# default (BENCH_PG=auto) on when PostgreSQL's binaries (postgres, psql, pgbench) are in the
# newest /usr/lib/postgresql/<version>/bin (or $PG_BINDIR). It starts a throwaway cluster
# with scripts/pg-test-cluster (Unix socket in a /tmp directory, a free port number), turns
# that script's test settings back to the durable defaults (ALTER SYSTEM fsync = on,
# synchronous_commit = on, full_page_writes = on, then a restart), creates the databases
# jotd_bench and pgbench_rotation, and starts a second jotd with --data (its own keys) and
# --store postgresql:///jotd_bench?host=... and otherwise the same flags. Before pg_refresh
# it measures the SQL of one rotation run by pgbench (bench/server/rotation.pgbench, sessions
# from bench/server/rotation-setup.sql in a schema made by `jotd migrate`), DURATION seconds
# each:
#   pg_sql_rotation       -c PGBENCH_CLIENTS (CONNECTIONS), commit at synchronous_commit=on:
#                         the database's own rate for this SQL, pg_refresh's reference
#   pg_sql_rotation_pool  -c max(4, 2 x JOTD_THREADS): jotd's worker threads, the most
#                         connections its pool holds (server/http.c), committed
#                         as jotd commits a rotation (synchronous_commit off with the default
#                         --durability normal, on with --durability full in JOTD_ARGS)
# After pg_refresh, `perf record -a -g` samples the whole machine for PROFILE_SECONDS while
# wrk rotates again (a run of its own: the measured figure carries no profiling cost), and a
# summary is printed: CPU share by process (idle = waiting), and jotd's and PostgreSQL's
# time by library and top functions. Skipped, with a note, when perf is missing or refused.
# Everything is stopped and removed at exit (the cluster with pg-test-cluster stop).
# Output: machine lines "name value unit", then a table. Exit 0 when every scenario ran
# without errors (targets are reported, not enforced: the machine may be shared), 1 when a
# scenario had non-2xx answers or socket errors, 2 on a set-up error.
#
# Tunables (environment): JOTD, BENCH_SECONDS (10), WARMUP (2), CONNECTIONS (64),
# LOGIN_CONNECTIONS (8), WRK_THREADS (2), JOTD_THREADS (CPUs), JOTD_ARGS (extra flags),
# ARGON2_M_KIB (19456), ARGON2_T (2), ARGON2_P (1), RAW_SECONDS (3),
# SCENARIOS ("nginx verify_same verify_distinct introspect refresh login", plus
# "pg_refresh pg_login" when the PostgreSQL pass is on), BENCH_PG (auto), PG_BINDIR,
# PGBENCH_CLIENTS (CONNECTIONS), PROFILE_SECONDS (5; 0: no profile), PERF_DATA (a path: keep
# the profile's perf.data there, for `perf report -i`).
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
SCENARIOS=${SCENARIOS:-}
BENCH_PG=${BENCH_PG:-auto}
PGBENCH_CLIENTS=${PGBENCH_CLIENTS:-$CONNECTIONS}
PROFILE_SECONDS=${PROFILE_SECONDS:-5}
read -r -a jotd_extra <<<"${JOTD_ARGS:-}"

[[ "$DURATION" =~ ^[0-9]+$ ]] && [ "$DURATION" -ge 1 ] && [ "$DURATION" -le 600 ] ||
    bench_die "SECONDS must be 1..600"
[ -x "$JOTD" ] || bench_die "no jotd at $JOTD (run make first, or set JOTD)"
bench_need wrk curl node nginx openssl cc
[ -d "$root/tests/e2e/node_modules/jose" ] ||
    bench_die "tests/e2e/node_modules is missing (scripts/install-deps)"

# ---- PostgreSQL binaries -----------------------------------------------------------------------
pg_bin=${PG_BINDIR:-}
if [ -z "$pg_bin" ]; then
    for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V); do
        [ -x "$d/postgres" ] && [ -x "$d/psql" ] && [ -x "$d/pgbench" ] && pg_bin=$d
    done
fi
if [ -n "$pg_bin" ] && [ ! -x "$pg_bin/pgbench" ]; then pg_bin=""; fi
case "$BENCH_PG" in
auto) if [ -n "$pg_bin" ]; then BENCH_PG=1; else BENCH_PG=0; fi ;;
1) [ -n "$pg_bin" ] || bench_die "BENCH_PG=1: no PostgreSQL binaries (postgres, psql, pgbench) in /usr/lib/postgresql/*/bin or PG_BINDIR (Debian package postgresql)" ;;
0) ;;
*) bench_die "BENCH_PG must be auto, 0 or 1" ;;
esac
if [ -z "$SCENARIOS" ]; then
    SCENARIOS="nginx verify_same verify_distinct introspect refresh login"
    [ "$BENCH_PG" = 0 ] || SCENARIOS+=" pg_refresh pg_login"
fi
want_pg=0
for s in $SCENARIOS; do
    case "$s" in pg_*) want_pg=1 ;; esac
done
[ "$want_pg" = 0 ] || [ -n "$pg_bin" ] || bench_die "pg_* scenarios need PostgreSQL's binaries (Debian package postgresql)"
[[ "$PROFILE_SECONDS" =~ ^[0-9]+$ ]] || bench_die "PROFILE_SECONDS must be a number"

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

# ---- jotd on PostgreSQL ----------------------------------------------------------------------
sq_base=$base sq_password=$password sq_basic=$basic sq_access=$access sq_pid=$jotd_pid
pg_dir="" pg_jotd_pid="" pg_base="" pg_admin=""
stop_pg() {
    bench_kill_wait "$pg_jotd_pid"
    [ -z "$pg_dir" ] || "$root/scripts/pg-test-cluster" stop "$pg_dir" >/dev/null || true
}
bench_on_exit stop_pg
pg_uri() { echo "${pg_admin/#postgresql:\/\/\/postgres\?/postgresql:\/\/\/$1?}"; }
psql_to() { # DB psql-args...
    local db=$1
    shift
    "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -d "$(pg_uri "$db")" "$@"
}
jotd_commit=off # how jotd commits a rotation: --durability normal (the default) or full
if [[ " ${JOTD_ARGS:-} " =~ --durability[=\ ]full ]] || [ "${JOTD_DURABILITY:-}" = full ]; then
    jotd_commit=on
fi
if [ "$want_pg" = 1 ]; then
    export PG_BINDIR=$pg_bin # pg-test-cluster uses the same binaries
    # its own directory under /tmp: the postgres user must reach it (our $tmp is 0700)
    pg_dir=$(mktemp -d /tmp/jotd-bench-pg.XXXXXX)
    pg_port=$(bench_free_port)
    pg_admin=$("$root/scripts/pg-test-cluster" start "$pg_dir" "$pg_port") ||
        bench_die "scripts/pg-test-cluster start failed"
    # pg-test-cluster makes a test cluster (fsync off): a benchmark needs the durable defaults
    psql_to postgres -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET synchronous_commit = on" \
        -c "ALTER SYSTEM SET full_page_writes = on" -c "CREATE DATABASE jotd_bench" \
        -c "CREATE DATABASE pgbench_rotation" || bench_die "cannot configure the cluster"
    "$root/scripts/pg-test-cluster" restart "$pg_dir" "$pg_port" >/dev/null ||
        bench_die "scripts/pg-test-cluster restart failed"
    pg_settings=$(psql_to postgres -At -c "SELECT string_agg(name || '=' || current_setting(name), ' ' ORDER BY name)
        FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'wal_sync_method', 'max_connections')")
    case " $pg_settings " in
    *" fsync=on "*" synchronous_commit=on "*) ;;
    *) bench_die "the cluster is not durable: $pg_settings" ;;
    esac
    "$JOTD" migrate --store "$(pg_uri pgbench_rotation)" --data "$tmp/pgbench-data" >/dev/null ||
        bench_die "jotd migrate --store failed (jotd built without libpq?)"
    pg_http_port=$(bench_free_port)
    pg_data=$tmp/pgdata
    JOTD_STORE=$(pg_uri jotd_bench) bench_jotd_setup "$JOTD" "$pg_data" "$pg_http_port" "${argon2_args[@]}"
    pg_jotd_args=(--data "$pg_data" --store "$(pg_uri jotd_bench)" --listen "127.0.0.1:$pg_http_port"
        --threads "$JOTD_THREADS" --max-connections 4096 "${argon2_args[@]}" "${jotd_extra[@]}")
    BENCH_JOTD_LOG=jotd-pg bench_jotd_start "$JOTD" "$pg_http_port" "${pg_jotd_args[@]}"
    pg_jotd_pid=$jotd_pid pg_base=$base pg_password=$password pg_basic=$basic
    jotd_pid=$sq_pid
    pg_access=$(bench_login | sed -n 's/.*"access_token":"\([A-Za-z0-9_.-]*\)".*/\1/p')
    [ -n "$pg_access" ] || bench_die "cannot log in to the PostgreSQL jotd"
fi
use_target() { # sq | pg: which jotd the helpers (bench_login, wrk_run) talk to
    if [ "$1" = pg ]; then
        base=$pg_base password=$pg_password basic=$pg_basic access=$pg_access
    else
        base=$sq_base password=$sq_password basic=$sq_basic access=$sq_access
    fi
}
use_target sq

echo "jotd $("$JOTD" --version | cut -d' ' -f2) on $base (${jotd_args[*]:4}); nginx $(nginx -v 2>&1 | sed 's|.*/||') on :$nginx_port, 1 worker"
[ "$want_pg" = 0 ] || echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') (pg-test-cluster, socket in $pg_dir: $pg_settings); jotd on PostgreSQL: $pg_base (--store $(pg_uri jotd_bench), otherwise the same flags)"
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

# The SQL of one rotation by pgbench: CLIENTS COMMIT(on|off) -> tx/s on stdout (a fresh set of
# chains each time; DURATION seconds).
pgbench_rate() {
    local clients=$1 commit=$2 now out=$tmp/pgbench-$1-$2.txt
    now=$(date +%s)
    if ! psql_to pgbench_rotation -c "TRUNCATE users, sessions, refresh_tokens CASCADE" ||
        ! psql_to pgbench_rotation -v clients="$clients" -v now="$now" -f "$here/rotation-setup.sql"; then
        bench_die "cannot set up the pgbench sessions"
    fi
    "$pg_bin/pgbench" -n -M simple -f "$here/rotation.pgbench" -D now="$now" -D n=0 -D commit="$commit" \
        -c "$clients" -j $((clients < 2 ? clients : 2)) -T "$DURATION" "$(pg_uri pgbench_rotation)" >"$out" 2>&1 ||
        { cat "$out" >&2; bench_die "pgbench failed"; }
    grep -q '^number of failed transactions: 0 ' "$out" || { cat "$out" >&2; bench_die "pgbench: failed transactions"; }
    sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out" | awk '{printf "%.0f\n", $1}'
}
pg_sql="" pg_sql_pool=""
# jotd's store operations run on max(4, 2 x --threads) worker threads (server/http.c), each
# with at most one PostgreSQL connection of the pool at a time
jotd_pool=$((JOTD_THREADS * 2 < 4 ? 4 : JOTD_THREADS * 2))
measure_pg_sql() {
    pg_sql=$(pgbench_rate "$PGBENCH_CLIENTS" on)
    pg_sql_pool=$(pgbench_rate "$jotd_pool" "$jotd_commit")
}

# Where a rotation's time goes: perf over the whole machine while wrk rotates against the
# PostgreSQL jotd (after its measured run: URL CONNECTIONS -> the summary in $tmp/profile.txt).
# Percentages are of all CPU samples of both CPUs; perf samples no idle time, so the idle
# share comes from /proc/stat over the same seconds.
profile_note=""
cpu_ticks() { awk '/^cpu / {print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
profile_pg_refresh() {
    local url=$1 conns=$2
    if [ "$PROFILE_SECONDS" -eq 0 ]; then profile_note="PROFILE_SECONDS=0"; return 0; fi
    command -v perf >/dev/null || { profile_note="perf is not installed (Debian linux-perf)"; return 0; }
    bench_fresh_tokens $((CONNECTIONS * 2)) "$tmp/refresh.txt"
    wrk_run refresh $((PROFILE_SECONDS + 2)) "$conns" "$url" >"$tmp/profile-wrk.txt" &
    local wrk_bg=$! t0 t1
    sleep 1
    t0=$(cpu_ticks)
    if ! perf record -a -g -F 999 -o "$tmp/perf.data" -- sleep "$PROFILE_SECONDS" >"$tmp/perf.log" 2>&1; then
        profile_note="perf record refused: $(grep -m1 -i 'error\|permission\|paranoid' "$tmp/perf.log" || tail -1 "$tmp/perf.log")"
        wait "$wrk_bg" || true
        return 0
    fi
    t1=$(cpu_ticks)
    wait "$wrk_bg" || true
    [ -z "${PERF_DATA:-}" ] || cp "$tmp/perf.data" "$PERF_DATA"
    local rep=(perf report -i "$tmp/perf.data" --stdio -q -g none)
    "${rep[@]}" --no-children --sort comm,dso >"$tmp/perf-comm-dso.txt" 2>/dev/null
    {
        echo "rotations/s during the profile: $(bench_field "$(cat "$tmp/profile-wrk.txt")" rps) (wrk -c$conns, ${PROFILE_SECONDS}s; perf record -a -g -F 999)"
        awk -v a="$t0" -v b="$t1" 'BEGIN {split(a, x, " "); split(b, y, " ");
            printf "CPUs idle: %.1f%% (/proc/stat; the rest is busy)\n", 100 * (y[1] - x[1]) / (y[2] - x[2])}'
        echo "CPU samples by process (jotd: its threads jotd and MHD-worker):"
        awk '{sub(/%/, "", $1); c = $2 == "MHD-worker" ? "jotd" : $2;
              if (c != "jotd" && c != "postgres" && c != "wrk") c = "other"; t[c] += $1}
             END {printf "  postgres %.1f%%  jotd %.1f%%  wrk %.1f%%  other %.1f%%\n",
                  t["postgres"], t["jotd"], t["wrk"], t["other"]}' "$tmp/perf-comm-dso.txt"
        echo "jotd by library (of all samples):"
        awk '$2 == "jotd" || $2 == "MHD-worker" {sub(/%/, "", $1); d = $3;
              if (d ~ /kernel/) k = "kernel (sockets to wrk and PostgreSQL, wake-ups)";
              else if (d ~ /^libcrypto/) k = "libcrypto (ES256 signature, SHA-256)";
              else if (d ~ /^libpq/) k = "libpq";
              else if (d ~ /^libmicrohttpd/) k = "libmicrohttpd (HTTP)";
              else if (d ~ /^libjansson/) k = "libjansson (JSON)";
              else if (d ~ /^libc[.]/) k = "libc (malloc, memcpy, ...)";
              else if (d == "jotd") k = "jotd itself";
              else k = "other";
              t[k] += $1}
             END {for (k in t) printf "  %5.1f%%  %s\n", t[k], k}' "$tmp/perf-comm-dso.txt" | sort -rn
        echo "postgres, inclusive of callees (of all samples):"
        "${rep[@]}" --children --comm postgres --sort sym 2>/dev/null | awk '
            {p[$NF] = $1}
            END {n = split("PostgresMain:the backends in all,pg_parse_query:parse,pg_analyze_and_rewrite_varparams:analyse,pg_plan_queries:plan,PortalRun:execute,CommitTransactionCommand:commit,pq_getbyte:read from the socket", f, ",");
                for (i = 1; i <= n; i++) {split(f[i], kv, ":"); printf "  %7s  %s (%s)\n", (kv[1] in p) ? p[kv[1]] : "-", kv[1], kv[2]}}'
        echo "top functions (of all samples):"
        "${rep[@]}" --no-children --sort comm,dso,sym 2>/dev/null | awk 'NF && n++ < 12 {printf "  %s\n", $0}'
    } >"$tmp/profile.txt"
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
    case "$1" in
    pg_*) use_target pg ;;
    *) use_target sq ;;
    esac
    local s=$1 url=$base conns=$CONNECTIONS scen=${1#pg_} file=""
    case "$s" in
    nginx) url="http://127.0.0.1:$nginx_port" ;;
    verify_same) scen=verify ;;
    verify_distinct)
        mint 5000 "$tmp/tokens-warm.txt"
        mint "$distinct_count" "$tmp/tokens.txt"
        file=$tmp/tokens-warm.txt
        ;;
    refresh | pg_refresh) bench_fresh_tokens $((CONNECTIONS * 2)) "$tmp/refresh.txt" ;;
    login | pg_login) conns=$LOGIN_CONNECTIONS ;;
    esac
    case "$s" in
    verify_distinct) measure_raw_verify ;;
    login | pg_login) measure_raw_argon2 ;;
    pg_refresh) measure_pg_sql ;;
    esac
    wrk_run "$scen" "$WARMUP" "$conns" "$url" "$file" >/dev/null
    case "$s" in
    verify_distinct) file=$tmp/tokens.txt ;;
    refresh | pg_refresh) bench_fresh_tokens $((CONNECTIONS * 2)) "$tmp/refresh.txt" ;;
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
    [ "$s" != pg_refresh ] || profile_pg_refresh "$url" "$conns"
}

for s in $SCENARIOS; do
    case "$s" in
    nginx | verify_same | verify_distinct | introspect | refresh | login | pg_refresh | pg_login) run_scenario "$s" ;;
    *) bench_die "unknown scenario $s" ;;
    esac
done
kill -0 "$jotd_pid" 2>/dev/null || { echo "jotd died: $(tail -5 "$tmp/jotd.log")"; exit 1; }
[ -z "$pg_jotd_pid" ] || kill -0 "$pg_jotd_pid" 2>/dev/null ||
    { echo "jotd (PostgreSQL) died: $(tail -5 "$tmp/jotd-pg.log")"; exit 1; }

# ---- report ----------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b}'; }
declare -A ref_name ref_value target
ref_name=([verify_same]=nginx [introspect]=nginx [verify_distinct]=raw [login]=raw [refresh]=target
    [pg_login]=raw [pg_refresh]=pg_sql_rotation)
target=([verify_same]=0.5 [introspect]=0.4 [verify_distinct]=0.9 [login]=0.9 [refresh]=1.0
    [pg_login]=0.9)
ref_value=([verify_same]=${rps[nginx]:-} [introspect]=${rps[nginx]:-} [verify_distinct]=$raw_verify
    [login]=$raw_argon2 [refresh]=4800 [pg_login]=$raw_argon2 [pg_refresh]=$pg_sql)
[ -z "$raw_verify" ] || echo "raw.ecdsap256_verify $raw_verify verify/s"
[ -z "$raw_argon2" ] || echo "raw.argon2id $raw_argon2 hash/s"
[ -z "$pg_sql" ] || echo "pg_sql_rotation $pg_sql tx/s"
[ -z "$pg_sql_pool" ] || echo "pg_sql_rotation_pool $pg_sql_pool tx/s"
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
    [ "$s" != pg_refresh ] || [ -z "$pg_sql_pool" ] ||
        echo "server.pg_refresh.ratio_pg_sql_rotation_pool $(ratio "${rps[$s]}" "$pg_sql_pool") x"
    [ "$s" != pg_refresh ] || [ -z "${rps[refresh]:-}" ] ||
        echo "server.pg_refresh.ratio_sqlite_refresh $(ratio "${rps[$s]}" "${rps[refresh]}") x"
    [ "$s" != pg_login ] || [ -z "${rps[login]:-}" ] ||
        echo "server.pg_login.ratio_sqlite_login $(ratio "${rps[$s]}" "${rps[login]}") x"
done
echo
printf '%-16s %10s %9s %9s  %-28s %s\n' scenario req/s p50_ms p99_ms "ratio (target)" notes
for s in $SCENARIOS; do
    r="-"
    if [ -n "${ref_name[$s]:-}" ]; then
        mark=$(awk -v r="${ratio_of[$s]}" -v t="${target[$s]:-}" 'BEGIN {print (r != "-" && r + 0 >= t) ? "ok" : "below"}')
        case "${ref_name[$s]}" in
        nginx) r="${ratio_of[$s]} x nginx (>= ${target[$s]}) $mark" ;;
        raw) r="${ratio_of[$s]} x raw (>= ${target[$s]}) $mark" ;;
        target) r="${ratio_of[$s]} x 4800/s $mark" ;;
        pg_sql_rotation) r="${ratio_of[$s]} x pgbench SQL" ;;
        esac
    fi
    printf '%-16s %10s %9s %9s  %-28s %s\n' "$s" "${rps[$s]}" "${p50[$s]}" "${p99[$s]}" "$r" "${errors[$s]:-}"
done
[ -z "$raw_verify$raw_argon2" ] || echo "raw: openssl speed ecdsap256 verify $raw_verify/s (one core); argon2_rate.c (libargon2) Argon2id m=$ARGON2_M_KIB t=$ARGON2_T p=$ARGON2_P on $(nproc) threads: $raw_argon2 hash/s"
if [ -n "$pg_sql" ]; then
    echo "pgbench (bench/server/rotation.pgbench, one rotation's SQL, 5 round trips): $pg_sql tx/s at -c$PGBENCH_CLIENTS synchronous_commit=on (pg_refresh's reference); $pg_sql_pool tx/s at -c$jotd_pool (jotd's workers) synchronous_commit=$jotd_commit (as jotd commits a rotation)"
fi
if [ -s "$tmp/profile.txt" ]; then
    echo
    echo "profile of pg_refresh:"
    cat "$tmp/profile.txt"
elif [ -n "$profile_note" ]; then
    echo "profile of pg_refresh: none ($profile_note)"
fi
[ "$failures" -eq 0 ] || { echo "run.sh: $failures scenario(s) had errors"; exit 1; }
