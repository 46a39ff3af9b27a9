#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# version.sh - print the project's one version: `git describe` of a
# release tag (vX.Y.Z) when this is a git checkout that has one, else the
# VERSION file (a release tarball, a DKMS source tree).  It feeds
# MODULE_VERSION, the library's real name and pkg-config file, and the man
# pages' footers.
top=$(cd "$(dirname "$0")/.." && pwd -P)
if v=$(git -C "$top" describe --tags --match 'v[0-9]*' 2>/dev/null); then
	echo "${v#v}" | sed 's/-\([0-9]*\)-g/+\1.g/'
else
	cat "$top/VERSION"
fi
