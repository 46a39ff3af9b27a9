#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Which kernels this machine has for evpoll:
#   kernels.sh vm-kver        the kernel linux-image-amd64 installs (else the
#                              newest -amd64 image with headers): the VM boots it
#   kernels.sh compat-kdirs   other Debian header trees (6.12) the module
#                              must compile against cleanly
set -eu

vm_kver() {
	# The kernel Debian's linux-image-amd64 metapackage points at first.
	dep=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
	      sed -n 's/^\(linux-image-[^ ,]*\).*/\1/p')
	v=${dep#linux-image-}
	if [ -n "$v" ] && [ -f "/boot/vmlinuz-$v" ] &&
	   [ -f "/usr/src/linux-headers-$v/include/config/kernel.release" ]; then
		echo "$v"
		return 0
	fi
	for img in $(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V -r); do
		v=${img#/boot/vmlinuz-}
		if [ -f "/usr/src/linux-headers-$v/include/config/kernel.release" ]; then
			echo "$v"
			return 0
		fi
	done
	return 1
}

case "${1:-}" in
vm-kver)
	vm_kver
	;;
compat-kdirs)
	vm=$(vm_kver || true)
	for d in $(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V); do
		[ "$d" = "/usr/src/linux-headers-$vm" ] && continue
		[ -f "$d/include/config/kernel.release" ] && echo "$d"
	done
	;;
*)
	echo "usage: $0 vm-kver|compat-kdirs" >&2
	exit 2
	;;
esac
