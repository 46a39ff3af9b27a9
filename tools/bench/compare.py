#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""compare.py - the runs of guest-compare.sh side by side.

    compare.py OUTDIR LABEL...

For each LABEL, reads OUTDIR/LABEL-summary.csv and prints, per mode,
metric, N and parameter, the instructions per operation of each backend
other than epoll, its ratio to epoll in the same run, and epoll's own
count, one column per label: the before/after of a change measured in
one boot.
"""
import csv
import sys


def load(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, labels = sys.argv[1], sys.argv[2:]
    runs = {l: load("%s/%s-summary.csv" % (out, l)) for l in labels}
    keys = []
    for r in runs[labels[0]]:
        k = (r["mode"], r["metric"], r["backend"], int(r["n"]), int(r["param"]))
        if k not in keys:
            keys.append(k)
    print("%-6s %-6s %-7s %6s %5s  " % ("mode", "metric", "backend", "N", "P") +
          "  ".join("%17s" % l for l in labels))
    for k in keys:
        cells = []
        for l in labels:
            c = [r for r in runs[l]
                 if (r["mode"], r["metric"], r["backend"], int(r["n"]),
                     int(r["param"])) == k]
            if not c:
                cells.append("%17s" % "-")
                continue
            c = c[0]
            cells.append("%8.0f (%6.3fx)" % (float(c["insn_per_op"]),
                                             float(c["insn_ratio"])))
        print("%-6s %-6s %-7s %6d %5d  " % k + "  ".join(cells))


if __name__ == "__main__":
    main()
