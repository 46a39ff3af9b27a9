// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * preload.c - libevpoll-preload.so: run unmodified programs on /dev/evpoll.
 *
 *	LD_PRELOAD=libevpoll-preload.so program ...
 *
 * Interposes the six epoll entry points of the C library.  epoll_create()
 * and epoll_create1() open an evpoll instance (evpoll_create1()); the other
 * four send each call to the implementation its epfd belongs to: the
 * wrapper in lib/evpoll.c for an evpoll instance, the C library's epoll
 * (dlsym(RTLD_NEXT)) for anything else.  See libevpoll-preload(7).
 *
 * No silent fallback: when /dev/evpoll cannot be opened, epoll_create*()
 * fail with open()'s errno, unless EVPOLL_PRELOAD_FALLBACK=1, which makes
 * them create a kernel epoll instance instead.  EVPOLL_PRELOAD_DEBUG=1
 * logs creations, fallbacks and re-routings to stderr (2: every call).
 *
 * Which fds are evpoll instances
 *
 * An fd is an evpoll instance iff fstat() shows the character device of
 * /dev/evpoll (st_rdev equal to the one of the first instance this process
 * opened, or of the device node).  Doing that fstat() on every call would
 * add a syscall to every epoll_wait(), so the answer is cached per fd
 * number in fd_kind[], a table of atomic bytes (relaxed loads and stores:
 * each entry is an independent hint, no ordering with anything else is
 * needed).  A hint can go stale: the program closes an instance and the
 * number is reused, dup2()s over it, or inherits fds across exec (empty
 * table) or fork (a copy, still right).  Staleness is caught without any
 * cost on the fast path because the two implementations refuse each
 * other's fds without side effects: the kernel's epoll says EINVAL for an
 * fd that is not an epoll instance, and /dev/evpoll's ioctls say ENOTTY
 * (which the wrapper turns into epoll's errno) on an fd that is not
 * /dev/evpoll.  So when a call fails, the fd is classified again with
 * fstat(); if it was misrouted, the call is repeated on the right side.
 * Successful calls never pay for the check; failing calls pay one fstat().
 * Fds beyond the table are classified by fstat() on every call.
 * Documentation/preload.rst has the measurements behind this choice.
 *
 * No global mutable state without atomics: the table, the device number,
 * the configuration and the dlsym() results are all atomics written with
 * idempotent values, so racing threads at worst compute them twice.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/evpoll.h>

#include "evpoll.h"

#define PRELOAD_API	__attribute__((visibility("default")))

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

/* glibc before 2.35 does not declare it; this is its prototype. */
int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents,
		 const struct timespec *timeout, const sigset_t *sigmask);

/* Per-fd routing hints. */
enum {
	FD_UNKNOWN = 0,
	FD_EVPOLL,
	FD_OTHER,
};
#define FD_CACHE_SIZE	65536
static _Atomic unsigned char fd_kind[FD_CACHE_SIZE];

/* st_rdev of /dev/evpoll + 1; 0 while unknown. */
static _Atomic unsigned long long preload_rdev1;

/* Configuration from the environment, read once. */
#define CFG_READ	0x1
#define CFG_FALLBACK	0x2
#define CFG_DEBUG	0x4
#define CFG_DEBUG_ALL	0x8
static _Atomic int preload_cfg;

typedef int (*create1_fn)(int);
typedef int (*ctl_fn)(int, int, int, struct epoll_event *);
typedef int (*wait_fn)(int, struct epoll_event *, int, int);
typedef int (*pwait_fn)(int, struct epoll_event *, int, int,
			const sigset_t *);
typedef int (*pwait2_fn)(int, struct epoll_event *, int,
			 const struct timespec *, const sigset_t *);

static _Atomic(void *) real_create1;
static _Atomic(void *) real_ctl;
static _Atomic(void *) real_wait;
static _Atomic(void *) real_pwait;
static _Atomic(void *) real_pwait2;

