// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * evpoll.c - the /dev/evpoll wrapper: epoll's system calls, on the device.
 *
 * Every function here has the signature of its epoll counterpart and
 * returns -1 with errno set exactly as that call would, so a program can
 * switch with a search-and-replace (or through libevpoll-preload.so).  The
 * device speaks two ioctls (include/uapi/linux/evpoll.h); what the kernel
 * cannot see is decided here, in the order fs/eventpoll.c decides it:
 *
 *  - ctl with ADD or MOD reads the event from user memory before anything
 *    else, so a NULL event is EFAULT even when the fds are bad;
 *  - wait checks maxevents (EINVAL) and the range of the events pointer
 *    (EFAULT); when they are bad, the kernel's epoll is asked which error
 *    comes first (the order changed after 6.1), see wrap_wait_errors();
 *  - pwait2 validates the timespec, and pwait the signal mask, before the
 *    fd, as epoll_pwait2() and epoll_pwait() do;
 *  - an fd that is not an evpoll instance makes the ioctl fail with ENOTTY,
 *    where epoll says EINVAL ("epfd is not an epoll file descriptor").
 *    Before saying EINVAL, ctl repeats the checks epoll makes first on the
 *    target fd (EBADF, EPERM), so the errno is the one epoll returns.
 *
 * errno is set in one place, wrap_errno_return().
 *
 * "Asking the kernel's epoll" is a raw system call made here, by
 * wrap_sys_epoll_pwait2(), never through the C library's epoll_pwait2() or
 * syscall(): under libevpoll-preload.so those symbols are the shim's own,
 * which route an evpoll fd back to this file (an endless recursion, a
 * stack overflow, was the result), and the same holds for a program
 * linked with libevpoll.so that runs under the shim.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/evpoll.h>

#include "evpoll.h"
#include "forget.h"

/* The kernel's sigset_t is _NSIG bits: 8 bytes on every Linux target. */
#define WRAP_SIGSETSIZE	8

/* fs/eventpoll.c EP_MAX_EVENTS */
#define WRAP_MAX_EVENTS	(INT_MAX / (int)sizeof(struct epoll_event))

_Static_assert(sizeof(struct epoll_event) == sizeof(struct evpoll_event),
	       "struct epoll_event and struct evpoll_event differ");
_Static_assert(EPOLL_CTL_ADD == EVPOLL_CTL_ADD &&
	       EPOLL_CTL_DEL == EVPOLL_CTL_DEL &&
	       EPOLL_CTL_MOD == EVPOLL_CTL_MOD, "EPOLL_CTL_* differ");
/*
 * The device and epoll_pwait2() read a struct __kernel_timespec: on a
 * 32-bit target the library (and its callers) must be built with a 64-bit
 * time_t (-D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64, glibc 2.34+).
 */
_Static_assert(sizeof(struct timespec) == 16,
	       "struct timespec is not struct __kernel_timespec "
	       "(32-bit targets: build with -D_TIME_BITS=64)");

/*
 * wrap_range_bad - true if [@p, @p + @len) is certainly outside the user
 * address range, where access_ok() fails and epoll says EFAULT before it
 * looks at the fd.  x86-64: TASK_SIZE_MAX with 4-level paging (a 5-level
 * kernel accepts more; the device then answers EFAULT itself).  arm64:
 * the largest VA_BITS, 52.  32-bit tasks: a 64-bit kernel's access_ok()
 * accepts every 32-bit range, so nothing is "certainly" outside.
 */
static bool wrap_range_bad(const void *p, uint64_t len)
{
	uint64_t start = (uint64_t)(uintptr_t)p, end = start + len;

	if (end < start)
		return true;
#if defined(__x86_64__)
	return end > 0x00007ffffffff000ULL;
#elif defined(__aarch64__)
	return end > (1ULL << 52);
#else
	return false;
#endif
}

