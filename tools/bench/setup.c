// SPDX-License-Identifier: GPL-2.0
/*
 * evpoll-bench: set-up helpers.  Errors (fatal or counted), the watched
 * socketpairs (kept across backends), pollers watching them, and the
 * limits and CPU the runs need.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

struct pair *pairs;
static long nr_pairs;
int failures;

/* "evpoll-bench: <what><message>" on stderr. */
static void report(const char *what, const char *fmt, va_list ap)
{
	fprintf(stderr, "evpoll-bench: %s", what);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* A set-up error: the run cannot go on. */
void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("", fmt, ap);
	va_end(ap);
	exit(2);
}

/* A run that went wrong: counted, and the others carry on. */
void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("FAIL: ", fmt, ap);
	va_end(ap);
	failures++;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		die("out of memory");
	return p;
}

void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void raise_nofile(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur >= (rlim_t)want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < (rlim_t)want)
		rl.rlim_max = want;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * Everything runs on CPU 0 (threads and the echo server inherit it): under
 * TCG a wakeup that crosses to a halted vCPU costs milliseconds of host
 * time and a variable number of guest instructions, which would swamp
 * what is measured.  The other vCPU runs the kernel's own work.
 */
void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Make sure at least @n socketpairs exist (kept across backends). */
void pairs_get(long n)
{
	if (n <= nr_pairs)
		return;
	raise_nofile(2 * n + 256);
	pairs = realloc(pairs, n * sizeof(*pairs));
	if (!pairs)
		die("out of memory");
	for (; nr_pairs < n; nr_pairs++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			       0, sv))
			die("socketpair #%ld: %s (RLIMIT_NOFILE?)", nr_pairs,
			    strerror(errno));
		pairs[nr_pairs].r = sv[0];
		pairs[nr_pairs].w = sv[1];
	}
}

void pairs_put(void)
{
	long i;

	for (i = 0; i < nr_pairs; i++) {
		close(pairs[i].r);
		close(pairs[i].w);
	}
	free(pairs);
	pairs = NULL;
	nr_pairs = 0;
}

/* Largest fd number the pairs use (select's limit). */
static int pairs_max_fd(long n)
{
	int m = 0;
	long i;

	for (i = 0; i < n; i++) {
		if (pairs[i].r > m)
			m = pairs[i].r;
		if (pairs[i].w > m)
			m = pairs[i].w;
	}
	return m;
}

bool backend_fits(enum evpoll_backend b, long n)
{
	if (opt.max_n[b] && n > opt.max_n[b])
		return false;
	if (b == EVPOLL_BACKEND_SELECT && pairs_max_fd(n) >= FD_SETSIZE - 16)
		return false;
	return true;
}

/* Backends whose wait scans every watched fd: fewer writes at large N. */
static bool backend_scans(enum evpoll_backend b)
{
	return b == EVPOLL_BACKEND_POLL || b == EVPOLL_BACKEND_SELECT;
}

long scaled_writes(enum evpoll_backend b, long n, long w, long min)
{
	long s;

	if (!backend_scans(b) || n <= 1000)
		return w;
	s = w * 1000 / n;
	if (s < min)
		s = min;
	return s < w ? s : w;
}

/*
 * A zero-timeout wait: makes a backend submit what it defers (uring's ADD
 * and MOD, aio's re-arms) and reap the completions of cancelled requests.
 * Nothing is ready when it is called.  A cancelled aio request holds a
 * context slot until its completion is reaped; the backend reaps them
 * itself when the context fills, and the waits here (one per MAX_EVENTS
 * operations for aio) reap the rest inside the timed run, so aio's
 * churn figures include the cost of its cancellations.
 */
void flush_wait(struct evpoll_poller *p, long ops)
{
	struct evpoll_poller_event evs[MAX_EVENTS];
	long rounds = 1;

	if (evpoll_poller_backend(p) == EVPOLL_BACKEND_AIO)
		rounds = ops / MAX_EVENTS + 2;
	while (rounds--)
		evpoll_poller_wait(p, evs, MAX_EVENTS, 0);
}

/*
 * A poller of backend @b watching the first @n pairs for EPOLLIN (with
 * EPOLLET under -g, on the backends that offer it).
 */
struct evpoll_poller *poller_with(enum evpoll_backend b, long n)
{
	uint32_t events = EPOLLIN;
	struct evpoll_poller *p;
	long i;
	int ret;

	ret = evpoll_poller_new(b, 0, &p);
	if (ret)
		die("%s: poller: %s", evpoll_backend_name(b), strerror(-ret));
	if (opt.edge && (evpoll_poller_caps(p) & EVPOLL_CAP_ET))
		events |= EPOLLET;
	for (i = 0; i < n; i++) {
		ret = evpoll_poller_add(p, pairs[i].r, events, i);
		if (ret)
			die("%s: add #%ld (fd %d): %s", evpoll_backend_name(b), i,
			    pairs[i].r, strerror(-ret));
	}
	/* Submit what a backend defers (uring's ADDs) before timing. */
	flush_wait(p, n);
	return p;
}

void drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/*
 * System calls of the calling thread, counted by the kernel: a counting
 * perf event on the raw_syscalls:sys_enter tracepoint (root, tracefs).
 * -1 where that is not available (the figures then say so).
 */
static __thread int sysc_fd = -2;

long sysc_count(void)
{
	uint64_t v;

	/*
	 * Only in the system call pass (measure.c says why); its counters
	 * stay open to the end, the pass being the last runs.
	 */
	if (!bench_sys_pass)
		return -1;
	if (sysc_fd == -2)
		sysc_fd = bench_sys_counter_open(false);
	if (sysc_fd < 0 || read(sysc_fd, &v, sizeof(v)) != sizeof(v))
		return -1;
	return (long)v;
}

/* System calls per op between two sysc_count() readings, -1 if unknown. */
double sysc_per(long before, long after, long ops)
{
	if (before < 0 || after < 0 || ops <= 0)
		return -1;
	/* The reading itself is a read(2). */
	return (double)(after - before - 1) / ops;
}

/* The module's EVPOLL_FEAT_* bits, 0 without /dev/evpoll. */
uint64_t bench_evpoll_features(void)
{
	uint64_t feat = 0;
	int fd = evpoll_create1(EPOLL_CLOEXEC);

	if (fd < 0)
		return 0;
	if (evpoll_features(fd, &feat))
		feat = 0;
	close(fd);
	return feat;
}
