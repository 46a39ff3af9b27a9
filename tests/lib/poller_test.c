// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * poller_test.c - one conformance suite for every poller backend.
 *
 * Each TEST_F runs once per backend (FIXTURE_VARIANT_ADD below), so the
 * TAP names read poller.<backend>.<test>.  A backend that is not available
 * here (evpoll without the module, io_uring disabled) skips with the
 * probe's error; a capability a backend lacks (EVPOLL_CAP_*) is an
 * explicit SKIP naming it.  Every test checks that it leaks no fd.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evpoll.h"
#include "kselftest_harness.h"
#include "helpers.h"

#define MAXEV 64

FIXTURE(poller) {
	struct evpoll_poller *p;
	unsigned int caps;
	int nfds_before;
	struct evpoll_poller_event ev[MAXEV];
};

FIXTURE_VARIANT(poller) {
	enum evpoll_backend backend;
	int no_submit;
};

/* evpoll twice: batched changes (where the module has them) and not. */
FIXTURE_VARIANT_ADD(poller, evpoll) { .backend = EVPOLL_BACKEND_EVPOLL };
FIXTURE_VARIANT_ADD(poller, evpoll_nosubmit) {
	.backend = EVPOLL_BACKEND_EVPOLL, .no_submit = 1
};
FIXTURE_VARIANT_ADD(poller, epoll) { .backend = EVPOLL_BACKEND_EPOLL };
FIXTURE_VARIANT_ADD(poller, uring) { .backend = EVPOLL_BACKEND_URING };
FIXTURE_VARIANT_ADD(poller, aio) { .backend = EVPOLL_BACKEND_AIO };
FIXTURE_VARIANT_ADD(poller, poll) { .backend = EVPOLL_BACKEND_POLL };
FIXTURE_VARIANT_ADD(poller, select) { .backend = EVPOLL_BACKEND_SELECT };
FIXTURE_VARIANT_ADD(poller, sigio) { .backend = EVPOLL_BACKEND_SIGIO };
FIXTURE_VARIANT_ADD(poller, evpoll_ring) {
	.backend = EVPOLL_BACKEND_EVPOLL_RING
};

/* evpoll_poller_new() of the variant's backend, in the variant's mode. */
static int new_poller(const FIXTURE_VARIANT(poller) *variant,
		      unsigned int flags, struct evpoll_poller **out)
{
	int ret;

	if (variant->no_submit)
		setenv("EVPOLL_NO_SUBMIT", "1", 1);
	ret = evpoll_poller_new(variant->backend, flags, out);
	unsetenv("EVPOLL_NO_SUBMIT");
	return ret;
}

FIXTURE_SETUP(poller)
{
	int ret;

	self->nfds_before = count_open_fds();
	ret = evpoll_backend_probe(variant->backend);
	if (ret < 0) {
		self->p = NULL;
		SKIP(return, "%s backend unavailable here: %s",
		     evpoll_backend_name(variant->backend), strerror(-ret));
	}
	ASSERT_EQ(0, new_poller(variant, 0, &self->p));
	self->caps = evpoll_poller_caps(self->p);
	if (variant->no_submit)
		ASSERT_EQ(0, self->caps & EVPOLL_CAP_BATCHED);
}

FIXTURE_TEARDOWN(poller)
{
	evpoll_poller_free(self->p);
	EXPECT_EQ(self->nfds_before, count_open_fds()) {
		TH_LOG("the test or the backend leaked an fd");
	}
}

/* The setup skipped: the 6.1 harness still runs the body. */
#define NEED_POLLER()						\
	do {							\
		if (!self->p)					\
			return;					\
	} while (0)

#define NEED_CAP(cap, what)					\
	do {							\
		NEED_POLLER();					\
		if (!(self->caps & (cap)))			\
			SKIP(return, "%s backend: %s",		\
			     evpoll_poller_backend_name(self->p), what); \
	} while (0)

#define WAIT(ms)	evpoll_poller_wait(self->p, self->ev, MAXEV, (ms))

/*
 * MOD of a registration whose fd was closed without DEL, its number now
 * naming another file: epoll's -ENOENT.  A batching poller
 * (EVPOLL_CAP_BATCHED) may not know yet: it says -ENOENT if a wait since
 * found the registration stale, else it queues the MOD and forgets the
 * registration without an event when the kernel refuses it
 * (Documentation/backends.rst, "Batched changes"); the lines after this
 * one in each test show that it is forgotten.
 */
#define EXPECT_MOD_OF_REUSED_FAILS(fd, data)				\
	do {								\
		int __ret = evpoll_poller_mod(self->p, (fd), EPOLLIN, (data)); \
									\
		if (!(self->caps & EVPOLL_CAP_BATCHED) || __ret)	\
			EXPECT_EQ(-ENOENT, __ret);			\
	} while (0)

/* Events reported for @fd among the first @n, 0 if none. */
static uint32_t events_of(const struct evpoll_poller_event *ev, int n, int fd)
{
	int i;

	for (i = 0; i < n; i++)
		if (ev[i].fd == fd)
			return ev[i].events;
	return 0;
}

static void put(int fd, int nbytes)
{
	char buf[64] = { 0 };

	if (write(fd, buf, (size_t)nbytes) != nbytes)
		abort();
}

static void drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

TEST_F(poller, backend_is_the_one_asked_for)
{
	NEED_POLLER();
	EXPECT_EQ(variant->backend, evpoll_poller_backend(self->p));
	EXPECT_STREQ(evpoll_backend_name(variant->backend),
		     evpoll_poller_backend_name(self->p));
	EXPECT_EQ(0, self->caps & ~evpoll_backend_caps(variant->backend));
}

