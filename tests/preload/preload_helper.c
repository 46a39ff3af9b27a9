// SPDX-License-Identifier: GPL-2.0
/*
 * preload_helper.c - a plain epoll program, run by preload_test under
 * LD_PRELOAD=libevpoll-preload.so.  It knows nothing about evpoll: it calls
 * epoll_create1/ctl/wait/pwait/pwait2 from the C library, as any program
 * does.  preload_test looks at it from outside (/proc/PID/fd, fdinfo) and
 * at its output and exit status.
 *
 *   preload_helper wait        instance watching stdin; prints
 *                              "ready EPFD" and waits for a byte
 *   preload_helper create      prints "ok LINK" (what the epoll fd is) or
 *                              "errno N" if epoll_create1 failed
 *   preload_helper fork        a child uses the inherited instance, creates
 *                              its own, and execs "inherited FD"
 *   preload_helper inherited FD   wait on an instance inherited across exec
 *   preload_helper threads     threads create/ctl/wait concurrently
 *   preload_helper reuse       fd numbers that change kind under the shim
 *   preload_helper reuse_raw   every entry point (libc and syscall()) on a
 *                              number whose routing hint went stale, both
 *                              directions
 *   preload_helper errors      every error path of every interposed call
 *                              on an evpoll instance gives the errno the
 *                              same call gives on a kernel epoll instance
 *   preload_helper sigsafe     no dlsym() after main() starts; syscall()
 *                              and epoll calls from a SIGSEGV handler
 *
 * Close-safety (a watched fd closed without EPOLL_CTL_DEL; each prints
 * "MODE ok" or what failed):
 *   preload_helper rebind      a closed listener's port binds again at once
 *   preload_helper fin         a closed TCP / unix socket's peer sees EOF
 *                              right after close() returns
 *   preload_helper pipe_eof    a pipe's reader sees EOF, its writer EPIPE,
 *                              right after the other end's close()
 *   preload_helper holders     dup()ed and forked holders keep the item;
 *                              it goes at the last holder's close
 *   preload_helper closes      close_range, closefrom, dup2, dup3,
 *                              syscall(SYS_close), fclose, two instances
 *   preload_helper threads_close  8 threads closing watched pipes of
 *                              shared instances at once
 *   preload_helper close_one   the shim's one-call close (FORGET with
 *                              EVPOLL_FORGET_CLOSE): errno kept on
 *                              success, EBADF of a closed number that
 *                              stays registered, an instance closed that
 *                              another one watches
 *
 * Exit status 0 when everything it checked held; it prints what failed.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/time_types.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "preload_helper:%d: %s failed: %s\n", \
			__LINE__, #cond, strerror(errno));		\
		exit(1);						\
	}								\
} while (0)

static void fd_link(int fd, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, buf, len - 1);
	buf[n < 0 ? 0 : n] = '\0';
}

static int is_evpoll(int fd)
{
	char link[256];

	fd_link(fd, link, sizeof(link));
	return !strcmp(link, "/dev/evpoll");
}

/* ADD the read end of a new pipe with @data, make it readable, wait. */
static void roundtrip(int epfd, unsigned long long data)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = data }, out[4];
	int p[2];

	CHECK(pipe(p) == 0);
	CHECK(epoll_ctl(epfd, EPOLL_CTL_ADD, p[0], &ev) == 0);
	CHECK(epoll_wait(epfd, out, 4, 0) == 0);
	CHECK(write(p[1], "x", 1) == 1);
	CHECK(epoll_wait(epfd, out, 4, 5000) == 1);
	CHECK(out[0].data.u64 == data && (out[0].events & EPOLLIN));
	ev.events = EPOLLIN | EPOLLONESHOT;
	CHECK(epoll_ctl(epfd, EPOLL_CTL_MOD, p[0], &ev) == 0);
	CHECK(epoll_ctl(epfd, EPOLL_CTL_DEL, p[0], NULL) == 0);
	CHECK(epoll_ctl(epfd, EPOLL_CTL_DEL, p[0], NULL) == -1 &&
	      errno == ENOENT);
	close(p[0]);
	close(p[1]);
}

static int64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int do_wait(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1234 };
	struct epoll_event out[4];
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	sigset_t mask;
	int64_t t0;
	char c;
	int epfd;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	CHECK(epfd >= 0);
	CHECK(epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev) == 0);
	printf("ready %d\n", epfd);
	fflush(stdout);
	CHECK(epoll_wait(epfd, out, 4, 30000) == 1);
	CHECK(out[0].data.u64 == 0x1234 && (out[0].events & EPOLLIN));
	CHECK(read(0, &c, 1) == 1);
	sigemptyset(&mask);
	CHECK(epoll_pwait(epfd, out, 4, 0, &mask) == 0);
	CHECK(epoll_pwait2(epfd, out, 4, &ts, &mask) == 0);
	t0 = mono_ns();
	CHECK(epoll_pwait2(epfd, out, 4, &ts, NULL) == 0);
	/* The 10 ms timeout reached the kernel as 10 ms (time32: converted). */
	CHECK(mono_ns() - t0 >= 10 * 1000 * 1000);
	printf("done\n");
	return 0;
}

static int do_create(void)
{
	char link[256];
	int epfd = epoll_create1(0);

	if (epfd < 0) {
		printf("errno %d\n", errno);
		/* epoll_create() takes the same path */
		CHECK(epoll_create(1) == -1);
		printf("errno %d\n", errno);
		return 0;
	}
	fd_link(epfd, link, sizeof(link));
	roundtrip(epfd, 77);
	CHECK(epoll_create(0) == -1 && errno == EINVAL);
	CHECK(epoll_create1(12345) == -1 && errno == EINVAL);
	printf("ok %s\n", link);
	return 0;
}

/*
 * Parent: instance e0 watching pipe a.  Child: waits on e0 (inherited),
 * creates e1 of its own, then execs "inherited e0" with a fresh shim (an
 * empty fd table in the library).
 *
 *     parent   child ---exec---> child'
 *        \      / \                 |
 *         e0 ---   e1               e0
 *          |        |                |
 *          a        b                a
 */
