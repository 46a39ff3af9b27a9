// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * backend-evpoll-ring.c - the /dev/evpoll backend with its event ring.
 *
 * notes about evpoll-ring:
 *
 * The instance of the evpoll backend, with a ring (evpoll_ring_setup(3))
 * of RINGB_ENTRIES entries: a wait first harvests the ring with plain
 * loads and stores, and enters the kernel (EVPOLL_IOC_RING_ENTER) only
 * when it is empty.  Changes go through EVPOLL_IOC_SUBMIT, one per ctl:
 * the poller's contract is that add/mod/del answer at once (EEXIST,
 * ENOENT, EBADF... are the poller's oracle for which file an fd names),
 * so they are not deferred to the next wait.  Semantics are epoll's to
 * the letter (the ring is set up with EVPOLL_RING_LT_STRICT, see
 * Documentation/design.rst, "The event ring"): edge-triggered items are
 * posted from the wake-up and harvested without a system call;
 * level-triggered and one-shot ones are reported by the kernel entry that
 * evpoll_ring_wait() makes at each wait while one may be ready.  The gain
 * is the edge-triggered programs'.  Same capabilities and tags as the evpoll
 * backend (backend-epoll.c explains the tag); a fork child gets its own
 * instance and ring from ->reinit.
 *
 * The probe needs the module's EVPOLL_FEAT_RING.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"

#define RINGB_ENTRIES	4096

/*
 * @opts is the wait's, kept from one wait to the next with the timeout
 * @opts_ms it holds (-1: none, block): the poller passes the same timeout
 * to most waits, and a wait that harvests the ring never reads it, so
 * the conversion is made only when the timeout changes.  A poller is used
 * by one thread at a time (evpoll_poller_new(3)), as @buf is.
 */
struct ringb_poller {
	int evfd;
	struct evpoll_ring *ring;
	struct epoll_event *buf;	/* wait buffer */
	int bufcap;
	int opts_ms;			/* the timeout in @opts, ms or -1 */
	struct timespec ts;		/* @opts.timeout when @opts_ms >= 0 */
	struct evpoll_wait_opts opts;
};

/* epoll_ctl()'s signature, through EVPOLL_IOC_SUBMIT (-1 and errno). */
static int ringb_submit_ctl(int evfd, int op, int fd, struct epoll_event *ev)
{
	struct evpoll_change c = { .op = op, .fd = fd };

	if (ev)
		c.event = *ev;
	if (evpoll_submit(evfd, &c, 1, NULL, 0, NULL) < 0)
		return -1;
	if (c.result) {
		errno = -c.result;
		return -1;
	}
	return 0;
}

/* A new instance with a ring: 0 or -errno. */
static int ringb_open(int *evfd, struct evpoll_ring **ring)
{
	uint64_t feat = 0;
	int fd, ret;

	fd = evpoll_create1(EPOLL_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENXIO ? -ENODEV : -errno;
	if (evpoll_features(fd, &feat) < 0 || !(feat & EVPOLL_FEAT_RING)) {
		close(fd);
		return -EOPNOTSUPP;
	}
	ret = evpoll_ring_setup_flags(fd, RINGB_ENTRIES, EVPOLL_RING_LT_STRICT,
				      ring);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	*evfd = fd;
	return 0;
}

static int ringb_probe(void)
{
	struct evpoll_ring *ring;
	int fd, ret;

	ret = ringb_open(&fd, &ring);
	if (ret < 0)
		return ret;
	evpoll_ring_free(ring);
	close(fd);
	return 0;
}

static int ringb_init(struct evpoll_poller *p)
{
	struct ringb_poller *rp = calloc(1, sizeof(*rp));
	int ret;

	if (!rp)
		return -ENOMEM;
	ret = ringb_open(&rp->evfd, &rp->ring);
	if (ret < 0) {
		free(rp);
		return ret;
	}
	rp->opts_ms = -1;	/* rp->opts.timeout NULL: block */
	p->priv = rp;
	return 0;
}

static void ringb_destroy(struct evpoll_poller *p)
{
	struct ringb_poller *rp = p->priv;

	evpoll_ring_free(rp->ring);
	close(rp->evfd);
	free(rp->buf);
	free(rp);
}

static int ringb_ctl(struct evpoll_poller *p, int op, int fd,
		     struct evpoll__fd *f)
{
	struct ringb_poller *rp = p->priv;
	struct epoll_event ev = {
		.events = f->events,
		.data.u64 = evpoll__tag(fd, f),
	};

	if (ringb_submit_ctl(rp->evfd, op, fd, &ev) < 0)
		return -errno;
	return 0;
}

/* Make rp->opts wait @timeout_ms (< 0: block). */
static void ringb_set_timeout(struct ringb_poller *rp, int timeout_ms)
{
	if (timeout_ms < 0) {
		rp->opts.timeout = NULL;
		rp->opts_ms = -1;
		return;
	}
	evpoll__ms_to_timespec(timeout_ms, &rp->ts);
	rp->opts.timeout = &rp->ts;
	rp->opts_ms = timeout_ms;
}

static int ringb_wait(struct evpoll_poller *p, struct evpoll_poller_event *evs,
		      int max, int timeout_ms)
{
	struct ringb_poller *rp = p->priv;
	int i, nr, n = 0;

	if (max > rp->bufcap) {
		struct epoll_event *buf;

		buf = realloc(rp->buf, (size_t)max * sizeof(*buf));
		if (!buf)
			return -ENOMEM;
		rp->buf = buf;
		rp->bufcap = max;
	}
	if (timeout_ms != rp->opts_ms)
		ringb_set_timeout(rp, timeout_ms);
	nr = evpoll_ring_wait(rp->ring, rp->buf, max, &rp->opts);
	if (nr < 0)
		return nr;
	for (i = 0; i < nr; i++) {
		uint64_t tag = rp->buf[i].data.u64;
		struct evpoll__fd *f = evpoll__tag_lookup(p, tag);
		uint32_t ev = f ? evpoll__fd_report(f, rp->buf[i].events) : 0;

		if (!f)
			p->stale++;
		else if (ev)
			evpoll__event_set(&evs[n++], evpoll__tag_fd(tag), f, ev);
	}
	return n;
}

/*
 * A new instance and ring with the registrations whose fd still names
 * their file (fork child, or items nobody can name any more).
 */
static int ringb_reinit(struct evpoll_poller *p)
{
	struct ringb_poller *rp = p->priv;
	struct evpoll_ring *ring;
	int old = rp->evfd, nfd, ret;

	ret = ringb_open(&nfd, &ring);
	if (ret < 0)
		return ret;
	ret = evpoll__epoll_move(p, ringb_submit_ctl, old, nfd, 1);
	evpoll_ring_free(rp->ring);
	rp->ring = ring;
	rp->evfd = nfd;
	close(old);
	return ret;
}

const struct evpoll_backend_ops evpoll__backend_evpoll_ring = {
	.name		= "evpoll-ring",
	.id		= EVPOLL_BACKEND_EVPOLL_RING,
	.caps		= EVPOLL__EPOLL_LIKE_CAPS,
	.flags		= EVPOLL__BACKEND_KERNEL_FILES,
	.probe		= ringb_probe,
	.init		= ringb_init,
	.ctl		= ringb_ctl,
	.wait		= ringb_wait,
	.destroy	= ringb_destroy,
	.reinit		= ringb_reinit,
};
