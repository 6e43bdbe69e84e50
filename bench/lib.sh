# Shell pieces shared by the jotd benchmarks (bench/load/run.sh, bench/server/run.sh).
# Source it from bash after `set -euo pipefail`; it defines functions and a few variables,
# starts nothing by itself.
#
#   bench_die MSG                  "<script>: MSG" on stderr, exit 2
#   bench_need CMD...              exit 2 naming the Debian package of a missing command
#   bench_free_port                a free 127.0.0.1 TCP port on stdout
#   bench_tmp PREFIX               sets $tmp to a new directory under /tmp (removed at exit)
#   bench_on_exit CMD              run CMD (a function name) at exit, before $tmp is removed
#   bench_jotd_setup JOTD DATA PORT [ARGS...]  user "bench", resource-server client "bench-rs"
#                                  with random secrets: sets $password, $secret, $basic
#   bench_jotd_start JOTD PORT ARGS...  starts `JOTD serve ARGS...` (log in $tmp/jotd.log,
#                                  or $tmp/$BENCH_JOTD_LOG.log), waits for /healthz; sets
#                                  $jotd_pid and $base
#   bench_login                    one password login of "bench": the answer's body then
#                                  " HTTP <status>" on one line (needs $base, $password)
#   bench_fresh_tokens N FILE      N refresh tokens of N new sessions into FILE
#   bench_field RESULT NAME        the value of NAME=... in a RESULT line of a wrk script
#   bench_kill_wait PID            SIGTERM and wait (no-op for an empty or dead PID)

bench_name=$(basename "$0")
bench_die() {
    echo "$bench_name: $*" >&2
    exit 2
}

bench_need() {
    local c pkg
    for c in "$@"; do
        case "$c" in
        node) pkg=nodejs ;;
        nginx) pkg=nginx-light ;;
        *) pkg=$c ;;
        esac
        command -v "$c" >/dev/null || bench_die "$c is missing (Debian package $pkg)"
    done
}

bench_free_port() {
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

bench_exit_hooks=()
bench_on_exit() { bench_exit_hooks+=("$1"); }

bench_kill_wait() {
    [ -n "${1:-}" ] || return 0
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

jotd_pid=""
tmp=""
bench_cleanup() {
    local h
    for h in "${bench_exit_hooks[@]}"; do "$h" || true; done
    bench_kill_wait "$jotd_pid"
    [ -z "$tmp" ] || rm -rf "$tmp"
}
trap bench_cleanup EXIT

bench_tmp() {
    tmp=$(mktemp -d "/tmp/$1.XXXXXX")
}

bench_jotd_setup() { # JOTD DATA PORT [ARGS...] (ARGS: e.g. the Argon2 cost of the password hash)
    local bin=$1 d=$2 p=$3
    shift 3
    password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    # operator commands do not create a data directory: init does
    [ -d "$d" ] || "$bin" init --data "$d" >/dev/null || bench_die "jotd init --data $d failed"
    echo "$password" | "$bin" user add bench --password-stdin --data "$d" "$@" >/dev/null
    # a resource server for the default audience (the issuer, http://127.0.0.1:PORT); its
    # generated secret is the last line printed
    secret=$("$bin" client add bench-rs --generate-secret --introspect "http://127.0.0.1:$p" \
        --data "$d" | tail -n 1)
    basic="Basic $(printf '%s:%s' bench-rs "$secret" | base64 -w0)"
}

bench_jotd_start() { # JOTD PORT ARGS...
    local bin=$1 p=$2 log=$tmp/${BENCH_JOTD_LOG:-jotd}
    shift 2
    base="http://127.0.0.1:$p"
    "$bin" serve "$@" >"$log.out" 2>"$log.log" &
    jotd_pid=$!
    for _ in $(seq 1 100); do
        curl -fs "$base/healthz" >/dev/null 2>&1 && break
        sleep 0.1
    done
    curl -fs "$base/healthz" >/dev/null || bench_die "jotd did not start: $(tail -3 "$log.log")"
}

bench_login() { # one line: the answer's body, then " HTTP <status>" (one write: parallel-safe)
    local r
    r=$(curl -s -m 30 "$base/token" -w ' HTTP %{http_code}' --data-urlencode grant_type=password \
        --data-urlencode username=bench --data-urlencode "password=$password")
    printf '%s\n' "$r"
}

# Refresh chains: a fresh set of sessions for each wrk run (a token used in one run is
# rotated; presenting it again would be reuse).
bench_fresh_tokens() { # N FILE
    export -f bench_login
    export base password
    local want=$1 file=$2 try have
    : >"$file"
    for try in 1 2 3; do
        have=$(wc -l <"$file")
        [ "$have" -lt "$want" ] || return 0
        seq 1 $((want - have)) | xargs -P 4 -I{} bash -c bench_login >"$tmp/logins.txt"
        sed -n 's/.*"refresh_token":"\([A-Za-z0-9_-]*\)".*/\1/p' "$tmp/logins.txt" >>"$file"
        if grep -qv '"refresh_token"' "$tmp/logins.txt"; then
            echo "$bench_name: login failures while making sessions (try $try):" \
                "$(grep -v '"refresh_token"' "$tmp/logins.txt" | sort | uniq -c | head -3)" >&2
        fi
    done
    [ "$(wc -l <"$file")" -ge "$want" ] || bench_die "logins for the refresh chains failed"
}

bench_field() { # RESULT NAME
    sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"
}
