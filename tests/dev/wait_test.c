// SPDX-License-Identifier: GPL-2.0
/*
 * wait_test - EVPOLL_IOC_WAIT: level/edge/one-shot delivery on every kind
 * of source, timeouts, argument checks, fairness and O(ready) delivery.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <linux/time_types.h>

#include "evp.h"
#include "kselftest_harness.h"

/* A source of readiness: fd to watch, how to make it readable, drain it. */
struct source {
	int watch;	/* the fd given to the instance */
	int peer;	/* the other end, or -1 */
};

enum kind { PIPE, UNIX_STREAM, TCP, EVENTFD, TIMERFD };

static int tcp_pair(int sv[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int l, one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (void *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (void *)&a, &len))
		return -1;
	sv[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sv[1] < 0 || connect(sv[1], (void *)&a, sizeof(a)))
		return -1;
	sv[0] = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	close(l);
	setsockopt(sv[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return sv[0] < 0 ? -1 : 0;
}

static int source_open(enum kind k, struct source *s)
{
	int sv[2];

	s->peer = -1;
	switch (k) {
	case PIPE:
		if (pipe2(sv, O_NONBLOCK | O_CLOEXEC))
			return -1;
		break;
	case UNIX_STREAM:
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
			return -1;
		break;
	case TCP:
		if (tcp_pair(sv))
			return -1;
		break;
	case EVENTFD:
		s->watch = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		return s->watch < 0 ? -1 : 0;
	case TIMERFD:
		s->watch = timerfd_create(CLOCK_MONOTONIC,
					  TFD_NONBLOCK | TFD_CLOEXEC);
		return s->watch < 0 ? -1 : 0;
	}
	s->watch = sv[0];
	s->peer = sv[1];
	return 0;
}

/* Make the watched fd readable (one more "edge"). */
static void source_fire(enum kind k, struct source *s)
{
	uint64_t one = 1;

	switch (k) {
	case EVENTFD:
		if (write(s->watch, &one, 8) != 8)
			abort();
		break;
	case TIMERFD: {
		struct itimerspec its = { .it_value.tv_nsec = 1000 };
		struct pollfd pfd = { .fd = s->watch, .events = POLLIN };

		timerfd_settime(s->watch, 0, &its, NULL);
		if (poll(&pfd, 1, 10000) != 1)	/* wait for the expiry */
			abort();
		break;
	}
	default:
		if (write(s->peer, "x", 1) != 1)
			abort();
		/* TCP delivery on loopback is asynchronous: wait for it. */
		if (k == TCP) {
			struct pollfd pfd = { .fd = s->watch, .events = POLLIN };

			if (poll(&pfd, 1, 10000) != 1)
				abort();
		}
		break;
	}
}

static void source_drain(struct source *s)
{
	char buf[256];

	while (read(s->watch, buf, sizeof(buf)) > 0)
		;
}

static void source_close(struct source *s)
{
	close(s->watch);
	if (s->peer >= 0)
		close(s->peer);
}

FIXTURE(src) {
	int evfd;
	struct source s;
};

FIXTURE_VARIANT(src) {
	enum kind kind;
};

FIXTURE_VARIANT_ADD(src, pipe) { .kind = PIPE };
FIXTURE_VARIANT_ADD(src, unix_stream) { .kind = UNIX_STREAM };
FIXTURE_VARIANT_ADD(src, tcp) { .kind = TCP };
FIXTURE_VARIANT_ADD(src, eventfd) { .kind = EVENTFD };
FIXTURE_VARIANT_ADD(src, timerfd) { .kind = TIMERFD };

FIXTURE_SETUP(src)
{
	self->evfd = evp_open();
	ASSERT_GE(self->evfd, 0);
	ASSERT_EQ(source_open(variant->kind, &self->s), 0);
}

FIXTURE_TEARDOWN(src)
{
	source_close(&self->s);
	close(self->evfd);
}

/* Level-triggered: reported on every wait until drained. */
TEST_F(src, lt_repeats_until_drained)
{
	struct epoll_event ev;
	int i;

	ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->s.watch, EPOLLIN, 42), 0);
	EXPECT_EQ(evp_wait(self->evfd, &ev, 1, 0), 0);
	source_fire(variant->kind, &self->s);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(evp_wait(self->evfd, &ev, 1, 0), 1);
		EXPECT_TRUE(ev.events & EPOLLIN);
		EXPECT_EQ(ev.data.u64, 42);
	}
	source_drain(&self->s);
	EXPECT_EQ(evp_wait(self->evfd, &ev, 1, 0), 0);
}

