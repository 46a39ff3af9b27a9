// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * backend-select.c - the select(2) backend.
 *
 * notes about select:
 *
 * An fd_set is a bitmap of FD_SETSIZE (1024) bits, and FD_SET() of a
 * larger fd writes past its end (glibc's fortified FD_SET aborts).  So an
 * fd >= FD_SETSIZE is refused at ADD with -ERANGE, before any fd_set is
 * touched; EVPOLL_CAP_ANY_FDNUM is not set.  Use poll or better for
 * programs with many fds.
 *
 * select() has three sets, not a mask: EPOLLIN goes in readfds, EPOLLOUT
 * in writefds, EPOLLPRI in exceptfds.  A hang-up or an error shows up as
 * "readable" or "writable" (the kernel's POLLIN_SET/POLLOUT_SET contain
 * EPOLLHUP and EPOLLERR), so EPOLLHUP and EPOLLERR are never reported as
 * such (no EVPOLL_CAP_HUP), and EPOLLRDHUP cannot be asked for (refused
 * with -EOPNOTSUPP, no EVPOLL_CAP_RDHUP).  An fd watched for no event at
 * all is in no set and reports nothing.
 *
 * Like poll, select is O(highest fd) per call and level-triggered only:
 * EPOLLET is refused, EPOLLONESHOT is emulated by lib/poller.c (the fd is
 * cleared from the sets).  If a registered fd was closed without DEL,
 * select() fails with EBADF as a whole: the closed fds are found with
 * fcntl(F_GETFD), dropped, and the wait goes on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "backend.h"

struct select_poller {
	fd_set rd;
	fd_set wr;
	fd_set ex;
	int maxfd;		/* highest registered fd, -1 if none */
	int next;		/* fd the next scan starts at */
};

static int select_probe(void)
{
	return 0;
}

static int select_init(struct evpoll_poller *p)
{
	struct select_poller *sp = calloc(1, sizeof(*sp));

	if (!sp)
		return -ENOMEM;
	FD_ZERO(&sp->rd);
	FD_ZERO(&sp->wr);
	FD_ZERO(&sp->ex);
	sp->maxfd = -1;
	p->priv = sp;
	return 0;
}

static void select_destroy(struct evpoll_poller *p)
{
	free(p->priv);
}

static void select_set(struct select_poller *sp, int fd, uint32_t want)
{
	FD_CLR(fd, &sp->rd);
	FD_CLR(fd, &sp->wr);
	FD_CLR(fd, &sp->ex);
	if (want & EPOLLIN)
		FD_SET(fd, &sp->rd);
	if (want & EPOLLOUT)
		FD_SET(fd, &sp->wr);
	if (want & EPOLLPRI)
		FD_SET(fd, &sp->ex);
}

static int select_ctl(struct evpoll_poller *p, int op, int fd,
		      struct evpoll__fd *f)
{
	struct select_poller *sp = p->priv;

	if (fd >= FD_SETSIZE)
		return -ERANGE;
	switch (op) {
	case EPOLL_CTL_ADD:
		if (fd > sp->maxfd)
			sp->maxfd = fd;
		select_set(sp, fd, evpoll__fd_want(f));
		return 0;
	case EPOLL_CTL_MOD:
		select_set(sp, fd, evpoll__fd_want(f));
		return 0;
	case EPOLL_CTL_DEL:
		select_set(sp, fd, 0);
		if (fd == sp->maxfd) {
			/* @fd is still in the table: look below it. */
			while (--sp->maxfd >= 0 &&
			       !evpoll__fd_lookup(p, sp->maxfd))
				;
		}
		return 0;
	}
	return -EINVAL;
}

/* select() said EBADF: drop the registered fds that were closed. */
static void select_drop_closed(struct evpoll_poller *p)
{
	struct select_poller *sp = p->priv;
	int fd;

	for (fd = sp->maxfd; fd >= 0; fd--)
		if (evpoll__fd_lookup(p, fd) && !evpoll__fd_is_open(fd))
			evpoll__fd_forget(p, fd);
}

static int select_wait(struct evpoll_poller *p,
		       struct evpoll_poller_event *evs, int max,
		       int timeout_ms)
{
	struct select_poller *sp = p->priv;
	struct timeval tv, *tvp = NULL;
	fd_set rd = sp->rd, wr = sp->wr, ex = sp->ex;
	int k, start, nfds = sp->maxfd + 1, n = 0, ret;

	if (timeout_ms >= 0) {
		tv.tv_sec = timeout_ms / 1000;
		tv.tv_usec = (timeout_ms % 1000) * 1000;
		tvp = &tv;
	}
	ret = select(nfds, &rd, &wr, &ex, tvp);
	if (ret < 0) {
		if (errno != EBADF)
			return -errno;
		select_drop_closed(p);
		return 0;
	}
	if (ret == 0)
		return 0;

	start = sp->next < nfds ? sp->next : 0;
	for (k = 0; k < nfds && n < max; k++) {
		int fd = (start + k) % nfds;
		struct evpoll__fd *f;
		uint32_t ev = 0;

		if (FD_ISSET(fd, &rd))
			ev |= EPOLLIN;
		if (FD_ISSET(fd, &wr))
			ev |= EPOLLOUT;
		if (FD_ISSET(fd, &ex))
			ev |= EPOLLPRI;
		if (!ev)
			continue;
		f = evpoll__fd_lookup(p, fd);
		if (!f)
			continue;
		ev = evpoll__fd_report(f, ev);
		if (!ev)
			continue;
		evpoll__event_set(&evs[n++], fd, f, ev);
		sp->next = fd + 1;
	}
	return n;
}

const struct evpoll_backend_ops evpoll__backend_select = {
	.name		= "select",
	.id		= EVPOLL_BACKEND_SELECT,
	.caps		= EVPOLL_CAP_ONESHOT | EVPOLL_CAP_ANON_FILES |
			  EVPOLL_CAP_ANY_THREAD | EVPOLL_CAP_FORK,
	.probe		= select_probe,
	.init		= select_init,
	.ctl		= select_ctl,
	.wait		= select_wait,
	.destroy	= select_destroy,
};
