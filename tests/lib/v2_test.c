// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * v2_test.c - the library's version 2 names (DESIGN.md, "Version 2"):
 * evpoll_submit() with struct evpoll_change and struct evpoll_wait_opts,
 * the new ops and flags, user events, evpoll_features().  Needs the
 * module (guest only).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "evpoll.h"
#include "helpers.h"
#include "kselftest_harness.h"

/* The new names do not clash with epoll's. */
_Static_assert(!((EVPOLLDISPATCH | EVPOLLREMOVED) &
		 (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | EPOLLHUP |
		  0x20U | EPOLLRDNORM | EPOLLRDBAND | EPOLLWRNORM |
		  EPOLLWRBAND | EPOLLMSG | EPOLLRDHUP | EPOLLEXCLUSIVE |
		  EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | (1U << 27))),
	       "EVPOLL flags clash with EPOLL ones");
_Static_assert(EVPOLL_CTL_DISABLE != EPOLL_CTL_ADD &&
	       EVPOLL_CTL_DISABLE != EPOLL_CTL_DEL &&
	       EVPOLL_CTL_DISABLE != EPOLL_CTL_MOD &&
	       EVPOLL_CTL_ENABLE > EPOLL_CTL_MOD &&
	       EVPOLL_CTL_DEL_NOTIFY > EPOLL_CTL_MOD, "EVPOLL_CTL clash");

FIXTURE(v2) {
	int evfd;
	int p[2];
};

FIXTURE_SETUP(v2)
{
	self->evfd = evpoll_create1(EVPOLL_CLOEXEC);
	ASSERT_GE(self->evfd, 0) TH_LOG("evpoll_create1: %s",
					strerror(errno));
	ASSERT_EQ(pipe2(self->p, O_NONBLOCK), 0);
}

FIXTURE_TEARDOWN(v2)
{
	close(self->p[0]);
	close(self->p[1]);
	close(self->evfd);
}

static struct evpoll_change chg(int op, int fd, uint32_t events,
				uint64_t data)
{
	struct evpoll_change c = { .op = op, .fd = fd, .result = 1 };

	c.event.events = events;
	c.event.data.u64 = data;
	return c;
}

