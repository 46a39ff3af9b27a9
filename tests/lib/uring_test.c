// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * uring_test.c - io_uring and Linux AIO backend behaviour that the shared
 * conformance suite (poller_test.c) cannot express: one entry per fd per
 * wait under multishot poll, no spurious EINTR after a ring is torn down,
 * a MOD that cannot be armed, the AIO context's growth.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "evpoll.h"
#include "kselftest_harness.h"
#include "helpers.h"

#define NWRITES 5

static int backend_usable(enum evpoll_backend b)
{
	return evpoll_backend_probe(b) == 0;
}

/*
 * epoll reports a ready fd at most once per wait.  A multishot poll
 * posts one CQE per wakeup: five writes, five CQEs, which must become one
 * entry (their masks ORed).
 */
TEST(uring_et_reports_an_fd_once_per_wait)
{
	struct evpoll_poller_event ev[16];
	struct evpoll_poller *p;
	int pfd[2], efd, i, n;
	uint64_t one = 1;

	if (!backend_usable(EVPOLL_BACKEND_URING))
		SKIP(return, "io_uring unavailable");
	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_URING, 0, &p));
	if (!(evpoll_poller_caps(p) & EVPOLL_CAP_ET)) {
		evpoll_poller_free(p);
		SKIP(return, "no multishot poll");
	}
	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, evpoll_poller_add(p, pfd[0], EPOLLIN | EPOLLET, 7));
	ASSERT_EQ(0, evpoll_poller_add(p, efd, EPOLLIN | EPOLLOUT | EPOLLET,
				       8));
	/* The eventfd is writable from the start: one entry, then none. */
	n = evpoll_poller_wait(p, ev, 16, 100);
	ASSERT_EQ(1, n);
	EXPECT_EQ(8, ev[0].data);
	EXPECT_EQ(0, evpoll_poller_wait(p, ev, 16, 0));

	for (i = 0; i < NWRITES; i++) {
		ASSERT_EQ(1, write(pfd[1], "x", 1));
		ASSERT_EQ(8, write(efd, &one, 8));
	}
	n = evpoll_poller_wait(p, ev, 16, 100);
	for (i = 0; i < n; i++)
		TH_LOG("entry %d: fd %d data %llu events %#x", i, ev[i].fd,
		       (unsigned long long)ev[i].data, ev[i].events);
	ASSERT_EQ(2, n);
	EXPECT_NE(ev[0].fd, ev[1].fd);
	for (i = 0; i < n; i++) {
		if (ev[i].fd == pfd[0]) {
			EXPECT_EQ(EPOLLIN, ev[i].events);
		} else {
			/* The wakeup's mask: EPOLLIN (epoll: IN | OUT). */
			EXPECT_EQ(efd, ev[i].fd);
			EXPECT_TRUE(ev[i].events & EPOLLIN);
		}
	}
	EXPECT_EQ(0, evpoll_poller_wait(p, ev, 16, 0));

	/* Also when the caller takes one event at a time. */
	for (i = 0; i < NWRITES; i++)
		ASSERT_EQ(1, write(pfd[1], "x", 1));
	ASSERT_EQ(1, evpoll_poller_wait(p, ev, 1, 100));
	EXPECT_EQ(pfd[0], ev[0].fd);
	EXPECT_EQ(0, evpoll_poller_wait(p, ev, 16, 0));

	evpoll_poller_free(p);
	close(efd);
	close(pfd[0]);
	close(pfd[1]);
}

TEST_HARNESS_MAIN
