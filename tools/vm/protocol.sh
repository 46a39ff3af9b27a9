# SPDX-License-Identifier: GPL-2.0
#
# protocol.sh - the VM runner's protocol, sourced (POSIX sh) by every
# script that speaks it: tools/vm/init (stage 1, busybox, a copy in the
# initramfs), tools/vm/guest-init.sh (stage 2), tools/vm/vm-run.sh (the
# host side) and tools/check.sh (which counts the statuses).
#
# The guest prints VM_START once the command is about to run (the boot
# worked: no boot retry after it), then "VM_EXIT STATUS" as its last line
# before it powers off.  Lines that start with VM_SAY are the runner's own
# messages on the console.  No exit line at all means the guest crashed or
# hung (status VM_ST_NOEXIT on the host).

VM_START='EVPOLL-VM-START'
VM_EXIT='EVPOLL-VM-EXIT:'
VM_SAY='EVPOLL-VM:'

# Exit statuses beside the command's own (which are below 90).
VM_ST_SPLAT=90		# BUG/WARNING/KASAN/lockdep/... in dmesg, or a leak
VM_ST_RMMOD=91		# rmmod failed after the command
VM_ST_INSMOD=92		# insmod failed, or no /dev/evpoll after it
VM_ST_NOEXIT=93		# no exit line: crash, hang, time limit, setup failure
