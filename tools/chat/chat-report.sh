#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# chat-report.sh - the end of `make run`: the chat servers' table (one
# row per model, grouped by the five I/O models, as evpoll-chat-load
# printed it in the VM), a five-row summary by family, and the plot
# OUTDIR/plots/chat.png (one bar group per family, coloured by family).
#
#   chat-report.sh OUTDIR        reads OUTDIR/chat.csv, chat-table.txt
set -eu

out=$1
csv=$out/chat.csv
if [ ! -s "$csv" ]; then
	echo "chat: no results ($csv missing)" >&2
	exit 1
fi
echo "chat: one server per I/O model under the same load (evpoll-chat-load," \
     "in the VM; per delivered line)"
cat "$out/chat-table.txt"
echo

families="blocking nonblocking multiplexed signal-driven asynchronous"
# The five-model summary: per family, its models and the range of each.
awk -F, -v fams="$families" '
function upd(k, v) {
	if (v == "-" || v == "") return
	if (!(k in lo) || v + 0 < lo[k]) lo[k] = v + 0
	if (!(k in hi) || v + 0 > hi[k]) hi[k] = v + 0
}
function rng(k, fmt) {
	if (!(k in lo)) return "-"
	if (lo[k] == hi[k]) return sprintf(fmt, lo[k])
	return sprintf(fmt "-" fmt, lo[k], hi[k])
}
NR > 1 {
	f = $2; m[f] = m[f] (m[f] ? " " : "") $1
	upd(f SUBSEP "p50", $9); upd(f SUBSEP "cpu", $12)
	upd(f SUBSEP "csw", $13); upd(f SUBSEP "sys", $14)
	upd(f SUBSEP "thr", $15); upd(f SUBSEP "insn", $17)
	if ($18 != "exact") bad[f] = 1
}
END {
	printf "%-14s %-30s %11s %11s %11s %11s %7s %13s %s\n", "I/O model",
	       "servers", "p50 us", "cpu us/ln", "csw/ln", "sys/ln", "threads",
	       "insn/ln", "delivery"
	n = split(fams, F, " ")
	for (i = 1; i <= n; i++) {
		f = F[i]
		if (!(f in m)) continue
		printf "%-14s %-30s %11s %11s %11s %11s %7s %13s %s\n", f, m[f],
		       rng(f SUBSEP "p50", "%.0f"), rng(f SUBSEP "cpu", "%.1f"),
		       rng(f SUBSEP "csw", "%.2f"), rng(f SUBSEP "sys", "%.1f"),
		       rng(f SUBSEP "thr", "%d"), rng(f SUBSEP "insn", "%.0f"),
		       (f in bad) ? "FAILED" : "exact"
	}
}' "$csv" | tee "$out/chat-summary.txt"

command -v gnuplot >/dev/null || { echo "chat: no gnuplot, no plot"; exit 0; }
mkdir -p "$out/plots" "$out/plots/data"
dat=$out/plots/data/chat.dat
# x position (a gap between families), family index, model, then the
# plotted columns: p50, cpu/line, syscalls/line, insn/line ("-" = none).
awk -F, -v fams="$families" '
BEGIN { n = split(fams, F, " "); for (i = 1; i <= n; i++) idx[F[i]] = i }
NR > 1 { fam[NR] = $2; row[NR] = $0; last = NR }
END {
	x = 0
	for (i = 1; i <= n; i++) {
		for (r = 2; r <= last; r++) {
			if (fam[r] != F[i]) continue
			split(row[r], c, ",")
			printf "%d %d %s %s %s %s %s\n", x++, i, c[1], c[9], c[12],
			       c[14], c[17]
		}
		x++
	}
}' "$csv" >"$dat"

# A panel with no numbers (no plugin, no strace) says so instead.
panel() {		# COLUMN TITLE
	if awk -v c="$1" '$c != "-" { found = 1 } END { exit !found }' "$dat"; then
		echo "set title '$2'"
		echo "plot '$dat' using 1:$1:2:xtic(3) with boxes lc variable notitle"
	else
		echo "set title '$2'"
		echo "set label 1 'not measured in this run' at graph 0.5,0.5 center"
		echo "set xrange [0:1]; set yrange [0:1]; unset xtics"
		echo "plot NaN notitle"
		echo "unset label 1; set autoscale x; set yrange [0:*]; set xtics"
	fi
}

term=png
gnuplot -e 'set terminal' 2>&1 | grep -q pngcairo && term=pngcairo
gnuplot <<EOG
set terminal $term size 1200,860 font ',9'
set output '$out/plots/chat.png'
set datafile missing '-'
set style fill solid 0.85 border -1
set boxwidth 0.8
set grid ytics
set xtics rotate by -40 nomirror
set key horizontal maxrows 1 center at screen 0.5,0.955
set yrange [0:*]
set linetype 1 lc rgb '#c0392b'
set linetype 2 lc rgb '#e67e22'
set linetype 3 lc rgb '#2980b9'
set linetype 4 lc rgb '#8e44ad'
set linetype 5 lc rgb '#27ae60'
set multiplot layout 2,2 \\
	title "evpoll-chat: one server per I/O model, the same load (colour: family)" \\
	margins 0.06,0.98,0.1,0.9 spacing 0.07,0.15
fams = "$families"
legend = "for [i=1:5] NaN with boxes lt i title word(fams, i)"
set title 'delivery latency p50 (us, log scale)'
set logscale y
set yrange [*:*]
plot '$dat' using 1:4:2:xtic(3) with boxes lc variable notitle, @legend
unset logscale y
set yrange [0:*]
set title 'server CPU per delivered line (us)'
plot '$dat' using 1:5:2:xtic(3) with boxes lc variable notitle
$(panel 6 'server system calls per delivered line (strace -f -c)')
$(panel 7 'guest instructions per delivered line (all vCPUs)')
unset multiplot
EOG
echo "chat: plot in $out/plots/chat.png"
