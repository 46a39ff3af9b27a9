// SPDX-License-Identifier: GPL-2.0
/*
 * aio_eintr_test.c - no EINTR without a signal around the completion API
 * (issue 11, item 10): freeing a uring context must not leave the
 * io_uring teardown's task_work (TIF_NOTIFY_SIGNAL) to interrupt the
 * thread's next epoll_wait()/io_getevents(), and the linux backend's wait
 * must not take a task_work notification for a signal; a real signal
 * still gives -EINTR.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "evpoll.h"
#include "../lib/helpers.h"

static const struct timespec ts_200ms = { 0, 200 * 1000 * 1000 };
static const struct timespec ts_zero = { 0, 0 };

static int aio_usable(enum evpoll_aio_backend b)
{
	struct evpoll_aio *ctx;

	if (evpoll_aio_new(b, 1, 0, &ctx))
		return 0;
	evpoll_aio_free(ctx);
	return 1;
}

/* An epoll poller's wait on a silent pipe times out: 0, not -EINTR. */
static void poller_times_out(struct __test_metadata *_metadata)
{
	struct evpoll_poller_event ev[4];
	struct evpoll_poller *p;
	int64_t t0;
	int pfd[2], n;

	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_EPOLL, 0, &p));
	ASSERT_EQ(0, evpoll_poller_add(p, pfd[0], EPOLLIN, 0));
	t0 = now_ms();
	n = evpoll_poller_wait(p, ev, 4, 200);
	EXPECT_EQ(0, n) {
		TH_LOG("epoll wait returned %d (%s) after %lld ms", n,
		       strerror(-n), (long long)(now_ms() - t0));
	}
	EXPECT_LE(190, now_ms() - t0);
	evpoll_poller_free(p);
	close(pfd[0]);
	close(pfd[1]);
}

/* A linux context's wait for a read of a silent pipe times out: 0. */
static void linux_times_out(struct __test_metadata *_metadata)
{
	struct evpoll_aio_cqe cqe;
	struct evpoll_aio *ctx;
	int64_t t0;
	int pfd[2], n;
	char c;

	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	ASSERT_EQ(0, evpoll_aio_new(EVPOLL_AIO_BACKEND_LINUX, 4, 0, &ctx));
	ASSERT_EQ(0, evpoll_aio_read(ctx, pfd[0], &c, 1,
				     EVPOLL_AIO_OFFSET_NONE, 1));
	t0 = now_ms();
	n = evpoll_aio_wait(ctx, &cqe, 1, 1, &ts_200ms);
	EXPECT_EQ(0, n) {
		TH_LOG("linux wait returned %d (%s) after %lld ms", n,
		       strerror(-n), (long long)(now_ms() - t0));
	}
	EXPECT_LE(190, now_ms() - t0);
	evpoll_aio_free(ctx);
	close(pfd[0]);
	close(pfd[1]);
}

/*
 * A uring context with a read in flight, freed in this thread: the next
 * wait of this thread must time out, not return -EINTR.
 */
TEST(uring_free_causes_no_eintr)
{
	struct evpoll_aio_cqe cqe;
	struct evpoll_aio *ctx;
	int pfd[2], round;
	char c;

	if (!aio_usable(EVPOLL_AIO_BACKEND_URING))
		SKIP(return, "io_uring unavailable");
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	for (round = 0; round < 2; round++) {
		ASSERT_EQ(0, evpoll_aio_new(EVPOLL_AIO_BACKEND_URING, 4, 0,
					    &ctx));
		ASSERT_EQ(0, evpoll_aio_read(ctx, pfd[0], &c, 1,
					     EVPOLL_AIO_OFFSET_NONE, 1));
		ASSERT_EQ(0, evpoll_aio_wait(ctx, &cqe, 0, 1, &ts_zero));
		evpoll_aio_free(ctx);
		if (round == 0)
			poller_times_out(_metadata);
		else if (aio_usable(EVPOLL_AIO_BACKEND_LINUX))
			linux_times_out(_metadata);
	}
	close(pfd[0]);
	close(pfd[1]);
}

struct later {
	pid_t tid;		/* the waiting thread */
	pthread_t thread;	/* the same, to signal it */
	int wfd;		/* written once it sleeps, or -1 */
	int sig;		/* sent once it sleeps, or 0 */
};

static void *later_thread(void *arg)
{
	struct later *l = arg;

	if (wait_sleeping(l->tid))
		return NULL;
	if (l->wfd >= 0)
		(void)!write(l->wfd, "x", 1);
	if (l->sig)
		pthread_kill(l->thread, l->sig);
	return NULL;
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

/*
 * A uring read completing (its task_work queued with TWA_SIGNAL on this
 * thread) while this thread waits on a linux context: no signal was sent,
 * the wait must time out.  A real signal, with a handler, must still end
 * the wait with -EINTR.
 */
TEST(linux_wait_eintr_only_for_a_signal)
{
	struct later l = { .tid = gettid(), .thread = pthread_self(),
			   .wfd = -1 };
	struct sigaction sa = { .sa_handler = on_sigusr1 }, old;
	struct evpoll_aio *u, *x;
	struct evpoll_aio_cqe cqe;
	int upfd[2], xpfd[2], n;
	char uc, xc;
	pthread_t t;
	int64_t t0;

	if (!aio_usable(EVPOLL_AIO_BACKEND_URING) ||
	    !aio_usable(EVPOLL_AIO_BACKEND_LINUX))
		SKIP(return, "io_uring or Linux AIO unavailable");
	ASSERT_EQ(0, pipe2(upfd, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(xpfd, O_CLOEXEC));
	ASSERT_EQ(0, evpoll_aio_new(EVPOLL_AIO_BACKEND_URING, 4, 0, &u));
	ASSERT_EQ(0, evpoll_aio_new(EVPOLL_AIO_BACKEND_LINUX, 4, 0, &x));
	ASSERT_EQ(0, evpoll_aio_read(u, upfd[0], &uc, 1,
				     EVPOLL_AIO_OFFSET_NONE, 1));
	ASSERT_EQ(0, evpoll_aio_wait(u, &cqe, 0, 1, &ts_zero));	/* armed */
	ASSERT_EQ(0, evpoll_aio_read(x, xpfd[0], &xc, 1,
				     EVPOLL_AIO_OFFSET_NONE, 2));

	l.wfd = upfd[1];
	ASSERT_EQ(0, pthread_create(&t, NULL, later_thread, &l));
	t0 = now_ms();
	n = evpoll_aio_wait(x, &cqe, 1, 1, &ts_200ms);
	EXPECT_EQ(0, n) {
		TH_LOG("linux wait returned %d (%s) after %lld ms", n,
		       strerror(-n), (long long)(now_ms() - t0));
	}
	pthread_join(t, NULL);
	/* The uring context got its byte. */
	ASSERT_EQ(1, evpoll_aio_wait(u, &cqe, 1, 1, &ts_200ms));
	EXPECT_EQ(1, cqe.res);

	/* A signal whose handler runs: -EINTR, at once. */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, &old));
	l.wfd = -1;
	l.sig = SIGUSR1;
	ASSERT_EQ(0, pthread_create(&t, NULL, later_thread, &l));
	n = evpoll_aio_wait(x, &cqe, 1, 1, NULL);
	EXPECT_EQ(-EINTR, n);
	pthread_join(t, NULL);
	sigaction(SIGUSR1, &old, NULL);

	evpoll_aio_free(x);
	evpoll_aio_free(u);
	close(upfd[0]);
	close(upfd[1]);
	close(xpfd[0]);
	close(xpfd[1]);
}

TEST_HARNESS_MAIN
