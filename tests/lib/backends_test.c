// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * backends_test.c - backend registry, selection, and backend-specific
 * behaviour that the shared conformance suite (poller_test.c) cannot
 * express: select's FD_SETSIZE limit, sigio's queue-overflow fallback and
 * its signal-mask bookkeeping.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <unistd.h>

#include "evpoll.h"
#include "kselftest_harness.h"
#include "helpers.h"

TEST(backends_list_has_the_portable_ones)
{
	enum evpoll_backend list[EVPOLL_BACKEND_MAX];
	unsigned int seen = 0;
	int i, n, nfds = count_open_fds();

	n = evpoll_backends_available(list, EVPOLL_BACKEND_MAX);
	ASSERT_LE(3, n);
	ASSERT_GE(EVPOLL_BACKEND_MAX - 1, n);
	EXPECT_EQ(n, evpoll_backends_available(NULL, 0));
	EXPECT_EQ(-EINVAL, evpoll_backends_available(list, -1));
	for (i = 0; i < n; i++) {
		EXPECT_EQ(0, evpoll_backend_probe(list[i]));
		if (i > 0)
			EXPECT_LT(list[i - 1], list[i]);	/* preference order */
		seen |= 1U << list[i];
		TH_LOG("available: %s", evpoll_backend_name(list[i]));
	}
	EXPECT_TRUE(seen & (1U << EVPOLL_BACKEND_EPOLL));
	EXPECT_TRUE(seen & (1U << EVPOLL_BACKEND_POLL));
	EXPECT_TRUE(seen & (1U << EVPOLL_BACKEND_SELECT));
	EXPECT_EQ(nfds, count_open_fds());
}

TEST(backend_names_round_trip)
{
	int b;

	for (b = EVPOLL_BACKEND_DEFAULT; b <= EVPOLL_BACKEND_EVPOLL_RING; b++) {
		const char *name = evpoll_backend_name(b);

		ASSERT_NE(NULL, name);
		EXPECT_EQ(b, evpoll_backend_by_name(name));
	}
	EXPECT_EQ(NULL, evpoll_backend_name(EVPOLL_BACKEND_MAX));
	EXPECT_EQ(NULL, evpoll_backend_name(EVPOLL_BACKEND_MAX + 1));
	EXPECT_EQ(NULL, evpoll_backend_name((enum evpoll_backend)-1));
	EXPECT_EQ(EVPOLL_BACKEND_URING, evpoll_backend_by_name("io_uring"));
	/* An alias is accepted, never returned: "aio" stays the name. */
	EXPECT_EQ(EVPOLL_BACKEND_AIO, evpoll_backend_by_name("linuxaio"));
	EXPECT_STREQ("aio", evpoll_backend_name(EVPOLL_BACKEND_AIO));
	EXPECT_EQ(-EINVAL, evpoll_backend_by_name("kqueue"));
	EXPECT_EQ(-EINVAL, evpoll_backend_by_name(""));
	EXPECT_EQ(-EINVAL, evpoll_backend_by_name(NULL));
	EXPECT_EQ(-EINVAL, evpoll_backend_probe(EVPOLL_BACKEND_MAX));
	EXPECT_EQ(0, evpoll_backend_caps(EVPOLL_BACKEND_DEFAULT));
}

TEST(default_is_the_first_available)
{
	enum evpoll_backend list[EVPOLL_BACKEND_MAX];
	struct evpoll_poller *p;

	unsetenv("EVPOLL_BACKEND");
	ASSERT_LE(1, evpoll_backends_available(list, EVPOLL_BACKEND_MAX));
	EXPECT_EQ(list[0], evpoll_backend_default());
	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_DEFAULT, 0, &p));
	EXPECT_EQ(list[0], evpoll_poller_backend(p));
	evpoll_poller_free(p);
	ASSERT_EQ(0, evpoll_poller_new_by_name("default", 0, &p));
	EXPECT_EQ(list[0], evpoll_poller_backend(p));
	evpoll_poller_free(p);
}

