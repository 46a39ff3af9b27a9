// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * batch_test.c - the evpoll poller backend's batched changes
 * (EVPOLL_CAP_BATCHED, Documentation/backends.rst "Batched changes") and
 * its user-event wake-up.  What the kernel holds is read from the
 * instance's fdinfo (one "tfd:" line per item), so each test sees when a
 * change reaches the kernel.  Needs the module (guest only).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "evpoll.h"
#include "kselftest_harness.h"
#include "helpers.h"

#define MAXEV 16
#define WATCHES "/sys/module/evpoll/parameters/max_user_watches"

FIXTURE(batch) {
	struct evpoll_poller *p;
	int evfd;		/* the poller's instance, for its fdinfo */
	int nfds_before;
	struct evpoll_poller_event ev[MAXEV];
};

/* The (one) open fd of this process that is a /dev/evpoll instance. */
static int find_instance(void)
{
	char path[64], target[64];
	int fd, found = -1;
	ssize_t n;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (!strcmp(target, "/dev/evpoll")) {
			if (found >= 0)
				return -1;
			found = fd;
		}
	}
	return found;
}

/*
 * The event mask of the instance's item for @fd (its "tfd:" line in the
 * fdinfo), 0 without one (an item's mask always has EPOLLERR|EPOLLHUP).
 */
static unsigned int kernel_mask(int evfd, int fd)
{
	char path[64], line[256];
	unsigned int events, mask = 0;
	int tfd;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", evfd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "tfd: %d events: %x", &tfd, &events) == 2 &&
		    tfd == fd)
			mask = events;
	fclose(f);
	return mask;
}

/* Does the instance hold an item for @fd? */
static int kernel_has(int evfd, int fd)
{
	return kernel_mask(evfd, fd) != 0;
}

FIXTURE_SETUP(batch)
{
	uint64_t feat = 0;
	int fd;

	self->p = NULL;
	self->nfds_before = count_open_fds();
	fd = evpoll_create1(EVPOLL_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("no /dev/evpoll: %s", strerror(errno));
	ASSERT_EQ(0, evpoll_features(fd, &feat));
	close(fd);
	ASSERT_TRUE(feat & EVPOLL_FEAT_SUBMIT);
	unsetenv("EVPOLL_NO_SUBMIT");
	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_EVPOLL, 0, &self->p));
	ASSERT_TRUE(evpoll_poller_caps(self->p) & EVPOLL_CAP_BATCHED);
	self->evfd = find_instance();
	ASSERT_LE(0, self->evfd);
}

FIXTURE_TEARDOWN(batch)
{
	evpoll_poller_free(self->p);
	EXPECT_EQ(self->nfds_before, count_open_fds());
}

#define WAIT(ms)	evpoll_poller_wait(self->p, self->ev, MAXEV, (ms))
#define HAS(fd)		kernel_has(self->evfd, (fd))
#define MASK(fd)	(kernel_mask(self->evfd, (fd)) & (EPOLLIN | EPOLLOUT))

TEST_F(batch, no_submit_env_turns_batching_off)
{
	struct evpoll_poller *q;
	int pfd[2];

	setenv("EVPOLL_NO_SUBMIT", "1", 1);
	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_EVPOLL, 0, &q));
	unsetenv("EVPOLL_NO_SUBMIT");
	EXPECT_EQ(0, evpoll_poller_caps(q) & EVPOLL_CAP_BATCHED);
	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	/* Without batching, the ADD is made by the call itself. */
	ASSERT_EQ(0, evpoll_poller_add(q, pfd[0], EPOLLIN, 1));
	evpoll_poller_free(q);
	setenv("EVPOLL_NO_SUBMIT", "0", 1);	/* "0": not off */
	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_EVPOLL, 0, &q));
	unsetenv("EVPOLL_NO_SUBMIT");
	EXPECT_TRUE(evpoll_poller_caps(q) & EVPOLL_CAP_BATCHED);
	evpoll_poller_free(q);
	close(pfd[0]);
	close(pfd[1]);
}

/*
 * An ADD is made at once (a queued one would cost two fstat() calls to
 * save one system call): the kernel has the item when the call returns.
 */
TEST_F(batch, add_is_made_at_once)
{
	int pfd[2];

	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(1, write(pfd[1], "x", 1));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 7));
	EXPECT_EQ(1, HAS(pfd[0]));
	ASSERT_EQ(1, WAIT(0));
	EXPECT_EQ(pfd[0], self->ev[0].fd);
	EXPECT_EQ(7, self->ev[0].data);
	EXPECT_EQ(EPOLLIN, self->ev[0].events);
	EXPECT_EQ(0, evpoll_poller_del(self->p, pfd[0]));
	/* DEL is made at once: the caller may close next. */
	EXPECT_EQ(0, HAS(pfd[0]));
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(batch, add_then_del_then_add)
{
	int pfd[2];

	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(1, write(pfd[1], "x", 1));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 1));
	ASSERT_EQ(0, evpoll_poller_del(self->p, pfd[0]));
	EXPECT_EQ(-ENOENT, evpoll_poller_del(self->p, pfd[0]));
	EXPECT_EQ(0, HAS(pfd[0]));
	EXPECT_EQ(0, WAIT(0));
	/* Added again: a new registration, not EEXIST. */
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 2));
	ASSERT_EQ(1, WAIT(0));
	EXPECT_EQ(2, self->ev[0].data);
	EXPECT_EQ(0, evpoll_poller_del(self->p, pfd[0]));
	close(pfd[0]);
	close(pfd[1]);
}

