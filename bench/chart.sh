#!/bin/sh
# PNG chart of a jot_bench run: per algorithm, libjot / raw OpenSSL ratio for sign and verify
# (top, with the 0.95 and 0.50 targets of issue 5) and the ops/s of both (bottom, log scale).
#
#   bench/chart.sh BENCH_OUTPUT OUT.png
#
# BENCH_OUTPUT is the stdout of jot_bench (only its "name value unit" lines are read).
# Needs gnuplot (Debian: gnuplot-nox; scripts/install-deps --bench). Exit 0 on success,
# 1 when the output holds no figures, 2 on a usage error, 77 when gnuplot is missing.
set -eu
[ $# -eq 2 ] || {
    echo "usage: $0 BENCH_OUTPUT OUT.png" >&2
    exit 2
}
in=$1
out=$2
[ -r "$in" ] || {
    echo "chart: $in: cannot read" >&2
    exit 2
}
command -v gnuplot >/dev/null 2>&1 || {
    echo "chart: gnuplot is not installed (scripts/install-deps --bench)" >&2
    exit 77
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One row per algorithm, in the order of the output:
# alg jot.sign raw.sign jot.verify raw.verify ratio.sign ratio.verify
awk 'NF == 3 && $1 !~ /^#/ {
        v[$1] = $2
        n = split($1, p, ".")
        if (n == 3 && p[1] == "jot" && p[3] == "sign" && !(p[2] in seen)) {
            seen[p[2]] = 1
            order[++count] = p[2]
        }
    }
    END {
        for (i = 1; i <= count; i++) {
            a = order[i]
            printf "%s %s %s %s %s %s %s\n", a, v["jot." a ".sign"], v["raw." a ".sign"],
                v["jot." a ".verify"], v["raw." a ".verify"], v["ratio." a ".sign"],
                v["ratio." a ".verify"]
        }
    }' "$in" >"$tmp/data"
[ -s "$tmp/data" ] || {
    echo "chart: $in: no jot.<alg>.sign figures found" >&2
    exit 1
}
# Rows with a missing figure (an algorithm that failed) are dropped.
awk 'NF == 7' "$tmp/data" >"$tmp/rows"

meta=$(sed -n 's/^# openssl: //p' "$in" | head -n 1)
cpu=$(sed -n 's/^# cpu: //p' "$in" | head -n 1)
date=$(sed -n 's/^# date: //p' "$in" | head -n 1)
secs=$(awk '$1 == "meta.seconds" { print $2 }' "$in")

gnuplot <<GP
set terminal pngcairo size 1400,1000 font "sans,10"
set output "$out"
set multiplot layout 2,1 title "libjot vs the raw OpenSSL primitive, same process, same keys and bytes\n{/*0.8 $meta; $cpu; $date; ${secs:-?} s per figure, best of 3 interleaved rounds}"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top left
set xtics nomirror

set ylabel "libjot ops/s / raw ops/s"
set yrange [0:1.2<*]
set ytics 0.1
set rmargin 24
set arrow 1 from graph 0, first 0.95 to graph 1, first 0.95 nohead lc rgb "#c00000" lw 2 dt 2 front
set arrow 2 from graph 0, first 0.50 to graph 1, first 0.50 nohead lc rgb "#e08000" lw 2 dt 2 front
set label 1 "0.95 target\n(RSA, EC, EdDSA)" at graph 1.01, first 0.95 left tc rgb "#c00000"
set label 2 "0.50 target\n(HMAC)" at graph 1.01, first 0.50 left tc rgb "#e08000"
plot "$tmp/rows" using 6:xtic(1) title "sign" lc rgb "#4472c4", \
     "" using 7 title "verify" lc rgb "#70ad47"

unset arrow 1
unset arrow 2
unset label 1
unset label 2
set ylabel "operations per second (log scale)"
set logscale y
set yrange [*:*]
set ytics auto
set format y "10^{%L}"
set rmargin 24
plot "$tmp/rows" using 2:xtic(1) title "libjot sign" lc rgb "#4472c4", \
     "" using 3 title "raw sign" lc rgb "#a9c4eb", \
     "" using 4 title "libjot verify" lc rgb "#70ad47", \
     "" using 5 title "raw verify" lc rgb "#c5e0b4"
unset multiplot
GP
echo "chart: $out"
