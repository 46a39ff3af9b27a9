// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * preload.c - libevpoll-preload.so: run unmodified programs on /dev/evpoll.
 *
 *	LD_PRELOAD=libevpoll-preload.so program ...
 *
 * Interposes the six epoll entry points of the C library and syscall()
 * (and, on i386, the names glibc gives fcntl and epoll_pwait2 in programs
 * built with _TIME_BITS=64: PRELOAD_TIME32 below).
 * epoll_create() and epoll_create1() open an evpoll instance
 * (evpoll_create1()); the other four, and syscall() for SYS_epoll_ctl,
 * _wait, _pwait and _pwait2, send each call to the implementation its epfd
 * belongs to: the wrapper in lib/evpoll.c for an evpoll instance, the C
 * library's epoll (or syscall()) for anything else.  Every other system
 * call number goes to the C library's syscall() untouched, and so does
 * syscall(SYS_epoll_create1): who asks the kernel directly gets a kernel
 * epoll instance.  See libevpoll-preload(7).
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
 * /dev/evpoll.  So when a call fails with an errno a misrouted call gives
 * (EBADF, EINVAL, EPERM), the fd is classified again with fstat(); if it
 * was misrouted, the call is repeated on the right side.
 * Every route does this, in both directions (route_retry()).
 * Successful calls never pay for the check; calls failing with one of
 * those three pay one fstat(), the others (EEXIST at ADD, ENOENT, EINTR)
 * none.
 * Fds beyond the table have a smaller direct-mapped one (fd_big[]).
 * Documentation/preload.rst has the measurements behind this choice.
 *
 * Signal safety: crash handlers call syscall() and programs call epoll
 * from signal handlers, so nothing on a call's path may take a lock or
 * allocate.  The C library's functions (dlsym()) and the environment
 * (getenv()) are read once, in the constructor preload_init(), before
 * main(); afterwards a call does atomic loads, fstat() and the system
 * calls themselves.  (EVPOLL_PRELOAD_DEBUG's messages use snprintf(): a
 * debugging aid, not signal-safe.)  Only a call made by another library's
 * constructor that runs before ours resolves what it needs on the spot.
 *
 * No global mutable state without atomics: the table, the device number,
 * the configuration and the dlsym() results are all atomics written with
 * idempotent values, so racing threads at worst compute them twice.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/evpoll.h>

#include "evpoll.h"
#include "forget.h"

#define PRELOAD_API	__attribute__((visibility("default")))

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* glibc before 2.35 does not declare it; this is its prototype. */
int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents,
		 const struct timespec *timeout, const sigset_t *sigmask);

/*
 * Targets whose time_t is 32-bit unless a program asks for 64 (i386:
 * __TIMESIZE == 32, <bits/timesize.h>).  In a program built with
 * -D_TIME_BITS=64, glibc's headers rename three calls the shim
 * interposes: fcntl and fcntl64 both become __fcntl_time64 (glibc 2.34+),
 * epoll_pwait2 becomes __epoll_pwait2_time64 (2.35+).  The plain names
 * stay, for programs built without, and epoll_pwait2 there takes a
 * struct timespec of two 32-bit longs.  The shim defines the new names
 * where the C library it is built against has them, and an epoll_pwait2
 * of the 32-bit time ABI.  The shim itself has a 64-bit time_t (the
 * wrapper in lib/evpoll.c requires it), so its struct timespec is
 * __epoll_pwait2_time64's.  64-bit targets: none of this.
 */
#if defined(__TIMESIZE) && __TIMESIZE == 32
#define PRELOAD_TIME32	1
#if defined(__GLIBC_PREREQ)
#if __GLIBC_PREREQ(2, 34)
#define PRELOAD_FCNTL_TIME64	1
#endif
#if __GLIBC_PREREQ(2, 35)
#define PRELOAD_PWAIT2_TIME64	1
#endif
#endif
_Static_assert(sizeof(struct timespec) == 16,
	       "the shim is built with a 64-bit time_t");

/* struct timespec of a program built without _TIME_BITS=64 */
struct preload_timespec32 {
	int32_t tv_sec;
	int32_t tv_nsec;
};
#endif

/* Per-fd routing hints. */
enum {
	FD_UNKNOWN = 0,
	FD_EVPOLL,
	FD_OTHER,
};
#define FD_CACHE_SIZE	65536
static _Atomic unsigned char fd_kind[FD_CACHE_SIZE];
/*
 * Fds from FD_CACHE_SIZE up (a server with 100,000 connections opens its
 * instance above them): a direct-mapped table of (fd << 2 | kind), one
 * slot per fd modulo FD_BIG_SLOTS, a hit when the slot holds that fd.
 * The same kind of hint as fd_kind[] (caught the same way when stale);
 * two fds sharing a slot only cost each other an fstat().
 */
#define FD_BIG_SLOTS	1024
static _Atomic unsigned long fd_big[FD_BIG_SLOTS];

/* st_rdev of /dev/evpoll + 1; 0 while unknown. */
static _Atomic unsigned long long preload_rdev1;