/* MODs of an applied registration are queued and merge. */
TEST_F(batch, mods_are_queued_and_merge)
{
	int pfd[2];

	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(1, write(pfd[1], "x", 1));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[1], EPOLLIN, 1));
	EXPECT_EQ(0, WAIT(0));
	ASSERT_EQ(0, evpoll_poller_mod(self->p, pfd[1], EPOLLOUT, 2));
	ASSERT_EQ(0, evpoll_poller_mod(self->p, pfd[1], EPOLLOUT, 3));
	EXPECT_EQ(EPOLLIN, MASK(pfd[1]));	/* queued */
	ASSERT_EQ(1, WAIT(0));
	EXPECT_EQ(EPOLLOUT, MASK(pfd[1]));
	EXPECT_EQ(3, self->ev[0].data);
	EXPECT_EQ(EPOLLOUT, self->ev[0].events);
	ASSERT_EQ(0, evpoll_poller_mod(self->p, pfd[1], EPOLLIN, 4));
	EXPECT_EQ(0, WAIT(0));
	ASSERT_EQ(0, evpoll_poller_mod(self->p, pfd[1], EPOLLOUT, 5));
	ASSERT_EQ(1, WAIT(0));
	EXPECT_EQ(5, self->ev[0].data);
	EXPECT_EQ(0, evpoll_poller_del(self->p, pfd[1]));
	close(pfd[0]);
	close(pfd[1]);
}

/*
 * MODs that bring a level-triggered registration back to the mask the
 * kernel has cancel out (the toggle pattern); its new data is reported.
 * Not with EPOLLET: a MOD re-arms the edge, as epoll's does.
 */
TEST_F(batch, mod_back_to_the_kernel_mask_cancels_out)
{
	int pfd[2];

	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 1));
	EXPECT_EQ(0, WAIT(0));
	ASSERT_EQ(0, evpoll_poller_mod(self->p, pfd[0], EPOLLIN | EPOLLOUT, 2));
	ASSERT_EQ(0, evpoll_poller_mod(self->p, pfd[0], EPOLLIN, 3));
	ASSERT_EQ(0, evpoll_poller_mod(self->p, pfd[0], EPOLLIN, 4));
	ASSERT_EQ(1, write(pfd[1], "x", 1));
	ASSERT_EQ(1, WAIT(0));
	EXPECT_EQ(4, self->ev[0].data);
	EXPECT_EQ(EPOLLIN, self->ev[0].events);
	ASSERT_EQ(1, WAIT(0));		/* level-triggered */
	EXPECT_EQ(4, self->ev[0].data);

	ASSERT_EQ(0, evpoll_poller_mod(self->p, pfd[0], EPOLLIN | EPOLLET, 5));
	ASSERT_EQ(1, WAIT(0));
	EXPECT_EQ(5, self->ev[0].data);
	EXPECT_EQ(0, WAIT(0));		/* the edge was reported */
	ASSERT_EQ(0, evpoll_poller_mod(self->p, pfd[0], EPOLLIN | EPOLLET, 6));
	ASSERT_EQ(1, WAIT(0));		/* a MOD re-arms it */
	EXPECT_EQ(6, self->ev[0].data);
	EXPECT_EQ(0, evpoll_poller_close(self->p, pfd[0]));
	close(pfd[1]);
}

/* The files epoll may refuse are added at once, with epoll's answer. */
TEST_F(batch, other_files_are_added_at_once)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC), efd;

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EPERM, evpoll_poller_add(self->p, fd, EPOLLIN, 1));
	close(fd);
	efd = evpoll_create1(EVPOLL_CLOEXEC);	/* another instance */
	ASSERT_LE(0, efd);
	EXPECT_EQ(0, evpoll_poller_add(self->p, efd, EPOLLIN, 1));
	EXPECT_EQ(1, HAS(efd));
	EXPECT_EQ(0, evpoll_poller_del(self->p, efd));
	close(efd);
	EXPECT_EQ(-EBADF, evpoll_poller_add(self->p, efd, EPOLLIN, 1));
}

static int limit_fd = -1;
static char limit_old[32];

