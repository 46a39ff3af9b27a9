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
	usleep((evp_param("reap_interval_ms") + 1000) * 1000);
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

struct xwaiter {
	int efd;
	int woken;
	int (*wait)(int efd, struct epoll_event *ev, int ms);
};

static int ep_wait_ms(int efd, struct epoll_event *ev, int ms)
{
	return epoll_wait(efd, ev, 1, ms);
}

static int evp_wait_ms(int efd, struct epoll_event *ev, int ms)
{
	return evp_wait(efd, ev, 1, ms * NSEC_PER_MSEC);
}

static void *xwait(void *arg)
{
	struct xwaiter *w = arg;
	struct epoll_event ev;

	w->woken = w->wait(w->efd, &ev, 1500) > 0;
	return NULL;
}

/*
 *   t0  t1  t2  t3
 *   e0  e1  e2  e3      each --(ew)--> one eventfd
 * One write wakes how many of the four?  Count for epoll and evpoll, with
 * and without EPOLLEXCLUSIVE, in the same run.
 */
static int woken_by_one_event(const struct api *api, bool evpoll, bool excl)
{
	enum { N = 4 };
	struct xwaiter w[N];
	pthread_t t[N];
	int efd = eventfd(0, EFD_NONBLOCK), i, woken = 0;
	uint64_t one = 1;
	uint32_t events = EPOLLIN | EPOLLET | (excl ? EPOLLEXCLUSIVE : 0);

	for (i = 0; i < N; i++) {
		w[i].efd = api->create();
		w[i].wait = evpoll ? evp_wait_ms : ep_wait_ms;
		if (evpoll) {
			evp_ctl(w[i].efd, EVPOLL_CTL_ADD, efd, events, i);
		} else {
			struct epoll_event ev = { .events = events };

			epoll_ctl(w[i].efd, EPOLL_CTL_ADD, efd, &ev);
		}
		pthread_create(&t[i], NULL, xwait, &w[i]);
	}
	usleep(300 * 1000);	/* all asleep */
	if (write(efd, &one, 8) != 8)
		abort();
	for (i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		woken += w[i].woken;
		close(w[i].efd);
	}
	close(efd);
	return woken;
}

TEST(exclusive_wakes_one_instance_like_epoll)
{
	int ep_x = woken_by_one_event(&epoll_api, false, true);
	int evp_x = woken_by_one_event(&evpoll_api, true, true);
	int ep_all = woken_by_one_event(&epoll_api, false, false);
	int evp_all = woken_by_one_event(&evpoll_api, true, false);

	TH_LOG("woken by one event: exclusive epoll %d evpoll %d; shared epoll %d evpoll %d",
	       ep_x, evp_x, ep_all, evp_all);
	EXPECT_EQ(evp_x, ep_x);
	EXPECT_EQ(evp_x, 1);
	EXPECT_EQ(evp_all, ep_all);
	EXPECT_EQ(evp_all, 4);
}

struct fairw {
	int efd;		/* the instance this thread waits on */
	pid_t tid;
	atomic_int got;		/* events taken from the exclusive eventfd */
	atomic_bool started;
	bool evpoll;
};

#define FAIR_STOP	99	/* user data of the shared, non-exclusive stop fd */

static void *fair_waiter(void *arg)
{
	struct fairw *w = arg;
	struct epoll_event ev;

	w->tid = gettid();
	atomic_store(&w->started, true);
	for (;;) {
		int n = w->evpoll ? evp_wait(w->efd, &ev, 1, -1) :
				    epoll_wait(w->efd, &ev, 1, -1);

		if (n == 1 && ev.data.u64 == FAIR_STOP)
			break;
		if (n > 0)
			atomic_fetch_add(&w->got, n);
	}
	return NULL;
}

/* 'S' in /proc/self/task/TID/stat: the waiter sleeps in its wait call. */
static bool fair_asleep(const struct fairw *w)
{
	char path[64], buf[256], *rp;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", w->tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return false;
	buf[len] = '\0';
	rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && rp[2] == 'S';
}

/* Poll (up to 10 s) until every waiter in @w[0..n) sleeps in its wait. */
static bool fair_all_asleep(struct fairw *w, int n)
{
	int tries, i;

	for (tries = 0; tries < 10000; tries++) {
		for (i = 0; i < n; i++)
			if (!atomic_load(&w[i].started) || !fair_asleep(&w[i]))
				break;
		if (i == n)
			return true;
		usleep(1000);
	}
	return false;
}