/* Configuration from the environment, read once. */
#define CFG_READ	0x1
#define CFG_FALLBACK	0x2
#define CFG_DEBUG	0x4
#define CFG_DEBUG_ALL	0x8
#define CFG_NO_FORGET	0x10
#define CFG_NO_FORGET_CLOSE	0x20
static _Atomic int preload_cfg;

typedef int (*create1_fn)(int);
typedef int (*ctl_fn)(int, int, int, struct epoll_event *);
typedef int (*wait_fn)(int, struct epoll_event *, int, int);
typedef int (*pwait_fn)(int, struct epoll_event *, int, int,
			const sigset_t *);
typedef int (*pwait2_fn)(int, struct epoll_event *, int,
			 const struct timespec *, const sigset_t *);

typedef long (*syscall_fn)(long number, ...);
typedef int (*close_fn)(int);
typedef int (*close_range_fn)(unsigned int, unsigned int, int);
typedef void (*closefrom_fn)(int);
typedef int (*dup_fn)(int);
typedef int (*dup2_fn)(int, int);
typedef int (*fcntl_fn)(int, int, ...);
typedef int (*dup3_fn)(int, int, int);
typedef int (*fclose_fn)(FILE *);

/* The C library's functions, by index into preload_real[]. */
enum {
	REAL_CREATE1,
	REAL_CTL,
	REAL_WAIT,
	REAL_PWAIT,
	REAL_PWAIT2,	/* NULL with a C library older than 2.35 */
	REAL_SYSCALL,
	REAL_CLOSE,
	REAL_CLOSE_RANGE,	/* NULL with a C library older than 2.34 */
	REAL_CLOSEFROM,		/* likewise */
	REAL_DUP,
	REAL_DUP2,
	REAL_DUP3,
	REAL_FCNTL,
	REAL_FCNTL64,		/* NULL with a C library older than 2.28 */
#ifdef PRELOAD_FCNTL_TIME64
	REAL_FCNTL_TIME64,
#endif
	REAL_FCLOSE,
	REAL_PCLOSE,
	REAL_NR
};

static const char *const preload_real_name[REAL_NR] = {
	[REAL_CREATE1]	= "epoll_create1",
	[REAL_CTL]	= "epoll_ctl",
	[REAL_WAIT]	= "epoll_wait",
	[REAL_PWAIT]	= "epoll_pwait",
#ifdef PRELOAD_TIME32
	/* the one that takes the shim's struct timespec (64-bit time) */
	[REAL_PWAIT2]	= "__epoll_pwait2_time64",
#else
	[REAL_PWAIT2]	= "epoll_pwait2",
#endif
	[REAL_SYSCALL]	= "syscall",
	[REAL_CLOSE]	= "close",
	[REAL_CLOSE_RANGE] = "close_range",
	[REAL_CLOSEFROM] = "closefrom",
	[REAL_DUP]	= "dup",
	[REAL_DUP2]	= "dup2",
	[REAL_DUP3]	= "dup3",
	[REAL_FCNTL]	= "fcntl",
	[REAL_FCNTL64]	= "fcntl64",
#ifdef PRELOAD_FCNTL_TIME64
	[REAL_FCNTL_TIME64] = "__fcntl_time64",
#endif
	[REAL_FCLOSE]	= "fclose",
	[REAL_PCLOSE]	= "pclose",
};

static _Atomic(void *) preload_real[REAL_NR];
/* Set once preload_real[] holds every dlsym() result (NULL included). */
static _Atomic bool preload_resolved;

static int cfg_read(void)
{
	int c = CFG_READ;
	const char *s;

	s = getenv("EVPOLL_PRELOAD_FALLBACK");
	if (s && !strcmp(s, "1"))
		c |= CFG_FALLBACK;
	s = getenv("EVPOLL_PRELOAD_DEBUG");
	if (s && *s && strcmp(s, "0")) {
		c |= CFG_DEBUG;
		if (atoi(s) >= 2)
			c |= CFG_DEBUG_ALL;
	}
	s = getenv("EVPOLL_PRELOAD_FORGET");
	if (s && !strcmp(s, "0"))
		c |= CFG_NO_FORGET;
	s = getenv("EVPOLL_PRELOAD_FORGET_CLOSE");
	if (s && !strcmp(s, "0"))
		c |= CFG_NO_FORGET_CLOSE;
	atomic_store_explicit(&preload_cfg, c, memory_order_relaxed);
	return c;
}

static int cfg(void)
{
	int c = atomic_load_explicit(&preload_cfg, memory_order_relaxed);

	return c ? c : cfg_read();
}

/* dlsym(RTLD_NEXT) every function of preload_real_name[]. */
static void preload_resolve(void)
{
	int i;

	for (i = 0; i < REAL_NR; i++)
		atomic_store_explicit(&preload_real[i],
				      dlsym(RTLD_NEXT, preload_real_name[i]),
				      memory_order_relaxed);
	atomic_store_explicit(&preload_resolved, true, memory_order_release);
}

/*
 * Before main(): everything a call will need later, so that no call does
 * dlsym() or getenv() (neither is async-signal-safe).  Priority 101 runs
 * it before the constructors of this object that have none.
 */
