#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# proof.sh - the package proof of `make check`: the Debian packages work
# when installed the way a user installs them, and leave nothing behind.
#
#   proof.sh [-k KVER] [-s SUMMARY] [-o OUTDIR] [-n]
#
#   -n   no VM: every step but 4 (a quick check of the host's part)
#
#   1. make deb (tools/pkg/mkdeb.sh: dpkg-buildpackage, lintian)
#   2. apt-get install ./build/deb/*.deb; DKMS (evpoll-dkms's postinst)
#      builds the module for each installed kernel with headers: the VM's
#      KVER must be among them (else dkms install -k KVER)
#   3. compile a smoke subset of the device and library tests against the
#      installed headers and library (pkg-config libevpoll only), and
#      check that they did use them
#   4. boot the VM (no -m): tools/pkg/proof-guest.sh modprobes evpoll from
#      DKMS's location, checks /dev/evpoll and its mode, runs the smoke
#      tests, evpoll-bench -S and the Python package's tests
#   5. apt-get purge the packages (always, also after a failure), then
#      check that nothing is left: no file of theirs, no DKMS tree
#      (/var/lib/dkms/evpoll, /usr/src/evpoll-*), no module under
#      /lib/modules/*/updates/dkms, nothing in modules.dep
#
# Installs and removes system packages: for CI (a throwaway root machine)
# and for a developer who wants that.  Each step adds "LABEL PASS FAIL
# SKIP" lines to SUMMARY.  Exit status 0 if nothing failed.
set -u

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)
TOP=$(cd "$here/../.." && pwd -P)
cd "$TOP" || exit 2
# shellcheck source=../vm/protocol.sh
. tools/vm/protocol.sh

kver=
summary=
out=$TOP/build/pkg
novm=0
while getopts "k:s:o:n" opt; do
	case $opt in
	k) kver=$OPTARG ;;
	s) summary=$OPTARG ;;
	o) out=$OPTARG ;;
	n) novm=1 ;;
	*) sed -n '4,28p' "$0" >&2; exit 2 ;;
	esac
done
kver=${kver:-$(tools/vm/kernels.sh vm-kver)}
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd -P)
summary=${summary:-$out/summary}
MAKE=${MAKE:-make}
PKGS="evpoll-dkms libevpoll0 libevpoll-dev evpoll-tools python3-evpoll"
t0=$SECONDS
failed=0

# shellcheck source=result.sh
. "$here/result.sh"

apt() {
	env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
		-o DPkg::Lock::Timeout=600 "$@"
}

if [ "$(id -u)" != 0 ]; then
	result pkg-root 0 "the package proof installs packages: run as root"
	exit 1
fi

# 1. Build.
ok=0
$MAKE -s deb && ok=1
result pkg-build $ok "make deb: five packages, lintian without errors"
n=$(find build/deb -maxdepth 1 -name '*.deb' 2>/dev/null | wc -l)
if [ $ok = 0 ] || [ "$n" != 5 ]; then
	[ $ok = 0 ] || result pkg-build-count 0 "$n packages in build/deb, want 5"
	exit 1
fi
echo "pkg: build took $((SECONDS - t0)) s"

purge() {
	# shellcheck disable=SC2086
	apt purge $PKGS >"$out/purge.log" 2>&1
}