/*
 * wrap_sys_epoll_pwait2 - the kernel's epoll_pwait2(2), as a system call
 * instruction of our own (see the top of this file: no symbol of the C
 * library may be used for it).  Returns the result or -errno; errno is
 * not touched.  A 64-bit @sigmask size, as the kernel's sigset_t.
 */
static long wrap_sys_epoll_pwait2(int epfd, struct epoll_event *evs,
				  int maxevents, const struct timespec *ts,
				  const sigset_t *sigmask)
{
	long nr = __NR_epoll_pwait2;
	long ret;
#if defined(__x86_64__)
	register long r10 __asm__("r10") = (long)ts;
	register long r8 __asm__("r8") = (long)sigmask;
	register long r9 __asm__("r9") = WRAP_SIGSETSIZE;

	__asm__ volatile ("syscall"
			  : "=a" (ret)
			  : "a" (nr), "D" ((long)epfd), "S" (evs),
			    "d" ((long)maxevents), "r" (r10), "r" (r8), "r" (r9)
			  : "rcx", "r11", "memory");
#elif defined(__i386__)
	/* six arguments: the sixth in %ebp, which may be the frame pointer */
	long a6 = WRAP_SIGSETSIZE;

	__asm__ volatile ("pushl %7\n\t"
			  "push %%ebp\n\t"
			  "mov 4(%%esp), %%ebp\n\t"
			  "int $0x80\n\t"
			  "pop %%ebp\n\t"
			  "add $4, %%esp"
			  : "=a" (ret)
			  : "a" (nr), "b" ((long)epfd), "c" (evs),
			    "d" ((long)maxevents), "S" (ts), "D" (sigmask),
			    "g" (a6)
			  : "memory");
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = epfd;
	register long x1 __asm__("x1") = (long)evs;
	register long x2 __asm__("x2") = maxevents;
	register long x3 __asm__("x3") = (long)ts;
	register long x4 __asm__("x4") = (long)sigmask;
	register long x5 __asm__("x5") = WRAP_SIGSETSIZE;

	__asm__ volatile ("svc 0"
			  : "+r" (x0)
			  : "r" (x8), "r" (x1), "r" (x2), "r" (x3), "r" (x4),
			    "r" (x5)
			  : "memory");
	ret = x0;
#else
#error "libevpoll: add a raw epoll_pwait2 system call stub for this architecture (lib/evpoll.c)"
#endif
	return ret;
}

static int wrap_errno_return(int ret)
{
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

/*
 * wrap_not_instance - errno epoll_ctl() gives when its epfd is not an
 * epoll fd: the checks on the target @fd come first.
 */
static int wrap_not_instance(int fd)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -EBADF;
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISBLK(st.st_mode))
		return -EPERM;
	return -EINVAL;
}

/**
 * evpoll_create1() - open a new evpoll instance
 * @flags: 0 or EVPOLL_CLOEXEC (== EPOLL_CLOEXEC)
 *
 * Like epoll_create1(2), on /dev/evpoll.
 *
 * Return: a file descriptor, or -1 with errno set (EINVAL for unknown
 * flags; the error of open(2) on /dev/evpoll otherwise, e.g. ENOENT when
 * the module is not loaded).
 */
int evpoll_create1(int flags)
{
	int fd;

	if (flags & ~EPOLL_CLOEXEC)
		return wrap_errno_return(-EINVAL);
	fd = open(EVPOLL_DEVICE,
		  O_RDWR | ((flags & EPOLL_CLOEXEC) ? O_CLOEXEC : 0));
	if (fd < 0)
		return -1;
	return fd;
}

/**
 * evpoll_create() - open a new evpoll instance, old interface
 * @size: ignored, but must be greater than zero
 *
 * Like epoll_create(2).
 *
 * Return: a file descriptor, or -1 with errno set (EINVAL if @size <= 0).
 */