TEST_F(poller, add_wait_del_pipe)
{
	int pfd[2];

	NEED_POLLER();
	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 0x1111));
	EXPECT_EQ(0, WAIT(0));
	put(pfd[1], 1);
	ASSERT_EQ(1, WAIT(10000));
	EXPECT_EQ(pfd[0], self->ev[0].fd);
	EXPECT_EQ(EPOLLIN, self->ev[0].events);
	EXPECT_EQ(0x1111, self->ev[0].data);
	EXPECT_EQ(0, evpoll_poller_del(self->p, pfd[0]));
	EXPECT_EQ(0, WAIT(0));
	EXPECT_EQ(-ENOENT, evpoll_poller_del(self->p, pfd[0]));
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(poller, user_data_round_trips)
{
	const uint64_t d1 = 0xdeadbeefcafef00dULL, d2 = 0xffffffffffffffffULL;
	int sv[2];

	NEED_POLLER();
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, evpoll_poller_add(self->p, sv[0], EPOLLOUT, d1));
	ASSERT_EQ(1, WAIT(10000));
	EXPECT_EQ(d1, self->ev[0].data);
	ASSERT_EQ(0, evpoll_poller_mod(self->p, sv[0], EPOLLOUT, d2));
	ASSERT_EQ(1, WAIT(10000));
	EXPECT_EQ(d2, self->ev[0].data);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(poller, add_twice_is_eexist)
{
	int pfd[2];

	NEED_POLLER();
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 0));
	EXPECT_EQ(-EEXIST, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 0));
	EXPECT_EQ(0, evpoll_poller_del(self->p, pfd[0]));
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(poller, mod_del_unknown_is_enoent)
{
	int pfd[2];

	NEED_POLLER();
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	EXPECT_EQ(-ENOENT, evpoll_poller_mod(self->p, pfd[0], EPOLLIN, 0));
	EXPECT_EQ(-ENOENT, evpoll_poller_del(self->p, pfd[0]));
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(poller, bad_fd_is_ebadf)
{
	int pfd[2], closed;

	NEED_POLLER();
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	closed = pfd[0];
	close(pfd[0]);
	EXPECT_EQ(-EBADF, evpoll_poller_add(self->p, -1, EPOLLIN, 0));
	EXPECT_EQ(-EBADF, evpoll_poller_add(self->p, closed, EPOLLIN, 0));
	EXPECT_EQ(-EBADF, evpoll_poller_mod(self->p, closed, EPOLLIN, 0));
	EXPECT_EQ(-EBADF, evpoll_poller_del(self->p, closed));
	EXPECT_EQ(-EBADF, evpoll_poller_add(self->p, 1 << 20, EPOLLIN, 0));
	close(pfd[1]);
}

TEST_F(poller, regular_file_is_eperm)
{
	int fd;

	NEED_POLLER();
	fd = memfd_create("evpoll-test", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EPERM, evpoll_poller_add(self->p, fd, EPOLLIN, 0));
	close(fd);
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EPERM, evpoll_poller_add(self->p, fd, EPOLLIN, 0));
	close(fd);
}

TEST_F(poller, unknown_bits_are_einval)
{
	int pfd[2];

	NEED_POLLER();
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	EXPECT_EQ(-EINVAL, evpoll_poller_add(self->p, pfd[0],
					     EPOLLIN | (1U << 20), 0));
	EXPECT_EQ(-EINVAL, evpoll_poller_add(self->p, pfd[0],
					     EPOLLIN | EPOLLWAKEUP, 0));
	/* EPOLLEXCLUSIVE: epoll's rules, whatever the backend. */
	EXPECT_EQ(-EINVAL, evpoll_poller_add(self->p, pfd[0], EPOLLIN |
					     EPOLLPRI | EPOLLEXCLUSIVE, 0));
	EXPECT_EQ(-EINVAL, evpoll_poller_add(self->p, pfd[0], EPOLLIN |
					     EPOLLONESHOT | EPOLLEXCLUSIVE, 0));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 0));
	EXPECT_EQ(-EINVAL, evpoll_poller_mod(self->p, pfd[0],
					     EPOLLIN | EPOLLEXCLUSIVE, 0));
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(poller, missing_capabilities_are_eopnotsupp)
{
	static const struct {
		uint32_t flag;
		unsigned int cap;
	} t[] = {
		{ EPOLLET, EVPOLL_CAP_ET },
		{ EPOLLONESHOT, EVPOLL_CAP_ONESHOT },
		{ EPOLLEXCLUSIVE, EVPOLL_CAP_EXCLUSIVE },
		{ EPOLLRDHUP, EVPOLL_CAP_RDHUP },
	};
	unsigned int i;
	int sv[2];

	NEED_POLLER();
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int ret = evpoll_poller_add(self->p, sv[0],
					    EPOLLIN | t[i].flag, 0);

		if (self->caps & t[i].cap) {
			EXPECT_EQ(0, ret);
			EXPECT_EQ(0, evpoll_poller_del(self->p, sv[0]));
		} else {
			EXPECT_EQ(-EOPNOTSUPP, ret);
		}
	}
	close(sv[0]);
	close(sv[1]);
}

TEST_F(poller, pipe_readable_writable)
{
	int pfd[2];
	int n;

	NEED_POLLER();
	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 0));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[1], EPOLLOUT, 1));
	n = WAIT(10000);
	ASSERT_EQ(1, n);
	EXPECT_EQ(EPOLLOUT, events_of(self->ev, n, pfd[1]));
	put(pfd[1], 3);
	n = WAIT(10000);
	ASSERT_EQ(2, n);
	EXPECT_EQ(EPOLLIN, events_of(self->ev, n, pfd[0]));
	EXPECT_EQ(EPOLLOUT, events_of(self->ev, n, pfd[1]));
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(poller, pipe_writer_closed_is_hangup)
{
	int pfd[2], n;

	NEED_POLLER();
	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 7));
	EXPECT_EQ(0, WAIT(0));
	close(pfd[1]);
	n = WAIT(10000);
	ASSERT_EQ(1, n);
	EXPECT_EQ(7, self->ev[0].data);
	/* select can only say "readable" (a read returns EOF at once). */
	if (self->caps & EVPOLL_CAP_HUP) {
		EXPECT_EQ(EPOLLHUP, self->ev[0].events);
	} else {
		EXPECT_EQ(EPOLLIN, self->ev[0].events);
	}
	close(pfd[0]);
}

TEST_F(poller, pipe_reader_closed_is_error)
{
	int pfd[2], n;

	NEED_POLLER();
	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[1], EPOLLOUT, 0));
	ASSERT_EQ(1, WAIT(10000));
	close(pfd[0]);
	n = WAIT(10000);
	ASSERT_EQ(1, n);
	if (self->caps & EVPOLL_CAP_HUP) {
		EXPECT_EQ(EPOLLOUT | EPOLLERR, self->ev[0].events);
	} else {
		EXPECT_EQ(EPOLLOUT, self->ev[0].events);
	}
	close(pfd[1]);
}