static int cfg(void)
{
	int c = atomic_load_explicit(&preload_cfg, memory_order_relaxed);
	const char *s;

	if (c)
		return c;
	c = CFG_READ;
	s = getenv("EVPOLL_PRELOAD_FALLBACK");
	if (s && !strcmp(s, "1"))
		c |= CFG_FALLBACK;
	s = getenv("EVPOLL_PRELOAD_DEBUG");
	if (s && *s && strcmp(s, "0")) {
		c |= CFG_DEBUG;
		if (atoi(s) >= 2)
			c |= CFG_DEBUG_ALL;
	}
	atomic_store_explicit(&preload_cfg, c, memory_order_relaxed);
	return c;
}

static void __attribute__((format(printf, 1, 2))) dbg(const char *fmt, ...)
{
	char buf[256];
	int n, saved = errno;
	va_list ap;

	n = snprintf(buf, sizeof(buf), "evpoll-preload[%d]: ", (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, n) < 0)
		(void)0;
	errno = saved;
}

#define DBG(fmt, ...) do {						\
	if (cfg() & CFG_DEBUG)						\
		dbg(fmt, ##__VA_ARGS__);				\
} while (0)
#define DBG_ALL(fmt, ...) do {						\
	if (cfg() & CFG_DEBUG_ALL)					\
		dbg(fmt, ##__VA_ARGS__);				\
} while (0)

/* The C library's function @name (dlsym(RTLD_NEXT)), cached in @slot. */
static void *real(_Atomic(void *) *slot, const char *name)
{
	void *fn = atomic_load_explicit(slot, memory_order_acquire);

	if (!fn) {
		fn = dlsym(RTLD_NEXT, name);
		if (fn)
			atomic_store_explicit(slot, fn, memory_order_release);
	}
	return fn;
}

static int real_missing(const char *name)
{
	DBG("%s: no such function in the C library", name);
	errno = ENOSYS;
	return -1;
}

static unsigned long long preload_rdev(void)
{
	unsigned long long r = atomic_load_explicit(&preload_rdev1,
						    memory_order_relaxed);
	struct stat st;

	if (r)
		return r - 1;
	/* no instance opened yet (e.g. inherited across exec): the node */
	if (stat(EVPOLL_DEVICE, &st) || !S_ISCHR(st.st_mode))
		return ~0ULL;
	atomic_store_explicit(&preload_rdev1,
			      (unsigned long long)st.st_rdev + 1,
			      memory_order_relaxed);
	return st.st_rdev;
}

static void fd_hint(int fd, unsigned char kind)
{
	if (fd >= 0 && fd < FD_CACHE_SIZE)
		atomic_store_explicit(&fd_kind[fd], kind, memory_order_relaxed);
}

/* Classify @fd with fstat(); FD_UNKNOWN if it is not open. */
static unsigned char fd_classify(int fd)
{
	unsigned char kind;
	struct stat st;

	if (fstat(fd, &st)) {
		fd_hint(fd, FD_UNKNOWN);
		return FD_UNKNOWN;
	}
	kind = S_ISCHR(st.st_mode) &&
	       (unsigned long long)st.st_rdev == preload_rdev() ?
	       FD_EVPOLL : FD_OTHER;
	fd_hint(fd, kind);
	return kind;
}

static bool fd_is_evpoll(int fd)
{
	unsigned char kind = FD_UNKNOWN;

	if (fd >= 0 && fd < FD_CACHE_SIZE)
		kind = atomic_load_explicit(&fd_kind[fd], memory_order_relaxed);
	if (kind == FD_UNKNOWN)
		kind = fd_classify(fd);
	return kind == FD_EVPOLL;
}

/*
 * After a failed call routed as @was_evpoll: true if @fd turns out to
 * belong to the other side, so that the call must be repeated there.
 * errno is preserved.
 */
static bool misrouted(int fd, bool was_evpoll)
{
	int saved = errno;
	bool now = fd_classify(fd) == FD_EVPOLL;

	errno = saved;
	if (now == was_evpoll)
		return false;
	DBG("fd %d is %s: call re-routed", fd,
	    now ? "/dev/evpoll" : "not evpoll");
	return true;
}

