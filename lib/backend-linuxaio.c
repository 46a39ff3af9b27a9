// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * backend-linuxaio.c - the Linux native AIO readiness backend
 * (IOCB_CMD_POLL), public name "aio" (also accepted: "linuxaio").
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
 *    is dropped, told from a live one by aio_data: every submission gets
 *    its own tag (a sequence number and the fd), and only a completion
 *    whose tag is the one in the fd's iocb, in flight, is live.  (The
 *    registration's generation would not do: poller.c restores the old
 *    one when a MOD fails after the old request was cancelled.)
 *
 * An AIO context has a fixed capacity (io_setup(nr)): a request holds its
 * slot until its completion is reaped by io_getevents(), and a cancelled
 * request ("zombie") holds one too until its completion, posted later by a
 * kernel worker, is reaped.  So the slots in use are the registered fds
 * plus the zombies, and a program that does many MOD/DEL between waits
 * would run the context dry (io_submit() fails with EAGAIN).  Before each
 * submission linuxaio_room() makes sure count + zombies fit in nr: it reaps
 * completions without blocking (waiting up to LINUXAIO_REAP_MS for cancelled
 * ones), and parks live completions it reaps on the fd (LINUXAIO_DONE, ready
 * mask in the iocb) to be reported by the next wait.  If that is not
 * enough, or the registered fds outgrow nr, the context is replaced by
 * one twice as large: the old one is destroyed (which cancels and reaps
 * its requests) and every armed fd is submitted again, which re-reports
 * whatever is still ready.  The system-wide /proc/sys/fs/aio-max-nr
 * bounds the sum over all contexts (io_setup(nr) counts nr): while the
 * new context is set up the old one still counts, so when both do not fit
 * (-EAGAIN) the old one is destroyed first, and the new one is twice the
 * old, or just what the registered fds need (plus a quarter, then exact)
 * if that does not fit.  A poller can so use all of aio-max-nr (it used
 * to stop at half: the ADD of fd 32,769 failed under the default
 * 65,536).  If nothing fits, a context of the old size (just freed) is set
 * up again and the ADD fails with -EAGAIN; should even that fail, the
 * poller has no context until a later call sets one up.
 *
 * The requests pin their files, as io_uring's do: an fd closed without
 * DEL keeps its file open until the poller is freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "syscall.h"

#define LINUXAIO_INITIAL_NR	256
/* The longest wait for cancelled completions. */
#define LINUXAIO_REAP_MS	100

/*
 * evpoll__fd.bidx bits; bu64 is the fd's struct iocb *.
 * INFLIGHT: its iocb is submitted.  PENDING: in the arm list.  DONE: its
 * completion was reaped early and is not reported yet.  LISTED: in the
 * done list.
 */
#define LINUXAIO_INFLIGHT	(1 << 0)
#define LINUXAIO_PENDING	(1 << 1)
#define LINUXAIO_DONE		(1 << 2)
#define LINUXAIO_LISTED		(1 << 3)

/* The ready mask of a LINUXAIO_DONE fd, kept in its own (idle) iocb. */
#define linuxaio_done_res	aio_offset

/* A list of the fds' iocbs; entries of deleted fds are set to NULL. */
struct linuxaio_cblist {
	struct iocb **cb;
	int n;
	int cap;
};

struct linuxaio {
	aio_context_t ctx;
	int nr;			/* capacity of ctx */
	uint32_t seq;		/* last submission tag handed out */
	int zombies;		/* cancelled requests not reaped yet */
	/* iocbs to submit at the next wait */
	struct linuxaio_cblist arm;
	/* LINUXAIO_DONE iocbs to report at the next wait */
	struct linuxaio_cblist done;
	struct io_event *evbuf;
	int evcap;
};

static struct iocb *linuxaio_cb(const struct evpoll__fd *f)
{
	return (struct iocb *)(uintptr_t)f->bu64;
}

