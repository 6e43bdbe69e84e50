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
# Many instances (pg_revoke_lag, pg_verify_listener, pg_refresh_lb: in the PostgreSQL pass by
# default): more jotd on the PostgreSQL jotd's --data and --store (its keys, its user, its
# database), all with --issuer http://jotd-cluster.bench.test (a token of one is valid on
# every one) and throttling out of the way (--throttle-*-failures 1000000): K1, K2, K3 with
# the default listener, KOFF with --events-listen off --events-poll-interval 1s.
#   pg_revoke_lag       revocation lag (bench/server/cluster.mjs lag): LAG_REVOCATIONS access
#                       tokens (minted like verify_distinct's, in the session of a login on K1)
#                       revoked on K1 while another instance is asked GET /verify until it
#                       answers 401; the time from K1's 200 to that 401, p50/p90/p99/max:
#                       K2 (LISTEN), one at a time, asked back to back   target p99 <= 50 ms
#                       KOFF (polling), LAG_POLL_CONCURRENCY at once, each after a random
#                       0..1 s pause, asked every 2 ms              target p99 <= 1 s + 100 ms
#   pg_verify_listener  verify (one bearer repeated, as verify_same) on K2 (listener on) and on
#                       KOFF (listener off), one running at a time, CLUSTER_ROUNDS rounds in
#                       turn, while K1 revokes another token every WRITER_INTERVAL_MS (events
#                       that K2's listener reads during its run)    target on/off >= 0.95
#   pg_refresh_lb       refresh (the chains of load.lua) on K1 directly, on K1 behind nginx and
#                       on K1..K3 behind the same nginx (bench/server/nginx-lb.conf.in: one
#                       worker, round-robin, keep-alive to the instances); no target, the
#                       pgbench rotation SQL is printed as the reference
# Everything is stopped and removed at exit (the cluster with pg-test-cluster stop).
# Output: machine lines "name value unit", then a table. Exit 0 when every scenario ran
# without errors (targets are reported, not enforced: the machine may be shared), 1 when a
# scenario had non-2xx answers or socket errors, 2 on a set-up error.
#
# Tunables (environment): JOTD, BENCH_SECONDS (10), WARMUP (2), CONNECTIONS (64),
# LOGIN_CONNECTIONS (8), WRK_THREADS (2), JOTD_THREADS (CPUs), JOTD_ARGS (extra flags),
# ARGON2_M_KIB (19456), ARGON2_T (2), ARGON2_P (1), RAW_SECONDS (3),
# SCENARIOS ("nginx verify_same verify_distinct introspect refresh login", plus
# "pg_refresh pg_login pg_revoke_lag pg_verify_listener pg_refresh_lb" when the PostgreSQL
# pass is on), BENCH_PG (auto), PG_BINDIR,
# PGBENCH_CLIENTS (CONNECTIONS), PROFILE_SECONDS (5; 0: no profile), PERF_DATA (a path: keep
# the profile's perf.data there, for `perf report -i`), LAG_REVOCATIONS (1000),
# LAG_POLL_CONCURRENCY (50), WRITER_INTERVAL_MS (10; 0: no events during pg_verify_listener),
# CLUSTER_ROUNDS (3).
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
LAG_REVOCATIONS=${LAG_REVOCATIONS:-1000}
LAG_POLL_CONCURRENCY=${LAG_POLL_CONCURRENCY:-50}
WRITER_INTERVAL_MS=${WRITER_INTERVAL_MS:-10}
CLUSTER_ROUNDS=${CLUSTER_ROUNDS:-3}
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
    [ "$BENCH_PG" = 0 ] || SCENARIOS+=" pg_refresh pg_login pg_revoke_lag pg_verify_listener pg_refresh_lb"
fi
want_pg=0
for s in $SCENARIOS; do
    case "$s" in pg_*) want_pg=1 ;; esac
