// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_ioctl - random sequences of EVPOLL_IOC_CTL, _WAIT and _VERSION, the
 * version 2 EVPOLL_IOC_SUBMIT and user-event ioctls (and unknown commands) from several processes and threads at once, on every
 * kind of target file, with random closes, dups and forks in between.
 *
 *   fuzz_ioctl [-s SEED] [-t SECONDS] [-n OPS] [-p PROCS] [-j THREADS]
 *
 * SEED (or EVPOLL_FUZZ_SEED) makes each thread's sequence of choices
 * reproducible; it is printed first.  The interleaving of threads is not
 * (the scheduler's), so a failure found with a seed is re-run with the
 * same seed and, if needed, -p 1 -j 1.  The run stops after SECONDS
 * (EVPOLL_FUZZ_SECONDS; default 60 on the debug kernel, 20 elsewhere,
 * from EVPOLL_CHECK_KERNEL, which tools/check.sh sets) or OPS operations
 * in all, whichever comes first.
 *
 * What fails the run: an ioctl that returns a value or errno the ABI does
 * not document for it (Documentation/abi.rst; the lists are below), a
 * successful VERSION with a wrong answer, a WAIT returning more events than
 * asked, a worker that crashes or does not finish.  The kernel's own
 * reports (KASAN, lockdep, WARN, kmemleak) fail the VM run (vm-run.sh's
 * dmesg scan).  Output: the seed, then the operations made, as a
 * kselftest "# Totals:" line.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/time_types.h>

#include <linux/evpoll.h>

#define POOL		48	/* shared target fds per process */
#define MAX_THREADS	16
#define MAX_PROCS	8

/* Documented errnos per ioctl (abi.rst); bit n = errno n. */
#define E(x)		(1ULL << (x))
#define CTL_ERRNOS	(E(EFAULT) | E(EINVAL) | E(EBADF) | E(EPERM) | \
			 E(EEXIST) | E(ENOENT) | E(ELOOP) | E(ENOSPC) | \
			 E(ENOMEM))
#define WAIT_ERRNOS	(E(EFAULT) | E(EINVAL) | E(EINTR))
#define VERSION_ERRNOS	(E(EFAULT) | E(EINVAL))
#define SUBMIT_ERRNOS	(E(EFAULT) | E(EINVAL) | E(E2BIG) | E(EINTR))
#define USER_ERRNOS	(E(EFAULT) | E(EINVAL) | E(ENOENT) | E(ENOSPC) | \
			 E(ENOMEM))
/*
 * An ioctl on a shared pool slot may find the number closed (EBADF) or
 * reused by another kind of file, whose own ioctl rejects the command
 * (ENOTTY; epoll's since 6.9: EINVAL).
 */
#define UNSTABLE_ERRNOS	(E(EBADF) | E(ENOTTY) | E(EINVAL))

/* Shared between all processes (MAP_SHARED): results. */
struct shared {
	unsigned long long ops;
	unsigned long long ctl, wait, version, unknown, mutate, forks;
	unsigned long long events;
	int failed;
	char failure[512];
};

static struct shared *sh;
static unsigned long long seed;
static long long deadline_ns;
static unsigned long long ops_per_thread;
static int nthreads = 4;

/* Per process: the pool of target fds, and the memory for bad pointers. */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static int pool[POOL];
static int stale[POOL];		/* numbers once in the pool, maybe reused */
/* page_ro: read-only zeroes; page_none: no access, after a writable page */
static char *page_ro, *page_none;
static size_t pgsz;
static pthread_t tids[MAX_THREADS];
static int started;		/* tids[] is complete */
static int proc_no;
static bool in_child;		/* a forked copy of one worker: one thread */

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* splitmix64: small, good enough, deterministic. */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int rn(uint64_t *s, unsigned int n)
{
	return n ? rnd(s) % n : 0;
}

static bool chance(uint64_t *s, unsigned int one_in)
{
	return rn(s, one_in) == 0;
}

/* The first failure wins; no stdio lock (a forked child may call this). */
static void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	if (__atomic_exchange_n(&sh->failed, 1, __ATOMIC_ACQ_REL))
		return;
	va_start(ap, fmt);
	vsnprintf(sh->failure, sizeof(sh->failure), fmt, ap);
	va_end(ap);
}

static void pool_lock_take(void)
{
	if (!in_child)
		pthread_mutex_lock(&pool_lock);
}

