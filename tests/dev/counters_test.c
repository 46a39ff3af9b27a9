// SPDX-License-Identifier: GPL-2.0
/*
 * counters_test - per-item counters in fdinfo (module parameter
 * item_counters): wake-ups received, events delivered, stale re-polls
 * (the callback fired but readiness was gone), wake-ups coalesced into
 * one event.  Shown on a "tfd-counters:" line after the item's "tfd:"
 * line.  Also the charge of user events to max_user_watches.  Root only
 * (module parameters): not in the unprivileged pass.
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

/* Charged as watches: max_user_watches bounds them (ENOSPC). */
TEST(user_events_charged_to_max_user_watches)
{
	int evfd = evp_open();
	long long old = evp_param("max_user_watches");
	int n = 0, id;

	ASSERT_GE(evfd, 0);
	ASSERT_GT(old, 0);
	ASSERT_EQ(evp_set_param("max_user_watches", 8), 0);
	while ((id = evp_user_add(evfd, EPOLLIN, n)) >= 0 && n < 100)
		n++;
	EXPECT_EQ(id, -ENOSPC);
	EXPECT_LE(n, 8);
	EXPECT_GT(n, 0);
	/* Deleting gives the charge back. */
	EXPECT_EQ(evp_user_del(evfd, EVPOLL_USER_ID_BASE), 0);
	EXPECT_GE(evp_user_add(evfd, EPOLLIN, 0), 0);
	ASSERT_EQ(evp_set_param("max_user_watches", old), 0);
	close(evfd);
}

TEST_HARNESS_MAIN
