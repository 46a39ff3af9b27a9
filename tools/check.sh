#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - what `make check` runs: build everything with warnings as
# errors, run the host tests, boot the VM and run the guest tests, then add
# everything up into one line "N passed, N failed, N skipped".
#
# A step that cannot run (a build that fails, a VM that never boots, a
# kernel splat in the guest's dmesg, a module that will not unload) counts
# as a failure: nothing is skipped silently.
set -u

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)
TOP=$(cd "$here/.." && pwd -P)
cd "$TOP"
# shellcheck source=vm/protocol.sh
. tools/vm/protocol.sh

MAKE=${MAKE:-make}
out=$TOP/build/check
summary=$out/summary
rm -rf "$out"
mkdir -p "$out"
: >"$summary"
t_start=$(date +%s)

step() { printf '\n### %s\n' "$*"; }
fail_step() {		# LABEL REASON: one failure, counted
	echo "check: $1: FAILED: $2"
	echo "$1 0 1 0" >>"$summary"
}
pass_step() {
	echo "$1 1 0 0" >>"$summary"
}

vm_kver=$(tools/vm/kernels.sh vm-kver) || vm_kver=
step "build: module for the VM kernel ($vm_kver) and every other installed header tree"
if [ -n "$vm_kver" ] &&
   $MAKE -s module KDIR="/usr/src/linux-headers-$vm_kver"; then
	pass_step "build-module-$vm_kver"
else
	fail_step "build-module" "module build for '$vm_kver' (W=1, -Werror)"
fi
for kdir in $(tools/vm/kernels.sh compat-kdirs); do
	rel=$(basename "$kdir" | sed 's/^linux-headers-//')
	if $MAKE -s module KDIR="$kdir"; then
		pass_step "build-module-$rel"
	else
		fail_step "build-module-$rel" "module build against $kdir"
	fi
done

step "build: library, tests, tools (-Werror)"
if $MAKE -s lib tests tools; then
	pass_step "build-userspace"
else
	fail_step "build-userspace" "make lib tests tools"
fi

step "host tests"
if [ -d build/tests/host ]; then
	tests/run-tests.sh -l host -t 600 -o "$out/host" -s "$summary" \
		build/tests/host || true
else
	fail_step host "no host tests were built"
fi

step "other architectures: i386 build and host tests, arm64 compile"
tools/arch-build.sh -s "$summary" || true

# run_vm LABEL STRICT KO VM-RUN-ARGS...: the guest suite in one boot,
# counted, then (tests/guest-run.sh) the device tests again as 32-bit
# programs (LABEL-32) and as an unprivileged uid (LABEL-unpriv).  STRICT=0
# relaxes the timing-bound kernel epoll selftests
# (tests/ksft-epoll/ksft_epoll.sh) on the slow debug kernel.
run_vm() {
	local label=$1 strict=$2 ko=$3 vmout=$TOP/build/vm/check-$1 rc
	shift 3
	rm -rf "$vmout"
	mkdir -p "$vmout"
	if [ ! -f "$ko" ]; then
		fail_step "$label" "no module built ($ko)"
		return
	fi
	if [ ! -d build/tests/guest ]; then
		fail_step "$label" "no guest tests were built"
		return
	fi
	# The unprivileged pass checks permissions, which the debug options
	# do not change: it runs on the stock kernels only (about 5 minutes
	# of the debug run, where KASAN makes every test slower).
	local unpriv=()
	[ "$strict" = 1 ] && unpriv=(-u build/tests/guest)
	tools/vm/vm-run.sh "$@" -m "$ko" -o "$vmout" -t 2400 -- \
		env KSFT_EPOLL_LOGS="$vmout/ksft-epoll" KSFT_EPOLL_STRICT="$strict" \
		EVPOLL_CHECK_KERNEL="$([ "$strict" = 1 ] && echo stock || echo debug)" \
		tests/guest-run.sh -l "$label" -t 900 -o "$vmout/logs" \
		-s "$vmout/summary" -3 build/tests/guest32 \
		${unpriv[@]+"${unpriv[@]}"} build/tests/guest
	rc=$?
	[ -f "$vmout/summary" ] && cat "$vmout/summary" >>"$summary"
	case $rc in
	0|1)	# the tests themselves are counted above
		pass_step "$label-kernel-log-clean"	# dmesg scan (+kmemleak, -L)
		pass_step "$label-rmmod" ;;
	"$VM_ST_SPLAT") fail_step "$label-dmesg" "kernel splat or leak in the guest (see $vmout/dmesg.log)" ;;
	"$VM_ST_RMMOD") fail_step "$label-rmmod" "rmmod evpoll failed after the tests" ;;
	"$VM_ST_INSMOD") fail_step "$label-insmod" "insmod evpoll failed" ;;
	*) fail_step "$label" "the VM run ended with status $rc (see $vmout/console.log)" ;;
	esac
}

