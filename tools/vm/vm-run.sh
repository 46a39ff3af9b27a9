#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vm-run.sh - boot a kernel under QEMU (TCG) and run one command in it, in
# the host's own userspace (the host root, read-only over virtio-9p).
#
# The host kernel cannot load modules, so this is how evpoll.ko is tested.
# See Documentation/testing.rst for the stages, markers and exit statuses.
set -eu

usage() {
	cat >&2 <<'EOF'
usage: vm-run.sh [options] [--] COMMAND [ARGS...]
  -k KVER       boot /boot/vmlinuz-KVER with 9p/virtio modules from
                /lib/modules/KVER (default: tools/vm/kernels.sh vm-kver)
  -K IMAGE      boot this bzImage (may be .xz) with 9p and virtio built in
  -m MODULE.ko  insmod before COMMAND, rmmod after it (repeatable)
  -o OUTDIR     read-write share, same path in the guest
                (default: $TOP/build/vm/out)
  -t SECONDS    time limit of the QEMU runs, boot retries included (1800)
  -b SECONDS    time limit of one boot, up to COMMAND's start (300)
  -r N          boot retries when the guest never started COMMAND (2)
  -a "ARGS"     extra kernel command-line arguments
  -p PLUGINARG  extra "-plugin PLUGINARG" for QEMU (repeatable)
  -L            leak check with kmemleak (a kernel that has it: -K)
  -i            interactive: COMMAND gets the serial console as its tty
exit status: COMMAND's, or 90 kernel splat or leak, 91 rmmod failed,
  92 insmod failed, 93 no exit marker (crash, hang, time limit, setup):
  tools/vm/protocol.sh
EOF
	exit 2
}

die() {
	echo "vm-run: $*" >&2
	exit 2
}

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)
TOP=$(cd "$here/../.." && pwd -P)
build=$TOP/build/vm
# shellcheck source=protocol.sh
. "$here/protocol.sh"

kver=
image=
modules=()
outdir=
limit=1800
boot_limit=300
retries=2
extra=
plugins=()
leak=0
interactive=0
while getopts "k:K:m:o:t:b:r:a:p:Lih" opt; do
	case $opt in
	k) kver=$OPTARG ;;
	K) image=$OPTARG ;;
	m) modules+=("$OPTARG") ;;
	o) outdir=$OPTARG ;;
	t) limit=$OPTARG ;;
	b) boot_limit=$OPTARG ;;
	r) retries=$OPTARG ;;
	a) extra="$extra $OPTARG" ;;
	p) plugins+=("$OPTARG") ;;
	L) leak=1 ;;
	i) interactive=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || usage
for n in "$limit" "$boot_limit" "$retries"; do
	case $n in ''|*[!0-9]*) die "not a number: $n" ;; esac
done
[ -z "$kver" ] || [ -z "$image" ] || die "-k and -K exclude each other"
command -v qemu-system-x86_64 >/dev/null || die "no QEMU: run make deps"

mkdir -p "$build"

# The kernel release a bzImage was built as: the setup header points at
# its version string (offset 0x20e, relative to 0x200).
bzimage_release() {
	local off
	off=$(od -An -tu2 -j $((0x20e)) -N2 "$1" 2>/dev/null) || return 0
	off=$((off + 0x200))
	dd if="$1" bs=1 skip=$off count=128 2>/dev/null | tr '\0' '\n' |
		head -n 1 | cut -d' ' -f1
}

if [ -n "$image" ]; then
	[ -f "$image" ] || die "$image: no such kernel image"
	image=$(readlink -f "$image")
	case $image in
	*.xz)
		# Decompressed once into build/vm/, named after the kit's
		# directory (the kit's files are all called bzImage.xz).
		kernel=$build/$(basename "$(dirname "$image")")-$(basename "${image%.xz}")
		if [ ! -f "$kernel" ] || [ "$image" -nt "$kernel" ]; then
			echo "  XZ      $(basename "$kernel")"
			xz -dc "$image" >"$kernel.tmp.$$"
			mv -f "$kernel.tmp.$$" "$kernel"
		fi
		;;
	*)	kernel=$image ;;
	esac
	release=$(bzimage_release "$kernel")
	initrd=$build/initramfs-nomod.cpio
	"$here/mkinitramfs.sh" -o "$initrd"
else
	if [ -z "$kver" ]; then
		kver=$("$here/kernels.sh" vm-kver) ||
			die "no bootable kernel with headers: run make deps"
	fi
	kernel=/boot/vmlinuz-$kver
	[ -r "$kernel" ] || die "$kernel missing or unreadable"
	release=$kver
	if [ $leak = 1 ] && ! grep -qs '^CONFIG_DEBUG_KMEMLEAK=y' "/boot/config-$kver"; then
		die "-L: $kver has no kmemleak: boot the debug kit (-K)"
	fi
	initrd=$build/initramfs-$kver.cpio
	"$here/mkinitramfs.sh" -k "$kver" -o "$initrd"
fi

