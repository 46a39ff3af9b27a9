// SPDX-License-Identifier: GPL-2.0
/*
 * tombstone_test - EVPOLL_CTL_DEL_NOTIFY and EVPOLLREMOVED: the removal
 * queues one final event carrying the item's data, and once it has been
 * reported, no event with that data is reported again, even by a WAIT
 * that copied one before the removal and has not returned yet.
 */
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "evp2.h"
#include "kselftest_harness.h"

FIXTURE(tomb) {
	int evfd;
	int p[2];
};

FIXTURE_SETUP(tomb)
{
	self->evfd = evp_open();
	ASSERT_GE(self->evfd, 0);
	ASSERT_EQ(pipe2(self->p, O_NONBLOCK), 0);
}

FIXTURE_TEARDOWN(tomb)
{
	close(self->p[0]);
	close(self->p[1]);
	close(self->evfd);
}

TEST_F(tomb, del_notify_reports_one_tombstone)
{
	struct epoll_event ev[4];

	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ADD, self->p[0], EPOLLIN,
			   0xabc), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_DEL_NOTIFY, self->p[0], 0,
			   0), 0);
	ASSERT_EQ(evp_wait(self->evfd, ev, 4, 0), 1);
	EXPECT_EQ(ev[0].events, EVPOLLREMOVED);
	EXPECT_EQ(ev[0].data.u64, 0xabc);
	EXPECT_EQ(evp_wait(self->evfd, ev, 4, 0), 0);
	/* Removed: the fd may be added again. */
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_DEL, self->p[0], 0, 0),
		  -ENOENT);
}

/* The tombstone makes a blocked waiter and poll() see the instance. */
TEST_F(tomb, tombstone_wakes_and_polls)
{
	struct pollfd pfd = { .fd = self->evfd, .events = POLLIN };
	struct epoll_event ev[4];
	evp_chg c;

	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 9),
		  0);
	EXPECT_EQ(poll(&pfd, 1, 0), 0);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_DEL_NOTIFY, self->p[0], 0,
			   0), 0);
	EXPECT_EQ(poll(&pfd, 1, 0), 1);
	/* DEL_NOTIFY and the wait in one call. */
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ADD, self->p[0], EPOLLIN,
			   10), 0);
	c = evp_chg_make(EVPOLL_CTL_DEL_NOTIFY, self->p[0], 0, 0);
	ASSERT_EQ(evp_submit_wait(self->evfd, &c, 1, ev, 4, -1, 0, 0), 2);
	EXPECT_EQ(c.result, 0);
	EXPECT_EQ(ev[0].events, EVPOLLREMOVED);
	EXPECT_EQ(ev[0].data.u64, 9);
	EXPECT_EQ(ev[1].events, EVPOLLREMOVED);
	EXPECT_EQ(ev[1].data.u64, 10);
}

/* Added with EVPOLLREMOVED: closing the file posts the tombstone. */
TEST_F(tomb, closed_file_posts_tombstone)
{
	struct epoll_event ev[4];
	int q[2];

	ASSERT_EQ(pipe2(q, O_NONBLOCK), 0);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ADD, q[0],
			   EPOLLIN | EVPOLLREMOVED, 0x77), 0);
	/* Without the flag: dropped silently, as epoll. */
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ADD, self->p[0], EPOLLIN,
			   0x88), 0);
	close(q[0]);
	close(q[1]);
	ASSERT_GE(evp_poll_until(evp_wait(self->evfd, ev, 4, 0) == 1, 20000),
		  0);
	EXPECT_EQ(ev[0].events, EVPOLLREMOVED);
	EXPECT_EQ(ev[0].data.u64, 0x77);
	/* The reaper saw it; nothing else comes. */
	EXPECT_EQ(evp_counter(self->evfd, "evpoll-reaped"), 1);
	EXPECT_EQ(evp_wait(self->evfd, ev, 4, 0), 0);
}

