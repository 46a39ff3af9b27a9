#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# proof-guest.sh - the VM half of the package proof (tools/pkg/proof.sh),
# run by vm-run.sh with no -m: the packages are installed on the host,
# whose root the guest shares, so everything here is the installed one.
#
#   proof-guest.sh SMOKE-DIR OUTDIR
#
# 1. modprobe evpoll: the module DKMS installed (depmod's
#    updates/dkms/evpoll.ko*), not a build tree's.
# 2. /dev/evpoll is a character device of mode 0666 (the module
#    registers it so; the guest's minimal init runs no udev), and a user
#    other than root can open it.
# 3. tests/run-tests.sh on SMOKE-DIR: device and library tests compiled
#    against the installed headers and libevpoll.so.0 (pkg-config),
#    evpoll-bench -S, and the Python package's tests (CPython's
#    test_selectors against EvpollSelector, asyncio echo).
# 4. rmmod evpoll.
# Results are appended to OUTDIR/summary as "LABEL PASS FAIL SKIP".
set -u
smoke=$1
out=$2
summary=$out/summary
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)
TOP=$(cd "$here/../.." && pwd -P)

# shellcheck source=result.sh
. "$here/result.sh"

ip link set lo up 2>/dev/null
ulimit -n 200000 2>/dev/null || ulimit -n 65536 2>/dev/null || true
kver=$(uname -r)

path=$(modprobe -n -v evpoll 2>/dev/null | sed -n 's/^insmod \([^ ]*\).*/\1/p')
case $path in
/lib/modules/"$kver"/updates/dkms/evpoll.ko*) ok=1 ;;
*) ok=0 ;;
esac
result pkg-modprobe-path $ok "modprobe resolves evpoll to '$path'"

ok=0
if modprobe evpoll && [ -d /sys/module/evpoll ]; then
	ok=1
fi
result pkg-modprobe $ok "modprobe evpoll (version $(cat /sys/module/evpoll/version 2>/dev/null))"

for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ -c /dev/evpoll ] && break
	sleep 0.2
done
mode=$(stat -c %a /dev/evpoll 2>/dev/null)
ok=0
[ -c /dev/evpoll ] && [ "$mode" = 666 ] && ok=1
result pkg-dev-mode $ok "/dev/evpoll is a character device, mode '$mode' (want 666)"

ok=0
setpriv --reuid=65534 --regid=65534 --clear-groups \
	/usr/bin/python3 -c 'import os; os.close(os.open("/dev/evpoll", os.O_RDWR))' &&
	ok=1
result pkg-dev-user $ok "user nobody opens /dev/evpoll"

# The tests see only what the packages installed: no PYTHONPATH, no
# EVPOLL_LIBRARY, Debian's own python3 (not a PATH shim).
env -u PYTHONPATH -u EVPOLL_LIBRARY -u LD_LIBRARY_PATH \
	"$TOP/tests/run-tests.sh" -l pkg-smoke -t 600 -o "$out/logs" \
	-s "$summary" "$smoke"

ok=0
rmmod evpoll && ok=1
result pkg-rmmod $ok "rmmod evpoll after the tests"
exit 0