# A module built for another kernel cannot load: say so without booting.
for i in "${!modules[@]}"; do
	m=${modules[$i]}
	[ -f "$m" ] || die "$m: no such module"
	m=$(readlink -f "$m")
	modules[i]=$m
	vm=$(modinfo -F vermagic "$m" 2>/dev/null | cut -d' ' -f1) || true
	if [ -n "$release" ] && [ -n "$vm" ] && [ "$vm" != "$release" ]; then
		echo "vm-run: $m is built for $vm, the VM boots $release" >&2
		exit $VM_ST_INSMOD
	fi
done

outdir=${outdir:-$build/out}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd -P)
cwd=$(pwd -P)
case "$outdir$cwd$TOP" in *$'\n'*) die "newline in a path" ;; esac

# The job, read by the guest over the read-only root share: stage 1 reads
# the plain files (busybox sh), stage 2 sources job.sh (bash, %q quoting).
jobdir=$(mktemp -d /tmp/evpoll-vm.XXXXXX)
tpid=
reader=
# shellcheck disable=SC2317  # (called through trap)
cleanup() {
	set +e
	[ -z "$tpid" ] || kill -TERM "$tpid" 2>/dev/null
	[ -z "$reader" ] || wait "$reader" 2>/dev/null
	rm -rf "$jobdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
# The guest reads $jobdir/guest only; the console FIFO stays outside it
# (a guest reading a host FIFO over 9p would block).
guestjob=$jobdir/guest
mkdir -m 755 "$guestjob"
chmod 755 "$jobdir"
echo "$TOP" >"$guestjob/top"
echo "$outdir" >"$guestjob/outdir"
# Host paths the guest needs that its tmpfs mounts (/tmp, /run, ...)
# would hide, shortest first so that a parent is bound before its child.
{
	echo "$TOP"
	echo "$cwd"
	for m in ${modules[@]+"${modules[@]}"}; do dirname "$m"; done
} | awk '{ print length($0) " " $0 }' | sort -n -u | cut -d' ' -f2- \
	>"$guestjob/binds"
run_id=$(basename "$jobdir").$$
{
	printf 'RUN_ID=%q\n' "$run_id"
	printf 'CWD=%q\n' "$cwd"
	printf 'OUTDIR=%q\n' "$outdir"
	printf 'LEAK=%q\n' "$leak"
	printf 'INTERACTIVE=%q\n' "$interactive"
	printf 'MODULES=('
	[ ${#modules[@]} -eq 0 ] || printf ' %q' "${modules[@]}"
	printf ' )\n'
	printf 'CMD=('
	printf ' %q' "$@"
	printf ' )\n'
} >"$guestjob/job.sh"

# Kernel command line (each argument measured: shared/kernels/README.md):
# loglevel=5 lets WARN()s and lockdep reports reach the console,
# pci=noacpi avoids a ~2 min ACPI PCI routing timeout under TCG,
# tsc=reliable skips the TSC calibration TCG cannot pass, no5lvl avoids a
# false KASAN report with -cpu max's 5-level paging, kmemleak=off saves
# 20-45 s of boot on the debug kernel, log_buf_len keeps the splat scan's
# marker from being pushed out of the ring buffer by a chatty test.
cmdline="console=ttyS0 quiet panic=-1 oops=panic loglevel=5 pci=noacpi"
cmdline="$cmdline tsc=reliable no5lvl log_buf_len=4M"
[ $leak = 1 ] || cmdline="$cmdline kmemleak=off"
cmdline="$cmdline evpoll_vm_job=$guestjob$extra"

# -enable-kvm hangs here (the host's /dev/kvm is a PVM hypervisor): TCG.
# The host root is shared read-only, OUTDIR read-write; QEMU's option
# syntax needs commas doubled.  No NIC: nothing uses one, and the debug
# kernel would spend boot time probing it.
# shellcheck disable=SC2054  # (commas inside QEMU options)
qemu=(qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp 2 -m 2048
      -nographic -no-reboot -nic none
      -kernel "$kernel" -initrd "$initrd" -append "$cmdline"
      -fsdev local,id=r,path=/,security_model=none,readonly=on,multidevs=remap
      -device virtio-9p-pci,fsdev=r,mount_tag=hostroot
      -fsdev "local,id=o,path=${outdir//,/,,},security_model=none,multidevs=remap"
      -device virtio-9p-pci,fsdev=o,mount_tag=outdir)
for p in ${plugins[@]+"${plugins[@]}"}; do
	qemu+=(-plugin "$p")
done

# One VM at a time on the machine (2 cores, several users): wait for the
# lock, and hold it until this script exits.  The lock file is left
# world-writable so that every user can lock it.
lock=/tmp/evpoll-vm.lock
[ -e "$lock" ] || (umask 0; : >>"$lock") 2>/dev/null || true
exec 9<"$lock"
if ! flock -n 9; then
	echo "vm-run: waiting for $lock (another VM is running)"
	flock 9
fi

console=$outdir/console.log
rm -f "$outdir/dmesg.log" "$outdir/kmemleak.log" "$outdir"/console.boot-*.log

# Console filter: drop the escape sequences SeaBIOS prints, and the CRs
# of the serial line, so that the log greps and diffs as plain text.
filter() {
	sed -u -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[()][A-Za-z0-9]//g' \
	       -e 's/\x1b[=>78c]//g' -e 's/\r//g'
}

# Watch a running QEMU ($tpid).  A guest that hangs while booting (about
# 1 boot in 20 under load) is stopped after -b seconds instead of using up
# the whole time limit; one that printed its exit marker but does not
# power off within 30 s is stopped too, its result being known.
watch_qemu() {
	local t0=$1 t_exit=

	while kill -0 "$tpid" 2>/dev/null; do
		if [ $started = 0 ]; then
			if grep -qF "$VM_START" "$console"; then
				started=1
				echo "vm-run: COMMAND started $((SECONDS - t0)) s after QEMU did" >&2
			elif [ $((SECONDS - t0)) -ge "$boot_limit" ]; then
				echo "vm-run: no start after ${boot_limit} s: stopping QEMU" >&2
				kill -TERM "$tpid" 2>/dev/null || true
				return
			fi
			sleep 0.5
			continue
		fi
		if [ -z "$t_exit" ]; then
			tail -c 4096 "$console" | grep -qF "$VM_EXIT " &&
				t_exit=$SECONDS
		elif [ $((SECONDS - t_exit)) -ge 30 ]; then
			echo "vm-run: the guest did not power off: stopping QEMU" >&2
			kill -TERM "$tpid" 2>/dev/null || true
			return
		fi
		sleep 1
	done
}

# Boot once; sets qrc (QEMU's status, via timeout) and started (the
# guest printed the VM_START line, i.e. it got as far as running COMMAND).
boot() {
	local left=$1 fifo=$jobdir/console.fifo t0=$SECONDS

	rm -f "$fifo"
	mkfifo "$fifo"
	: >"$console"
	filter <"$fifo" | tee -a "$console" &
	reader=$!
	started=0
	qrc=0
	if [ $interactive = 1 ]; then
		# Foreground: QEMU reads the terminal (raw mode: ^C goes to
		# the guest, ^A x quits QEMU).
		timeout --foreground -k 10 "$left" "${qemu[@]}" >"$fifo" 2>&1 ||
			qrc=$?
		grep -qF "$VM_START" "$console" && started=1
	else
		timeout -k 10 "$left" "${qemu[@]}" </dev/null >"$fifo" 2>&1 &
		tpid=$!
		watch_qemu "$t0"
		wait "$tpid" || qrc=$?
		tpid=
	fi
	wait "$reader" || true
	reader=
	[ $started = 1 ] || ! grep -qF "$VM_START" "$console" || started=1
	rm -f "$fifo"
	echo "vm-run: QEMU ran $((SECONDS - t0)) s (status $qrc)" >&2
}

echo "vm-run: booting ${release:-$kernel}: $*"
t_start=$SECONDS
attempt=0
status=
qrc=0
started=0
while :; do
	attempt=$((attempt + 1))
	left=$((limit - (SECONDS - t_start)))
	if [ $left -le 0 ]; then
		echo "vm-run: time limit of ${limit} s used up" >&2
		break
	fi
	boot "$left"
	marker=$(grep -ao "$VM_EXIT [0-9]*" "$console" | tail -n 1) || true
	if [ -n "$marker" ]; then
		status=${marker##* }
		break
	fi
	[ $started = 1 ] && break
	# QEMU itself failed (bad option, missing file): no firmware output.
	if [ $qrc -ne 0 ] && ! grep -q 'SeaBIOS' "$console"; then
		echo "vm-run: QEMU failed to start (status $qrc)" >&2
		break
	fi
	[ $attempt -le "$retries" ] || break
	cp "$console" "$outdir/console.boot-$attempt.log"
	echo "vm-run: the guest never started COMMAND (QEMU status $qrc):" \
	     "retrying the boot ($attempt of $retries)," \
	     "log in $outdir/console.boot-$attempt.log" >&2
done

if [ -z "$status" ]; then
	status=$VM_ST_NOEXIT
	if [ "$qrc" = 124 ]; then
		why="time limit reached (-t $limit)"
	else
		why="no exit marker: the guest crashed or hung"
	fi
	echo "vm-run: $why; last 40 lines of $console:" >&2
	tail -n 40 "$console" | sed 's/^/  | /' >&2
elif [ "$status" = $VM_ST_NOEXIT ]; then
	why="the guest could not set up the run (see $console)"
fi
case $status in
0)  ;;
"$VM_ST_SPLAT") echo "vm-run: FAILED: kernel splat or leak, see $outdir/dmesg.log" >&2 ;;
"$VM_ST_RMMOD") echo "vm-run: FAILED: rmmod failed" >&2 ;;
"$VM_ST_INSMOD") echo "vm-run: FAILED: insmod failed" >&2 ;;
"$VM_ST_NOEXIT") echo "vm-run: FAILED ($status): $why" >&2 ;;
*)  echo "vm-run: COMMAND exited with status $status" >&2 ;;
esac
exit "$status"