struct inflight_waiter {
	int evfd;
	struct epoll_event *evs;
	int ret;
};

static void *inflight_wait(void *arg)
{
	struct inflight_waiter *w = arg;

	w->ret = evp_wait(w->evfd, w->evs, 2, 30 * NSEC_PER_SEC);
	return NULL;
}

/*
 * The ordering guarantee, made visible: waiter A reports item X's event
 * into the last slot of a normal page, then stalls writing a user event
 * into a userfaultfd page, not yet returned.  X is removed with
 * DEL_NOTIFY meanwhile; another waiter must not get the tombstone until
 * A has returned.  Then it does.
 */
TEST_F(tomb, tombstone_waits_for_inflight_waiter)
{
	struct inflight_waiter a;
	struct epoll_event ev[4];
	struct evp_uffd u = { 0 };
	pthread_t th;
	int err, id;

	err = evp_uffd_map(&u, 2);
	if (err)
		SKIP(return, "userfaultfd: %s (not built in, or not root)",
		     strerror(-err));

	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ADD, self->p[0], EPOLLIN,
			   0x5a), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	id = evp_user_add(self->evfd, EPOLLIN, 0x6b);
	ASSERT_GE(id, EVPOLL_USER_ID_BASE);
	ASSERT_EQ(evp_user_trigger(self->evfd, id), 0);

	a.evfd = self->evfd;
	a.evs = (struct epoll_event *)(u.held - sizeof(struct epoll_event));
	ASSERT_EQ(pthread_create(&th, NULL, inflight_wait, &a), 0);
	/* A has stored X's event and faults on the user event's slot. */
	ASSERT_TRUE(evp_uffd_faulted(&u));

	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_DEL_NOTIFY, self->p[0], 0,
			   0), 0);
	/* A is in flight with X's event: no tombstone for anyone yet. */
	EXPECT_EQ(evp_wait(self->evfd, ev, 4, 200 * NSEC_PER_MSEC), 0);

	ASSERT_EQ(evp_uffd_release(&u), 0);
	pthread_join(th, NULL);
	ASSERT_EQ(a.ret, 2);
	EXPECT_EQ(a.evs[0].data.u64, 0x5a);
	EXPECT_EQ(a.evs[1].data.u64, 0x6b);
	/* A returned: now the tombstone is reported. */
	ASSERT_EQ(evp_wait(self->evfd, ev, 4, 5 * NSEC_PER_SEC), 1);
	EXPECT_EQ(ev[0].events, EVPOLLREMOVED);
	EXPECT_EQ(ev[0].data.u64, 0x5a);
	evp_uffd_unmap(&u);
}

/*
 * Stress: waiters report events of always-ready items whose data points
 * to objects with a canary, while the main thread adds and DEL_NOTIFYs
 * them.  A tombstone kills the object's canary.  A wait that started
 * after an object's tombstone was reported must not report the object
 * (tickets from one counter, taken before the wait and after the
 * tombstone, order the two without false alarms); every object gets
 * exactly one tombstone; no event ever carries a dead canary from a wait
 * that started after the death.
 */
#define STRESS_OBJS	3000
#define STRESS_PIPES	16
#define STRESS_WAITERS	3
#define CANARY_LIVE	0x11feed11ULL
#define CANARY_DEAD	0xdeadULL

struct stress_obj {
	uint64_t canary;
	uint64_t tomb_ticket;	/* 0 until its tombstone was reported */
	int tombs;
};

struct stress {
	int evfd;
	uint64_t ticket;
	int tombs_seen;
	int late_events;
	int dead_canaries;
	int done;
};

