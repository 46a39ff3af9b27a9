#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh - install what evpoll's build, tests and VM need, once.
# Idempotent: when every package is there it prints nothing and takes
# about a second.  Otherwise: apt-get update (once), then install the
# missing ones.  Called by make deps / check / run.
set -eu

pkgs="build-essential qemu-system-x86 linux-image-amd64 linux-headers-amd64
busybox-static cpio liburing-dev libaio-dev linux-source-6.1 xz-utils kmod
gnuplot-nox python3 procps iproute2 util-linux strace"

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done

# The module must also build against Debian's 6.12 headers: the newest
# linux-headers-6.12.*+deb12-amd64 (it pulls its kernel image, harmless).
have612=$(dpkg-query -W -f='${Package} ${Status}\n' 'linux-headers-6.12.*-amd64' 2>/dev/null |
	  grep -c 'ok installed' || true)

[ -z "$missing" ] && [ "$have612" -gt 0 ] && exit 0

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || {
		echo "deps: need root (or sudo) to install:$missing" >&2
		exit 1
	}
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
echo "deps: apt-get update"
$SUDO apt-get update -qq
if [ "$have612" -eq 0 ]; then
	h612=$(apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
	       awk '{ print $1 }' | sort -V | tail -n 1)
	if [ -n "$h612" ]; then
		missing="$missing $h612"
	else
		echo "deps: warning: no linux-headers-6.12 package found: 6.12 build check skipped" >&2
	fi
fi
echo "deps: installing$missing"
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done"