TEST_F(poller, tcp_loopback_accept_read_write)
{
	struct sockaddr_in sa;
	int l, c, s, n;

	NEED_POLLER();
	l = tcp_listener(&sa);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, evpoll_poller_add(self->p, l, EPOLLIN, 100));
	EXPECT_EQ(0, WAIT(0));
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, connect(c, (struct sockaddr *)&sa, sizeof(sa)));
	n = WAIT(10000);
	ASSERT_EQ(1, n);
	EXPECT_EQ(EPOLLIN, self->ev[0].events);
	EXPECT_EQ(100, self->ev[0].data);
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	ASSERT_LE(0, s);
	EXPECT_EQ(0, WAIT(0));

	ASSERT_EQ(0, evpoll_poller_add(self->p, s, EPOLLIN | EPOLLOUT, 200));
	n = WAIT(10000);
	ASSERT_EQ(1, n);
	EXPECT_EQ(EPOLLOUT, events_of(self->ev, n, s));
	put(c, 10);
	/* Loopback may hand the segment to ksoftirqd: wait until it is in. */
	ASSERT_TRUE(await_fd(s, POLLIN, 10000) & POLLIN);
	n = WAIT(10000);
	ASSERT_EQ(1, n);
	EXPECT_EQ(EPOLLIN | EPOLLOUT, events_of(self->ev, n, s));
	EXPECT_EQ(200, self->ev[0].data);
	drain(s);
	ASSERT_EQ(0, evpoll_poller_mod(self->p, s, EPOLLIN, 200));
	EXPECT_EQ(0, WAIT(0));
	close(c);
	ASSERT_TRUE(await_fd(s, POLLIN, 10000) & POLLIN);	/* the FIN */
	n = WAIT(10000);
	ASSERT_EQ(1, n);
	EXPECT_TRUE(events_of(self->ev, n, s) & EPOLLIN);
	close(s);
	close(l);
}

TEST_F(poller, tcp_peer_shutdown_is_rdhup)
{
	int sv[2], n;

	NEED_CAP(EVPOLL_CAP_RDHUP, "no EPOLLRDHUP");
	ASSERT_EQ(0, tcp_pair(sv, NULL));
	ASSERT_EQ(0, evpoll_poller_add(self->p, sv[1], EPOLLIN | EPOLLRDHUP,
				       0));
	EXPECT_EQ(0, WAIT(0));
	ASSERT_EQ(0, shutdown(sv[0], SHUT_WR));
	n = WAIT(10000);
	ASSERT_EQ(1, n);
	EXPECT_EQ(EPOLLIN | EPOLLRDHUP, self->ev[0].events);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(poller, unix_socket_read_and_hangup)
{
	int sv[2], n;

	NEED_POLLER();
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, evpoll_poller_add(self->p, sv[1], EPOLLIN, 5));
	EXPECT_EQ(0, WAIT(0));
	put(sv[0], 4);
	n = WAIT(10000);
	ASSERT_EQ(1, n);
	EXPECT_EQ(EPOLLIN, self->ev[0].events);
	EXPECT_EQ(5, self->ev[0].data);
	close(sv[0]);
	n = WAIT(10000);
	ASSERT_EQ(1, n);
	if (self->caps & EVPOLL_CAP_HUP) {
		EXPECT_EQ(EPOLLIN | EPOLLHUP, self->ev[0].events);
	} else {
		EXPECT_EQ(EPOLLIN, self->ev[0].events);
	}
	close(sv[1]);
}

TEST_F(poller, eventfd_readable)
{
	uint64_t one = 1;
	int efd;

	NEED_CAP(EVPOLL_CAP_ANON_FILES,
		 "eventfd has no ->fasync, so it never raises a signal");
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, evpoll_poller_add(self->p, efd, EPOLLIN | EPOLLOUT, 9));
	ASSERT_EQ(1, WAIT(10000));
	EXPECT_EQ(EPOLLOUT, self->ev[0].events);
	ASSERT_EQ(8, write(efd, &one, 8));
	ASSERT_EQ(1, WAIT(10000));
	EXPECT_EQ(EPOLLIN | EPOLLOUT, self->ev[0].events);
	EXPECT_EQ(9, self->ev[0].data);
	close(efd);
}

TEST_F(poller, eventfd_refused_without_anon_files)
{
	int efd;

	NEED_POLLER();
	if (self->caps & EVPOLL_CAP_ANON_FILES)
		SKIP(return, "%s backend watches eventfds",
		     evpoll_poller_backend_name(self->p));
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	EXPECT_EQ(-EOPNOTSUPP, evpoll_poller_add(self->p, efd, EPOLLIN, 0));
	close(efd);
}