/* Edge-triggered: one report per edge, even while still readable. */
TEST_F(src, et_fires_once_per_edge)
{
	struct epoll_event ev;

	ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->s.watch,
			  EPOLLIN | EPOLLET, 1), 0);
	source_fire(variant->kind, &self->s);
	ASSERT_EQ(evp_wait(self->evfd, &ev, 1, 0), 1);
	EXPECT_TRUE(ev.events & EPOLLIN);
	EXPECT_EQ(evp_wait(self->evfd, &ev, 1, 0), 0);
	/* A new edge (more data / another expiry) reports again. */
	source_fire(variant->kind, &self->s);
	EXPECT_EQ(evp_wait(self->evfd, &ev, 1, 0), 1);
	EXPECT_EQ(evp_wait(self->evfd, &ev, 1, 0), 0);
}

/* One-shot: reported once, then disabled until MOD re-arms it. */
TEST_F(src, oneshot_disarms_until_mod)
{
	struct epoll_event ev;

	ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->s.watch,
			  EPOLLIN | EPOLLONESHOT, 3), 0);
	source_fire(variant->kind, &self->s);
	ASSERT_EQ(evp_wait(self->evfd, &ev, 1, 0), 1);
	EXPECT_EQ(ev.data.u64, 3);
	EXPECT_EQ(evp_wait(self->evfd, &ev, 1, 0), 0);
	source_fire(variant->kind, &self->s);
	EXPECT_EQ(evp_wait(self->evfd, &ev, 1, 0), 0);
	/* Still registered: ADD says EEXIST; MOD re-arms. */
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->s.watch, EPOLLIN, 0), -EEXIST);
	ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_MOD, self->s.watch,
			  EPOLLIN | EPOLLONESHOT, 4), 0);
	ASSERT_EQ(evp_wait(self->evfd, &ev, 1, 0), 1);
	EXPECT_EQ(ev.data.u64, 4);
	EXPECT_EQ(evp_wait(self->evfd, &ev, 1, 0), 0);
}

/* Readiness that went away before the wait is not reported (re-poll). */
TEST_F(src, stale_readiness_not_reported)
{
	struct epoll_event ev;

	ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->s.watch, EPOLLIN, 0), 0);
	source_fire(variant->kind, &self->s);
	source_drain(&self->s);
	EXPECT_EQ(evp_wait(self->evfd, &ev, 1, 0), 0);
}

/* A blocked waiter is woken by the event, not by its timeout. */
TEST_F(src, blocking_wait_woken_by_event)
{
	struct epoll_event ev;
	long long t0;
	pid_t pid;

	ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->s.watch, EPOLLIN, 9), 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		usleep(100 * 1000);
		source_fire(variant->kind, &self->s);
		_exit(0);
	}
	t0 = now_ns();
	ASSERT_EQ(evp_wait(self->evfd, &ev, 1, 10 * NSEC_PER_SEC), 1);
	EXPECT_LT(now_ns() - t0, 5 * NSEC_PER_SEC);
	EXPECT_EQ(ev.data.u64, 9);
	waitpid(pid, NULL, 0);
}

FIXTURE(wait) {
	int evfd;
	int p[2];
};

FIXTURE_SETUP(wait)
{
	self->evfd = evp_open();
	ASSERT_GE(self->evfd, 0);
	ASSERT_EQ(pipe2(self->p, O_NONBLOCK), 0);
}

FIXTURE_TEARDOWN(wait)
{
	close(self->p[0]);
	close(self->p[1]);
	close(self->evfd);
}

TEST_F(wait, maxevents_einval)
{
	struct epoll_event ev;

	EXPECT_EQ(evp_wait(self->evfd, &ev, 0, 0), -EINVAL);
	EXPECT_EQ(evp_wait(self->evfd, &ev, -1, 0), -EINVAL);
	EXPECT_EQ(evp_wait(self->evfd, &ev,
			   (int)(INT32_MAX / sizeof(struct epoll_event)) + 1, 0),
		  -EINVAL);
}

