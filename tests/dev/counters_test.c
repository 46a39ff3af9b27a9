// SPDX-License-Identifier: GPL-2.0
/*
 * counters_test - per-item counters in fdinfo (module parameter
 * item_counters): wake-ups received, events delivered, stale re-polls
 * (the callback fired but readiness was gone), wake-ups coalesced into
 * one event.  Shown on a "tfd-counters:" line after the item's "tfd:"
 * line.
 */
#include "evp2.h"
#include "kselftest_harness.h"

/* The counters of the item on @fd: 0, or -1 if it has no counters line. */
static int item_counters(int evfd, int fd, long long c[4])
{
	static char buf[1 << 16];
	char key[64], *p;

	if (evp_fdinfo(evfd, buf, sizeof(buf)) < 0)
		return -1;
	snprintf(key, sizeof(key), "tfd-counters: %8d ", fd);
	p = strstr(buf, key);
	if (!p)
		return -1;
	return sscanf(p + strlen(key),
		      "wakeups: %lld delivered: %lld stale: %lld coalesced: %lld",
		      &c[0], &c[1], &c[2], &c[3]) == 4 ? 0 : -1;
}

FIXTURE(counters) {
	int evfd;
	int p[2];
	long long old;
};

FIXTURE_SETUP(counters)
{
	self->old = evp_param("item_counters");
	ASSERT_GE(self->old, 0) TH_LOG("no item_counters parameter");
	ASSERT_EQ(evp_set_param("item_counters", 1), 0);
	self->evfd = evp_open();
	ASSERT_GE(self->evfd, 0);
	ASSERT_EQ(pipe2(self->p, O_NONBLOCK), 0);
}

FIXTURE_TEARDOWN(counters)
{
	evp_set_param("item_counters", self->old);
	close(self->p[0]);
	close(self->p[1]);
	close(self->evfd);
}

TEST_F(counters, wakeups_delivered_stale_coalesced)
{
	struct epoll_event ev[2];
	long long c[4];
	char buf[8];

	ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 1),
		  0);
	ASSERT_EQ(item_counters(self->evfd, self->p[0], c), 0);
	EXPECT_EQ(c[0] + c[1] + c[2] + c[3], 0);
	/* Two writes before a wait: two wake-ups, one coalesced. */
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(write(self->p[1], "y", 1), 1);
	ASSERT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
	ASSERT_EQ(item_counters(self->evfd, self->p[0], c), 0);
	EXPECT_EQ(c[0], 2);
	EXPECT_EQ(c[1], 1);
	EXPECT_EQ(c[2], 0);
	EXPECT_EQ(c[3], 1);
	/* Level-triggered, re-queued; drained before the next wait: stale. */
	ASSERT_EQ(read(self->p[0], buf, sizeof(buf)), 2);
	ASSERT_EQ(evp_wait(self->evfd, ev, 2, 0), 0);
	ASSERT_EQ(item_counters(self->evfd, self->p[0], c), 0);
	EXPECT_EQ(c[1], 1);
	EXPECT_EQ(c[2], 1);
}

/* Without the parameter, no counters (and no memory for them). */
TEST_F(counters, off_by_parameter)
{
	long long c[4];
	int q[2];

	ASSERT_EQ(evp_set_param("item_counters", 0), 0);
	ASSERT_EQ(pipe2(q, O_NONBLOCK), 0);
	ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, q[0], EPOLLIN, 1), 0);
	EXPECT_EQ(item_counters(self->evfd, q[0], c), -1);
	close(q[0]);
	close(q[1]);
}

TEST_HARNESS_MAIN
