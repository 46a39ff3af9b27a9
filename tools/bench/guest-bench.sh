#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-bench.sh - the guest side of a benchmark run: runs inside the VM
# (tools/vm/vm-run.sh, evpoll.ko loaded), records the machine, prepares
# the limits and runs evpoll-bench with the plugin's instruction log.
#
#   guest-bench.sh OUTDIR short|full [evpoll-bench options...]
#
# Environment: BENCH_REAP_MS, if set, is written to evpoll's
# reap_interval_ms parameter first (the results must say so).
set -eu

out=$1
profile=$2
shift 2
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)
TOP=$(cd "$here/../.." && pwd -P)
bench=$TOP/build/tools/evpoll-bench
param=/sys/module/evpoll/parameters/reap_interval_ms

# Enough fds, AIO slots and memory for 65536 socketpairs.
ulimit -n 1048576 2>/dev/null || ulimit -n 262144
echo 1048576 >/proc/sys/fs/aio-max-nr
echo 1048576 >/proc/sys/fs/nr_open 2>/dev/null || true
# System calls per op (toggle, batch-add, burst) are counted on the
# raw_syscalls:sys_enter tracepoint: tracefs must be mounted.
[ -d /sys/kernel/tracing/events ] ||
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
if [ -n "${BENCH_REAP_MS:-}" ] && [ -w "$param" ]; then
	echo "$BENCH_REAP_MS" >"$param"
fi

{
	echo "kernel: $(uname -r)"
	echo "nproc: $(nproc)"
	echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "cmdline: $(cat /proc/cmdline)"
	echo "reap_interval_ms: $(cat "$param" 2>/dev/null || echo none)"
	echo "profile: $profile"
	echo "args: $*"
} >"$out/machine.txt"

case $profile in
short)
	# The default modes plus issue 12's: quiet and quiet-inst (the
	# background of an idle set, one second per run) and close.
	set -- -n 100,1000,10000 -a 1,100 -w 300 -r 3 -k 300 -t 4 -E 100 \
		-L 200 -c 8 -R 800 -T 20 \
		-m chain,idle,churn,ctl,herd,latency,echo,mem,toggle,batch-add,burst,burst-paced,quiet,quiet-inst,close \
		"$@"
	;;
full)
	set -- -n 100,1000,10000,65536 -a 1,100 -w 1000 -r 3 -k 1000 -t 4,16 \
		-E 200 -L 500 -c 16 -R 4000 -T 30 -m all "$@"
	;;
*)
	echo "guest-bench: unknown profile $profile" >&2
	exit 2
	;;
esac

case $profile in
short) et=(-n 1000,10000 -w 300 -c 8 -R 800) ;;
full) et=(-n 1000,10000,65536 -w 1000 -c 64 -R 2000) ;;
esac

ins=()
[ ! -e "$out/insn.log" ] || ins=(-i "$out/insn.log")
"$bench" "${ins[@]}" -o "$out/bench" "$@" | tee "$out/table.txt"

# The event ring's targets (issue 14) are edge-triggered ones: what the
# ring harvests without a system call (a level-triggered event takes a
# kernel entry per wait on the ring as on epoll).  The same modes again
# with EPOLLET on every backend, the echo server reading until EAGAIN.
"$bench" "${ins[@]}" -o "$out/bench-et" -g -b epoll,evpoll,evpoll-ring,uring \
	-m chain,idle,echo -a 1 -r 3 -e poller -T 20 "${et[@]}" \
	| tee "$out/table-et.txt"

# The chat servers (tools/chat, issue #16): every I/O model under the same
# load, exact delivery and the policies checked; system calls from a second
# run under strace; the host prints the table and the plot
# (tools/chat/chat-report.sh).
chat=$TOP/build/tools/evpoll-chat-load
rm -f "$out/chat.csv"
"$chat" "${ins[@]}" -S -P -m all -c 16 -n 100 -r 20 -T 600 \
	-o "$out/chat.csv" >"$out/chat-table.txt"