__attribute__((constructor(101))) static void preload_init(void)
{
	cfg_read();
	preload_resolve();
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

/* The C library's function number @which (REAL_*), or NULL. */
static void *real(int which)
{
	if (!atomic_load_explicit(&preload_resolved, memory_order_acquire))
		preload_resolve();	/* called before preload_init() */
	return atomic_load_explicit(&preload_real[which],
				    memory_order_relaxed);
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
	else if (fd >= FD_CACHE_SIZE)
		atomic_store_explicit(&fd_big[fd % FD_BIG_SLOTS],
				      (unsigned long)fd << 2 | kind,
				      memory_order_relaxed);
}

/* The hint of an fd at or above FD_CACHE_SIZE, FD_UNKNOWN if none. */
static unsigned char fd_big_kind(int fd)
{
	unsigned long v = atomic_load_explicit(&fd_big[fd % FD_BIG_SLOTS],
					       memory_order_relaxed);

	return v >> 2 == (unsigned long)fd ? (v & 3) : FD_UNKNOWN;
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
	else if (fd >= FD_CACHE_SIZE)
		kind = fd_big_kind(fd);
	if (kind == FD_UNKNOWN)
		kind = fd_classify(fd);
	return kind == FD_EVPOLL;
}

/*
 * After a failed call routed as @was_evpoll: true if @fd turns out to
 * belong to the other side, so that the call must be repeated there.
 * errno is preserved.  A misrouted call can only fail with EBADF, EINVAL
 * or EPERM (the kernel's epoll on a file that is not an epoll instance;
 * the wrapper turns the device's ENOTTY into one of those, as epoll
 * would say it): any other error (EEXIST, ENOENT, EINTR, ENOMEM...) is
 * the answer of the right side, and costs no fstat().
 */
static bool misrouted(int fd, bool was_evpoll)
{
	int saved = errno;
	bool now;

	if (saved != EBADF && saved != EINVAL && saved != EPERM)
		return false;
	now = fd_classify(fd) == FD_EVPOLL;
	errno = saved;
	if (now == was_evpoll)
		return false;
	DBG("fd %d is %s: call re-routed", fd,
	    now ? "/dev/evpoll" : "not evpoll");
	return true;
}

/*
 * Close-safety: the closes of watched fds
 *
 * The module pins every watched file; epoll drops an item when its file's
 * last reference goes, which a module cannot see.  So when the program
 * closes an fd that the shim registered in an instance (EPOLL_CTL_ADD
 * through the shim) without EPOLL_CTL_DEL first, the shim calls
 * EVPOLL_IOC_FORGET (evpoll_forget()) on that instance just before the
 * real close: the module drops the item if, once the fd is closed, nobody
 * but evpoll would hold the file (a dup()ed or inherited copy keeps it, as
 * with epoll), and the close then releases the file at once.  Closes seen:
 * close(), close_range() with flags 0 (CLOSE_RANGE_CLOEXEC closes
 * nothing; CLOSE_RANGE_UNSHARE: see close_range() below),
 * closefrom(), dup2()/dup3() over a registered fd, fclose() and pclose()
 * of a stream on one, and syscall() with SYS_close, SYS_close_range,
 * SYS_dup2 and SYS_dup3.  The closes this cannot see (the C library's
 * internal ones, exec of O_CLOEXEC fds, raw system calls) are left to
 * the module's reaper, as before: Documentation/preload.rst, "Limits".
 *
 * A copy of a registered fd (dup(), dup2(), dup3(), F_DUPFD of fcntl(),
 * fcntl64() and __fcntl_time64(), and their syscall() forms) is
 * registered where its source is: the module drops a file's items at the
 * FORGET of any fd of the file once nobody else holds it, so whichever
 * copy goes last releases the file at once.
 *
 * Which instances registered fd N: reg_inst[N], an atomic word per fd
 * number: 0 none, E + 1 the one instance E, REG_MULTI several (then every
 * instance number the shim knows, fd_kind[] == FD_EVPOLL below inst_hi,
 * is asked; ENOENT answers are free).  Set after a successful ADD or MOD
 * on an evpoll instance, cleared after a DEL on the one instance and by a
 * close whose FORGET did not keep the item (a kept item stays registered:
 * the number's next close asks again, which costs one ENOENT at worst, and
 * a vfork()ed child that shares our memory cannot make the parent forget
 * its own registrations).  An entry may name an instance number that was
 * closed since: a close of an instance resets its routing hint, and only
 * numbers whose hint is FD_EVPOLL are asked; a number reused by another
 * instance answers ENOENT.  fork() copies the table with the fds, so a
 * child's closes are seen too (the module keeps the item while the other
 * process holds the file).
 *
 * On a module with EVPOLL_IOC_FEAT_FORGET_CLOSE, the closes that only
 * close (close(), close_range() with flags 0, closefrom(), syscall() with
 * SYS_close) close a registered fd through the FORGET of the last instance
 * asked, with EVPOLL_FORGET_CLOSE: one system call instead of two (the
 * other instances get a plain FORGET first; the module pins a file once
 * for all instances, so the order does not matter).  When the module
 * refuses (the fd is not open, or is a copy of that instance) nothing was
 * closed and the C library's close follows.  dup2()/dup3(), fclose() and
 * pclose() close inside the C library: they keep the plain FORGET.
 *
 * Cost: a close() in a process that never registered an fd on a module
 * with the ioctl does one relaxed atomic load more than the C library's
 * close(); once something is registered, a close of an unregistered fd
 * loads its two table entries.  Documentation/preload.rst has the
 * figures.  Only fds and instances below FD_CACHE_SIZE are tracked.
 * Nothing here locks or allocates: close() is async-signal-safe.
 */
#define REG_MULTI	UINT32_MAX
static _Atomic uint32_t reg_inst[FD_CACHE_SIZE];
static _Atomic bool reg_any;		/* anything ever registered */
static _Atomic int reg_hi;		/* highest registered fd + 1 */
static _Atomic int inst_hi;		/* highest registering instance + 1 */

enum {
	FORGET_UNKNOWN = 0,
	FORGET_YES,		/* EVPOLL_IOC_FORGET */
	FORGET_YES_CLOSE,	/* and EVPOLL_FORGET_CLOSE */
	FORGET_NO,
};
static _Atomic int forget_state;

static void atomic_max(_Atomic int *p, int v)
{
	int cur = atomic_load_explicit(p, memory_order_relaxed);

	while (cur < v && !atomic_compare_exchange_weak_explicit(p, &cur, v,
					memory_order_relaxed,
					memory_order_relaxed))
		;
}

/*
 * Does the module have EVPOLL_IOC_FORGET?  Asked once per process, of the
 * first instance that gets an item (EVPOLL_PRELOAD_FORGET=0: never use
 * it), with EVPOLL_FORGET_CLOSE (EVPOLL_PRELOAD_FORGET_CLOSE=0: never).
 */
static bool forget_supported(int epfd)
{
	int st = atomic_load_explicit(&forget_state, memory_order_relaxed);

	if (st == FORGET_UNKNOWN) {
		struct evpoll_version v = { .size = sizeof(v) };
		int saved = errno;

		st = FORGET_NO;
		if (!(cfg() & CFG_NO_FORGET) &&
		    !ioctl(epfd, EVPOLL_IOC_VERSION, &v) &&
		    (v.features & EVPOLL_IOC_FEAT_FORGET))
			st = !(cfg() & CFG_NO_FORGET_CLOSE) &&
			     (v.features & EVPOLL_IOC_FEAT_FORGET_CLOSE) ?
			     FORGET_YES_CLOSE : FORGET_YES;
		errno = saved;
		atomic_store_explicit(&forget_state, st, memory_order_relaxed);
		DBG("EVPOLL_IOC_FORGET %s",
		    st == FORGET_YES_CLOSE ? "in use, with EVPOLL_FORGET_CLOSE" :
		    st == FORGET_YES ? "in use" :
		    "not used: closed fds are left to the module's reaper");
	}
	return st == FORGET_YES || st == FORGET_YES_CLOSE;
}

/* May a close be made by EVPOLL_FORGET_CLOSE (asked once registered)? */
static bool forget_close_supported(void)
{
	return atomic_load_explicit(&forget_state, memory_order_relaxed) ==
	       FORGET_YES_CLOSE;
}

/* After a successful ADD or MOD of @fd on the evpoll instance @epfd. */
static void reg_add(int epfd, int fd)
{
	uint32_t cur, want = (uint32_t)epfd + 1, next;

	if (fd < 0 || fd >= FD_CACHE_SIZE || epfd < 0 ||
	    epfd >= FD_CACHE_SIZE || !forget_supported(epfd))
		return;
	cur = atomic_load_explicit(&reg_inst[fd], memory_order_relaxed);
	do {
		if (cur == want || cur == REG_MULTI)
			break;
		next = cur ? REG_MULTI : want;
	} while (!atomic_compare_exchange_weak_explicit(&reg_inst[fd], &cur,
					next, memory_order_relaxed,
					memory_order_relaxed));
	atomic_max(&reg_hi, fd + 1);
	atomic_max(&inst_hi, epfd + 1);
	if (!atomic_load_explicit(&reg_any, memory_order_relaxed))
		atomic_store_explicit(&reg_any, true, memory_order_relaxed);
}

/* After a successful DEL of @fd on @epfd: nothing to forget any more. */
static void reg_del(int epfd, int fd)
{
	uint32_t cur = (uint32_t)epfd + 1;

	if (fd >= 0 && fd < FD_CACHE_SIZE)
		atomic_compare_exchange_strong_explicit(&reg_inst[fd], &cur, 0,
					memory_order_relaxed,
					memory_order_relaxed);
}

/* After a successful ctl on an evpoll instance. */
static void reg_ctl(int epfd, int op, int fd)
{
	if (op == EPOLL_CTL_DEL)
		reg_del(epfd, fd);
	else
		reg_add(epfd, fd);
}

/* @fd's registration goes, unless it changed from @r meanwhile. */
static void reg_clear(int fd, uint32_t r)
{
	atomic_compare_exchange_strong_explicit(&reg_inst[fd], &r, 0,
						memory_order_relaxed,
						memory_order_relaxed);
}

/* Is @e (still) an instance that may be asked to forget @fd? */
static bool forget_target(int e, int fd)
{
	return e != fd &&
	       atomic_load_explicit(&fd_kind[e], memory_order_relaxed) ==
	       FD_EVPOLL;
}

/* FORGET @fd in instance @e if @e still is one; true if the item was kept. */
static bool forget_in(int e, int fd)
{
	int ret;

	if (!forget_target(e, fd))
		return false;
	ret = evpoll_forget(e, fd);
	DBG_ALL("forget(%d, %d) = %d%s%s", e, fd, ret, ret < 0 ? " " : "",
		ret < 0 ? strerror(errno) : "");
	return ret == 0;
}

/* A close not made (the C library's close must follow). */
#define NOT_CLOSED	INT_MIN

/*
 * FORGET @fd in instance @e with EVPOLL_FORGET_CLOSE.  Returns close()'s
 * result (0, or -1 with errno), with *@kept true if the item was kept (a
 * close error says nothing of it: kept, so the number is asked again), or
 * NOT_CLOSED if the module refused and @fd is still open (EBADF: not open;
 * EINVAL: a copy of @e; ENOTTY: @e is no instance any more).
 */
static int forget_close_in(int e, int fd, bool *kept)
{
	struct evpoll_forget f = { .fd = fd, .flags = EVPOLL_FORGET_CLOSE };
	int ret = ioctl(e, EVPOLL_IOC_FORGET, &f);

	DBG_ALL("forget_close(%d, %d) = %d%s%s", e, fd, ret,
		ret < 0 ? " " : "", ret < 0 ? strerror(errno) : "");
	if (ret >= 0) {
		*kept = ret == 0;
		return 0;
	}
	if (evpoll__forget_close_left_open(errno))
		return NOT_CLOSED;
	*kept = true;
	return -1;
}

/*
 * @fd is about to be closed (slow path: it is registered somewhere).  With
 * @do_close, the last instance asked closes it (EVPOLL_FORGET_CLOSE): returns
 * close()'s result, or NOT_CLOSED when @fd is still open.
 */
static int forget_registered(int fd, uint32_t r, bool do_close)
{
	int e, hi, last = -1, ret = NOT_CLOSED;
	bool kept = false, k = false;

	if (r != REG_MULTI) {
		last = (int)r - 1;
		if (!do_close || !forget_target(last, fd)) {
			kept = forget_in(last, fd);
			last = -1;
		}
	} else {
		hi = atomic_load_explicit(&inst_hi, memory_order_relaxed);
		for (e = hi - 1; do_close && e >= 0 && last < 0; e--)
			if (forget_target(e, fd))
				last = e;
		for (e = 0; e < hi; e++)
			if (e != last)
				kept |= forget_in(e, fd);
	}
	/*
	 * Cleared before the close: once closed, the number can be reused and
	 * registered by another thread at once, which a clearing after the
	 * close would undo.  A kept item registers the number again (a stale
	 * registration costs one FORGET that finds nothing).
	 */
	if (!kept)
		reg_clear(fd, r);
	if (last >= 0) {
		ret = forget_close_in(last, fd, &k);
		if (k && !kept) {
			uint32_t none = 0;

			atomic_compare_exchange_strong_explicit(&reg_inst[fd],
					&none, r, memory_order_relaxed,
					memory_order_relaxed);
		}
	}
	return ret;
}

/*
 * @fd is about to be closed: FORGET it where it is registered; if it is
 * an instance, its routing hint goes.  With @do_close (and a module with
 * EVPOLL_FORGET_CLOSE), a registered @fd is closed here: returns close()'s
 * result (errno preserved on success), else NOT_CLOSED (errno preserved)
 * and the caller closes.
 */
static int preload_forget_close(int fd, bool do_close)
{
	int saved, ret = NOT_CLOSED;
	uint32_t r;

	if (fd < 0 || fd >= FD_CACHE_SIZE)
		return NOT_CLOSED;
	r = atomic_load_explicit(&reg_inst[fd], memory_order_relaxed);
	if (atomic_load_explicit(&fd_kind[fd], memory_order_relaxed) ==
	    FD_EVPOLL)
		fd_hint(fd, FD_UNKNOWN);
	if (r) {
		saved = errno;
		ret = forget_registered(fd, r,
					do_close && forget_close_supported());
		if (ret != -1)
			errno = saved;
	}
	return ret;
}

/* @fd is about to be closed by the C library: FORGET only. */
static void preload_forget(int fd)
{
	preload_forget_close(fd, false);
}

static bool tracking(void)
{
	return atomic_load_explicit(&reg_any, memory_order_relaxed);
}

/* Would closing @fd make the shim do anything? */
static bool close_tracked(int fd)
{
	return fd >= 0 && fd < FD_CACHE_SIZE &&
	       (atomic_load_explicit(&reg_inst[fd], memory_order_relaxed) ||
		atomic_load_explicit(&fd_kind[fd], memory_order_relaxed) ==
		FD_EVPOLL);
}

/*
 * [@first, @last] are about to be closed (close_range() with flags 0,
 * closefrom()): the registered fds among them are closed here, by
 * EVPOLL_FORGET_CLOSE where the module has it (their errors are ignored,
 * as close_range() ignores them), the rest by the C library's call.
 */
static void preload_forget_range(unsigned int first, unsigned int last)
{
	int hi = atomic_load_explicit(&reg_hi, memory_order_relaxed);
	int ihi = atomic_load_explicit(&inst_hi, memory_order_relaxed);
	unsigned int fd;

	if (ihi > hi)
		hi = ihi;
	for (fd = first; fd <= last && fd < (unsigned int)hi; fd++)
		preload_forget_close((int)fd, true);
}

/*
 * dup2()/dup3() close @newfd unless they fail; they fail without closing
 * it when @oldfd is not open (EBADF), so FORGET only when @oldfd is.
 */
static void preload_forget_dup(int oldfd, int newfd)
{
	if (oldfd != newfd && close_tracked(newfd) &&
	    fcntl(oldfd, F_GETFD) >= 0)
		preload_forget(newfd);
}

/*
 * @newfd is now a copy of @oldfd (dup(), dup2(), dup3(), F_DUPFD): it is
 * registered where @oldfd is.  The module drops a file's items at the
 * FORGET of any of its fds once no other holder is left, so the copy's
 * close, when it is the last, releases the file at once too.
 */
static void reg_copy(int oldfd, int newfd)
{
	uint32_t r;

	if (oldfd < 0 || oldfd >= FD_CACHE_SIZE || newfd < 0 ||
	    newfd >= FD_CACHE_SIZE || oldfd == newfd)
		return;
	r = atomic_load_explicit(&reg_inst[oldfd], memory_order_relaxed);
	if (!r)
		return;
	atomic_store_explicit(&reg_inst[newfd], r, memory_order_relaxed);
	atomic_max(&reg_hi, newfd + 1);
}

static long real_syscall6(long nr, long a, long b, long c)
{
	syscall_fn fn = (syscall_fn)real(REAL_SYSCALL);

	if (!fn)
		return real_missing("syscall");
	return fn(nr, a, b, c, 0L, 0L, 0L);
}

PRELOAD_API int close(int fd)
{
	close_fn fn = (close_fn)real(REAL_CLOSE);
	int ret;

	if (tracking()) {
		ret = preload_forget_close(fd, true);
		if (ret != NOT_CLOSED)
			return ret;
	}
	if (!fn)
		return (int)real_syscall6(SYS_close, fd, 0, 0);
	return fn(fd);
}

/*
 * Only flags 0 closes for sure: CLOSE_RANGE_CLOEXEC closes nothing, an
 * unknown flag makes the call fail (EINVAL) with nothing closed, and
 * CLOSE_RANGE_UNSHARE closes in a private copy of the fd table, while
 * other threads of a process that shares its table keep the files: a
 * FORGET now would see only the shared table's reference and drop items
 * the other threads still use, so those closes are left to the reaper
 * (they come right before an exec, as a rule, in a child whose parent
 * still holds the files).
 */
PRELOAD_API int close_range(unsigned int first, unsigned int last, int flags)
{
	close_range_fn fn = (close_range_fn)real(REAL_CLOSE_RANGE);

	if (tracking() && first <= last && !flags)
		preload_forget_range(first, last);
	if (!fn)
		return (int)real_syscall6(SYS_close_range, first, last, flags);
	return fn(first, last, flags);
}

PRELOAD_API void closefrom(int lowfd)
{
	closefrom_fn fn = (closefrom_fn)real(REAL_CLOSEFROM);

	if (lowfd < 0)
		lowfd = 0;
	if (tracking())
		preload_forget_range((unsigned int)lowfd, ~0U);
	if (fn)
		fn(lowfd);
	else
		real_syscall6(SYS_close_range, lowfd, ~0L, 0);
}

PRELOAD_API int dup(int oldfd)
{
	dup_fn fn = (dup_fn)real(REAL_DUP);
	int ret;

	if (!fn)
		return real_missing("dup");
	ret = fn(oldfd);
	if (ret >= 0 && tracking())
		reg_copy(oldfd, ret);
	return ret;
}

PRELOAD_API int dup2(int oldfd, int newfd)
{
	dup2_fn fn = (dup2_fn)real(REAL_DUP2);
	bool t = tracking();
	int ret;

	if (!fn)
		return real_missing("dup2");
	if (t)
		preload_forget_dup(oldfd, newfd);
	ret = fn(oldfd, newfd);
	if (ret >= 0 && t)
		reg_copy(oldfd, ret);
	return ret;
}

PRELOAD_API int dup3(int oldfd, int newfd, int flags)
{
	dup3_fn fn = (dup3_fn)real(REAL_DUP3);
	bool t = tracking() && !(flags & ~O_CLOEXEC);
	int ret;

	if (!fn)
		return real_missing("dup3");
	if (t)
		preload_forget_dup(oldfd, newfd);
	ret = fn(oldfd, newfd, flags);
	if (ret >= 0 && t)
		reg_copy(oldfd, ret);
	return ret;
}

/*
 * fcntl() and fcntl64() (what programs built with _FILE_OFFSET_BITS=64
 * call), and __fcntl_time64() (what both are in programs built with
 * _TIME_BITS=64 on i386, glibc 2.34+: PRELOAD_FCNTL_TIME64 above):
 * F_DUPFD and F_DUPFD_CLOEXEC copy a registration.  The third argument
 * is passed on as the C library reads it, one pointer-sized value
 * whatever the command.
 */
static int do_fcntl(int which, const char *name, int fd, int cmd, void *arg)
{
	fcntl_fn fn = (fcntl_fn)real(which);
	int ret;

	if (!fn)
		return real_missing(name);
	ret = fn(fd, cmd, arg);
	if (ret >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) &&
	    tracking())
		reg_copy(fd, ret);
	return ret;
}