static int do_fork(const char *self)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 1 }, out[2];
	int e0, a[2], status;
	pid_t pid;

	e0 = epoll_create1(0);
	CHECK(e0 >= 0);
	CHECK(is_evpoll(e0));
	CHECK(pipe(a) == 0);
	CHECK(epoll_ctl(e0, EPOLL_CTL_ADD, a[0], &ev) == 0);
	CHECK(write(a[1], "x", 1) == 1);

	pid = fork();
	CHECK(pid >= 0);
	if (!pid) {
		char arg[16];
		int e1;

		/* inherited instance: same events as in the parent */
		CHECK(is_evpoll(e0));
		CHECK(epoll_wait(e0, out, 2, 5000) == 1);
		CHECK(out[0].data.u64 == 1);
		/* an instance of its own */
		e1 = epoll_create1(EPOLL_CLOEXEC);
		CHECK(e1 >= 0 && is_evpoll(e1));
		roundtrip(e1, 2);
		close(e1);
		/* exec: e0 stays open, the library starts with no hints */
		snprintf(arg, sizeof(arg), "%d", e0);
		execl(self, self, "inherited", arg, (char *)NULL);
		_exit(3);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the parent's instance still works */
	CHECK(epoll_wait(e0, out, 2, 0) == 1);
	CHECK(read(a[0], out, 1) == 1);
	CHECK(epoll_wait(e0, out, 2, 0) == 0);
	roundtrip(e0, 3);
	printf("fork ok\n");
	return 0;
}

static int do_inherited(int e0)
{
	struct epoll_event out[2];

	CHECK(is_evpoll(e0));
	CHECK(epoll_wait(e0, out, 2, 5000) == 1);
	CHECK(out[0].data.u64 == 1);
	/* a second instance after exec, next to the inherited one */
	{
		int e2 = epoll_create1(0);

		CHECK(e2 >= 0 && is_evpoll(e2));
		roundtrip(e2, 4);
		close(e2);
	}
	return 0;
}

#define NTHREADS	8
#define ROUNDS		100

static int shared_ep;
static int shared_pipe[4][2];

static void *thread_main(void *arg)
{
	long id = (long)arg;
	struct epoll_event out[4];
	int r;

	for (r = 0; r < ROUNDS; r++) {
		int e = epoll_create1(EPOLL_CLOEXEC);

		CHECK(e >= 0);
		roundtrip(e, (unsigned long long)id << 32 | r);
		close(e);
	}
	if (id < 4) {
		/* one ONESHOT event of the shared instance per waiter */
		CHECK(epoll_wait(shared_ep, out, 1, 10000) == 1);
		return (void *)(long)out[0].data.u64;
	}
	return (void *)-1L;
}

/*
 * t0..t7 each: 100 x (create, ADD/wait/MOD/DEL, close) on private
 * instances; t0..t3 then wait on one shared instance:
 *
 *      t0  t1  t2  t3
 *        \  \  /  /
 *            e0            (ONESHOT items: one event per waiter)
 *        /  /  \  \
 *      p0  p1  p2  p3
 */
static int do_threads(void)
{
	pthread_t th[NTHREADS];
	unsigned int seen = 0;
	long i;

	shared_ep = epoll_create1(0);
	CHECK(shared_ep >= 0 && is_evpoll(shared_ep));
	for (i = 0; i < 4; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT,
					  .data.u64 = i };

		CHECK(pipe(shared_pipe[i]) == 0);
		CHECK(epoll_ctl(shared_ep, EPOLL_CTL_ADD, shared_pipe[i][0],
				&ev) == 0);
	}
	for (i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&th[i], NULL, thread_main,
				     (void *)i) == 0);
	for (i = 0; i < 4; i++)
		CHECK(write(shared_pipe[i][1], "x", 1) == 1);
	for (i = 0; i < NTHREADS; i++) {
		void *ret;

		CHECK(pthread_join(th[i], &ret) == 0);
		if (i < 4) {
			CHECK((long)ret >= 0 && (long)ret < 4);
			seen |= 1U << (long)ret;
		}
	}
	CHECK(seen == 0xf);
	printf("threads ok\n");
	return 0;
}

/*
 * The same above the shim's per-number table (65536 entries), where two
 * numbers 1024 apart share one slot of its direct-mapped one: each keeps
 * routing right, and so does a number that changed kind.  Skipped (0)
 * when RLIMIT_NOFILE cannot be raised that far.
 */
static int reuse_big(void)
{
	struct rlimit rl = { 70000 + 2048, 70000 + 2048 };
	int a = 70000, b = 70000 + 1024, ev, ep;

	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_max < 70000 + 2048)
			return 0;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			return 0;
	}
	ev = epoll_create1(0);
	ep = (int)syscall(SYS_epoll_create1, 0);
	CHECK(ev >= 0 && ep >= 0);
	CHECK(dup2(ev, a) == a && dup2(ep, b) == b);
	roundtrip(a, 20);		/* evpoll, hint in slot 70000 % 1024 */
	roundtrip(b, 21);		/* kernel epoll, same slot */
	roundtrip(a, 22);
	CHECK(dup2(ep, a) == a);	/* a becomes a kernel epoll instance */
	CHECK(!is_evpoll(a));
	roundtrip(a, 23);
	CHECK(dup2(ev, b) == b);	/* b becomes an evpoll instance */
	CHECK(is_evpoll(b));
	roundtrip(b, 24);
	close(a);
	close(b);
	close(ev);
	close(ep);
	return 0;
}

/*
 * The shim caches "is fd N an evpoll instance" per fd number.  Change what
 * N is behind its back (dup2(), an epoll fd made with syscall(), which the
 * shim never sees) and check every call still lands on the right side.
 */
static int do_reuse(void)
{
	int ev, ep;

	/* syscall(): not intercepted, a kernel epoll instance */
	ep = (int)syscall(SYS_epoll_create1, 0);
	CHECK(ep >= 0 && !is_evpoll(ep));
	roundtrip(ep, 10);		/* hint for ep: "not evpoll" */
	ev = epoll_create1(0);
	CHECK(ev >= 0 && is_evpoll(ev));
	roundtrip(ev, 11);		/* hint for ev: "evpoll" */

	/* ep's number becomes an evpoll instance */
	CHECK(dup2(ev, ep) == ep);
	CHECK(is_evpoll(ep));
	roundtrip(ep, 12);

	/* ev's number becomes a kernel epoll instance */
	close(ev);
	CHECK((int)syscall(SYS_epoll_create1, 0) == ev);
	CHECK(!is_evpoll(ev));
	roundtrip(ev, 13);

	/* a closed number: EBADF as from epoll */
	close(ev);
	{
		struct epoll_event e[1];

		CHECK(epoll_wait(ev, e, 1, 0) == -1 && errno == EBADF);
		/* not an epoll fd at all: EINVAL as from epoll */
		CHECK(epoll_wait(1, e, 1, 0) == -1 && errno == EINVAL);
	}
	close(ep);
	CHECK(reuse_big() == 0);
	printf("reuse ok\n");
	return 0;
}

/* ------------------------------------------------------------------ */
/* reuse_raw: stale routing hints on every entry point. */

enum entry {
	E_CTL, E_WAIT, E_PWAIT, E_PWAIT2,		/* the C library's */
	E_SYS_CTL, E_SYS_WAIT, E_SYS_PWAIT, E_SYS_PWAIT2, /* syscall() */
	E_COUNT
};

