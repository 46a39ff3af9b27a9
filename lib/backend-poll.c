// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * backend-poll.c - the poll(2) backend.
 *
 * notes about poll:
 *
 * poll() takes the whole interest set on every call and the kernel walks
 * all of it, queueing a wait entry on every file and polling every file
 * again after each wakeup: O(registered) per wait, where epoll is
 * O(ready).  It has no limit on fd numbers, and reports everything epoll
 * does for our purposes (POLLRDHUP with _GNU_SOURCE; the POLL* values are
 * the EPOLL* values on Linux).
 *
 * The set is kept as a dense struct pollfd array; an fd's slot is in its
 * fd table entry (bidx) and removal moves the last slot into the hole.  A
 * disarmed ONESHOT fd gets a negative fd in its slot, which poll() skips
 * (events = 0 would still report POLLHUP/POLLERR).  poll() is level-
 * triggered only: EPOLLET is refused (an edge cannot be told from a level
 * that was not drained without losing wakeups), EPOLLONESHOT is emulated
 * by lib/poller.c.  When more fds are ready than the caller takes, the
 * next scan starts after the last fd reported, so no fd starves.
 *
 * A slot reporting POLLNVAL belongs to an fd closed without DEL: it is
 * dropped, as epoll drops the item of a closed file.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "backend.h"

_Static_assert(POLLIN == EPOLLIN && POLLPRI == EPOLLPRI &&
	       POLLOUT == EPOLLOUT && POLLERR == EPOLLERR &&
	       POLLHUP == EPOLLHUP && POLLRDHUP == EPOLLRDHUP,
	       "POLL* and EPOLL* differ");

struct poll_poller {
	struct pollfd *pfds;	/* the set, pfds[0 .. n - 1] */
	int *fdof;		/* fd of each slot (pfds[].fd may be < 0) */
	int n;
	int cap;
	int next;		/* slot the next scan starts at */
};

static int poll_probe(void)
{
	return 0;
}

static int poll_init(struct evpoll_poller *p)
{
	p->priv = calloc(1, sizeof(struct poll_poller));
	return p->priv ? 0 : -ENOMEM;
}

static void poll_destroy(struct evpoll_poller *p)
{
	struct poll_poller *pp = p->priv;

	free(pp->pfds);
	free(pp->fdof);
	free(pp);
}

static int poll_grow(struct poll_poller *pp)
{
	int cap = pp->cap ? pp->cap * 2 : 64;
	struct pollfd *pfds;
	int *fdof;

	pfds = realloc(pp->pfds, (size_t)cap * sizeof(*pfds));
	if (!pfds)
		return -ENOMEM;
	pp->pfds = pfds;
	fdof = realloc(pp->fdof, (size_t)cap * sizeof(*fdof));
	if (!fdof)
		return -ENOMEM;
	pp->fdof = fdof;
	pp->cap = cap;
	return 0;
}

static void poll_set_slot(struct poll_poller *pp, int fd,
			  const struct evpoll__fd *f)
{
	struct pollfd *pfd = &pp->pfds[f->bidx];

	pfd->fd = (f->state & EVPOLL__FD_DISARMED) ? -1 : fd;
	pfd->events = (short)evpoll__fd_want(f);
	pfd->revents = 0;
}

static int poll_ctl(struct evpoll_poller *p, int op, int fd,
		    struct evpoll__fd *f)
{
	struct poll_poller *pp = p->priv;
	int last, ret;

	switch (op) {
	case EPOLL_CTL_ADD:
		if (pp->n == pp->cap) {
			ret = poll_grow(pp);
			if (ret < 0)
				return ret;
		}
		f->bidx = pp->n++;
		pp->fdof[f->bidx] = fd;
		poll_set_slot(pp, fd, f);
		return 0;
	case EPOLL_CTL_MOD:
		poll_set_slot(pp, fd, f);
		return 0;
	case EPOLL_CTL_DEL:
		last = --pp->n;
		if (f->bidx != last) {
			pp->pfds[f->bidx] = pp->pfds[last];
			pp->fdof[f->bidx] = pp->fdof[last];
			p->fds[pp->fdof[last]].bidx = f->bidx;
		}
		if (pp->next > pp->n)
			pp->next = 0;
		return 0;
	}
	return -EINVAL;
}

static int poll_wait_fds(struct evpoll_poller *p,
			 struct evpoll_poller_event *evs, int max,
			 int timeout_ms)
{
	struct poll_poller *pp = p->priv;
	int i, k, start, nready, n = 0;

	nready = poll(pp->pfds, (nfds_t)pp->n, timeout_ms);
	if (nready < 0)
		return -errno;
	if (nready == 0)
		return 0;

	/* Drop closed fds first: forgetting one moves another slot. */
	for (i = 0; i < pp->n; ) {
		if (pp->pfds[i].revents & POLLNVAL)
			evpoll__fd_forget(p, pp->fdof[i]);
		else
			i++;
	}
	start = pp->next < pp->n ? pp->next : 0;
	for (k = 0; k < pp->n && n < max; k++) {
		int slot = (start + k) % pp->n;
		int fd = pp->fdof[slot];
		struct evpoll__fd *f = &p->fds[fd];
		uint32_t ev;

		if (!pp->pfds[slot].revents)
			continue;
		ev = evpoll__fd_report(f, (uint16_t)pp->pfds[slot].revents);
		if (!ev)
			continue;
		evpoll__event_set(&evs[n++], fd, f, ev);
		pp->next = (slot + 1) % pp->n;
	}
	return n;
}

const struct evpoll_backend_ops evpoll__backend_poll = {
	.name		= "poll",
	.id		= EVPOLL_BACKEND_POLL,
	.caps		= EVPOLL_CAP_ONESHOT | EVPOLL_CAP_RDHUP |
			  EVPOLL_CAP_HUP | EVPOLL_CAP_ANON_FILES |
			  EVPOLL_CAP_ANY_FDNUM | EVPOLL_CAP_ANY_THREAD |
			  EVPOLL_CAP_FORK,
	.probe		= poll_probe,
	.init		= poll_init,
	.ctl		= poll_ctl,
	.wait		= poll_wait_fds,
	.destroy	= poll_destroy,
};
