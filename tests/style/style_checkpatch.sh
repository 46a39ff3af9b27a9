#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# style_checkpatch - checkpatch.pl --strict on every kmod/ file and the
# uapi header: one TAP test per file, clean means no error, warning or check.
set -u
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)
build=$(cd "$here/../.." && pwd -P)
top=$(cd "$build/.." && pwd -P)
cp=$build/checkpatch/scripts/checkpatch.pl
cd "$top"
files=(kmod/*.c kmod/*.h include/uapi/linux/evpoll.h)
echo "TAP version 13"
echo "1..${#files[@]}"
pass=0 fail=0 n=0
for f in "${files[@]}"; do
	n=$((n + 1))
	if out=$("$cp" --strict --no-tree -q -f "$f" 2>&1) && [ -z "$out" ]; then
		echo "ok $n checkpatch $f"
		pass=$((pass + 1))
	else
		echo "$out" | sed 's/^/# /'
		echo "not ok $n checkpatch $f"
		fail=$((fail + 1))
	fi
done
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" -eq 0 ]