/* On the alarm: put the watch limit back for the tests after, then fail. */
static void limit_restore_and_fail(int sig)
{
	ssize_t n = pwrite(limit_fd, limit_old, strlen(limit_old), 0);

	(void)n;
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * An ADD the kernel refuses (past max_user_watches) gives its errno as
 * the return value, and nothing is registered.  Bounded by alarm(): the
 * limit is put back if the call hangs.
 */
TEST_F(batch, refused_add_returns_its_errno)
{
	char old[32] = "", zero[] = "0";
	int pfd[2], wfd, n, ret;

	wfd = open(WATCHES, O_RDWR | O_CLOEXEC);
	if (wfd < 0)
		SKIP(return, "%s: %s (root only)", WATCHES, strerror(errno));
	n = read(wfd, old, sizeof(old) - 1);
	ASSERT_LT(0, n);
	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	limit_fd = wfd;
	memcpy(limit_old, old, sizeof(limit_old));
	signal(SIGALRM, limit_restore_and_fail);
	ASSERT_EQ((ssize_t)strlen(zero), pwrite(wfd, zero, strlen(zero), 0));
	alarm(5);
	ret = evpoll_poller_add(self->p, pfd[0], EPOLLIN, 9);
	alarm(0);
	ASSERT_EQ((ssize_t)strlen(old), pwrite(wfd, old, strlen(old), 0));
	close(wfd);
	EXPECT_EQ(-ENOSPC, ret);
	EXPECT_EQ(0, HAS(pfd[0]));
	EXPECT_EQ(-ENOENT, evpoll_poller_del(self->p, pfd[0]));
	EXPECT_EQ(0, WAIT(0));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 10));
	ASSERT_EQ(1, write(pfd[1], "x", 1));
	ASSERT_EQ(1, WAIT(10000));
	EXPECT_EQ(10, self->ev[0].data);
	EXPECT_EQ(0, evpoll_poller_close(self->p, pfd[0]));
	close(pfd[1]);
}

/*
 * A queued MOD whose fd was closed without DEL and now names a file the
 * kernel refuses (EPERM: /dev/null cannot be polled) is a stale
 * registration: forgotten without an event, never reported with the old
 * registration's data (the poller's rule for closed fds).
 */
TEST_F(batch, queued_mod_of_a_reused_fd_is_silent)
{
	int pfd[2], nfd;

	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 11));
	EXPECT_EQ(0, WAIT(0));
	ASSERT_EQ(0, evpoll_poller_mod(self->p, pfd[0], EPOLLIN | EPOLLOUT,
				       12));
	close(pfd[0]);
	nfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_EQ(pfd[0], nfd);
	EXPECT_EQ(0, WAIT(0));
	/* Forgotten: DEL asks the kernel, whose answer is epoll's. */
	EXPECT_EQ(-EPERM, evpoll_poller_del(self->p, pfd[0]));
	close(nfd);
	close(pfd[1]);
}

/* Many queued MODs, more than one EVPOLL_IOC_SUBMIT slice, in one wait. */
TEST_F(batch, many_queued_mods)
{
	enum { N = 1500 };
	int (*sv)[2] = calloc(N, sizeof(*sv)), i, n, seen = 0;

	ASSERT_NE(NULL, sv);
	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
					0, sv[i]));
		ASSERT_EQ(0, evpoll_poller_add(self->p, sv[i][0], EPOLLIN,
					       (uint64_t)i));
	}
	EXPECT_EQ(0, WAIT(0));
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, evpoll_poller_mod(self->p, sv[i][0], EPOLLOUT,
					       (uint64_t)i));
	EXPECT_EQ(EPOLLIN, MASK(sv[N - 1][0]));
	while (seen < N) {
		n = WAIT(0);
		ASSERT_LT(0, n);
		for (i = 0; i < n; i++)
			ASSERT_EQ(sv[self->ev[i].data][0], self->ev[i].fd);
		seen += n;
		/* Each reported fd turned off: a queued MOD each. */
		for (i = 0; i < n; i++)
			ASSERT_EQ(0, evpoll_poller_mod(self->p, self->ev[i].fd,
						       EPOLLIN,
						       self->ev[i].data));
	}
	EXPECT_EQ(0, WAIT(0));
	EXPECT_EQ(EPOLLIN, MASK(sv[0][0]));
	for (i = 0; i < N; i++) {
		EXPECT_EQ(0, evpoll_poller_close(self->p, sv[i][0]));
		close(sv[i][1]);
	}
	free(sv);
}

/* The wake-up is a user event: no eventfd is open for it. */
TEST_F(batch, wakeup_is_a_user_event)
{
	char path[64], target[64];
	int fd, eventfds = 0;
	int64_t t0;
	ssize_t n;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (strstr(target, "eventfd"))
			eventfds++;
	}
	EXPECT_EQ(0, eventfds);
	ASSERT_EQ(0, evpoll_poller_wakeup(self->p));
	ASSERT_EQ(0, evpoll_poller_wakeup(self->p));
	t0 = now_ms();
	EXPECT_EQ(0, WAIT(10000));
	EXPECT_GT(5000, now_ms() - t0);
	/* Coalesced: once. */
	t0 = now_ms();
	EXPECT_EQ(0, WAIT(100));
	EXPECT_LE(90, now_ms() - t0);
}

TEST_HARNESS_MAIN
