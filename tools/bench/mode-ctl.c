// SPDX-License-Identifier: GPL-2.0
/*
 * ctl: one epoll_ctl() as a program sees it, and the floor of a system
 * call, without the poller.  Issue #14 part A.
 *
 * churn measures an operation through libevpoll's poller: its own
 * bookkeeping (the fd table, the tag) is the same for every backend and
 * is counted on both sides of the ratio, which brings evpoll's ratio
 * closer to 1 than what a program calling epoll_ctl() itself pays.  This
 * mode makes the calls directly, with N fds watched, K of them modified
 * (EPOLLIN to EPOLLIN|EPOLLPRI), removed, then added back, one call each:
 *
 *   epoll   the C library's epoll_ctl() on a kernel epoll instance
 *   evpoll  libevpoll's evpoll_ctl() on /dev/evpoll
 *   shim    libevpoll-preload.so's epoll_ctl() (dlopen()ed) on an
 *	     instance its epoll_create1() made: the routing of the
 *	     LD_PRELOAD shim included, as an unmodified program pays it
 *   batch   the same K changes in one evpoll_submit() (version 2), per
 *	     change: what a program that batches its changes pays
 *
 * a zero-timeout wait that finds nothing ready (metric "wait0": what a
 * WAIT costs before it delivers anything), and the floor of each side's
 * entry, metric "floor": epoll_wait() with maxevents 0 (EINVAL before
 * the fd is looked at) against an evpoll ioctl() with an unknown command
 * (ENOTTY from the module, after the generic ioctl path).  One of the
 * default modes, so that make run prints it beside churn.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/evpoll.h>

#include "bench.h"

/* An ioctl number the module does not know: the dispatch floor. */
#define CTL_BAD_IOCTL	_IO(EVPOLL_IOC_MAGIC, 15)

typedef int (*ctl_create1_fn)(int);
typedef int (*ctl_ctl_fn)(int, int, int, struct epoll_event *);
typedef int (*ctl_wait_fn)(int, struct epoll_event *, int, int);

struct ctl_side {
	const char *name;
	ctl_create1_fn create1;
	ctl_ctl_fn ctl;
	ctl_wait_fn wait;
};

static int ctl_kernel_create1(int flags)
{
	return epoll_create1(flags);
}

static int ctl_kernel_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	return epoll_ctl(epfd, op, fd, ev);
}

static int ctl_kernel_wait(int epfd, struct epoll_event *evs, int max,
			   int timeout)
{
	return epoll_wait(epfd, evs, max, timeout);
}

static struct ctl_side ctl_sides[3] = {
	{ "epoll", ctl_kernel_create1, ctl_kernel_ctl, ctl_kernel_wait },
	{ "evpoll", evpoll_create1, evpoll_ctl, evpoll_wait },
	{ "shim", NULL, NULL, NULL },	/* filled in by ctl_shim_open() */
};

/*
 * The shim's own entry points: $EVPOLL_BENCH_PRELOAD, else the one of the
 * build tree (../lib/ beside the binary), else the installed one.
 */
static bool ctl_shim_open(void)
{
	static int tried;
	static bool ok;
	const char *path = getenv("EVPOLL_BENCH_PRELOAD");
	char exe[4096];
	ssize_t len;
	void *h = NULL;

	if (tried)
		return ok;
	tried = 1;
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 32);
	if (!path && len > 0) {
		char *slash;

		exe[len] = 0;
		slash = strrchr(exe, '/');
		if (slash) {
			strcpy(slash, "/../lib/libevpoll-preload.so");
			h = dlopen(exe, RTLD_NOW | RTLD_LOCAL);
		}
	}
	if (!h)
		h = dlopen(path ? path : "libevpoll-preload.so",
			   RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "evpoll-bench: ctl: no shim (%s): shim row skipped\n",
			dlerror());
		return false;
	}
	ctl_sides[2].create1 = (ctl_create1_fn)dlsym(h, "epoll_create1");
	ctl_sides[2].ctl = (ctl_ctl_fn)dlsym(h, "epoll_ctl");
	ctl_sides[2].wait = (ctl_wait_fn)dlsym(h, "epoll_wait");
	ok = ctl_sides[2].create1 && ctl_sides[2].ctl && ctl_sides[2].wait;
	return ok;
}

static int ctl_op(const struct ctl_side *s, int epfd, const char *op, long i)
{
	struct epoll_event ev = { .data.u64 = i };

	if (!strcmp(op, "mod")) {
		ev.events = EPOLLIN | EPOLLPRI;
		return s->ctl(epfd, EPOLL_CTL_MOD, pairs[i].r, &ev);
	}
	if (!strcmp(op, "del"))
		return s->ctl(epfd, EPOLL_CTL_DEL, pairs[i].r, NULL);
	ev.events = EPOLLIN;
	return s->ctl(epfd, EPOLL_CTL_ADD, pairs[i].r, &ev);
}

