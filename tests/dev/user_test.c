// SPDX-License-Identifier: GPL-2.0
/*
 * user_test - user events (kqueue's EVFILT_USER): EVPOLL_IOC_USER_ADD,
 * _TRIGGER, _DEL, and EVPOLL_CTL_ENABLE/_DISABLE/_DEL_NOTIFY on them
 * through EVPOLL_IOC_SUBMIT.  Triggers before a delivery coalesce into one
 * EPOLLIN event with the data; the delivery clears it.
 */
#include <poll.h>
#include <poll.h>
#include <pthread.h>

#include "evp2.h"
#include "kselftest_harness.h"

FIXTURE(user) {
	int evfd;
};

FIXTURE_SETUP(user)
{
	self->evfd = evp_open();
	ASSERT_GE(self->evfd, 0);
}

FIXTURE_TEARDOWN(user)
{
	close(self->evfd);
}

TEST_F(user, trigger_coalesce_clear)
{
	struct epoll_event ev[4];
	int id = evp_user_add(self->evfd, EPOLLIN, 0x1234);
	int id2;

	ASSERT_GE(id, EVPOLL_USER_ID_BASE);
	EXPECT_EQ(evp_wait(self->evfd, ev, 4, 0), 0);
	EXPECT_EQ(evp_user_trigger(self->evfd, id), 0);
	EXPECT_EQ(evp_user_trigger(self->evfd, id), 0);
	EXPECT_EQ(evp_user_trigger(self->evfd, id), 0);
	ASSERT_EQ(evp_wait(self->evfd, ev, 4, 0), 1);
	EXPECT_EQ(ev[0].events, EPOLLIN);
	EXPECT_EQ(ev[0].data.u64, 0x1234);
	EXPECT_EQ(evp_wait(self->evfd, ev, 4, 0), 0);	/* cleared */
	EXPECT_EQ(evp_user_trigger(self->evfd, id), 0);
	EXPECT_EQ(evp_wait(self->evfd, ev, 4, 0), 1);
	/* Two user events: two ids, each its own event. */
	id2 = evp_user_add(self->evfd, EPOLLIN | EPOLLET, 0x99);
	ASSERT_GE(id2, EVPOLL_USER_ID_BASE);
	EXPECT_NE(id2, id);
	EXPECT_EQ(evp_user_trigger(self->evfd, id2), 0);
	EXPECT_EQ(evp_user_trigger(self->evfd, id), 0);
	EXPECT_EQ(evp_wait(self->evfd, ev, 4, 0), 2);
}

TEST_F(user, del_then_trigger_enoent)
{
	struct epoll_event ev[2];
	int id = evp_user_add(self->evfd, EPOLLIN, 1);

	ASSERT_GE(id, 0);
	EXPECT_EQ(evp_user_trigger(self->evfd, id), 0);
	EXPECT_EQ(evp_user_del(self->evfd, id), 0);
	EXPECT_EQ(evp_user_trigger(self->evfd, id), -ENOENT);
	EXPECT_EQ(evp_user_del(self->evfd, id), -ENOENT);
	/* A triggered, then deleted event is not reported. */
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 0);
	EXPECT_EQ(evp_user_trigger(self->evfd, 12345), -ENOENT);
	EXPECT_EQ(evp_user_trigger(self->evfd, EVPOLL_USER_ID_BASE + 77),
		  -ENOENT);
	/* The same through SUBMIT's DEL, with fd = the id. */
	id = evp_user_add(self->evfd, EPOLLIN, 2);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_DEL, id, 0, 0), 0);
	EXPECT_EQ(evp_user_trigger(self->evfd, id), -ENOENT);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ENABLE, id, 0, 0), -ENOENT);
}

TEST_F(user, bad_arguments)
{
	struct evpoll_user_ctl u = { .events = EPOLLIN };

	EXPECT_EQ(evp_user_add(self->evfd, 0, 1), -EINVAL);
	EXPECT_EQ(evp_user_add(self->evfd, EPOLLOUT, 1), -EINVAL);
	EXPECT_EQ(evp_user_add(self->evfd, EPOLLIN | EPOLLEXCLUSIVE, 1),
		  -EINVAL);
	u.flags = 1;
	EXPECT_EQ(evp_user_ioctl(self->evfd, EVPOLL_IOC_USER_ADD, &u),
		  -EINVAL);
	u.flags = 0;
	u.__reserved = 1;
	EXPECT_EQ(evp_user_ioctl(self->evfd, EVPOLL_IOC_USER_ADD, &u),
		  -EINVAL);
	EXPECT_EQ(ioctl(self->evfd, EVPOLL_IOC_USER_ADD, NULL), -1);
	EXPECT_EQ(errno, EFAULT);
	/* MOD is not an operation on user events. */
	u.__reserved = 0;
	ASSERT_EQ(evp_user_ioctl(self->evfd, EVPOLL_IOC_USER_ADD, &u), 0);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_MOD, u.id, EPOLLIN, 0),
		  -EBADF);
}

/* ONESHOT and DISPATCH: one delivery, then re-armed by ENABLE; a
 * trigger while disabled is reported by the ENABLE. */