static void pool_lock_drop(void)
{
	if (!in_child)
		pthread_mutex_unlock(&pool_lock);
}

/* Put @fd into pool slot @k, closing what was there (pool lock held). */
static void pool_set(int k, int fd)
{
	if (pool[k] >= 0 && pool[k] != fd)
		close(pool[k]);
	pool[k] = fd;
	if (fd >= 0)
		stale[k] = fd;
}

/* A new file of a random kind (-1 if the kind could not be made). */
static int make_target(uint64_t *s)
{
	int fd = -1, sv[2], p[2], flags;
	sigset_t mask;

	switch (rn(s, 14)) {
	case 0:
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
			break;
		if (chance(s, 2))
			(void)!write(sv[1], "x", 1);
		close(sv[1]);
		fd = sv[0];
		break;
	case 1:
		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv))
			break;
		(void)!write(sv[1], "x", 1);
		/* Keep the peer in the pool too, so it can be written. */
		fd = sv[0];
		pool_set(rn(s, POOL), sv[1]);
		break;
	case 2:
		if (pipe2(p, O_NONBLOCK))
			break;
		if (chance(s, 2))
			(void)!write(p[1], "x", 1);
		flags = rn(s, 2);	/* keep one end */
		close(p[!flags]);
		fd = p[flags];
		break;
	case 3:
		fd = eventfd(rn(s, 2), EFD_NONBLOCK);
		break;
	case 4:
		fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
		if (fd >= 0 && chance(s, 2)) {
			struct itimerspec it = {
				.it_value.tv_nsec = 100000,
				.it_interval.tv_nsec = 1000000,
			};
			timerfd_settime(fd, 0, &it, NULL);
		}
		break;
	case 5:
		sigemptyset(&mask);
		sigaddset(&mask, SIGUSR2);
		fd = signalfd(-1, &mask, SFD_NONBLOCK);
		break;
	case 6:
		fd = inotify_init1(IN_NONBLOCK);
		if (fd >= 0)
			inotify_add_watch(fd, "/tmp", IN_CREATE | IN_DELETE);
		break;
	case 7:
		fd = epoll_create1(0);
		break;
	case 8:
	case 9:
		fd = open(EVPOLL_DEVICE, O_RDWR);
		break;
	case 10:
		fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
		break;
	case 11:
		fd = open("/dev/null", O_RDWR);
		break;
	case 12:
		flags = SOCK_NONBLOCK | (chance(s, 2) ? SOCK_DGRAM : SOCK_STREAM);
		fd = socket(AF_INET, flags, 0);
		break;
	case 13:
		fd = open("/", O_RDONLY | O_DIRECTORY);
		break;
	}
	return fd;
}

/* A target fd number for CTL: pool, stale, instance, or junk. */
static int pick_fd(uint64_t *s, int own)
{
	switch (rn(s, 16)) {
	case 0:
		return own;
	case 1:
		return stale[rn(s, POOL)];
	case 2:
		return -1;
	case 3:
		return (int)rnd(s);
	case 4:
		return 0x7ffffff0;
	default:
		return __atomic_load_n(&pool[rn(s, POOL)], __ATOMIC_RELAXED);
	}
}

static uint32_t pick_events(uint64_t *s)
{
	static const uint32_t bits[] = {
		EPOLLIN, EPOLLOUT, EPOLLPRI, EPOLLERR, EPOLLHUP, EPOLLRDHUP,
		EPOLLRDNORM, EPOLLWRNORM, EPOLLET, EPOLLONESHOT, EPOLLWAKEUP,
		EPOLLEXCLUSIVE, EPOLLMSG, 1u << 28,
	};
	uint32_t ev = 0;
	unsigned int i;

	if (chance(s, 16))
		return (uint32_t)rnd(s);
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (chance(s, i < 2 ? 2 : 6))
			ev |= bits[i];
	return ev;
}

/* A pointer to hand the kernel for an argument of @len bytes at @good. */
static void *pick_ptr(uint64_t *s, void *good, size_t len)
{
	switch (rn(s, 24)) {
	case 0:
		return NULL;
	case 1:
		return (void *)8;
	case 2:
		return page_none;
	case 3:
		/* Straddles the end of a writable page into an inaccessible one. */
		return page_none - (len > 1 ? len / 2 : 1);
	case 4:
		/* Readable zeroes: a fault only for what the kernel writes. */
		return page_ro;
	case 5:
		return (void *)(uintptr_t)0xffff880000000000ULL;
	default:
		return good;
	}
}

