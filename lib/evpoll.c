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
 *  - pwait2 validates the timespec before the fd, as epoll_pwait2() does;
 *  - an fd that is not an evpoll instance makes the ioctl fail with ENOTTY,
 *    where epoll says EINVAL ("epfd is not an epoll file descriptor").
 *    Before saying EINVAL, ctl repeats the checks epoll makes first on the
 *    target fd (EBADF, EPERM), so the errno is the one epoll returns.
 *
 * errno is set in one place, wrap_errno_return().
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/evpoll.h>

#include "evpoll.h"

/* The kernel's sigset_t is _NSIG bits: 8 bytes on every Linux target. */
#define WRAP_SIGSETSIZE	8

/* fs/eventpoll.c EP_MAX_EVENTS */
#define WRAP_MAX_EVENTS	(INT_MAX / (int)sizeof(struct epoll_event))

/* Highest user address + 1 on x86-64 (4-level paging), as access_ok(). */
#define WRAP_TASK_SIZE	0x00007ffffffff000ULL

_Static_assert(sizeof(struct epoll_event) == sizeof(struct evpoll_event),
	       "struct epoll_event and struct evpoll_event differ");
_Static_assert(EPOLL_CTL_ADD == EVPOLL_CTL_ADD &&
	       EPOLL_CTL_DEL == EVPOLL_CTL_DEL &&
	       EPOLL_CTL_MOD == EVPOLL_CTL_MOD, "EPOLL_CTL_* differ");
_Static_assert(sizeof(struct timespec) == 16,
	       "struct timespec is not struct __kernel_timespec");

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
		if (!ev)
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
 * the same bad arguments, fails at once without side effects.
 */
static int wrap_wait_errors(int evfd, struct epoll_event *evs,
			    int maxevents, const struct timespec *ts,
			    int fallback)
{
	struct timespec zero = { 0, 0 };

	if (epoll_pwait2(evfd, evs, maxevents, ts ? ts : &zero, NULL) < 0)
		return -errno;
	return fallback;
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
	uint64_t end;
	int ret;

	if (maxevents <= 0 || maxevents > WRAP_MAX_EVENTS)
		return wrap_errno_return(wrap_wait_errors(evfd, evs,
				maxevents, ts, -EINVAL));
	end = (uint64_t)(uintptr_t)evs +
	      (uint64_t)maxevents * sizeof(struct epoll_event);
	if (end > WRAP_TASK_SIZE || end < (uint64_t)(uintptr_t)evs)
		return wrap_errno_return(wrap_wait_errors(evfd, evs,
				maxevents, ts, -EFAULT));

	ret = ioctl(evfd, EVPOLL_IOC_WAIT, &w);
	if (ret >= 0)
		return ret;
	ret = errno == ENOTTY ? -EINVAL : -errno;
	/*
	 * epoll_pwait2() reads the timespec before it looks at the fd: on a
	 * bad fd, a bad timespec must still be EFAULT or EINVAL.  The kernel
	 * checks it for us (fd -1 fails with EBADF after the timespec).
	 */
	if (ts && (ret == -EBADF || ret == -EINVAL) &&
	    epoll_pwait2(-1, evs, maxevents, ts, NULL) < 0 && errno != EBADF)
		ret = -errno;
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