TEST_F(poller, level_triggered_repeats_until_drained)
{
	int pfd[2];
	char c;

	NEED_POLLER();
	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 0));
	put(pfd[1], 2);
	ASSERT_EQ(1, WAIT(10000));
	ASSERT_EQ(1, WAIT(10000));
	ASSERT_EQ(1, WAIT(0));
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	ASSERT_EQ(1, WAIT(10000));
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	EXPECT_EQ(0, WAIT(0));
	EXPECT_EQ(0, WAIT(20));
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(poller, edge_triggered_fires_once_per_edge)
{
	int pfd[2];

	NEED_CAP(EVPOLL_CAP_ET, "no edge-triggered mode (EPOLLET refused)");
	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN | EPOLLET,
				       3));
	EXPECT_EQ(0, WAIT(0));
	put(pfd[1], 1);
	ASSERT_EQ(1, WAIT(10000));
	EXPECT_EQ(EPOLLIN, self->ev[0].events);
	EXPECT_EQ(3, self->ev[0].data);
	/* Still readable, but no new edge. */
	EXPECT_EQ(0, WAIT(0));
	EXPECT_EQ(0, WAIT(20));
	/* New data is a new edge, drained or not. */
	put(pfd[1], 1);
	ASSERT_EQ(1, WAIT(10000));
	EXPECT_EQ(0, WAIT(0));
	drain(pfd[0]);
	EXPECT_EQ(0, WAIT(0));
	put(pfd[1], 1);
	ASSERT_EQ(1, WAIT(10000));
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(poller, edge_triggered_reports_ready_fd_at_add)
{
	int pfd[2];

	NEED_CAP(EVPOLL_CAP_ET, "no edge-triggered mode (EPOLLET refused)");
	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	put(pfd[1], 1);
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN | EPOLLET,
				       0));
	ASSERT_EQ(1, WAIT(10000));
	EXPECT_EQ(0, WAIT(0));
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(poller, oneshot_disarms_until_mod)
{
	int pfd[2];

	NEED_CAP(EVPOLL_CAP_ONESHOT, "no EPOLLONESHOT");
	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0],
				       EPOLLIN | EPOLLONESHOT, 1));
	put(pfd[1], 1);
	ASSERT_EQ(1, WAIT(10000));
	EXPECT_EQ(1, self->ev[0].data);
	/* Still readable, more data comes: disarmed all the same. */
	EXPECT_EQ(0, WAIT(0));
	put(pfd[1], 1);
	EXPECT_EQ(0, WAIT(20));
	ASSERT_EQ(0, evpoll_poller_mod(self->p, pfd[0],
				       EPOLLIN | EPOLLONESHOT, 2));
	ASSERT_EQ(1, WAIT(10000));
	EXPECT_EQ(2, self->ev[0].data);
	EXPECT_EQ(0, WAIT(0));
	/* Re-armed as a plain level-triggered fd. */
	ASSERT_EQ(0, evpoll_poller_mod(self->p, pfd[0], EPOLLIN, 3));
	ASSERT_EQ(1, WAIT(10000));
	ASSERT_EQ(1, WAIT(10000));
	EXPECT_EQ(3, self->ev[0].data);
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(poller, timeout_zero_returns_at_once)
{
	int pfd[2];
	int64_t t0;

	NEED_POLLER();
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	t0 = now_ms();
	EXPECT_EQ(0, WAIT(0));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 0));
	EXPECT_EQ(0, WAIT(0));
	EXPECT_GT(5000, now_ms() - t0);	/* did not block (generous: TCG) */
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(poller, short_timeout_expires)
{
	int pfd[2];
	int64_t t0, dt;

	NEED_POLLER();
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 0));
	t0 = now_ms();
	EXPECT_EQ(0, WAIT(100));
	dt = now_ms() - t0;
	EXPECT_LE(99, dt);
	EXPECT_GT(5000, dt);
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(poller, wait_argument_errors)
{
	NEED_POLLER();
	EXPECT_EQ(-EINVAL, evpoll_poller_wait(self->p, self->ev, 0, 0));
	EXPECT_EQ(-EINVAL, evpoll_poller_wait(self->p, self->ev, -1, 0));
	EXPECT_EQ(-EFAULT, evpoll_poller_wait(self->p, NULL, 1, 0));
}

#define NPIPES 100

TEST_F(poller, many_fds_few_active)
{
	static const int active[] = { 7, 42, 99 };
	int pfd[NPIPES][2], i, n;
	uint64_t seen = 0;

	NEED_POLLER();
	for (i = 0; i < NPIPES; i++) {
		ASSERT_EQ(0, pipe2(pfd[i], O_NONBLOCK | O_CLOEXEC));
		ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[i][0], EPOLLIN,
					       (uint64_t)i));
	}
	EXPECT_EQ(0, WAIT(0));
	for (i = 0; i < 3; i++)
		put(pfd[active[i]][1], 1);
	n = WAIT(10000);
	if (n < 3 && n > 0) {	/* signals may come in several wakeups */
		int more = evpoll_poller_wait(self->p, self->ev + n,
					      MAXEV - n, 10000);

		ASSERT_LE(0, more);
		n += more;
	}
	ASSERT_LE(3, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(EPOLLIN, self->ev[i].events);
		EXPECT_EQ(pfd[self->ev[i].data][0], self->ev[i].fd);
		seen |= 1ULL << (self->ev[i].data == 99 ? 63 :
				 self->ev[i].data);
	}
	EXPECT_EQ((1ULL << 7) | (1ULL << 42) | (1ULL << 63), seen);
	for (i = 0; i < NPIPES; i++) {
		EXPECT_EQ(0, evpoll_poller_del(self->p, pfd[i][0]));
		close(pfd[i][0]);
		close(pfd[i][1]);
	}
}

TEST_F(poller, more_ready_than_maxevents_starves_nobody)
{
	int pfd[5][2], i, round, n;
	unsigned int seen = 0;

	NEED_POLLER();
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, pipe2(pfd[i], O_NONBLOCK | O_CLOEXEC));
		ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[i][0], EPOLLIN,
					       (uint64_t)i));
		put(pfd[i][1], 1);
	}
	for (round = 0; round < 3; round++) {
		n = evpoll_poller_wait(self->p, self->ev, 2, 10000);
		ASSERT_LE(1, n);
		ASSERT_GE(2, n);
		for (i = 0; i < n; i++)
			seen |= 1U << self->ev[i].data;
	}
	EXPECT_EQ(0x1f, seen);
	for (i = 0; i < 5; i++) {
		close(pfd[i][0]);
		close(pfd[i][1]);
	}
}

TEST_F(poller, mod_changes_events)
{
	int sv[2];

	NEED_POLLER();
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, evpoll_poller_add(self->p, sv[0], EPOLLIN, 1));
	EXPECT_EQ(0, WAIT(0));
	ASSERT_EQ(0, evpoll_poller_mod(self->p, sv[0], EPOLLOUT, 2));
	ASSERT_EQ(1, WAIT(10000));
	EXPECT_EQ(EPOLLOUT, self->ev[0].events);
	EXPECT_EQ(2, self->ev[0].data);
	ASSERT_EQ(0, evpoll_poller_mod(self->p, sv[0], EPOLLIN, 3));
	EXPECT_EQ(0, WAIT(0));
	close(sv[0]);
	close(sv[1]);
}

