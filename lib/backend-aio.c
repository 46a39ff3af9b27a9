// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * backend-aio.c - the Linux native AIO backend (IOCB_CMD_POLL).
 *
 * notes about Linux AIO poll:
 *
 * Since Linux 4.18, io_submit() accepts IOCB_CMD_POLL: aio_fildes is the
 * fd, aio_buf the poll mask, and the request completes once, with the
 * ready mask in io_event.res, when the file is ready (at once if it
 * already is).  There is no multishot mode: every request is one-shot.
 * No libaio is needed: io_setup/io_submit/io_getevents/io_cancel/
 * io_destroy are called through syscall(2).
 *
 *  - level-triggered (default): the request is submitted again after each
 *    delivery (batched: one io_submit() per wait for all re-arms); a fd
 *    that is still ready completes again immediately.
 *  - EPOLLONESHOT: not submitted again until MOD.  Native.
 *  - EPOLLET: refused with -EOPNOTSUPP.  A new request completes on the
 *    current level, so edges cannot be told from levels.
 *  - MOD and DEL cancel the request in flight with io_cancel(), which
 *    finds it by the address of the user's struct iocb: each registered fd
 *    has its own heap-allocated iocb, whose address does not move when the
 *    fd table grows.  A cancelled request still posts a completion; it
 *    carries the old generation in aio_data and is dropped.
 *
 * An AIO context has a fixed capacity (io_setup(nr)): one slot per request
 * in flight, i.e. per registered fd, and the system-wide
 * /proc/sys/fs/aio-max-nr bounds the sum over all contexts.  The context
 * starts at AIO_INITIAL_NR and, when the registered fds outgrow it, is
 * replaced by one twice as large: the old one is destroyed (which cancels
 * and reaps its requests) and every armed fd is submitted again, which
 * re-reports whatever is still ready.  Errors: -EAGAIN when aio-max-nr
 * is exhausted.
 *
 * The requests pin their files, as io_uring's do: an fd closed without
 * DEL keeps its file open until the poller is freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/aio_abi.h>

#include "backend.h"

#define AIO_INITIAL_NR	256

/* evpoll__fd.bidx bits; bu64 is the fd's struct iocb *. */
#define AIO_INFLIGHT	(1 << 0)	/* its iocb is submitted */
#define AIO_PENDING	(1 << 1)	/* in the arm list */

struct evpoll__aio {
	aio_context_t ctx;
	int nr;			/* capacity of ctx */
	struct iocb **arm;	/* iocbs to submit at the next wait */
	int narm;
	int armcap;
	struct io_event *evbuf;
	int evcap;
};

static int sys_io_setup(unsigned int nr, aio_context_t *ctx)
{
	return (int)syscall(SYS_io_setup, nr, ctx);
}

static int sys_io_destroy(aio_context_t ctx)
{
	return (int)syscall(SYS_io_destroy, ctx);
}

static int sys_io_submit(aio_context_t ctx, long n, struct iocb **cbs)
{
	return (int)syscall(SYS_io_submit, ctx, n, cbs);
}

static int sys_io_cancel(aio_context_t ctx, struct iocb *cb,
			 struct io_event *res)
{
	return (int)syscall(SYS_io_cancel, ctx, cb, res);
}

static int sys_io_getevents(aio_context_t ctx, long min, long max,
			    struct io_event *evs, struct timespec *ts)
{
	return (int)syscall(SYS_io_getevents, ctx, min, max, evs, ts);
}

static struct iocb *aio_cb(const struct evpoll__fd *f)
{
	return (struct iocb *)(uintptr_t)f->bu64;
}

static int aio_probe(void)
{
	aio_context_t ctx = 0;
	struct iocb cb, *cbs[1] = { &cb };
	int pfd[2], ret;

	if (sys_io_setup(1, &ctx) < 0)
		return -errno;
	ret = pipe(pfd);
	if (ret < 0) {
		ret = -errno;
		goto out_destroy;
	}
	memset(&cb, 0, sizeof(cb));
	cb.aio_lio_opcode = IOCB_CMD_POLL;
	cb.aio_fildes = (uint32_t)pfd[0];
	cb.aio_buf = EPOLLIN;
	ret = sys_io_submit(ctx, 1, cbs) == 1 ? 0 : -EOPNOTSUPP;
	close(pfd[0]);
	close(pfd[1]);
out_destroy:
	sys_io_destroy(ctx);
	return ret;
}

