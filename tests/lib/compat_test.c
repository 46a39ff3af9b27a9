// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * compat_test.c - the kernel's epoll is the oracle for evpoll.
 *
 * Every test is a scenario written once against a table of function
 * pointers (struct api) and run twice: on epoll_* and on evpoll_*.  Each
 * call's result is recorded in a trace (return value, errno, and for
 * waits the sorted (events, data) pairs); the test passes when the two
 * traces are identical.  A few absolute expectations on the epoll run
 * catch a scenario that tests nothing.  Needs /dev/evpoll: without it
 * every test skips (the binary is installed for the VM only).
 *
 *   t0 (this thread) --wait--> e0 (epoll or evpoll) --lt/et/oneshot--> fds
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "evpoll.h"
#include "kselftest_harness.h"
#include "helpers.h"

struct api {
	const char *name;
	int (*create1)(int flags);
	int (*create)(int size);
	int (*ctl)(int epfd, int op, int fd, struct epoll_event *ev);
	int (*wait)(int epfd, struct epoll_event *evs, int max, int ms);
	int (*pwait)(int epfd, struct epoll_event *evs, int max, int ms,
		     const sigset_t *mask);
	int (*pwait2)(int epfd, struct epoll_event *evs, int max,
		      const struct timespec *ts, const sigset_t *mask);
};

static const struct api apis[2] = {
	{ "epoll", epoll_create1, epoll_create, epoll_ctl, epoll_wait,
	  epoll_pwait, epoll_pwait2 },
	{ "evpoll", evpoll_create1, evpoll_create, evpoll_ctl, evpoll_wait,
	  evpoll_pwait, evpoll_pwait2 },
};

#define MAXSTEPS	96
#define MAXREC		16

struct step {
	int line;
	long ret;
	int err;
	int nev;
	uint64_t ev[MAXREC];	/* events << 32 | (uint32_t)data, sorted */
};

struct trace {
	int n;
	struct step s[MAXSTEPS];
};

static long rec(struct trace *t, int line, long ret, int err)
{
	struct step *s;

	if (t->n == MAXSTEPS)
		abort();
	s = &t->s[t->n++];
	s->line = line;
	s->ret = ret;
	s->err = ret < 0 ? err : 0;
	s->nev = 0;
	return ret;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int rec_wait(struct trace *t, int line, int ret, int err,
		    const struct epoll_event *evs)
{
	struct step *s;
	int i;

	rec(t, line, ret, err);
	s = &t->s[t->n - 1];
	for (i = 0; i < ret && i < MAXREC; i++)
		s->ev[i] = (uint64_t)evs[i].events << 32 |
			   (uint32_t)evs[i].data.u64;
	s->nev = i;
	qsort(s->ev, (size_t)s->nev, sizeof(s->ev[0]), cmp_u64);
	return ret;
}

/* Record a call returning 0/-1 (or a count). */
#define CALL(expr) ({ errno = 0; long __r = (expr); \
		      rec(t, __LINE__, __r, errno); })
/* Record a call returning an fd: only whether it succeeded. */
#define CALLFD(expr) ({ errno = 0; int __r = (expr); \
			rec(t, __LINE__, __r < 0 ? -1 : 0, errno); __r; })
#define WAIT(epfd, max, ms) ({ errno = 0; \
	int __r = a->wait((epfd), evs, (max), (ms)); \
	rec_wait(t, __LINE__, __r, errno, evs); })
#define CTL(epfd, op, fd, evts, dat) ({ \
	struct epoll_event __e = { .events = (evts), .data.u64 = (dat) }; \
	CALL(a->ctl((epfd), (op), (fd), &__e)); })

typedef void scenario_fn(const struct api *a, struct trace *t);

static void put(int fd, int n)
{
	char buf[64] = { 0 };

	if (write(fd, buf, (size_t)n) != n)
		abort();
}