/*
 * Named by asm labels: where the C library's header renames fcntl and
 * fcntl64 (the shim itself is built with _TIME_BITS=64 on i386), the
 * shim must still define the symbols programs were linked against.
 */
#define PRELOAD_FCNTL(fname, sym, which)				\
PRELOAD_API int fname(int fd, int cmd, ...) __asm__(sym);		\
PRELOAD_API int fname(int fd, int cmd, ...)				\
{									\
	va_list ap;							\
	void *arg;							\
									\
	va_start(ap, cmd);						\
	arg = va_arg(ap, void *);					\
	va_end(ap);							\
	return do_fcntl(which, sym, fd, cmd, arg);			\
}

PRELOAD_FCNTL(preload_fcntl, "fcntl", REAL_FCNTL)
PRELOAD_FCNTL(preload_fcntl64, "fcntl64", REAL_FCNTL64)
#ifdef PRELOAD_FCNTL_TIME64
PRELOAD_FCNTL(preload_fcntl_time64, "__fcntl_time64", REAL_FCNTL_TIME64)
#endif

/* The C library closes a stream's fd internally: seen here, not in close(). */
static int stream_close(FILE *f, int which, const char *name)
{
	fclose_fn fn = (fclose_fn)real(which);

	if (tracking() && f)
		preload_forget(fileno(f));
	return fn ? fn(f) : real_missing(name);
}