static int do_create1(int flags, const char *who)
{
	int fd = evpoll_create1(flags);
	int err;

	if (fd >= 0) {
		struct stat st;

		if (!atomic_load_explicit(&preload_rdev1,
					  memory_order_relaxed)) {
			if (!fstat(fd, &st))
				atomic_store_explicit(&preload_rdev1,
					(unsigned long long)st.st_rdev + 1,
					memory_order_relaxed);
		}
		fd_hint(fd, FD_EVPOLL);
		DBG("%s(%#x) = %d (%s)", who, flags, fd, EVPOLL_DEVICE);
		return fd;
	}
	err = errno;
	if (err == EINVAL || !(cfg() & CFG_FALLBACK)) {
		DBG("%s(%#x): %s: %s", who, flags, EVPOLL_DEVICE,
		    strerror(err));
		errno = err;
		return -1;
	}
	{
		create1_fn fn = (create1_fn)real(&real_create1,
						 "epoll_create1");

		if (!fn)
			return real_missing("epoll_create1");
		fd = fn(flags);
	}
	if (fd >= 0)
		fd_hint(fd, FD_OTHER);
	DBG("%s(%#x): %s: %s; EVPOLL_PRELOAD_FALLBACK=1: kernel epoll fd %d",
	    who, flags, EVPOLL_DEVICE, strerror(err), fd);
	return fd;
}

PRELOAD_API int epoll_create1(int flags)
{
	return do_create1(flags, "epoll_create1");
}

PRELOAD_API int epoll_create(int size)
{
	if (size <= 0) {
		errno = EINVAL;
		return -1;
	}
	return do_create1(0, "epoll_create");
}

static int route_ctl(bool ev, int epfd, int op, int fd,
		     struct epoll_event *event)
{
	ctl_fn fn;

	if (ev)
		return evpoll_ctl(epfd, op, fd, event);
	fn = (ctl_fn)real(&real_ctl, "epoll_ctl");
	return fn ? fn(epfd, op, fd, event) : real_missing("epoll_ctl");
}

PRELOAD_API int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
	bool ev = fd_is_evpoll(epfd);
	int ret = route_ctl(ev, epfd, op, fd, event);

	if (ret < 0 && misrouted(epfd, ev)) {
		ev = !ev;
		ret = route_ctl(ev, epfd, op, fd, event);
	}
	DBG_ALL("epoll_ctl(%d%s, %d, %d) = %d", epfd, ev ? " evpoll" : "",
		op, fd, ret);
	return ret;
}

static int route_pwait(bool ev, int epfd, struct epoll_event *events,
		       int maxevents, int timeout, const sigset_t *sigmask,
		       bool plain)
{
	if (ev)
		return plain ? evpoll_wait(epfd, events, maxevents, timeout) :
			       evpoll_pwait(epfd, events, maxevents, timeout,
					    sigmask);
	if (plain) {
		wait_fn fn = (wait_fn)real(&real_wait, "epoll_wait");

		return fn ? fn(epfd, events, maxevents, timeout) :
			    real_missing("epoll_wait");
	} else {
		pwait_fn fn = (pwait_fn)real(&real_pwait, "epoll_pwait");

		return fn ? fn(epfd, events, maxevents, timeout, sigmask) :
			    real_missing("epoll_pwait");
	}
}

static int do_pwait(int epfd, struct epoll_event *events, int maxevents,
		    int timeout, const sigset_t *sigmask, bool plain)
{
	bool ev = fd_is_evpoll(epfd);
	int ret = route_pwait(ev, epfd, events, maxevents, timeout, sigmask,
			      plain);

	if (ret < 0 && misrouted(epfd, ev)) {
		ev = !ev;
		ret = route_pwait(ev, epfd, events, maxevents, timeout,
				  sigmask, plain);
	}
	DBG_ALL("epoll_%swait(%d%s, %d, %d) = %d", plain ? "" : "p", epfd,
		ev ? " evpoll" : "", maxevents, timeout, ret);
	return ret;
}

PRELOAD_API int epoll_wait(int epfd, struct epoll_event *events,
			   int maxevents, int timeout)
{
	return do_pwait(epfd, events, maxevents, timeout, NULL, true);
}

