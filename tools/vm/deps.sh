#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh - install what building and testing evpoll needs on Debian 12.
#
#   deps.sh [-n]      -n: only report what is missing (exit 1 if anything)
#
# Called by `make deps`, `make check` and `make run` on every invocation,
# so the common case (everything there) is a few dpkg-query calls and no
# output.  Otherwise: one `apt-get update`, one `apt-get install` of what
# is missing, as root (or through sudo).
set -eu

here=$(cd "$(dirname "$0")" && pwd -P)

# What each package is for:
#   qemu-system-x86 linux-image-amd64 busybox-static cpio kmod xz-utils
#	boot Debian's kernel under QEMU with a busybox initramfs (vm-run.sh)
#   linux-headers-amd64 build-essential
#	build evpoll.ko against the VM's kernel (pulls linux-kbuild-6.1 and
#	the kernel's compiler), the library and the tests (cc, make)
#   linux-source-6.1	kselftest_harness.h and kselftest.h for the tests
#   liburing-dev libaio-dev	the io_uring and Linux AIO backends
#   gnuplot-nox python3	benchmark report and plots
#   procps iproute2 util-linux strace	ps/sysctl, ip (loopback),
#	flock/setsid, setpriv (the unprivileged pass), tracing a test by hand
#   gcc-multilib	gcc -m32: the 32-bit (i386) build of the device tests,
#	run in the VM through the module's compat_ioctl
#   linux-headers-6.12.*+deb12-amd64	the module must compile on 6.12 too
#	(the newest one found; it pulls the 6.12 image, which the VM can boot)
pkgs="qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static
cpio kmod xz-utils build-essential linux-source-6.1 liburing-dev libaio-dev
gnuplot-nox python3 procps iproute2 util-linux strace gcc-multilib"

check_only=0
[ "${1:-}" = -n ] && check_only=1

# Installed means dpkg's status (2nd letter of Status-Abbrev) is 'i'.
# Unknown package names make dpkg-query fail: they count as missing.
installed() {
	dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null |
		awk 'substr($2, 2, 1) == "i" { print $1 }'
}

missing_pkgs() {
	# shellcheck disable=SC2086
	have=$(installed $pkgs || true)
	for p in $pkgs; do
		echo "$have" | grep -qx "$p" || echo "$p"
	done
}

have_612() {
	[ -n "$(installed 'linux-headers-6.12.*+deb12-amd64' || true)" ]
}

# The newest 6.12 header package the archive offers (empty if none).
newest_612() {
	apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' \
		2>/dev/null | cut -d' ' -f1 | sort -V | tail -n 1
}

missing=$(missing_pkgs | tr '\n' ' ')
need612=0
have_612 || need612=1
# A 6.12 that the archive did not have last time is not looked for again
# (that would mean an apt-get update on every make check): make clean
# forgets it.
no612_stamp=$here/../../build/vm/deps-no-6.12
[ $need612 = 1 ] && [ -f "$no612_stamp" ] && need612=0

if [ -z "$missing" ] && [ $need612 = 0 ]; then
	exit 0
fi

if [ $check_only = 1 ]; then
	[ -z "$missing" ] || echo "deps: missing: $missing"
	[ $need612 = 0 ] || echo "deps: missing: linux-headers-6.12.*+deb12-amd64"
	exit 1
fi

if [ "$(id -u)" = 0 ]; then
	sudo=
elif command -v sudo >/dev/null 2>&1; then
	sudo=sudo
else
	echo "deps: missing packages: $missing" >&2
	echo "deps: not root and no sudo: install them as root, or run" \
	     "'make deps' as root" >&2
	exit 1
fi

apt() {
	# Wait for another apt/dpkg (unattended-upgrades) instead of failing.
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get -q \
		-o DPkg::Lock::Timeout=600 "$@"
}

if [ $need612 = 1 ]; then
	echo "deps: installing ${missing}linux-headers-6.12"
else
	echo "deps: installing $missing"
fi
apt update >/dev/null || { echo "deps: apt-get update failed" >&2; exit 1; }

extra=
if [ $need612 = 1 ]; then
	extra=$(newest_612)
	if [ -z "$extra" ]; then
		echo "deps: warning: no linux-headers-6.12.*+deb12-amd64 in the" \
		     "archive: the module will not be compile-checked on 6.12" >&2
		{ mkdir -p "$(dirname "$no612_stamp")" && : >"$no612_stamp"; } ||
			true
	fi
fi

# shellcheck disable=SC2086
apt install -y --no-install-recommends $missing $extra

# The VM boots the kernel linux-image-amd64 points at, with the headers of
# the same release: if an older image was installed before, both
# metapackages must move to the same version.
if ! "$here/kernels.sh" vm-kver >/dev/null 2>&1; then
	apt install -y --no-install-recommends linux-image-amd64 \
		linux-headers-amd64
	"$here/kernels.sh" vm-kver >/dev/null 2>&1 || {
		echo "deps: no kernel image with matching headers installed" >&2
		exit 1
	}
fi
echo "deps: done (VM kernel $("$here/kernels.sh" vm-kver))"