PRELOAD_API int fclose(FILE *f)
{
	return stream_close(f, REAL_FCLOSE, "fclose");
}

PRELOAD_API int pclose(FILE *f)
{
	return stream_close(f, REAL_PCLOSE, "pclose");
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
		create1_fn fn = (create1_fn)real(REAL_CREATE1);

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
	fn = (ctl_fn)real(REAL_CTL);
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
	if (ev && !ret)
		reg_ctl(epfd, op, fd);
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
		wait_fn fn = (wait_fn)real(REAL_WAIT);

		return fn ? fn(epfd, events, maxevents, timeout) :
			    real_missing("epoll_wait");
	} else {
		pwait_fn fn = (pwait_fn)real(REAL_PWAIT);

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
	syscall_fn sys;

	if (ev)
		return evpoll_pwait2(epfd, events, maxevents, timeout, sigmask);
	fn = (pwait2_fn)real(REAL_PWAIT2);
	if (fn)
		return fn(epfd, events, maxevents, timeout, sigmask);
	/*
	 * A C library older than 2.35: the system call, through the C
	 * library's syscall() (our own would route an evpoll fd back here).
	 */
	sys = (syscall_fn)real(REAL_SYSCALL);
	if (!sys)
		return real_missing("syscall");
	return (int)sys(SYS_epoll_pwait2, epfd, events, maxevents, timeout,
			sigmask, _NSIG / 8);
}