TEST_F(poller, del_and_readd_reports_only_new_data)
{
	int pfd[2], n, i;

	NEED_POLLER();
	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 1));
	put(pfd[1], 1);
	ASSERT_EQ(1, WAIT(10000));	/* a completion may be queued again */
	ASSERT_EQ(0, evpoll_poller_del(self->p, pfd[0]));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 2));
	for (i = 0; i < 3; i++) {
		n = WAIT(10000);
		ASSERT_EQ(1, n);
		EXPECT_EQ(2, self->ev[0].data);
	}
	ASSERT_EQ(0, evpoll_poller_mod(self->p, pfd[0], EPOLLIN, 3));
	for (i = 0; i < 3; i++) {
		n = WAIT(10000);
		ASSERT_EQ(1, n);
		EXPECT_EQ(3, self->ev[0].data);
	}
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(poller, closed_fd_is_forgotten)
{
	int pfd[2], qfd[2], old;

	NEED_POLLER();
	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	old = pfd[0];
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 1));
	put(pfd[1], 1);
	close(pfd[0]);
	close(pfd[1]);
	/* The number comes back for another file: that is a new fd. */
	ASSERT_EQ(0, pipe2(qfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(old, qfd[0]);
	EXPECT_MOD_OF_REUSED_FAILS(qfd[0], 2);
	ASSERT_EQ(0, evpoll_poller_add(self->p, qfd[0], EPOLLIN, 2));
	EXPECT_EQ(0, WAIT(0));
	put(qfd[1], 1);
	ASSERT_EQ(1, WAIT(10000));
	EXPECT_EQ(2, self->ev[0].data);
	close(qfd[0]);
	close(qfd[1]);
	EXPECT_EQ(-EBADF, evpoll_poller_del(self->p, old));
}

/*
 * evpoll_poller_close(): DEL and close in one call.  The file is released
 * when it returns (on evpoll the module's reference too: the peer sees
 * the close at once), nothing is reported for it after, and its number
 * is free for a new registration.
 */
TEST_F(poller, close_deregisters_and_closes)
{
	int sv[2], pfd[2], old;

	NEED_POLLER();
	EXPECT_EQ(-EINVAL, evpoll_poller_close(NULL, 0));
	EXPECT_EQ(-EBADF, evpoll_poller_close(self->p, -1));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, evpoll_poller_add(self->p, sv[0], EPOLLIN, 1));
	EXPECT_EQ(0, WAIT(0));
	old = sv[0];
	ASSERT_EQ(0, evpoll_poller_close(self->p, sv[0]));
	EXPECT_EQ(-1, fcntl(old, F_GETFD));
	EXPECT_EQ(EBADF, errno);
	EXPECT_TRUE(await_fd(sv[1], POLLIN, 5000) & POLLHUP);
	if (variant->backend == EVPOLL_BACKEND_EVPOLL)
		EXPECT_TRUE(await_fd(sv[1], POLLIN, 0) & POLLHUP);
	EXPECT_EQ(0, WAIT(50));
	EXPECT_EQ(-EBADF, evpoll_poller_close(self->p, old));
	EXPECT_EQ(-EBADF, evpoll_poller_del(self->p, old));
	close(sv[1]);

	/* Closed before any wait: nothing reported, the number reusable. */
	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	put(pfd[1], 1);
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 2));
	old = pfd[0];
	ASSERT_EQ(0, evpoll_poller_close(self->p, pfd[0]));
	EXPECT_EQ(0, WAIT(0));
	ASSERT_EQ(old, dup(pfd[1]));
	EXPECT_EQ(0, evpoll_poller_add(self->p, old, EPOLLOUT, 3));
	ASSERT_EQ(1, WAIT(10000));
	EXPECT_EQ(3, self->ev[0].data);
	EXPECT_EQ(0, evpoll_poller_close(self->p, old));

	/* Not watched: closed all the same, -ENOENT. */
	old = dup(pfd[1]);
	ASSERT_LE(0, old);
	EXPECT_EQ(-ENOENT, evpoll_poller_close(self->p, old));
	EXPECT_EQ(-1, fcntl(old, F_GETFD));
	close(pfd[1]);
}

TEST_F(poller, exclusive_wakes_a_waiter)
{
	int sv[2];

	NEED_CAP(EVPOLL_CAP_EXCLUSIVE, "no EPOLLEXCLUSIVE");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, evpoll_poller_add(self->p, sv[1],
				       EPOLLIN | EPOLLEXCLUSIVE, 4));
	EXPECT_EQ(-EINVAL, evpoll_poller_mod(self->p, sv[1], EPOLLIN, 4));
	put(sv[0], 1);
	ASSERT_EQ(1, WAIT(10000));
	EXPECT_EQ(4, self->ev[0].data);
	close(sv[0]);
	close(sv[1]);
}

/*
 * Many MOD/DEL/ADD between two waits must neither fail nor lose or invent
 * events.  (The aio backend's cancelled requests hold context slots until
 * their completions are reaped: it must reap, or grow, by itself.)  Half
 * the pairs stay writable (EPOLLOUT, always ready) while the other half is
 * churned: every writable pair must still be reported, with its data, and
 * only the churned pairs that were written to, with their latest data.
 */
#define NCHURN	100
#define OUTTAG	1000000		/* data of the writable pairs: OUTTAG + i */