static void check(const char *what, long ret, int err, uint64_t allowed,
		  bool unstable, const char *detail)
{
	if (ret >= 0)
		return;
	if (unstable)
		allowed |= UNSTABLE_ERRNOS;
	if (err < 64 && (allowed & E(err)))
		return;
	fail("proc %d: %s returned %ld errno %d (%s), not documented: %s",
	     proc_no, what, ret, err, strerror(err), detail);
}

static void do_ctl(uint64_t *s, int evfd, bool unstable, int own)
{
	struct evpoll_ctl c = { 0 }, *arg;
	char d[200];
	long ret;

	c.op = chance(s, 12) ? (uint32_t)rnd(s) : 1 + rn(s, 3);
	c.fd = pick_fd(s, own);
	c.events = pick_events(s);
	c.flags = chance(s, 20) ? (uint32_t)rnd(s) : 0;
	c.data = rnd(s);
	arg = pick_ptr(s, &c, sizeof(c));
	ret = ioctl(evfd, EVPOLL_IOC_CTL, arg);
	snprintf(d, sizeof(d), "CTL evfd %d op %u fd %d events %#x flags %#x arg %p",
		 evfd, c.op, c.fd, c.events, c.flags, (void *)arg);
	check("CTL", ret, errno, CTL_ERRNOS, unstable, d);
	if (ret > 0)
		fail("proc %d: CTL returned %ld: %s", proc_no, ret, d);
	__atomic_add_fetch(&sh->ctl, 1, __ATOMIC_RELAXED);
}

static void do_wait(uint64_t *s, int evfd, bool unstable)
{
	struct epoll_event evs[32];
	struct __kernel_timespec ts = { 0 };
	struct evpoll_wait w = { 0 }, *arg;
	sigset_t mask;
	char d[200];
	long ret;

	w.maxevents = 1 + rn(s, 32);
	if (chance(s, 16))
		w.maxevents = chance(s, 2) ? 0 : (int32_t)rnd(s);
	w.events = (uintptr_t)pick_ptr(s, evs, sizeof(evs[0]));
	/* A valid huge maxevents must not let the kernel write past evs. */
	if (w.maxevents > 32 && w.events == (uintptr_t)evs)
		w.events = (uintptr_t)page_ro;
	/* Never block for long: 0, or up to 1 ms. */
	w.timeout = chance(s, 2) ? 0 : rn(s, 1000000);
	if (chance(s, 6)) {
		w.flags = EVPOLL_WAIT_TIMESPEC;
		ts.tv_nsec = chance(s, 8) ? (long long)rnd(s) : rn(s, 1000000);
		ts.tv_sec = chance(s, 8) ? -1 : 0;
		w.timeout = (uintptr_t)pick_ptr(s, &ts, sizeof(ts));
		if (!w.timeout || (ts.tv_sec == 0 && ts.tv_nsec == 0))
			ts.tv_nsec = 1;	/* 0 pointer = forever: not here */
		if (!w.timeout)
			w.timeout = (uintptr_t)&ts;
	}
	if (chance(s, 20))
		w.flags |= (uint32_t)rnd(s);
	if (chance(s, 20))
		w.__reserved = (uint32_t)rnd(s);
	if (chance(s, 4)) {
		sigemptyset(&mask);
		sigaddset(&mask, SIGUSR2);
		w.sigmask = (uintptr_t)pick_ptr(s, &mask, 8);
		w.sigsetsize = chance(s, 10) ? rn(s, 256) : 8;
	}
	arg = pick_ptr(s, &w, sizeof(w));
	ret = ioctl(evfd, EVPOLL_IOC_WAIT, arg);
	snprintf(d, sizeof(d), "WAIT evfd %d max %d flags %#x timeout %lld events %#llx sigmask %#llx/%u arg %p",
		 evfd, w.maxevents, w.flags, (long long)w.timeout,
		 (unsigned long long)w.events, (unsigned long long)w.sigmask,
		 w.sigsetsize, (void *)arg);
	check("WAIT", ret, errno, WAIT_ERRNOS, unstable, d);
	if (ret > 0 && ret > w.maxevents && arg == &w)
		fail("proc %d: WAIT returned %ld > maxevents: %s", proc_no,
		     ret, d);
	if (ret > 0)
		__atomic_add_fetch(&sh->events, ret, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sh->wait, 1, __ATOMIC_RELAXED);
}

