// SPDX-License-Identifier: GPL-2.0
/*
 * quiet: N watched, nothing happens for one second: what the machine
 * executes meanwhile (timers, evpoll's reaper walking the watched set).
 * Not run unless -m names it.
 */
#include "bench.h"

static void quiet_poller(struct evpoll_poller *p, long n, int rep)
{
	struct run r;

	run_start(&r);
	sleep_ms(1000);
	run_stop(&r, &bench_mode_quiet, "second",
		 evpoll_poller_backend_name(p), n, 0, rep, 1);
}

const struct bench_mode bench_mode_quiet = {
	.name		= "quiet",
	.optional	= true,
	.no_selfcheck	= true,
	.run_poller	= quiet_poller,
};