static int aio_init(struct evpoll_poller *p)
{
	struct evpoll__aio *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	if (sys_io_setup(AIO_INITIAL_NR, &a->ctx) < 0) {
		int ret = -errno;

		free(a);
		return ret;
	}
	a->nr = AIO_INITIAL_NR;
	p->priv = a;
	return 0;
}

static void aio_destroy(struct evpoll_poller *p)
{
	struct evpoll__aio *a = p->priv;
	int fd;

	sys_io_destroy(a->ctx);
	for (fd = 0; fd < p->nfds; fd++)
		if (evpoll__fd_lookup(p, fd))
			free(aio_cb(&p->fds[fd]));
	free(a->arm);
	free(a->evbuf);
	free(a);
}

static void aio_prep(struct iocb *cb, int fd, const struct evpoll__fd *f)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_data = evpoll__tag(fd, f);
	cb->aio_lio_opcode = IOCB_CMD_POLL;
	cb->aio_fildes = (uint32_t)fd;
	cb->aio_buf = evpoll__fd_want(f);
}

/* Submit @fd's request now (ADD, MOD: errors go to the caller). */
static int aio_submit_one(struct evpoll__aio *a, int fd, struct evpoll__fd *f)
{
	struct iocb *cb = aio_cb(f);

	if ((f->bidx & AIO_INFLIGHT) || (f->state & EVPOLL__FD_DISARMED))
		return 0;
	aio_prep(cb, fd, f);
	if (sys_io_submit(a->ctx, 1, &cb) != 1)
		return errno == EINVAL ? -EOPNOTSUPP : -errno;
	f->bidx |= AIO_INFLIGHT;
	return 0;
}

static void aio_cancel(struct evpoll__aio *a, struct evpoll__fd *f)
{
	struct io_event res;

	if (!(f->bidx & AIO_INFLIGHT))
		return;
	/* Usually EINPROGRESS: the completion is posted later, and dropped. */
	sys_io_cancel(a->ctx, aio_cb(f), &res);
	f->bidx &= ~AIO_INFLIGHT;
}

static int aio_queue_arm(struct evpoll__aio *a, struct evpoll__fd *f)
{
	if (f->bidx & AIO_PENDING)
		return 0;
	if (a->narm == a->armcap) {
		int cap = a->armcap ? a->armcap * 2 : 64;
		struct iocb **arm = realloc(a->arm, (size_t)cap * sizeof(*arm));

		if (!arm)
			return -ENOMEM;
		a->arm = arm;
		a->armcap = cap;
	}
	a->arm[a->narm++] = aio_cb(f);
	f->bidx |= AIO_PENDING;
	return 0;
}

