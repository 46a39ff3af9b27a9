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

/*
 * A wait that times out in this thread must return 0 at its timeout, not
 * -EINTR: no signal was sent.  @b is the backend waited on, after the
 * io_uring ring of a probe or a freed poller was torn down.
 */
static void wait_times_out(struct __test_metadata *_metadata,
			   enum evpoll_backend b)
{
	struct evpoll_poller_event ev[4];
	struct evpoll_poller *p;
	int pfd[2];
	int64_t t0;
	int n;

	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_new(b, 0, &p));
	ASSERT_EQ(0, evpoll_poller_add(p, pfd[0], EPOLLIN, 0));
	t0 = now_ms();
	n = evpoll_poller_wait(p, ev, 4, 200);
	EXPECT_EQ(0, n) {
		TH_LOG("%s: wait returned %d (%s) after %lld ms",
		       evpoll_backend_name(b), n, strerror(-n),
		       (long long)(now_ms() - t0));
	}
	EXPECT_LE(190, now_ms() - t0);
	evpoll_poller_free(p);
	close(pfd[0]);
	close(pfd[1]);
}

/* Every backend that blocks in a system call here, except sigio. */
static const enum evpoll_backend eintr_backends[] = {
	EVPOLL_BACKEND_EPOLL, EVPOLL_BACKEND_AIO, EVPOLL_BACKEND_POLL,
	EVPOLL_BACKEND_URING,
};

TEST(uring_probe_causes_no_eintr)
{
	unsigned int i;

	if (!backend_usable(EVPOLL_BACKEND_URING))
		SKIP(return, "io_uring unavailable");
	for (i = 0; i < sizeof(eintr_backends) / sizeof(eintr_backends[0]);
	     i++) {
		if (!backend_usable(eintr_backends[i]))
			continue;
		ASSERT_EQ(0, evpoll_backend_probe(EVPOLL_BACKEND_URING));
		wait_times_out(_metadata, eintr_backends[i]);
	}
}

TEST(uring_free_causes_no_eintr)
{
	struct evpoll_poller *u;
	unsigned int i;
	int pfd[2];

	if (!backend_usable(EVPOLL_BACKEND_URING))
		SKIP(return, "io_uring unavailable");
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	for (i = 0; i < sizeof(eintr_backends) / sizeof(eintr_backends[0]);
	     i++) {
		struct evpoll_poller_event ev[4];

		if (!backend_usable(eintr_backends[i]))
			continue;
		/* A ring with requests in flight, freed in this thread. */
		ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_URING, 0, &u));
		ASSERT_EQ(0, evpoll_poller_add(u, pfd[0], EPOLLIN, 0));
		ASSERT_EQ(0, evpoll_poller_wait(u, ev, 4, 0));
		evpoll_poller_free(u);
		wait_times_out(_metadata, eintr_backends[i]);
	}
	close(pfd[0]);
	close(pfd[1]);
}

/* Wait until thread @tid sleeps (state S in its stat file), up to 5 s. */
static int wait_sleeping(pid_t tid)
{
	char path[64], buf[256], *p;
	int i, fd, n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	for (i = 0; i < 5000; i++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		n = (int)read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			return -1;
		buf[n] = 0;
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'S')
			return 0;
		usleep(1000);
	}
	return -1;
}

struct ready_later {
	pid_t tid;		/* the waiting thread */
	int wfd;		/* written once it sleeps */
};

static void *ready_later_thread(void *arg)
{
	struct ready_later *r = arg;

	if (wait_sleeping(r->tid) == 0)
		(void)!write(r->wfd, "x", 1);
	return NULL;
}

/*
 * A uring poll request completing (its task_work queued with TWA_SIGNAL
 * on this thread) while this thread waits on an aio poller: the aio
 * wait must not return -EINTR, no signal was sent.
 */
TEST(uring_completion_causes_no_eintr_in_aio_wait)
{
	struct ready_later r = { .tid = gettid() };
	struct evpoll_poller_event ev[4];
	struct evpoll_poller *u, *a;
	int upfd[2], apfd[2], n;
	pthread_t t;
	int64_t t0;

	if (!backend_usable(EVPOLL_BACKEND_URING) ||
	    !backend_usable(EVPOLL_BACKEND_AIO))
		SKIP(return, "io_uring or aio unavailable");
	ASSERT_EQ(0, pipe2(upfd, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(apfd, O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_URING, 0, &u));
	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_AIO, 0, &a));
	ASSERT_EQ(0, evpoll_poller_add(u, upfd[0], EPOLLIN, 1));
	ASSERT_EQ(0, evpoll_poller_wait(u, ev, 4, 0));	/* armed */
	ASSERT_EQ(0, evpoll_poller_add(a, apfd[0], EPOLLIN, 2));
	r.wfd = upfd[1];
	ASSERT_EQ(0, pthread_create(&t, NULL, ready_later_thread, &r));
	t0 = now_ms();
	n = evpoll_poller_wait(a, ev, 4, 300);
	EXPECT_EQ(0, n) {
		TH_LOG("aio wait returned %d after %lld ms", n,
		       (long long)(now_ms() - t0));
	}
	pthread_join(t, NULL);
	/* The uring poller saw its event. */
	EXPECT_EQ(1, evpoll_poller_wait(u, ev, 4, 100));
	evpoll_poller_free(a);
	evpoll_poller_free(u);
	close(upfd[0]);
	close(upfd[1]);
	close(apfd[0]);
	close(apfd[1]);
}