TEST_F(wait, bad_events_pointer_efault)
{
	struct epoll_event ev;

	ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 0), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	/* Kernel address: refused by access_ok() before waiting. */
	EXPECT_EQ(evp_wait(self->evfd, (void *)0xffff888000000000ull, 1, 0),
		  -EFAULT);
	/* Unmapped user address: refused when the event is copied out. */
	EXPECT_EQ(evp_wait(self->evfd, (void *)4096, 1, 0), -EFAULT);
	/* The event was not lost by the failed copy. */
	EXPECT_EQ(evp_wait(self->evfd, &ev, 1, 0), 1);
}

TEST_F(wait, read_only_buffer_efault)
{
	struct epoll_event *ro = mmap(NULL, 4096, PROT_READ,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(ro, MAP_FAILED);
	ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 0), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	EXPECT_EQ(evp_wait(self->evfd, ro, 1, 0), -EFAULT);
	munmap(ro, 4096);
}

TEST_F(wait, bad_wait_struct_efault)
{
	EXPECT_EQ(ioctl(self->evfd, EVPOLL_IOC_WAIT, NULL), -1);
	EXPECT_EQ(errno, EFAULT);
}

TEST_F(wait, flags_and_reserved_einval)
{
	struct epoll_event ev;
	struct evpoll_wait w = {
		.events = (uintptr_t)&ev, .maxevents = 1, .flags = 1u << 5,
	};

	EXPECT_EQ(evp_wait_args(self->evfd, &w), -EINVAL);
	w.flags = 0;
	w.__reserved = 1;
	EXPECT_EQ(evp_wait_args(self->evfd, &w), -EINVAL);
}

/* Timeouts: 0 returns at once, others are honoured to the nanosecond. */
TEST_F(wait, timeout_precision)
{
	static const long long tmo[] = {
		0, 100 * 1000, NSEC_PER_MSEC, 50 * NSEC_PER_MSEC,
	};
	struct epoll_event ev;
	unsigned int i;

	ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 0), 0);
	for (i = 0; i < sizeof(tmo) / sizeof(tmo[0]); i++) {
		long long t0 = now_ns(), dt;

		EXPECT_EQ(evp_wait(self->evfd, &ev, 1, tmo[i]), 0);
		dt = now_ns() - t0;
		EXPECT_GE(dt, tmo[i]) TH_LOG("timeout %lld ns took %lld ns",
					    tmo[i], dt);
		/*
		 * Only a sanity bound (never blocks for good): a loaded TCG
		 * host can stall the guest for seconds.
		 */
		EXPECT_LT(dt, tmo[i] + 5 * NSEC_PER_SEC)
			TH_LOG("timeout %lld ns took %lld ns", tmo[i], dt);
	}
}

/* EVPOLL_WAIT_TIMESPEC: epoll_pwait2's timeout rules. */
TEST_F(wait, timespec_timeout)
{
	/* The ABI's timespec: 64-bit fields in 32-bit tasks too. */
	struct __kernel_timespec ts = { .tv_nsec = 20 * NSEC_PER_MSEC };
	struct epoll_event ev;
	struct evpoll_wait w = {
		.events = (uintptr_t)&ev, .maxevents = 1,
		.flags = EVPOLL_WAIT_TIMESPEC, .timeout = (uintptr_t)&ts,
	};
	long long t0 = now_ns();

	EXPECT_EQ(evp_wait_args(self->evfd, &w), 0);
	EXPECT_GE(now_ns() - t0, 20 * NSEC_PER_MSEC);
	ts.tv_nsec = NSEC_PER_SEC;		/* out of range */
	EXPECT_EQ(evp_wait_args(self->evfd, &w), -EINVAL);
	ts.tv_sec = -1;
	ts.tv_nsec = 0;
	EXPECT_EQ(evp_wait_args(self->evfd, &w), -EINVAL);
	w.timeout = 8;				/* unmapped */
	EXPECT_EQ(evp_wait_args(self->evfd, &w), -EFAULT);
	/* {0, 0}: do not block. */
	ts.tv_sec = 0;
	ts.tv_nsec = 0;
	w.timeout = (uintptr_t)&ts;
	t0 = now_ns();
	EXPECT_EQ(evp_wait_args(self->evfd, &w), 0);
	EXPECT_LT(now_ns() - t0, 5 * NSEC_PER_SEC);	/* did not block */
}