int evpoll_create(int size)
{
	if (size <= 0)
		return wrap_errno_return(-EINVAL);
	return evpoll_create1(0);
}

/**
 * evpoll_ctl() - add, modify or remove an fd of an evpoll instance
 * @evfd:	the instance
 * @op:		EPOLL_CTL_ADD, EPOLL_CTL_MOD or EPOLL_CTL_DEL
 * @fd:		the target file descriptor
 * @ev:		events and user data (may be NULL for EPOLL_CTL_DEL)
 *
 * Like epoll_ctl(2).
 *
 * Return: 0, or -1 with errno set as epoll_ctl() sets it.
 */
int evpoll_ctl(int evfd, int op, int fd, struct epoll_event *ev)
{
	struct evpoll_ctl ctl = {
		.op = (__u32)op,
		.fd = fd,
	};

	if (op != EPOLL_CTL_DEL) {
		/* epoll reads the event before anything else */
		if (!ev || wrap_range_bad(ev, sizeof(*ev)))
			return wrap_errno_return(-EFAULT);
		ctl.events = ev->events;
		ctl.data = ev->data.u64;
	}
	if (ioctl(evfd, EVPOLL_IOC_CTL, &ctl) == 0)
		return 0;
	if (errno == ENOTTY)
		return wrap_errno_return(wrap_not_instance(fd));
	return -1;
}

/*
 * wrap_wait_errors - the errno epoll would give for a wait that fails
 * before reaching the device (@maxevents or @evs bad).  Which check comes
 * first, the fd's (EBADF) or the arguments' (EINVAL, EFAULT), changed
 * between kernels (6.1 checks the arguments first, newer kernels the fd),
 * so the kernel's own epoll is asked: the same call, on the same fd, with
 * the same bad arguments (timespec and signal mask included, which epoll
 * checks even earlier), fails at once without side effects.
 */
static int wrap_wait_errors(int evfd, struct epoll_event *evs,
			    int maxevents, const struct timespec *ts,
			    const sigset_t *sigmask, int fallback)
{
	struct timespec zero = { 0, 0 };
	long ret = wrap_sys_epoll_pwait2(evfd, evs, maxevents,
					 ts ? ts : &zero, sigmask);

	return ret < 0 ? (int)ret : fallback;
}

static int wrap_wait(int evfd, struct epoll_event *evs, int maxevents,
		     __s64 timeout, const struct timespec *ts,
		     const sigset_t *sigmask)
{
	struct evpoll_wait w = {
		.events = (__u64)(uintptr_t)evs,
		.timeout = ts ? (__s64)(uintptr_t)ts : timeout,
		.sigmask = (__u64)(uintptr_t)sigmask,
		.sigsetsize = sigmask ? WRAP_SIGSETSIZE : 0,
		.maxevents = maxevents,
		.flags = ts ? EVPOLL_WAIT_TIMESPEC : 0,
	};
	int ret;

	if (maxevents <= 0 || maxevents > WRAP_MAX_EVENTS)
		return wrap_errno_return(wrap_wait_errors(evfd, evs,
				maxevents, ts, sigmask, -EINVAL));
	if (wrap_range_bad(evs, (uint64_t)maxevents *
				sizeof(struct epoll_event)))
		return wrap_errno_return(wrap_wait_errors(evfd, evs,
				maxevents, ts, sigmask, -EFAULT));

	ret = ioctl(evfd, EVPOLL_IOC_WAIT, &w);
	if (ret >= 0)
		return ret;
	ret = errno == ENOTTY ? -EINVAL : -errno;
	/*
	 * epoll_pwait2() reads the timespec, and epoll_pwait() the signal
	 * mask, before it looks at the fd: on a bad fd, a bad timespec or
	 * mask must still be EFAULT or EINVAL.  The kernel checks them for
	 * us (fd -1 fails with EBADF after them, without side effects).
	 */
	if ((ts || sigmask) && (ret == -EBADF || ret == -EINVAL)) {
		long k = wrap_sys_epoll_pwait2(-1, evs, maxevents, ts,
					       sigmask);

		if (k < 0 && k != -EBADF)
			ret = (int)k;
	}
	return wrap_errno_return(ret);
}

