// SPDX-License-Identifier: GPL-2.0
/*
 * churn: modify, remove and add back K of the N watched fds.  Cost per
 * operation, one metric each (mod, del, add).
 */
#include <string.h>

#include "bench.h"

static void churn_settle(struct evpoll_poller *p, long k)
{
	flush_wait(p, k);
	sleep_ms(opt.pause_ms);
}

/* pairs[i].r: "mod" toggles EPOLLPRI (every backend maps it somewhere). */
static int churn_op(struct evpoll_poller *p, const char *op, long i)
{
	if (!strcmp(op, "mod"))
		return evpoll_poller_mod(p, pairs[i].r, EPOLLIN | EPOLLPRI, i);
	if (!strcmp(op, "del"))
		return evpoll_poller_del(p, pairs[i].r);
	return evpoll_poller_add(p, pairs[i].r, EPOLLIN, i);
}

/* One timed run of @op on K fds spread over the N, then a pause. */
static void churn_run(struct evpoll_poller *p, const char *op, long n, long k,
		      int rep)
{
	const char *name = evpoll_poller_backend_name(p);
	struct run r;
	long j;
	int ret;

	run_start(&r);
	for (j = 0; j < k; j++) {
		ret = churn_op(p, op, j * n / k);
		if (ret)
			die("churn %s: %s: %s", name, op, strerror(-ret));
	}
	flush_wait(p, k);
	run_stop(&r, &bench_mode_churn, op, name, n, k, rep, k);
	churn_settle(p, k);
}

/* Leaves the same fds watched as it found, with EPOLLIN. */
static void churn_poller(struct evpoll_poller *p, long n, int rep)
{
	long k = opt.churn_ops < n ? opt.churn_ops : n;

	churn_settle(p, k);
	churn_run(p, "mod", n, k, rep);
	churn_run(p, "del", n, k, rep);
	churn_run(p, "add", n, k, rep);
}

const struct bench_mode bench_mode_churn = {
	.name		= "churn",
	.param_label	= "K",
	.run_poller	= churn_poller,
};
