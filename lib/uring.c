// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * uring.c - the io_uring set-up shared by backend-uring.c (poll requests)
 * and aio-uring.c (read/write requests): see uring.h.
 *
 * notes about tearing a ring down:
 *
 * When the last reference to a ring's file goes, the kernel tears the
 * ring down in a workqueue (io_ring_exit_work()): once the ring's
 * references are gone (an RCU grace period later: 12-28 ms measured on
 * 6.18, see tests/lib/uring_test.c) it queues a task_work with
 * TWA_SIGNAL on every thread in the ring's task list (the thread that set
 * it up and every thread that submitted to it) and waits for each to run
 * it.  TWA_SIGNAL sets TIF_NOTIFY_SIGNAL, which makes signal_pending()
 * true: a thread that is then blocked in epoll_wait() or io_getevents(),
 * or enters one, gets EINTR although no signal was sent (system calls
 * that return -ERESTARTNOHAND, poll() and select() among them, are
 * restarted instead).  IORING_SETUP_DEFER_TASKRUN and SINGLE_ISSUER do not
 * change this (the same test with both flags: EINTR after 20 ms).
 *
 * So the library does not leave that notification to strike later:
 *  - evpoll__uring_probe() sets no ring up at all;
 *  - evpoll__uring_exit() waits, after closing the ring, for the
 *    notification to reach the calling thread, with every signal blocked
 *    (so that only the task_work can end the wait), up to
 *    URING_EXIT_WAIT_MS; it runs on the way back to user space.  It does
 *    so only when the calling thread is in the ring's task list, as
 *    recorded by evpoll__uring_used().  Other threads that used the ring
 *    are notified too, and may see one EINTR: documented in
 *    Documentation/backends.rst.  When another process still holds the
 *    ring's file (a child forked since), closing it tears nothing down
 *    and the wait lasts its whole URING_EXIT_WAIT_MS.
 *
 * The callers cancel their requests before evpoll__uring_exit(), so that
 * the kernel's cancellation at teardown queues no further task_work.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "uring.h"

/* The longest wait for the teardown's task_work (measured: 12-28 ms). */
#define URING_EXIT_WAIT_MS	500

/* Record the calling thread as one the ring's teardown will notify. */
void evpoll__uring_used(struct evpoll__uring_users *users)
{
	pthread_t self = pthread_self();
	int i;

	for (i = users->n - 1; i >= 0; i--)
		if (pthread_equal(users->tid[i], self))
			return;
	if (users->n == EVPOLL__URING_USERS) {
		users->many = 1;
		return;
	}
	users->tid[users->n++] = self;
}

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

/* Start @users with the calling thread, which has just set the ring up. */
void evpoll__uring_users_init(struct evpoll__uring_users *users)
{
	memset(users, 0, sizeof(*users));
	users->pid = getpid();
	evpoll__uring_used(users);
}

/* Is the calling thread in the task list of the ring @users describes? */
static int uring_notifies_me(const struct evpoll__uring_users *users)
{
	pthread_t self = pthread_self();
	int i;

	if (users->pid != getpid())
		return 0;	/* a forked child */
	for (i = 0; i < users->n; i++)
		if (pthread_equal(users->tid[i], self))
			return 1;
	return 0;
}

/**
 * evpoll__uring_exit() - tear a ring down, leaving no EINTR behind
 * @ring:	the ring, its requests already cancelled
 * @users:	the threads that used it (evpoll__uring_init(),
 *		evpoll__uring_used())
 *
 * See "notes about tearing a ring down" above.  Costs one RCU grace period
 * (the kernel's own teardown) when the calling thread used the ring.
 */
void evpoll__uring_exit(struct io_uring *ring,
			const struct evpoll__uring_users *users)
{
	struct timespec ts = {
		.tv_sec = URING_EXIT_WAIT_MS / 1000,
		.tv_nsec = (long)(URING_EXIT_WAIT_MS % 1000) * 1000000,
	};
	sigset_t all, none, old;
	int saved = errno;

	io_uring_queue_exit(ring);
	if (!uring_notifies_me(users))
		return;
	sigfillset(&all);
	sigemptyset(&none);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	/* EINTR once the task_work is there; it runs on the way out. */
	sigtimedwait(&none, NULL, &ts);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
}

/*
 * 0 if io_uring can be used here, or -errno: io_uring_setup(2) is asked
 * with no parameters, so that no ring is set up (see the notes above).  It
 * fails with EFAULT where io_uring exists and is allowed, ENOSYS where it
 * does not exist (or seccomp hides it), EPERM where it is disabled
 * (kernel.io_uring_disabled, seccomp).
 */
int evpoll__uring_probe(void)
{
	int saved = errno, ret;
	long fd = syscall(__NR_io_uring_setup, 1, NULL);

	if (fd >= 0) {
		/* Cannot happen: params is NULL. */
		close((int)fd);
		ret = 0;
	} else {
		ret = errno == EFAULT ? 0 : -errno;
	}
	errno = saved;
	return ret;
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
