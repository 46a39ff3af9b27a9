// SPDX-License-Identifier: GPL-2.0
/*
 * nest_test - instances watching instances: wake-ups through the chain,
 * cycles and depth refused with ELOOP (epoll's rules, checked against the
 * kernel's epoll in the same run), and EPOLLEXCLUSIVE across instances.
 *
 *   e0 --(lt)--> e1 --(lt)--> pipe
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "evp.h"
#include "kselftest_harness.h"

FIXTURE(nest) {
	int e0, e1;
	int p[2];
};

FIXTURE_SETUP(nest)
{
	self->e0 = evp_open();
	self->e1 = evp_open();
	ASSERT_GE(self->e0, 0);
	ASSERT_GE(self->e1, 0);
	ASSERT_EQ(pipe2(self->p, O_NONBLOCK), 0);
	ASSERT_EQ(evp_ctl(self->e1, EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 11), 0);
	ASSERT_EQ(evp_ctl(self->e0, EVPOLL_CTL_ADD, self->e1, EPOLLIN, 22), 0);
}

FIXTURE_TEARDOWN(nest)
{
	close(self->p[0]);
	close(self->p[1]);
	close(self->e0);
	close(self->e1);
}

TEST_F(nest, event_propagates_up)
{
	struct epoll_event ev;

	EXPECT_EQ(evp_wait(self->e0, &ev, 1, 0), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(evp_wait(self->e0, &ev, 1, 0), 1);
	EXPECT_EQ(ev.events, EPOLLIN);
	EXPECT_EQ(ev.data.u64, 22);
	ASSERT_EQ(evp_wait(self->e1, &ev, 1, 0), 1);
	EXPECT_EQ(ev.data.u64, 11);
	/* Drained below: the outer item is stale and not reported. */
	ASSERT_EQ(read(self->p[0], &ev, 1), 1);
	EXPECT_EQ(evp_wait(self->e0, &ev, 1, 0), 0);
}

static void *write_later(void *arg)
{
	usleep(100 * 1000);
	if (write(*(int *)arg, "x", 1) != 1)
		abort();
	return NULL;
}

/* A sleeper on the outer instance is woken through the inner one. */
TEST_F(nest, sleeper_woken_through_chain)
{
	struct epoll_event ev;
	pthread_t t;

	ASSERT_EQ(pthread_create(&t, NULL, write_later, &self->p[1]), 0);
	EXPECT_EQ(evp_wait(self->e0, &ev, 1, 10 * NSEC_PER_SEC), 1);
	EXPECT_EQ(ev.data.u64, 22);
	pthread_join(t, NULL);
}

TEST_F(nest, poll_on_outer)
{
	struct pollfd pfd = { .fd = self->e0, .events = POLLIN };
	pthread_t t;

	EXPECT_EQ(poll(&pfd, 1, 0), 0);
	ASSERT_EQ(pthread_create(&t, NULL, write_later, &self->p[1]), 0);
	EXPECT_EQ(poll(&pfd, 1, 10000), 1);
	EXPECT_EQ(pfd.revents, POLLIN);
	pthread_join(t, NULL);
}

TEST_F(nest, cycle_of_two_eloop)
{
	EXPECT_EQ(evp_ctl(self->e1, EVPOLL_CTL_ADD, self->e0, EPOLLIN, 0), -ELOOP);
}

TEST_F(nest, cycle_of_three_eloop)
{
	int e2 = evp_open();

	ASSERT_GE(e2, 0);
	ASSERT_EQ(evp_ctl(self->e1, EVPOLL_CTL_ADD, e2, EPOLLIN, 0), 0);
	EXPECT_EQ(evp_ctl(e2, EVPOLL_CTL_ADD, self->e0, EPOLLIN, 0), -ELOOP);
	/* After DEL of an edge the same ADD is no cycle any more. */
	ASSERT_EQ(evp_ctl(self->e1, EVPOLL_CTL_DEL, e2, 0, 0), 0);
	EXPECT_EQ(evp_ctl(e2, EVPOLL_CTL_ADD, self->e0, EPOLLIN, 0), 0);
	close(e2);
}

TEST_F(nest, exclusive_on_instance_einval)
{
	int e2 = evp_open();

	ASSERT_GE(e2, 0);
	EXPECT_EQ(evp_ctl(e2, EVPOLL_CTL_ADD, self->e0,
			  EPOLLIN | EPOLLEXCLUSIVE, 0), -EINVAL);
	close(e2);
}

/* An inner instance closed without DEL is reaped like any other file. */
TEST_F(nest, inner_closed_without_del_reaped)
{
	close(self->e1);
	self->e1 = evp_open();
	EXPECT_GE(evp_counter_settles(self->e0, "evpoll-items", 0,
				      (evp_param("reap_interval_ms") << 6) + 10000),
		  0);
	EXPECT_EQ(evp_counter(self->e0, "evpoll-items"), 0);
}