TEST_F(v2, features)
{
	uint64_t mask = 0;

	ASSERT_EQ(evpoll_features(self->evfd, &mask), 0);
	EXPECT_TRUE(mask & EVPOLL_FEAT_SUBMIT);
	EXPECT_TRUE(mask & EVPOLL_FEAT_MIN_WAIT);
	EXPECT_TRUE(mask & EVPOLL_FEAT_DISPATCH);
	EXPECT_TRUE(mask & EVPOLL_FEAT_TOMBSTONE);
	EXPECT_TRUE(mask & EVPOLL_FEAT_USER);
	EXPECT_TRUE(mask & EVPOLL_FEAT_COUNTERS);
	EXPECT_TRUE(mask & EVPOLL_FEAT_RING);
	EXPECT_EQ(evpoll_features(self->p[0], &mask), -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(evpoll_features(-1, &mask), -1);
	EXPECT_EQ(errno, EBADF);
}

TEST_F(v2, submit_results_and_wait)
{
	struct evpoll_change c[3];
	struct epoll_event ev[4];
	struct timespec ts = { 0, 0 };
	struct evpoll_wait_opts o = { .timeout = &ts };

	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	c[0] = chg(EPOLL_CTL_ADD, self->p[0], EPOLLIN, 11);
	c[1] = chg(EPOLL_CTL_ADD, self->p[0], EPOLLIN, 12);
	c[2] = chg(EPOLL_CTL_DEL, -1, 0, 0);
	ASSERT_EQ(evpoll_submit(self->evfd, c, 3, ev, 4, &o), 1);
	EXPECT_EQ(c[0].result, 0);
	EXPECT_EQ(c[1].result, -EEXIST);
	EXPECT_EQ(c[2].result, -EBADF);
	EXPECT_EQ(ev[0].data.u64, 11);
	/* opts NULL: block until an event (one is there). */
	EXPECT_EQ(evpoll_submit(self->evfd, NULL, 0, ev, 4, NULL), 1);
	/* maxevents 0: changes only. */
	c[0] = chg(EVPOLL_CTL_DISABLE, self->p[0], 0, 0);
	EXPECT_EQ(evpoll_submit(self->evfd, c, 1, NULL, 0, NULL), 0);
	EXPECT_EQ(c[0].result, 0);
	EXPECT_EQ(evpoll_submit(self->evfd, NULL, 0, ev, 4, &o), 0);
	/* Bad calls. */
	EXPECT_EQ(evpoll_submit(self->evfd, c, -1, ev, 4, &o), -1);
	EXPECT_EQ(errno, EINVAL);
	ts.tv_nsec = 1000000000L;
	EXPECT_EQ(evpoll_submit(self->evfd, NULL, 0, ev, 4, &o), -1);
	EXPECT_EQ(errno, EINVAL);
	ts.tv_nsec = 0;
	EXPECT_EQ(evpoll_submit(self->p[0], NULL, 0, ev, 4, &o), -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(evpoll_submit(-1, NULL, 0, ev, 4, &o), -1);
	EXPECT_EQ(errno, EBADF);
}

/* More changes than one ioctl takes: sliced, all applied, then the wait. */
TEST_F(v2, submit_many_changes)
{
	const int n = 2500;
	struct evpoll_change *c = calloc(n, sizeof(*c));
	struct timespec ts = { 0, 0 };
	struct evpoll_wait_opts o = { .timeout = &ts, .min_events = 99 };
	struct epoll_event ev[2];

	ASSERT_NE(c, NULL);
	c[0] = chg(EPOLL_CTL_ADD, self->p[0], EPOLLIN, 0);
	for (int i = 1; i < n; i++)
		c[i] = chg(EPOLL_CTL_MOD, self->p[0], EPOLLIN, i);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(evpoll_submit(self->evfd, c, n, ev, 2, &o), 1);
	for (int i = 0; i < n; i++)
		ASSERT_EQ(c[i].result, 0);
	EXPECT_EQ(ev[0].data.u64, n - 1);
	free(c);
}

/* evpoll_ctl() stays epoll_ctl(): the new ops are EINVAL. */
TEST_F(v2, ctl_refuses_new_ops)
{
	struct epoll_event e = { .events = EPOLLIN };

	EXPECT_EQ(evpoll_ctl(self->evfd, EPOLL_CTL_ADD, self->p[0], &e), 0);
	EXPECT_EQ(evpoll_ctl(self->evfd, EVPOLL_CTL_DISABLE, self->p[0], &e),
		  -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(evpoll_ctl(self->evfd, EVPOLL_CTL_ENABLE, self->p[0], &e),
		  -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(evpoll_ctl(self->evfd, EVPOLL_CTL_DEL_NOTIFY, self->p[0],
			     &e), -1);
	EXPECT_EQ(errno, EINVAL);
}

TEST_F(v2, user_events)
{
	struct timespec ts = { 0, 0 };
	struct evpoll_wait_opts o = { .timeout = &ts };
	struct evpoll_change c;
	struct epoll_event ev[2];
	int id = evpoll_user_add(self->evfd, 77, EPOLLIN | EVPOLLDISPATCH);

	ASSERT_GE(id, 0);
	EXPECT_EQ(evpoll_user_trigger(self->evfd, id), 0);
	EXPECT_EQ(evpoll_user_trigger(self->evfd, id), 0);
	ASSERT_EQ(evpoll_wait(self->evfd, ev, 2, 0), 1);
	EXPECT_EQ(ev[0].events, EPOLLIN);
	EXPECT_EQ(ev[0].data.u64, 77);
	EXPECT_EQ(evpoll_user_trigger(self->evfd, id), 0);
	EXPECT_EQ(evpoll_wait(self->evfd, ev, 2, 0), 0);
	c = chg(EVPOLL_CTL_ENABLE, id, 0, 0);
	ASSERT_EQ(evpoll_submit(self->evfd, &c, 1, ev, 2, &o), 1);
	EXPECT_EQ(c.result, 0);
	EXPECT_EQ(ev[0].data.u64, 77);
	EXPECT_EQ(evpoll_user_del(self->evfd, id), 0);
	EXPECT_EQ(evpoll_user_trigger(self->evfd, id), -1);
	EXPECT_EQ(errno, ENOENT);
	EXPECT_EQ(evpoll_user_del(self->evfd, id), -1);
	EXPECT_EQ(errno, ENOENT);
	EXPECT_EQ(evpoll_user_add(self->evfd, 1, EPOLLOUT), -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(evpoll_user_trigger(self->p[0], id), -1);
	EXPECT_EQ(errno, EINVAL);
}

TEST_F(v2, tombstone)
{
	struct evpoll_change c = chg(EPOLL_CTL_ADD, self->p[0],
				     EPOLLIN | EVPOLLREMOVED, 5);
	struct epoll_event ev[2];

	ASSERT_EQ(evpoll_submit(self->evfd, &c, 1, NULL, 0, NULL), 0);
	c = chg(EVPOLL_CTL_DEL_NOTIFY, self->p[0], 0, 0);
	ASSERT_EQ(evpoll_submit(self->evfd, &c, 1, ev, 2, NULL), 1);
	EXPECT_EQ(ev[0].events, EVPOLLREMOVED);
	EXPECT_EQ(ev[0].data.u64, 5);
}

/* The event ring through the library: liburing-style results. */
TEST_F(v2, ring_setup_harvest_wait_free)
{
	struct timespec zero = { 0 }, ms10 = { .tv_nsec = 10000000 };
	struct evpoll_wait_opts o0 = { .timeout = &zero };
	struct evpoll_wait_opts o10 = { .timeout = &ms10 };
	struct evpoll_ring *r = NULL, *r2 = NULL;
	struct epoll_event ev[4];
	struct epoll_event e = { .events = EPOLLIN | EPOLLET, .data.u64 = 9 };

	EXPECT_EQ(evpoll_ring_setup(self->evfd, 3, &r), -EINVAL);
	EXPECT_EQ(evpoll_ring_setup(self->p[0], 8, &r), -EINVAL);
	EXPECT_EQ(evpoll_ring_setup(self->evfd, 8, NULL), -EINVAL);
	EXPECT_EQ(evpoll_ring_setup_flags(self->evfd, 8, 1U << 9, &r),
		  -EINVAL);
	ASSERT_EQ(evpoll_ring_setup(self->evfd, 8, &r), 0);
	/* The same ring again; another size: EBUSY. */
	ASSERT_EQ(evpoll_ring_setup(self->evfd, 8, &r2), 0);
	EXPECT_EQ(evpoll_ring_setup(self->evfd, 16, &r2), -EBUSY);
	ASSERT_EQ(evpoll_ctl(self->evfd, EPOLL_CTL_ADD, self->p[0], &e), 0);
	EXPECT_EQ(evpoll_ring_harvest(r, ev, 4), 0);
	EXPECT_EQ(evpoll_ring_harvest(r, ev, 0), -EINVAL);
	EXPECT_EQ(evpoll_ring_wait(r, ev, 4, &o0), 0);
	EXPECT_EQ(evpoll_ring_wait(r, ev, 4, &o10), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(evpoll_ring_harvest(r, ev, 4), 1);
	EXPECT_EQ(ev[0].events, EPOLLIN);
	EXPECT_EQ(ev[0].data.u64, 9);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	/* The second mapping sees the same ring. */
	ASSERT_EQ(evpoll_ring_wait(r2, ev, 4, NULL), 1);
	EXPECT_EQ(ev[0].data.u64, 9);
	evpoll_ring_free(r2);
	evpoll_ring_free(r);
	evpoll_ring_free(NULL);
}

/* EVPOLL_RING_LT_STRICT: each wait reports a still-ready LT fd. */
TEST_F(v2, ring_lt_strict_reports_every_wait)
{
	struct timespec zero = { 0 };
	struct evpoll_wait_opts o0 = { .timeout = &zero };
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = 4 };
	struct epoll_event f = { .events = EPOLLIN | EPOLLET, .data.u64 = 5 };
	struct evpoll_ring *r;
	struct epoll_event ev[4];
	char buf[8];
	int q[2], n;

	ASSERT_EQ(pipe2(q, O_NONBLOCK), 0);
	ASSERT_EQ(evpoll_ring_setup_flags(self->evfd, 8, EVPOLL_RING_LT_STRICT,
					  &r), 0);
	ASSERT_EQ(evpoll_ctl(self->evfd, EPOLL_CTL_ADD, self->p[0], &e), 0);
	ASSERT_EQ(evpoll_ctl(self->evfd, EPOLL_CTL_ADD, q[0], &f), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(evpoll_ring_wait(r, ev, 4, &o0), 1);
	EXPECT_EQ(ev[0].data.u64, 4);
	/* The ET fd comes from the ring, the LT one from the kernel. */
	ASSERT_EQ(write(q[1], "x", 1), 1);
	n = evpoll_ring_wait(r, ev, 4, &o0);
	ASSERT_EQ(n, 2);
	EXPECT_EQ(ev[0].data.u64 + ev[1].data.u64, 9);
	ASSERT_EQ(evpoll_ring_wait(r, ev, 4, &o0), 1);
	EXPECT_EQ(ev[0].data.u64, 4);
	ASSERT_EQ(read(self->p[0], buf, sizeof(buf)), 1);
	EXPECT_EQ(evpoll_ring_wait(r, ev, 4, &o0), 0);
	evpoll_ring_free(r);
	close(q[0]);
	close(q[1]);
}

/*
 * evpoll_ring_wait()'s two paths: events in the ring are returned by the
 * harvest, before the timeout is looked at; an empty ring waits in the
 * kernel until its timeout expires or another thread's write posts one.
 */
/*
 * A thread in evpoll_ring_wait(@r, @o) or, with @p set, in
 * evpoll_poller_wait(@p, @ms); its result in @ret.
 */
struct ring_waiter {
	struct evpoll_ring *r;
	const struct evpoll_wait_opts *o;
	struct epoll_event ev[4];
	struct evpoll_poller *p;
	int ms;
	struct evpoll_poller_event pev[4];
	pid_t tid;
	int ret;
};

static void *ring_waiter_fn(void *arg)
{
	struct ring_waiter *w = arg;

	__atomic_store_n(&w->tid, gettid(), __ATOMIC_RELEASE);
	if (w->p)
		w->ret = evpoll_poller_wait(w->p, w->pev, 4, w->ms);
	else
		w->ret = evpoll_ring_wait(w->r, w->ev, 4, w->o);
	return NULL;
}

/* Start @w in a thread; 0 once it sleeps, or -1. */
static int ring_waiter_start(struct ring_waiter *w, pthread_t *t)
{
	pid_t tid;
	int i;

	__atomic_store_n(&w->tid, 0, __ATOMIC_RELAXED);
	if (pthread_create(t, NULL, ring_waiter_fn, w))
		return -1;
	for (i = 0; i < 5000; i++) {
		tid = __atomic_load_n(&w->tid, __ATOMIC_ACQUIRE);
		if (tid)
			return wait_sleeping(tid);
		usleep(1000);
	}
	return -1;
}

TEST_F(v2, ring_wait_harvest_then_block)
{
	struct timespec ms50 = { .tv_nsec = 50000000 }, s10 = { .tv_sec = 10 };
	struct timespec bad = { .tv_nsec = 1000000000L };
	struct evpoll_wait_opts o50 = { .timeout = &ms50 };
	struct evpoll_wait_opts o10s = { .timeout = &s10 };
	struct evpoll_wait_opts obad = { .timeout = &bad };
	struct epoll_event e = { .events = EPOLLIN | EPOLLET, .data.u64 = 7 };
	struct epoll_event f = { .events = EPOLLIN | EPOLLET, .data.u64 = 8 };
	struct ring_waiter w = { .o = &o10s };
	struct epoll_event ev[4];
	struct evpoll_ring *r;
	int64_t t0, dt;
	pthread_t t;
	uint64_t sum;
	int q[2];

	ASSERT_EQ(pipe2(q, O_NONBLOCK), 0);
	ASSERT_EQ(evpoll_ring_setup(self->evfd, 8, &r), 0);
	ASSERT_EQ(evpoll_ctl(self->evfd, EPOLL_CTL_ADD, self->p[0], &e), 0);
	ASSERT_EQ(evpoll_ctl(self->evfd, EPOLL_CTL_ADD, q[0], &f), 0);
	/* In the ring: the harvests return them, one wait each. */
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(write(q[1], "x", 1), 1);
	ASSERT_EQ(evpoll_ring_wait(r, ev, 1, &o50), 1);
	EXPECT_EQ(ev[0].events, EPOLLIN);
	sum = ev[0].data.u64;
	/* A harvest returns before the timeout is looked at (the man page). */
	ASSERT_EQ(evpoll_ring_wait(r, ev, 4, &obad), 1);
	EXPECT_EQ(ev[0].events, EPOLLIN);
	EXPECT_EQ(sum + ev[0].data.u64, 15);
	close(q[0]);
	close(q[1]);
	/* Empty: the timeout is checked, then expires (50 ms, not less). */
	EXPECT_EQ(evpoll_ring_wait(r, ev, 4, &obad), -EINVAL);
	t0 = now_ms();
	EXPECT_EQ(evpoll_ring_wait(r, ev, 4, &o50), 0);
	dt = now_ms() - t0;
	EXPECT_GE(dt, 49);
	EXPECT_LT(dt, 10000);
	/* Empty: a thread sleeps in the kernel until a write wakes it. */
	w.r = r;
	ASSERT_EQ(ring_waiter_start(&w, &t), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	pthread_join(t, NULL);
	ASSERT_EQ(w.ret, 1);
	EXPECT_EQ(w.ev[0].events, EPOLLIN);
	EXPECT_EQ(w.ev[0].data.u64, 7);
	EXPECT_EQ(evpoll_ring_harvest(r, ev, 4), 0);
	/* The same without a timeout (opts NULL: block). */
	w.o = NULL;
	ASSERT_EQ(ring_waiter_start(&w, &t), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	pthread_join(t, NULL);
	ASSERT_EQ(w.ret, 1);
	EXPECT_EQ(w.ev[0].data.u64, 7);
	evpoll_ring_free(r);
}

/*
 * The evpoll-ring poller keeps the timeout of its last wait: waits whose
 * timeout changes (-1, 0, 50 ms, 2 s) each wait as long as they say, with
 * and without events in the ring, and a blocked wait returns on
 * evpoll_poller_wakeup() from another thread.
 */
TEST_F(v2, ring_poller_wait_timeouts)
{
	/* Write first?  Then wait @ms: @n events (0: after @ms at least). */
	static const struct { int write, ms, n; } step[] = {
		{ 1, 2000, 1 }, { 0, 0, 0 }, { 0, 50, 0 }, { 1, -1, 1 },
		{ 1, 50, 1 }, { 0, 50, 0 },
	};
	struct ring_waiter w = { 0 };
	struct evpoll_poller_event ev[4];
	struct evpoll_poller *p;
	int64_t t0, dt;
	pthread_t t;
	size_t i;
	char c;

	ASSERT_EQ(evpoll_poller_new(EVPOLL_BACKEND_EVPOLL_RING, 0, &p), 0);
	ASSERT_EQ(evpoll_poller_add(p, self->p[0], EPOLLIN | EPOLLET, 3), 0);
	for (i = 0; i < sizeof(step) / sizeof(step[0]); i++) {
		if (step[i].write)
			ASSERT_EQ(write(self->p[1], "x", 1), 1);
		t0 = now_ms();
		ASSERT_EQ(evpoll_poller_wait(p, ev, 4, step[i].ms), step[i].n)
			TH_LOG("step %zu", i);
		dt = now_ms() - t0;
		if (step[i].n) {
			EXPECT_EQ(ev[0].fd, self->p[0]);
			EXPECT_EQ(ev[0].data, 3);
		} else {
			EXPECT_GE(dt, step[i].ms - 1) TH_LOG("step %zu", i);
			EXPECT_LT(dt, 10000);
		}
	}
	/* Blocked without a timeout: evpoll_poller_wakeup() returns it. */
	w.p = p;
	w.ms = -1;
	ASSERT_EQ(ring_waiter_start(&w, &t), 0);
	ASSERT_EQ(evpoll_poller_wakeup(p), 0);
	pthread_join(t, NULL);
	EXPECT_EQ(w.ret, 0);
	/* Blocked with one: a write returns it with the event. */
	w.ms = 10000;
	ASSERT_EQ(ring_waiter_start(&w, &t), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	pthread_join(t, NULL);
	ASSERT_EQ(w.ret, 1);
	EXPECT_EQ(w.pev[0].data, 3);
	while (read(self->p[0], &c, 1) == 1)
		;
	evpoll_poller_free(p);
}

/*
 * Several threads harvesting one ring (the handle's lock): every post is
 * harvested by exactly one of them.  One writer makes 16 eventfds ready
 * in turn, each again only once its last value was read; 4 harvesters
 * read the eventfd of each event they take (empty: a duplicate).
 */
#define MH_FDS		16
#define MH_POSTS	4000

struct mh {
	struct evpoll_ring *r;
	int efd[MH_FDS];
	unsigned int acked[MH_FDS];
	unsigned long done, dup;
	int stop;
};

static void *mh_harvester(void *arg)
{
	struct mh *m = arg;
	struct epoll_event ev[4];
	uint64_t v;
	int i, n;

	while (!__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
		n = evpoll_ring_harvest(m->r, ev, 4);
		if (!n)
			sched_yield();
		for (i = 0; i < n; i++) {
			int k = (int)ev[i].data.u64;

			if (read(m->efd[k], &v, 8) != 8) {
				__atomic_add_fetch(&m->dup, 1, __ATOMIC_RELAXED);
				continue;
			}
			__atomic_add_fetch(&m->done, 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&m->acked[k], 1, __ATOMIC_RELEASE);
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(v2, ring_several_harvesters, 120)
{
	struct mh m = { 0 };
	unsigned int sent[MH_FDS] = { 0 };
	uint64_t one = 1;
	pthread_t t[4];
	struct timespec t0, now;
	int i, k;

	ASSERT_EQ(evpoll_ring_setup(self->evfd, 64, &m.r), 0);
	for (i = 0; i < MH_FDS; i++) {
		struct epoll_event e = { .events = EPOLLIN | EPOLLET,
					 .data.u64 = i };

		m.efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ASSERT_GE(m.efd[i], 0);
		ASSERT_EQ(evpoll_ctl(self->evfd, EPOLL_CTL_ADD, m.efd[i], &e),
			  0);
	}
	for (i = 0; i < 4; i++)
		ASSERT_EQ(pthread_create(&t[i], NULL, mh_harvester, &m), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 0; k < MH_POSTS; k++) {
		int f = k % MH_FDS;

		while (__atomic_load_n(&m.acked[f], __ATOMIC_ACQUIRE) !=
		       sent[f]) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - t0.tv_sec > 60)
				break;
			sched_yield();
		}
		ASSERT_EQ(write(m.efd[f], &one, 8), 8);
		sent[f]++;
	}
	while (__atomic_load_n(&m.done, __ATOMIC_ACQUIRE) +
	       __atomic_load_n(&m.dup, __ATOMIC_ACQUIRE) < MH_POSTS) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > 60)
			break;
		sched_yield();
	}
	__atomic_store_n(&m.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(m.done, MH_POSTS);
	EXPECT_EQ(m.dup, 0);
	for (i = 0; i < MH_FDS; i++)
		close(m.efd[i]);
	evpoll_ring_free(m.r);
}

TEST_HARNESS_MAIN