static const char *const entry_name[E_COUNT] = {
	"epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
	"syscall(SYS_epoll_ctl)", "syscall(SYS_epoll_wait)",
	"syscall(SYS_epoll_pwait)", "syscall(SYS_epoll_pwait2)",
};

/* epoll_ctl() through the C library or syscall(). */
static int ctl_via(bool sys, int epfd, int op, int fd, struct epoll_event *e)
{
	if (sys)
		return (int)syscall(SYS_epoll_ctl, epfd, op, fd, e);
	return epoll_ctl(epfd, op, fd, e);
}

/* A wait through entry @which (not a ctl entry); -1 and errno on error. */
static int wait_via(enum entry which, int epfd, struct epoll_event *evs,
		    int maxevents, int timeout_ms)
{
	struct timespec ts = { timeout_ms / 1000,
			       (timeout_ms % 1000) * 1000000L };

	switch (which) {
	case E_WAIT:
		return epoll_wait(epfd, evs, maxevents, timeout_ms);
	case E_PWAIT:
		return epoll_pwait(epfd, evs, maxevents, timeout_ms, NULL);
	case E_PWAIT2:
		return epoll_pwait2(epfd, evs, maxevents, &ts, NULL);
#ifdef SYS_epoll_wait
	case E_SYS_WAIT:
		return (int)syscall(SYS_epoll_wait, epfd, evs, maxevents,
				    timeout_ms);
#endif
	case E_SYS_PWAIT:
		return (int)syscall(SYS_epoll_pwait, epfd, evs, maxevents,
				    timeout_ms, NULL, 8);
	case E_SYS_PWAIT2:
		return (int)syscall(SYS_epoll_pwait2, epfd, evs, maxevents,
				    &ts, NULL, 8);
	default:
		errno = ENOSYS;
		return -1;
	}
}

/*
 * Use @epfd through entry @which, which makes the first call on it (the
 * one that meets a stale hint): ctl entries ADD, MOD and DEL a pipe; wait
 * entries wait without blocking (no error: the instance may hold items of
 * closed pipes, never reported), then for a readable pipe added with the
 * C library's epoll_ctl.  0 or the line number that failed.
 */
static int use_via(enum entry which, int epfd, unsigned long long data)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = data }, out[2];
	bool sys = which >= E_SYS_CTL;
	int p[2], line = 0;

	if (pipe(p))
		return __LINE__;
	if (write(p[1], "x", 1) != 1)
		line = __LINE__;
	else if (which == E_CTL || which == E_SYS_CTL) {
		if (ctl_via(sys, epfd, EPOLL_CTL_ADD, p[0], &ev))
			line = __LINE__;
		else if (ctl_via(sys, epfd, EPOLL_CTL_MOD, p[0], &ev))
			line = __LINE__;
		else if (epoll_wait(epfd, out, 2, 0) != 1 ||
			 out[0].data.u64 != data)
			line = __LINE__;
		else if (ctl_via(sys, epfd, EPOLL_CTL_DEL, p[0], NULL))
			line = __LINE__;
	} else {
		if (wait_via(which, epfd, out, 2, 0) < 0)
			line = __LINE__;
		else if (epoll_ctl(epfd, EPOLL_CTL_ADD, p[0], &ev))
			line = __LINE__;
		else if (wait_via(which, epfd, out, 2, 1000) != 1 ||
			 out[0].data.u64 != data)
			line = __LINE__;
	}
	if (line)
		fprintf(stderr, "preload_helper: %s on fd %d (%s): line %d: %s\n",
			entry_name[which], epfd,
			is_evpoll(epfd) ? "/dev/evpoll" : "not evpoll", line,
			strerror(errno));
	close(p[0]);
	close(p[1]);
	return line;
}

/*
 * For each entry point, both directions, with numbers reused behind the
 * shim's back:
 *
 *   evpoll -> kernel epoll: an instance from epoll_create1() (hint
 *     "evpoll"), used through the entry, closed; its number taken by
 *     syscall(SYS_epoll_create1), then by dup2() of a kernel epoll fd;
 *   kernel epoll -> evpoll: a kernel epoll (hint "not evpoll") used
 *     through the entry, closed; its number taken by open("/dev/evpoll"),
 *     then by dup2() of an evpoll instance.
 */
static int do_reuse_raw(void)
{
	int failed = 0, which;

	for (which = 0; which < E_COUNT; which++) {
		int n, k, other;

#ifndef SYS_epoll_wait
		if (which == E_SYS_WAIT)
			continue;
#endif
		/* evpoll -> kernel epoll (syscall), then (dup2) */
		n = epoll_create1(0);
		CHECK(n >= 0 && is_evpoll(n));
		failed |= use_via(which, n, 1);
		CHECK(close(n) == 0);
		k = (int)syscall(SYS_epoll_create1, 0);
		CHECK(k == n && !is_evpoll(k));
		failed |= use_via(which, k, 2);
		other = epoll_create1(0);
		CHECK(other >= 0 && is_evpoll(other));
		failed |= use_via(which, other, 3);	/* hint: evpoll */
		CHECK(dup2(k, other) == other && !is_evpoll(other));
		failed |= use_via(which, other, 4);
		close(other);
		close(k);

		/* kernel epoll -> evpoll (open), then (dup2) */
		k = (int)syscall(SYS_epoll_create1, 0);
		CHECK(k >= 0 && !is_evpoll(k));
		failed |= use_via(which, k, 5);
		CHECK(close(k) == 0);
		n = open("/dev/evpoll", O_RDWR);
		CHECK(n == k && is_evpoll(n));
		failed |= use_via(which, n, 6);
		other = (int)syscall(SYS_epoll_create1, 0);
		CHECK(other >= 0);
		failed |= use_via(which, other, 7);	/* hint: not evpoll */
		CHECK(dup2(n, other) == other && is_evpoll(other));
		failed |= use_via(which, other, 8);
		close(other);
		close(n);
	}
	if (failed)
		return 1;
	printf("reuse_raw ok\n");
	return 0;
}

/* ------------------------------------------------------------------ */
/* errors: epoll's errno on every error path, evpoll == kernel epoll. */

/* An address above the user address range on every Linux target. */
#define BAD_HIGH	((void *)(uintptr_t)-4096)

static int n_errors_failed;

/* Compare one call's result on the evpoll instance with the kernel's. */
static void same(const char *what, int ret_ev, int err_ev, int ret_ep,
		 int err_ep)
{
	if (ret_ev == ret_ep && (ret_ev >= 0 || err_ev == err_ep))
		return;
	fprintf(stderr, "preload_helper: %s: evpoll %d (%s), epoll %d (%s)\n",
		what, ret_ev, ret_ev < 0 ? strerror(err_ev) : "-", ret_ep,
		ret_ep < 0 ? strerror(err_ep) : "-");
	n_errors_failed++;
}

