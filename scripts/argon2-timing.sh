#!/bin/sh
# Login timing of a known user (wrong password) against an unknown one, after the Argon2
# settings changed: users are created at --argon2-t 2 (the default), jotd serves with
# --argon2-t ${T:-6}. Prints the median of N curl timings (ms) for each, then logs the known
# user in once (which rehashes them at the new settings) and measures again.
#   scripts/argon2-timing.sh [BUILD_DIR]   (N=25 T=6 by default)
set -eu
bin=${1:-build}/bin/jotd
n=${N:-25}
t=${T:-6}
data=$(mktemp -d)
port=$((20000 + $$ % 20000))
trap 'kill $pid 2>/dev/null; rm -rf "$data"' EXIT
echo known-password-1 | "$bin" user add known --password-stdin --data "$data" >/dev/null
for i in 1 2 3 4; do echo "other-password-$i" | "$bin" user add "u$i" --password-stdin --data "$data" >/dev/null; done
"$bin" serve --data "$data" --listen 127.0.0.1:$port --argon2-t "$t" --threads 1 \
    --throttle-account-failures 1000000 --throttle-ip-failures 1000000 >/dev/null 2>"$data/log" &
pid=$!
until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do sleep 0.1; done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
login() { # user password -> ms
    curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/token" \
        -d grant_type=password -d "username=$1" -d "password=$2" | awk '{printf "%.1f\n", $1 * 1000}'
}
measure() { # label user
    i=0
    while [ $i -lt "$n" ]; do login "$2" wrong-password-x; i=$((i + 1)); done | median | sed "s/^/$1 /"
}
grep -o '"unknown users[^"]*"' "$data/log" || true
measure "known (hash t=2) ms:" known
measure "unknown ms:" nobody
login known known-password-1 >/dev/null # rehashes at t=$t
measure "known after its rehash (t=$t) ms:" known
measure "unknown ms:" nobody