static void do_version(uint64_t *s, int evfd, bool unstable)
{
	struct evpoll_version v = { .size = EVPOLL_VERSION_SIZE_V1 }, *arg;
	char d[160];
	long ret;

	if (chance(s, 6))
		v.size = chance(s, 2) ? (uint32_t)rnd(s) : rn(s, 100);
	if (chance(s, 10))
		v.flags = (uint32_t)rnd(s);
	if (chance(s, 10))
		v.__reserved0 = (uint32_t)rnd(s);
	if (chance(s, 10))
		v.__reserved[rn(s, 3)] = rnd(s);
	if (chance(s, 8))
		v.features = rnd(s);	/* output: ignored on input */
	arg = pick_ptr(s, &v, sizeof(v));
	ret = ioctl(evfd, EVPOLL_IOC_VERSION, arg);
	snprintf(d, sizeof(d), "VERSION evfd %d size %u flags %#x arg %p",
		 evfd, v.size, v.flags, (void *)arg);
	check("VERSION", ret, errno, VERSION_ERRNOS, unstable, d);
	if (ret == 0 && arg == &v && !unstable &&
	    (v.size != EVPOLL_VERSION_SIZE_V1 ||
	     v.abi_version != EVPOLL_ABI_VERSION ||
	     (v.features & ~(EVPOLL_IOC_FEATURES |
			     EVPOLL_IOC_FEAT_FORGET))))
		fail("proc %d: VERSION answered size %u abi %u features %#llx",
		     proc_no, v.size, v.abi_version,
		     (unsigned long long)v.features);
	__atomic_add_fetch(&sh->version, 1, __ATOMIC_RELAXED);
}

/* EVPOLL_IOC_SUBMIT: random changes (every op), then maybe a short wait. */
static void do_submit(uint64_t *s, int evfd, bool unstable, int own)
{
	static const uint32_t ops[] = { 1, 2, 3, EVPOLL_CTL_DISABLE,
					EVPOLL_CTL_ENABLE,
					EVPOLL_CTL_DEL_NOTIFY };
	struct evpoll_submit_change c[8];
	struct evpoll_submit sub = { .size = sizeof(sub) }, *arg;
	struct epoll_event evs[32];
	unsigned int i, n = rn(s, 9);
	sigset_t mask;
	char d[200];
	long ret;

	for (i = 0; i < n; i++) {
		c[i].op = chance(s, 12) ? (uint32_t)rnd(s) : ops[rn(s, 6)];
		c[i].fd = chance(s, 8) ? EVPOLL_USER_ID_BASE + (int)rn(s, 8) :
					 pick_fd(s, own);
		c[i].events = pick_events(s) |
			      (chance(s, 4) ? EVPOLLDISPATCH : 0) |
			      (chance(s, 4) ? EVPOLLREMOVED : 0);
		c[i].data = rnd(s);
		c[i].result = 1;
	}
	sub.changes = (uintptr_t)pick_ptr(s, c, sizeof(c[0]));
	sub.nchanges = chance(s, 20) ? (uint32_t)rnd(s) : n;
	/* A valid huge nchanges must not let the kernel read past c. */
	if (sub.nchanges > n && sub.changes == (uintptr_t)c)
		sub.changes = (uintptr_t)page_ro;
	if (chance(s, 2)) {
		sub.flags = EVPOLL_SUBMIT_WAIT;
		sub.maxevents = 1 + rn(s, 32);
		sub.events = (uintptr_t)pick_ptr(s, evs, sizeof(evs[0]));
		sub.timeout = chance(s, 2) ? 0 : rn(s, 1000000);
		sub.min_events = rn(s, 40);
		sub.min_wait = chance(s, 2) ? 0 : rn(s, 1000000);
		if (chance(s, 4)) {
			sigemptyset(&mask);
			sigaddset(&mask, SIGUSR2);
			sub.sigmask = (uintptr_t)pick_ptr(s, &mask, 8);
			sub.sigsetsize = chance(s, 10) ? rn(s, 256) : 8;
		}
	}
	if (chance(s, 20))
		sub.flags |= (uint32_t)rnd(s);
	if (chance(s, 20))
		sub.__reserved = (uint32_t)rnd(s);
	if (chance(s, 20))
		sub.size = rn(s, 128);
	arg = pick_ptr(s, &sub, sizeof(sub));
	ret = ioctl(evfd, EVPOLL_IOC_SUBMIT, arg);
	snprintf(d, sizeof(d), "SUBMIT evfd %d n %u flags %#x max %d size %u arg %p",
		 evfd, sub.nchanges, sub.flags, sub.maxevents, sub.size,
		 (void *)arg);
	check("SUBMIT", ret, errno, SUBMIT_ERRNOS, unstable, d);
	if (ret > 0 && ret > sub.maxevents && arg == &sub)
		fail("proc %d: SUBMIT returned %ld > maxevents: %s", proc_no,
		     ret, d);
	/* Every result written is 0 or a documented CTL errno. */
	if (ret >= 0 && arg == &sub && sub.changes == (uintptr_t)c)
		for (i = 0; i < n; i++)
			if (c[i].result != 1 && c[i].result != 0 &&
			    (c[i].result > 0 || -c[i].result >= 64 ||
			     !(CTL_ERRNOS & E(-c[i].result))))
				fail("proc %d: SUBMIT change op %u fd %d result %d: %s",
				     proc_no, c[i].op, c[i].fd, c[i].result, d);
	if (ret > 0)
		__atomic_add_fetch(&sh->events, ret, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sh->ctl, 1, __ATOMIC_RELAXED);
}