/* Run @call on @ev and on @ep; compare. */
#define SAME(what, call) do {							int epfd_, r_ev_, e_ev_;															epfd_ = ev;								errno = 0;								r_ev_ = (call);								e_ev_ = errno;								epfd_ = ep;								errno = 0;								{										int r_ep_ = (call), e_ep_ = errno;														same(what, r_ev_, e_ev_, r_ep_, e_ep_);				}								} while (0)

/*
 * A program with a 32-bit time_t: its C library widens epoll_pwait2()'s
 * timespec in user space (and the shim does the same), so a bad pointer
 * faults in the caller on both sides rather than failing with EFAULT;
 * and the system call takes a 64-bit timespec, which such a program
 * must build itself.
 */
#if __TIMESIZE == 32 && !defined(__USE_TIME_BITS64)
#define TIME32_PROGRAM	1
#else
#define TIME32_PROGRAM	0
#endif

/* @ts as the epoll_pwait2 system call reads it (BAD_HIGH passes on). */
static const void *kernel_ts(const struct timespec *ts,
			     struct __kernel_timespec *kts)
{
	if (!TIME32_PROGRAM || !ts || ts == BAD_HIGH)
		return ts;
	kts->tv_sec = ts->tv_sec;
	kts->tv_nsec = ts->tv_nsec;
	return kts;
}

/* A wait on epfd_ through @which with @maxevents, @evs, @ts, @mask, @size. */
static int wait_args(enum entry which, int epfd, struct epoll_event *evs,
		     int maxevents, const struct timespec *ts,
		     const sigset_t *mask, long setsize)
{
	struct __kernel_timespec kts;

	switch (which) {
	case E_WAIT:
		return epoll_wait(epfd, evs, maxevents, 0);
	case E_PWAIT:
		return epoll_pwait(epfd, evs, maxevents, 0, mask);
	case E_PWAIT2:
		return epoll_pwait2(epfd, evs, maxevents, ts, mask);
#ifdef SYS_epoll_wait
	case E_SYS_WAIT:
		return (int)syscall(SYS_epoll_wait, epfd, evs, maxevents, 0);
#endif
	case E_SYS_PWAIT:
		return (int)syscall(SYS_epoll_pwait, epfd, evs, maxevents, 0,
				    mask, setsize);
	case E_SYS_PWAIT2:
		return (int)syscall(SYS_epoll_pwait2, epfd, evs, maxevents,
				    kernel_ts(ts, &kts), mask, setsize);
	default:
		errno = ENOSYS;
		return -1;
	}
}

static void wait_errors(int ev, int ep, enum entry which)
{
	struct epoll_event out[4];
	struct timespec zero = { 0, 0 }, neg = { 0, -1 }, big = { 0, 1000000000 };
	struct timespec negsec = { -1, 0 };
	bool has_ts = which == E_PWAIT2 || which == E_SYS_PWAIT2;
	bool bad_ts = has_ts && !(TIME32_PROGRAM && which == E_PWAIT2);
	bool has_mask = which != E_WAIT && which != E_SYS_WAIT;
	bool sys = which >= E_SYS_CTL;
	const struct timespec *ts = &zero;
	sigset_t mask;
	char what[128];
	static const struct {
		const char *name;
		int maxevents;
		bool bad_buf;
	} cases[] = {
		{ "maxevents 0", 0, false },
		{ "maxevents -1", -1, false },
		{ "maxevents INT_MAX", INT_MAX, false },
		{ "maxevents INT_MIN", INT_MIN, false },
		{ "events above the user range", 1, true },
		{ "maxevents 0, events above the user range", 0, true },
		{ "maxevents -1, events above the user range", -1, true },
		{ "maxevents large, events above the user range", 1 << 20,
		  true },
	};
	unsigned int i;

	sigemptyset(&mask);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct epoll_event *buf = cases[i].bad_buf ? BAD_HIGH : out;

		snprintf(what, sizeof(what), "%s: %s", entry_name[which],
			 cases[i].name);
		SAME(what, wait_args(which, epfd_, buf, cases[i].maxevents,
				     ts, NULL, 8));
		if (has_mask) {
			snprintf(what, sizeof(what), "%s: %s, sigmask",
				 entry_name[which], cases[i].name);
			SAME(what, wait_args(which, epfd_, buf,
					     cases[i].maxevents, ts, &mask, 8));
			snprintf(what, sizeof(what), "%s: %s, bad sigmask",
				 entry_name[which], cases[i].name);
			SAME(what, wait_args(which, epfd_, buf,
					     cases[i].maxevents, ts,
					     BAD_HIGH, 8));
		}
		if (has_mask && sys) {
			snprintf(what, sizeof(what), "%s: %s, sigsetsize 7",
				 entry_name[which], cases[i].name);
			SAME(what, wait_args(which, epfd_, buf,
					     cases[i].maxevents, ts, &mask, 7));
		}
		if (bad_ts) {
			snprintf(what, sizeof(what), "%s: %s, bad timespec",
				 entry_name[which], cases[i].name);
			SAME(what, wait_args(which, epfd_, buf,
					     cases[i].maxevents, BAD_HIGH,
					     NULL, 8));
		}
		if (has_ts) {
			snprintf(what, sizeof(what), "%s: %s, tv_nsec -1",
				 entry_name[which], cases[i].name);
			SAME(what, wait_args(which, epfd_, buf,
					     cases[i].maxevents, &neg,
					     NULL, 8));
			snprintf(what, sizeof(what), "%s: %s, tv_nsec 1e9",
				 entry_name[which], cases[i].name);
			SAME(what, wait_args(which, epfd_, buf,
					     cases[i].maxevents, &big,
					     NULL, 8));
		}
	}
	/* good arguments but a bad timespec or mask alone */
	if (bad_ts) {
		snprintf(what, sizeof(what), "%s: bad timespec",
			 entry_name[which]);
		SAME(what, wait_args(which, epfd_, out, 4, BAD_HIGH, NULL, 8));
	}
	if (has_ts) {
		snprintf(what, sizeof(what), "%s: tv_nsec -1",
			 entry_name[which]);
		SAME(what, wait_args(which, epfd_, out, 4, &neg, NULL, 8));
		/* A 32-bit tv_sec the shim widened without its sign would wait. */
		snprintf(what, sizeof(what), "%s: tv_sec -1",
			 entry_name[which]);
		SAME(what, wait_args(which, epfd_, out, 4, &negsec, NULL, 8));
	}
	if (has_mask) {
		snprintf(what, sizeof(what), "%s: bad sigmask",
			 entry_name[which]);
		SAME(what, wait_args(which, epfd_, out, 4, ts, BAD_HIGH, 8));
	}
	if (has_mask && sys) {
		snprintf(what, sizeof(what), "%s: sigsetsize 7",
			 entry_name[which]);
		SAME(what, wait_args(which, epfd_, out, 4, ts, &mask, 7));
	}
	/* not an instance, closed fd: the same fd on both sides */
	errno = 0;
	if (wait_args(which, 1, out, 4, ts, NULL, 8) != -1 || errno != EINVAL) {
		fprintf(stderr, "preload_helper: %s on stdout: %s\n",
			entry_name[which], strerror(errno));
		n_errors_failed++;
	}
	errno = 0;
	if (wait_args(which, -1, out, 4, ts, NULL, 8) != -1 || errno != EBADF) {
		fprintf(stderr, "preload_helper: %s on fd -1: %s\n",
			entry_name[which], strerror(errno));
		n_errors_failed++;
	}
}

