#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""prof-report.py - two runs of prof-plugin.c's log, function by function.

    prof-report.py OUTDIR A B OPS [ROWS]

OUTDIR holds prof.log (the plugin's) and kallsyms.txt (the guest's
/proc/kallsyms, read as root); A and B are stop numbers (the order of the
runs, see evpoll-bench -v); OPS the operations of each run.  Prints the
instructions per operation of A and B and their difference, by function,
largest differences first; user space is one row.
"""
import bisect, sys, collections
out = sys.argv[1]
syms = []
for line in open(out + "/kallsyms.txt"):
    p = line.split()
    if len(p) < 3: continue
    a = int(p[0], 16)
    if a == 0: continue
    name = p[2] + (" " + p[3] if len(p) > 3 else "")
    syms.append((a, name))
syms.sort()
addrs = [a for a, _ in syms]
def sym(v):
    if v < 0xffff000000000000: return "[user]"
    i = bisect.bisect_right(addrs, v) - 1
    return syms[i][1] if i >= 0 else "?"
blocks = {}
cur = None
for line in open(out + "/prof.log"):
    if line.startswith("P "):
        cur = int(line.split()[1]); blocks[cur] = collections.Counter(); continue
    v, c = line.split()
    blocks[cur][sym(int(v, 16))] += int(c)
a, b, ops = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
A, B = blocks[a], blocks[b]
print("total per op: %d -> %d" % (sum(A.values())/ops, sum(B.values())/ops))
keys = set(A) | set(B)
rows = sorted(keys, key=lambda k: -(abs(B[k]-A[k])))
for k in rows[:int(sys.argv[5]) if len(sys.argv) > 5 else 45]:
    print("%8.1f %8.1f %+8.1f  %s" % (A[k]/ops, B[k]/ops, (B[k]-A[k])/ops, k))
