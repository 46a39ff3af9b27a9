#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench_selfcheck - evpoll-bench -S in the VM: every backend and mode on a
# tiny workload, checked for exact event counts (selfcheck() in
# tools/bench/main.c).
# On the debug kernel (EVPOLL_CHECK_KERNEL=debug) it is a skip: that run is
# for the sanitizers, and the benchmark's timing loops are not its subject.
set -u
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)
bench=$(cd "$here/../.." && pwd -P)/tools/evpoll-bench
echo "TAP version 13"
echo "1..1"
if [ "${EVPOLL_CHECK_KERNEL:-stock}" = debug ]; then
	echo "ok 1 bench_selfcheck # SKIP benchmark sanity runs on the stock kernel"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 0
fi
if [ ! -x "$bench" ]; then
	echo "not ok 1 bench_selfcheck # $bench missing (make tools)"
	echo "# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0"
	exit 1
fi
ulimit -n 65536 2>/dev/null || true
if "$bench" -S 2>&1 | sed 's/^/# /'; [ "${PIPESTATUS[0]}" -eq 0 ]; then
	echo "ok 1 bench_selfcheck"
	echo "# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0"
else
	echo "not ok 1 bench_selfcheck"
	echo "# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0"
	exit 1
fi