static void ctl_errors(int ev, int ep, bool sys)
{
	struct epoll_event e = { .events = EPOLLIN };
	const char *name = entry_name[sys ? E_SYS_CTL : E_CTL];
	char what[128];
	int p[2], reg, op;

	CHECK(pipe(p) == 0);
	reg = open("/proc/self/exe", O_RDONLY);
	CHECK(reg >= 0);
#define CTL_SAME(desc, op_, fd_, ev_) do {					snprintf(what, sizeof(what), "%s: %s", name, desc);			SAME(what, ctl_via(sys, epfd_, op_, fd_, ev_));			} while (0)
	for (op = EPOLL_CTL_ADD; op <= EPOLL_CTL_MOD; op++) {
		char d[64];

		snprintf(d, sizeof(d), "op %d, fd -1", op);
		CTL_SAME(d, op, -1, &e);
		snprintf(d, sizeof(d), "op %d, NULL event", op);
		CTL_SAME(d, op, p[0], NULL);
		snprintf(d, sizeof(d), "op %d, NULL event, fd -1", op);
		CTL_SAME(d, op, -1, NULL);
		/*
		 * Only a 64-bit task has addresses above its user range: a
		 * 64-bit kernel's access_ok() accepts every address of a
		 * 32-bit one, the wrapper reads the event itself, and an
		 * unmapped one is SIGSEGV (evpoll_ctl(3), NOTES).
		 */
		if (UINTPTR_MAX > 0xffffffffUL) {
			snprintf(d, sizeof(d),
				 "op %d, event above the user range", op);
			CTL_SAME(d, op, p[0], BAD_HIGH);
			snprintf(d, sizeof(d),
				 "op %d, event above the range, fd -1", op);
			CTL_SAME(d, op, -1, BAD_HIGH);
		}
		snprintf(d, sizeof(d), "op %d, regular file", op);
		CTL_SAME(d, op, reg, &e);
		snprintf(d, sizeof(d), "op %d, itself", op);
		CTL_SAME(d, op, epfd_, &e);
		snprintf(d, sizeof(d), "op %d, not added", op);
		CTL_SAME(d, op, p[0], &e);
	}
	CTL_SAME("op 0", 0, p[0], &e);
	CTL_SAME("op 99", 99, p[0], &e);
	CTL_SAME("op 99, fd -1", 99, -1, &e);
	CTL_SAME("op 99, NULL event", 99, p[0], NULL);
	e.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT;
	CTL_SAME("EPOLLEXCLUSIVE|EPOLLONESHOT", EPOLL_CTL_ADD, p[0], &e);
	e.events = EPOLLIN;
	CTL_SAME("ADD", EPOLL_CTL_ADD, p[0], &e);
	CTL_SAME("ADD again", EPOLL_CTL_ADD, p[0], &e);
	e.events = EPOLLIN | EPOLLEXCLUSIVE;
	CTL_SAME("MOD to EPOLLEXCLUSIVE", EPOLL_CTL_MOD, p[0], &e);
	CTL_SAME("DEL", EPOLL_CTL_DEL, p[0], NULL);
	CTL_SAME("DEL again", EPOLL_CTL_DEL, p[0], NULL);
#undef CTL_SAME
	errno = 0;
	if (ctl_via(sys, 1, EPOLL_CTL_ADD, p[0], &e) != -1 || errno != EINVAL) {
		fprintf(stderr, "preload_helper: %s on stdout: %s\n", name,
			strerror(errno));
		n_errors_failed++;
	}
	errno = 0;
	if (ctl_via(sys, -1, EPOLL_CTL_ADD, p[0], &e) != -1 || errno != EBADF) {
		fprintf(stderr, "preload_helper: %s on fd -1: %s\n", name,
			strerror(errno));
		n_errors_failed++;
	}
	close(reg);
	close(p[0]);
	close(p[1]);
}

static int do_errors(void)
{
	int ev, ep, which;

	ev = epoll_create1(0);
	CHECK(ev >= 0 && is_evpoll(ev));
	ep = (int)syscall(SYS_epoll_create1, 0);
	CHECK(ep >= 0 && !is_evpoll(ep));
	for (which = 0; which < E_COUNT; which++) {
#ifndef SYS_epoll_wait
		if (which == E_SYS_WAIT)
			continue;
#endif
		if (which == E_CTL || which == E_SYS_CTL)
			ctl_errors(ev, ep, which == E_SYS_CTL);
		else
			wait_errors(ev, ep, which);
	}
	/* creation */
	errno = 0;
	CHECK(epoll_create(0) == -1 && errno == EINVAL);
	CHECK(epoll_create(-1) == -1 && errno == EINVAL);
	CHECK(epoll_create1(-1) == -1 && errno == EINVAL);
	CHECK(epoll_create1(EPOLL_CLOEXEC << 1) == -1 && errno == EINVAL);
	if (n_errors_failed) {
		printf("errors: %d differ\n", n_errors_failed);
		return 1;
	}
	printf("errors ok\n");
	return 0;
}

/* ------------------------------------------------------------------ */
/* sigsafe: nothing lazy in the shim. */

/*
 * This program's dlsym() (exported with --export-dynamic-symbol, so it
 * interposes the C library's for the shim too) counts the calls made
 * once main() has started: the shim must resolve everything it needs in
 * its constructor, before main(), because its functions may be called
 * from signal handlers, where dlsym() is not allowed.
 */
static volatile sig_atomic_t in_main;
static volatile sig_atomic_t dlsym_after_init;

void *dlsym(void *restrict handle, const char *restrict name)
{
	typedef void *(*dlsym_fn)(void *, const char *);
	static dlsym_fn next;

	if (in_main)
		dlsym_after_init++;
	if (!next) {
		next = (dlsym_fn)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
		if (!next)
			next = (dlsym_fn)dlvsym(RTLD_NEXT, "dlsym",
						"GLIBC_2.2.5");
		if (!next)
			abort();
	}
	return next(handle, name);
}

static int sig_ep;

static void put(const char *s)
{
	if (write(STDOUT_FILENO, s, strlen(s)) < 0)
		_exit(5);
}