done
[ "$want_pg" = 0 ] || [ -n "$pg_bin" ] || bench_die "pg_* scenarios need PostgreSQL's binaries (Debian package postgresql)"
[[ "$PROFILE_SECONDS" =~ ^[0-9]+$ ]] || bench_die "PROFILE_SECONDS must be a number"
for v in LAG_REVOCATIONS LAG_POLL_CONCURRENCY CLUSTER_ROUNDS; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || bench_die "$v must be a number >= 1"
done
[[ "$WRITER_INTERVAL_MS" =~ ^[0-9]+$ ]] || bench_die "WRITER_INTERVAL_MS must be a number (0: no writer)"

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
# the cluster pass (below): its jotd instances, its nginx and its event writer
declare -A cl_pid cl_port
lb_nginx_pid="" writer_pid=""
stop_cluster() {
    local n
    bench_kill_wait "$lb_nginx_pid"
    lb_nginx_pid=""
    bench_kill_wait "$writer_pid"
    for n in "${!cl_pid[@]}"; do bench_kill_wait "${cl_pid[$n]}"; done
}
stop_pg() {
    stop_cluster
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
    record_result "$s" "$res"
    if [ "$s" = verify_distinct ] && [ "${requests:-0}" -gt "$distinct_count" ]; then
        errors[$s]="tokens reused: $requests requests, $distinct_count tokens"
    fi
    [ "$s" != pg_refresh ] || profile_pg_refresh "$url" "$conns"
}

# NAME RESULT: rps, p50, p99 and errors of a wrk RESULT line under NAME (sets $requests)
record_result() {
    local s=$1 res=$2
    echo "# $s: ${res#RESULT }" >>"$tmp/results"
    rps[$s]=$(bench_field "$res" rps)
    p50[$s]=$(bench_field "$res" p50_ms)
    p99[$s]=$(bench_field "$res" p99_ms)
    local non2xx errs
    non2xx=$(bench_field "$res" non2xx)
    errs=$(bench_field "$res" socket_errors)
    requests=$(bench_field "$res" requests)
    errors[$s]=""
    if [ -z "$non2xx" ] || [ "${requests:-0}" -eq 0 ] || [ "$non2xx" -ne 0 ] || [ "$errs" != 0/0/0/0 ] ||
        [ "$(bench_field "$res" chain_lost)" != 0 ]; then
        errors[$s]="ERRORS: $(bench_field "$res" statuses) socket $errs"
        failures=$((failures + 1))
    fi
}

# ---- many instances on one PostgreSQL store (pg_revoke_lag, pg_verify_listener, pg_refresh_lb)
# jotd instances started here on the PostgreSQL jotd's --data and --store (they share its
# keys, its user "bench" and its database) with one --issuer, so that a token of one is
# valid on all: K1 (revokes, writes the events), K2 (listener on, the default), KOFF
# (--events-listen off --events-poll-interval 1s), K3 (the third behind nginx). Started when
# the first of these scenarios needs them; each scenario starts and stops what it compares.
cluster_issuer=http://jotd-cluster.bench.test
declare -A cl_base
cl_ready=0 cl_access="" lb_port1="" lb_port3=""
declare -A lag_line
verify_rounds="" writer_line=""
cluster_up() { # NAME [FLAGS...]: start instance NAME (no-op when it runs)
    local n=$1 p
    shift
    [ -z "${cl_pid[$n]:-}" ] || return 0
    p=${cl_port[$n]:-$(bench_free_port)}
    cl_port[$n]=$p
    BENCH_JOTD_LOG=jotd-$n bench_jotd_start "$JOTD" "$p" --data "$pg_data" --store "$(pg_uri jotd_bench)" \
        --listen "127.0.0.1:$p" --issuer "$cluster_issuer" --threads "$JOTD_THREADS" \
        --max-connections 4096 --throttle-account-failures 1000000 --throttle-ip-failures 1000000 \
        "${argon2_args[@]}" "${jotd_extra[@]}" "$@"
    cl_pid[$n]=$jotd_pid cl_base[$n]=$base
    jotd_pid=$sq_pid # bench_cleanup stops the SQLite jotd by this name
}
cluster_down() { # NAME
    bench_kill_wait "${cl_pid[$1]:-}"
    cl_pid[$1]=""
}
koff_flags=(--events-listen off --events-poll-interval 1s)
cluster_setup() {
    [ "$cl_ready" = 0 ] || return 0
    cl_ready=1
    cluster_up K1
    base=${cl_base[K1]} password=$pg_password
    cl_access=$(bench_login | sed -n 's/.*"access_token":"\([A-Za-z0-9_.-]*\)".*/\1/p')
    [ -n "$cl_access" ] || bench_die "cannot log in to the cluster instance K1"
    cl_kid=$(node -e 'const h=JSON.parse(Buffer.from(process.argv[1].split(".")[0],"base64url"));console.log(h.kid)' "$cl_access")
}
# COUNT FILE: COUNT access tokens of the session of $cl_access (its claims, a new jti each),
# signed with the shared key: each can be revoked on its own (the session stays alive)
cluster_mint() {
    node "$here/mint.mjs" "$pg_data/keys/$cl_kid.jwk" "$cl_access" "$1" 900 >"$2" ||
        bench_die "minting tokens failed"
}