TEST_F(poller, churn_between_waits_loses_nothing)
{
	int out[NCHURN][2], in[NCHURN][2], i, r, n, rounds = 12;
	static const int hot[] = { 3, 50, 97 };
	unsigned char seen_out[NCHURN] = { 0 }, seen_in[NCHURN] = { 0 };
	int nout = 0, nin = 0, tries;

	NEED_POLLER();
	for (i = 0; i < NCHURN; i++) {
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
					SOCK_NONBLOCK, 0, out[i]));
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
					SOCK_NONBLOCK, 0, in[i]));
		ASSERT_EQ(0, evpoll_poller_add(self->p, out[i][0], EPOLLOUT,
					       OUTTAG + i));
		ASSERT_EQ(0, evpoll_poller_add(self->p, in[i][0], EPOLLIN, i));
	}
	for (r = 1; r <= rounds; r++) {
		for (i = 0; i < NCHURN; i++)
			ASSERT_EQ(0, evpoll_poller_mod(self->p, in[i][0],
						       EPOLLOUT, 0));
		for (i = 0; i < NCHURN; i++)
			ASSERT_EQ(0, evpoll_poller_mod(self->p, in[i][0],
						       EPOLLIN, 0));
		for (i = 0; i < NCHURN; i++)
			ASSERT_EQ(0, evpoll_poller_del(self->p, in[i][0]));
		for (i = 0; i < NCHURN; i++)
			ASSERT_EQ(0, evpoll_poller_add(self->p, in[i][0],
						       EPOLLIN,
						       (uint64_t)(r * NCHURN + i)));
	}
	for (i = 0; i < 3; i++)
		put(in[hot[i]][1], 1);

	/* Collect until every expected fd was seen once (LT repeats). */
	for (tries = 0; tries < 50 && (nout < NCHURN || nin < 3); tries++) {
		n = WAIT(10000);
		ASSERT_LE(0, n);
		for (i = 0; i < n; i++) {
			uint64_t d = self->ev[i].data;
			int j;

			/* One event per fd per wait, as epoll. */
			for (j = 0; j < i; j++)
				ASSERT_NE(self->ev[j].fd, self->ev[i].fd);

			if (d >= OUTTAG) {
				d -= OUTTAG;
				ASSERT_GT(NCHURN, d);
				EXPECT_EQ(EPOLLOUT, self->ev[i].events);
				EXPECT_EQ(out[d][0], self->ev[i].fd);
				nout += !seen_out[d];
				seen_out[d] = 1;
				continue;
			}
			/* Only the last round's registration of a hot pair. */
			ASSERT_LE((uint64_t)rounds * NCHURN, d);
			d -= (uint64_t)rounds * NCHURN;
			ASSERT_GT(NCHURN, d);
			EXPECT_EQ(EPOLLIN, self->ev[i].events);
			EXPECT_EQ(in[d][0], self->ev[i].fd);
			EXPECT_TRUE(d == 3 || d == 50 || d == 97) {
				TH_LOG("churned pair %d reported, never written",
				       (int)d);
			}
			nin += !seen_in[d];
			seen_in[d] = 1;
		}
	}
	EXPECT_EQ(NCHURN, nout);
	EXPECT_EQ(3, nin);
	for (i = 0; i < NCHURN; i++) {
		close(out[i][0]);
		close(out[i][1]);
		close(in[i][0]);
		close(in[i][1]);
	}
}

/*
 * A ready fd whose event was taken while the backend did other work (the
 * aio backend reaps, and parks, completions when MODs fill its context)
 * is still reported once per wait.
 */
TEST_F(poller, ready_fd_reported_once_per_wait_after_churn)
{
	/* Room for every completion the churn left in aio's ring, too. */
	static struct evpoll_poller_event ev[1024];
	int out[2], in[2], i, n;

	NEED_POLLER();
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in));
	ASSERT_EQ(0, evpoll_poller_add(self->p, out[0], EPOLLOUT, 1));
	ASSERT_EQ(0, evpoll_poller_add(self->p, in[0], EPOLLIN, 2));
	for (i = 0; i < 1000; i++)
		ASSERT_EQ(0, evpoll_poller_mod(self->p, in[0], EPOLLIN,
					       (uint64_t)(3 + i % 2)));
	for (i = 0; i < 3; i++) {
		n = evpoll_poller_wait(self->p, ev, 1024, 10000);
		ASSERT_EQ(1, n);
		EXPECT_EQ(out[0], ev[0].fd);
		EXPECT_EQ(EPOLLOUT, ev[0].events);
		EXPECT_EQ(1, ev[0].data);
	}
	close(out[0]);
	close(out[1]);
	close(in[0]);
	close(in[1]);
}

/*
 * The close contract (Documentation/backends.rst, "Closing a watched fd"):
 * DEL before close.  A file closed without DEL is dropped on every
 * backend, as epoll drops it, and nothing is ever reported with the user
 * data of a registration whose fd number was closed and reused.
 */
TEST_F(poller, closed_socket_reports_nothing)
{
	int sv[2];

	NEED_POLLER();
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, evpoll_poller_add(self->p, sv[0], EPOLLIN, 1));
	EXPECT_EQ(0, WAIT(0));
	close(sv[0]);
	/* Fails with EPIPE unless a backend still holds the socket. */
	send(sv[1], "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	EXPECT_EQ(0, WAIT(100)) {
		TH_LOG("event %#x for the closed fd %d, data %llu",
		       self->ev[0].events, self->ev[0].fd,
		       (unsigned long long)self->ev[0].data);
	}
	/* Whatever held the socket let it go: the peer sees the close. */
	EXPECT_TRUE(await_fd(sv[1], POLLIN, 5000) & POLLHUP);
	close(sv[1]);
}

TEST_F(poller, reused_number_reports_nothing_for_the_old_file)
{
	int pfd[2], qfd[2], old;

	NEED_POLLER();
	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	old = pfd[0];
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 1));
	EXPECT_EQ(0, WAIT(0));
	close(pfd[0]);
	ASSERT_EQ(0, pipe2(qfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(old, qfd[0]);
	close(pfd[1]);		/* the old pipe's HUP, if it is still held */
	put(qfd[1], 1);		/* the new pipe's IN */
	EXPECT_EQ(0, WAIT(100)) {
		TH_LOG("event %#x for fd %d with the old data %llu",
		       self->ev[0].events, self->ev[0].fd,
		       (unsigned long long)self->ev[0].data);
	}
	ASSERT_EQ(0, evpoll_poller_add(self->p, qfd[0], EPOLLIN, 2));
	ASSERT_EQ(1, WAIT(10000));
	EXPECT_EQ(2, self->ev[0].data);
	EXPECT_EQ(0, evpoll_poller_del(self->p, qfd[0]));
	close(qfd[0]);
	close(qfd[1]);
}

/* eventfd and timerfd share one anonymous inode: still two files. */
TEST_F(poller, anon_inode_reuse_is_a_new_fd)
{
	struct itimerspec its = { .it_value = { 0, 1000000 } };
	int efd, tfd;

	NEED_CAP(EVPOLL_CAP_ANON_FILES, "no anonymous-inode files");
	efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, evpoll_poller_add(self->p, efd, EPOLLIN, 1));
	ASSERT_EQ(1, WAIT(10000));
	close(efd);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	ASSERT_EQ(efd, tfd);
	ASSERT_EQ(0, timerfd_settime(tfd, 0, &its, NULL));
	ASSERT_EQ(POLLIN, await_fd(tfd, POLLIN, 5000));
	/* Not added: nothing to report, epoll's answers to MOD and DEL. */
	EXPECT_EQ(0, WAIT(50));
	EXPECT_MOD_OF_REUSED_FAILS(tfd, 2);
	EXPECT_EQ(-ENOENT, evpoll_poller_del(self->p, tfd));
	/* Added as the new fd it is. */
	ASSERT_EQ(0, evpoll_poller_add(self->p, tfd, EPOLLIN, 2));
	EXPECT_EQ(-EEXIST, evpoll_poller_add(self->p, tfd, EPOLLIN, 2));
	ASSERT_EQ(1, WAIT(10000));
	EXPECT_EQ(2, self->ev[0].data);
	EXPECT_EQ(EPOLLIN, self->ev[0].events);
	EXPECT_EQ(0, evpoll_poller_del(self->p, tfd));
	close(tfd);
}

