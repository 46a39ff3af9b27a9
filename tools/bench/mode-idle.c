// SPDX-License-Identifier: GPL-2.0
/*
 * idle: N watched, one active pair ping-ponged.  Cost per wakeup.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static void idle_poller(struct evpoll_poller *p, long n, int rep)
{
	enum evpoll_backend b = evpoll_poller_backend(p);
	const char *name = evpoll_backend_name(b);
	long w = scaled_writes(b, n, opt.writes, 20), i, got = 0;
	struct evpoll_poller_event ev;
	struct run r;

	run_start(&r);
	for (i = 0; i < w; i++) {
		char c;
		int k;

		if (write(pairs[0].w, "i", 1) != 1)
			die("idle: write: %s", strerror(errno));
		do
			k = evpoll_poller_wait(p, &ev, 1, 2000);
		while (k == -EINTR);
		if (k != 1 || ev.data != 0) {
			fail("idle %s n=%ld: wait gave %d (data %llu)", name, n,
			     k, (unsigned long long)ev.data);
			drain(pairs[0].r);
			break;
		}
		if (read(pairs[0].r, &c, 1) == 1)
			got++;
	}
	run_stop(&r, &bench_mode_idle, "wakeup", name, n, 1, rep, got);
	if (got != w)
		fail("idle %s n=%ld: %ld wakeups, expected %ld", name, n, got, w);
}

const struct bench_mode bench_mode_idle = {
	.name		= "idle",
	.run_poller	= idle_poller,
};
