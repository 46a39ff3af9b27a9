// SPDX-License-Identifier: GPL-2.0
/*
 * minwait_test - EVPOLL_IOC_SUBMIT's min-wait: a wait with min_events
 * returns once that many events are stored, or min_wait after the first
 * one, or at the timeout, whichever comes first, and never sleeps past
 * the timeout.  While it waits for more, the events that arrive do not
 * wake the waiting task (counted with its voluntary context switches).
 */
#include <pthread.h>

#include "evp2.h"
#include "kselftest_harness.h"

#define NPIPES	8

FIXTURE(minwait) {
	int evfd;
	int p[NPIPES][2];
	pid_t tid;		/* the waiter thread */
	int ret;		/* its result */
	long long t_ret;	/* when it returned (now_ns()) */
	struct epoll_event ev[NPIPES * 2];
	unsigned int min_events;
	long long min_wait, timeout;
};

FIXTURE_SETUP(minwait)
{
	self->evfd = evp_open();
	ASSERT_GE(self->evfd, 0);
	for (int i = 0; i < NPIPES; i++) {
		ASSERT_EQ(pipe2(self->p[i], O_NONBLOCK), 0);
		ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[i][0],
				  EPOLLIN, i), 0);
	}
}

FIXTURE_TEARDOWN(minwait)
{
	for (int i = 0; i < NPIPES; i++) {
		close(self->p[i][0]);
		close(self->p[i][1]);
	}
	close(self->evfd);
}

static void *waiter(void *arg)
{
	FIXTURE_DATA(minwait) *self = arg;
	int ret;

	evp_set_tid(&self->tid);
	ret = evp_submit_wait(self->evfd, NULL, 0, self->ev, NPIPES * 2,
			      self->timeout, self->min_events, self->min_wait);
	__atomic_store_n(&self->t_ret, now_ns(), __ATOMIC_RELEASE);
	__atomic_store_n(&self->ret, ret, __ATOMIC_RELEASE);
	return NULL;
}

static bool returned(FIXTURE_DATA(minwait) *self)
{
	return __atomic_load_n(&self->t_ret, __ATOMIC_ACQUIRE) != 0;
}

static pid_t start(FIXTURE_DATA(minwait) *self, pthread_t *th,
		   unsigned int min_events, long long min_wait,
		   long long timeout)
{
	self->min_events = min_events;
	self->min_wait = min_wait;
	self->timeout = timeout;
	self->tid = 0;
	self->t_ret = 0;
	if (pthread_create(th, NULL, waiter, self))
		return 0;
	return evp_get_tid(&self->tid);
}

/* Returns as soon as min_events are ready, long before min_wait. */
TEST_F(minwait, returns_at_min_events)
{
	pthread_t th;
	pid_t tid = start(self, &th, 3, 20 * NSEC_PER_SEC, 30 * NSEC_PER_SEC);
	long long t0;

	ASSERT_NE(tid, 0);
	for (int i = 0; i < 3; i++) {
		ASSERT_TRUE(evp_tasks_asleep(&tid, 1));
		ASSERT_FALSE(returned(self));
		ASSERT_EQ(write(self->p[i][1], "x", 1), 1);
	}
	t0 = now_ns();
	pthread_join(th, NULL);
	EXPECT_EQ(self->ret, 3);
	EXPECT_LT(self->t_ret - t0, 10 * NSEC_PER_SEC);
}

/* With fewer events, returns min_wait after the first one. */
TEST_F(minwait, returns_at_min_wait_after_first)
{
	const long long mw = 300 * NSEC_PER_MSEC;
	pthread_t th;
	pid_t tid = start(self, &th, 4, mw, 60 * NSEC_PER_SEC);
	long long t0;

	ASSERT_NE(tid, 0);
	ASSERT_TRUE(evp_tasks_asleep(&tid, 1));
	t0 = now_ns();
	ASSERT_EQ(write(self->p[0][1], "x", 1), 1);
	pthread_join(th, NULL);
	EXPECT_EQ(self->ret, 1);
	EXPECT_EQ(self->ev[0].data.u64, 0);
	EXPECT_GE(self->t_ret - t0, mw);
	EXPECT_LT(self->t_ret - t0, 30 * NSEC_PER_SEC);
}