static __s64 wrap_ms_to_ns(int timeout_ms)
{
	if (timeout_ms < 0)
		return -1;
	return (__s64)timeout_ms * 1000000;
}

/**
 * evpoll_wait() - wait for events on an evpoll instance
 * @evfd:	the instance
 * @evs:	array receiving the events
 * @maxevents:	capacity of @evs, greater than zero
 * @timeout_ms:	milliseconds to wait, -1 forever, 0 not at all
 *
 * Like epoll_wait(2).
 *
 * Return: the number of events stored (0 on timeout), or -1 with errno
 * set as epoll_wait() sets it.
 */
int evpoll_wait(int evfd, struct epoll_event *evs, int maxevents,
		int timeout_ms)
{
	return wrap_wait(evfd, evs, maxevents, wrap_ms_to_ns(timeout_ms),
			 NULL, NULL);
}

/**
 * evpoll_pwait() - wait for events with a temporary signal mask
 * @evfd:	the instance
 * @evs:	array receiving the events
 * @maxevents:	capacity of @evs, greater than zero
 * @timeout_ms:	milliseconds to wait, -1 forever, 0 not at all
 * @sigmask:	signal mask to install for the wait, or NULL
 *
 * Like epoll_pwait(2).
 *
 * Return: the number of events stored (0 on timeout), or -1 with errno
 * set as epoll_pwait() sets it.
 */
int evpoll_pwait(int evfd, struct epoll_event *evs, int maxevents,
		 int timeout_ms, const sigset_t *sigmask)
{
	return wrap_wait(evfd, evs, maxevents, wrap_ms_to_ns(timeout_ms),
			 NULL, sigmask);
}

/**
 * evpoll_pwait2() - wait for events, nanosecond timeout and signal mask
 * @evfd:	the instance
 * @evs:	array receiving the events
 * @maxevents:	capacity of @evs, greater than zero
 * @timeout:	time to wait, or NULL to wait forever
 * @sigmask:	signal mask to install for the wait, or NULL
 *
 * Like epoll_pwait2(2).  The kernel reads and validates *@timeout (EFAULT,
 * EINVAL), so the struct is passed as the kernel's struct
 * __kernel_timespec, which glibc's struct timespec is on 64-bit targets.
 *
 * Return: the number of events stored (0 on timeout), or -1 with errno
 * set as epoll_pwait2() sets it.
 */
int evpoll_pwait2(int evfd, struct epoll_event *evs, int maxevents,
		  const struct timespec *timeout, const sigset_t *sigmask)
{
	if (!timeout)	/* block: a NULL timespec pointer, as epoll */
		return wrap_wait(evfd, evs, maxevents, -1, NULL, sigmask);
	return wrap_wait(evfd, evs, maxevents, 0, timeout, sigmask);
}

/*
 * wrap_forget_unsupported - after ENOTTY from EVPOLL_IOC_FORGET: true if
 * @evfd is an evpoll instance of a module without the ioctl (it answers
 * EVPOLL_IOC_VERSION, or says EINVAL to a WAIT with maxevents 0), false
 * if it is no instance at all.
 */
static bool wrap_forget_unsupported(int evfd)
{
	struct evpoll_version v = { .size = sizeof(v) };
	struct evpoll_wait w = { 0 };

	if (ioctl(evfd, EVPOLL_IOC_VERSION, &v) == 0)
		return true;
	return errno == ENOTTY && ioctl(evfd, EVPOLL_IOC_WAIT, &w) < 0 &&
	       errno == EINVAL;
}

