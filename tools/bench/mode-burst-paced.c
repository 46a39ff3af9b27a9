// SPDX-License-Identifier: GPL-2.0
/*
 * burst-paced: burst (mode-burst.c) with the writer sleeping 50 us
 * (nanosleep) between two events of a burst, so that a waiter that
 * returns at the first event has gone back to sleep before the next one:
 * a task wake-up per event, as a server sees when its events trickle in.
 * That is the case a min-wait is for; in burst, whose writer makes its
 * events back to back, epoll's waiter already finds several per wait.
 * The writer's sleeps cost the same on every backend and are counted.
 */
#include "bench.h"

#define BURST_PACED_GAP_NS	50000

static void burst_paced_all(void)
{
	bench_burst_all(&bench_mode_burst_paced, BURST_PACED_GAP_NS);
}

const struct bench_mode bench_mode_burst_paced = {
	.name		= "burst-paced",
	.n_label	= "B",
	.param_label	= "min",
	.per		= "event",
	.extra_label	= "waits/event syscalls/event waiter-insn/event",
	.run		= burst_paced_all,
	.format		= bench_burst_format,
};
