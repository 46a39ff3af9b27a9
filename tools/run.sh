#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - what `make run` does: build the module for the VM's kernel and
# the tools, boot the VM with evpoll.ko loaded and the instruction-counting
# QEMU plugin, run a short version of evpoll-bench across every backend,
# print the table and write CSV and PNG plots to build/results/short/
# (tools/bench/run-bench.sh; RUN_PROFILE=full for the full matrix); then
# the chat servers' five-model table and plot (tools/chat/chat-report.sh,
# measured in the same VM run); and last an asyncio echo server on
# evpoll.EvpollSelector (python3 -m evpoll.echo).
set -eu

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)
TOP=$(cd "$here/.." && pwd -P)
cd "$TOP"
profile=${RUN_PROFILE:-short}
status=0
tools/bench/run-bench.sh -s "$profile" -o "$TOP/build/results/$profile" ||
	status=$?
echo
tools/chat/chat-report.sh "$TOP/build/results/$profile" ||
	{ [ "$status" != 0 ] || status=1; }

# Last stage: asyncio on /dev/evpoll without LD_PRELOAD (issue 15): an
# echo server and its clients in one asyncio.SelectorEventLoop on
# evpoll.EvpollSelector (python/evpoll, through build/lib's libevpoll).
kver=$(tools/vm/kernels.sh vm-kver)
aout=$TOP/build/results/asyncio
mkdir -p "$aout"
echo "run: asyncio echo server on evpoll.EvpollSelector in the VM ($kver)"
tools/vm/vm-run.sh -k "$kver" -m "build/mod/$kver/kmod/evpoll.ko" -o "$aout" \
	-t 900 -- env PYTHONPATH="$TOP/python" \
	EVPOLL_LIBRARY="$TOP/build/lib/libevpoll.so.0" \
	/usr/bin/python3 -m evpoll.echo 100 20 >"$aout/console.txt" 2>&1 ||
	status=$?
grep -a '^evpoll.echo:' "$aout/console.txt" ||
	{ tail -n 20 "$aout/console.txt"; echo "run: no result from evpoll.echo" >&2; }
exit "$status"