/* From a real SIGSEGV: syscall() and epoll calls, then report and exit. */
static void on_segv(int sig)
{
	struct epoll_event out[1];

	if (syscall(SYS_getpid) != getpid()) {
		put("sigsafe: syscall(SYS_getpid) in the handler failed\n");
		_exit(1);
	}
	if (epoll_wait(sig_ep, out, 1, 0) != 0 ||
	    syscall(SYS_epoll_pwait, sig_ep, out, 1, 0, NULL, 8) != 0) {
		put("sigsafe: epoll_wait in the handler failed\n");
		_exit(1);
	}
	if (dlsym_after_init) {
		put("sigsafe: dlsym() called after main() started\n");
		_exit(1);
	}
	put("sigsafe ok\n");
	_exit(0);
}

static int do_sigsafe(void)
{
	struct sigaction sa = { .sa_handler = on_segv };
	volatile int *volatile null = NULL;

	in_main = 1;
	sig_ep = (int)syscall(SYS_epoll_create1, 0);
	CHECK(sig_ep >= 0);
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
	*null = 1;		/* the handler exits */
	return 4;
}

/* ------------------------------------------------------------------ */
/* Close-safety: watched fds closed without EPOLL_CTL_DEL. */

/*
 * How long a peer may take to see the close: the close itself releases
 * the file (loopback delivers the FIN within it); the module's reaper
 * would take up to 250 ms.
 */
#define EOF_MS	50

/* Does instance @epfd hold an item for fd number @fd (its fdinfo)? */
static bool has_item(int epfd, int fd)
{
	char path[64], line[256];
	bool found = false;
	FILE *f;
	int tfd;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", epfd);
	f = fopen(path, "r");
	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "tfd: %d", &tfd) == 1 && tfd == fd)
			found = true;
	fclose(f);
	return found;
}

/*
 * The reader @r sees EOF (a pipe's or a socket's) within EOF_MS, after
 * what was written before.
 */
static bool eof_soon(int r)
{
	struct pollfd p = { .fd = r, .events = POLLIN | POLLRDHUP };
	char buf[64];
	int i;

	if (poll(&p, 1, EOF_MS) != 1)
		return false;
	CHECK(fcntl(r, F_SETFL, O_NONBLOCK) == 0);
	for (i = 0; i < 16; i++) {
		ssize_t n = read(r, buf, sizeof(buf));

		if (n <= 0)
			return n == 0;
	}
	return false;
}

/* A pipe whose write end @ep watches (EPOLLOUT). */
static void watched_pipe(int ep, int p[2])
{
	struct epoll_event ev = { .events = EPOLLOUT };

	CHECK(pipe(p) == 0);
	ev.data.fd = p[1];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev) == 0);
}

#define FAIL(fmt, ...) do {						\
	printf(fmt "\n", ##__VA_ARGS__);				\
	return 1;							\
} while (0)

/*
 * After the close of the watched write end @p[1]: the instance holds no
 * item for it and the reader @p[0] sees EOF (then is closed).
 */
#define EXPECT_EOF(ep, p, what) do {					\
	if (!eof_soon((p)[0]))						\
		FAIL("%s: no EOF within %d ms", what, EOF_MS);		\
	if (has_item(ep, (p)[1]))					\
		FAIL("%s: item of fd %d still in the instance", what,	\
		     (p)[1]);						\
	close((p)[0]);							\
} while (0)

static int tcp_listener(struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int l, one = 1;

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(l >= 0);
	CHECK(setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0);
	CHECK(bind(l, (struct sockaddr *)a, len) == 0);
	CHECK(listen(l, 8) == 0);
	CHECK(getsockname(l, (struct sockaddr *)a, &len) == 0);
	return l;
}

/*
 * A server closes its watched listening socket without DEL and at once
 * binds the same port again (SO_REUSEADDR, as servers do: it does not
 * help while the old socket still listens).
 */
static int do_rebind(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_in a;
	int ep, l, l2, one = 1;

	ep = epoll_create1(0);
	CHECK(ep >= 0 && is_evpoll(ep));
	l = tcp_listener(&a);
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev) == 0);
	CHECK(close(l) == 0);
	l2 = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(l2 >= 0);
	CHECK(setsockopt(l2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0);
	if (bind(l2, (struct sockaddr *)&a, sizeof(a)))
		FAIL("rebind: bind of port %d: %s", ntohs(a.sin_port),
		     strerror(errno));
	CHECK(listen(l2, 8) == 0);
	close(l2);
	close(ep);
	printf("rebind ok\n");
	return 0;
}

/*
 * A watched connected socket closed without DEL: its peer sees EOF right
 * after close() returns (TCP on loopback, and a unix socketpair).
 */
static int do_fin(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_in a;
	int ep, l, c, s, sp[2];

	ep = epoll_create1(0);
	CHECK(ep >= 0 && is_evpoll(ep));
	l = tcp_listener(&a);
	c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(c >= 0);
	CHECK(connect(c, (struct sockaddr *)&a, sizeof(a)) == 0);
	s = accept(l, NULL, NULL);
	CHECK(s >= 0);
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) == 0);
	CHECK(close(s) == 0);
	if (!eof_soon(c))
		FAIL("fin: tcp: the peer saw no EOF within %d ms", EOF_MS);
	if (has_item(ep, s))
		FAIL("fin: tcp: item of fd %d still in the instance", s);
	close(c);
	close(l);

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, sp[1], &ev) == 0);
	CHECK(close(sp[1]) == 0);
	if (!eof_soon(sp[0]))
		FAIL("fin: unix: the peer saw no EOF within %d ms", EOF_MS);
	close(sp[0]);
	close(ep);
	printf("fin ok\n");
	return 0;
}

/*
 * Pipes: the reader sees EOF at once when the watched write end is
 * closed; the writer gets EPIPE at once when the watched read end is.
 */
static int do_pipe_eof(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep, p[2];

	ep = epoll_create1(0);
	CHECK(ep >= 0 && is_evpoll(ep));
	watched_pipe(ep, p);
	CHECK(close(p[1]) == 0);
	EXPECT_EOF(ep, p, "pipe_eof: writer closed");

	CHECK(pipe(p) == 0);
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
	CHECK(close(p[0]) == 0);
	signal(SIGPIPE, SIG_IGN);
	if (write(p[1], "x", 1) != -1 || errno != EPIPE)
		FAIL("pipe_eof: reader closed: write did not fail with EPIPE");
	close(p[1]);
	close(ep);
	printf("pipe_eof ok\n");
	return 0;
}

