// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * forget_test.c - evpoll_forget() and evpoll_close(): the cooperative
 * close path for programs that link libevpoll (issue 12).  A watched fd
 * closed without EPOLL_CTL_DEL releases its file at once when nothing
 * else holds it, and keeps its item when a dup()ed copy does (epoll's
 * rule).  Needs the module (guest only); on a module without
 * EVPOLL_IOC_FORGET only the EOPNOTSUPP case runs, the others skip
 * (EVPOLL_TEST_FORGET=1 runs them anyway).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "evpoll.h"
#include "kselftest_harness.h"

/* How long a reader may take to see EOF (the reaper: up to 250 ms). */
#define EOF_MS	50

FIXTURE(forget) {
	int evfd;
	int p[2];
	bool supported;
};

FIXTURE_SETUP(forget)
{
	const char *force = getenv("EVPOLL_TEST_FORGET");
	uint64_t mask = 0;

	self->evfd = evpoll_create1(EVPOLL_CLOEXEC);
	ASSERT_GE(self->evfd, 0) TH_LOG("evpoll_create1: %s",
					strerror(errno));
	ASSERT_EQ(evpoll_features(self->evfd, &mask), 0);
	self->supported = (mask & EVPOLL_FEAT_FORGET) ||
			  (force && !strcmp(force, "1"));
	ASSERT_EQ(pipe(self->p), 0);
}

FIXTURE_TEARDOWN(forget)
{
	close(self->p[0]);
	if (self->p[1] >= 0)
		close(self->p[1]);
	close(self->evfd);
}

#define NEED_FORGET() do {						\
	if (!self->supported)						\
		SKIP(return, "module without EVPOLL_IOC_FORGET "	\
		     "(EVPOLL_TEST_FORGET=1 runs it anyway)");		\
} while (0)

static int watch(int evfd, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	return evpoll_ctl(evfd, EPOLL_CTL_ADD, fd, &ev);
}

/* The reader @r sees EOF within EOF_MS. */
static bool eof_soon(int r)
{
	struct pollfd p = { .fd = r, .events = POLLIN };
	char c;

	return poll(&p, 1, EOF_MS) == 1 && read(r, &c, 1) == 0;
}

/* Dropped: 1, the item is gone, the close releases the file at once. */
TEST_F(forget, drops_last_reference)
{
	NEED_FORGET();
	ASSERT_EQ(watch(self->evfd, self->p[1], EPOLLOUT), 0);
	ASSERT_EQ(evpoll_forget(self->evfd, self->p[1]), 1)
		TH_LOG("evpoll_forget: %s", strerror(errno));
	EXPECT_EQ(evpoll_ctl(self->evfd, EPOLL_CTL_DEL, self->p[1], NULL), -1);
	EXPECT_EQ(errno, ENOENT);
	ASSERT_EQ(close(self->p[1]), 0);
	self->p[1] = -1;
	EXPECT_TRUE(eof_soon(self->p[0]));
}

/* Kept: 0 while a dup() holds the file; the item is still there. */
TEST_F(forget, keeps_item_of_dup)
{
	int d;

	NEED_FORGET();
	ASSERT_EQ(watch(self->evfd, self->p[1], EPOLLOUT), 0);
	d = dup(self->p[1]);
	ASSERT_GE(d, 0);
	EXPECT_EQ(evpoll_forget(self->evfd, self->p[1]), 0);
	/* not closed after all: the item is intact */
	EXPECT_EQ(evpoll_ctl(self->evfd, EPOLL_CTL_DEL, self->p[1], NULL), 0);
	close(d);
}

/* evpoll_close(): the reader sees EOF at once, the result is close()'s. */
TEST_F(forget, close_releases_at_once)
{
	NEED_FORGET();
	ASSERT_EQ(watch(self->evfd, self->p[1], EPOLLOUT), 0);
	ASSERT_EQ(evpoll_close(self->evfd, self->p[1]), 0);
	self->p[1] = -1;
	EXPECT_TRUE(eof_soon(self->p[0]));
}

/*
 * evpoll_close() of a watched fd a dup() also holds: the fd is closed, the
 * item is kept (reported through the dup, keyed by the closed number), and
 * evpoll_close() of the dup, the last holder, releases the file.
 */