TEST_F(user, oneshot_dispatch_enable)
{
	const uint32_t flags[] = { EPOLLONESHOT, EVPOLLDISPATCH };
	struct epoll_event ev[2];

	for (int i = 0; i < 2; i++) {
		int id = evp_user_add(self->evfd, EPOLLIN | flags[i], 40 + i);

		ASSERT_GE(id, 0);
		EXPECT_EQ(evp_user_trigger(self->evfd, id), 0);
		ASSERT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
		EXPECT_EQ(ev[0].data.u64, 40 + i);
		EXPECT_EQ(evp_user_trigger(self->evfd, id), 0);
		EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 0);
		EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ENABLE, id, 0, 0),
			  0);
		ASSERT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
		EXPECT_EQ(ev[0].data.u64, 40 + i);
		/* Re-armed and untriggered: nothing until the next. */
		EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ENABLE, id, 0, 0),
			  0);
		EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 0);
		EXPECT_EQ(evp_user_trigger(self->evfd, id), 0);
		EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
	}
}

TEST_F(user, disable_and_del_notify)
{
	struct epoll_event ev[2];
	int id = evp_user_add(self->evfd, EPOLLIN, 0x77);

	ASSERT_GE(id, 0);
	EXPECT_EQ(evp_user_trigger(self->evfd, id), 0);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_DISABLE, id, 0, 0), 0);
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 0);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ENABLE, id, 0, 0), 0);
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
	EXPECT_EQ(evp_user_trigger(self->evfd, id), 0);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_DEL_NOTIFY, id, 0, 0), 0);
	ASSERT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
	EXPECT_EQ(ev[0].events, EVPOLLREMOVED);
	EXPECT_EQ(ev[0].data.u64, 0x77);
	EXPECT_EQ(evp_user_trigger(self->evfd, id), -ENOENT);
}

/* A trigger wakes a blocked waiter, and poll() sees it. */
TEST_F(user, trigger_wakes_waiter)
{
	struct epoll_event ev[2];
	int id = evp_user_add(self->evfd, EPOLLIN, 5);
	struct pollfd pfd = { .fd = self->evfd, .events = POLLIN };

	ASSERT_GE(id, 0);
	EXPECT_EQ(poll(&pfd, 1, 0), 0);
	EXPECT_EQ(evp_user_trigger(self->evfd, id), 0);
	EXPECT_EQ(poll(&pfd, 1, 0), 1);
	ASSERT_EQ(evp_wait(self->evfd, ev, 2, -1), 1);
	EXPECT_EQ(ev[0].data.u64, 5);
}

/*
 * Many threads, each with its own user event: a thread triggers, then
 * waits until the waiter has reported its event before triggering again.
 * Every trigger is reported exactly once.
 */
#define UT_THREADS	6
#define UT_ROUNDS	500

struct ut {
	int evfd;
	int id[UT_THREADS];
	int acked[UT_THREADS];
	int idx;
};

static void *ut_trigger(void *arg)
{
	struct ut *u = arg;
	int me = __atomic_fetch_add(&u->idx, 1, __ATOMIC_SEQ_CST);

	for (int r = 1; r <= UT_ROUNDS; r++) {
		if (evp_user_trigger(u->evfd, u->id[me]))
			return (void *)1;
		if (evp_poll_until(__atomic_load_n(&u->acked[me],
						   __ATOMIC_ACQUIRE) >= r,
				   20000) < 0)
			return (void *)2;
	}
	return NULL;
}

TEST_F(user, many_threads)
{
	struct ut u = { .evfd = self->evfd };
	pthread_t th[UT_THREADS];
	struct epoll_event ev[UT_THREADS];
	long long deadline = now_ns() + 120 * NSEC_PER_SEC;
	int total = 0, extra = 0;

	for (int i = 0; i < UT_THREADS; i++) {
		u.id[i] = evp_user_add(self->evfd, EPOLLIN, i);
		ASSERT_GE(u.id[i], 0);
	}
	for (int i = 0; i < UT_THREADS; i++)
		ASSERT_EQ(pthread_create(&th[i], NULL, ut_trigger, &u), 0);
	while (total < UT_THREADS * UT_ROUNDS && now_ns() < deadline) {
		int n = evp_wait(self->evfd, ev, UT_THREADS, 100 * NSEC_PER_MSEC);

		ASSERT_GE(n, 0);
		for (int i = 0; i < n; i++) {
			int t = ev[i].data.u64;

			ASSERT_LT(t, UT_THREADS);
			__atomic_fetch_add(&u.acked[t], 1, __ATOMIC_RELEASE);
			total++;
		}
	}
	for (int i = 0; i < UT_THREADS; i++) {
		void *ret;

		pthread_join(th[i], &ret);
		EXPECT_EQ(ret, NULL);
		EXPECT_EQ(u.acked[i], UT_ROUNDS);
	}
	extra = evp_wait(self->evfd, ev, UT_THREADS, 0);
	EXPECT_EQ(total, UT_THREADS * UT_ROUNDS);
	EXPECT_EQ(extra, 0);
}

TEST_HARNESS_MAIN