/*
 * Epoll's rule: a dup()ed or inherited file keeps its item; the item goes
 * when the last holder closes.
 *
 *   dup:  d = dup(w) (also dup2, dup3, F_DUPFD_CLOEXEC, syscall(SYS_dup),
 *         and on i386 syscall(SYS_fcntl64, F_DUPFD_CLOEXEC), the number
 *         the C library's own fcntl uses there);
 *         close(w): kept; close(d), the last: gone, EOF at once;
 *         the other order: close(d): kept, close(w): gone, EOF at once
 *   fork: the child closes w: kept (the parent holds it), the parent
 *         then closes w: gone, EOF at once
 */
static int dup_by(int how, int fd)
{
	switch (how) {
	case 0:
		return dup(fd);
	case 1:
		return dup2(fd, 900);
	case 2:
		return dup3(fd, 901, O_CLOEXEC);
	case 3:
		return fcntl(fd, F_DUPFD_CLOEXEC, 0);
	case 4:
		return (int)syscall(SYS_dup, fd);
	default:
#ifdef SYS_fcntl64
		return (int)syscall(SYS_fcntl64, fd, F_DUPFD_CLOEXEC, 0);
#else
		errno = ENOSYS;
		return -1;
#endif
	}
}

#ifdef SYS_fcntl64
#define DUP_HOWS	6
#else
#define DUP_HOWS	5
#endif

static int do_holders(void)
{
	static const char *const how_name[] = {
		"dup", "dup2", "dup3", "F_DUPFD_CLOEXEC", "syscall(SYS_dup)",
		"syscall(SYS_fcntl64, F_DUPFD_CLOEXEC)",
	};
	int ep, p[2], d, status, how;
	char what[96];
	pid_t pid;

	ep = epoll_create1(0);
	CHECK(ep >= 0 && is_evpoll(ep));
	for (how = 0; how < DUP_HOWS; how++) {
		watched_pipe(ep, p);
		d = dup_by(how, p[1]);
		CHECK(d >= 0);
		CHECK(close(p[1]) == 0);
		if (!has_item(ep, p[1]))
			FAIL("holders: %s: item dropped while the copy holds "
			     "the file", how_name[how]);
		if (write(d, "x", 1) != 1)
			FAIL("holders: %s: the copy does not work",
			     how_name[how]);
		CHECK(close(d) == 0);
		snprintf(what, sizeof(what), "holders: %s: the copy's close",
			 how_name[how]);
		EXPECT_EOF(ep, p, what);
	}

	watched_pipe(ep, p);
	d = dup(p[1]);
	CHECK(d >= 0);
	CHECK(close(d) == 0);
	if (!has_item(ep, p[1]))
		FAIL("holders: dup closed first: item dropped");
	if (write(p[1], "x", 1) != 1)
		FAIL("holders: dup closed first: the fd does not work");
	CHECK(close(p[1]) == 0);
	EXPECT_EOF(ep, p, "holders: last holder (registered fd) closed");

	watched_pipe(ep, p);
	pid = fork();
	CHECK(pid >= 0);
	if (!pid) {
		close(p[0]);
		CHECK(close(p[1]) == 0);
		_exit(has_item(ep, p[1]) ? 0 : 3);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		FAIL("holders: fork: the child's close dropped the item "
		     "(status %#x)", status);
	if (!has_item(ep, p[1]))
		FAIL("holders: fork: item gone while the parent holds it");
	CHECK(close(p[1]) == 0);
	EXPECT_EOF(ep, p, "holders: fork: the parent's (last) close");
	close(ep);
	printf("holders ok\n");
	return 0;
}

/*
 * The close the shim makes in one call on a module with
 * EVPOLL_FORGET_CLOSE (and in two without, or with
 * EVPOLL_PRELOAD_FORGET_CLOSE=0): what a program sees is close()'s.
 */
static int do_close_one(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep, ep2, p[2], d;

	ep = epoll_create1(0);
	CHECK(ep >= 0 && is_evpoll(ep));

	/* success leaves errno alone */
	watched_pipe(ep, p);
	errno = 4321;
	CHECK(close(p[1]) == 0);
	if (errno != 4321)
		FAIL("close_one: a successful close changed errno to %d",
		     errno);
	EXPECT_EOF(ep, p, "close_one: close");

	/*
	 * A kept item keeps the number registered: its second close is
	 * EBADF, as close()'s, with nothing else closed.
	 */
	watched_pipe(ep, p);
	d = dup(p[1]);
	CHECK(d >= 0);
	CHECK(close(p[1]) == 0);
	if (close(p[1]) != -1 || errno != EBADF)
		FAIL("close_one: second close of a number: not EBADF (%d)",
		     errno);
	if (!has_item(ep, p[1]) || fcntl(d, F_GETFD) < 0)
		FAIL("close_one: second close: the item or the dup went");
	CHECK(close(d) == 0);
	EXPECT_EOF(ep, p, "close_one: the dup's close");

	/* an instance watched by another one, closed */
	ep2 = epoll_create1(0);
	CHECK(ep2 >= 0 && is_evpoll(ep2));
	ev.data.fd = ep2;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, ep2, &ev) == 0);
	CHECK(close(ep2) == 0);
	if (fcntl(ep2, F_GETFD) != -1 || errno != EBADF)
		FAIL("close_one: the watched instance is still open");
	if (has_item(ep, ep2))
		FAIL("close_one: the closed instance's item stayed");

	/* the watching instance itself, closed while it watches */
	watched_pipe(ep, p);
	CHECK(close(ep) == 0);
	if (fcntl(ep, F_GETFD) != -1 || errno != EBADF)
		FAIL("close_one: the instance is still open");
	CHECK(close(p[1]) == 0);
	if (!eof_soon(p[0]))
		FAIL("close_one: no EOF after the instance went");
	close(p[0]);
	printf("close_one ok\n");
	return 0;
}

/*
 * The other ways to close: close_range() (CLOSE_RANGE_CLOEXEC closes
 * nothing and keeps the item, and so does one that fails), closefrom(), dup2() and dup3() over a
 * watched fd (a dup2() that fails closes nothing and keeps it),
 * syscall(SYS_close), fclose() of an fdopen()ed stream, and an fd watched
 * by two instances.
 */
