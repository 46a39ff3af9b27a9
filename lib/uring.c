// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * uring.c - the io_uring set-up shared by backend-uring.c (poll requests)
 * and aio-uring.c (read/write requests): see uring.h.
 */
#include <errno.h>
#include <string.h>

#include "uring.h"

/**
 * evpoll__uring_init() - set up a ring
 * @ring:	the ring to set up
 * @sq:		SQ entries
 * @cq:		CQ entries (IORING_SETUP_CQSIZE, Linux 5.5)
 * @flags:	more IORING_SETUP_* flags the ring can do without: when the
 *		kernel refuses them with -EINVAL (IORING_SETUP_SUBMIT_ALL
 *		before 5.18), the ring is set up without them
 *
 * Return: 0, or -errno from io_uring_setup(2) (-ENOSYS, -EPERM when
 * io_uring is disabled, -ENOMEM...).
 */
int evpoll__uring_init(struct io_uring *ring, unsigned int sq,
		       unsigned int cq, unsigned int flags)
{
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE | flags;
	p.cq_entries = cq;
	ret = io_uring_queue_init_params(sq, ring, &p);
	if (ret == -EINVAL && flags) {
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE;
		p.cq_entries = cq;
		ret = io_uring_queue_init_params(sq, ring, &p);
	}
	return ret;
}

/* 0 if a ring can be set up here (as evpoll__uring_init() does), or -errno. */
int evpoll__uring_probe(void)
{
	struct io_uring ring;
	int ret = evpoll__uring_init(&ring, 2, 4, 0);

	if (ret < 0)
		return ret;
	io_uring_queue_exit(&ring);
	return 0;
}

/* A free SQE, after submitting what the SQ holds if it is full; or NULL. */
struct io_uring_sqe *evpoll__uring_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}