# Revocation lag, K1 -> K2 (LISTEN) and K1 -> KOFF (polling every 1 s): bench/server/cluster.mjs
# lag. LISTEN: one revocation at a time, KOFF asked back to back; polling: LAG_POLL_CONCURRENCY
# revocations in flight, each after a random 0..1000 ms pause (a uniform phase against the
# poll tick), KOFF asked every 2 ms (resolution enough against 1 s, and the machine is shared).
run_revoke_lag() {
    cluster_setup
    cluster_up K2
    cluster_up KOFF "${koff_flags[@]}"
    cluster_mint "$LAG_REVOCATIONS" "$tmp/lag-listen.txt"
    cluster_mint "$LAG_REVOCATIONS" "$tmp/lag-poll.txt"
    local l rc=0
    l=$(node "$here/cluster.mjs" lag "${cl_base[K1]}" "${cl_base[K2]}" "$tmp/lag-listen.txt" \
        "$LAG_REVOCATIONS" 1 listen 0 0 2>"$tmp/lag-listen.err") || rc=1
    lag_line[listen]=$l
    l=$(node "$here/cluster.mjs" lag "${cl_base[K1]}" "${cl_base[KOFF]}" "$tmp/lag-poll.txt" \
        "$LAG_REVOCATIONS" "$LAG_POLL_CONCURRENCY" poll_1s 1000 2 2>"$tmp/lag-poll.err") || rc=1
    lag_line[poll_1s]=$l
    echo "# pg_revoke_lag: ${lag_line[listen]#LAG } / ${lag_line[poll_1s]#LAG }" >>"$tmp/results"
    if [ "$rc" != 0 ] || [ -z "${lag_line[listen]}" ] || [ -z "${lag_line[poll_1s]}" ]; then
        errors[pg_revoke_lag]="ERRORS: $(cat "$tmp/lag-listen.err" "$tmp/lag-poll.err" | head -3 | tr '\\n' ' ')"
        failures=$((failures + 1))
    fi
    cluster_down KOFF
}

