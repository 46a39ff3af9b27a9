/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * syscall.h - the Linux native AIO system calls, as liburing's
 * src/syscall.h does for io_uring: one copy, shared by the readiness
 * backend (backend-linuxaio.c) and the completion backend (aio-linux.c).
 *
 * glibc has no wrappers for io_setup(2) & co. (libaio's io_setup() is a
 * different ABI), so they are called through syscall(2) with the
 * structures of <linux/aio_abi.h>.  Every wrapper returns what the system
 * call returns on success (0, or a count) and -errno on failure; none of
 * them leaves the caller to read errno.
 */
#ifndef _EVPOLL_SYSCALL_H
#define _EVPOLL_SYSCALL_H

#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/aio_abi.h>

static inline int evpoll__io_setup(unsigned int nr, aio_context_t *ctx)
{
	long ret = syscall(__NR_io_setup, nr, ctx);

	return ret < 0 ? -errno : (int)ret;
}

static inline int evpoll__io_destroy(aio_context_t ctx)
{
	long ret = syscall(__NR_io_destroy, ctx);

	return ret < 0 ? -errno : (int)ret;
}

static inline int evpoll__io_submit(aio_context_t ctx, long nr,
				    struct iocb **iocbs)
{
	long ret = syscall(__NR_io_submit, ctx, nr, iocbs);

	return ret < 0 ? -errno : (int)ret;
}

static inline int evpoll__io_cancel(aio_context_t ctx, struct iocb *iocb,
				    struct io_event *result)
{
	long ret = syscall(__NR_io_cancel, ctx, iocb, result);

	return ret < 0 ? -errno : (int)ret;
}

static inline int evpoll__io_getevents(aio_context_t ctx, long min_nr,
				       long nr, struct io_event *events,
				       struct timespec *timeout)
{
	long ret = syscall(__NR_io_getevents, ctx, min_nr, nr, events,
			   timeout);

	return ret < 0 ? -errno : (int)ret;
}

/*
 * io_pgetevents(2) (Linux 4.18, as IOCB_CMD_POLL) without a signal mask:
 * the same wait as io_getevents(), but interrupted with nothing reaped it
 * returns -ERESTARTNOHAND, not -EINTR: the kernel restarts it (with the
 * whole timeout again) unless a signal handler ran, which then gives
 * -EINTR.  A task_work notification (TIF_NOTIFY_SIGNAL, io_uring) is no
 * signal and runs no handler: no EINTR for it.
 */
static inline int evpoll__io_pgetevents(aio_context_t ctx, long min_nr,
					long nr, struct io_event *events,
					struct timespec *timeout)
{
	long ret = syscall(__NR_io_pgetevents, ctx, min_nr, nr, events,
			   timeout, NULL);

	return ret < 0 ? -errno : (int)ret;
}

#endif /* _EVPOLL_SYSCALL_H */
