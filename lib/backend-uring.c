// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * backend-uring.c - the io_uring backend (poll requests, through liburing).
 *
 * notes about io_uring poll:
 *
 * IORING_OP_POLL_ADD arms a poll request on one fd; when the file becomes
 * ready the request completes with the ready mask in cqe->res.  A plain
 * request is one-shot.  Since Linux 5.13 a request can be multishot
 * (IORING_POLL_ADD_MULTI): it stays armed and posts a CQE, flagged
 * IORING_CQE_F_MORE, at every wakeup of the file.  The kernel may still
 * end a multishot request (CQ overflow, cancellation): its last CQE lacks
 * F_MORE, and the request must be armed again.
 *
 * How the poller's modes map onto that:
 *
 *  - level-triggered (default): a one-shot request, armed again after
 *    each delivery.  Arming polls the file at once, so an fd that is still
 *    ready completes again right away: level semantics, at the price of
 *    one SQE per delivered event.  Multishot cannot do LT: it posts on
 *    wakeups, and a level nobody drained causes no further wakeup.  The
 *    re-arms are queued and submitted together by the next wait, in the
 *    same io_uring_enter() that waits.
 *  - EPOLLET: a multishot request, when the kernel has it (probed once per
 *    poller: a multishot poll of a readable eventfd must complete with
 *    F_MORE).  Otherwise EVPOLL_CAP_ET is cleared and EPOLLET is refused.
 *    When the kernel ends the request it is armed again, which may report
 *    a level that is not a new edge (allowed: ET permits spurious events).
 *  - EPOLLONESHOT: a one-shot request not armed again until MOD.
 *
 * A multishot request posts one CQE per wakeup of the file, so five writes
 * to a pipe between two waits are five CQEs.  epoll reports an fd at most
 * once per wait: the CQEs of one fd collected by one wait are merged into
 * one entry (their masks ORed; URING_BATCH below).
 *
 * Every request is tagged (user_data) with the fd and the generation of
 * its registration.  MOD and DEL cancel the request in flight with
 * IORING_OP_POLL_REMOVE (remove + add for MOD, which works on every
 * kernel, where POLL_REMOVE's update mode needs 5.13); the CQE of the
 * cancelled request, or one posted before the cancel was seen, carries an
 * old generation and is dropped.  The removal requests themselves are
 * tagged 0, which matches no registration.  DEL submits at once, so that
 * the file is released when the caller closes it; ADD and MOD are
 * submitted by the next wait (one system call for many changes).
 *
 * The requests pin their files: an fd closed without DEL keeps its file
 * alive until the poller is freed (a socket's peer sees no FIN).  Cost:
 * the VM measurements in Documentation/backends.rst (a wait costs about
 * what epoll costs, but cancelling grows with the number of requests).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backend.h"
#include "uring.h"

#define URING_ENTRIES		256
#define URING_CQ_ENTRIES	4096

/*
 * evpoll__fd.bidx bits; bu64 is the tag of the request in flight, or 0.
 * While a wait collects CQEs, an fd that has an entry in the caller's
 * array has URING_BATCH set and the entry's index above URING_BATCH_SHIFT.
 */
#define URING_PENDING		(1 << 0)	/* in the arm list */
#define URING_BATCH		(1 << 1)	/* has an entry in this batch */
#define URING_BATCH_SHIFT	2

struct uring_poller {
	struct io_uring ring;
	struct evpoll__uring_users users;
	int *arm;		/* fds to arm at the next wait */
	int narm;
	int armcap;
};

/* Does this kernel have multishot poll? */
static int uring_has_multishot(struct uring_poller *u)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int efd, ret, multi = 0;

	efd = eventfd(1, EFD_CLOEXEC);
	if (efd < 0)
		return 0;
	sqe = evpoll__uring_sqe(&u->ring);
	io_uring_prep_poll_multishot(sqe, efd, EPOLLIN);
	sqe->user_data = 1;
	ret = io_uring_submit_and_wait(&u->ring, 1);
	if (ret >= 0 && io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		multi = cqe->res > 0 && (cqe->flags & IORING_CQE_F_MORE);
		io_uring_cqe_seen(&u->ring, cqe);
	}
	if (multi) {
		sqe = evpoll__uring_sqe(&u->ring);
		io_uring_prep_poll_remove(sqe, 1);
		sqe->user_data = 0;
		io_uring_submit(&u->ring);
	}
	/* Late CQEs of the probe are tagged 0 or 1: no registration's tag. */
	close(efd);
	return multi;
}

static int uring_init(struct evpoll_poller *p)
{
	struct uring_poller *u;
	int ret;

	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	ret = evpoll__uring_init(&u->ring, URING_ENTRIES, URING_CQ_ENTRIES, 0);
	if (ret < 0) {
		free(u);
		return ret;
	}
	evpoll__uring_users_init(&u->users);
	if (!uring_has_multishot(u))
		p->caps &= ~(EVPOLL_CAP_ET | EVPOLL_CAP_KERNEL_ET);
	p->priv = u;
	return 0;
}

static int uring_cancel(struct uring_poller *u, struct evpoll__fd *f);

static void uring_destroy(struct evpoll_poller *p)
{
	struct uring_poller *u = p->priv;
	int fd;

	/*
	 * Remove the requests now (POLL_REMOVE completes them at once), so
	 * that the kernel's teardown has none to cancel: the task_work of
	 * such a cancellation would be one more spurious EINTR.
	 */
	for (fd = 0; fd < p->nfds; fd++)
		if (evpoll__fd_lookup(p, fd))
			uring_cancel(u, &p->fds[fd]);
	io_uring_submit(&u->ring);
	evpoll__uring_exit(&u->ring, &u->users);
	free(u->arm);
	free(u);
}

/* Room for one more fd in the arm list. */
static int uring_arm_reserve(struct uring_poller *u)
{
	if (u->narm == u->armcap) {
		int cap = u->armcap ? u->armcap * 2 : 64;
		int *arm = realloc(u->arm, (size_t)cap * sizeof(*arm));

		if (!arm)
			return -ENOMEM;
		u->arm = arm;
		u->armcap = cap;
	}
	return 0;
}

/* Queue @fd to be armed by the next wait. */
static int uring_queue_arm(struct uring_poller *u, int fd,
			   struct evpoll__fd *f)
{
	int ret;

	if (f->bidx & URING_PENDING)
		return 0;
	ret = uring_arm_reserve(u);
	if (ret < 0)
		return ret;
	u->arm[u->narm++] = fd;
	f->bidx |= URING_PENDING;
	return 0;
}

static int uring_arm(struct uring_poller *u, int fd, struct evpoll__fd *f)
{
	struct io_uring_sqe *sqe;

	if (f->bu64 || (f->state & EVPOLL__FD_DISARMED))
		return 0;
	sqe = evpoll__uring_sqe(&u->ring);
	if (!sqe)
		return -EBUSY;
	if ((f->events & EPOLLET) && !(f->events & EPOLLONESHOT))
		io_uring_prep_poll_multishot(sqe, fd, evpoll__fd_want(f));
	else
		io_uring_prep_poll_add(sqe, fd, evpoll__fd_want(f));
	f->bu64 = evpoll__tag(fd, f);
	sqe->user_data = f->bu64;
	return 0;
}

static int uring_cancel(struct uring_poller *u, struct evpoll__fd *f)
{
	struct io_uring_sqe *sqe;

	if (!f->bu64)
		return 0;
	sqe = evpoll__uring_sqe(&u->ring);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_remove(sqe, f->bu64);
	sqe->user_data = 0;
	f->bu64 = 0;
	return 0;
}

static int uring_ctl(struct evpoll_poller *p, int op, int fd,
		     struct evpoll__fd *f)
{
	struct uring_poller *u = p->priv;
	int ret;

	evpoll__uring_used(&u->users);
	switch (op) {
	case EPOLL_CTL_ADD:
		f->bidx = 0;
		f->bu64 = 0;
		return uring_queue_arm(u, fd, f);
	case EPOLL_CTL_MOD:
		/*
		 * Room first: a MOD that fails must leave the old request
		 * armed (poller.c restores the old registration), not cancel
		 * it and then fail to queue the new one.
		 */
		ret = uring_arm_reserve(u);
		if (ret == 0)
			ret = uring_cancel(u, f);
		if (ret < 0)
			return ret;
		return uring_queue_arm(u, fd, f);
	case EPOLL_CTL_DEL:
		ret = uring_cancel(u, f);
		io_uring_submit(&u->ring);
		return ret;
	}
	return -EINVAL;
}

static int uring_flush_arms(struct evpoll_poller *p)
{
	struct uring_poller *u = p->priv;
	int i, ret = 0;

	for (i = 0; i < u->narm; i++) {
		struct evpoll__fd *f = evpoll__fd_lookup(p, u->arm[i]);

		if (!f || !(f->bidx & URING_PENDING))
			continue;
		ret = uring_arm(u, u->arm[i], f);
		if (ret < 0)
			break;
		f->bidx &= ~URING_PENDING;
	}
	if (i < u->narm) {
		memmove(u->arm, u->arm + i, (size_t)(u->narm - i) * sizeof(int));
		u->narm -= i;
	} else {
		u->narm = 0;
	}
	return ret;
}

/* The live registration @cqe belongs to, or NULL (stale, removal...). */
static struct evpoll__fd *uring_cqe_fd(struct evpoll_poller *p,
				       const struct io_uring_cqe *cqe)
{
	struct evpoll__fd *f = evpoll__tag_lookup(p, cqe->user_data);

	return f && f->bu64 == cqe->user_data ? f : NULL;
}

/*
 * One CQE: the events to report for @f (its uring_cqe_fd()), 0 if none.
 * The caller stores them, in the fd's entry of this batch if it has one:
 * a multishot request posts one CQE per wakeup, epoll one entry per fd
 * per wait.
 */
static uint32_t uring_complete(struct evpoll_poller *p, struct evpoll__fd *f,
			       const struct io_uring_cqe *cqe)
{
	struct uring_poller *u = p->priv;
	int fd = evpoll__tag_fd(cqe->user_data);
	uint32_t events;

	if (!f)
		return 0;
	if (!(cqe->flags & IORING_CQE_F_MORE))
		f->bu64 = 0;		/* the request is over */
	if (cqe->res < 0) {
		if (cqe->res == -EBADF && !evpoll__fd_is_open(fd))
			evpoll__fd_forget(p, fd);
		else if (!f->bu64)
			uring_queue_arm(u, fd, f);
		return 0;
	}
	events = evpoll__fd_report(f, (uint32_t)cqe->res);
	if (!f->bu64 && (!events || !(f->events & EPOLLONESHOT)))
		uring_queue_arm(u, fd, f);
	return events;
}

static int uring_wait(struct evpoll_poller *p, struct evpoll_poller_event *evs,
		      int max, int timeout_ms)
{
	struct uring_poller *u = p->priv;
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0;
	int i, ret, n = 0;

	evpoll__uring_used(&u->users);
	ret = uring_flush_arms(p);
	if (ret < 0)
		return ret;
	if (timeout_ms < 0) {
		ret = io_uring_submit_and_wait(&u->ring, 1);
	} else {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long long)(timeout_ms % 1000) * 1000000;
		ret = io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, &ts,
						       NULL);
	}
	if (ret < 0 && ret != -ETIME && ret != -EAGAIN && ret != -EBUSY)
		return ret;

	/*
	 * A CQE of an fd that has an entry adds its mask to that entry; when
	 * @evs is full, such CQEs are still taken, the first one that needs
	 * a new entry is left for the next wait.
	 */
	io_uring_for_each_cqe(&u->ring, head, cqe) {
		struct evpoll__fd *f = uring_cqe_fd(p, cqe);
		uint32_t events;

		if (n == max && !(f && (f->bidx & URING_BATCH)))
			break;
		seen++;
		events = uring_complete(p, f, cqe);
		if (!events)
			continue;
		if (f->bidx & URING_BATCH) {
			evs[f->bidx >> URING_BATCH_SHIFT].events |= events;
			continue;
		}
		evpoll__event_set(&evs[n], evpoll__tag_fd(cqe->user_data), f,
				  events);
		f->bidx |= URING_BATCH | (n << URING_BATCH_SHIFT);
		n++;
	}
	io_uring_cq_advance(&u->ring, seen);
	for (i = 0; i < n; i++)
		p->fds[evs[i].fd].bidx &= URING_PENDING;
	return n;
}

const struct evpoll_backend_ops evpoll__backend_uring = {
	.name		= "uring",
	.id		= EVPOLL_BACKEND_URING,
	.caps		= EVPOLL_CAP_ET | EVPOLL_CAP_ONESHOT |
			  EVPOLL_CAP_RDHUP | EVPOLL_CAP_HUP |
			  EVPOLL_CAP_ANON_FILES | EVPOLL_CAP_ANY_FDNUM |
			  EVPOLL_CAP_ANY_THREAD | EVPOLL_CAP_KERNEL_ET |
			  EVPOLL_CAP_KERNEL_ONESHOT,
	.probe		= evpoll__uring_probe,
	.init		= uring_init,
	.ctl		= uring_ctl,
	.wait		= uring_wait,
	.destroy	= uring_destroy,
};
