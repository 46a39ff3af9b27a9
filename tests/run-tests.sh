#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-tests.sh - run test programs, count their results.
#
#   run-tests.sh [-l LABEL] [-t SECONDS] [-o LOGDIR] [-s SUMMARY] PROG|DIR...
#
# Every executable given (or found directly in a given directory, in sorted
# order) is run with a time limit.  kselftest_harness programs print
# "# Totals: pass:P fail:F xfail:X xpass:XP skip:S error:E": those numbers
# are counted.  A program that prints no Totals line counts as one test:
# exit 0 passed, exit 4 (KSFT_SKIP) skipped, anything else failed.  A program
# that exits non-zero although its Totals show no failure (it crashed, or the
# harness itself failed) adds one failure.
#
# Output: each program's output, then "LABEL: N passed, N failed, N skipped".
# With -s, appends "LABEL P F S" to SUMMARY for tools/check.sh to add up.
# Exit status: 0 if nothing failed.
set -u

label=tests
limit=600
logdir=
summary=
while getopts "l:t:o:s:" opt; do
	case $opt in
	l) label=$OPTARG ;;
	t) limit=$OPTARG ;;
	o) logdir=$OPTARG ;;
	s) summary=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))

progs=()
for arg in "$@"; do
	if [ -d "$arg" ]; then
		for f in $(ls "$arg" | sort); do
			[ -f "$arg/$f" ] && [ -x "$arg/$f" ] && progs+=("$arg/$f")
		done
	elif [ -x "$arg" ]; then
		progs+=("$arg")
	else
		echo "run-tests: $arg: not an executable or directory" >&2
		progs+=("$arg")
	fi
done

[ -n "$logdir" ] && mkdir -p "$logdir"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

pass=0 fail=0 skip=0
for p in "${progs[@]}"; do
	name=$(basename "$p")
	echo "# ==== $label: $name"
	timeout -k 10 "$limit" "$p" >"$tmp" 2>&1
	rc=$?
	cat "$tmp"
	[ -n "$logdir" ] && cp "$tmp" "$logdir/$name.log"
	tot=$(grep -a '^# Totals: ' "$tmp" | tail -n 1)
	if [ -n "$tot" ]; then
		set -- $(echo "$tot" | sed 's/[^0-9 ]//g')
		p_=$1 f_=$2 xf=$3 xp=$4 s_=$5 e_=$6
		pass=$((pass + p_ + xf))
		fail=$((fail + f_ + xp + e_))
		skip=$((skip + s_))
		if [ $rc -ne 0 ] && [ $((f_ + xp + e_)) -eq 0 ] && [ $rc -ne 4 ]; then
			echo "# $name: exit status $rc with no failure counted: 1 failure"
			fail=$((fail + 1))
		fi
	else
		case $rc in
		0) pass=$((pass + 1)) ;;
		4) skip=$((skip + 1)) ;;
		*) fail=$((fail + 1))
		   [ $rc -eq 124 ] && echo "# $name: timed out after ${limit}s"
		   echo "# $name: FAILED (exit status $rc)" ;;
		esac
	fi
done

echo "$label: $pass passed, $fail failed, $skip skipped"
[ -n "$summary" ] && echo "$label $pass $fail $skip" >>"$summary"
[ "$fail" -eq 0 ]