static void drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void run_both(struct __test_metadata *_metadata, scenario_fn *fn)
{
	static struct trace tr[2];
	int fd, i, k, nfds = count_open_fds();
	/* COMPAT_SELFCHECK=1: epoll against itself (are scenarios stable?) */
	int self_check = getenv("COMPAT_SELFCHECK") != NULL;

	fd = evpoll_create1(EPOLL_CLOEXEC);
	if (fd < 0 && !self_check)
		SKIP(return, "/dev/evpoll: %s", strerror(errno));
	if (fd >= 0)
		close(fd);

	for (i = 0; i < 2; i++) {
		memset(&tr[i], 0, sizeof(tr[i]));
		fn(&apis[self_check ? 0 : i], &tr[i]);
		EXPECT_EQ(nfds, count_open_fds()) {
			TH_LOG("%s run leaked an fd", apis[i].name);
		}
	}
	ASSERT_EQ(tr[0].n, tr[1].n);
	for (k = 0; k < tr[0].n; k++) {
		struct step *e = &tr[0].s[k], *v = &tr[1].s[k];

		EXPECT_TRUE(e->ret == v->ret && e->err == v->err &&
			    e->nev == v->nev &&
			    !memcmp(e->ev, v->ev, sizeof(e->ev[0]) * e->nev)) {
			TH_LOG("line %d: epoll %ld (%s), evpoll %ld (%s)",
			       e->line, e->ret, strerror(e->err), v->ret,
			       strerror(v->err));
			for (i = 0; i < e->nev || i < v->nev; i++)
				TH_LOG("  event %d: epoll %#llx evpoll %#llx",
				       i, i < e->nev ?
				       (unsigned long long)e->ev[i] : 0ULL,
				       i < v->nev ?
				       (unsigned long long)v->ev[i] : 0ULL);
		}
	}
}

/* Expect the epoll run's step at @line to have returned @ret/@err. */
static int step_is(const struct trace *t, int line, long ret, int err)
{
	int k;

	for (k = 0; k < t->n; k++)
		if (t->s[k].line == line)
			return t->s[k].ret == ret && t->s[k].err == err;
	return 0;
}