/* EVPOLL_IOC_USER_ADD, _TRIGGER, _DEL with random ids and arguments. */
static void do_user(uint64_t *s, int evfd, bool unstable)
{
	static const unsigned long cmds[] = { EVPOLL_IOC_USER_ADD,
					      EVPOLL_IOC_USER_TRIGGER,
					      EVPOLL_IOC_USER_DEL };
	struct evpoll_user_ctl u = { 0 }, *arg;
	unsigned long cmd = cmds[rn(s, 3)];
	char d[160];
	long ret;

	u.id = chance(s, 8) ? (int)rnd(s) : EVPOLL_USER_ID_BASE + (int)rn(s, 8);
	if (cmd == EVPOLL_IOC_USER_ADD || chance(s, 20)) {
		u.events = chance(s, 8) ? (uint32_t)rnd(s) :
			   EPOLLIN | (chance(s, 3) ? EPOLLONESHOT : 0) |
			   (chance(s, 3) ? EVPOLLDISPATCH : 0);
		u.data = rnd(s);
	}
	if (chance(s, 20))
		u.flags = (uint32_t)rnd(s);
	if (chance(s, 20))
		u.__reserved = (uint32_t)rnd(s);
	arg = pick_ptr(s, &u, sizeof(u));
	ret = ioctl(evfd, cmd, arg);
	snprintf(d, sizeof(d), "USER %#lx evfd %d id %d events %#x arg %p",
		 cmd, evfd, u.id, u.events, (void *)arg);
	check("USER", ret, errno, USER_ERRNOS, unstable, d);
	if (ret > 0)
		fail("proc %d: USER returned %ld: %s", proc_no, ret, d);
	__atomic_add_fetch(&sh->ctl, 1, __ATOMIC_RELAXED);
}

static void do_unknown(uint64_t *s, int evfd, bool unstable)
{
	static const unsigned int dirs[] = { _IOC_NONE, _IOC_READ, _IOC_WRITE,
					     _IOC_READ | _IOC_WRITE };
	unsigned int cmd;
	char buf[64] = { 0 }, d[64];
	long ret;

	do {
		cmd = _IOC(dirs[rn(s, 4)], EVPOLL_IOC_MAGIC, rn(s, 16),
			   rn(s, 128));
	} while (cmd == EVPOLL_IOC_CTL || cmd == EVPOLL_IOC_WAIT ||
		 cmd == EVPOLL_IOC_VERSION || cmd == EVPOLL_IOC_FORGET);
	ret = ioctl(evfd, cmd, buf);
	snprintf(d, sizeof(d), "ioctl %#x on evfd %d", cmd, evfd);
	check("unknown ioctl", ret, errno, E(ENOTTY), unstable, d);
	if (ret >= 0)
		fail("proc %d: %s succeeded", proc_no, d);
	__atomic_add_fetch(&sh->unknown, 1, __ATOMIC_RELAXED);
}

