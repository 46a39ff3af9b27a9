// SPDX-License-Identifier: GPL-2.0
/*
 * toggle: the HAProxy/nginx write pattern, per request: MOD to add
 * EPOLLOUT, write, MOD to take it off, wait.  Through the poller, on
 * epoll, evpoll without batching (EVPOLL_NO_SUBMIT=1), evpoll with it
 * ("evpoll-submit": the two MODs are queued, merge, and go to the kernel
 * in the wait's EVPOLL_IOC_SUBMIT) and io_uring (its backend defers
 * MODs to the wait too).  The written fd is a pipe's write end, watched
 * with no event but EPOLLOUT while the request writes; the wait returns
 * the next request: an eventfd kept readable (level-triggered), so no
 * extra I/O is counted.  "submit-2mod" is evpoll_submit() called
 * directly, without the poller's coalescing: both MODs and the wait in
 * one EVPOLL_IOC_SUBMIT (what the kernel's batching alone saves).  Per
 * request: instructions, wall time, and the system calls the thread made
 * (sysc_count()).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench.h"

/* The variants, in the order they run (epoll first: the reference). */
static const struct toggle_variant {
	const char *name;
	enum evpoll_backend backend;
	bool no_submit;		/* EVPOLL_NO_SUBMIT=1 */
	bool batched;		/* must have EVPOLL_CAP_BATCHED */
} toggle_variants[] = {
	{ "epoll", EVPOLL_BACKEND_EPOLL, false, false },
	{ "evpoll", EVPOLL_BACKEND_EVPOLL, true, false },
	{ "evpoll-submit", EVPOLL_BACKEND_EVPOLL, false, true },
	{ "uring", EVPOLL_BACKEND_URING, false, false },
};

/* A poller of @v's backend in @v's mode, NULL if it cannot be had here. */
struct evpoll_poller *bench_variant_poller(enum evpoll_backend b,
					   bool no_submit, bool batched)
{
	struct evpoll_poller *p;
	int ret;

	if (evpoll_backend_probe(b))
		return NULL;
	if (no_submit)
		setenv("EVPOLL_NO_SUBMIT", "1", 1);
	ret = evpoll_poller_new(b, 0, &p);
	unsetenv("EVPOLL_NO_SUBMIT");
	if (ret)
		die("%s: poller: %s", evpoll_backend_name(b), strerror(-ret));
	if (batched != !!(evpoll_poller_caps(p) & EVPOLL_CAP_BATCHED)) {
		evpoll_poller_free(p);
		return NULL;
	}
	return p;
}

/* End the timed run of @name: its sample, then close @fds (-1 ended). */
static void toggle_stop(struct run *r, const char *name, long reqs, int rep,
			long sc0, const int *fds)
{
	struct sample *s = run_stop(r, &bench_mode_toggle, "request", name, 1,
				    0, rep, reqs);

	s->extra.v2.syscalls = sysc_per(sc0, sysc_count(), reqs);
	s->extra.v2.waits = 1;
	for (; *fds >= 0; fds++)
		close(*fds);
}