TEST(environment_chooses_the_default)
{
	struct evpoll_poller *p;
	int ret;

	ASSERT_EQ(0, setenv("EVPOLL_BACKEND", "poll", 1));
	EXPECT_EQ(EVPOLL_BACKEND_POLL, evpoll_backend_default());
	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_DEFAULT, 0, &p));
	EXPECT_STREQ("poll", evpoll_poller_backend_name(p));
	evpoll_poller_free(p);
	ASSERT_EQ(0, evpoll_poller_new_by_name(NULL, 0, &p));
	EXPECT_STREQ("poll", evpoll_poller_backend_name(p));
	evpoll_poller_free(p);

	/* An explicit choice is not overridden. */
	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_SELECT, 0, &p));
	EXPECT_STREQ("select", evpoll_poller_backend_name(p));
	evpoll_poller_free(p);

	/* No silent fallback: an unknown or unavailable name fails. */
	ASSERT_EQ(0, setenv("EVPOLL_BACKEND", "kqueue", 1));
	EXPECT_EQ(-EINVAL, evpoll_poller_new(EVPOLL_BACKEND_DEFAULT, 0, &p));
	ASSERT_EQ(0, setenv("EVPOLL_BACKEND", "evpoll", 1));
	ret = evpoll_backend_probe(EVPOLL_BACKEND_EVPOLL);
	if (ret < 0) {
		EXPECT_EQ(ret, evpoll_poller_new(EVPOLL_BACKEND_DEFAULT, 0,
						 &p));
	} else {
		ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_DEFAULT, 0, &p));
		EXPECT_STREQ("evpoll", evpoll_poller_backend_name(p));
		evpoll_poller_free(p);
	}

	/* The alias "linuxaio", from the environment and by name. */
	ASSERT_EQ(0, setenv("EVPOLL_BACKEND", "linuxaio", 1));
	ret = evpoll_backend_probe(EVPOLL_BACKEND_AIO);
	if (ret < 0) {
		EXPECT_EQ(ret, evpoll_backend_default());
		EXPECT_EQ(ret, evpoll_poller_new_by_name("linuxaio", 0, &p));
	} else {
		EXPECT_EQ(EVPOLL_BACKEND_AIO, evpoll_backend_default());
		ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_DEFAULT, 0, &p));
		EXPECT_STREQ("aio", evpoll_poller_backend_name(p));
		evpoll_poller_free(p);
		ASSERT_EQ(0, evpoll_poller_new_by_name("linuxaio", 0, &p));
		EXPECT_EQ(EVPOLL_BACKEND_AIO, evpoll_poller_backend(p));
		evpoll_poller_free(p);
	}
	unsetenv("EVPOLL_BACKEND");
}

TEST(poller_new_argument_errors)
{
	struct evpoll_poller *p;

	EXPECT_EQ(-EINVAL, evpoll_poller_new(EVPOLL_BACKEND_POLL, 1U << 31, &p));
	EXPECT_EQ(-EINVAL, evpoll_poller_new(EVPOLL_BACKEND_POLL, 0, NULL));
	EXPECT_EQ(-EINVAL, evpoll_poller_new(EVPOLL_BACKEND_MAX, 0, &p));
	EXPECT_EQ(-EINVAL, evpoll_poller_new_by_name("nope", 0, &p));
	evpoll_poller_free(NULL);
}

TEST(evpoll_unavailable_is_enodev)
{
	struct evpoll_poller *p;

	if (access("/dev/evpoll", F_OK) == 0)
		SKIP(return, "/dev/evpoll exists here");
	EXPECT_EQ(-ENODEV, evpoll_backend_probe(EVPOLL_BACKEND_EVPOLL));
	EXPECT_EQ(-ENODEV, evpoll_poller_new(EVPOLL_BACKEND_EVPOLL, 0, &p));
}

TEST(select_refuses_fd_above_fd_setsize)
{
	struct rlimit rl;
	struct evpoll_poller *p;
	int pfd[2], big = FD_SETSIZE + 5;

	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_max <= (rlim_t)big)
		SKIP(return, "RLIMIT_NOFILE hard limit %lu too low",
		     (unsigned long)rl.rlim_max);
	rl.rlim_cur = rl.rlim_max;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	ASSERT_EQ(big, dup3(pfd[0], big, O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_SELECT, 0, &p));
	EXPECT_FALSE(evpoll_poller_caps(p) & EVPOLL_CAP_ANY_FDNUM);
	EXPECT_EQ(-ERANGE, evpoll_poller_add(p, big, EPOLLIN, 0));
	EXPECT_EQ(-ENOENT, evpoll_poller_del(p, big));
	EXPECT_EQ(0, evpoll_poller_add(p, pfd[0], EPOLLIN, 0));
	evpoll_poller_free(p);

	/* poll has no such limit. */
	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_POLL, 0, &p));
	EXPECT_EQ(0, evpoll_poller_add(p, big, EPOLLIN, 0));
	evpoll_poller_free(p);
	close(big);
	close(pfd[0]);
	close(pfd[1]);
}

