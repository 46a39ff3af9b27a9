// SPDX-License-Identifier: GPL-2.0
/*
 * dispatch_test - EVPOLL_CTL_DISABLE / EVPOLL_CTL_ENABLE and the event
 * flag EVPOLLDISPATCH (kqueue's EV_DISABLE, EV_ENABLE, EV_DISPATCH),
 * through EVPOLL_IOC_SUBMIT.
 */
#include <poll.h>

#include "evp2.h"
#include "kselftest_harness.h"

FIXTURE(dispatch) {
	int evfd;
	int p[2];
};

FIXTURE_SETUP(dispatch)
{
	self->evfd = evp_open();
	ASSERT_GE(self->evfd, 0);
	ASSERT_EQ(pipe2(self->p, O_NONBLOCK), 0);
}

FIXTURE_TEARDOWN(dispatch)
{
	close(self->p[0]);
	close(self->p[1]);
	close(self->evfd);
}

/* DISABLE keeps the item but stops reporting; ENABLE reports readiness
 * that is already there, without restating the mask. */
TEST_F(dispatch, disable_enable_with_readiness_present)
{
	struct epoll_event ev[2];
	struct pollfd pfd;

	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 3),
		  0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_DISABLE, self->p[0], 0, 0),
		  0);
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 0);
	/* Still watched. */
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 0),
		  -EEXIST);
	/* A new event while disabled is not reported either. */
	ASSERT_EQ(write(self->p[1], "y", 1), 1);
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 0);
	/* The instance is not readable while its only item is disabled. */
	pfd.fd = self->evfd;
	pfd.events = POLLIN;
	EXPECT_EQ(poll(&pfd, 1, 0), 0);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ENABLE, self->p[0], 0, 0),
		  0);
	ASSERT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
	EXPECT_EQ(ev[0].events, EPOLLIN);
	EXPECT_EQ(ev[0].data.u64, 3);
	/* Enabled again: level-triggered as before. */
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
	/* DISABLE twice, ENABLE twice: no error, no duplicate. */
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_DISABLE, self->p[0], 0, 0), 0);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_DISABLE, self->p[0], 0, 0), 0);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ENABLE, self->p[0], 0, 0), 0);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ENABLE, self->p[0], 0, 0), 0);
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
}

/* A disabled item with nothing ready: ENABLE reports nothing; the next
 * event is reported. */
TEST_F(dispatch, enable_without_readiness)
{
	struct epoll_event ev[2];

	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ADD, self->p[0],
			   EPOLLIN | EPOLLET, 4), 0);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_DISABLE, self->p[0], 0, 0),
		  0);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ENABLE, self->p[0], 0, 0),
		  0);
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
	EXPECT_EQ(ev[0].data.u64, 4);
}

/* EVPOLLDISPATCH: disabled after each delivery, re-armed by ENABLE. */
TEST_F(dispatch, dispatch_rearmed_by_enable)
{
	struct epoll_event ev[2];

	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ADD, self->p[0],
			   EPOLLIN | EVPOLLDISPATCH, 5), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
	EXPECT_EQ(ev[0].events, EPOLLIN);
	EXPECT_EQ(ev[0].data.u64, 5);
	/* Still readable, but delivered once: disabled. */
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 0);
	ASSERT_EQ(write(self->p[1], "y", 1), 1);
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 0);
	/* ENABLE re-arms with the mask and data given at ADD. */
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ENABLE, self->p[0], 0, 0),
		  0);
	ASSERT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
	EXPECT_EQ(ev[0].data.u64, 5);
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 0);
	/* MOD re-arms too (with the new mask). */
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_MOD, self->p[0],
			   EPOLLIN | EVPOLLDISPATCH, 6), 0);
	ASSERT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
	EXPECT_EQ(ev[0].data.u64, 6);
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 0);
}

/* DISPATCH with a blocked waiter: one event, one wake-up, then silence. */
TEST_F(dispatch, dispatch_edge_triggered)
{
	struct epoll_event ev[2];

	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ADD, self->p[0],
			   EPOLLIN | EPOLLET | EVPOLLDISPATCH, 7), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
	ASSERT_EQ(write(self->p[1], "y", 1), 1);
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 0);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ENABLE, self->p[0], 0, 0),
		  0);
	/* ENABLE reports what is there now, even edge-triggered. */
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
}

/* ONESHOT keeps epoll's rule: re-armed by MOD, not by ENABLE. */
TEST_F(dispatch, oneshot_is_epoll)
{
	struct epoll_event ev[2];

	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ADD, self->p[0],
			   EPOLLIN | EPOLLONESHOT, 8), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 0);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ENABLE, self->p[0], 0, 0),
		  0);
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 0);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_MOD, self->p[0],
			   EPOLLIN | EPOLLONESHOT, 9), 0);
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
}

TEST_HARNESS_MAIN
