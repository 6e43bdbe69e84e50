#!/usr/bin/env bash
# Runs the README's CLI quick start and compiles and runs its C example, so both stay true.
# usage: readme.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the fenced block that follows a "<!-- readme-test: NAME -->" marker
block() {
    awk -v name="$1" '
        $0 == "<!-- readme-test: " name " -->" { want = 1; next }
        want && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' "$src/README.md"
}

block cli >"$tmp/quickstart.sh"
block c >"$tmp/verify.c"
[ -s "$tmp/quickstart.sh" ] && [ -s "$tmp/verify.c" ] || { echo "README blocks not found"; exit 1; }

cd "$tmp"
export PATH="$build/bin:$PATH"
bash -euo pipefail quickstart.sh >out.txt 2>&1 || { cat out.txt; echo "CLI quick start failed"; exit 1; }
cat out.txt
grep -q '"sub":"alice"' out.txt || { echo "verify did not print the claims"; exit 1; }
grep -q 'rejected: exit 1' out.txt || { echo "wrong-algorithm verify was not rejected"; exit 1; }
[ "$(stat -c %a key.jwk)" = 600 ] || { echo "key.jwk is not mode 0600"; exit 1; }

cc -std=c11 -Wall -Wextra -Werror -I"$src/include" verify.c -o verify \
    "$build/lib/libjot.a" $(pkg-config --libs libcrypto jansson zlib) \
    $(pkg-config --libs libcurl 2>/dev/null) -lpthread -lm
TOKEN=$(jot sign --key key.jwk --iss https://auth.example.com --sub alice --aud api --exp 15m)
./verify pub.jwk "$TOKEN" | grep -qx 'hello alice' || { echo "C example did not verify"; exit 1; }
BAD=$(jot sign --key key.jwk --iss https://evil.example.com --sub alice --aud api --exp 15m)
if ./verify pub.jwk "$BAD" 2>err.txt; then echo "C example accepted a wrong issuer"; exit 1; fi
grep -q 'rejected: wrong issuer' err.txt
echo "README examples: OK"
