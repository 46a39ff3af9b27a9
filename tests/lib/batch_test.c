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

/* Does the instance hold an item for @fd (a "tfd:" line of its fdinfo)? */
static int kernel_has(int evfd, int fd)
{
	char path[64], line[256];
	int tfd, has = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", evfd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "tfd: %d", &tfd) == 1 && tfd == fd)
			has = 1;
	fclose(f);
	return has;
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

/* An ADD reaches the kernel with the next wait, which reports its event. */
TEST_F(batch, add_is_applied_by_the_next_wait)
{
	int pfd[2];

	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(1, write(pfd[1], "x", 1));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 7));
	EXPECT_EQ(0, HAS(pfd[0]));
	ASSERT_EQ(1, WAIT(0));
	EXPECT_EQ(1, HAS(pfd[0]));
	EXPECT_EQ(pfd[0], self->ev[0].fd);
	EXPECT_EQ(7, self->ev[0].data);
	EXPECT_EQ(EPOLLIN, self->ev[0].events);
	EXPECT_EQ(0, evpoll_poller_del(self->p, pfd[0]));
	/* DEL is made at once: the caller may close next. */
	EXPECT_EQ(0, HAS(pfd[0]));
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(batch, add_then_del_cancels_out)
{
	int pfd[2];

	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(1, write(pfd[1], "x", 1));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 1));
	ASSERT_EQ(0, evpoll_poller_del(self->p, pfd[0]));
	EXPECT_EQ(-ENOENT, evpoll_poller_del(self->p, pfd[0]));
	EXPECT_EQ(0, WAIT(0));
	EXPECT_EQ(0, HAS(pfd[0]));
	/* Added again: a new registration, not EEXIST. */
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 2));
	ASSERT_EQ(1, WAIT(0));
	EXPECT_EQ(2, self->ev[0].data);
	EXPECT_EQ(0, evpoll_poller_del(self->p, pfd[0]));
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(batch, mod_after_add_merges)
{
	int pfd[2];

	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(1, write(pfd[1], "x", 1));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[1], EPOLLIN, 1));
	ASSERT_EQ(0, evpoll_poller_mod(self->p, pfd[1], EPOLLOUT, 2));
	ASSERT_EQ(0, evpoll_poller_mod(self->p, pfd[1], EPOLLOUT, 3));
	EXPECT_EQ(0, HAS(pfd[1]));
	ASSERT_EQ(1, WAIT(0));
	EXPECT_EQ(3, self->ev[0].data);
	EXPECT_EQ(EPOLLOUT, self->ev[0].events);
	/* A MOD of an applied registration is queued in its turn. */
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
 * A queued change the kernel refuses: one EPOLLERR, then it is gone.  It
 * must not wait for something else to happen: a wait with no timeout
 * returns with it at once (as kevent() returns its EV_ERROR entries),
 * bounded by alarm().
 */
TEST_F(batch, refused_change_is_an_error_event)
{
	char old[32] = "", zero[] = "0";
	int pfd[2], wfd, n;

	wfd = open(WATCHES, O_RDWR | O_CLOEXEC);
	if (wfd < 0)
		SKIP(return, "%s: %s (root only)", WATCHES, strerror(errno));
	n = read(wfd, old, sizeof(old) - 1);
	ASSERT_LT(0, n);
	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 9));
	limit_fd = wfd;
	memcpy(limit_old, old, sizeof(limit_old));
	signal(SIGALRM, limit_restore_and_fail);
	ASSERT_EQ((ssize_t)strlen(zero), pwrite(wfd, zero, strlen(zero), 0));
	alarm(5);
	n = WAIT(-1);
	alarm(0);
	ASSERT_EQ((ssize_t)strlen(old), pwrite(wfd, old, strlen(old), 0));
	close(wfd);
	ASSERT_EQ(1, n);
	EXPECT_EQ(pfd[0], self->ev[0].fd);
	EXPECT_EQ(9, self->ev[0].data);
	EXPECT_EQ(EPOLLERR, self->ev[0].events);
	EXPECT_EQ(0, HAS(pfd[0]));
	/* The registration ended with its error. */
	EXPECT_EQ(-ENOENT, evpoll_poller_del(self->p, pfd[0]));
	EXPECT_EQ(0, WAIT(0));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 10));
	ASSERT_EQ(1, write(pfd[1], "x", 1));
	ASSERT_EQ(1, WAIT(10000));
	EXPECT_EQ(10, self->ev[0].data);
	EXPECT_EQ(0, evpoll_poller_close(self->p, pfd[0]));
	close(pfd[1]);
}

/* A queued ADD whose fd is closed before the wait: forgotten, silently. */
TEST_F(batch, queued_add_of_a_closed_fd_is_forgotten)
{
	int pfd[2];

	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 1));
	close(pfd[0]);
	EXPECT_EQ(0, WAIT(0));
	EXPECT_EQ(-EBADF, evpoll_poller_del(self->p, pfd[0]));
	close(pfd[1]);
}

/* Many changes, more than one EVPOLL_IOC_SUBMIT slice, in one wait. */
TEST_F(batch, many_queued_adds)
{
	enum { N = 1500 };
	int (*sv)[2] = calloc(N, sizeof(*sv)), i, n, seen = 0;

	ASSERT_NE(NULL, sv);
	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
					0, sv[i]));
		ASSERT_EQ(0, evpoll_poller_add(self->p, sv[i][0], EPOLLOUT,
					       (uint64_t)i));
	}
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