# GET /verify (one bearer repeated, as verify_same) on K2 (listener on) and on KOFF (listener
# off), one at a time (the other stopped), CLUSTER_ROUNDS rounds in turn, while K1 revokes
# another token every WRITER_INTERVAL_MS (cluster.mjs writer: an events row and a pg_notify
# each; 0: no writer), so that K2's listener wakes and reads the events during its run.
run_verify_listener() {
    cluster_setup
    cluster_down KOFF
    writer_pid=""
    if [ "$WRITER_INTERVAL_MS" -gt 0 ]; then
        cluster_mint $(((CLUSTER_ROUNDS * 2 * (WARMUP + DURATION + 4) + 10) * 1000 / WRITER_INTERVAL_MS)) "$tmp/writer.txt"
        node "$here/cluster.mjs" writer "${cl_base[K1]}" "$tmp/writer.txt" "$WRITER_INTERVAL_MS" \
            >"$tmp/writer.out" 2>&1 &
        writer_pid=$!
    fi
    local r arm n res
    access=$cl_access basic="" password=$pg_password
    for r in $(seq 1 "$CLUSTER_ROUNDS"); do
        for arm in on off; do
            if [ "$arm" = on ]; then
                cluster_down KOFF
                cluster_up K2
                n=K2
            else
                cluster_down K2
                cluster_up KOFF "${koff_flags[@]}"
                n=KOFF
            fi
            wrk_run verify "$WARMUP" "$CONNECTIONS" "${cl_base[$n]}" >/dev/null
            sleep 1
            res=$(wrk_run verify "$DURATION" "$CONNECTIONS" "${cl_base[$n]}")
            record_result "pg_verify_listener_$arm.$r" "$res"
            verify_rounds+=" $arm.$r"
        done
    done
    if [ -n "$writer_pid" ]; then
        bench_kill_wait "$writer_pid"
        writer_pid=""
        writer_line=$(grep '^WRITER' "$tmp/writer.out" || true)
        grep -q 'failed=0 ' <<<"$writer_line" || {
            errors[pg_verify_listener]="writer: ${writer_line:-no summary} $(grep -v '^WRITER' "$tmp/writer.out" | head -2)"
            failures=$((failures + 1))
        }
    fi
    local a
    for a in on off; do # the mean over the rounds
        rps[pg_verify_listener_$a]=$(for r in $(seq 1 "$CLUSTER_ROUNDS"); do echo "${rps[pg_verify_listener_$a.$r]}"; done | awk '{t += $1} END {printf "%.0f", t / NR}')
        p50[pg_verify_listener_$a]=$(for r in $(seq 1 "$CLUSTER_ROUNDS"); do echo "${p50[pg_verify_listener_$a.$r]}"; done | awk '{t += $1} END {printf "%.2f", t / NR}')
        p99[pg_verify_listener_$a]=$(for r in $(seq 1 "$CLUSTER_ROUNDS"); do echo "${p99[pg_verify_listener_$a.$r]}"; done | awk '{t += $1} END {printf "%.2f", t / NR}')
    done
    cluster_down KOFF
    cluster_up K2
}

# Refresh rotations (the refresh chains of load.lua) against K1 directly, K1 behind nginx,
# and K1..K3 behind the same nginx (bench/server/nginx-lb.conf.in: round-robin, keep-alive to
# the instances): a chain's successive rotations land on different instances.
run_refresh_lb() {
    cluster_setup
    cluster_down KOFF
    cluster_up K2
    cluster_up K3
    if [ -z "$lb_nginx_pid" ]; then
        lb_port1=$(bench_free_port)
        lb_port3=$(bench_free_port)
        mkdir -p "$tmp/nginx-lb"
        sed -e "s|@DIR@|$tmp/nginx-lb|g" -e "s|@PORT1@|$lb_port1|g" -e "s|@PORT3@|$lb_port3|g" \
            -e "s|@UP1@|${cl_port[K1]}|g" -e "s|@UP2@|${cl_port[K2]}|g" -e "s|@UP3@|${cl_port[K3]}|g" \
            "$here/nginx-lb.conf.in" >"$tmp/nginx-lb/nginx.conf"
        nginx -p "$tmp/nginx-lb" -c "$tmp/nginx-lb/nginx.conf" -e "$tmp/nginx-lb/error.log" &
        lb_nginx_pid=$!
        for _ in $(seq 1 50); do
            curl -fs -o /dev/null "http://127.0.0.1:$lb_port3/healthz" && break
            sleep 0.1
        done
        curl -fs -o /dev/null "http://127.0.0.1:$lb_port3/healthz" ||
            bench_die "nginx (load balancer) did not start: $(tail -3 "$tmp/nginx-lb/error.log")"
    fi
    [ -n "$pg_sql" ] || measure_pg_sql
    local s url res
    for s in pg_refresh_1 pg_refresh_1_nginx pg_refresh_3_nginx; do
        case "$s" in
        pg_refresh_1) url=${cl_base[K1]} ;;
        pg_refresh_1_nginx) url=http://127.0.0.1:$lb_port1 ;;
        pg_refresh_3_nginx) url=http://127.0.0.1:$lb_port3 ;;
        esac
        base=${cl_base[K1]} password=$pg_password access=$cl_access basic=""
        bench_fresh_tokens $((CONNECTIONS * 2)) "$tmp/refresh.txt"
        wrk_run refresh "$WARMUP" "$CONNECTIONS" "$url" >/dev/null
        bench_fresh_tokens $((CONNECTIONS * 2)) "$tmp/refresh.txt"
        sleep 1
        res=$(wrk_run refresh "$DURATION" "$CONNECTIONS" "$url")
        record_result "$s" "$res"
    done
}

