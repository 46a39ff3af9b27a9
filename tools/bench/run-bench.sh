#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-bench.sh - build, boot the VM with evpoll.ko and the instruction
# counting plugin, run evpoll-bench across every backend, then print the
# table and the targets and write CSV and PNG plots.
#
#   run-bench.sh [-s short|full] [-o OUTDIR] [-R REAP_MS] [-- BENCH-ARGS]
#
# OUTDIR (default build/results/<profile>) gets table.txt (table-et.txt:
# the edge-triggered run of chain, idle and echo), machine.txt,
# bench-raw.csv, bench-summary.csv, insn.log, targets.txt and plots/*.png.
# The kernel gets idle=halt (an idle vCPU that polls adds instructions)
# and slab_nomerge (so that /proc/slabinfo names epoll's and evpoll's
# caches); vm-run.sh already passes tsc=reliable.
set -eu

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)
TOP=$(cd "$here/../.." && pwd -P)
cd "$TOP"
MAKE=${MAKE:-make}

profile=short
out=
reap=
while getopts "s:o:R:h" opt; do
	case $opt in
	s) profile=$OPTARG ;;
	o) out=$OPTARG ;;
	R) reap=$OPTARG ;;
	*) sed -n '4,14p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
out=${out:-$TOP/build/results/$profile}

kver=$(tools/vm/kernels.sh vm-kver)
$MAKE -s module KDIR="/usr/src/linux-headers-$kver"
$MAKE -s tools
mkdir -p "$out"
out=$(cd "$out" && pwd -P)
rm -f "$out"/bench-*.csv "$out/table.txt" "$out/table-et.txt" \
	"$out/targets.txt"
rm -rf "$out/plots"
: >"$out/insn.log"
{
	echo "host cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "host nproc: $(nproc)"
	echo "qemu: $(qemu-system-x86_64 --version | head -n 1)"
	echo "qemu mode: TCG, -accel tcg,thread=multi -cpu max -smp 2 -m 2048"
} >"$out/host.txt"

echo "bench: booting Debian's $kver under QEMU TCG with evpoll.ko and" \
     "the instruction counter; profile $profile, results in $out"
status=0
BENCH_REAP_MS=$reap tools/vm/vm-run.sh -k "$kver" \
	-m "build/mod/$kver/kmod/evpoll.ko" -o "$out" -t 3600 \
	-p "$TOP/build/tools/evpoll-insn.so,log=$out/insn.log" \
	-a "idle=halt slab_nomerge" \
	-- env BENCH_REAP_MS="$reap" tools/bench/guest-bench.sh "$out" \
	"$profile" "$@" >"$out/console.txt" 2>&1 || status=$?
if [ ! -s "$out/bench-summary.csv" ]; then
	tail -n 40 "$out/console.txt" >&2
	echo "bench: no results (status $status)" >&2
	exit 1
fi
cat "$out/table.txt"
echo
if [ -s "$out/table-et.txt" ]; then
	echo "edge-triggered (-g), for the event ring's targets:"
	cat "$out/table-et.txt"
	echo
fi
python3 tools/bench/report.py "$out"
echo "bench: results in $out (table.txt, bench-summary.csv, plots/)"
[ "$status" = 0 ] || echo "bench: the VM run exited with status $status" >&2
exit "$status"
