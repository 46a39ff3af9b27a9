#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - what `make run` does: build the module for the VM's kernel and
# the tools, boot the VM, load the module and run the demonstration:
# thousands of sockets and pipes watched through /dev/evpoll and through
# epoll side by side, with what each saw printed round by round.
set -eu

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)
TOP=$(cd "$here/.." && pwd -P)
cd "$TOP"
MAKE=${MAKE:-make}

kver=$(tools/vm/kernels.sh vm-kver)
$MAKE -s module KDIR="/usr/src/linux-headers-$kver"
$MAKE -s tools
out=$TOP/build/vm/run
mkdir -p "$out"
echo "run: booting Debian's $kver under QEMU with evpoll.ko loaded"
exec tools/vm/vm-run.sh -k "$kver" -m "build/mod/$kver/kmod/evpoll.ko" \
	-o "$out" -- build/tools/evpoll-demo -n "${DEMO_FDS:-4000}" \
	-r "${DEMO_ROUNDS:-12}"