step "VM tests on the stock kernel $vm_kver"
run_vm vm-stock 1 "build/mod/$vm_kver/kmod/evpoll.ko" -k "$vm_kver"

# ---- The stock suite on every other bootable Debian kernel (6.12) ----
# Issue 15: 6.12 is a first-class target.  The module was built against
# its headers above (build-module-REL); each kernel is its own summary
# label (vm-6.12), so a failure says which kernel it is on.
run_vm_compat_kernels() {
	local kdir rel label
	for kdir in $(tools/vm/kernels.sh compat-kdirs); do
		rel=$(basename "$kdir" | sed 's/^linux-headers-//')
		[ -f "/boot/vmlinuz-$rel" ] || continue
		label=vm-$(echo "$rel" | cut -d. -f1,2)
		step "VM tests on the stock kernel $rel"
		run_vm "$label" 1 "build/mod/$rel/kmod/evpoll.ko" -k "$rel"
	done
}
run_vm_compat_kernels

step "VM tests on the debug kernel (KASAN, lockdep, kmemleak, failslab)"
if kit=$(tools/vm/debug-kernel.sh kit); then
	image=$(echo "$kit" | sed -n 's/^IMAGE=//p')
	kdir=$(echo "$kit" | sed -n 's/^KDIR=//p')
	dbg_rel=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"/\1/p' \
		"$kdir/include/generated/utsrelease.h")
	if $MAKE -s module KDIR="$kdir"; then
		pass_step "build-module-$dbg_rel"
		run_vm vm-debug 0 "build/mod/$dbg_rel/kmod/evpoll.ko" -K "$image" -L
	else
		fail_step "build-module-$dbg_rel" "module build against $kdir"
	fi
else
	# Not silent: the summary shows the debug run did not happen.
	echo "check: no debug kernel kit: the debug-kernel run is skipped"
	echo "vm-debug 0 0 1" >>"$summary"
fi

# ---- The package proof (issue 15, tools/pkg/proof.sh) ----
# make deb, install the five packages on this machine (CI is a throwaway
# root machine), DKMS builds the module for the VM's kernel, the VM
# modprobes it and runs smoke tests against the installed library and the
# Python package's tests, then apt-get purge and look for leftovers.  Not
# as a user other than root: it would need to install packages.
package_proof() {
	step "package proof: make deb, install, DKMS, modprobe in the VM, purge"
	if [ "$(id -u)" != 0 ]; then
		echo "check: not root: the package proof (it installs packages) is skipped"
		echo "pkg-proof 0 0 1" >>"$summary"
		return
	fi
	tools/pkg/proof.sh -k "$vm_kver" -s "$summary" -o "$TOP/build/pkg" ||
		echo "check: the package proof failed (build/pkg/)"
}
package_proof

step "summary"
cat "$summary" | awk '{ printf "  %-34s %4d passed %4d failed %4d skipped\n", $1, $2, $3, $4 }'
read -r pass fail skip < <(awk '{ p += $2; f += $3; s += $4 } END { print p + 0, f + 0, s + 0 }' "$summary")
echo "check took $(( $(date +%s) - t_start )) s"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
