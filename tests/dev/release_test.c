// SPDX-License-Identifier: GPL-2.0
/*
 * release_test - when evpoll drops the last reference to a watched file,
 * the file's release must run promptly (issue 12).
 *
 *   wait_after_close.unix, .tcp
 *                  a and b connected, both watched level-triggered for
 *                  EPOLLIN; a writes and shuts down its sending side; the
 *                  wait reports b; b is read to EOF and close()d without
 *                  DEL while its item is still queued.  The next WAIT,
 *                  with no timeout, drops b's item (evpoll's reference
 *                  was the last) and must report a EPOLLIN|EPOLLHUP, as
 *                  epoll does: b's release must not wait for the waiting
 *                  task to return to user space.  Bounded by SIGALRM.

 */
#include <poll.h>
#include <sys/socket.h>

#include "evp.h"
#include "kselftest_harness.h"

/* How long a wait that should return at once may block before failing. */
#define HANG_LIMIT_S	10

static void on_alarm(int sig)
{
	(void)sig;
}

FIXTURE(wait_after_close) {
	int a, b;
};

FIXTURE_VARIANT(wait_after_close) {
	bool tcp;
};

FIXTURE_VARIANT_ADD(wait_after_close, unix) {
	.tcp = false,
};

FIXTURE_VARIANT_ADD(wait_after_close, tcp) {
	.tcp = true,
};

FIXTURE_SETUP(wait_after_close)
{
	int sv[2];

	if (variant->tcp) {
		ASSERT_EQ(evp_tcp_pair(sv), 0);
	} else {
		ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				     sv), 0);
	}
	self->a = sv[0];
	self->b = sv[1];
}

FIXTURE_TEARDOWN(wait_after_close)
{
	close(self->a);
	if (self->b >= 0)
		close(self->b);
}

TEST_F(wait_after_close, peer_sees_hup)
{
	/* No SA_RESTART: the alarm makes a stuck wait fail with EINTR. */
	struct sigaction sa = { .sa_handler = on_alarm };
	struct epoll_event ev[4];
	int evfd = evp_open(), n;
	char c;

	ASSERT_GE(evfd, 0);
	ASSERT_EQ(sigaction(SIGALRM, &sa, NULL), 0);
	ASSERT_EQ(evp_ctl(evfd, EVPOLL_CTL_ADD, self->a, EPOLLIN, 1), 0);
	ASSERT_EQ(evp_ctl(evfd, EVPOLL_CTL_ADD, self->b, EPOLLIN, 2), 0);
	ASSERT_EQ(write(self->a, "x", 1), 1);
	ASSERT_EQ(shutdown(self->a, SHUT_WR), 0);

	ASSERT_EQ(evp_wait(evfd, ev, 4, 10 * NSEC_PER_SEC), 1);
	ASSERT_EQ(ev[0].data.u64, 2);
	/* Read b to EOF (blocking): it stays ready, its item queued. */
	ASSERT_EQ(read(self->b, &c, 1), 1);
	ASSERT_EQ(read(self->b, &c, 1), 0);
	close(self->b);		/* without DEL: evpoll holds the last ref */
	self->b = -1;

	alarm(HANG_LIMIT_S);
	n = evp_wait(evfd, ev, 4, -1);
	alarm(0);
	ASSERT_EQ(n, 1) {
		if (n == -EINTR)
			TH_LOG("the wait blocked for %d s: b's release waits for the waiting task",
			       HANG_LIMIT_S);
	}
	EXPECT_EQ(ev[0].data.u64, 1);
	EXPECT_EQ(ev[0].events & (EPOLLIN | EPOLLHUP), EPOLLIN | EPOLLHUP);
	EXPECT_EQ(evp_counter(evfd, "evpoll-reaped"), 1);
	EXPECT_EQ(evp_counter(evfd, "evpoll-items"), 1);
	close(evfd);
}

TEST_HARNESS_MAIN