static int do_pwait2(int epfd, struct epoll_event *events, int maxevents,
		     const struct timespec *timeout, const sigset_t *sigmask)
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

#ifndef PRELOAD_TIME32
PRELOAD_API int epoll_pwait2(int epfd, struct epoll_event *events,
			     int maxevents, const struct timespec *timeout,
			     const sigset_t *sigmask)
{
	return do_pwait2(epfd, events, maxevents, timeout, sigmask);
}
#else
/*
 * i386 (PRELOAD_TIME32 above): epoll_pwait2 of a program built without
 * _TIME_BITS=64 takes two 32-bit longs; converted as the C library's own
 * epoll_pwait2 does before it calls __epoll_pwait2_time64.
 */
PRELOAD_API int preload_epoll_pwait2_time32(int epfd,
		struct epoll_event *events, int maxevents,
		const struct preload_timespec32 *timeout,
		const sigset_t *sigmask) __asm__("epoll_pwait2");
PRELOAD_API int preload_epoll_pwait2_time32(int epfd,
		struct epoll_event *events, int maxevents,
		const struct preload_timespec32 *timeout,
		const sigset_t *sigmask)
{
	struct timespec ts;

	if (timeout) {
		/* i386's struct timespec has padding after tv_nsec: zeroed */
		memset(&ts, 0, sizeof(ts));
		ts.tv_sec = timeout->tv_sec;
		ts.tv_nsec = timeout->tv_nsec;
	}
	return do_pwait2(epfd, events, maxevents, timeout ? &ts : NULL,
			 sigmask);
}