#define COMPAT_TEST(name)						\
	static scenario_fn sc_##name;					\
	TEST(name) { run_both(_metadata, sc_##name); }			\
	static void sc_##name(const struct api *a, struct trace *t)

COMPAT_TEST(create_flags_and_size)
{
	int fd;

	CALLFD(a->create1(O_NONBLOCK));
	CALLFD(a->create1(-1));
	CALLFD(a->create(0));
	CALLFD(a->create(-1));
	fd = CALLFD(a->create(1));
	CALL(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	fd = CALLFD(a->create1(EPOLL_CLOEXEC));
	CALL(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

COMPAT_TEST(ctl_op_errors)
{
	int e = a->create1(0), pfd[2];
	struct epoll_event ev = { .events = EPOLLIN };

	if (pipe(pfd))
		abort();
	CTL(e, 0, pfd[0], EPOLLIN, 1);
	CTL(e, 4, pfd[0], EPOLLIN, 1);
	CTL(e, -1, pfd[0], EPOLLIN, 1);
	CALL(a->ctl(e, 0, pfd[0], NULL));
	CALL(a->ctl(e, EPOLL_CTL_ADD, pfd[0], NULL));
	CALL(a->ctl(e, EPOLL_CTL_MOD, pfd[0], NULL));
	CALL(a->ctl(e, EPOLL_CTL_DEL, pfd[0], NULL));	/* ENOENT */
	CALL(a->ctl(e, EPOLL_CTL_ADD, pfd[0], &ev));
	CALL(a->ctl(e, EPOLL_CTL_DEL, pfd[0], NULL));	/* NULL ok */
	close(pfd[0]);
	close(pfd[1]);
	close(e);
}

COMPAT_TEST(ctl_exist_noent_badf)
{
	int e = a->create1(0), pfd[2], closed;

	if (pipe(pfd))
		abort();
	closed = dup(pfd[0]);
	close(closed);
	CTL(e, EPOLL_CTL_MOD, pfd[0], EPOLLIN, 1);
	CTL(e, EPOLL_CTL_DEL, pfd[0], 0, 0);
	CTL(e, EPOLL_CTL_ADD, pfd[0], EPOLLIN, 1);
	CTL(e, EPOLL_CTL_ADD, pfd[0], EPOLLIN, 1);
	CTL(e, EPOLL_CTL_MOD, pfd[0], EPOLLOUT, 2);
	CTL(e, EPOLL_CTL_DEL, pfd[0], 0, 0);
	CTL(e, EPOLL_CTL_DEL, pfd[0], 0, 0);
	CTL(e, EPOLL_CTL_ADD, -1, EPOLLIN, 1);
	CTL(e, EPOLL_CTL_ADD, closed, EPOLLIN, 1);
	CTL(-1, EPOLL_CTL_ADD, pfd[0], EPOLLIN, 1);
	CTL(closed, EPOLL_CTL_ADD, pfd[0], EPOLLIN, 1);
	/* epfd that is no instance: EINVAL, after the target's checks. */
	CTL(pfd[1], EPOLL_CTL_ADD, pfd[0], EPOLLIN, 1);
	CTL(pfd[1], EPOLL_CTL_ADD, closed, EPOLLIN, 1);
	/* Unknown event bits are ignored by epoll, not refused. */
	CTL(e, EPOLL_CTL_ADD, pfd[0], EPOLLIN | (1U << 20), 1);
	close(pfd[0]);
	close(pfd[1]);
	close(e);
}

COMPAT_TEST(ctl_self_and_unpollable_files)
{
	int e = a->create1(0), mfd, dfd, nfd;

	mfd = memfd_create("compat", MFD_CLOEXEC);
	dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	nfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CTL(e, EPOLL_CTL_ADD, e, EPOLLIN, 1);
	CTL(e, EPOLL_CTL_ADD, mfd, EPOLLIN, 1);
	CTL(e, EPOLL_CTL_ADD, dfd, EPOLLIN, 1);
	CTL(e, EPOLL_CTL_ADD, nfd, EPOLLIN, 1);
	close(mfd);
	close(dfd);
	close(nfd);
	close(e);
}

COMPAT_TEST(ctl_exclusive_rules)
{
	int e = a->create1(0), e2 = a->create1(0), sv[2], pfd[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || pipe(pfd))
		abort();
	CTL(e, EPOLL_CTL_ADD, sv[0], EPOLLIN | EPOLLEXCLUSIVE, 1);
	CTL(e, EPOLL_CTL_MOD, sv[0], EPOLLIN, 1);
	CTL(e, EPOLL_CTL_MOD, sv[0], EPOLLIN | EPOLLEXCLUSIVE, 1);
	CTL(e, EPOLL_CTL_ADD, sv[1], EPOLLIN | EPOLLPRI | EPOLLEXCLUSIVE, 1);
	CTL(e, EPOLL_CTL_ADD, sv[1], EPOLLIN | EPOLLONESHOT |
	    EPOLLEXCLUSIVE, 1);
	CTL(e, EPOLL_CTL_ADD, sv[1], EPOLLIN | EPOLLRDHUP | EPOLLEXCLUSIVE, 1);
	CTL(e, EPOLL_CTL_ADD, sv[1], EPOLLOUT | EPOLLET | EPOLLEXCLUSIVE, 2);
	CTL(e, EPOLL_CTL_ADD, pfd[0], EPOLLIN, 3);
	CTL(e, EPOLL_CTL_MOD, pfd[0], EPOLLIN | EPOLLEXCLUSIVE, 3);
	/* An instance may not be watched exclusively. */
	CTL(e, EPOLL_CTL_ADD, e2, EPOLLIN | EPOLLEXCLUSIVE, 4);
	CTL(e, EPOLL_CTL_DEL, sv[0], 0, 0);
	close(sv[0]);
	close(sv[1]);
	close(pfd[0]);
	close(pfd[1]);
	close(e2);
	close(e);
}

COMPAT_TEST(wait_argument_errors)
{
	struct timespec bad_ns = { 0, 1000000000 }, neg = { -1, 0 },
			zero = { 0, 0 };
	struct epoll_event evs[4];
	volatile int minus_one = -1;
	int e = a->create1(0), pfd[2];

	if (pipe(pfd))
		abort();
	WAIT(e, 0, 0);
	WAIT(e, minus_one, 0);
	WAIT(e, 4, 0);
	CALL(a->wait(e, (void *)-4096L, 1, 0));
	CALL(a->pwait2(e, evs, 4, &bad_ns, NULL));
	CALL(a->pwait2(e, evs, 4, &neg, NULL));
	CALL(a->pwait2(e, evs, 4, (void *)8, NULL));
	CALL(a->pwait2(e, evs, 4, &zero, NULL));
	/* A bad buffer with an event to copy. */
	CTL(e, EPOLL_CTL_ADD, pfd[1], EPOLLOUT, 1);
	CALL(a->wait(e, (void *)8, 1, 0));
	CALL(a->wait(e, (void *)8, 1, 0));
	WAIT(e, 4, 0);
	close(pfd[0]);
	close(pfd[1]);
	close(e);
}

COMPAT_TEST(wait_timeouts)
{
	struct timespec ts = { 0, 20 * 1000000 };
	struct epoll_event evs[4];
	int e = a->create1(0), pfd[2];
	int64_t t0;

	if (pipe(pfd))
		abort();
	CTL(e, EPOLL_CTL_ADD, pfd[0], EPOLLIN, 1);
	t0 = now_ms();
	WAIT(e, 4, 0);
	WAIT(e, 4, 30);
	CALL(a->pwait2(e, evs, 4, &ts, NULL));
	CALL(now_ms() - t0 >= 50);
	put(pfd[1], 1);
	CALL(a->pwait2(e, evs, 4, NULL, NULL));
	WAIT(e, 4, -1);
	close(pfd[0]);
	close(pfd[1]);
	close(e);
}

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	got_usr1 = 1;
}

COMPAT_TEST(pwait_sigmask)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct timespec ts = { 0, 10 * 1000000 };
	struct epoll_event evs[4];
	sigset_t block, empty, old;
	int e = a->create1(0);

	sigemptyset(&empty);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaction(SIGUSR1, &sa, NULL);
	sigprocmask(SIG_BLOCK, &block, &old);
	got_usr1 = 0;
	raise(SIGUSR1);
	/* Still blocked during the wait: times out. */
	CALL(a->pwait(e, evs, 4, 10, &block));
	CALL(a->pwait2(e, evs, 4, &ts, &block));
	CALL(got_usr1);
	/* Unblocked for the wait: the handler runs, EINTR. */
	CALL(a->pwait(e, evs, 4, 1000, &empty));
	CALL(got_usr1);
	got_usr1 = 0;
	raise(SIGUSR1);
	CALL(a->pwait2(e, evs, 4, NULL, &empty));
	CALL(got_usr1);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(e);
}

COMPAT_TEST(ready_sets_pipe)
{
	struct epoll_event evs[4];
	int e = a->create1(0), pfd[2];

	if (pipe2(pfd, O_NONBLOCK))
		abort();
	CTL(e, EPOLL_CTL_ADD, pfd[0], EPOLLIN | EPOLLRDHUP, 1);
	CTL(e, EPOLL_CTL_ADD, pfd[1], EPOLLOUT, 2);
	WAIT(e, 4, 0);
	put(pfd[1], 5);
	WAIT(e, 4, 0);
	/*
	 * DEL before close: evpoll holds a reference to watched files, so a
	 * watched writer closed without DEL stays open until the module's
	 * reaper drops it (bounded delay, not at once as with epoll).
	 */
	CTL(e, EPOLL_CTL_DEL, pfd[1], 0, 0);
	close(pfd[1]);
	WAIT(e, 4, 0);
	drain(pfd[0]);
	WAIT(e, 4, 0);
	close(pfd[0]);

	if (pipe2(pfd, O_NONBLOCK))
		abort();
	CTL(e, EPOLL_CTL_ADD, pfd[1], EPOLLOUT, 3);
	close(pfd[0]);
	WAIT(e, 4, 0);
	close(pfd[1]);
	close(e);
}

COMPAT_TEST(ready_sets_sockets)
{
	struct sockaddr_in sa;
	struct epoll_event evs[4];
	int e = a->create1(0), sv[2], l, c, s;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
		abort();
	CTL(e, EPOLL_CTL_ADD, sv[1], EPOLLIN | EPOLLOUT | EPOLLRDHUP, 1);
	WAIT(e, 4, 0);
	put(sv[0], 3);
	WAIT(e, 4, 0);
	shutdown(sv[0], SHUT_WR);
	WAIT(e, 4, 0);
	close(sv[0]);
	WAIT(e, 4, 0);
	close(sv[1]);

	l = tcp_listener(&sa);
	c = socket(AF_INET, SOCK_STREAM, 0);
	CTL(e, EPOLL_CTL_ADD, l, EPOLLIN, 10);
	WAIT(e, 4, 0);
	CALL(connect(c, (struct sockaddr *)&sa, sizeof(sa)));
	await_fd(l, POLLIN, 10000);
	WAIT(e, 4, 10000);
	s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	CTL(e, EPOLL_CTL_ADD, s, EPOLLIN | EPOLLOUT | EPOLLRDHUP, 11);
	WAIT(e, 4, 0);
	put(c, 7);
	/* s is writable already: the wait would not wait for the data. */
	await_fd(s, POLLIN, 10000);
	WAIT(e, 4, 10000);
	drain(s);
	shutdown(c, SHUT_WR);
	await_fd(s, POLLRDHUP, 10000);
	WAIT(e, 4, 10000);
	close(c);
	close(s);
	close(l);
	close(e);
}

COMPAT_TEST(level_triggered_repeats)
{
	struct epoll_event evs[4];
	int e = a->create1(0), pfd[2];
	char ch;

	if (pipe2(pfd, O_NONBLOCK))
		abort();
	CTL(e, EPOLL_CTL_ADD, pfd[0], EPOLLIN, 1);
	put(pfd[1], 2);
	WAIT(e, 4, 0);
	WAIT(e, 4, 0);
	CALL(read(pfd[0], &ch, 1));
	WAIT(e, 4, 0);
	CALL(read(pfd[0], &ch, 1));
	WAIT(e, 4, 0);
	close(pfd[0]);
	close(pfd[1]);
	close(e);
}

COMPAT_TEST(edge_triggered_once_per_edge)
{
	struct epoll_event evs[4];
	int e = a->create1(0), pfd[2];

	if (pipe2(pfd, O_NONBLOCK))
		abort();
	CTL(e, EPOLL_CTL_ADD, pfd[0], EPOLLIN | EPOLLET, 1);
	CTL(e, EPOLL_CTL_ADD, pfd[1], EPOLLOUT | EPOLLET, 2);
	WAIT(e, 4, 0);
	WAIT(e, 4, 0);
	put(pfd[1], 1);
	WAIT(e, 4, 0);
	WAIT(e, 4, 0);
	put(pfd[1], 1);
	WAIT(e, 4, 0);
	drain(pfd[0]);
	WAIT(e, 4, 0);
	/* MOD re-arms: a ready fd is reported again. */
	put(pfd[1], 1);
	WAIT(e, 4, 0);
	CTL(e, EPOLL_CTL_MOD, pfd[0], EPOLLIN | EPOLLET, 3);
	WAIT(e, 4, 0);
	close(pfd[0]);
	close(pfd[1]);
	close(e);
}

COMPAT_TEST(oneshot_disarms_until_mod)
{
	struct epoll_event evs[4];
	int e = a->create1(0), pfd[2];

	if (pipe2(pfd, O_NONBLOCK))
		abort();
	CTL(e, EPOLL_CTL_ADD, pfd[0], EPOLLIN | EPOLLONESHOT, 1);
	put(pfd[1], 1);
	WAIT(e, 4, 0);
	WAIT(e, 4, 0);
	put(pfd[1], 1);
	WAIT(e, 4, 0);
	CTL(e, EPOLL_CTL_ADD, pfd[0], EPOLLIN, 1);	/* still there */
	CTL(e, EPOLL_CTL_MOD, pfd[0], EPOLLIN | EPOLLONESHOT | EPOLLET, 2);
	WAIT(e, 4, 0);
	WAIT(e, 4, 0);
	CTL(e, EPOLL_CTL_MOD, pfd[0], EPOLLIN, 3);
	WAIT(e, 4, 0);
	WAIT(e, 4, 0);
	CTL(e, EPOLL_CTL_DEL, pfd[0], 0, 0);
	close(pfd[0]);
	close(pfd[1]);
	close(e);
}

COMPAT_TEST(more_ready_than_maxevents_round_robin)
{
	struct epoll_event evs[4];
	int e = a->create1(0), pfd[6][2], i;

	for (i = 0; i < 6; i++) {
		if (pipe2(pfd[i], O_NONBLOCK))
			abort();
		CTL(e, EPOLL_CTL_ADD, pfd[i][0], EPOLLIN, (uint64_t)i);
	}
	for (i = 0; i < 6; i++)
		put(pfd[i][1], 1);
	for (i = 0; i < 5; i++)
		WAIT(e, 4, 0);
	for (i = 0; i < 6; i++) {
		close(pfd[i][0]);
		close(pfd[i][1]);
	}
	close(e);
}

COMPAT_TEST(user_data_is_64_bits)
{
	struct epoll_event evs[4];
	int e = a->create1(0), sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		abort();
	CTL(e, EPOLL_CTL_ADD, sv[0], EPOLLOUT, 0xfedcba9876543210ULL);
	CALL(a->wait(e, evs, 4, 0));
	CALL(evs[0].data.u64 == 0xfedcba9876543210ULL);
	CALL(evs[0].events);
	close(sv[0]);
	close(sv[1]);
	close(e);
}

/*
 *   t0 --wait--> e0 --lt--> e1 --lt--> p0
 */
COMPAT_TEST(nested_instances_and_loops)
{
	struct epoll_event evs[4];
	int e0 = a->create1(0), e1 = a->create1(0), e2 = a->create1(0);
	int pfd[2];

	if (pipe2(pfd, O_NONBLOCK))
		abort();
	CTL(e1, EPOLL_CTL_ADD, pfd[0], EPOLLIN, 1);
	CTL(e0, EPOLL_CTL_ADD, e1, EPOLLIN, 2);
	WAIT(e0, 4, 0);
	put(pfd[1], 1);
	WAIT(e0, 4, 0);
	WAIT(e1, 4, 0);
	/* e1 -> e0 closes a cycle. */
	CTL(e1, EPOLL_CTL_ADD, e0, EPOLLIN, 3);
	CTL(e2, EPOLL_CTL_ADD, e0, EPOLLIN, 4);
	CTL(e1, EPOLL_CTL_ADD, e2, EPOLLIN, 5);
	close(pfd[0]);
	close(pfd[1]);
	close(e2);
	close(e1);
	close(e0);
}

/* Sanity: the scenarios test what they claim, on epoll itself. */
TEST(oracle_sanity)
{
	static struct trace tr;
	struct trace *t = &tr;

	memset(t, 0, sizeof(*t));
	sc_ctl_self_and_unpollable_files(&apis[0], t);
	EXPECT_EQ(4, t->n);
	EXPECT_TRUE(step_is(t, t->s[0].line, -1, EINVAL));
	EXPECT_TRUE(step_is(t, t->s[1].line, -1, EPERM));
	EXPECT_TRUE(step_is(t, t->s[3].line, -1, EPERM));
}

TEST_HARNESS_MAIN
