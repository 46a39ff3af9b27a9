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
 *
 * The reaper, the backstop for closes evpoll is not told about (kmod/core.c,
 * "Reaper"), with reap_interval_ms set low (root only; the unprivileged
 * pass skips these):
 *
 *   reaper.bound       once the instance has backed off to its longest
 *                      period (64 x reap_interval_ms), an orphaned TCP
 *                      socket's peer still sees the FIN within that bound
 *   reaper.idle        an instance that watches nothing arms no timer:
 *                      the reaper's runs (sysfs reaper_runs) stand still
 *   reaper.backoff     a quiet instance's passes back off: a handful of
 *                      runs a second at a 10 ms period, not 100
 *   reaper.many        200 quiet instances share the work's runs
 */
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

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

FIXTURE(reaper) {
	long long reap;
	bool unprivileged;
};

#define REAPER_NEEDS_ROOT()						\
	do {								\
		if (self->unprivileged)					\
			SKIP(return, "module parameters need root");	\
	} while (0)

FIXTURE_SETUP(reaper)
{
	self->unprivileged = geteuid() != 0;
	if (self->unprivileged)
		return;
	self->reap = evp_param("reap_interval_ms");
	ASSERT_GE(self->reap, 0);
	ASSERT_GE(evp_sysfs_stat("reaper_runs"), 0);
	ASSERT_EQ(evp_set_param("reap_interval_ms", 10), 0);
}

FIXTURE_TEARDOWN(reaper)
{
	if (!self->unprivileged)
		evp_set_param("reap_interval_ms", self->reap);
}

/* The module's documented bound at a 10 ms period: 64 periods. */
#define REAP_MS		10
#define REAP_BOUND_MS	(REAP_MS << 6)
/* What a loaded TCG host may add (workqueue stalls of seconds). */
#define REAP_SLACK_MS	5000

/* Wait until the reaper completed @n more passes (any instance). */
static bool passes_after(long long n)
{
	long long p0 = evp_sysfs_stat("reaper_passes");

	return evp_poll_until(evp_sysfs_stat("reaper_passes") >= p0 + n,
			      20000) >= 0;
}

TEST_F(reaper, bound)
{
	struct pollfd pfd;
	int evfd, sv[2], p[2];
	long long t0, ms;
	char c;

	REAPER_NEEDS_ROOT();
	evfd = evp_open();
	ASSERT_GE(evfd, 0);
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	ASSERT_EQ(evp_tcp_pair(sv), 0);
	ASSERT_EQ(evp_ctl(evfd, EVPOLL_CTL_ADD, p[0], EPOLLIN, 1), 0);
	ASSERT_EQ(evp_ctl(evfd, EVPOLL_CTL_ADD, sv[0], EPOLLIN, 2), 0);
	/* Fresh (16 periods), then 32, then 64: backed off all the way. */
	ASSERT_TRUE(passes_after(3));
	close(sv[0]);
	t0 = now_ns();
	pfd.fd = sv[1];
	pfd.events = POLLIN;
	ASSERT_EQ(poll(&pfd, 1, REAP_BOUND_MS + REAP_SLACK_MS), 1);
	ms = (now_ns() - t0) / NSEC_PER_MSEC;
	EXPECT_EQ(read(sv[1], &c, 1), 0);
	TH_LOG("peer saw the FIN %lld ms after the close (bound %d ms)", ms,
	       REAP_BOUND_MS);
	EXPECT_EQ(evp_counter(evfd, "evpoll-reaped"), 1);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
	close(evfd);
}

/* The reaper's runs while nothing is watched anywhere: none. */
TEST_F(reaper, idle)
{
	long long r0, r1;
	int evfd, p[2];

	REAPER_NEEDS_ROOT();
	evfd = evp_open();
	ASSERT_GE(evfd, 0);
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
	/* It watched something once, and armed the work for it. */
	ASSERT_EQ(evp_ctl(evfd, EVPOLL_CTL_ADD, p[0], EPOLLIN, 1), 0);
	ASSERT_EQ(evp_ctl(evfd, EVPOLL_CTL_DEL, p[0], 0, 0), 0);
	/* The run armed then (16 periods) finds nothing and re-arms not. */
	r0 = evp_sysfs_stat("reaper_runs");
	evp_poll_until(evp_sysfs_stat("reaper_runs") != r0,
		       (REAP_MS << 4) + REAP_SLACK_MS);
	r0 = evp_sysfs_stat("reaper_runs");
	/* 50 periods: the old per-instance timer ran 50 times. */
	usleep(50 * REAP_MS * 1000);
	r1 = evp_sysfs_stat("reaper_runs");
	EXPECT_EQ(r1, r0) TH_LOG("%lld reaper runs with nothing watched",
				 r1 - r0);
	close(p[0]);
	close(p[1]);
	close(evfd);
}

/* Runs over one second once @n instances of @k pipes have backed off. */
static long long quiet_runs(int n, int k)
{
	int *evfd = calloc(n, sizeof(int)), *fd = calloc(k, sizeof(int));
	long long r0, r1, ret = -1;
	int p[2], i, j;

	if (!evfd || !fd || pipe2(p, O_CLOEXEC))
		return -1;
	for (j = 0; j < k; j++)
		fd[j] = dup(p[0]);
	for (i = 0; i < n; i++) {
		evfd[i] = evp_open();
		for (j = 0; j < k; j++)
			if (evfd[i] < 0 || fd[j] < 0 ||
			    evp_ctl(evfd[i], EVPOLL_CTL_ADD, fd[j], EPOLLIN, j))
				goto out;
	}
	/* 16, 32, 64 periods: then every 64 periods (640 ms). */
	if (!passes_after(3L * n))
		goto out;
	r0 = evp_sysfs_stat("reaper_runs");
	usleep(1000 * 1000);
	r1 = evp_sysfs_stat("reaper_runs");
	ret = r1 - r0;
out:
	for (i = 0; i < n; i++)
		if (evfd[i] > 0)
			close(evfd[i]);
	for (j = 0; j < k; j++)
		close(fd[j]);
	close(p[0]);
	close(p[1]);
	free(evfd);
	free(fd);
	return ret;
}

TEST_F(reaper, backoff)
{
	long long runs;

	REAPER_NEEDS_ROOT();
	runs = quiet_runs(1, 8);
	ASSERT_GE(runs, 0);
	TH_LOG("%lld reaper runs in one second, period %d ms backed off",
	       runs, REAP_MS);
	/* 1000 / 640 ms, rounded up, plus one at each end. */
	EXPECT_LE(runs, 4);
}

TEST_F(reaper, many)
{
	long long runs;

	REAPER_NEEDS_ROOT();
	runs = quiet_runs(200, 4);
	ASSERT_GE(runs, 0);
	TH_LOG("%lld reaper runs in one second for 200 instances", runs);
	/* Per-instance timers: 200 x 100 runs; one work: a few dozen. */
	EXPECT_LE(runs, 50);
}

TEST_HARNESS_MAIN