static int fair_sum(struct fairw *w, int n)
{
	int i, sum = 0;

	for (i = 0; i < n; i++)
		sum += atomic_load(&w[i].got);
	return sum;
}

/* Poll (up to 10 s) until the waiters have taken @want events in all. */
static bool fair_wait_sum(struct fairw *w, int n, int want)
{
	int tries;

	for (tries = 0; tries < 10000 && fair_sum(w, n) < want; tries++)
		usleep(1000);
	return fair_sum(w, n) >= want;
}

static int fair_add(bool evpoll, int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return evpoll ? evp_ctl(ep, EVPOLL_CTL_ADD, fd, events, data) :
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/*
 * EVENTS edges on one eventfd watched EPOLLET|EPOLLEXCLUSIVE by N
 * instances, one thread waiting on each.  Every edge is written only when
 * every waiter sleeps in its wait call, so the outcome is deterministic:
 * the wake-up walks the eventfd's queue from the head and stops at the
 * first instance with a sleeper.  Then the first waiter is stopped and one
 * more edge is written: with no sleeper on instance 0 the event is queued
 * there *and* passed on to instance 1 (epoll's ep_poll_callback returns
 * "not woken" for an instance without waiters).
 *
 * Reports, in @got, the events each waiter took, and in @queued0 whether
 * the last edge was left ready on instance 0.
 */
static void exclusive_spread(struct __test_metadata *_metadata, bool evpoll,
			     int got[4], int *queued0)
{
	enum { N = 4, EVENTS = 40 };
	static struct fairw w[N];
	pthread_t t[N];
	uint64_t one = 1;
	struct epoll_event ev;
	int efd = eventfd(0, EFD_NONBLOCK), stop0, stop, i;

	ASSERT_GE(efd, 0);
	stop0 = eventfd(0, EFD_NONBLOCK);
	stop = eventfd(0, EFD_NONBLOCK);
	ASSERT_GE(stop0, 0);
	ASSERT_GE(stop, 0);
	for (i = 0; i < N; i++) {
		w[i].efd = evpoll ? evp_open() : epoll_create1(0);
		ASSERT_GE(w[i].efd, 0);
		w[i].evpoll = evpoll;
		atomic_store(&w[i].got, 0);
		atomic_store(&w[i].started, false);
		ASSERT_EQ(fair_add(evpoll, w[i].efd, efd,
				   EPOLLIN | EPOLLET | EPOLLEXCLUSIVE, i), 0);
		ASSERT_EQ(fair_add(evpoll, w[i].efd, i ? stop : stop0,
				   EPOLLIN, FAIR_STOP), 0);
		ASSERT_EQ(pthread_create(&t[i], NULL, fair_waiter, &w[i]), 0);
	}
	for (i = 0; i < EVENTS; i++) {
		ASSERT_TRUE(fair_all_asleep(w, N));
		ASSERT_EQ(write(efd, &one, 8), 8);
		ASSERT_TRUE(fair_wait_sum(w, N, i + 1));
	}

	/* Waiter 0 leaves; instance 0 keeps its exclusive hook. */
	ASSERT_EQ(write(stop0, &one, 8), 8);
	ASSERT_EQ(pthread_join(t[0], NULL), 0);
	ASSERT_TRUE(fair_all_asleep(w + 1, N - 1));
	ASSERT_EQ(write(efd, &one, 8), 8);
	ASSERT_TRUE(fair_wait_sum(w, N, EVENTS + 1));
	*queued0 = evpoll ? evp_wait(w[0].efd, &ev, 1, 0) :
			    epoll_wait(w[0].efd, &ev, 1, 0);

	ASSERT_EQ(write(stop, &one, 8), 8);
	for (i = 0; i < N; i++) {
		if (i)
			ASSERT_EQ(pthread_join(t[i], NULL), 0);
		got[i] = atomic_load(&w[i].got);
		close(w[i].efd);
	}
	close(stop);
	close(stop0);
	close(efd);
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
	int ep[4], ev[4], ep_q0 = -1, ev_q0 = -1;

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
	EXPECT_EQ(ev[0], ep[0]);
	EXPECT_EQ(ev[1], ep[1]);
	EXPECT_EQ(ev[2], ep[2]);
	EXPECT_EQ(ev[3], ep[3]);
	EXPECT_EQ(ev_q0, ep_q0);
}

TEST_HARNESS_MAIN
