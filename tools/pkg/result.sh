# shellcheck shell=bash disable=SC2154,SC2034
# SPDX-License-Identifier: GPL-2.0
#
# result.sh - sourced by tools/pkg/proof.sh and proof-guest.sh:
# result LABEL OK WHAT prints one check's outcome and appends
# "LABEL PASS FAIL SKIP" to $summary (tools/check.sh adds them up); a
# failure sets failed=1.

result() {
	if [ "$2" = 1 ]; then
		echo "pkg: $1: ok: $3"
		echo "$1 1 0 0" >>"$summary"
	else
		echo "pkg: $1: FAILED: $3"
		echo "$1 0 1 0" >>"$summary"
		failed=1
	fi
}
