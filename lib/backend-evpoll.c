// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * backend-evpoll.c - the /dev/evpoll backend.
 *
 * notes about evpoll:
 *
 * The kernel module (kmod/, evpoll(4)) implements epoll's semantics
 * behind a misc device, so this backend is the epoll backend run through
 * the wrapper of lib/evpoll.c (evpoll_create1/ctl/wait): same
 * capabilities, same costs (ctl O(log n), wait O(ready)), and the code is
 * shared with backend-epoll.c.  What the module adds beyond epoll is used
 * when the module offers it (evpoll_features()):
 *
 *  - batched changes (EVPOLL_FEAT_SUBMIT; EVPOLL_CAP_BATCHED, unless
 *    $EVPOLL_NO_SUBMIT is set to something else than "" or "0"): a MOD is
 *    queued (->queue) and applied by the next wait, in the same
 *    EVPOLL_IOC_SUBMIT as the wait (libev's fd_reify).  One queued MOD
 *    per fd: a later MOD merges into it, one back to the mask the kernel
 *    has cancels it.  ADD and DEL are made at once, each in one
 *    EVPOLL_IOC_SUBMIT with the queue: an ADD's answer (ENOSPC, EPERM...)
 *    is its return value, and queueing it would cost more than the system
 *    call it saves (the fd must be checked again before the wait: a
 *    socket's fstat() is dearer than the ioctl); a DEL must be done before
 *    the caller closes the fd.  A queued MOD the kernel refuses because
 *    the fd was closed without DEL (EBADF; ENOENT, EPERM, EINVAL: the
 *    number names another file) is forgotten silently, as poller.c
 *    forgets such registrations; one refused for memory (ENOMEM) ends its
 *    registration with one EPOLLERR event (EVPOLL__FD_REFUSED), reported
 *    at once.  Documentation/backends.rst, "Batched changes".
 *  - user events (EVPOLL_FEAT_USER): evpoll_poller_wakeup() triggers one
 *    (->wakeup), whose data is EVPOLL__TAG_OWN; without them, poller.c's
 *    eventfd.
 *  - the cooperative close (EVPOLL_IOC_FEAT_FORGET): evpoll_poller_close()
 *    tells the module before the close (->close); without it, DEL.
 *
 * The probe opens /dev/evpoll: when that fails (module not loaded, no
 * device node) the backend is unavailable with -ENODEV, or with the
 * open(2) error when it is something else (-EACCES...).  The poller is
 * the first choice of EVPOLL_BACKEND_DEFAULT when the device exists:
 * someone loaded the module in order to use it.
 *
 * One difference from epoll stays visible: the module holds a reference
 * to each watched file, and drops the items of files nobody else holds
 * after a bounded delay (Documentation/design.rst), where epoll drops
 * them at the last close.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/evpoll.h>

#include "backend.h"

/**
 * struct evpdev_refusal - a queued change the kernel refused
 * @op:		its op
 * @fd:		its fd
 * @err:	the kernel's -errno
 * @tag:	the registration it was queued for (evpoll__tag())
 */
struct evpdev_refusal {
	int op;
	int fd;
	int err;
	uint64_t tag;
};

/**
 * struct evpdev_poller - p->priv
 * @ep:		the shared epoll state (first: backend-epoll.c uses it)
 * @batch:	changes are queued (EVPOLL_CAP_BATCHED)
 * @forget:	the module has EVPOLL_IOC_FORGET
 * @user_id:	the wake-up user event, -1 without one
 * @q:		queued MODs, one per fd at most, at f->bidx - 1 of its
 *		table entry; @nq of @qcap; result preset to 1
 * @nq:		number of queued changes
 * @qcap:	capacity of @q
 * @ref:	refused changes not reported yet, @nref of @refcap
 * @nref:	their number
 * @refcap:	capacity of @ref
 */
struct evpdev_poller {
	struct evpoll__epoll_like ep;
	int batch;
	int forget;
	int user_id;
	struct evpoll_change *q;
	int nq;
	int qcap;
	struct evpdev_refusal *ref;
	int nref;
	int refcap;
};

static const struct evpoll__epoll_calls evpdev_calls = {
	.create1	= evpoll_create1,
	.ctl		= evpoll_ctl,
	.wait		= evpoll_wait,
};

static int evpdev_errno_to_probe(int err)
{
	if (err == ENOENT || err == ENXIO || err == ENODEV)
		return -ENODEV;
	return -err;
}

static int evpdev_probe(void)
{
	int fd = evpoll_create1(EPOLL_CLOEXEC);

	if (fd < 0)
		return evpdev_errno_to_probe(errno);
	close(fd);
	return 0;
}

/* Make room for one more element of @size in *@arr: 0 or -ENOMEM. */
static int evpdev_grow(void **arr, int n, int *cap, size_t size)
{
	int ncap = *cap ? *cap * 2 : 64;
	void *a;

	if (n < *cap)
		return 0;
	a = realloc(*arr, (size_t)ncap * size);
	if (!a)
		return -ENOMEM;
	*arr = a;
	*cap = ncap;
	return 0;
}

/* Room for one more queued change: 0 or -ENOMEM. */
static int evpdev_queue_grow(struct evpdev_poller *ev)
{
	return evpdev_grow((void **)&ev->q, ev->nq, &ev->qcap,
			   sizeof(*ev->q));
}

/*
 * The index of @fd's queued change, or -1.  @f->bidx is its index + 1,
 * checked: poller.c restores a saved entry after a refused ADD over a
 * known fd, whose mark may be of a queue since applied.
 */
static int evpdev_queued(struct evpdev_poller *ev, int fd,
			 const struct evpoll__fd *f)
{
	int i = f->bidx - 1;

	return i >= 0 && i < ev->nq && ev->q[i].fd == fd ? i : -1;
}

/* Take change @i out of the queue (the last one fills its slot). */
static void evpdev_unqueue_at(struct evpoll_poller *p,
			      struct evpdev_poller *ev, int i)
{
	p->fds[ev->q[i].fd].bidx = 0;
	if (i != --ev->nq) {
		ev->q[i] = ev->q[ev->nq];
		p->fds[ev->q[i].fd].bidx = i + 1;
	}
}

/*
 * What the kernel's item holds after an ADD or MOD of @f succeeded, in
 * f->bu64: the generation of its tag (high half, never 0) and its mask.
 * 0: not known (a ->reinit copied the item).
 */
static void evpdev_applied(struct evpoll__fd *f, int op, uint64_t tag,
			   uint32_t events)
{
	if (op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD)
		f->bu64 = (tag >> 32 << 32) | events;
}

/*
 * A MOD that leaves a level-triggered item's mask as the kernel has it
 * needs no system call: the item keeps its tag (@f's generation goes
 * back to it) and the table has the new data.  Not for EPOLLET (a MOD
 * re-arms the edge) nor EPOLLONESHOT (it re-arms the item).
 */
static int evpdev_mod_is_noop(struct evpoll__fd *f)
{
	if (!f->bu64 || (f->events & (EPOLLET | EPOLLONESHOT)) ||
	    (uint32_t)f->bu64 != f->events)
		return 0;
	f->gen = (uint32_t)(f->bu64 >> 32);
	return 1;
}

/*
 * A queued MOD of a live registration can only be refused for memory
 * (EPOLLWAKEUP's wakeup source): every other errno means its fd was
 * closed (EBADF) or now names another file (ENOENT, or EPERM, EINVAL for
 * a file the kernel will not watch), and is silent.
 */
static int evpdev_refusal_silent(const struct evpdev_refusal *r)
{
	return r->err != -ENOMEM;
}

/*
 * After an EVPOLL_IOC_SUBMIT of the queue: keep the changes the kernel
 * did not reach (result still 1), record those it refused.
 */
static void evpdev_settle(struct evpoll_poller *p, struct evpdev_poller *ev)
{
	int i, kept = 0;

	for (i = 0; i < ev->nq; i++) {
		struct evpoll_change *c = &ev->q[i];
		struct evpdev_refusal *r;

		if (c->result > 0) {
			ev->q[kept] = *c;
			p->fds[c->fd].bidx = ++kept;
			continue;
		}
		p->fds[c->fd].bidx = 0;
		if (!c->result) {
			struct evpoll__fd *f = evpoll__tag_lookup(p,
							c->event.data.u64);

			if (f)
				evpdev_applied(f, c->op, c->event.data.u64,
					       c->event.events);
			continue;
		}
		if (evpdev_grow((void **)&ev->ref, ev->nref, &ev->refcap,
				sizeof(*ev->ref)) < 0) {
			/* Cannot report it: the registration ends silently. */
			struct evpoll__fd *f = evpoll__tag_lookup(p,
							c->event.data.u64);

			if (f)
				evpoll__fd_clear(p, f);
			continue;
		}
		r = &ev->ref[ev->nref++];
		r->op = c->op;
		r->fd = c->fd;
		r->err = c->result;
		r->tag = c->event.data.u64;
	}
	ev->nq = kept;
}

/*
 * Report refused changes into @evs (at most @max): EPOLLERR with the
 * registration's data, which poller.c then ends (EVPOLL__FD_REFUSED).
 */
static int evpdev_report_refused(struct evpoll_poller *p,
				 struct evpdev_poller *ev,
				 struct evpoll_poller_event *evs, int max)
{
	int i, n = 0;

	for (i = 0; i < ev->nref && n < max; i++) {
		struct evpdev_refusal *r = &ev->ref[i];
		struct evpoll__fd *f = evpoll__tag_lookup(p, r->tag);

		/* Changed or dropped since: the refusal is moot. */
		if (!f)
			continue;
		if (evpdev_refusal_silent(r)) {
			evpoll__fd_clear(p, f);
			continue;
		}
		evpoll__event_set(&evs[n++], r->fd, f, EPOLLERR);
		f->state |= EVPOLL__FD_REFUSED;
	}
	memmove(ev->ref, ev->ref + i, (size_t)(ev->nref - i) * sizeof(*ev->ref));
	ev->nref -= i;
	return n;
}

static void evpdev_change_set(struct evpoll_change *c, int op, int fd,
			      const struct evpoll__fd *f)
{
	c->op = op;
	c->fd = fd;
	c->event.events = f->events;
	c->event.data.u64 = evpoll__tag(fd, f);
	c->result = 1;
}

/*
 * A change made now, after the queue, in one EVPOLL_IOC_SUBMIT: for
 * poller.c's questions to the kernel (probes, ADD over a known fd) and
 * for what ->queue does not queue.
 */
static int evpdev_ctl(struct evpoll_poller *p, int op, int fd,
		      struct evpoll__fd *f)
{
	struct evpdev_poller *ev = p->priv;
	int ret;

	if (!ev->nq) {
		ret = evpoll__epoll_like_ctl(p, op, fd, f);
		if (!ret)
			evpdev_applied(f, op, evpoll__tag(fd, f), f->events);
		return ret;
	}
	if (evpdev_queue_grow(ev) < 0)
		return -ENOMEM;
	evpdev_change_set(&ev->q[ev->nq], op, fd, f);
	ret = evpoll_submit(ev->ep.epfd, ev->q, ev->nq + 1, NULL, 0, NULL);
	if (ret < 0)
		ret = -errno;
	if (ev->q[ev->nq].result <= 0)
		ret = ev->q[ev->nq].result;
	if (!ret)
		evpdev_applied(f, op, evpoll__tag(fd, f), f->events);
	evpdev_settle(p, ev);
	return ret;
}

static int evpdev_queue(struct evpoll_poller *p, int op, int fd,
			struct evpoll__fd *f)
{
	struct evpdev_poller *ev = p->priv;
	int i = evpdev_queued(ev, fd, f);

	if (!ev->batch || op == EPOLL_CTL_ADD)
		return 1;
	if (op == EPOLL_CTL_DEL) {
		/* The DEL is made at once: the queued MOD goes. */
		if (i >= 0)
			evpdev_unqueue_at(p, ev, i);
		return 1;
	}
	if (i >= 0) {
		ev->q[i].event.events = f->events;
		ev->q[i].event.data.u64 = evpoll__tag(fd, f);
		/* MOD back to what the kernel has: cancels out. */
		if (evpdev_mod_is_noop(f))
			evpdev_unqueue_at(p, ev, i);
		return 0;
	}
	if (evpdev_mod_is_noop(f))
		return 0;
	if (evpdev_queue_grow(ev) < 0)
		return 1;
	evpdev_change_set(&ev->q[ev->nq++], op, fd, f);
	f->bidx = ev->nq;
	return 0;
}

/*
 * The plain wait, EVPOLL_IOC_WAIT made here rather than through
 * evpoll_wait(): poller.c has checked @max, and the buffer is ours, so
 * the wrapper's checks (made for callers of the epoll signature) are not
 * needed on the poller's hottest path.
 */
static int evpdev_plain_wait(struct evpoll_poller *p,
			     struct evpoll_poller_event *evs, int max,
			     int timeout_ms)
{
	struct evpdev_poller *ev = p->priv;
	struct evpoll_wait w = {
		.timeout = timeout_ms < 0 ? -1 : (__s64)timeout_ms * 1000000,
		.maxevents = max,
	};
	int nr;

	if (max > ev->ep.bufcap && evpoll__epoll_like_buf(p, max) < 0)
		return -ENOMEM;
	w.events = (__u64)(uintptr_t)ev->ep.buf;
	nr = ioctl(ev->ep.epfd, EVPOLL_IOC_WAIT, &w);
	if (nr < 0)
		return -errno;
	return evpoll__epoll_like_report(p, evs, nr);
}

static int evpdev_wait(struct evpoll_poller *p,
		       struct evpoll_poller_event *evs, int max,
		       int timeout_ms)
{
	struct evpdev_poller *ev = p->priv;
	struct evpoll_wait_opts opts = { .flags = EVPOLL_WAIT_ERR_NOWAIT };
	struct timespec ts;
	int n = 0, nr, err;

	if (ev->nref) {
		n = evpdev_report_refused(p, ev, evs, max);
		if (n == max)
			return n;
		timeout_ms = n ? 0 : timeout_ms;
	}
	if (!ev->nq) {
		/* Nothing to apply: the plain wait. */
		nr = evpdev_plain_wait(p, evs + n, max - n, timeout_ms);
		if (nr < 0)
			return n ? n : nr;
		return n + nr;
	}
	nr = evpoll__epoll_like_buf(p, max - n);
	if (nr < 0)
		return n ? n : nr;
	if (timeout_ms >= 0) {
		evpoll__ms_to_timespec(timeout_ms, &ts);
		opts.timeout = &ts;
	}
	nr = evpoll_submit(ev->ep.epfd, ev->q, ev->nq, ev->ep.buf, max - n,
			   &opts);
	err = errno;
	evpdev_settle(p, ev);
	if (nr < 0)
		return n ? n : -err;
	n += evpoll__epoll_like_report(p, evs + n, nr);
	if (ev->nref)
		n += evpdev_report_refused(p, ev, evs + n, max - n);
	return n;
}

static int evpdev_wakeup(struct evpoll_poller *p)
{
	struct evpdev_poller *ev = p->priv;

	return evpoll_user_trigger(ev->ep.epfd, ev->user_id) < 0 ? -errno : 0;
}

static int evpdev_close(struct evpoll_poller *p, int fd, struct evpoll__fd *f)
{
	struct evpdev_poller *ev = p->priv;
	struct evpoll_forget fg = { .fd = fd };
	int ret, i = evpdev_queued(ev, fd, f);

	if (i >= 0)	/* a queued MOD: moot */
		evpdev_unqueue_at(p, ev, i);
	ret = 0;
	if (ev->forget) {
		/* 1: dropped; 0: kept (other references remain): DEL. */
		ret = ioctl(ev->ep.epfd, EVPOLL_IOC_FORGET, &fg);
		if (ret < 0)
			ret = -errno;
	}
	if (ret == 1)
		goto out_close;
	if (ret == 0)
		ret = evpdev_ctl(p, EPOLL_CTL_DEL, fd, f);
	if (ret == -EBADF)
		return ret;
	if (ret < 0) {
		close(fd);
		return ret;
	}
out_close:
	return close(fd) < 0 ? -errno : 0;
}

static int evpdev_user_new(struct evpoll_poller *p)
{
	struct evpdev_poller *ev = p->priv;

	ev->user_id = evpoll_user_add(ev->ep.epfd, EVPOLL__TAG_OWN, EPOLLIN);
	return ev->user_id < 0 ? -errno : 0;
}

static int evpdev_init(struct evpoll_poller *p)
{
	int ret = evpoll__epoll_like_init(p, &evpdev_calls,
					  sizeof(struct evpdev_poller));
	const char *nosub = getenv("EVPOLL_NO_SUBMIT");
	struct evpdev_poller *ev;
	uint64_t feat;

	if (ret < 0)
		return evpdev_errno_to_probe(-ret);
	ev = p->priv;
	if (evpoll_features(ev->ep.epfd, &feat) < 0)
		feat = 0;
	ev->batch = (feat & EVPOLL_FEAT_SUBMIT) &&
		    !(nosub && *nosub && strcmp(nosub, "0"));
	if (!ev->batch)
		p->caps &= ~EVPOLL_CAP_BATCHED;
	ev->forget = !!(feat & EVPOLL_FEAT_FORGET);
	ev->user_id = -1;
	if (!(feat & EVPOLL_FEAT_USER) || evpdev_user_new(p) < 0)
		p->wakeup = NULL;	/* poller.c's eventfd */
	return 0;
}

static void evpdev_destroy(struct evpoll_poller *p)
{
	struct evpdev_poller *ev = p->priv;

	free(ev->q);
	free(ev->ref);
	evpoll__epoll_like_destroy(p);
}

/*
 * A new set (after fork, or without items nobody can name): the queued
 * MODs are kept for the registrations the move kept.  The wake-up user
 * event is made again in the new set.
 */
static int evpdev_reinit(struct evpoll_poller *p)
{
	struct evpdev_poller *ev = p->priv;
	int i, kept = 0, nq = ev->nq, ret, uret = 0;

	ev->nq = 0;	/* evpdev_ctl() must not flush into the old set */
	for (i = 0; i < p->nfds; i++)
		p->fds[i].bu64 = 0;	/* the items are copied anew */
	ret = evpoll__epoll_like_reinit(p);
	for (i = 0; i < nq; i++) {
		struct evpoll_change *c = &ev->q[i];
		struct evpoll__fd *f = &p->fds[c->fd];

		if (!(f->state & EVPOLL__FD_USED))
			continue;	/* forgotten by the move */
		ev->q[kept] = *c;
		f->bidx = ++kept;
	}
	ev->nq = kept;
	if (ev->user_id >= 0)
		uret = evpdev_user_new(p);
	return ret < 0 ? ret : uret;
}

const struct evpoll_backend_ops evpoll__backend_evpoll = {
	.name		= "evpoll",
	.id		= EVPOLL_BACKEND_EVPOLL,
	.caps		= EVPOLL__EPOLL_LIKE_CAPS | EVPOLL_CAP_BATCHED,
	.flags		= EVPOLL__BACKEND_KERNEL_FILES,
	.probe		= evpdev_probe,
	.init		= evpdev_init,
	.ctl		= evpdev_ctl,
	.wait		= evpdev_wait,
	.destroy	= evpdev_destroy,
	.reinit		= evpdev_reinit,
	.wakeup		= evpdev_wakeup,
	.queue		= evpdev_queue,
	.close		= evpdev_close,
};