for s in $SCENARIOS; do
    case "$s" in
    nginx | verify_same | verify_distinct | introspect | refresh | login | pg_refresh | pg_login) run_scenario "$s" ;;
    pg_revoke_lag) run_revoke_lag ;;
    pg_verify_listener) run_verify_listener ;;
    pg_refresh_lb) run_refresh_lb ;;
    *) bench_die "unknown scenario $s" ;;
    esac
done
kill -0 "$jotd_pid" 2>/dev/null || { echo "jotd died: $(tail -5 "$tmp/jotd.log")"; exit 1; }
[ -z "$pg_jotd_pid" ] || kill -0 "$pg_jotd_pid" 2>/dev/null ||
    { echo "jotd (PostgreSQL) died: $(tail -5 "$tmp/jotd-pg.log")"; exit 1; }

# ---- report ----------------------------------------------------------------------------------
main_scenarios="" cluster_scenarios=""
for s in $SCENARIOS; do
    case "$s" in
    pg_revoke_lag | pg_verify_listener | pg_refresh_lb) cluster_scenarios+=" $s" ;;
    *) main_scenarios+=" $s" ;;
    esac
done
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
for s in $main_scenarios; do
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
# the cluster pass: LAG lines of cluster.mjs, wrk results of its scenarios
declare -A lag_target=([listen]=50 [poll_1s]=1100) lag_mark
for l in listen poll_1s; do
    [ -n "${lag_line[$l]:-}" ] || continue
    for f in count p50_ms p90_ms p99_ms max_ms mean_ms; do
        unit=""
        [ "$f" = count ] || unit=" ms"
        echo "cluster.revoke_lag.$l.${f%_ms} $(bench_field "${lag_line[$l]}" "$f")$unit"
    done
    lag_mark[$l]=$(awk -v v="$(bench_field "${lag_line[$l]}" p99_ms)" -v t="${lag_target[$l]}" \
        'BEGIN {print (v != "" && v != "-" && v + 0 <= t) ? "ok" : "above"}')
done
cluster_wrk=""
for r in $verify_rounds; do cluster_wrk+=" pg_verify_listener_$r"; done
[ -z "$verify_rounds" ] || cluster_wrk+=" pg_verify_listener_on pg_verify_listener_off"
[ -z "${rps[pg_refresh_3_nginx]:-}" ] || cluster_wrk+=" pg_refresh_1 pg_refresh_1_nginx pg_refresh_3_nginx"
for s in $cluster_wrk; do
    echo "server.$s.rps ${rps[$s]:-} req/s"
    echo "server.$s.p50 ${p50[$s]:-} ms"
    echo "server.$s.p99 ${p99[$s]:-} ms"
done
verify_ratio=""
if [ -n "${rps[pg_verify_listener_on]:-}" ]; then
    verify_ratio=$(ratio "${rps[pg_verify_listener_on]}" "${rps[pg_verify_listener_off]}")
    echo "server.pg_verify_listener.ratio_on_off $verify_ratio x"
fi
[ -z "$writer_line" ] || echo "cluster.event_writer ${writer_line#WRITER }"
if [ -n "${rps[pg_refresh_3_nginx]:-}" ]; then
    echo "server.pg_refresh_1_nginx.ratio_refresh_1 $(ratio "${rps[pg_refresh_1_nginx]}" "${rps[pg_refresh_1]}") x"
    echo "server.pg_refresh_3_nginx.ratio_refresh_1 $(ratio "${rps[pg_refresh_3_nginx]}" "${rps[pg_refresh_1]}") x"
    echo "server.pg_refresh_3_nginx.ratio_refresh_1_nginx $(ratio "${rps[pg_refresh_3_nginx]}" "${rps[pg_refresh_1_nginx]}") x"
    echo "server.pg_refresh_3_nginx.ratio_pg_sql_rotation $(ratio "${rps[pg_refresh_3_nginx]}" "$pg_sql") x"
fi
echo
[ -z "$main_scenarios" ] ||
    printf '%-16s %10s %9s %9s  %-28s %s\n' scenario req/s p50_ms p99_ms "ratio (target)" notes
