// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * liburing-none.c - the out-of-line liburing functions libevpoll calls,
 * for a build whose architecture has no liburing to link (i386 on Debian
 * 12: liburing-dev:i386 needs a multiarch dpkg, which this project does
 * not set up; see tools/arch-build.sh).  Setting a ring up fails with
 * -ENOSYS, as on a kernel without io_uring, so the io_uring poller and
 * completion backends report themselves unavailable
 * (evpoll_backend_probe() < 0) and the rest of the library is built and
 * tested as usual.  The other functions are never reached without a ring.
 */
#include <errno.h>
#include <liburing.h>

int io_uring_queue_init_params(unsigned int entries, struct io_uring *ring,
			       struct io_uring_params *p)
{
	return -ENOSYS;
}

void io_uring_queue_exit(struct io_uring *ring)
{
}

int io_uring_submit(struct io_uring *ring)
{
	return -ENOSYS;
}

int io_uring_submit_and_wait(struct io_uring *ring, unsigned int wait_nr)
{
	return -ENOSYS;
}

int io_uring_submit_and_wait_timeout(struct io_uring *ring,
				     struct io_uring_cqe **cqe_ptr,
				     unsigned int wait_nr,
				     struct __kernel_timespec *ts,
				     sigset_t *sigmask)
{
	return -ENOSYS;
}

int __io_uring_get_cqe(struct io_uring *ring, struct io_uring_cqe **cqe_ptr,
		       unsigned int submit, unsigned int wait_nr,
		       sigset_t *sigmask)
{
	return -ENOSYS;
}