/* Close, dup, replace, make ready, drain: the pool changes under CTLs. */
static void do_mutate(uint64_t *s)
{
	int i = rn(s, POOL), j = rn(s, POOL), fd, old;
	uint64_t one = 1;
	char buf[64];

	pool_lock_take();
	old = pool[i];
	switch (rn(s, 6)) {
	case 0:			/* close */
		pool_set(i, -1);
		break;
	case 1:			/* dup into another slot */
		if (pool[j] >= 0 && i != j) {
			fd = dup(pool[j]);
			if (fd >= 0)
				pool_set(i, fd);
		}
		break;
	case 2:			/* dup2 over a pool number */
		if (old >= 0 && pool[j] >= 0 && i != j)
			dup2(pool[j], old);
		break;
	case 3:			/* replace by a new file */
		fd = make_target(s);
		if (fd >= 0)
			pool_set(i, fd);
		break;
	default:		/* readiness: write, or drain */
		if (old >= 0) {
			if (chance(s, 2))
				(void)!write(old, &one, sizeof(one));
			else
				(void)!read(old, buf, sizeof(buf));
		}
		break;
	}
	pool_lock_drop();
	__atomic_add_fetch(&sh->mutate, 1, __ATOMIC_RELAXED);
}

static void one_op(uint64_t *s, int *own);

/* A short-lived child: a few operations on what it inherited, then exit. */
static void do_fork(uint64_t *s, int *own)
{
	uint64_t cs = rnd(s);
	pid_t pid;
	int i, st;

	pid = fork();
	if (pid == 0) {
		in_child = true;
		for (i = 0; i < 40 && !sh->failed; i++)
			one_op(&cs, own);
		_exit(0);
	}
	if (pid > 0) {
		while ((i = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
			;
		if (i == pid && (!WIFEXITED(st) || WEXITSTATUS(st)))
			fail("proc %d: forked child ended with status %#x",
			     proc_no, st);
		__atomic_add_fetch(&sh->forks, 1, __ATOMIC_RELAXED);
	}
}

static void one_op(uint64_t *s, int *own)
{
	bool unstable = chance(s, 3);
	int evfd = *own;

	if (unstable)
		evfd = __atomic_load_n(&pool[rn(s, POOL)], __ATOMIC_RELAXED);
	switch (rn(s, 20)) {
	case 0 ... 6:
		do_ctl(s, evfd, unstable, *own);
		break;
	case 7 ... 10:
		do_wait(s, evfd, unstable);
		break;
	case 11:
		do_version(s, evfd, unstable);
		break;
	case 12:
		switch (rn(s, 3)) {
		case 0:
			do_unknown(s, evfd, unstable);
			break;
		case 1:
			do_submit(s, evfd, unstable, *own);
			break;
		default:
			do_user(s, evfd, unstable);
			break;
		}
		break;
	case 13 ... 17:
		do_mutate(s);
		break;
	case 18:
		/* A signal to a sibling thread: EINTR in its wait. */
		if (!in_child)
			pthread_kill(tids[rn(s, nthreads)], SIGUSR1);
		break;
	case 19:
		if (chance(s, 8)) {
			/* Reopen the own instance (its items go with it). */
			pool_lock_take();
			close(*own);
			*own = open(EVPOLL_DEVICE, O_RDWR);
			pool_lock_drop();
		} else if (chance(s, 40) && !in_child) {
			do_fork(s, own);
		}
		break;
	}
	__atomic_add_fetch(&sh->ops, 1, __ATOMIC_RELAXED);
}

struct worker {
	int no;
	int own;
	uint64_t state;
};

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	unsigned long long n;

	while (!__atomic_load_n(&started, __ATOMIC_ACQUIRE))
		usleep(100);
	for (n = 0; n < ops_per_thread && !sh->failed; n++) {
		if (!(n & 63) && now_ns() > deadline_ns)
			break;
		if (w->own < 0) {
			fail("proc %d thread %d: cannot open %s: %s", proc_no,
			     w->no, EVPOLL_DEVICE, strerror(errno));
			break;
		}
		one_op(&w->state, &w->own);
	}
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

static int run_proc(int no)
{
	struct worker w[MAX_THREADS];
	struct sigaction sa = { .sa_handler = on_usr1 };
	uint64_t s = seed ^ (0x51ed27ULL * (no + 1));
	sigset_t block;
	int i;

	proc_no = no;
	sigaction(SIGUSR1, &sa, NULL);		/* no SA_RESTART: EINTR */
	signal(SIGPIPE, SIG_IGN);		/* writes to closed peers */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);		/* for the signalfds */
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	pgsz = sysconf(_SC_PAGESIZE);
	page_ro = mmap(NULL, 3 * pgsz, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page_ro == MAP_FAILED) {
		fail("proc %d: mmap: %s", no, strerror(errno));
		return 1;
	}
	page_none = page_ro + 2 * pgsz;
	mprotect(page_ro, pgsz, PROT_READ);
	mprotect(page_none, pgsz, PROT_NONE);
	for (i = 0; i < POOL; i++)
		pool[i] = -1;
	for (i = 0; i < POOL; i++) {
		int fd = make_target(&s);

		if (pool[i] < 0)
			pool_set(i, fd);
		else if (fd >= 0)
			close(fd);
	}
	for (i = 0; i < nthreads; i++) {
		w[i].no = i;
		w[i].own = open(EVPOLL_DEVICE, O_RDWR);
		w[i].state = s ^ (0x9e37ULL * (i + 1));
	}
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&tids[i], NULL, worker_fn, &w[i])) {
			fail("proc %d: pthread_create failed", no);
			nthreads = i;
			break;
		}
	__atomic_store_n(&started, 1, __ATOMIC_RELEASE);
	for (i = 0; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	return sh->failed;
}

