// SPDX-License-Identifier: GPL-2.0
/*
 * batch-add: register N fds (the first N socketpairs' watched ends) in a
 * new set, one system call per fd (epoll_ctl, evpoll_ctl) against one
 * batch: evpoll_submit() with N changes ("evpoll-submit": slices of
 * EVPOLL_SUBMIT_MAX changes per EVPOLL_IOC_SUBMIT) and io_uring poll-add
 * SQEs submitted a ring at a time ("uring-batch", liburing).  Cost per fd,
 * and the system calls per fd.
 */
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define BADD_RING	4096

static void badd_epoll(int (*create1)(int),
		       int (*ctl)(int, int, int, struct epoll_event *),
		       int *set, long n)
{
	struct epoll_event ev = { .events = EPOLLIN };
	long i;

	*set = create1(EPOLL_CLOEXEC);
	if (*set < 0)
		die("batch-add: create: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		ev.data.u64 = i;
		if (ctl(*set, EPOLL_CTL_ADD, pairs[i].r, &ev))
			die("batch-add: ctl #%ld: %s", i, strerror(errno));
	}
}

static void badd_submit(struct evpoll_change *c, int set, long n)
{
	long i;

	for (i = 0; i < n; i++) {
		c[i].op = EPOLL_CTL_ADD;
		c[i].fd = pairs[i].r;
		c[i].event.events = EPOLLIN;
		c[i].event.data.u64 = i;
		c[i].result = 1;
	}
	if (evpoll_submit(set, c, n, NULL, 0, NULL) < 0)
		die("batch-add: submit: %s", strerror(errno));
	for (i = 0; i < n; i++)
		if (c[i].result)
			die("batch-add: change #%ld: %s", i,
			    strerror(-c[i].result));
}

static void badd_uring(struct io_uring *ring, long n)
{
	struct io_uring_sqe *sqe;
	long i;
	int ret;

	for (i = 0; i < n; i++) {
		sqe = io_uring_get_sqe(ring);
		if (!sqe) {
			ret = io_uring_submit(ring);
			if (ret < 0)
				die("batch-add: uring submit: %s", strerror(-ret));
			sqe = io_uring_get_sqe(ring);
		}
		io_uring_prep_poll_add(sqe, pairs[i].r, POLLIN);
		io_uring_sqe_set_data64(sqe, i + 1);
	}
	ret = io_uring_submit(ring);
	if (ret < 0)
		die("batch-add: uring submit: %s", strerror(-ret));
}

enum badd_kind { BADD_EPOLL, BADD_EVPOLL, BADD_SUBMIT, BADD_URING };

static const char *const badd_names[] = {
	[BADD_EPOLL] = "epoll",
	[BADD_EVPOLL] = "evpoll",
	[BADD_SUBMIT] = "evpoll-submit",
	[BADD_URING] = "uring-batch",
};

static bool badd_available(enum badd_kind k)
{
	switch (k) {
	case BADD_EPOLL:
		return true;
	case BADD_URING:
		return evpoll_backend_probe(EVPOLL_BACKEND_URING) == 0;
	case BADD_EVPOLL:
		return evpoll_backend_probe(EVPOLL_BACKEND_EVPOLL) == 0;
	default:
		return bench_evpoll_features() & EVPOLL_FEAT_SUBMIT;
	}
}

static void badd_run(enum badd_kind k, long n, int rep,
		     struct evpoll_change *c)
{
	struct io_uring ring;
	struct sample *s;
	long sc0, sc1;
	struct run r;
	int set = -1, ret;

	if (k == BADD_SUBMIT) {
		set = evpoll_create1(EPOLL_CLOEXEC);
		if (set < 0)
			die("batch-add: create: %s", strerror(errno));
	}
	if (k == BADD_URING) {
		ret = io_uring_queue_init(BADD_RING, &ring, 0);
		if (ret < 0)
			die("batch-add: uring: %s", strerror(-ret));
	}
	sc0 = sysc_count();
	run_start(&r);
	switch (k) {
	case BADD_EPOLL:
		badd_epoll(epoll_create1, epoll_ctl, &set, n);
		break;
	case BADD_EVPOLL:
		badd_epoll(evpoll_create1, evpoll_ctl, &set, n);
		break;
	case BADD_SUBMIT:
		badd_submit(c, set, n);
		break;
	case BADD_URING:
		badd_uring(&ring, n);
		break;
	}
	s = run_stop(&r, &bench_mode_batch_add, "add", badd_names[k], n, 0,
		     rep, n);
	sc1 = sysc_count();
	s->extra.v2.syscalls = sysc_per(sc0, sc1, n);
	if (k == BADD_URING)
		io_uring_queue_exit(&ring);
	else
		close(set);
	sleep_ms(opt.pause_ms);
}

static void badd_all(void)
{
	long maxn = 0, n;
	struct evpoll_change *c;
	int ni, rep, ki, nk = ARRAY_SIZE(badd_names);

	for (ni = 0; ni < opt.nr_ns; ni++)
		if (opt.ns[ni] > maxn)
			maxn = opt.ns[ni];
	pairs_get(maxn);
	c = xcalloc(maxn, sizeof(*c));
	for (ni = 0; ni < opt.nr_ns; ni++) {
		n = opt.ns[ni];
		for (rep = 0; rep < opt.repeats; rep++)
			for (ki = 0; ki < nk; ki++) {
				enum badd_kind k = (ki + rep) % nk;

				if (badd_available(k))
					badd_run(k, n, rep, c);
			}
	}
	free(c);
	pairs_put();	/* the next pass's N loop makes its own */
}

const struct bench_mode bench_mode_batch_add = {
	.name		= "batch-add",
	.per		= "fd",
	.extra_label	= "syscalls/fd",
	.run		= badd_all,
	.format		= bench_format_syscalls,
};