static int linuxaio_probe(void)
{
	aio_context_t ctx = 0;
	struct iocb cb, *cbs[1] = { &cb };
	int pfd[2], ret;

	ret = evpoll__io_setup(1, &ctx);
	if (ret < 0)
		return ret;
	ret = pipe(pfd);
	if (ret < 0) {
		ret = -errno;
		goto out_destroy;
	}
	memset(&cb, 0, sizeof(cb));
	cb.aio_lio_opcode = IOCB_CMD_POLL;
	cb.aio_fildes = (uint32_t)pfd[0];
	cb.aio_buf = EPOLLIN;
	ret = evpoll__io_submit(ctx, 1, cbs) == 1 ? 0 : -EOPNOTSUPP;
	close(pfd[0]);
	close(pfd[1]);
out_destroy:
	evpoll__io_destroy(ctx);
	return ret;
}

static int linuxaio_init(struct evpoll_poller *p)
{
	struct linuxaio *a = calloc(1, sizeof(*a));
	int ret;

	if (!a)
		return -ENOMEM;
	ret = evpoll__io_setup(LINUXAIO_INITIAL_NR, &a->ctx);
	if (ret < 0) {
		free(a);
		return ret;
	}
	a->nr = LINUXAIO_INITIAL_NR;
	p->priv = a;
	return 0;
}

static void linuxaio_destroy(struct evpoll_poller *p)
{
	struct linuxaio *a = p->priv;
	int fd;

	evpoll__io_destroy(a->ctx);
	for (fd = 0; fd < p->nfds; fd++)
		if (evpoll__fd_lookup(p, fd))
			free(linuxaio_cb(&p->fds[fd]));
	free(a->arm.cb);
	free(a->done.cb);
	free(a->evbuf);
	free(a);
}

static void linuxaio_prep(struct linuxaio *a, struct iocb *cb, int fd,
			  const struct evpoll__fd *f)
{
	memset(cb, 0, sizeof(*cb));
	if (++a->seq == 0)
		a->seq = 1;
	/* evpoll__tag()'s layout, with a sequence number for the generation. */
	cb->aio_data = (uint64_t)a->seq << 32 | (uint32_t)fd;
	cb->aio_lio_opcode = IOCB_CMD_POLL;
	cb->aio_fildes = (uint32_t)fd;
	cb->aio_buf = evpoll__fd_want(f);
}

/* Submit @fd's request now (ADD, MOD: errors go to the caller). */
static int linuxaio_submit_one(struct linuxaio *a, int fd, struct evpoll__fd *f)
{
	struct iocb *cb = linuxaio_cb(f);
	int ret;

	if ((f->bidx & LINUXAIO_INFLIGHT) || (f->state & EVPOLL__FD_DISARMED))
		return 0;
	linuxaio_prep(a, cb, fd, f);
	ret = evpoll__io_submit(a->ctx, 1, &cb);
	if (ret == -EINVAL)
		return -EOPNOTSUPP;
	if (ret != 1)
		return ret < 0 ? ret : -EAGAIN;
	f->bidx |= LINUXAIO_INFLIGHT;
	return 0;
}

static void linuxaio_cancel(struct linuxaio *a, struct evpoll__fd *f)
{
	struct io_event res;

	if (!(f->bidx & LINUXAIO_INFLIGHT))
		return;
	/*
	 * EINPROGRESS, or EINVAL if it completed already: either way one
	 * completion with the old tag is (or will be) in the ring.
	 */
	evpoll__io_cancel(a->ctx, linuxaio_cb(f), &res);
	f->bidx &= ~LINUXAIO_INFLIGHT;
	a->zombies++;
}