/**
 * evpoll_forget() - drop @fd's item before @fd is closed
 * @evfd:	the instance
 * @fd:		a watched fd the caller is about to close (still open)
 *
 * Tells the instance that @fd is about to be closed.  If, once it is
 * closed, nothing but the instance would hold its file, the item is
 * dropped now, so that the close() that follows releases the file at once
 * (a closed socket's peer sees its FIN, a listener's port is free, a
 * pipe's reader sees EOF).  If other references remain (a dup()ed fd, a
 * forked child's copy), the item is kept, as epoll keeps it; the module's
 * reaper drops it once the file has no other holder.  See
 * evpoll_forget(3).
 *
 * Return: 1 if the item was dropped, 0 if it was kept, -1 with errno:
 * ENOENT (no item for @fd in this instance), EBADF (@evfd or @fd not
 * open), EINVAL (@evfd not an evpoll instance), EOPNOTSUPP (the module is
 * too old for this call: its reaper drops the item after the close).
 */
int evpoll_forget(int evfd, int fd)
{
	struct evpoll_forget f = { .fd = fd };
	int ret = ioctl(evfd, EVPOLL_IOC_FORGET, &f);

	if (ret >= 0)
		return ret > 0;
	if (errno != ENOTTY)
		return -1;
	return wrap_errno_return(wrap_forget_unsupported(evfd) ?
				 -EOPNOTSUPP : -EINVAL);
}

/*
 * Does the module have EVPOLL_FORGET_CLOSE?  Asked once per process, of
 * the first instance given to evpoll_close() that answers
 * EVPOLL_IOC_VERSION (an fd that does not answer is asked again next
 * time); racing first calls ask twice and store the same answer.
 */
enum { FC_UNKNOWN, FC_YES, FC_NO };
static _Atomic int forget_close_state;

static bool forget_close_supported(int evfd)
{
	int st = atomic_load_explicit(&forget_close_state,
				      memory_order_relaxed);
	struct evpoll_version v = { .size = sizeof(v) };

	if (st != FC_UNKNOWN)
		return st == FC_YES;
	if (ioctl(evfd, EVPOLL_IOC_VERSION, &v))
		return false;
	st = (v.features & EVPOLL_IOC_FEAT_FORGET_CLOSE) ? FC_YES : FC_NO;
	atomic_store_explicit(&forget_close_state, st, memory_order_relaxed);
	return st == FC_YES;
}

/**
 * evpoll_close() - forget @fd in @evfd, then close it
 * @evfd:	the instance that watches @fd
 * @fd:		the fd to close
 *
 * evpoll_forget(@evfd, @fd), then close(@fd): the close of a watched fd
 * without EPOLL_CTL_DEL, with epoll's effect (the file is released by
 * this close if nothing else holds it).  The forget is best effort: its
 * failure (@fd not watched, a module without the call) never keeps @fd
 * open.  On a module with EVPOLL_IOC_FEAT_FORGET_CLOSE both are one
 * system call (EVPOLL_FORGET_CLOSE); a failure that left @fd open (@evfd
 * no instance, @fd an fd of @evfd itself, @fd not open) is followed by
 * close(@fd), whose answer is returned.  See evpoll_close(3).
 *
 * Return: what close(@fd) returns: 0, or -1 with close()'s errno.
 */
int evpoll_close(int evfd, int fd)
{
	struct evpoll_forget f = { .fd = fd, .flags = EVPOLL_FORGET_CLOSE };
	int saved = errno;

	if (forget_close_supported(evfd)) {
		if (ioctl(evfd, EVPOLL_IOC_FORGET, &f) >= 0)
			return 0;
		/* fd closed, close()'s error (EIO, EINTR, ...) */
		if (!evpoll__forget_close_left_open(errno))
			return -1;
		errno = saved;	/* fd untouched: close() it */
		return close(fd);
	}
	if (evpoll_forget(evfd, fd) < 0)
		errno = saved;
	return close(fd);
}