#ifdef PRELOAD_PWAIT2_TIME64
/* epoll_pwait2 of a program built with _TIME_BITS=64 (glibc 2.35+) */
PRELOAD_API int preload_epoll_pwait2_time64(int epfd,
		struct epoll_event *events, int maxevents,
		const struct timespec *timeout, const sigset_t *sigmask)
		__asm__("__epoll_pwait2_time64");
PRELOAD_API int preload_epoll_pwait2_time64(int epfd,
		struct epoll_event *events, int maxevents,
		const struct timespec *timeout, const sigset_t *sigmask)
{
	return do_pwait2(epfd, events, maxevents, timeout, sigmask);
}
#endif
#endif

/*
 * syscall(): programs that call the epoll system calls directly (the
 * kernel's own selftests do so for epoll_pwait2) on an fd the shim made.
 * Only calls on an existing instance are routed; epoll_create* through
 * syscall() still make a kernel epoll instance, as the caller asked the
 * kernel directly.  Six long arguments are read whatever the number, as
 * the C library's own syscall() does.
 */
static bool is_epoll_nr(long nr)
{
	switch (nr) {
	case SYS_epoll_ctl:
#ifdef SYS_epoll_wait		/* not on arm64 and other new ports */
	case SYS_epoll_wait:
#endif
	case SYS_epoll_pwait:
	case SYS_epoll_pwait2:
		return true;
	default:
		return false;
	}
}