TEST_F(forget, close_keeps_item_of_dup)
{
	struct epoll_event ev;
	int d;

	NEED_FORGET();
	ASSERT_EQ(watch(self->evfd, self->p[1], EPOLLOUT), 0);
	d = dup(self->p[1]);
	ASSERT_GE(d, 0);
	EXPECT_EQ(evpoll_close(self->evfd, self->p[1]), 0);
	EXPECT_EQ(fcntl(self->p[1], F_GETFD), -1);
	EXPECT_EQ(errno, EBADF);
	ASSERT_EQ(evpoll_wait(self->evfd, &ev, 1, 0), 1);
	EXPECT_EQ(ev.data.fd, self->p[1]);
	self->p[1] = -1;
	EXPECT_FALSE(eof_soon(self->p[0]));
	EXPECT_EQ(evpoll_close(self->evfd, d), 0);
	EXPECT_TRUE(eof_soon(self->p[0]));
	EXPECT_EQ(evpoll_wait(self->evfd, &ev, 1, 0), 0);
}

/*
 * evpoll_close() always closes @fd: when the one-call path refuses (@fd
 * is a dup of the instance, @evfd no instance or not open), close() does.
 */
TEST_F(forget, close_falls_back)
{
	int fd;

	NEED_FORGET();
	fd = dup(self->evfd);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(evpoll_close(self->evfd, fd), 0);
	EXPECT_EQ(fcntl(fd, F_GETFD), -1);
	EXPECT_EQ(fcntl(self->evfd, F_GETFD), FD_CLOEXEC);
	fd = dup(self->p[0]);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(evpoll_close(self->p[0], fd), 0);
	EXPECT_EQ(fcntl(fd, F_GETFD), -1);
	fd = dup(self->p[0]);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(evpoll_close(-1, fd), 0);
	EXPECT_EQ(fcntl(fd, F_GETFD), -1);
	/* The instance still works. */
	ASSERT_EQ(watch(self->evfd, self->p[1], EPOLLOUT), 0);
	EXPECT_EQ(evpoll_close(self->evfd, self->p[1]), 0);
	self->p[1] = -1;
	EXPECT_TRUE(eof_soon(self->p[0]));
}

/*
 * The errors: ENOENT (not watched), EBADF (fd or evfd not open), EINVAL
 * (evfd not an instance); evpoll_close() of an unwatched fd closes it,
 * of a closed fd fails with close()'s EBADF.
 */
TEST_F(forget, errors)
{
	int fd;

	NEED_FORGET();
	EXPECT_EQ(evpoll_forget(self->evfd, self->p[1]), -1);
	EXPECT_EQ(errno, ENOENT);
	EXPECT_EQ(evpoll_forget(self->evfd, -1), -1);
	EXPECT_EQ(errno, EBADF);
	EXPECT_EQ(evpoll_forget(-1, self->p[1]), -1);
	EXPECT_EQ(errno, EBADF);
	EXPECT_EQ(evpoll_forget(self->p[0], self->p[1]), -1);
	EXPECT_EQ(errno, EINVAL);

	fd = dup(self->p[1]);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(evpoll_close(self->evfd, fd), 0);
	EXPECT_EQ(fcntl(fd, F_GETFD), -1);
	EXPECT_EQ(evpoll_close(self->evfd, fd), -1);
	EXPECT_EQ(errno, EBADF);
}

/*
 * A module without the ioctl: evpoll_forget() says EOPNOTSUPP, and
 * evpoll_close() still closes (the reaper drops the item later).
 */
TEST_F(forget, old_module_eopnotsupp)
{
	if (self->supported)
		SKIP(return, "the module has EVPOLL_IOC_FORGET");
	ASSERT_EQ(watch(self->evfd, self->p[1], EPOLLOUT), 0);
	EXPECT_EQ(evpoll_forget(self->evfd, self->p[1]), -1);
	EXPECT_EQ(errno, EOPNOTSUPP);
	EXPECT_EQ(evpoll_close(self->evfd, self->p[1]), 0);
	EXPECT_EQ(fcntl(self->p[1], F_GETFD), -1);
	self->p[1] = -1;
}

TEST_HARNESS_MAIN
