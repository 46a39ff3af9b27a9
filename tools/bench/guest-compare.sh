#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-compare.sh - in the VM: the same evpoll-bench run against several
# builds of evpoll.ko, one after the other in one boot, so that the
# before/after of a change is measured on the same kernel and machine.
#
#   guest-compare.sh OUTDIR LABEL=MODULE.ko... -- [evpoll-bench options]
#
# vm-run.sh loads the first module; each LABEL's run replaces it (rmmod,
# insmod) and writes OUTDIR/LABEL-{raw,summary}.csv and OUTDIR/LABEL.txt.
# The last module stays loaded for vm-run.sh's rmmod.  Host side:
#   tools/vm/vm-run.sh -m A.ko -o OUT -p build/tools/evpoll-insn.so,log=OUT/insn.log \
#       -a "idle=halt slab_nomerge" -- tools/bench/guest-compare.sh OUT a=A.ko b=B.ko -- ...
set -eu

out=$1
shift
mods=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	mods+=("$1")
	shift
done
[ $# -eq 0 ] || shift
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)
TOP=$(cd "$here/../.." && pwd -P)
bench=$TOP/build/tools/evpoll-bench

ulimit -n 1048576 2>/dev/null || ulimit -n 262144
echo 1048576 >/proc/sys/fs/nr_open 2>/dev/null || true
{
	echo "kernel: $(uname -r)"
	echo "nproc: $(nproc)"
	echo "cmdline: $(cat /proc/cmdline)"
	echo "args: $*"
} >"$out/machine.txt"
ins=()
[ ! -e "$out/insn.log" ] || ins=(-i "$out/insn.log")
status=0
for m in "${mods[@]}"; do
	label=${m%%=*}
	ko=${m#*=}
	rmmod evpoll
	insmod "$ko"
	udevadm settle 2>/dev/null || sleep 1
	echo "== $label ($ko)"
	"$bench" "${ins[@]}" -o "$out/$label" "$@" >"$out/$label.txt" ||
		status=$?
	cat "$out/$label.txt"
done
exit "$status"