static long syscall_on_evpoll(long nr, const long a[6])
{
	const sigset_t *mask = (const sigset_t *)a[4];

	switch (nr) {
	case SYS_epoll_ctl:
		return evpoll_ctl((int)a[0], (int)a[1], (int)a[2],
				  (struct epoll_event *)a[3]);
#ifdef SYS_epoll_wait
	case SYS_epoll_wait:
		return evpoll_wait((int)a[0], (struct epoll_event *)a[1],
				   (int)a[2], (int)a[3]);
#endif
	case SYS_epoll_pwait:
		return evpoll_pwait((int)a[0], (struct epoll_event *)a[1],
				    (int)a[2], (int)a[3], mask);
	default:	/* SYS_epoll_pwait2 */
		return evpoll_pwait2((int)a[0], (struct epoll_event *)a[1],
				     (int)a[2], (const struct timespec *)a[3],
				     mask);
	}
}

static long route_syscall(bool ev, long nr, const long a[6])
{
	syscall_fn fn;

	/*
	 * A signal-mask size the wrapper cannot pass on: the kernel refuses
	 * it (EINVAL, or EFAULT/EINVAL for a bad timespec checked before it)
	 * before it looks at the fd, so it answers for the device too.
	 */
	if (ev && (nr == SYS_epoll_pwait || nr == SYS_epoll_pwait2) &&
	    a[4] && a[5] != _NSIG / 8)
		ev = false;
	if (ev)
		return syscall_on_evpoll(nr, a);
	fn = (syscall_fn)real(REAL_SYSCALL);
	if (!fn)
		return real_missing("syscall");
	return fn(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* syscall() of a number that closes fds: what close() & co. do first. */
static void syscall_forget(long nr, const long a[6])
{
	switch (nr) {
	case SYS_close:		/* syscall() forgets (and closes) it itself */
		break;
	case SYS_close_range:
		if ((unsigned int)a[0] <= (unsigned int)a[1] && !a[2])
			preload_forget_range((unsigned int)a[0],
					     (unsigned int)a[1]);
		break;
#ifdef SYS_dup2		/* not on arm64 and other new ports */
	case SYS_dup2:
		preload_forget_dup((int)a[0], (int)a[1]);
		break;
#endif
	case SYS_dup3:
		if (!(a[2] & ~(long)O_CLOEXEC))
			preload_forget_dup((int)a[0], (int)a[1]);
		break;
	default:
		break;
	}
}

/* Does syscall(@nr, @a...) make a copy of fd a[0] (its result)? */
static bool syscall_dups(long nr, const long a[6])
{
	switch (nr) {
	case SYS_dup:
#ifdef SYS_dup2
	case SYS_dup2:
#endif
		return true;
	case SYS_dup3:
		return !(a[2] & ~(long)O_CLOEXEC);
	case SYS_fcntl:
#ifdef SYS_fcntl64	/* i386: what the C library's fcntl calls */
	case SYS_fcntl64:
#endif
		return a[1] == F_DUPFD || a[1] == F_DUPFD_CLOEXEC;
	default:
		return false;
	}
}

PRELOAD_API long syscall(long number, ...)
{
	bool epoll_call = is_epoll_nr(number), ev = false;
	va_list ap;
	long a[6], ret;
	int i;

	va_start(ap, number);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);

	if (!epoll_call) {
		if (!tracking())
			return route_syscall(false, number, a);
		if (number == SYS_close) {
			ret = preload_forget_close((int)a[0], true);
			if (ret != NOT_CLOSED)
				return ret;
		}
		syscall_forget(number, a);
		ret = route_syscall(false, number, a);
		if (ret >= 0 && syscall_dups(number, a))
			reg_copy((int)a[0], (int)ret);
		return ret;
	}
	ev = fd_is_evpoll((int)a[0]);
	ret = route_syscall(ev, number, a);
	if (ret < 0 && misrouted((int)a[0], ev)) {
		ev = !ev;
		ret = route_syscall(ev, number, a);
	}
	if (ev && !ret && number == SYS_epoll_ctl)
		reg_ctl((int)a[0], (int)a[1], (int)a[2]);
	DBG_ALL("syscall(%ld, %d%s) = %ld", number, (int)a[0],
		ev ? " evpoll" : "", ret);
	return ret;
}
