/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The benchmark's modes, listed once: bench.h expands this list into the
 * mode ids (the bits of -m) and declarations, main.c into the mode table.
 * The order is the order the driver runs them in (and so the order of the
 * raw CSV and of the table's groups); -m takes them by name.
 *
 * BENCH_MODE(name) refers to "const struct bench_mode bench_mode_<name>",
 * defined in mode-<name>.c.
 */
BENCH_MODE(chain)
BENCH_MODE(idle)
BENCH_MODE(quiet)
BENCH_MODE(quiet_inst)
BENCH_MODE(churn)
BENCH_MODE(ctl)
BENCH_MODE(mem)
BENCH_MODE(herd)
BENCH_MODE(latency)
BENCH_MODE(echo)
BENCH_MODE(toggle)
BENCH_MODE(batch_add)
BENCH_MODE(burst)
BENCH_MODE(burst_paced)
BENCH_MODE(close)