/*
 * realloc() failure injection: the test is linked with
 * -Wl,--wrap=realloc (tests/lib/Makefile), so every realloc() of
 * libevpoll.a comes here; fail_realloc makes the next ones fail.
 */
void *__real_realloc(void *ptr, size_t size);
void *__wrap_realloc(void *ptr, size_t size);
static int fail_realloc;

void *__wrap_realloc(void *ptr, size_t size)
{
	if (fail_realloc) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_realloc(ptr, size);
}

#define NARM 64		/* the arm list's first capacity */

/*
 * A MOD that fails (-ENOMEM: the arm list cannot grow) must leave the fd
 * armed as it was: poller.c restores the old registration, and the
 * backend must still watch it.  It used to cancel the request first.
 */
TEST(uring_failed_mod_keeps_the_fd_armed)
{
	struct evpoll_poller_event ev[NARM + 2];
	struct evpoll_poller *p;
	int pfd[2], many[NARM][2], i, n;

	if (!backend_usable(EVPOLL_BACKEND_URING))
		SKIP(return, "io_uring unavailable");
	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_URING, 0, &p));
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_add(p, pfd[0], EPOLLIN, 1));
	ASSERT_EQ(0, evpoll_poller_wait(p, ev, NARM + 2, 0));	/* armed */
	/* Fill the arm list to its capacity: the next arm must grow it. */
	for (i = 0; i < NARM; i++) {
		ASSERT_EQ(0, pipe2(many[i], O_CLOEXEC));
		ASSERT_EQ(0, evpoll_poller_add(p, many[i][0], EPOLLIN, 100));
	}
	fail_realloc = 1;
	EXPECT_EQ(-ENOMEM, evpoll_poller_mod(p, pfd[0], EPOLLIN, 2));
	fail_realloc = 0;
	ASSERT_EQ(1, write(pfd[1], "x", 1));
	n = evpoll_poller_wait(p, ev, NARM + 2, 200);
	ASSERT_EQ(1, n);
	EXPECT_EQ(pfd[0], ev[0].fd);
	EXPECT_EQ(1, ev[0].data);	/* the old registration */
	evpoll_poller_free(p);
	for (i = 0; i < NARM; i++) {
		close(many[i][0]);
		close(many[i][1]);
	}
	close(pfd[0]);
	close(pfd[1]);
}

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

struct kick {
	pthread_t target;
	int efd;		/* written once the target is about to wait */
};

static void *kick_thread(void *arg)
{
	struct kick *k = arg;
	struct pollfd pfd = { .fd = k->efd, .events = POLLIN };

	/* Wait for "about to wait", then give it time to block. */
	poll(&pfd, 1, 5000);
	usleep(50 * 1000);
	pthread_kill(k->target, SIGUSR1);
	return NULL;
}

/*
 * A real signal whose handler runs still interrupts a wait with -EINTR,
 * as it does epoll_wait(): the EINTR cure must not swallow it.
 */
TEST(uring_real_signal_still_interrupts)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct evpoll_poller_event ev[4];
	unsigned int i;
	int pfd[2];

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	for (i = 0; i < sizeof(eintr_backends) / sizeof(eintr_backends[0]);
	     i++) {
		struct evpoll_poller *p;
		struct kick k = { .target = pthread_self() };
		pthread_t t;
		uint64_t one = 1;
		int n;

		if (!backend_usable(eintr_backends[i]))
			continue;
		got_usr1 = 0;
		ASSERT_EQ(0, evpoll_poller_new(eintr_backends[i], 0, &p));
		ASSERT_EQ(0, evpoll_poller_add(p, pfd[0], EPOLLIN, 0));
		k.efd = eventfd(0, EFD_CLOEXEC);
		ASSERT_LE(0, k.efd);
		ASSERT_EQ(0, pthread_create(&t, NULL, kick_thread, &k));
		ASSERT_EQ(8, write(k.efd, &one, 8));
		n = evpoll_poller_wait(p, ev, 4, 5000);
		EXPECT_EQ(-EINTR, n) {
			TH_LOG("%s: %d", evpoll_backend_name(eintr_backends[i]),
			       n);
		}
		EXPECT_EQ(1, got_usr1);
		pthread_join(t, NULL);
		close(k.efd);
		evpoll_poller_free(p);
	}
	signal(SIGUSR1, SIG_DFL);
	close(pfd[0]);
	close(pfd[1]);
}

TEST_HARNESS_MAIN