struct poller {
	int efd;
	int got;
};

static void *poll_then_take(void *arg)
{
	struct poller *p = arg;
	struct pollfd pfd = { .fd = p->efd, .events = POLLIN };
	struct epoll_event ev;

	if (poll(&pfd, 1, 10000) == 1)
		p->got = evp_wait(p->efd, &ev, 1, 0);
	return NULL;
}

/*
 *        t0    t1
 *     (p) \  / (p)      both poll() e0, then wait(0) on it
 *           e0
 *     (lt) /  \ (lt)
 *        e1    e2
 *    (lt) |     | (lt)
 *        s0    s2
 * Level-triggered items stay ready, so both threads get an event even when
 * one of them waits while the other is in the middle of a delivery (the
 * ready items are on its private list then): regression test for a
 * waiter that returned 0 instead of queueing behind the delivery.
 */
TEST(two_pollers_both_get_lt_event)
{
	int e0 = evp_open(), e1 = evp_open(), e2 = evp_open(), s[4], i, r;
	struct poller p[2];
	pthread_t t[2];

	for (r = 0; r < 20; r++) {
		ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, &s[0]), 0);
		ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, &s[2]), 0);
		ASSERT_EQ(evp_ctl(e1, EVPOLL_CTL_ADD, s[0], EPOLLIN, 0), 0);
		ASSERT_EQ(evp_ctl(e2, EVPOLL_CTL_ADD, s[2], EPOLLIN, 0), 0);
		ASSERT_EQ(evp_ctl(e0, EVPOLL_CTL_ADD, e1, EPOLLIN, 1), 0);
		ASSERT_EQ(evp_ctl(e0, EVPOLL_CTL_ADD, e2, EPOLLIN, 2), 0);
		for (i = 0; i < 2; i++) {
			p[i].efd = e0;
			p[i].got = -1;
			ASSERT_EQ(pthread_create(&t[i], NULL, poll_then_take,
						 &p[i]), 0);
		}
		usleep(50 * 1000);
		ASSERT_EQ(write(s[1], "w", 1), 1);
		ASSERT_EQ(write(s[3], "w", 1), 1);
		for (i = 0; i < 2; i++) {
			pthread_join(t[i], NULL);
			EXPECT_EQ(p[i].got, 1) TH_LOG("round %d thread %d", r, i);
		}
		ASSERT_EQ(evp_ctl(e0, EVPOLL_CTL_DEL, e1, 0, 0), 0);
		ASSERT_EQ(evp_ctl(e0, EVPOLL_CTL_DEL, e2, 0, 0), 0);
		for (i = 0; i < 4; i++)
			close(s[i]);
	}
	close(e0);
	close(e1);
	close(e2);
}

/* evpoll does not watch epoll (a mixed cycle could not be detected). */
TEST(epoll_target_refused)
{
	int ev = evp_open(), ep = epoll_create1(0);

	ASSERT_GE(ev, 0);
	ASSERT_GE(ep, 0);
	EXPECT_EQ(evp_ctl(ev, EVPOLL_CTL_ADD, ep, EPOLLIN, 0), -EINVAL);
	close(ev);
	close(ep);
}

struct api {
	int (*create)(void);
	int (*add)(int efd, int fd);
};

static int ep_create(void)
{
	return epoll_create1(0);
}

