#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - what `make run` does: build the module for the VM's kernel and
# the tools, boot the VM with evpoll.ko loaded and the instruction-counting
# QEMU plugin, run a short version of evpoll-bench across every backend,
# print the table and write CSV and PNG plots to build/results/short/
# (tools/bench/run-bench.sh; RUN_PROFILE=full for the full matrix); then
# the chat servers' five-model table and plot (tools/chat/chat-report.sh,
# measured in the same VM run).
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
exit "$status"