PRELOAD_API int epoll_pwait(int epfd, struct epoll_event *events,
			    int maxevents, int timeout,
			    const sigset_t *sigmask)
{
	return do_pwait(epfd, events, maxevents, timeout, sigmask, false);
}

static int route_pwait2(bool ev, int epfd, struct epoll_event *events,
			int maxevents, const struct timespec *timeout,
			const sigset_t *sigmask)
{
	pwait2_fn fn;

	if (ev)
		return evpoll_pwait2(epfd, events, maxevents, timeout, sigmask);
	fn = (pwait2_fn)real(&real_pwait2, "epoll_pwait2");
	if (fn)
		return fn(epfd, events, maxevents, timeout, sigmask);
	/* a C library older than 2.35: the system call itself */
	return (int)syscall(SYS_epoll_pwait2, epfd, events, maxevents, timeout,
			    sigmask, _NSIG / 8);
}

PRELOAD_API int epoll_pwait2(int epfd, struct epoll_event *events,
			     int maxevents, const struct timespec *timeout,
			     const sigset_t *sigmask)
{
	bool ev = fd_is_evpoll(epfd);
	int ret = route_pwait2(ev, epfd, events, maxevents, timeout, sigmask);

	if (ret < 0 && misrouted(epfd, ev)) {
		ev = !ev;
		ret = route_pwait2(ev, epfd, events, maxevents, timeout,
				   sigmask);
	}
	DBG_ALL("epoll_pwait2(%d%s, %d) = %d", epfd, ev ? " evpoll" : "",
		maxevents, ret);
	return ret;
}

/*
 * syscall(): programs that call the epoll system calls directly (the
 * kernel's own selftests do so for epoll_pwait2) on an fd the shim made.
 * Only calls on an existing instance are routed; epoll_create* through
 * syscall() still make a kernel epoll instance, as the caller asked the
 * kernel directly.  Six long arguments are read whatever the number, as
 * the C library's own syscall() does.
 */
typedef long (*syscall_fn)(long number, ...);
static _Atomic(void *) real_syscall;

static long syscall_on_evpoll(long nr, const long a[6])
{
	const sigset_t *mask = (const sigset_t *)a[4];

	if ((nr == SYS_epoll_pwait || nr == SYS_epoll_pwait2) && mask &&
	    a[5] != _NSIG / 8) {
		errno = EINVAL;
		return -1;
	}
	switch (nr) {
	case SYS_epoll_ctl:
		return evpoll_ctl((int)a[0], (int)a[1], (int)a[2],
				  (struct epoll_event *)a[3]);
	case SYS_epoll_wait:
		return evpoll_wait((int)a[0], (struct epoll_event *)a[1],
				   (int)a[2], (int)a[3]);
	case SYS_epoll_pwait:
		return evpoll_pwait((int)a[0], (struct epoll_event *)a[1],
				    (int)a[2], (int)a[3], mask);
	default:	/* SYS_epoll_pwait2 */
		return evpoll_pwait2((int)a[0], (struct epoll_event *)a[1],
				     (int)a[2], (const struct timespec *)a[3],
				     mask);
	}
}

PRELOAD_API long syscall(long number, ...)
{
	syscall_fn fn = (syscall_fn)real(&real_syscall, "syscall");
	bool epoll_call, ev = false;
	va_list ap;
	long a[6], ret;
	int i;

	va_start(ap, number);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);

	epoll_call = number == SYS_epoll_ctl || number == SYS_epoll_wait ||
		     number == SYS_epoll_pwait || number == SYS_epoll_pwait2;
	if (epoll_call)
		ev = fd_is_evpoll((int)a[0]);
	if (ev) {
		ret = syscall_on_evpoll(number, a);
	} else {
		if (!fn)
			return real_missing("syscall");
		ret = fn(number, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (ret < 0 && epoll_call && misrouted((int)a[0], false)) {
			ev = true;
			ret = syscall_on_evpoll(number, a);
		}
	}
	if (epoll_call)
		DBG_ALL("syscall(%ld, %d%s) = %ld", number, (int)a[0],
			ev ? " evpoll" : "", ret);
	return ret;
}