static void ctl_run(const struct ctl_side *s, int epfd, const char *op,
		    long n, long k, int rep)
{
	struct run r;
	long j, idx[1024];

	for (j = 0; j < k; j++)
		idx[j] = j * n / k;
	run_start(&r);
	for (j = 0; j < k; j++)
		if (ctl_op(s, epfd, op, idx[j]))
			die("ctl %s: %s: %s", s->name, op, strerror(errno));
	run_stop(&r, &bench_mode_ctl, op, s->name, n, k, rep, k);
	sleep_ms(opt.pause_ms);		/* deferred frees */
}

/* The K changes of @op in one evpoll_submit(), timed per change. */
static void ctl_batch(int epfd, const char *op, long n, long k, int rep)
{
	static struct evpoll_change ch[1024];
	struct run r;
	long j;
	int ret;

	for (j = 0; j < k; j++) {
		long i = j * n / k;

		memset(&ch[j], 0, sizeof(ch[j]));
		ch[j].fd = pairs[i].r;
		ch[j].event.data.u64 = i;
		if (!strcmp(op, "mod")) {
			ch[j].op = EPOLL_CTL_MOD;
			ch[j].event.events = EPOLLIN | EPOLLPRI;
		} else if (!strcmp(op, "del")) {
			ch[j].op = EPOLL_CTL_DEL;
		} else {
			ch[j].op = EPOLL_CTL_ADD;
			ch[j].event.events = EPOLLIN;
		}
	}
	run_start(&r);
	ret = evpoll_submit(epfd, ch, (int)k, NULL, 0, NULL);
	run_stop(&r, &bench_mode_ctl, op, "batch", n, k, rep, k);
	if (ret < 0)
		die("ctl batch: %s: %s", op, strerror(errno));
	for (j = 0; j < k; j++)
		if (ch[j].result)
			die("ctl batch: %s #%ld: %s", op, j,
			    strerror(-ch[j].result));
	sleep_ms(opt.pause_ms);
}

static void ctl_floor(const struct ctl_side *s, int epfd, long k, int rep)
{
	struct epoll_event ev;
	struct run r;
	long j;

	run_start(&r);
	for (j = 0; j < k; j++) {
		if (s->create1 == ctl_kernel_create1) {
			if (epoll_wait(epfd, &ev, 0, 0) != -1)
				die("ctl floor: epoll_wait(maxevents 0) did not fail");
		} else if (ioctl(epfd, CTL_BAD_IOCTL, 0) != -1) {
			die("ctl floor: bad ioctl did not fail");
		}
	}
	run_stop(&r, &bench_mode_ctl, "floor", s->name, 1, k, rep, k);
}

/* A zero-timeout wait that finds nothing ready: a WAIT's fixed cost. */
static void ctl_wait0(const struct ctl_side *s, int epfd, long n, long k,
		      int rep)
{
	struct epoll_event evs[4];
	struct run r;
	long j;

	run_start(&r);
	for (j = 0; j < k; j++)
		if (s->wait(epfd, evs, 4, 0) != 0)
			die("ctl %s: empty wait: %s", s->name, strerror(errno));
	run_stop(&r, &bench_mode_ctl, "wait0", s->name, n, k, rep, k);
}

/* Per N, repeat and backend: epoll runs the kernel side, evpoll ours. */
static void ctl_backend_n(enum evpoll_backend b, long n, int rep)
{
	long k = opt.churn_ops < n ? opt.churn_ops : n;
	int si, first, last, epfd;
	long i;

	if (k > 1024)
		k = 1024;
	if (b == EVPOLL_BACKEND_EPOLL) {
		first = last = 0;
	} else if (b == EVPOLL_BACKEND_EVPOLL) {
		first = 1;
		last = ctl_shim_open() ? 2 : 1;
	} else {
		return;
	}
	for (si = first; si <= last; si++) {
		const struct ctl_side *s = &ctl_sides[si];
		struct epoll_event ev = { .events = EPOLLIN };

		epfd = s->create1(EPOLL_CLOEXEC);
		if (epfd < 0)
			die("ctl %s: create: %s", s->name, strerror(errno));
		for (i = 0; i < n; i++) {
			ev.data.u64 = i;
			if (s->ctl(epfd, EPOLL_CTL_ADD, pairs[i].r, &ev))
				die("ctl %s: add #%ld: %s", s->name, i,
				    strerror(errno));
		}
		sleep_ms(opt.pause_ms);
		ctl_wait0(s, epfd, n, k, rep);
		ctl_run(s, epfd, "mod", n, k, rep);
		ctl_run(s, epfd, "del", n, k, rep);
		ctl_run(s, epfd, "add", n, k, rep);
		if (si < 2 && n == opt.ns[0])
			ctl_floor(s, epfd, k, rep);
		if (si == 1) {
			ctl_batch(epfd, "mod", n, k, rep);
			ctl_batch(epfd, "del", n, k, rep);
			ctl_batch(epfd, "add", n, k, rep);
		}
		close(epfd);
		sleep_ms(opt.pause_ms);
	}
}

const struct bench_mode bench_mode_ctl = {
	.name		= "ctl",
	.param_label	= "K",
	.run_backend_n	= ctl_backend_n,
};
