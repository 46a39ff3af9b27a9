// SPDX-License-Identifier: GPL-2.0
/*
 * chain: N socketpairs, A active chains, W writes; each readable callback
 * reads a byte and writes one to the next pair (libevent's bench.c).
 * Cost per event.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static long chain_once(struct evpoll_poller *p, long n, long a, long w)
{
	struct evpoll_poller_event evs[MAX_EVENTS];
	long left = w, fired = 0, i;

	for (i = 0; i < a && left > 0; i++, left--)
		if (write(pairs[i * n / a].w, "e", 1) != 1)
			die("chain: write: %s", strerror(errno));
	while (fired < w) {
		int k = evpoll_poller_wait(p, evs, MAX_EVENTS, 2000);

		if (k < 0 && k != -EINTR)
			die("chain: wait: %s", strerror(-k));
		if (k == 0) {
			fail("chain %s n=%ld a=%ld: stalled at %ld of %ld events",
			     evpoll_poller_backend_name(p), n, a, fired, w);
			break;
		}
		for (i = 0; i < k; i++) {
			long idx = evs[i].data;
			char c;

			if (read(pairs[idx].r, &c, 1) != 1)
				continue;	/* a stale level, not an event */
			fired++;
			if (left > 0) {
				if (write(pairs[(idx + 1) % n].w, "e", 1) != 1)
					die("chain: write: %s", strerror(errno));
				left--;
			}
		}
	}
	return fired;
}

static void chain_run(struct evpoll_poller *p, long n, long a, int rep)
{
	enum evpoll_backend b = evpoll_poller_backend(p);
	const char *name = evpoll_backend_name(b);
	long w = scaled_writes(b, n, opt.writes, 2 * a);
	struct sample *s;
	struct run r;
	long fired;

	if (w < a)
		w = a;
	run_start(&r);
	fired = chain_once(p, n, a, w);
	s = run_stop(&r, &bench_mode_chain, "event", name, n, a, rep, fired);
	if (fired != w)
		fail("chain %s n=%ld a=%ld: %ld events, expected %ld", name, n,
		     a, fired, w);
	s->extra.chain.writes = w;
}

/* One run per -a value that fits in N. */
static void chain_poller(struct evpoll_poller *p, long n, int rep)
{
	int ai;

	for (ai = 0; ai < opt.nr_as; ai++)
		if (opt.as[ai] <= n)
			chain_run(p, n, opt.as[ai], rep);
}

const struct bench_mode bench_mode_chain = {
	.name		= "chain",
	.param_label	= "A",
	.run_poller	= chain_poller,
};