/* The overall timeout bounds the min-wait; never sleeps past it. */
TEST_F(minwait, returns_at_timeout)
{
	const long long to = 400 * NSEC_PER_MSEC;
	struct epoll_event ev[4];
	long long t0, el;
	int ret;

	ASSERT_EQ(write(self->p[0][1], "x", 1), 1);
	t0 = now_ns();
	ret = evp_submit_wait(self->evfd, NULL, 0, ev, 4, to, 4,
			      100 * NSEC_PER_SEC);
	el = now_ns() - t0;
	EXPECT_EQ(ret, 1);
	EXPECT_GE(el, to);
	/* Timer slack of a 400 ms sleep is 0.4 ms; allow a slow VM. */
	EXPECT_LT(el, to + 2 * NSEC_PER_SEC);

	/* Nothing at all: 0 at the timeout. */
	ASSERT_EQ(read(self->p[0][0], ev, 1), 1);
	t0 = now_ns();
	ret = evp_submit_wait(self->evfd, NULL, 0, ev, 4, to, 4, 0);
	el = now_ns() - t0;
	EXPECT_EQ(ret, 0);
	EXPECT_GE(el, to);
	EXPECT_LT(el, to + 2 * NSEC_PER_SEC);

	/* Non-blocking: one pass, whatever is there. */
	ASSERT_EQ(write(self->p[1][1], "x", 1), 1);
	EXPECT_EQ(evp_submit_wait(self->evfd, NULL, 0, ev, 4, 0, 4, 0), 1);
}

/*
 * The saving: while waiting for more, the events that arrive do not wake
 * the task.  After the first event (which starts the min-wait clock and
 * wakes it once), six more leave it asleep with its voluntary context
 * switch count unchanged; the eighth completes the batch.
 */
TEST_F(minwait, no_wakeup_per_event)
{
	pthread_t th;
	pid_t tid = start(self, &th, NPIPES, 0, 60 * NSEC_PER_SEC);
	long long csw;

	ASSERT_NE(tid, 0);
	ASSERT_TRUE(evp_tasks_asleep(&tid, 1));
	csw = evp_task_nvcsw(tid);
	ASSERT_EQ(write(self->p[0][1], "x", 1), 1);
	/* It wakes for the first, stores it and sleeps again for 7 more. */
	ASSERT_GE(evp_poll_until(evp_task_nvcsw(tid) > csw &&
				 evp_task_asleep(tid), 20000), 0);
	csw = evp_task_nvcsw(tid);
	for (int i = 1; i < NPIPES - 1; i++) {
		ASSERT_EQ(write(self->p[i][1], "x", 1), 1);
		ASSERT_TRUE(evp_task_asleep(tid));
	}
	usleep(50 * 1000);	/* give a wrong wake-up a chance to show */
	EXPECT_EQ(evp_task_nvcsw(tid), csw);
	EXPECT_FALSE(returned(self));
	ASSERT_EQ(write(self->p[NPIPES - 1][1], "x", 1), 1);
	pthread_join(th, NULL);
	EXPECT_EQ(self->ret, NPIPES);
}

/* Level-triggered items are reported once per call, not once per pass. */
TEST_F(minwait, level_triggered_once_per_call)
{
	struct epoll_event ev[8];
	int ret;

	ASSERT_EQ(write(self->p[0][1], "x", 1), 1);
	ret = evp_submit_wait(self->evfd, NULL, 0, ev, 8, 2 * NSEC_PER_SEC, 4,
			      200 * NSEC_PER_MSEC);
	EXPECT_EQ(ret, 1);
	/* Still ready, still level-triggered: the next call reports it. */
	EXPECT_EQ(evp_wait(self->evfd, ev, 8, 0), 1);
}

/* min_events above maxevents is taken as maxevents. */
TEST_F(minwait, min_events_capped_by_maxevents)
{
	struct epoll_event ev[2];

	ASSERT_EQ(write(self->p[0][1], "x", 1), 1);
	ASSERT_EQ(write(self->p[1][1], "x", 1), 1);
	EXPECT_EQ(evp_submit_wait(self->evfd, NULL, 0, ev, 2,
				  60 * NSEC_PER_SEC, 100, 0), 2);
}

TEST_HARNESS_MAIN
