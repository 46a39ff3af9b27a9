#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh - build the stage-1 initramfs of the evpoll VM runner.
#
#   mkinitramfs.sh [-k KVER] -o OUT.cpio
#
# The archive holds busybox-static, tools/vm/init as /init and, with -k,
# the modules the stage-1 init needs to mount the host root over virtio-9p
# (virtio_pci, 9pnet_virtio, 9p and what they depend on), taken from
# /lib/modules/KVER.  Without -k it holds no modules: for kernels that have
# virtio and 9p built in (the debug kit).
#
# Nothing is done when OUT is newer than everything it is made from (this
# script, init, busybox, the kernel and its modules.dep), so vm-run.sh can call
# it before every boot.  OUT is replaced atomically: concurrent runs never
# see half an archive.
set -eu

here=$(cd "$(dirname "$0")" && pwd -P)
kver=
out=
while getopts "k:o:" opt; do
	case $opt in
	k) kver=$OPTARG ;;
	o) out=$OPTARG ;;
	*) echo "usage: $0 [-k KVER] -o OUT.cpio" >&2; exit 2 ;;
	esac
done
[ -n "$out" ] || { echo "usage: $0 [-k KVER] -o OUT.cpio" >&2; exit 2; }

busybox=/bin/busybox
moddir=
[ -n "$kver" ] && moddir=/lib/modules/$kver

# Modules stage 1 needs, by name; their dependencies come from modules.dep.
# Any of them may be built in (6.12 has virtio_pci built in): then skipped.
want="virtio_pci 9pnet_virtio 9p"

die() {
	echo "mkinitramfs: $*" >&2
	exit 1
}

[ -x "$busybox" ] || die "$busybox missing: install busybox-static (make deps)"
# The initramfs has no libc: a dynamically linked busybox (package
# "busybox") would make /init fail with "not found".
if command -v readelf >/dev/null 2>&1 &&
   readelf -l "$busybox" 2>/dev/null | grep -q 'program interpreter'; then
	die "$busybox is dynamically linked: install busybox-static"
fi
if [ -n "$moddir" ]; then
	[ -f "$moddir/modules.dep" ] || die "$moddir/modules.dep missing"
fi

up_to_date() {
	[ -f "$out" ] || return 1
	for f in "$here/mkinitramfs.sh" "$here/init" "$here/protocol.sh" \
		 "$busybox" \
		 ${moddir:+"$moddir/modules.dep"} ${kver:+"/boot/vmlinuz-$kver"}; do
		[ -e "$f" ] || continue
		[ -n "$(find "$f" -newer "$out")" ] && return 1
	done
	return 0
}
up_to_date && exit 0

stage=$(mktemp -d "${out}.stage.XXXXXX")
trap 'rm -rf "$stage" "$out.tmp.$$"' EXIT

mkdir -p "$stage/bin" "$stage/sbin" "$stage/lib/modules" "$stage/proc" \
	 "$stage/sys" "$stage/dev" "$stage/host" "$stage/ro" "$stage/out" \
	 "$stage/tmp" "$stage/run"
cp "$busybox" "$stage/bin/busybox"
for a in $("$busybox" --list); do
	[ "$a" = busybox ] || ln -s busybox "$stage/bin/$a"
done
cp "$here/init" "$stage/init"
cp "$here/protocol.sh" "$stage/protocol.sh"
chmod 755 "$stage/init"

# Copy one module, uncompressed: busybox insmod reads only plain ELF.
copy_module() {
	src=$moddir/$1
	name=$(basename "$1")
	case $name in
	*.ko)	  cp "$src" "$stage/lib/modules/$name" ;;
	*.ko.xz)  xz -dc "$src" >"$stage/lib/modules/${name%.xz}" ;;
	*.ko.zst) command -v zstd >/dev/null || die "$src: zstd missing"
		  zstd -q -dc "$src" >"$stage/lib/modules/${name%.zst}" ;;
	*.ko.gz)  gzip -dc "$src" >"$stage/lib/modules/${name%.gz}" ;;
	*)	  die "$src: unknown module compression" ;;
	esac
	echo "${name%.ko*}.ko" >>"$stage/lib/modules/load"
}

# Emit a module after everything it depends on (depth first), once.
# modules.dep lists each module's full dependency closure, by path.
seen=" "
add_path() {
	case $seen in *" $1 "*) return 0 ;; esac
	seen="$seen$1 "
	deps=$(grep -F "$1:" "$moddir/modules.dep" | sed -n "s|^$1:||p")
	for d in $deps; do
		add_path "$d"
	done
	copy_module "$1"
}

if [ -n "$moddir" ]; then
	: >"$stage/lib/modules/load"
	for m in $want; do
		path=$(grep -E "^([^:]*/)?$m\.ko(\.[a-z]+)?:" \
			    "$moddir/modules.dep" | cut -d: -f1 | head -n 1)
		if [ -n "$path" ]; then
			add_path "$path"
		elif grep -qE "(^|/)$m\.ko$" "$moddir/modules.builtin" \
				2>/dev/null; then
			:
		else
			die "$m: neither a module nor built into $kver"
		fi
	done
fi

# /dev/console must exist in the archive: the kernel opens it for /init's
# stdin/stdout/stderr before /init runs.  A device node needs root to
# mknod, so it goes into a small hand-written newc archive instead; the
# kernel unpacks concatenated archives in order.
newc() {	# name mode(hex) rdevmajor rdevminor
	namesize=$((${#1} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		0 "0x$2" 0 0 1 0 0 0 0 "$3" "$4" "$namesize" 0
	printf '%s\0' "$1"
	# header (110 bytes) + name, padded to a multiple of 4
	pad=$(( (4 - (110 + namesize) % 4) % 4 ))
	[ $pad -eq 0 ] || head -c $pad /dev/zero
}
{
	newc dev 41ed 0 0
	newc dev/console 2180 5 1
	newc TRAILER!!! 0 0 0
	head -c 512 /dev/zero
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	 cpio --quiet -o -H newc -R 0:0)
} >"$out.tmp.$$"
mv -f "$out.tmp.$$" "$out"
echo "  INITRD  $(basename "$out")${kver:+ ($kver)}"
