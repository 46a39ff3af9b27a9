#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkdeb.sh - what `make deb` does: build the Debian packages evpoll-dkms,
# libevpoll0, libevpoll-dev, evpoll-tools and python3-evpoll with
# dpkg-buildpackage (debian/), put them in build/deb/, and run lintian on
# them (an error fails; the kept warnings are listed in debian/README.source).
#
# The build runs in a copy of the tree (build/deb/src/evpoll-VERSION,
# without build/ and .git), so that dpkg-buildpackage writes nothing into
# the checkout or its parent directory.  The copy's VERSION file and
# debian/changelog carry the one VERSION (tools/version.sh).
set -eu

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)
TOP=$(cd "$here/../.." && pwd -P)
cd "$TOP"

for t in dpkg-buildpackage dh dh_dkms dh_python3; do
	command -v "$t" >/dev/null ||
		{ echo "deb: no $t: sudo apt build-dep ./ (or make deps)" >&2; exit 1; }
done

version=$(tools/version.sh)
out=$TOP/build/deb
src=$out/src/evpoll-$version
rm -rf "$out"
mkdir -p "$src"
tar -C "$TOP" --exclude=./build --exclude=./.git --exclude='./wt-*' -cf - . |
	tar -C "$src" -xf -
echo "$version" >"$src/VERSION"
# A git-describe version (0.1.0+3.gabcdef) becomes the package's too.
sed -i "1s/^evpoll ([^)]*)/evpoll ($version)/" "$src/debian/changelog"

echo "deb: building evpoll $version (log: build/deb/build.log)"
# Nothing of the calling make (BUILD, MAKEFLAGS) may leak into the build.
if ! (cd "$src" && DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }noddebs" env -u BUILD -u V -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	dpkg-buildpackage -b -us -uc -j"$(nproc)") \
	>"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	echo "deb: dpkg-buildpackage failed (build/deb/build.log)" >&2
	exit 1
fi
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out"/
rm -rf "$out/src"
find "$out" -maxdepth 1 -name "*.deb" | sort | sed "s|^$TOP/|  |"

if ! command -v lintian >/dev/null; then
	echo "deb: lintian is not installed: the packages are not checked"
	exit 0
fi
# lintian: errors fail; warnings are printed (the ones kept are explained
# in debian/README.source).
lintian --fail-on error --tag-display-limit 0 "$out"/*.changes \
	>"$out/lintian.log" 2>&1 || {
	cat "$out/lintian.log" >&2
	echo "deb: lintian reports errors (build/deb/lintian.log)" >&2
	exit 1
}
if [ -s "$out/lintian.log" ]; then
	echo "deb: lintian: no errors; warnings and notes:"
	grep -v "root privileges" "$out/lintian.log" | sed "s/^/  /"
else
	echo "deb: lintian: clean"
fi