# 2. Install (and on any exit from here on: purge).
t1=$SECONDS
trap 'purge' EXIT
ok=0
apt install --no-install-recommends ./build/deb/*.deb >"$out/install.log" 2>&1 &&
	ok=1
result pkg-install $ok "apt-get install ./build/deb/*.deb (log: $out/install.log)"
[ $ok = 1 ] || exit 1
version=$(dpkg-query -W -f='${Version}' evpoll-dkms)
for p in $PKGS; do
	dpkg -L "$p" >"$out/files.$p"
done
if ! dkms status -m evpoll -v "$version" -k "$kver" | grep -q ': installed'; then
	echo "pkg: the postinst did not build for $kver: dkms install -k $kver"
	dkms install -m evpoll -v "$version" -k "$kver" >>"$out/install.log" 2>&1
fi
ko=$(modinfo -k "$kver" -n evpoll 2>/dev/null)
ok=0
case $ko in /lib/modules/"$kver"/updates/dkms/evpoll.ko*) ok=1 ;; esac
result "pkg-dkms-$kver" $ok "DKMS built and installed evpoll $version for $kver, depmod knows it: '$ko'"
dkms status -m evpoll | sed 's/^/pkg: dkms: /'
echo "pkg: install took $((SECONDS - t1)) s"

# 3. The smoke tests, against the installed headers and library only.
smoke=$out/smoke
mkdir -p "$smoke"
ok=1
nok() { echo "pkg: smoke build: $*"; ok=0; }
$MAKE -s ksft || nok "make ksft failed"
for t in dev/ctl_test lib/wrapper_test lib/compat_test; do
	name=$(dirname "$t")_$(basename "$t")
	# shellcheck disable=SC2046
	cc -O2 -g -Wall -Werror -Wno-sign-compare -D_GNU_SOURCE \
		-MD -MF "$out/$name.d" -I build/ksft -I "tests/$(dirname "$t")" \
		$(pkg-config --cflags libevpoll) -o "$smoke/$name" "tests/$t.c" \
		$(pkg-config --libs libevpoll) -lpthread || nok "$t: cc failed"
	grep -q "$TOP/include" "$out/$name.d" && nok "$t: used $TOP/include"
	# (the dev tests call the ioctls themselves: no libevpoll in them)
	[ "${t%%/*}" = lib ] || continue
	so=$(ldd "$smoke/$name" | awk '$1 == "libevpoll.so.0" { print $3 }')
	dpkg -S "$(readlink -f "${so:-/nonexistent}")" 2>/dev/null |
		grep -q '^libevpoll0:' || nok "$t: libevpoll.so.0 is '$so', not libevpoll0's"
done
grep -qh '/usr/include/evpoll/linux/evpoll.h' "$out"/*.d ||
	nok "no test used /usr/include/evpoll/linux/evpoll.h"
result pkg-smoke-build $ok "smoke tests built with pkg-config libevpoll: /usr/include/evpoll headers, the package's libevpoll.so.0, nothing from the tree"
printf '#!/bin/sh\nexec /usr/bin/evpoll-bench -S\n' >"$smoke/tools_evpoll_bench_selfcheck"
printf '#!/bin/sh\nexec /usr/bin/python3 %s\n' "$TOP/tools/pkg/test_evpoll.py" \
	>"$smoke/python_evpoll_selectors"
printf '#!/bin/sh\nexec /usr/bin/python3 -m evpoll.echo\n' >"$smoke/python_evpoll_echo"
chmod +x "$smoke"/tools_* "$smoke"/python_*

# 4. The VM.
t2=$SECONDS
if [ $novm = 1 ]; then
	echo "pkg: -n: no VM run"
else
	vmout=$out/vm
	mkdir -p "$vmout"
	: >"$vmout/summary"
	tools/vm/vm-run.sh -k "$kver" -o "$vmout" -t 1500 -- \
		tools/pkg/proof-guest.sh "$smoke" "$vmout"
	rc=$?
	cat "$vmout/summary" >>"$summary"
	grep -q ' [1-9][0-9]* [0-9]*$' "$vmout/summary" && failed=1
	case $rc in
	0) result pkg-vm 1 "VM run on $kver, kernel log clean" ;;
	"$VM_ST_SPLAT") result pkg-vm 0 "kernel splat in the guest ($vmout/dmesg.log)" ;;
	*) result pkg-vm 0 "the VM run ended with status $rc ($vmout/console.log)" ;;
	esac
	echo "pkg: VM run took $((SECONDS - t2)) s"
fi

# 5. Remove, then look for leftovers.
t3=$SECONDS
trap - EXIT
ok=0
purge && ok=1
result pkg-purge $ok "apt-get purge $PKGS (log: $out/purge.log)"
left=$out/leftovers
: >"$left"
for p in $PKGS; do
	dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^.[ic]' &&
		echo "package $p still installed" >>"$left"
	while read -r f; do
		# Every file, and every directory of evpoll's own (with what
		# was made in it later: __pycache__, DKMS's build files).
		if [ -d "$f" ]; then	# (also /lib, a link to usr/lib)
			case ${f##*/} in *evpoll*) echo "$f/" >>"$left" ;; esac
		elif [ -e "$f" ] || [ -L "$f" ]; then
			echo "$f" >>"$left"
		fi
	done <"$out/files.$p"
done
for f in /var/lib/dkms/evpoll /usr/src/evpoll-* /lib/modules/*/updates/dkms/evpoll.ko*; do
	[ -e "$f" ] && echo "$f" >>"$left"
done
grep -l 'evpoll' /lib/modules/*/modules.dep 2>/dev/null | sed 's/$/ names evpoll/' >>"$left"
ok=0
[ -s "$left" ] || ok=1
[ $ok = 1 ] || sed 's/^/pkg: left behind: /' "$left"
result pkg-purge-clean $ok "nothing left: package files, DKMS tree, modules, modules.dep"
echo "pkg: purge took $((SECONDS - t3)) s; the package proof took $((SECONDS - t0)) s"
[ $failed = 0 ]