/* Replace the context by a larger one and submit every armed fd again. */
static int aio_grow(struct evpoll_poller *p)
{
	struct evpoll__aio *a = p->priv;
	aio_context_t ctx = 0;
	int fd, ret;

	if (sys_io_setup((unsigned int)a->nr * 2, &ctx) < 0)
		return -errno;
	sys_io_destroy(a->ctx);
	a->ctx = ctx;
	a->nr *= 2;
	a->narm = 0;
	for (fd = 0; fd < p->nfds; fd++) {
		struct evpoll__fd *f = evpoll__fd_lookup(p, fd);

		if (!f || !f->bu64)
			continue;
		f->bidx = 0;
		if (!(f->state & EVPOLL__FD_DISARMED)) {
			ret = aio_queue_arm(a, f);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

static int aio_ctl(struct evpoll_poller *p, int op, int fd,
		   struct evpoll__fd *f)
{
	struct evpoll__aio *a = p->priv;
	struct iocb *cb;
	int ret;

	switch (op) {
	case EPOLL_CTL_ADD:
		if (p->count + 1 > a->nr) {
			ret = aio_grow(p);
			if (ret < 0)
				return ret;
		}
		cb = calloc(1, sizeof(*cb));
		if (!cb)
			return -ENOMEM;
		f->bu64 = (uintptr_t)cb;
		f->bidx = 0;
		ret = aio_submit_one(a, fd, f);
		if (ret < 0) {
			free(cb);
			f->bu64 = 0;
		}
		return ret;
	case EPOLL_CTL_MOD:
		aio_cancel(a, f);
		return aio_submit_one(a, fd, f);
	case EPOLL_CTL_DEL:
		aio_cancel(a, f);
		if (f->bidx & AIO_PENDING) {
			int i;

			for (i = 0; i < a->narm; i++)
				if (a->arm[i] == aio_cb(f))
					a->arm[i] = NULL;
		}
		free(aio_cb(f));
		f->bu64 = 0;
		return 0;
	}
	return -EINVAL;
}

/* Submit the queued re-arms. */
static void aio_flush_arms(struct evpoll_poller *p)
{
	struct evpoll__aio *a = p->priv;
	int i, n = 0, ret;

	for (i = 0; i < a->narm; i++) {
		struct iocb *cb = a->arm[i];
		int fd;
		struct evpoll__fd *f;

		if (!cb)
			continue;
		fd = (int)cb->aio_fildes;
		f = evpoll__fd_lookup(p, fd);
		if (!f || aio_cb(f) != cb)
			continue;
		f->bidx &= ~AIO_PENDING;
		if ((f->bidx & AIO_INFLIGHT) ||
		    (f->state & EVPOLL__FD_DISARMED))
			continue;
		aio_prep(cb, fd, f);
		a->arm[n++] = cb;
	}
	a->narm = 0;

	for (i = 0; i < n; ) {
		struct iocb *cb = a->arm[i];
		int fd = (int)cb->aio_fildes;

		ret = sys_io_submit(a->ctx, n - i, a->arm + i);
		if (ret > 0) {
			for (; ret > 0; ret--, i++)
				p->fds[(int)a->arm[i]->aio_fildes].bidx |=
					AIO_INFLIGHT;
			continue;
		}
		/* a->arm[i] failed: a closed fd is dropped, others retried. */
		if (errno == EBADF && !evpoll__fd_is_open(fd)) {
			evpoll__fd_forget(p, fd);
		} else if (errno == EAGAIN) {
			for (; i < n; i++)
				aio_queue_arm(a, &p->fds[(int)a->arm[i]->aio_fildes]);
			return;
		}
		i++;
	}
}

static int aio_wait(struct evpoll_poller *p, struct evpoll_poller_event *evs,
		    int max, int timeout_ms)
{
	struct evpoll__aio *a = p->priv;
	struct timespec ts, *tsp = NULL;
	int i, nr, n = 0;

	aio_flush_arms(p);
	if (max > a->evcap) {
		struct io_event *buf = realloc(a->evbuf,
					       (size_t)max * sizeof(*buf));

		if (!buf)
			return -ENOMEM;
		a->evbuf = buf;
		a->evcap = max;
	}
	if (timeout_ms >= 0) {
		evpoll__ms_to_timespec(timeout_ms, &ts);
		tsp = &ts;
	}
	nr = sys_io_getevents(a->ctx, 1, max, a->evbuf, tsp);
	if (nr < 0)
		return -errno;

	for (i = 0; i < nr; i++) {
		struct io_event *e = &a->evbuf[i];
		struct evpoll__fd *f = evpoll__tag_lookup(p, e->data);
		int fd = evpoll__tag_fd(e->data);
		uint32_t events;

		if (!f || !(f->bidx & AIO_INFLIGHT))
			continue;
		f->bidx &= ~AIO_INFLIGHT;
		if (e->res < 0) {
			if (!evpoll__fd_is_open(fd))
				evpoll__fd_forget(p, fd);
			else
				aio_queue_arm(a, f);
			continue;
		}
		events = evpoll__fd_report(f, (uint32_t)e->res);
		if (!events || !(f->events & EPOLLONESHOT))
			aio_queue_arm(a, f);
		if (events)
			evpoll__event_set(&evs[n++], fd, f, events);
	}
	return n;
}

const struct evpoll_backend_ops evpoll__backend_aio = {
	.name		= "aio",
	.id		= EVPOLL_BACKEND_AIO,
	.caps		= EVPOLL_CAP_ONESHOT | EVPOLL_CAP_RDHUP |
			  EVPOLL_CAP_HUP | EVPOLL_CAP_ANON_FILES |
			  EVPOLL_CAP_ANY_FDNUM | EVPOLL_CAP_ANY_THREAD |
			  EVPOLL_CAP_KERNEL_ONESHOT,
	.probe		= aio_probe,
	.init		= aio_init,
	.ctl		= aio_ctl,
	.wait		= aio_wait,
	.destroy	= aio_destroy,
};