for s in $main_scenarios; do
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
if [ -n "$cluster_scenarios" ]; then
    echo
    echo "many instances on one PostgreSQL store (same --data and --store, --issuer $cluster_issuer):"
    if [ -n "${lag_line[listen]:-}${lag_line[poll_1s]:-}" ]; then
        printf '%-34s %6s %8s %8s %8s %8s  %s\n' "revocation lag (A's 200 -> B's 401)" count p50_ms p90_ms p99_ms max_ms target
        for l in listen poll_1s; do
            [ -n "${lag_line[$l]:-}" ] || continue
            name="  B --events-listen off, poll 1s"
            [ "$l" != listen ] || name="  B with LISTEN (the default)"
            printf '%-34s %6s %8s %8s %8s %8s  %s\n' "$name" "$(bench_field "${lag_line[$l]}" count)" \
                "$(bench_field "${lag_line[$l]}" p50_ms)" "$(bench_field "${lag_line[$l]}" p90_ms)" \
                "$(bench_field "${lag_line[$l]}" p99_ms)" "$(bench_field "${lag_line[$l]}" max_ms)" \
                "p99 <= ${lag_target[$l]} ms ${lag_mark[$l]}"
        done
        echo "  (LISTEN: one revocation at a time, B asked back to back; polling: $LAG_POLL_CONCURRENCY in flight, each after a random 0..1000 ms pause, B asked every 2 ms)"
    fi
    if [ -n "${rps[pg_verify_listener_on]:-}" ]; then
        printf '%-34s %10s %9s %9s  %s\n' "GET /verify, one bearer repeated" req/s p50_ms p99_ms "(mean of $CLUSTER_ROUNDS rounds: each round's req/s)"
        for a in on off; do
            rounds=""
            for r in $(seq 1 "$CLUSTER_ROUNDS"); do rounds+="${rps[pg_verify_listener_$a.$r]:-} ${errors[pg_verify_listener_$a.$r]:-}"; done
            printf '%-34s %10s %9s %9s  %s\n' "  listener $a" "${rps[pg_verify_listener_$a]}" \
                "${p50[pg_verify_listener_$a]}" "${p99[pg_verify_listener_$a]}" "$rounds"
        done
        mark=$(awk -v r="$verify_ratio" 'BEGIN {print (r != "-" && r + 0 >= 0.95) ? "ok" : "below"}')
        echo "  on / off: $verify_ratio x (target >= 0.95) $mark; events meanwhile (revocations on K1): ${writer_line:-none (WRITER_INTERVAL_MS=0)} ${errors[pg_verify_listener]:-}"
    fi
    if [ -n "${rps[pg_refresh_3_nginx]:-}" ]; then
        printf '%-34s %10s %9s %9s  %s\n' "POST /token refresh rotation" req/s p50_ms p99_ms ratio
        for s in pg_refresh_1 pg_refresh_1_nginx pg_refresh_3_nginx; do
            case "$s" in
            pg_refresh_1) name="  1 instance, direct" r="" ;;
            pg_refresh_1_nginx) name="  1 instance behind nginx" r="$(ratio "${rps[$s]}" "${rps[pg_refresh_1]}") x direct" ;;
            *) name="  3 instances behind nginx" r="$(ratio "${rps[$s]}" "${rps[pg_refresh_1]}") x direct, $(ratio "${rps[$s]}" "${rps[pg_refresh_1_nginx]}") x 1 behind nginx" ;;
            esac
            printf '%-34s %10s %9s %9s  %s %s\n' "$name" "${rps[$s]}" "${p50[$s]}" "${p99[$s]}" "$r" "${errors[$s]:-}"
        done
        echo "  reference: pgbench rotation SQL $pg_sql tx/s (-c$PGBENCH_CLIENTS, synchronous_commit=on), $pg_sql_pool tx/s (-c$jotd_pool, synchronous_commit=$jotd_commit)"
    fi
    [ -z "${errors[pg_revoke_lag]:-}" ] || echo "pg_revoke_lag: ${errors[pg_revoke_lag]}"
fi
if [ -s "$tmp/profile.txt" ]; then
    echo
    echo "profile of pg_refresh:"
    cat "$tmp/profile.txt"
elif [ -n "$profile_note" ]; then
    echo "profile of pg_refresh: none ($profile_note)"
fi
[ "$failures" -eq 0 ] || { echo "run.sh: $failures scenario(s) had errors"; exit 1; }
