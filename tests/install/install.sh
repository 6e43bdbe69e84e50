#!/usr/bin/env bash
# `make install PREFIX=P` as a user runs it, into a temporary prefix that the build was not
# configured with: the README's C example compiled with `pkg-config --cflags --libs jot` from
# P (jot.pc must name P) against the installed shared libjot and run; P/bin/jotd --help and
# P/bin/jot; the man pages; the systemd unit with ExecStart in P, checked by
# `systemd-analyze verify` when it is installed (skipped loudly otherwise), its exposure
# score printed (systemd-analyze security --offline=true).
# usage: install.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
P=$tmp/prefix

# what `make install PREFIX=P` runs (without its `build` prerequisite: CTest runs on a build)
cmake --install "$build" --prefix "$P" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; echo "make install failed"; exit 1; }
for f in bin/jot bin/jotd include/jot/jot.h lib/libjot.a lib/pkgconfig/jot.pc \
    share/man/man1/jot.1 share/man/man8/jotd.8 lib/systemd/system/jotd.service; do
    [ -e "$P/$f" ] || { echo "not installed: $P/$f"; find "$P" | sort; exit 1; }
done
ls "$P"/lib/libjot.so* >/dev/null || { echo "no shared libjot"; exit 1; }

# pkg-config from the prefix: the README's C example, linked with the installed shared library
export PKG_CONFIG_PATH=$P/lib/pkgconfig
[ "$(pkg-config --variable=prefix jot)" = "$P" ] || { echo "jot.pc names $(pkg-config --variable=prefix jot), not $P"; exit 1; }
awk '$0 == "<!-- readme-test: c -->" { want = 1; next }
     want && /^```/ { if (inside) exit; inside = 1; next }
     inside { print }' "$src/README.md" >"$tmp/verify.c"
[ -s "$tmp/verify.c" ] || { echo "the README's C example was not found"; exit 1; }
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror "$tmp/verify.c" -o "$tmp/verify" $(pkg-config --cflags --libs jot) \
    -Wl,-rpath,"$(pkg-config --variable=libdir jot)"
# (ldd's output taken whole first: `ldd | grep -q` under pipefail fails when grep stops
# early and ldd gets SIGPIPE, which it did at random)
libs=$(ldd "$tmp/verify")
case "$libs" in
*"$P/lib/libjot.so"*) ;;
*) echo "the example is not linked with $P's libjot"; echo "$libs"; exit 1 ;;
esac
"$P/bin/jot" keygen --alg ES256 -o "$tmp/key.jwk"
"$P/bin/jot" pubkey "$tmp/key.jwk" >"$tmp/pub.jwk"
TOKEN=$("$P/bin/jot" sign --key "$tmp/key.jwk" --iss https://auth.example.com --sub alice --aud api --exp 15m)
"$tmp/verify" "$tmp/pub.jwk" "$TOKEN" | grep -qx 'hello alice' || { echo "the installed C example did not verify"; exit 1; }

help=$("$P/bin/jotd" --help)
case "$help" in *--metrics-listen*) ;; *) echo "P/bin/jotd --help"; exit 1 ;; esac
"$P/bin/jotd" serve --help >/dev/null
MANPATH=$P/share/man man -w jotd.8 >/dev/null 2>&1 || MANPATH=$P/share/man man -w 8 jotd >/dev/null 2>&1 ||
    echo "install: man(1) not installed: the man page is not looked up (it is there)"

unit=$P/lib/systemd/system/jotd.service
grep -qx "ExecStart=$P/bin/jotd serve --data %S/jotd" "$unit" || { echo "ExecStart not in the prefix:"; grep ExecStart "$unit"; exit 1; }
grep -qx 'Type=notify' "$unit"
if command -v systemd-analyze >/dev/null; then
    # Documentation=man:jotd(8) is checked with man(1): the prefix's pages
    (cd "$tmp" && MANPATH=$P/share/man systemd-analyze verify "$unit") ||
        { echo "systemd-analyze verify failed"; exit 1; }
    score=$(systemd-analyze security --offline=true "$unit" 2>/dev/null | sed -n 's/.*Overall exposure level for jotd.service: \([0-9.]*\).*/\1/p')
    echo "systemd-analyze security --offline=true: exposure $score"
else
    echo "SKIP: systemd-analyze not installed (Debian package systemd): the unit is not verified"
fi
echo "install: OK ($P)"
