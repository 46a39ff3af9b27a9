// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * backend-epoll.c - the epoll(7) backend, and the code it shares with the
 * evpoll backend (backend-evpoll.c).
 *
 * notes about epoll:
 *
 * epoll keeps the interest set in the kernel: a ctl is O(log n), a wait
 * is O(ready).  Everything the poller API offers is native: level- and
 * edge-triggered, EPOLLONESHOT (the kernel disarms the item after one
 * event, lib/poller.c only records it), EPOLLEXCLUSIVE (ADD only; the
 * kernel enforces the same rules poller.c checks), EPOLLRDHUP.
 *
 * The item's epoll_data is a tag (generation << 32 | fd, see backend.h),
 * not the user's data: the user's data stays in the fd table, and an
 * event still queued for a registration that was removed (an fd closed
 * and reused while a dup of the old file keeps its item alive) is
 * dropped because its generation is no longer the table's.
 *
 * The set keys its items by (file, fd number), so its ctl answers tell
 * lib/poller.c whether an fd still names the file that was added
 * (EVPOLL__BACKEND_KERNEL_FILES: no shadow set, no extra system call).
 * One case it cannot repair: a file closed without DEL while a dup (or a
 * child) keeps it open stays in the set, under a number that may now name
 * another file, so nobody can DEL it.  Its events carry a tag the table
 * does not know: they are counted (p->stale) and poller.c has the set
 * rebuilt without them (evpoll__epoll_like_reinit()), instead of waking
 * up for them forever.
 *
 * The epoll fd is EPOLL_CLOEXEC.  After fork() parent and child share the
 * interest set, as with epoll itself, until the child calls
 * evpoll_poller_reinit(), which gives it a new set (same rebuild).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "backend.h"

int evpoll__epoll_like_init(struct evpoll_poller *p,
			    const struct evpoll__epoll_calls *calls,
			    size_t size)
{
	struct evpoll__epoll_like *ep = calloc(1, size);

	if (!ep)
		return -ENOMEM;
	ep->calls = calls;
	ep->epfd = calls->create1(EPOLL_CLOEXEC);
	if (ep->epfd < 0) {
		int ret = -errno;

		free(ep);
		return ret;
	}
	p->priv = ep;
	return 0;
}

void evpoll__epoll_like_destroy(struct evpoll_poller *p)
{
	struct evpoll__epoll_like *ep = p->priv;

	close(ep->epfd);
	free(ep->buf);
	free(ep);
}

int evpoll__epoll_like_ctl(struct evpoll_poller *p, int op, int fd,
			   struct evpoll__fd *f)
{
	struct evpoll__epoll_like *ep = p->priv;
	struct epoll_event ev = {
		.events = f->events,
		.data.u64 = evpoll__tag(fd, f),
	};

	if (ep->calls->ctl(ep->epfd, op, fd, &ev) < 0)
		return -errno;
	return 0;
}

/* Make the wait buffer hold @max events: 0 or -ENOMEM. */
int evpoll__epoll_like_buf(struct evpoll_poller *p, int max)
{
	struct evpoll__epoll_like *ep = p->priv;
	struct epoll_event *buf;

	if (max <= ep->bufcap)
		return 0;
	buf = realloc(ep->buf, (size_t)max * sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	ep->buf = buf;
	ep->bufcap = max;
	return 0;
}

/*
 * Turn the @nr events the kernel stored in the wait buffer into poller
 * events (at most @nr): tags the table does not know are counted in
 * p->stale, EVPOLL__TAG_OWN is skipped.
 */
int evpoll__epoll_like_report(struct evpoll_poller *p,
			      struct evpoll_poller_event *evs, int nr)
{
	struct evpoll__epoll_like *ep = p->priv;
	int i, n = 0;

	for (i = 0; i < nr; i++) {
		uint64_t tag = ep->buf[i].data.u64;
		struct evpoll__fd *f = evpoll__tag_lookup(p, tag);
		uint32_t ev;

		if (!f) {
			if (tag != EVPOLL__TAG_OWN)
				p->stale++;
			continue;
		}
		ev = evpoll__fd_report(f, ep->buf[i].events);
		if (ev)
			evpoll__event_set(&evs[n++], evpoll__tag_fd(tag), f, ev);
	}
	return n;
}

int evpoll__epoll_like_wait(struct evpoll_poller *p,
			    struct evpoll_poller_event *evs, int max,
			    int timeout_ms)
{
	struct evpoll__epoll_like *ep = p->priv;
	int nr = evpoll__epoll_like_buf(p, max);

	if (nr < 0)
		return nr;
	nr = ep->calls->wait(ep->epfd, ep->buf, max, timeout_ms);
	if (nr < 0)
		return -errno;
	return evpoll__epoll_like_report(p, evs, nr);
}

/*
 * A new set with the registrations whose fd still names their file; the
 * old set (and with it any item nobody can name) is closed.
 */
int evpoll__epoll_like_reinit(struct evpoll_poller *p)
{
	struct evpoll__epoll_like *ep = p->priv;
	int old = ep->epfd, nfd, ret;

	nfd = ep->calls->create1(EPOLL_CLOEXEC);
	if (nfd < 0)
		return -errno;
	ret = evpoll__epoll_move(p, ep->calls->ctl, old, nfd, 1);
	ep->epfd = nfd;
	close(old);
	return ret;
}

static const struct evpoll__epoll_calls epoll_calls = {
	.create1	= epoll_create1,
	.ctl		= epoll_ctl,
	.wait		= epoll_wait,
};

static int epoll_probe(void)
{
	int fd = epoll_create1(EPOLL_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int epoll_init(struct evpoll_poller *p)
{
	return evpoll__epoll_like_init(p, &epoll_calls,
				       sizeof(struct evpoll__epoll_like));
}

const struct evpoll_backend_ops evpoll__backend_epoll = {
	.name		= "epoll",
	.id		= EVPOLL_BACKEND_EPOLL,
	.caps		= EVPOLL__EPOLL_LIKE_CAPS,
	.flags		= EVPOLL__BACKEND_KERNEL_FILES,
	.probe		= epoll_probe,
	.init		= epoll_init,
	.ctl		= evpoll__epoll_like_ctl,
	.wait		= evpoll__epoll_like_wait,
	.destroy	= evpoll__epoll_like_destroy,
	.reinit		= evpoll__epoll_like_reinit,
};
