#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-run.sh - runs inside the VM (tools/vm/vm-run.sh COMMAND): prepare
# what the tests expect of a machine, then run tests/run-tests.sh.
#
#   guest-run.sh [-3 DIR32] [-u DIR] [-l LABEL] [-t SECONDS] [-o LOGDIR]
#                [-s SUMMARY] PROG|DIR...
#
# -l -t -o -s and the programs are run-tests.sh's (the main pass, as root).
# Then, in the same boot, each counted as a pass of its own in SUMMARY:
#   -3 DIR32  every program in DIR32 (the 32-bit build of the device tests,
#             tests/dev32) as pass LABEL-32, logs in LOGDIR/32/
#   -u DIR    the device tests in DIR (dev_*) but the root-only ones below,
#             as the unprivileged uid/gid 65534 (setpriv, no capabilities), as pass
#             LABEL-unpriv, logs in LOGDIR/unpriv/
# Exit status: 0 if nothing failed in any pass.
set -u
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)

# Programs that configure the module (module parameters, fault injection):
# root by design, so not part of the unprivileged pass.  What they show
# per user is asserted as root (limit_test: one count per real uid).
UNPRIV_SKIP="dev_limit_test dev_failslab_test dev_counters_test"
UNPRIV_UID=65534

label=tests limit=600 logdir='' summary='' dir32='' dirunpriv=''
while getopts "l:t:o:s:3:u:" opt; do
	case $opt in
	l) label=$OPTARG ;;
	t) limit=$OPTARG ;;
	o) logdir=$OPTARG ;;
	s) summary=$OPTARG ;;
	3) dir32=$OPTARG ;;
	u) dirunpriv=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))

# Loopback is down in a fresh guest; TCP tests use 127.0.0.1.
ip link set lo up 2>/dev/null || busybox ip link set lo up
ulimit -n 200000 2>/dev/null || ulimit -n 65536 2>/dev/null || true

# run_pass LABEL LOGSUBDIR PROG|DIR...
run_pass() {
	local l=$1 sub=$2
	shift 2
	"$here/run-tests.sh" -l "$l" -t "$limit" \
		${logdir:+-o "$logdir$sub"} ${summary:+-s "$summary"} "$@"
}

status=0
run_pass "$label" "" "$@" || status=1

if [ -n "$dir32" ]; then
	run_pass "$label-32" /32 "$dir32" || status=1
fi

if [ -n "$dirunpriv" ]; then
	# One wrapper per program, so run-tests.sh times and counts each
	# as usual; /tmp is a tmpfs of mode 1777 in the guest.
	wrap=$(mktemp -d /tmp/evpoll-unpriv.XXXXXX)
	chmod 755 "$wrap"
	for f in "$dirunpriv"/dev_*; do
		p=$(basename "$f")
		if [ ! -f "$f" ] || [ ! -x "$f" ]; then
			continue
		fi
		case " $UNPRIV_SKIP " in *" $p "*) continue ;; esac
		printf '#!/bin/sh\nexec setpriv --reuid=%s --regid=%s --clear-groups --inh-caps=-all --bounding-set=-all -- %s "$@"\n' \
			"$UNPRIV_UID" "$UNPRIV_UID" "$(readlink -f "$f")" \
			>"$wrap/$p"
		chmod 755 "$wrap/$p"
	done
	echo "# unprivileged pass: uid $UNPRIV_UID, not run: $UNPRIV_SKIP"
	run_pass "$label-unpriv" /unpriv "$wrap" || status=1
	rm -rf "$wrap"
fi
exit $status