TEST(sigio_refuses_anonymous_inodes)
{
	struct evpoll_poller *p;
	int efd = eventfd(0, EFD_CLOEXEC);

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_SIGIO, 0, &p));
	EXPECT_EQ(-EOPNOTSUPP, evpoll_poller_add(p, efd, EPOLLIN, 0));
	evpoll_poller_free(p);
	close(efd);
}

TEST(sigio_restores_signal_mask_and_flags)
{
	struct evpoll_poller *p, *q;
	sigset_t cur;
	int pfd[2];

	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_SIGIO, 0, &p));
	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_SIGIO, 0, &q));
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, NULL, &cur));
	EXPECT_TRUE(sigismember(&cur, SIGIO));
	ASSERT_EQ(0, evpoll_poller_add(p, pfd[0], EPOLLIN, 0));
	EXPECT_TRUE(fcntl(pfd[0], F_GETFL) & O_ASYNC);
	ASSERT_EQ(0, evpoll_poller_add(q, pfd[1], EPOLLOUT, 0));
	/* Two pollers get two signals: each sees its own fds only. */
	EXPECT_NE(fcntl(pfd[0], F_GETSIG), fcntl(pfd[1], F_GETSIG));
	EXPECT_EQ(0, evpoll_poller_del(p, pfd[0]));
	EXPECT_FALSE(fcntl(pfd[0], F_GETFL) & O_ASYNC);
	ASSERT_EQ(0, evpoll_poller_add(p, pfd[0], EPOLLIN, 0));
	evpoll_poller_free(p);
	EXPECT_FALSE(fcntl(pfd[0], F_GETFL) & O_ASYNC);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, NULL, &cur));
	EXPECT_TRUE(sigismember(&cur, SIGIO));	/* q still needs it */
	evpoll_poller_free(q);
	EXPECT_FALSE(fcntl(pfd[1], F_GETFL) & O_ASYNC);
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, NULL, &cur));
	EXPECT_FALSE(sigismember(&cur, SIGIO));
	close(pfd[0]);
	close(pfd[1]);
}

#define NOVER 16

/*
 * With RLIMIT_SIGPENDING at 1, at most one real-time signal is queued:
 * the other writes overflow into SIGIO, which must make the backend
 * poll() every fd.  Without the fallback only one fd would be reported.
 */
TEST(sigio_queue_overflow_falls_back_to_poll)
{
	struct rlimit rl = { 1, 1 };
	struct evpoll_poller_event ev[2 * NOVER];
	struct evpoll_poller *p;
	int pfd[NOVER][2], i, n, total = 0;
	unsigned int seen = 0;

	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_SIGIO, 0, &p));
	for (i = 0; i < NOVER; i++) {
		ASSERT_EQ(0, pipe2(pfd[i], O_NONBLOCK | O_CLOEXEC));
		ASSERT_EQ(0, evpoll_poller_add(p, pfd[i][0],
					       EPOLLIN | EPOLLET, i));
	}
	EXPECT_EQ(0, evpoll_poller_wait(p, ev, 2 * NOVER, 0));
	ASSERT_EQ(0, setrlimit(RLIMIT_SIGPENDING, &rl));
	for (i = 0; i < NOVER; i++)
		ASSERT_EQ(1, write(pfd[i][1], "x", 1));
	while ((n = evpoll_poller_wait(p, ev, 2 * NOVER, 200)) > 0) {
		for (i = 0; i < n; i++)
			seen |= 1U << ev[i].data;
		total += n;
	}
	EXPECT_EQ(0, n);
	EXPECT_EQ((1U << NOVER) - 1, seen);
	EXPECT_EQ(NOVER, total);	/* ET: each edge once */
	evpoll_poller_free(p);
	for (i = 0; i < NOVER; i++) {
		close(pfd[i][0]);
		close(pfd[i][1]);
	}
}

TEST(sigio_pollers_are_limited_by_realtime_signals)
{
	struct evpoll_poller *p[64];
	int i, n, ret = 0;

	for (n = 0; n < 64; n++) {
		ret = evpoll_poller_new(EVPOLL_BACKEND_SIGIO, 0, &p[n]);
		if (ret < 0)
			break;
	}
	EXPECT_EQ(-EAGAIN, ret);
	EXPECT_EQ(SIGRTMAX - SIGRTMIN + 1, n);
	for (i = 0; i < n; i++)
		evpoll_poller_free(p[i]);
	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_SIGIO, 0, &p[0]));
	evpoll_poller_free(p[0]);
}

TEST_HARNESS_MAIN
