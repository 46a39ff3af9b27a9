#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-run.sh - runs inside the VM (tools/vm/vm-run.sh COMMAND): prepare
# what the tests expect of a machine, then run tests/run-tests.sh with the
# given arguments.
set -u
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)

# Loopback is down in a fresh guest; TCP tests use 127.0.0.1.
ip link set lo up 2>/dev/null || busybox ip link set lo up
ulimit -n 200000 2>/dev/null || ulimit -n 65536 2>/dev/null || true

exec "$here/run-tests.sh" "$@"