static int do_closes(void)
{
	int ep, ep2, p[3][2], q[2], i, lo, hi, nul;
	struct epoll_event ev = { .events = EPOLLOUT };
	FILE *f;

	ep = epoll_create1(0);
	CHECK(ep >= 0 && is_evpoll(ep));
	nul = open("/dev/null", O_WRONLY);
	CHECK(nul >= 0);

	/* close_range over three watched write ends (and their readers) */
	lo = INT_MAX;
	hi = 0;
	for (i = 0; i < 3; i++) {
		watched_pipe(ep, p[i]);
		lo = p[i][1] < lo ? p[i][1] : lo;
		hi = p[i][1] > hi ? p[i][1] : hi;
	}
	/* CLOSE_RANGE_CLOEXEC: nothing closed, items kept */
	CHECK(close_range(lo, hi, CLOSE_RANGE_CLOEXEC) == 0);
	for (i = 0; i < 3; i++)
		if (!has_item(ep, p[i][1]))
			FAIL("closes: CLOSE_RANGE_CLOEXEC dropped fd %d",
			     p[i][1]);
	/* an unknown flag: EINVAL, nothing closed, items kept */
	if (close_range(lo, hi, 1U << 30) != -1 || errno != EINVAL)
		FAIL("closes: close_range with an unknown flag did not fail");
	for (i = 0; i < 3; i++)
		if (!has_item(ep, p[i][1]))
			FAIL("closes: a failed close_range dropped fd %d",
			     p[i][1]);
	/* keep the readers out of the range: move them up */
	for (i = 0; i < 3; i++) {
		int r = fcntl(p[i][0], F_DUPFD, hi + 1);

		CHECK(r > hi);
		close(p[i][0]);
		p[i][0] = r;
	}
	CHECK(close_range(lo, hi, 0) == 0);
	for (i = 0; i < 3; i++)
		EXPECT_EOF(ep, p[i], "closes: close_range");

	/* closefrom: the watched write end moved to the top */
	CHECK(pipe(q) == 0);
	i = fcntl(q[1], F_DUPFD, 1000);
	CHECK(i >= 1000);
	close(q[1]);
	q[1] = i;
	ev.data.fd = q[1];
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, q[1], &ev) == 0);
	closefrom(q[1]);
	EXPECT_EOF(ep, q, "closes: closefrom");

	/* dup2 over a watched fd; a failing dup2 keeps it */
	watched_pipe(ep, q);
	if (dup2(12345, q[1]) != -1 || errno != EBADF)
		FAIL("closes: dup2 of a closed fd did not fail");
	if (!has_item(ep, q[1]))
		FAIL("closes: a failed dup2 dropped the item");
	CHECK(dup2(nul, q[1]) == q[1]);
	EXPECT_EOF(ep, q, "closes: dup2");
	close(q[1]);
	watched_pipe(ep, q);
	CHECK(dup3(nul, q[1], O_CLOEXEC) == q[1]);
	EXPECT_EOF(ep, q, "closes: dup3");
	close(q[1]);

	/* syscall(SYS_close) */
	watched_pipe(ep, q);
	CHECK(syscall(SYS_close, q[1]) == 0);
	EXPECT_EOF(ep, q, "closes: syscall(SYS_close)");

	/* fclose of a stream on a watched fd */
	watched_pipe(ep, q);
	f = fdopen(q[1], "w");
	CHECK(f != NULL);
	CHECK(fclose(f) == 0);
	EXPECT_EOF(ep, q, "closes: fclose");

	/* watched by two instances */
	ep2 = epoll_create1(0);
	CHECK(ep2 >= 0 && is_evpoll(ep2));
	watched_pipe(ep, q);
	ev.data.fd = q[1];
	CHECK(epoll_ctl(ep2, EPOLL_CTL_ADD, q[1], &ev) == 0);
	CHECK(close(q[1]) == 0);
	if (has_item(ep2, q[1]))
		FAIL("closes: two instances: item still in the second");
	EXPECT_EOF(ep, q, "closes: two instances");

	/* DEL then close: nothing left to forget, still EOF */
	watched_pipe(ep, q);
	CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, q[1], NULL) == 0);
	CHECK(close(q[1]) == 0);
	EXPECT_EOF(ep, q, "closes: DEL, then close");

	close(ep2);
	close(ep);
	close(nul);
	printf("closes ok\n");
	return 0;
}

/*
 * Threads: 8 threads, each 100 times: a pipe whose write end one shared
 * instance watches (and, every other time, a second shared instance),
 * closed without DEL; its reader sees EOF at once.  The registrations of
 * all threads share one table.
 */
#define CLOSE_THREADS	8
#define CLOSE_ROUNDS	100

static int close_ep[2];

static void *close_thread(void *arg)
{
	struct epoll_event ev = { .events = EPOLLOUT };
	long id = (long)arg, fails = 0;
	int r, p[2];

	for (r = 0; r < CLOSE_ROUNDS; r++) {
		CHECK(pipe(p) == 0);
		ev.data.u64 = (unsigned long long)id << 32 | r;
		CHECK(epoll_ctl(close_ep[0], EPOLL_CTL_ADD, p[1], &ev) == 0);
		if (r & 1)
			CHECK(epoll_ctl(close_ep[1], EPOLL_CTL_ADD, p[1],
					&ev) == 0);
		CHECK(close(p[1]) == 0);
		if (!eof_soon(p[0]))
			fails++;
		close(p[0]);
	}
	return (void *)fails;
}

static int do_threads_close(void)
{
	pthread_t th[CLOSE_THREADS];
	long i, fails = 0;

	for (i = 0; i < 2; i++) {
		close_ep[i] = epoll_create1(0);
		CHECK(close_ep[i] >= 0 && is_evpoll(close_ep[i]));
	}
	for (i = 0; i < CLOSE_THREADS; i++)
		CHECK(pthread_create(&th[i], NULL, close_thread,
				     (void *)i) == 0);
	for (i = 0; i < CLOSE_THREADS; i++) {
		void *ret;

		CHECK(pthread_join(th[i], &ret) == 0);
		fails += (long)ret;
	}
	if (fails)
		FAIL("threads_close: %ld of %d closes without EOF within %d ms",
		     fails, CLOSE_THREADS * CLOSE_ROUNDS, EOF_MS);
	close(close_ep[0]);
	close(close_ep[1]);
	printf("threads_close ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	alarm(120);
	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "wait"))
		return do_wait();
	if (!strcmp(argv[1], "create"))
		return do_create();
	if (!strcmp(argv[1], "fork"))
		return do_fork(argv[0]);
	if (!strcmp(argv[1], "inherited") && argc > 2)
		return do_inherited(atoi(argv[2]));
	if (!strcmp(argv[1], "threads"))
		return do_threads();
	if (!strcmp(argv[1], "reuse"))
		return do_reuse();
	if (!strcmp(argv[1], "reuse_raw"))
		return do_reuse_raw();
	if (!strcmp(argv[1], "errors"))
		return do_errors();
	if (!strcmp(argv[1], "sigsafe"))
		return do_sigsafe();
	if (!strcmp(argv[1], "rebind"))
		return do_rebind();
	if (!strcmp(argv[1], "fin"))
		return do_fin();
	if (!strcmp(argv[1], "pipe_eof"))
		return do_pipe_eof();
	if (!strcmp(argv[1], "holders"))
		return do_holders();
	if (!strcmp(argv[1], "closes"))
		return do_closes();
	if (!strcmp(argv[1], "close_one"))
		return do_close_one();
	if (!strcmp(argv[1], "threads_close"))
		return do_threads_close();
	return 2;
}