static long long env_ll(const char *name, long long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoll(v, NULL, 0) : def;
}

int main(int argc, char **argv)
{
	const char *kernel = getenv("EVPOLL_CHECK_KERNEL");
	long long secs, max_ops = 50000000;
	int nprocs = 3, opt, i, st, live = 0;
	long long t0;
	pid_t pids[MAX_PROCS];

	seed = env_ll("EVPOLL_FUZZ_SEED", 0);
	secs = env_ll("EVPOLL_FUZZ_SECONDS",
		      kernel && !strcmp(kernel, "debug") ? 60 : 20);
	while ((opt = getopt(argc, argv, "s:t:n:p:j:")) != -1) {
		switch (opt) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 't': secs = strtoll(optarg, NULL, 0); break;
		case 'n': max_ops = strtoll(optarg, NULL, 0); break;
		case 'p': nprocs = atoi(optarg); break;
		case 'j': nthreads = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-s SEED] [-t SECONDS] [-n OPS] [-p PROCS] [-j THREADS]\n",
				argv[0]);
			return 2;
		}
	}
	if (nprocs < 1 || nprocs > MAX_PROCS || nthreads < 1 ||
	    nthreads > MAX_THREADS || secs < 1 || max_ops < 1) {
		fprintf(stderr, "fuzz_ioctl: bad arguments\n");
		return 2;
	}
	if (!seed)
		seed = (unsigned long long)now_ns() ^ getpid();
	printf("# fuzz_ioctl: seed %llu (EVPOLL_FUZZ_SEED=%llu or -s %llu repeats it), %lld s or %lld ops, %d processes x %d threads\n",
	       seed, seed, seed, secs, max_ops, nprocs, nthreads);
	fflush(stdout);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	memset(sh, 0, sizeof(*sh));
	ops_per_thread = max_ops / (nprocs * nthreads) + 1;
	t0 = now_ns();
	deadline_ns = t0 + secs * 1000000000LL;

	for (i = 0; i < nprocs; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(run_proc(i));
		if (pids[i] > 0)
			live++;
		else
			fail("fork: %s", strerror(errno));
	}
	for (i = 0; i < nprocs; i++) {
		if (pids[i] <= 0)
			continue;
		/* Bounded: each worker stops at the deadline. */
		if (waitpid(pids[i], &st, 0) != pids[i])
			fail("waitpid: %s", strerror(errno));
		else if (!WIFEXITED(st) || (WEXITSTATUS(st) && !sh->failed))
			fail("process %d ended with status %#x", i, st);
	}

	printf("# fuzz_ioctl: %llu operations in %.1f s (%d processes): CTL %llu, WAIT %llu (%llu events), VERSION %llu, unknown %llu, pool changes %llu, forks %llu\n",
	       sh->ops, (now_ns() - t0) / 1e9, live, sh->ctl, sh->wait,
	       sh->events, sh->version, sh->unknown, sh->mutate, sh->forks);
	if (sh->failed)
		printf("not ok 1 fuzz_ioctl seed %llu: %s\n", seed, sh->failure);
	else
		printf("ok 1 fuzz_ioctl seed %llu\n", seed);
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:0 error:0\n",
	       !sh->failed, sh->failed);
	return sh->failed ? 1 : 0;
}
