#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# chat_delivery - every evpoll-chat model under evpoll-chat-load: 16
# clients x 50 lines each; every line must reach every other client
# exactly once, verbatim and in its sender's order, nothing more may
# arrive, and the server must exit 0 on SIGTERM (load.c, run_load()); then
# the policies: an over-long line disconnects its sender, a 1024-byte line
# passes, a partial line is dropped, a slow client is disconnected while
# the others get everything (load.c, policies()).
#
# Installed in build/tests/host/ (every model but evpoll and evpoll-ring,
# which need /dev/evpoll) and build/tests/guest/ (every model: there
# /dev/evpoll must exist).  One TAP test per model; each run is bounded (-T).
set -u
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)
tools=$(cd "$here/../.." && pwd -P)/tools
load=$tools/evpoll-chat-load

models="blocking nonblocking select poll epoll sigio uring linuxaio posixaio"
where=$(basename "$here")
[ "$where" = guest ] && models="$models evpoll evpoll-ring"
lines=50
# The debug kernel (KASAN, lockdep) is several times slower: fewer lines.
[ "${EVPOLL_CHECK_KERNEL:-stock}" = debug ] && lines=20

set -- $models
echo "TAP version 13"
echo "1..$#"
pass=0 fail=0 i=0
if [ ! -x "$load" ]; then
	echo "Bail out! $load missing (make tools)"
	echo "# Totals: pass:0 fail:$# xfail:0 xpass:0 skip:0 error:0"
	exit 1
fi
ulimit -n 4096 2>/dev/null || true
for m in "$@"; do
	i=$((i + 1))
	out=$(timeout -k 5 300 "$load" -q -P -m "$m" -c 16 -n "$lines" \
		-r 500 -T 120 2>&1)
	rc=$?
	echo "$out" | sed 's/^/# /'
	if [ $rc -eq 0 ]; then
		echo "ok $i chat_delivery.$m"
		pass=$((pass + 1))
	else
		echo "not ok $i chat_delivery.$m # exit status $rc"
		fail=$((fail + 1))
	fi
done
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ $fail -eq 0 ]