static void *stress_waiter(void *arg)
{
	struct stress *st = arg;
	long long deadline = now_ns() + 300 * NSEC_PER_SEC;
	struct epoll_event ev[4];

	while ((!__atomic_load_n(&st->done, __ATOMIC_ACQUIRE) ||
		__atomic_load_n(&st->tombs_seen, __ATOMIC_ACQUIRE) <
		STRESS_OBJS) && now_ns() < deadline) {
		uint64_t start = __atomic_fetch_add(&st->ticket, 1,
						    __ATOMIC_SEQ_CST) + 1;
		int n = evp_wait(st->evfd, ev, 4, 50 * NSEC_PER_MSEC);

		for (int i = 0; i < n; i++) {
			struct stress_obj *o = (void *)(uintptr_t)ev[i].data.u64;
			uint64_t t;

			if (ev[i].events & EVPOLLREMOVED) {
				t = __atomic_fetch_add(&st->ticket, 1,
						       __ATOMIC_SEQ_CST) + 1;
				__atomic_store_n(&o->tomb_ticket, t,
						 __ATOMIC_SEQ_CST);
				__atomic_store_n(&o->canary, CANARY_DEAD,
						 __ATOMIC_SEQ_CST);
				__atomic_fetch_add(&o->tombs, 1,
						   __ATOMIC_SEQ_CST);
				__atomic_fetch_add(&st->tombs_seen, 1,
						   __ATOMIC_SEQ_CST);
				continue;
			}
			t = __atomic_load_n(&o->tomb_ticket, __ATOMIC_SEQ_CST);
			if (t && t < start) {
				__atomic_fetch_add(&st->late_events, 1,
						   __ATOMIC_SEQ_CST);
				if (__atomic_load_n(&o->canary,
						    __ATOMIC_SEQ_CST) !=
				    CANARY_LIVE)
					__atomic_fetch_add(&st->dead_canaries,
							   1, __ATOMIC_SEQ_CST);
			}
		}
	}
	return NULL;
}

TEST(tombstone_stress)
{
	struct stress_obj *objs = calloc(STRESS_OBJS, sizeof(*objs));
	pthread_t th[STRESS_WAITERS];
	int p[STRESS_PIPES][2];
	struct stress st = { 0 };
	long long t0 = now_ns();
	int i;

	ASSERT_NE(objs, NULL);
	st.evfd = evp_open();
	ASSERT_GE(st.evfd, 0);
	for (i = 0; i < STRESS_PIPES; i++) {
		ASSERT_EQ(pipe2(p[i], O_NONBLOCK), 0);
		ASSERT_EQ(write(p[i][1], "x", 1), 1);	/* always ready */
	}
	for (i = 0; i < STRESS_WAITERS; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, stress_waiter, &st), 0);
	for (i = 0; i < STRESS_OBJS; i++) {
		int fd = p[i % STRESS_PIPES][0];

		objs[i].canary = CANARY_LIVE;
		if (i >= STRESS_PIPES)
			ASSERT_EQ(evp_ctl2(st.evfd, EVPOLL_CTL_DEL_NOTIFY, fd,
					   0, 0), 0);
		ASSERT_EQ(evp_ctl2(st.evfd, EVPOLL_CTL_ADD, fd, EPOLLIN,
				   (uintptr_t)&objs[i]), 0);
	}
	for (i = 0; i < STRESS_PIPES; i++)
		ASSERT_EQ(evp_ctl2(st.evfd, EVPOLL_CTL_DEL_NOTIFY, p[i][0], 0,
				   0), 0);
	__atomic_store_n(&st.done, 1, __ATOMIC_RELEASE);
	for (i = 0; i < STRESS_WAITERS; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(st.tombs_seen, STRESS_OBJS);
	for (i = 0; i < STRESS_OBJS; i++)
		ASSERT_EQ(objs[i].tombs, 1) TH_LOG("object %d", i);
	EXPECT_EQ(st.late_events, 0);
	EXPECT_EQ(st.dead_canaries, 0);
	TH_LOG("%d objects, %.1f s", STRESS_OBJS, (now_ns() - t0) / 1e9);
	for (i = 0; i < STRESS_PIPES; i++) {
		close(p[i][0]);
		close(p[i][1]);
	}
	close(st.evfd);
	free(objs);
}

TEST_HARNESS_MAIN
