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
 *
 * Exit status 0 when everything it checked held; it prints what failed.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
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

static int do_wait(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1234 };
	struct epoll_event out[4];
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	sigset_t mask;
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
	CHECK(epoll_pwait2(epfd, out, 4, &ts, NULL) == 0);
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
	printf("reuse ok\n");
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
	return 2;
}
