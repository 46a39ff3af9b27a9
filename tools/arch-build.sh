#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# arch-build.sh - the library on other architectures than the build
# machine's x86-64, as `make check` runs it (tools/check.sh):
#
#   arch-build.sh [-s SUMMARY] [i386] [arm64]      (default: both)
#
#   i386   gcc -m32 (gcc-multilib): libevpoll.a/.so and the host tests
#          (tests/lib, tests/aio) built into build/arch/i386/ and run here.
#          64-bit time_t (-D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64), which
#          the device wrapper needs (struct __kernel_timespec).  Debian 12
#          has no i386 liburing without a multiarch dpkg (dpkg
#          --add-architecture i386, which this project does not do to its
#          machines), so the io_uring backends are linked against
#          tools/arch/liburing-none.c and report themselves unavailable.
#   arm64  every lib/*.c and tests/lib/*.c compiled (not linked) with clang
#          --target=aarch64-linux-gnu against libc6-dev-arm64-cross; Debian
#          12's gcc-aarch64-linux-gnu cannot be installed next to
#          gcc-multilib (they conflict).  liburing's headers are the build
#          machine's (they are architecture-independent).
#
# Each part appends "LABEL PASSED FAILED SKIPPED" lines to SUMMARY (as
# tests/run-tests.sh does); exit status 0 if nothing failed.
set -u
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)
TOP=$(cd "$here/.." && pwd -P)
cd "$TOP" || exit 1

summary=/dev/null
if [ "${1:-}" = -s ]; then
	summary=$2
	shift 2
fi
[ $# -gt 0 ] || set -- i386 arm64
MAKE=${MAKE:-make}
rc=0

count() {		# LABEL OK: one result line
	if [ "$2" = 1 ]; then
		echo "$1 1 0 0" >>"$summary"
	else
		echo "arch-build: $1: FAILED"
		echo "$1 0 1 0" >>"$summary"
		rc=1
	fi
}

build_i386() {
	local b=$TOP/build/arch/i386 libs ok=1
	local cc=(gcc -m32)
	local cflags=(-O2 -g -D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64)

	echo "arch-build: i386 (${cc[*]} ${cflags[*]})"
	mkdir -p "$b/stub"
	libs="-L$b/stub -luring -lrt -lpthread"
	"${cc[@]}" "${cflags[@]}" -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
		-Wmissing-prototypes -fPIC -c tools/arch/liburing-none.c \
		-o "$b/stub/liburing-none.o" &&
	rm -f "$b/stub/liburing.a" &&
	ar rcs "$b/stub/liburing.a" "$b/stub/liburing-none.o" &&
	$MAKE -s -C lib BUILD="$b" CC="${cc[*]}" CFLAGS="${cflags[*]}" \
		LIBS="$libs" &&
	# kselftest_harness.h's EXPECT_EQ(NULL, p) casts p to intmax_t
	for d in tests/lib tests/aio; do
		$MAKE -s -C $d BUILD="$b" CC="${cc[*]}" \
			CFLAGS="${cflags[*]} -Wno-pointer-to-int-cast" \
			LIBEVPOLL_LDLIBS="$b/lib/libevpoll.a $libs" || exit 1
	done || ok=0
	count arch-i386-build $ok
	[ $ok = 1 ] || return
	file -L "$b/tests/host/backends_test" | grep -q 'ELF 32-bit.*Intel' ||
		{ count arch-i386-elf 0; return; }
	tests/run-tests.sh -l arch-i386 -t 600 -o "$b/logs" -s "$summary" \
		"$b/tests/host" || rc=1
}

build_arm64() {
	local b=$TOP/build/arch/arm64 inc f o ok=1 n=0
	local sysroot=/usr/aarch64-linux-gnu
	local cc=(clang --target=aarch64-linux-gnu "--sysroot=$sysroot")
	local flags=(-O2 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
		     -Wmissing-prototypes -Wno-unused-parameter -D_GNU_SOURCE
		     -I"$TOP/include" -I"$TOP/include/uapi")

	echo "arch-build: arm64 (${cc[*]}, compile only)"
	if ! [ -d $sysroot/include ] || ! command -v clang >/dev/null; then
		echo "arch-build: arm64: no clang or $sysroot: run make deps"
		count arch-arm64-compile 0
		return
	fi
	# only liburing's headers from the build machine, after the sysroot's
	inc=$b/uring-include
	mkdir -p "$inc" "$b/obj"
	ln -sfn /usr/include/liburing.h "$inc/liburing.h"
	ln -sfn /usr/include/liburing "$inc/liburing"
	$MAKE -s ksft || ok=0
	for f in lib/*.c; do
		o=$b/obj/lib-$(basename "$f" .c).o
		"${cc[@]}" "${flags[@]}" -idirafter "$inc" -fPIC -fvisibility=hidden \
			-DEVPOLL__INTERNAL -DEVPOLL_LIB_VERSION='"arm64"' \
			-c "$f" -o "$o" || ok=0
		n=$((n + 1))
	done
	for f in tests/lib/*.c tests/preload/*.c; do
		o=$b/obj/$(basename "$(dirname "$f")")-$(basename "$f" .c).o
		"${cc[@]}" "${flags[@]}" -idirafter "$inc" -Wno-missing-prototypes \
			-Wno-sign-compare -I"$TOP/build/ksft" -I"$(dirname "$f")" \
			-c "$f" -o "$o" || ok=0
		n=$((n + 1))
	done
	if [ $ok = 1 ] && ! file "$b"/obj/lib-evpoll.o | grep -q 'ARM aarch64'; then
		ok=0
	fi
	echo "arch-build: arm64: $n files compiled"
	count arch-arm64-compile $ok
}

for a in "$@"; do
	case $a in
	i386) build_i386 ;;
	arm64) build_arm64 ;;
	*) echo "arch-build: unknown architecture $a" >&2; exit 2 ;;
	esac
done
exit $rc
