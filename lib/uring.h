/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * uring.h - the io_uring set-up shared by the readiness backend
 * (backend-uring.c) and the completion backend (aio-uring.c).
 *
 * Both go through liburing, whose functions already return -errno; so do
 * these.
 */
#ifndef _EVPOLL_URING_H
#define _EVPOLL_URING_H

#include <liburing.h>

int evpoll__uring_init(struct io_uring *ring, unsigned int sq,
		       unsigned int cq, unsigned int flags);
int evpoll__uring_probe(void);
struct io_uring_sqe *evpoll__uring_sqe(struct io_uring *ring);

#endif /* _EVPOLL_URING_H */