/* Capacity for @want entries (doubling from 64). */
static int linuxaio_cblist_reserve(struct linuxaio_cblist *l, int want)
{
	while (l->cap < want) {
		int cap = l->cap ? l->cap * 2 : 64;
		struct iocb **v = realloc(l->cb, (size_t)cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->cb = v;
		l->cap = cap;
	}
	return 0;
}

static int linuxaio_cblist_add(struct linuxaio_cblist *l, struct iocb *cb)
{
	int ret = linuxaio_cblist_reserve(l, l->n + 1);

	if (ret == 0)
		l->cb[l->n++] = cb;
	return ret;
}

static void linuxaio_cblist_forget(struct linuxaio_cblist *l,
				   const struct iocb *cb)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (l->cb[i] == cb)
			l->cb[i] = NULL;
}

/* The live registration an iocb in one of the lists belongs to. */
static struct evpoll__fd *linuxaio_cb_fd(struct evpoll_poller *p,
					 const struct iocb *cb)
{
	struct evpoll__fd *f;

	if (!cb)
		return NULL;
	f = evpoll__fd_lookup(p, (int)cb->aio_fildes);
	return f && linuxaio_cb(f) == cb ? f : NULL;
}

static int linuxaio_queue_arm(struct linuxaio *a, struct evpoll__fd *f)
{
	int ret;

	if (f->bidx & LINUXAIO_PENDING)
		return 0;
	ret = linuxaio_cblist_add(&a->arm, linuxaio_cb(f));
	if (ret == 0)
		f->bidx |= LINUXAIO_PENDING;
	return ret;
}

/* The registration whose request in flight posted @e, or NULL (zombie). */
static struct evpoll__fd *linuxaio_live(struct evpoll_poller *p,
					const struct io_event *e)
{
	struct evpoll__fd *f = evpoll__fd_lookup(p, evpoll__tag_fd(e->data));

	if (!f || !f->bu64 || !(f->bidx & LINUXAIO_INFLIGHT) ||
	    linuxaio_cb(f)->aio_data != e->data)
		return NULL;
	return f;
}

/*
 * One completion taken from the ring, @f its linuxaio_live(): a zombie's is
 * dropped; a live one yields the events to report (0: none, the fd is
 * re-armed).
 */
static uint32_t linuxaio_complete(struct evpoll_poller *p, struct evpoll__fd *f,
				  const struct io_event *e)
{
	struct linuxaio *a = p->priv;
	int fd = evpoll__tag_fd(e->data);
	uint32_t events;

	if (!f) {
		if (a->zombies > 0)
			a->zombies--;
		return 0;
	}
	f->bidx &= ~LINUXAIO_INFLIGHT;
	if (e->res < 0) {
		if (!evpoll__fd_is_open(fd))
			evpoll__fd_forget(p, fd);
		else
			linuxaio_queue_arm(a, f);
		return 0;
	}
	events = evpoll__fd_report(f, (uint32_t)e->res);
	if (!events || !(f->events & EPOLLONESHOT))
		linuxaio_queue_arm(a, f);
	return events;
}