static void toggle_run(const struct toggle_variant *v, long reqs, int rep)
{
	struct evpoll_poller_event evs[4];
	struct evpoll_poller *p;
	long i, sc0;
	struct run r;
	int pfd[2], efd, ret = 0;
	char buf[4096];

	p = bench_variant_poller(v->backend, v->no_submit, v->batched);
	if (!p)
		return;
	efd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0 || pipe2(pfd, O_NONBLOCK | O_CLOEXEC))
		die("toggle: %s", strerror(errno));
	if (evpoll_poller_add(p, efd, EPOLLIN, 1) ||
	    evpoll_poller_add(p, pfd[1], 0, 2))
		die("toggle %s: add", v->name);
	flush_wait(p, 2);
	sc0 = sysc_count();
	run_start(&r);
	for (i = 0; i < reqs && !ret; i++) {
		ret = evpoll_poller_mod(p, pfd[1], EPOLLOUT, 2);
		if (!ret && write(pfd[1], "r", 1) != 1)
			die("toggle: write: %s", strerror(errno));
		if (!ret)
			ret = evpoll_poller_mod(p, pfd[1], 0, 2);
		if (!ret)
			ret = evpoll_poller_wait(p, evs, 4, 0);
		if (ret > 0 && evs[0].data != 1)
			die("toggle %s: EPOLLOUT reported after its MOD",
			    v->name);
		if (ret > 0)
			ret = 0;
		/* The pipe holds 64 KiB: empty it now and then. */
		if ((i & 1023) == 1023 && read(pfd[0], buf, sizeof(buf)) < 0)
			die("toggle: read: %s", strerror(errno));
	}
	if (ret)
		die("toggle %s: %s", v->name, strerror(-ret));
	toggle_stop(&r, v->name, reqs, rep, sc0,
		    (const int[]){ efd, pfd[0], pfd[1], -1 });
	evpoll_poller_free(p);
}

/* The two MODs and the wait in one evpoll_submit(), no poller. */
static void toggle_raw(long reqs, int rep)
{
	struct timespec zero = { 0 };
	struct evpoll_wait_opts o = { .timeout = &zero };
	struct epoll_event evs[4], ev = { .events = EPOLLIN };
	struct evpoll_change c[2] = {
		{ .op = EPOLL_CTL_MOD, .event = { .events = EPOLLOUT } },
		{ .op = EPOLL_CTL_MOD, .event = { .events = 0 } },
	};
	int pfd[2], efd, set;
	long i, sc0;
	struct run r;
	char buf[4096];

	if (!(bench_evpoll_features() & EVPOLL_FEAT_SUBMIT))
		return;
	set = evpoll_create1(EPOLL_CLOEXEC);
	efd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
	if (set < 0 || efd < 0 || pipe2(pfd, O_NONBLOCK | O_CLOEXEC) ||
	    evpoll_ctl(set, EPOLL_CTL_ADD, efd, &ev))
		die("toggle: %s", strerror(errno));
	ev.events = 0;
	if (evpoll_ctl(set, EPOLL_CTL_ADD, pfd[1], &ev))
		die("toggle: %s", strerror(errno));
	c[0].fd = c[1].fd = pfd[1];
	sc0 = sysc_count();
	run_start(&r);
	for (i = 0; i < reqs; i++) {
		if (write(pfd[1], "r", 1) != 1)
			die("toggle: write: %s", strerror(errno));
		if (evpoll_submit(set, c, 2, evs, 4, &o) != 1 ||
		    c[0].result || c[1].result)
			die("toggle submit-2mod: %s", strerror(errno));
		if ((i & 1023) == 1023 && read(pfd[0], buf, sizeof(buf)) < 0)
			die("toggle: read: %s", strerror(errno));
	}
	toggle_stop(&r, "submit-2mod", reqs, rep, sc0,
		    (const int[]){ set, efd, pfd[0], pfd[1], -1 });
}

static void toggle_all(void)
{
	long reqs = opt.writes * 10;
	size_t vi;
	int rep;

	for (rep = 0; rep < opt.repeats; rep++) {
		for (vi = 0; vi < ARRAY_SIZE(toggle_variants); vi++)
			toggle_run(&toggle_variants[(vi + rep) %
						    ARRAY_SIZE(toggle_variants)],
				   reqs, rep);
		toggle_raw(reqs, rep);
	}
}

/* "syscalls/op", or "-" where the kernel could not count them. */
void bench_format_syscalls(char *buf, size_t len, const union bench_extra *x)
{
	if (x->v2.syscalls < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2f", x->v2.syscalls);
}

const struct bench_mode bench_mode_toggle = {
	.name		= "toggle",
	.per		= "request",
	.extra_label	= "syscalls/request",
	.run		= toggle_all,
	.format		= bench_format_syscalls,
};