static int64_t thread_cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * pfd[0] watched with data 1, its file kept open by *keep (a dup), pfd[0]
 * closed without DEL and its number taken by qfd[0].  0, or -1.
 */
static int kept_file_under_reused_number(struct evpoll_poller *p,
					 int pfd[2], int qfd[2], int *keep)
{
	int old;

	if (pipe2(pfd, O_NONBLOCK | O_CLOEXEC))
		return -1;
	old = pfd[0];
	*keep = fcntl(pfd[0], F_DUPFD_CLOEXEC, 0);
	if (*keep < 0 || evpoll_poller_add(p, pfd[0], EPOLLIN, 1))
		return -1;
	close(pfd[0]);
	if (pipe2(qfd, O_NONBLOCK | O_CLOEXEC))
		return -1;
	return qfd[0] == old ? 0 : -1;
}

/* The new file at the reused number works as a new fd; close them all. */
#define READD_REUSED_AND_CLOSE(pfd, qfd, keep)				\
	do {								\
		ASSERT_EQ(0, evpoll_poller_add(self->p, qfd[0], EPOLLIN, 2)); \
		put(qfd[1], 1);						\
		ASSERT_EQ(1, WAIT(10000));				\
		EXPECT_EQ(2, self->ev[0].data);				\
		EXPECT_EQ(0, evpoll_poller_del(self->p, qfd[0]));	\
		close(keep);						\
		close(pfd[1]);						\
		close(qfd[0]);						\
		close(qfd[1]);						\
	} while (0)

/*
 * A ready file kept alive by a dup, its fd closed without DEL, the number
 * re-added for another file: the old item cannot be named any more, and
 * a wait must not spin on it.
 */
TEST_F(poller, orphaned_ready_file_does_not_spin)
{
	int pfd[2], qfd[2], keep;
	int64_t t0, cpu0, cpu, wall;

	NEED_POLLER();
	ASSERT_EQ(0, kept_file_under_reused_number(self->p, pfd, qfd, &keep));
	put(pfd[1], 1);
	ASSERT_EQ(0, evpoll_poller_add(self->p, qfd[0], EPOLLIN, 3));
	t0 = now_ms();
	cpu0 = thread_cpu_ms();
	EXPECT_EQ(0, WAIT(300)) {
		TH_LOG("event %#x fd %d data %llu", self->ev[0].events,
		       self->ev[0].fd, (unsigned long long)self->ev[0].data);
	}
	cpu = thread_cpu_ms() - cpu0;
	wall = now_ms() - t0;
	EXPECT_GE(wall, 250);
	EXPECT_LT(cpu, 50) {
		TH_LOG("a %lld ms wait burnt %lld ms of CPU",
		       (long long)wall, (long long)cpu);
	}
	EXPECT_EQ(0, evpoll_poller_del(self->p, qfd[0]));
	READD_REUSED_AND_CLOSE(pfd, qfd, keep);
}

/*
 * A file kept open by a dup, its fd closed without DEL, the number taken
 * by another file that is not added: with EVPOLL_POLLER_CHECK_FDS no
 * backend reports the old file with the old data (without it, epoll and
 * evpoll do, as epoll does).
 */
TEST_F(poller, check_fds_drops_a_kept_file_under_a_reused_number)
{
	struct evpoll_poller *q;
	int pfd[2], qfd[2], keep;

	NEED_POLLER();
	EXPECT_EQ(-EINVAL, new_poller(variant, 1U << 1, &q));
	evpoll_poller_free(self->p);
	self->p = NULL;
	ASSERT_EQ(0, new_poller(variant, EVPOLL_POLLER_CHECK_FDS, &self->p));
	ASSERT_EQ(0, kept_file_under_reused_number(self->p, pfd, qfd, &keep));
	put(pfd[1], 1);
	EXPECT_EQ(0, WAIT(100)) {
		TH_LOG("event %#x fd %d with the old data %llu",
		       self->ev[0].events, self->ev[0].fd,
		       (unsigned long long)self->ev[0].data);
	}
	EXPECT_MOD_OF_REUSED_FAILS(qfd[0], 2);
	READD_REUSED_AND_CLOSE(pfd, qfd, keep);
}

/*
 * EPERM is epoll's: files without ->poll, not every regular file.  sigio
 * refuses a pollable file without ->fasync (mountinfo) with -EOPNOTSUPP
 * instead: it could never signal (backends.rst, sigio).
 */
TEST_F(poller, eperm_is_epolls_answer)
{
	int fd;

	NEED_POLLER();
	fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	if (variant->backend == EVPOLL_BACKEND_SIGIO) {
		EXPECT_EQ(-EOPNOTSUPP,
			  evpoll_poller_add(self->p, fd, EPOLLPRI, 1));
	} else {
		EXPECT_EQ(0, evpoll_poller_add(self->p, fd, EPOLLPRI, 1));
		EXPECT_EQ(0, evpoll_poller_del(self->p, fd));
	}
	close(fd);
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EPERM, evpoll_poller_add(self->p, fd, EPOLLIN, 1));
	EXPECT_EQ(-EPERM, evpoll_poller_del(self->p, fd));
	close(fd);
}

