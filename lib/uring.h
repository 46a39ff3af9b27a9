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

#include <pthread.h>
#include <sys/types.h>

#include <liburing.h>

/* Threads remembered by struct evpoll__uring_users. */
#define EVPOLL__URING_USERS	4

/**
 * struct evpoll__uring_users - the threads the kernel will notify when a
 * ring is torn down: the one that set it up and every one that submitted
 * to it (each gets a node in the ring's task list)
 * @pid:	the process that set the ring up (a forked child is not in
 *		its task list)
 * @tid:	the threads, pthread_self() values
 * @n:		number of @tid in use
 * @many:	more threads than @tid holds used the ring
 */
struct evpoll__uring_users {
	pid_t pid;
	pthread_t tid[EVPOLL__URING_USERS];
	int n;
	int many;
};

int evpoll__uring_init(struct io_uring *ring, unsigned int sq,
		       unsigned int cq, unsigned int flags);
void evpoll__uring_users_init(struct evpoll__uring_users *users);
void evpoll__uring_used(struct evpoll__uring_users *users);
void evpoll__uring_exit(struct io_uring *ring,
			const struct evpoll__uring_users *users);
int evpoll__uring_probe(void);
struct io_uring_sqe *evpoll__uring_sqe(struct io_uring *ring);

#endif /* _EVPOLL_URING_H */
