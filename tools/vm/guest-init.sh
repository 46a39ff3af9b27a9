#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stage 2 of the evpoll VM: runs in the guest, chrooted into the host's
# root (read-only over 9p), with the host's whole Debian userspace.
#
#   guest-init.sh JOB.sh
#
# JOB.sh (written by vm-run.sh, shell-quoted) sets RUN_ID, CWD, OUTDIR,
# MODULES (array of host paths), LEAK (0/1), INTERACTIVE (0/1) and CMD
# (array).  Order of work, and why:
#
#   VM_START line          vm-run.sh retries a boot only before this line
#   kmemleak scan + clear  (-L) forget what boot leaked
#   "evpoll-vm: begin"     into the kernel log: the splat scan starts here,
#                          so module load is covered and boot noise is not
#   insmod MODULES         (-m) failure: VM_ST_INSMOD; evpoll.ko must make /dev/evpoll
#   COMMAND                in CWD, stdin /dev/null, output to the console
#   kill its leftovers     they could hold a module busy
#   rmmod MODULES          (-m) reverse order; failure: VM_ST_RMMOD
#   kmemleak scan x2       (-L) after rmmod: what the module still had is
#                          then a real leak
#   splat scan             tools/vm/splat-patterns; any hit: VM_ST_SPLAT
#   dmesg > OUTDIR/dmesg.log
#   VM_EXIT N              the last line; vm-run.sh exits with N
#
# The lines and statuses are defined in tools/vm/protocol.sh.
#
# No "set -e": every step must run to the end so that the exit marker is
# always printed; failures are collected in $status instead.
set -u

job=$1
# shellcheck disable=SC1090
. "$job"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=protocol.sh
. "$here/protocol.sh"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 EVPOLL_VM=1 EVPOLL_VM_OUT=$OUTDIR
[ "$INTERACTIVE" = 1 ] || export TERM=dumb

marker="evpoll-vm: begin $RUN_ID"
kmemleak=/sys/kernel/debug/kmemleak

say() {
	echo "$VM_SAY $*"
}

finish() {
	dmesg >"$OUTDIR/dmesg.log" 2>/dev/null
	sync
	printf '\n%s %d\n' "$VM_EXIT" "$1"
	exit 0
}

grep -q ' /sys/kernel/debug ' /proc/mounts ||
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

# The guest's uptime here is its boot time (Documentation/testing.rst).
printf '%s (guest uptime %s s)\n' "$VM_START" "$(cut -d' ' -f1 /proc/uptime)"

if [ "$LEAK" = 1 ]; then
	if [ ! -w "$kmemleak" ]; then
		say "-L: $kmemleak missing: this kernel has no kmemleak, or it is off"
		finish $VM_ST_SPLAT
	fi
	say "kmemleak: scanning what boot left (takes a while under TCG)"
	# No automatic scans during the run: only ours, at known points.
	echo scan=off >"$kmemleak"
	echo scan >"$kmemleak"
	echo clear >"$kmemleak"
fi

# KERN_INFO: into the log, not onto the console.
echo "<6>$marker" >/dev/kmsg

# Loopback only: the demo servers and socket tests talk over 127.0.0.1.
ip link set lo up 2>/dev/null

status=0
insmod_failed=0
loaded=()
for m in ${MODULES[@]+"${MODULES[@]}"}; do
	# The name rmmod needs is the one built in, not the file's.
	name=$(modinfo -F name "$m" 2>/dev/null)
	if [ -z "$name" ]; then
		name=$(basename "$m")
		name=${name%.ko}
		name=${name//-/_}
	fi
	if ! insmod "$m"; then
		say "insmod $m failed"
		insmod_failed=1
		break
	fi
	loaded=("$name" ${loaded[@]+"${loaded[@]}"})
	if [ "$name" = evpoll ]; then
		# devtmpfs creates the node during misc_register(), but allow
		# a moment anyway before calling the load a failure.
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			[ -c /dev/evpoll ] && break
			sleep 0.2
		done
		if [ ! -c /dev/evpoll ]; then
			say "insmod $m: no /dev/evpoll"
			insmod_failed=1
			break
		fi
	fi
done

if [ $insmod_failed = 0 ]; then
	if ! cd "$CWD"; then
		say "cannot cd to $CWD"
		status=$VM_ST_NOEXIT
	elif [ "$INTERACTIVE" = 1 ]; then
		# A session with the serial port as controlling terminal, so
		# that job control and ^C work.
		setsid -c -w "${CMD[@]}" </dev/ttyS0 >/dev/ttyS0 2>&1
		status=$?
	else
		# Own process group (set -m) so that whatever COMMAND leaves
		# running can be killed before rmmod.
		set -m
		"${CMD[@]}" </dev/null &
		pid=$!
		wait $pid
		status=$?
		set +m
		kill -KILL -- -$pid 2>/dev/null && sleep 0.5
	fi
	cd /
fi

rmmod_failed=0
for name in ${loaded[@]+"${loaded[@]}"}; do
	# Files of killed processes are released asynchronously: retry a
	# busy module for a few seconds before calling it a failure.
	for try in 1 2 3 4 5 6 7 8 9 10; do
		err=$(rmmod "$name" 2>&1) && break
		[ $try = 10 ] && { say "rmmod $name failed: ${err##*$'\n'}"; rmmod_failed=1; }
		sleep 0.5
	done
done

leaked=0
if [ "$LEAK" = 1 ]; then
	# kmemleak reports an object only once it has been unreferenced for
	# a while (5 s) and seen by a scan: two scans, a few seconds apart.
	say "kmemleak: scanning"
	echo scan >"$kmemleak"
	sleep 5
	echo scan >"$kmemleak"
	cat "$kmemleak" >"$OUTDIR/kmemleak.log"
	if grep -q 'unreferenced object' "$OUTDIR/kmemleak.log"; then
		say "kmemleak: leaks found (also in $OUTDIR/kmemleak.log):"
		cat "$OUTDIR/kmemleak.log"
		leaked=1
	else
		say "kmemleak: no leaks"
	fi
fi

# The splat scan: the kernel log after our marker (all of it, with a
# warning, if the ring buffer lost the marker).
log=$(dmesg 2>/dev/null)
after=$(printf '%s\n' "$log" | awk -v m="$marker" 'f; index($0, m) { f = 1 }')
if ! printf '%s\n' "$log" | grep -qF "$marker"; then
	say "dmesg: marker lost (ring buffer wrapped?): scanning all of it"
	after=$log
fi
hits=$(printf '%s\n' "$after" |
       grep -F -f <(grep -v -e '^#' -e '^$' "$here/splat-patterns"))
if [ -n "$hits" ]; then
	say "dmesg: kernel reported problems:"
	printf '%s\n' "$hits" | sed "s/^/$VM_SAY dmesg: /"
fi

if [ $insmod_failed = 1 ]; then
	finish $VM_ST_INSMOD
elif [ -n "$hits" ] || [ $leaked = 1 ]; then
	finish $VM_ST_SPLAT
elif [ $rmmod_failed = 1 ]; then
	finish $VM_ST_RMMOD
fi
finish $status