TEST_F(poller, wakeup_before_wait_returns_it_once)
{
	int64_t t0;

	NEED_POLLER();
	EXPECT_EQ(-EINVAL, evpoll_poller_wakeup(NULL));
	EXPECT_EQ(0, evpoll_poller_wakeup(self->p));
	EXPECT_EQ(0, evpoll_poller_wakeup(self->p));
	t0 = now_ms();
	EXPECT_EQ(0, WAIT(10000));
	EXPECT_LT(now_ms() - t0, 5000);
	/* The two wake-ups were one. */
	t0 = now_ms();
	EXPECT_EQ(0, WAIT(100));
	EXPECT_GE(now_ms() - t0, 90);
}

TEST_F(poller, wakeup_is_not_an_event)
{
	int pfd[2];

	NEED_POLLER();
	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 7));
	put(pfd[1], 1);
	EXPECT_EQ(0, evpoll_poller_wakeup(self->p));
	ASSERT_EQ(1, WAIT(10000));
	EXPECT_EQ(7, self->ev[0].data);
	EXPECT_EQ(pfd[0], self->ev[0].fd);
	close(pfd[0]);
	close(pfd[1]);
}

struct waker {
	struct evpoll_poller *p;
	pid_t tid;		/* the waiting thread */
	int rounds;
	int round;		/* atomic: the wait the waiter is about to do */
	int ret;
};

/* Is thread @tid asleep in the kernel (state S)? */
static int thread_sleeping(pid_t tid)
{
	char path[64], buf[512], *paren;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' && paren[2] == 'S';
}

static void *waker_main(void *arg)
{
	struct waker *w = arg;
	int r;

	for (r = 0; r < w->rounds; r++) {
		int64_t t0 = now_ms();

		/* Wait for the state (round r begun, waiter asleep), bounded. */
		while (__atomic_load_n(&w->round, __ATOMIC_ACQUIRE) != r ||
		       !thread_sleeping(w->tid)) {
			if (now_ms() - t0 > 5000)
				break;
			sched_yield();
		}
		w->ret = evpoll_poller_wakeup(w->p);
		if (w->ret)
			break;
	}
	return NULL;
}

TEST_F(poller, wakeup_from_another_thread_ends_a_wait)
{
	struct waker w = { .rounds = 3 };
	pthread_t th;
	int pfd[2], r;

	NEED_POLLER();
	ASSERT_EQ(0, pipe2(pfd, O_NONBLOCK | O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 1));
	w.p = self->p;
	w.tid = gettid();
	ASSERT_EQ(0, pthread_create(&th, NULL, waker_main, &w));
	for (r = 0; r < w.rounds; r++) {
		int64_t t0 = now_ms();

		__atomic_store_n(&w.round, r, __ATOMIC_RELEASE);
		EXPECT_EQ(0, WAIT(20000));
		EXPECT_LT(now_ms() - t0, 10000) {
			TH_LOG("round %d: the wake-up did not end the wait", r);
		}
	}
	pthread_join(th, NULL);
	EXPECT_EQ(0, w.ret);
	close(pfd[0]);
	close(pfd[1]);
}

/*
 * The child's half of reinit_gives_the_child_its_own_poller: nothing it
 * does may change what the parent sees (sv[0] is never made readable
 * here, its readiness is shared with the parent).
 */
static int reinit_child(struct evpoll_poller *p, const int sv[2])
{
	struct evpoll_poller_event ev[4];
	int qfd[2];

	if (evpoll_poller_reinit(p))
		return 10;
	/* The inherited registration, in the child's own set. */
	if (evpoll_poller_mod(p, sv[0], EPOLLOUT, 3))
		return 11;
	if (evpoll_poller_wait(p, ev, 4, 10000) != 1 || ev[0].data != 3 ||
	    ev[0].events != EPOLLOUT)
		return 12;
	if (evpoll_poller_del(p, sv[0]))
		return 13;
	if (pipe2(qfd, O_NONBLOCK | O_CLOEXEC) ||
	    evpoll_poller_add(p, qfd[0], EPOLLIN, 2))
		return 14;
	put(qfd[1], 1);
	if (evpoll_poller_wait(p, ev, 4, 10000) != 1 || ev[0].data != 2)
		return 15;
	drain(qfd[0]);
	/* Its own wake-ups: one for itself, one left pending. */
	if (evpoll_poller_wakeup(p) || evpoll_poller_wait(p, ev, 4, 10000))
		return 16;
	if (evpoll_poller_wakeup(p))
		return 17;
	evpoll_poller_free(p);
	return 0;
}

TEST_F(poller, reinit_gives_the_child_its_own_poller)
{
	int sv[2], status;
	int64_t t0;
	pid_t pid;

	NEED_POLLER();
	EXPECT_EQ(-EINVAL, evpoll_poller_reinit(NULL));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, evpoll_poller_add(self->p, sv[0], EPOLLIN, 1));
	EXPECT_EQ(0, WAIT(0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(reinit_child(self->p, sv));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) {
		TH_LOG("the child's check %d failed", WEXITSTATUS(status));
	}
	if (self->caps & EVPOLL_CAP_FORK) {
		/* Neither the child's MOD and DEL nor its wake-ups reached us. */
		t0 = now_ms();
		EXPECT_EQ(0, WAIT(100));
		EXPECT_GE(now_ms() - t0, 90);
		put(sv[1], 1);
		ASSERT_EQ(1, WAIT(10000));
		EXPECT_EQ(1, self->ev[0].data);
		EXPECT_EQ(EPOLLIN, self->ev[0].events);
		EXPECT_EQ(0, evpoll_poller_del(self->p, sv[0]));
	} else {
		/* sigio: the shared files signal the child now (documented). */
		TH_LOG("%s: no EVPOLL_CAP_FORK, parent side not checked",
		       evpoll_poller_backend_name(self->p));
	}
	close(sv[0]);
	close(sv[1]);
}

static void on_alarm(int sig)
{
}

TEST_F(poller, signal_interrupts_wait)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	int pfd[2];

	NEED_POLLER();
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_add(self->p, pfd[0], EPOLLIN, 0));
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	/* Every 50 ms: one may come before the backend is in its wait. */
	ualarm(50000, 50000);
	EXPECT_EQ(-EINTR, WAIT(60000));
	ualarm(0, 0);
	close(pfd[0]);
	close(pfd[1]);
}

TEST_HARNESS_MAIN