static int linuxaio_evbuf_reserve(struct linuxaio *a, int max)
{
	struct io_event *buf;

	if (max <= a->evcap)
		return 0;
	buf = realloc(a->evbuf, (size_t)max * sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	a->evbuf = buf;
	a->evcap = max;
	return 0;
}

/*
 * Reap what the ring holds (waiting up to @ms for a first completion)
 * outside a wait: events of live requests are parked on their fd
 * (LINUXAIO_DONE) for the next wait to report.
 */
static void linuxaio_reap(struct evpoll_poller *p, int ms)
{
	struct linuxaio *a = p->priv;
	struct timespec ts;
	int i, nr;

	if (linuxaio_evbuf_reserve(a, 64) < 0)
		return;
	evpoll__ms_to_timespec(ms, &ts);
	/* With min_nr 0 io_getevents() never sleeps: 1 to wait @ms. */
	nr = evpoll__io_getevents(a->ctx, ms ? 1 : 0, a->evcap, a->evbuf, &ts);
	for (i = 0; i < nr; i++) {
		struct evpoll__fd *f = linuxaio_live(p, &a->evbuf[i]);
		uint32_t events = linuxaio_complete(p, f, &a->evbuf[i]);

		if (!events)
			continue;
		if (!(f->bidx & LINUXAIO_LISTED)) {
			if (linuxaio_cblist_add(&a->done, linuxaio_cb(f)) < 0) {
				/* Lost the event: poll for it again. */
				linuxaio_queue_arm(a, f);
				continue;
			}
			f->bidx |= LINUXAIO_LISTED;
		}
		f->bidx |= LINUXAIO_DONE;
		linuxaio_cb(f)->linuxaio_done_res = events;
	}
}

/*
 * Set up the context that replaces a->ctx, for @need requests at least
 * (twice the old size if it can): its size, or -errno.  The old context
 * and the new one both count against aio-max-nr while they coexist; when
 * they do not fit together (-EAGAIN) the old one is destroyed first (it
 * is left to the caller otherwise), and if twice its size does not fit
 * either, the new one is @need plus a quarter, then @need.
 */
static int linuxaio_new_ctx(struct linuxaio *a, int need, aio_context_t *ctx)
{
	int want[3], i, ret;

	want[0] = a->nr * 2 > need ? a->nr * 2 : need;
	if (want[0] < LINUXAIO_INITIAL_NR)
		want[0] = LINUXAIO_INITIAL_NR;
	want[1] = need + need / 4 < want[0] ? need + need / 4 : want[0];
	want[2] = need < want[1] ? need : want[1];
	*ctx = 0;
	ret = evpoll__io_setup((unsigned int)want[0], ctx);
	if (ret != -EAGAIN)
		return ret < 0 ? ret : want[0];
	i = 1;
	if (a->ctx) {
		evpoll__io_destroy(a->ctx);
		a->ctx = 0;
		i = 0;		/* twice the old size may fit now */
	}
	for (; i < 3; i++) {
		if (i > 0 && want[i] == want[i - 1])
			continue;
		*ctx = 0;
		ret = evpoll__io_setup((unsigned int)want[i], ctx);
		if (ret != -EAGAIN)
			break;
	}
	return ret < 0 ? ret : want[i];
}

/*
 * Replace the context by one for @need requests at least and queue every
 * armed fd again.  If no new context can be set up after the old one was
 * destroyed, one of the old size (just freed) is set up again and the
 * error returned; if even that fails, the poller has no context until a
 * later call sets one up (a->ctx 0: linuxaio_wait() tries first).
 */
static int linuxaio_grow(struct evpoll_poller *p, int need)
{
	struct linuxaio *a = p->priv;
	aio_context_t ctx = 0;
	int fd, nr, ret = 0;

	/* Room for every fd in the arm list first: the loop cannot fail. */
	if (linuxaio_cblist_reserve(&a->arm, p->count + 1) < 0)
		return -ENOMEM;
	nr = linuxaio_new_ctx(a, need, &ctx);
	if (nr < 0) {
		if (a->ctx)
			return nr;	/* nothing changed */
		ret = nr;
		nr = a->nr;
		ctx = 0;
		if (!nr || evpoll__io_setup((unsigned int)nr, &ctx) < 0) {
			ctx = 0;
			nr = 0;
		}
	}
	if (a->ctx)
		evpoll__io_destroy(a->ctx);
	a->ctx = ctx;
	a->nr = nr;
	a->zombies = 0;
	a->arm.n = 0;
	/* Every armed fd reports again from the new context. */
	a->done.n = 0;
	for (fd = 0; fd < p->nfds; fd++) {
		struct evpoll__fd *f = evpoll__fd_lookup(p, fd);

		if (!f || !f->bu64)
			continue;
		f->bidx = 0;
		if (!(f->state & EVPOLL__FD_DISARMED))
			linuxaio_queue_arm(a, f);
	}
	return ret;
}

/*
 * Make room in the context for @registered requests in flight plus the
 * zombies: reap cancelled completions, or grow.
 */
static int linuxaio_room(struct evpoll_poller *p, int registered)
{
	struct linuxaio *a = p->priv;
	struct timespec t0, now;
	int waited = 0;

	if (registered > a->nr)
		return linuxaio_grow(p, registered);
	if (registered + a->zombies <= a->nr)
		return 0;
	linuxaio_reap(p, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (registered + a->zombies > a->nr) {
		if (waited >= LINUXAIO_REAP_MS)
			return linuxaio_grow(p, registered);
		linuxaio_reap(p, 10);
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (int)((now.tv_sec - t0.tv_sec) * 1000 +
			       (now.tv_nsec - t0.tv_nsec) / 1000000);
	}
	return 0;
}

static int linuxaio_ctl(struct evpoll_poller *p, int op, int fd,
			struct evpoll__fd *f)
{
	struct linuxaio *a = p->priv;
	struct iocb *cb;
	int ret;

	switch (op) {
	case EPOLL_CTL_ADD:
		ret = linuxaio_room(p, p->count + 1);
		if (ret < 0)
			return ret;
		cb = calloc(1, sizeof(*cb));
		if (!cb)
			return -ENOMEM;
		f->bu64 = (uintptr_t)cb;
		f->bidx = 0;
		ret = linuxaio_submit_one(a, fd, f);
		if (ret < 0) {
			free(cb);
			f->bu64 = 0;
		}
		return ret;
	case EPOLL_CTL_MOD:
		linuxaio_cancel(a, f);
		/* Drop a parked event of the old mask. */
		f->bidx &= ~LINUXAIO_DONE;
		ret = linuxaio_room(p, p->count);
		if (ret == 0)
			ret = linuxaio_submit_one(a, fd, f);
		/* poller.c restores the old registration: arm that one. */
		if (ret < 0 && !(f->bidx & LINUXAIO_INFLIGHT))
			linuxaio_queue_arm(a, f);
		return ret;
	case EPOLL_CTL_DEL:
		linuxaio_cancel(a, f);
		if (f->bidx & LINUXAIO_PENDING)
			linuxaio_cblist_forget(&a->arm, linuxaio_cb(f));
		if (f->bidx & LINUXAIO_LISTED)
			linuxaio_cblist_forget(&a->done, linuxaio_cb(f));
		free(linuxaio_cb(f));
		f->bu64 = 0;
		return 0;
	}
	return -EINVAL;
}

/* Submit the queued re-arms. */
static void linuxaio_flush_arms(struct evpoll_poller *p)
{
	struct linuxaio *a = p->priv;
	struct iocb **arm = a->arm.cb;
	int i, n = 0, ret;

	for (i = 0; i < a->arm.n; i++) {
		struct iocb *cb = arm[i];
		struct evpoll__fd *f = linuxaio_cb_fd(p, cb);

		if (!f)
			continue;
		f->bidx &= ~LINUXAIO_PENDING;
		/* A parked fd is queued again once its event is reported. */
		if ((f->bidx & (LINUXAIO_INFLIGHT | LINUXAIO_DONE)) ||
		    (f->state & EVPOLL__FD_DISARMED))
			continue;
		linuxaio_prep(a, cb, (int)cb->aio_fildes, f);
		arm[n++] = cb;
	}
	a->arm.n = 0;

	for (i = 0; i < n; ) {
		struct iocb *cb = arm[i];
		int fd = (int)cb->aio_fildes;

		ret = evpoll__io_submit(a->ctx, n - i, arm + i);
		if (ret > 0) {
			for (; ret > 0; ret--, i++)
				p->fds[(int)arm[i]->aio_fildes].bidx |=
					LINUXAIO_INFLIGHT;
			continue;
		}
		/*
		 * arm[i] failed: a closed fd is dropped, others are retried at
		 * the next wait (EAGAIN: all the rest).  The list's array is
		 * re-filled from 0 while it is read: at most one entry is
		 * written per entry read, so nothing unread is overwritten.
		 */
		if (ret == -EBADF && !evpoll__fd_is_open(fd)) {
			evpoll__fd_forget(p, fd);
		} else if (ret == -EAGAIN) {
			for (; i < n; i++) {
				fd = (int)arm[i]->aio_fildes;
				linuxaio_queue_arm(a, &p->fds[fd]);
			}
			return;
		} else {
			linuxaio_queue_arm(a, &p->fds[fd]);
		}
		i++;
	}
}

/* Report the events parked by linuxaio_reap(), up to @max. */
static int linuxaio_report_done(struct evpoll_poller *p,
				struct evpoll_poller_event *evs, int max)
{
	struct linuxaio *a = p->priv;
	int i, n = 0, left = 0;

	for (i = 0; i < a->done.n; i++) {
		struct iocb *cb = a->done.cb[i];
		struct evpoll__fd *f = linuxaio_cb_fd(p, cb);

		if (!f)
			continue;
		if (n == max) {
			a->done.cb[left++] = cb;	/* still listed */
			continue;
		}
		f->bidx &= ~LINUXAIO_LISTED;
		if (!(f->bidx & LINUXAIO_DONE))
			continue;
		f->bidx &= ~LINUXAIO_DONE;
		evpoll__event_set(&evs[n++], (int)cb->aio_fildes, f,
				  (uint32_t)cb->linuxaio_done_res);
		if (!(f->events & EPOLLONESHOT))
			linuxaio_queue_arm(a, f);
	}
	a->done.n = left;
	return n;
}

static int linuxaio_wait(struct evpoll_poller *p,
			 struct evpoll_poller_event *evs, int max,
			 int timeout_ms)
{
	struct linuxaio *a = p->priv;
	struct timespec ts, *tsp = NULL;
	int i, nr, n;

	if (linuxaio_evbuf_reserve(a, max) < 0)
		return -ENOMEM;
	/* A failed growth left no context: try again. */
	if (!a->ctx) {
		int ret = linuxaio_grow(p, p->count);

		if (ret < 0 || !a->ctx)
			return ret < 0 ? ret : -EAGAIN;
	}
	/*
	 * Re-arms first: the fds reported from the parked list below are
	 * queued again for the next wait, not submitted now, or a still-ready
	 * fd would complete at once and be reported twice in one batch.
	 */
	linuxaio_flush_arms(p);
	/* Parked events first; then whatever the ring has, without waiting. */
	n = linuxaio_report_done(p, evs, max);
	if (n == max)
		return n;
	if (n)
		timeout_ms = 0;
	if (timeout_ms >= 0) {
		evpoll__ms_to_timespec(timeout_ms, &ts);
		tsp = &ts;
	}
	/* Not io_getevents(): no EINTR without a signal (lib/syscall.h). */
	nr = evpoll__io_pgetevents(a->ctx, n ? 0 : 1, max - n, a->evbuf, tsp);
	if (nr < 0)
		return n ? n : nr;

	for (i = 0; i < nr; i++) {
		const struct io_event *e = &a->evbuf[i];
		struct evpoll__fd *f = linuxaio_live(p, e);
		uint32_t events = linuxaio_complete(p, f, e);

		if (events)
			evpoll__event_set(&evs[n++], evpoll__tag_fd(e->data),
					  f, events);
	}
	return n;
}

const struct evpoll_backend_ops evpoll__backend_linuxaio = {
	.name		= "aio",
	.id		= EVPOLL_BACKEND_AIO,
	.caps		= EVPOLL_CAP_ONESHOT | EVPOLL_CAP_RDHUP |
			  EVPOLL_CAP_HUP | EVPOLL_CAP_ANON_FILES |
			  EVPOLL_CAP_ANY_FDNUM | EVPOLL_CAP_ANY_THREAD |
			  EVPOLL_CAP_KERNEL_ONESHOT,
	.probe		= linuxaio_probe,
	.init		= linuxaio_init,
	.ctl		= linuxaio_ctl,
	.wait		= linuxaio_wait,
	.destroy	= linuxaio_destroy,
};