static int ep_add(int efd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };

	return epoll_ctl(efd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int evp_add(int efd, int fd)
{
	return evp_ctl(efd, EVPOLL_CTL_ADD, fd, EPOLLIN, 0);
}

static const struct api epoll_api = { ep_create, ep_add };
static const struct api evpoll_api = { evp_open, evp_add };

/*
 * Build a chain e[0] <- e[1] <- ... (e[i+1] watches e[i]) until ADD fails;
 * return the index of the failing ADD and store its errno.
 */
static int chain_limit(const struct api *api, int *err)
{
	int e[10], i, n = 0, ret = -1;

	*err = 0;
	for (i = 0; i < 10; i++) {
		e[i] = api->create();
		if (e[i] < 0)
			break;
		n++;
		if (i && (*err = api->add(e[i], e[i - 1]))) {
			ret = i;
			break;
		}
	}
	for (i = 0; i < n; i++)
		close(e[i]);
	return ret;
}

/* Build e[0..k] and add an edge in the middle of a chain: upward depth. */
static int middle_limit(const struct api *api)
{
	int a[4], b[4], i, err;

	/* a3 -> a2 -> a1 -> a0 and b3 -> b2 -> b1 -> b0; then a0 -> b3 */
	for (i = 0; i < 4; i++) {
		a[i] = api->create();
		b[i] = api->create();
		if (i) {
			api->add(a[i], a[i - 1]);
			api->add(b[i], b[i - 1]);
		}
	}
	err = api->add(a[0], b[3]);
	for (i = 0; i < 4; i++) {
		close(a[i]);
		close(b[i]);
	}
	return err;
}

TEST(depth_limit_matches_epoll)
{
	int ep_err, evp_err;
	int ep_at = chain_limit(&epoll_api, &ep_err);
	int evp_at = chain_limit(&evpoll_api, &evp_err);

	TH_LOG("epoll refuses link %d (%d), evpoll link %d (%d)", ep_at,
	       ep_err, evp_at, evp_err);
	ASSERT_GT(ep_at, 0);
	EXPECT_EQ(evp_at, ep_at);
	EXPECT_EQ(ep_err, -ELOOP);
	EXPECT_EQ(evp_err, -ELOOP);
	EXPECT_EQ(middle_limit(&evpoll_api), middle_limit(&epoll_api));
}

/*
 * A group of N instances, each watching one eventfd (with @events) and
 * each waited on by one thread.  Every thread waits forever and counts
 * the events it takes; a second, non-exclusive eventfd (user data
 * XG_STOP) tells a thread to leave.  Edges are written only when every
 * waiter sleeps in its wait call (evp_tasks_asleep()), and counted once
 * every waiter sleeps again, so the counts do not depend on scheduling.
 */
#define XG_N		4
#define XG_STOP		99

struct xwaiter {
	int efd;		/* the instance this thread waits on */
	pid_t tid;
	atomic_int got;
	bool evpoll;
};

struct xgroup {
	struct xwaiter w[XG_N];
	pthread_t t[XG_N];
	bool joined[XG_N];
	int efd;		/* the watched eventfd */
	int stop[XG_N];		/* one stop eventfd per waiter */
};

static void *xwaiter_main(void *arg)
{
	struct xwaiter *w = arg;
	struct epoll_event ev;

	evp_set_tid(&w->tid);
	for (;;) {
		int n = w->evpoll ? evp_wait(w->efd, &ev, 1, -1) :
				    epoll_wait(w->efd, &ev, 1, -1);

		if (n == 1 && ev.data.u64 == XG_STOP)
			break;
		if (n > 0)
			atomic_fetch_add(&w->got, n);
	}
	return NULL;
}

static int xg_add(bool evpoll, int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return evpoll ? evp_ctl(ep, EVPOLL_CTL_ADD, fd, events, data) :
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static bool xg_asleep(struct xgroup *g)
{
	int i, n = 0;
	pid_t tids[XG_N];

	for (i = 0; i < XG_N; i++)
		if (!g->joined[i])
			tids[n++] = evp_get_tid(&g->w[i].tid);
	return evp_tasks_asleep(tids, n);
}

static int xg_sum(struct xgroup *g)
{
	int i, sum = 0;

	for (i = 0; i < XG_N; i++)
		sum += atomic_load(&g->w[i].got);
	return sum;
}

static void xg_start(struct __test_metadata *_metadata, struct xgroup *g,
		     bool evpoll, uint32_t events)
{
	int i;

	memset(g, 0, sizeof(*g));
	g->efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_GE(g->efd, 0);
	for (i = 0; i < XG_N; i++) {
		struct xwaiter *w = &g->w[i];

		g->stop[i] = eventfd(0, EFD_NONBLOCK);
		ASSERT_GE(g->stop[i], 0);
		w->efd = evpoll ? evp_open() : epoll_create1(0);
		ASSERT_GE(w->efd, 0);
		w->evpoll = evpoll;
		atomic_store(&w->got, 0);
		ASSERT_EQ(xg_add(evpoll, w->efd, g->efd, events, i), 0);
		ASSERT_EQ(xg_add(evpoll, w->efd, g->stop[i], EPOLLIN,
				 XG_STOP), 0);
		ASSERT_EQ(pthread_create(&g->t[i], NULL, xwaiter_main, w), 0);
	}
	ASSERT_TRUE(xg_asleep(g));
}

/* One edge, written when all sleep; returns the events taken for it. */
static int xg_edge(struct __test_metadata *_metadata, struct xgroup *g)
{
	uint64_t one = 1;
	int before = xg_sum(g);

	EXPECT_TRUE(xg_asleep(g));
	EXPECT_EQ(write(g->efd, &one, 8), 8);
	/* The wake-ups are done when write() returns; let them count. */
	evp_poll_until(xg_sum(g) != before, 20000);
	EXPECT_TRUE(xg_asleep(g));
	return xg_sum(g) - before;
}

static void xg_stop_one(struct __test_metadata *_metadata, struct xgroup *g,
			int i)
{
	uint64_t one = 1;

	ASSERT_EQ(write(g->stop[i], &one, 8), 8);
	ASSERT_EQ(pthread_join(g->t[i], NULL), 0);
	g->joined[i] = true;
}

static void xg_stop(struct __test_metadata *_metadata, struct xgroup *g)
{
	int i;

	for (i = 0; i < XG_N; i++) {
		if (!g->joined[i])
			xg_stop_one(_metadata, g, i);
		close(g->w[i].efd);
		close(g->stop[i]);
	}
	close(g->efd);
}

/*
 *   t0  t1  t2  t3
 *   e0  e1  e2  e3      each --(et)--> one eventfd
 * One write wakes how many of the four?  Count for epoll and evpoll, with
 * and without EPOLLEXCLUSIVE, in the same run.
 */
static int woken_by_one_event(struct __test_metadata *_metadata,
			      bool evpoll, bool excl)
{
	struct xgroup g;
	int woken;

	xg_start(_metadata, &g, evpoll,
		 EPOLLIN | EPOLLET | (excl ? EPOLLEXCLUSIVE : 0));
	woken = xg_edge(_metadata, &g);
	xg_stop(_metadata, &g);
	return woken;
}

TEST(exclusive_wakes_one_instance_like_epoll)
{
	int ep_x = woken_by_one_event(_metadata, false, true);
	int evp_x = woken_by_one_event(_metadata, true, true);
	int ep_all = woken_by_one_event(_metadata, false, false);
	int evp_all = woken_by_one_event(_metadata, true, false);

	TH_LOG("woken by one event: exclusive epoll %d evpoll %d; shared epoll %d evpoll %d",
	       ep_x, evp_x, ep_all, evp_all);
	EXPECT_EQ(ep_x, 1);
	EXPECT_EQ(ep_all, XG_N);
	EXPECT_EQ(evp_x, ep_x);
	EXPECT_EQ(evp_all, ep_all);
}

/*
 * 40 exclusive edges with every waiter asleep, then waiter 0 leaves and
 * one more edge is written: with no sleeper on instance 0 the event is
 * queued there *and* passed on to instance 1 (epoll's ep_poll_callback()
 * returns "not woken" for an instance without waiters).  Reports the
 * events each waiter took in @got, and whether the last edge was left
 * ready on instance 0 in @queued0.
 */
static void exclusive_spread(struct __test_metadata *_metadata, bool evpoll,
			     int got[XG_N], int *queued0)
{
	enum { EVENTS = 40 };
	struct epoll_event ev;
	struct xgroup g;
	int i;

	xg_start(_metadata, &g, evpoll, EPOLLIN | EPOLLET | EPOLLEXCLUSIVE);
	for (i = 0; i < EVENTS; i++)
		EXPECT_EQ(xg_edge(_metadata, &g), 1);
	xg_stop_one(_metadata, &g, 0);	/* instance 0 keeps its hook */
	EXPECT_EQ(xg_edge(_metadata, &g), 1);
	*queued0 = evpoll ? evp_wait(g.w[0].efd, &ev, 1, 0) :
			    epoll_wait(g.w[0].efd, &ev, 1, 0);
	for (i = 0; i < XG_N; i++)
		got[i] = atomic_load(&g.w[i].got);
	xg_stop(_metadata, &g);
}

/*
 * How fair is EPOLLEXCLUSIVE?  Not at all, for epoll: the instance that
 * registered first takes every event while its waiter sleeps, and only an
 * instance without a sleeper lets the wake-up go on to the next one.
 * evpoll hooks the same way and must spread the events the same way, and
 * never lose one.
 */
TEST(exclusive_fairness_like_epoll)
{
	int ep[XG_N], ev[XG_N], ep_q0 = -1, ev_q0 = -1, i;

	exclusive_spread(_metadata, false, ep, &ep_q0);
	exclusive_spread(_metadata, true, ev, &ev_q0);
	TH_LOG("41 edges over 4 exclusive instances (waiter 0 gone before the last): epoll %d/%d/%d/%d, evpoll %d/%d/%d/%d",
	       ep[0], ep[1], ep[2], ep[3], ev[0], ev[1], ev[2], ev[3]);
	TH_LOG("last edge left ready on instance 0: epoll %d evpoll %d",
	       ep_q0, ev_q0);
	/* Epoll's own result is the reference; evpoll must equal it. */
	EXPECT_EQ(ep[0], 40);
	EXPECT_EQ(ep[1], 1);
	EXPECT_EQ(ep_q0, 1);
	for (i = 0; i < XG_N; i++)
		EXPECT_EQ(ev[i], ep[i]);
	EXPECT_EQ(ev_q0, ep_q0);
}

TEST_HARNESS_MAIN