/* Level-triggered items go back at the tail: round-robin across waits. */
TEST_F(wait, lt_requeued_at_tail)
{
	struct epoll_event ev;
	int efd[3], i, round;

	for (i = 0; i < 3; i++) {
		efd[i] = eventfd(1, EFD_NONBLOCK);
		ASSERT_GE(efd[i], 0);
		ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, efd[i], EPOLLIN, i), 0);
	}
	for (round = 0; round < 6; round++) {
		ASSERT_EQ(evp_wait(self->evfd, &ev, 1, 0), 1);
		EXPECT_EQ(ev.data.u64, round % 3);
	}
	for (i = 0; i < 3; i++)
		close(efd[i]);
}

/* Events beyond maxevents stay queued, in order, for the next wait. */
TEST_F(wait, maxevents_leftovers_kept)
{
	struct epoll_event ev[4];
	int efd[4], i;

	for (i = 0; i < 4; i++) {
		efd[i] = eventfd(1, EFD_NONBLOCK);
		ASSERT_GE(efd[i], 0);
		ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, efd[i],
				  EPOLLIN | EPOLLET, i), 0);
	}
	ASSERT_EQ(evp_wait(self->evfd, ev, 3, 0), 3);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(ev[i].data.u64, i);
	ASSERT_EQ(evp_wait(self->evfd, ev, 4, 0), 1);
	EXPECT_EQ(ev[0].data.u64, 3);
	EXPECT_EQ(evp_wait(self->evfd, ev, 4, 0), 0);
	for (i = 0; i < 4; i++)
		close(efd[i]);
}

/* Hang-up and error bits, and RDHUP on a half-closed socket. */
TEST_F(wait, hup_err_rdhup)
{
	struct epoll_event ev;
	int sv[2];

	ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[1], EPOLLOUT, 1), 0);
	ASSERT_EQ(evp_wait(self->evfd, &ev, 1, 0), 1);
	EXPECT_EQ(ev.events, EPOLLOUT);
	close(self->p[0]);			/* reader gone: EPOLLERR */
	ASSERT_EQ(evp_wait(self->evfd, &ev, 1, 0), 1);
	EXPECT_EQ(ev.events, EPOLLOUT | EPOLLERR);
	self->p[0] = open("/dev/null", O_RDONLY);

	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_DEL, self->p[1], 0, 0), 0);
	ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, sv[0],
			  EPOLLIN | EPOLLRDHUP, 2), 0);
	EXPECT_EQ(evp_wait(self->evfd, &ev, 1, 0), 0);
	shutdown(sv[1], SHUT_WR);
	ASSERT_EQ(evp_wait(self->evfd, &ev, 1, 0), 1);
	EXPECT_EQ(ev.events, EPOLLIN | EPOLLRDHUP);
	close(sv[1]);
	ASSERT_EQ(evp_wait(self->evfd, &ev, 1, 0), 1);
	EXPECT_EQ(ev.events, EPOLLIN | EPOLLRDHUP | EPOLLHUP);
	close(sv[0]);
}

/* Many watched, few active: only the active ones come back. */
TEST_F_TIMEOUT(wait, many_watched_few_active, 120)
{
	enum { N = 4000, ACTIVE = 5 };
	static int efd[N];
	struct epoll_event ev[16];
	struct rlimit rl;
	int i, n, seen = 0;

	ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < N + 64) {
		rl.rlim_cur = rl.rlim_max < N + 64 ? rl.rlim_max : N + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (i = 0; i < N; i++) {
		efd[i] = eventfd(0, EFD_NONBLOCK);
		ASSERT_GE(efd[i], 0);
		ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, efd[i], EPOLLIN, i), 0);
	}
	EXPECT_EQ(evp_wait(self->evfd, ev, 16, 0), 0);
	for (i = 0; i < ACTIVE; i++) {
		uint64_t one = 1;

		ASSERT_EQ(write(efd[i * 797], &one, 8), 8);
	}
	n = evp_wait(self->evfd, ev, 16, 0);
	ASSERT_EQ(n, ACTIVE);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(ev[i].data.u64 % 797, 0);
		seen |= 1 << (ev[i].data.u64 / 797);
	}
	EXPECT_EQ(seen, (1 << ACTIVE) - 1);
	/* Waiting did not visit the idle items: no stale re-polls. */
	EXPECT_EQ(evp_counter(self->evfd, "evpoll-stale"), 0);
	for (i = 0; i < N; i++)
		close(efd[i]);
}

TEST_HARNESS_MAIN
