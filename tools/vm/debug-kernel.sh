#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh - the debug kernel (KASAN, lockdep, kmemleak, failslab,
# atomic-sleep and list checks) that `make check` runs every VM test on a
# second time, and the kbuild tree to build evpoll.ko against it.
#
#   debug-kernel.sh kit      find a kit and unpack it under build/debug-kit/;
#                            print IMAGE=<bzImage> and KDIR=<kbuild dir>;
#                            exit 1 (printing why) when there is none
#   debug-kernel.sh build    build one from Debian's linux-source-6.1
#                            (25-50 minutes on 2 cores) into the cache
#   debug-kernel.sh verify CONFIG
#                            check that every line of tools/vm/debug.config
#                            took effect in CONFIG
#
# Where a kit comes from, in order: the prebuilt one in
# ../shared/kernels/<ver>-evpdbg/ beside the checkout, if its config
# satisfies our fragment; one cached by an earlier build in
# $EVPOLL_CACHE (default /var/cache/evpoll); otherwise none (`kit` never
# builds: that is `make debug-kernel`).  A kit is a directory holding
# bzImage.xz (or bzImage), kbuild.tar.xz (a linux-kbuild-<ver>/ tree for
# external modules) and config.
set -eu

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)
TOP=$(cd "$here/../.." && pwd -P)
fragment=$here/debug.config
cache=${EVPOLL_CACHE:-/var/cache/evpoll}
unpack=$TOP/build/debug-kit

die() {
	echo "debug-kernel: $*" >&2
	exit 1
}

# verify CONFIG: every "CONFIG_X=v" line of the fragment is in CONFIG, and
# every "# CONFIG_X is not set" line is not set there.
verify() {
	local config=$1 bad=0 line name
	[ -f "$config" ] || die "no config $config"
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF -- "$line" "$config" || {
				echo "debug-kernel: not in $config: $line" >&2
				bad=1
			}
			;;
		"# CONFIG_"*" is not set")
			name=${line#\# }
			name=${name%% *}
			if grep -q "^$name=" "$config"; then
				echo "debug-kernel: set in $config: $name" >&2
				bad=1
			fi
			;;
		esac
	done <"$fragment"
	return $bad
}

# unpack_kit DIR: decompress the image and the kbuild tree once.
unpack_kit() {
	local dir=$1 name dest
	name=$(basename "$dir")
	dest=$unpack/$name
	if [ ! -f "$dest/.done" ] || [ "$dir/kbuild.tar.xz" -nt "$dest/.done" ]; then
		rm -rf "$dest"
		mkdir -p "$dest"
		if [ -f "$dir/bzImage.xz" ]; then
			xz -dc "$dir/bzImage.xz" >"$dest/bzImage"
		else
			cp "$dir/bzImage" "$dest/bzImage"
		fi
		tar -xJf "$dir/kbuild.tar.xz" -C "$dest"
		cp "$dir/config" "$dest/config"
		touch "$dest/.done"
	fi
	echo "IMAGE=$dest/bzImage"
	echo "KDIR=$(ls -d "$dest"/linux-kbuild-* | head -n 1)"
}

kit() {
	local dir
	for dir in "$TOP"/../shared/kernels/*-evpdbg "$cache"/*-evpdbg; do
		[ -f "$dir/kbuild.tar.xz" ] && [ -f "$dir/config" ] || continue
		[ -f "$dir/bzImage.xz" ] || [ -f "$dir/bzImage" ] || continue
		if verify "$dir/config" 2>/dev/null; then
			unpack_kit "$dir"
			return 0
		fi
		echo "debug-kernel: $dir does not match tools/vm/debug.config" >&2
	done
	echo "debug-kernel: no debug kit (run make debug-kernel to build one)" >&2
	return 1
}

build() {
	local tarball src ver jobs out
	tarball=$(ls /usr/src/linux-source-6.1*.tar.xz 2>/dev/null | sort -V | tail -n 1)
	[ -n "$tarball" ] || die "linux-source-6.1 is not installed (make deps)"
	for p in bc bison flex libelf-dev libssl-dev dwarves; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$p"
	done
	src=$TOP/build/debug-src
	rm -rf "$src"
	mkdir -p "$src"
	echo "debug-kernel: unpacking $(basename "$tarball")"
	tar -xJf "$tarball" -C "$src" --strip-components=1
	cd "$src"
	make -s x86_64_defconfig
	make -s kvm_guest.config
	scripts/kconfig/merge_config.sh -m .config "$fragment" >/dev/null
	make -s olddefconfig
	verify .config || die "the fragment did not take effect (see above)"
	jobs=$(nproc)
	echo "debug-kernel: building with $jobs jobs (25-50 minutes)"
	make -s -j"$jobs" bzImage modules_prepare
	ver=$(cat include/config/kernel.release)	# with -evpdbg now
	out=$cache/$ver
	mkdir -p "$out"
	xz -T0 -c arch/x86/boot/bzImage >"$out/bzImage.xz"
	cp .config "$out/config"
	# What an external module build needs, as a linux-headers package has.
	make -s -j"$jobs" modules >/dev/null	# Module.symvers
	local kb=linux-kbuild-$ver
	mkdir -p "$TOP/build/$kb"
	tar -cf - .config Makefile Module.symvers System.map include scripts \
		arch/x86/Makefile arch/x86/Makefile_32.cpu arch/x86/include \
		arch/x86/tools tools/objtool/objtool 2>/dev/null |
		tar -xf - -C "$TOP/build/$kb"
	tar -cJf "$out/kbuild.tar.xz" -C "$TOP/build" "$kb"
	# The kit must build evpoll.ko: try it before calling the kit good.
	make -C "$TOP" -s module KDIR="$TOP/build/$kb" ||
		die "evpoll.ko does not build against the packaged kbuild tree"
	rm -rf "$TOP/build/$kb"
	echo "debug-kernel: kit in $out (evpoll.ko builds against it)"
}

case "${1:-}" in
kit) kit ;;
build) build ;;
verify) verify "${2:?config}" && echo "debug-kernel: every fragment line is in $2" ;;
*) echo "usage: $0 kit|build|verify CONFIG" >&2; exit 2 ;;
esac
