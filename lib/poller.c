// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * poller.c - the poller handle: backend registry, selection, fd table.
 *
 * Every evpoll_poller_* call comes through here.  This file owns what all
 * backends must agree on, so that no backend improvises:
 *
 *  - the registry, in default preference order (the enum's order), and
 *    the choice of a backend: by enum, by name, by $EVPOLL_BACKEND, or the
 *    first one whose probe succeeds;
 *  - validation, in epoll_ctl()'s order: EBADF (fd not open), EPERM
 *    (regular files, directories and block devices, which have no ->poll),
 *    EINVAL (unknown bits, EPOLLEXCLUSIVE misuse), EOPNOTSUPP (a flag the
 *    backend cannot honour, see EVPOLL_CAP_*), EEXIST, ENOENT;
 *  - the fd table (struct evpoll__fd, indexed by fd number) with the
 *    registration's events, user data and generation.  The (st_dev,
 *    st_ino) recorded at ADD tells a closed-and-reused fd number from the
 *    file that was added: the stale entry is dropped, as epoll drops an
 *    item when its file is closed;
 *  - ONESHOT: after an event is delivered for an EPOLLONESHOT fd, the
 *    entry is marked disarmed until the next MOD.  Backends whose kernel
 *    mechanism is one-shot anyway (EVPOLL_CAP_KERNEL_ONESHOT) only see the
 *    mark; the others get a MOD that removes the fd from their sets;
 *  - timeouts: a backend may wake up with nothing to report (stale
 *    completions, a signal for a removed fd); the wait is then resumed
 *    with what is left of the timeout, so 0 is returned only when the
 *    timeout has expired.
 *
 * A poller is not thread-safe: callers serialize calls on one poller.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"

static const struct evpoll_backend_ops *const
poller_backends[EVPOLL_BACKEND_COUNT] = {
	[EVPOLL_BACKEND_EVPOLL]	= &evpoll__backend_evpoll,
	[EVPOLL_BACKEND_EPOLL]	= &evpoll__backend_epoll,
	[EVPOLL_BACKEND_URING]	= &evpoll__backend_uring,
	[EVPOLL_BACKEND_AIO]	= &evpoll__backend_linuxaio,
	[EVPOLL_BACKEND_POLL]	= &evpoll__backend_poll,
	[EVPOLL_BACKEND_SELECT]	= &evpoll__backend_select,
	[EVPOLL_BACKEND_SIGIO]	= &evpoll__backend_sigio,
};

/* Bits EPOLLEXCLUSIVE may be combined with (fs/eventpoll.c, less WAKEUP). */
#define POLLER_EXCLUSIVE_OK	(EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | \
				 EPOLLET | EPOLLEXCLUSIVE)

static const struct evpoll_backend_ops *poller_ops(enum evpoll_backend b)
{
	if ((int)b <= EVPOLL_BACKEND_DEFAULT || b >= EVPOLL_BACKEND_COUNT)
		return NULL;
	return poller_backends[b];
}

void evpoll__ms_to_timespec(int timeout_ms, struct timespec *ts)
{
	ts->tv_sec = timeout_ms / 1000;
	ts->tv_nsec = (long)(timeout_ms % 1000) * 1000000;
}

int evpoll__fd_is_open(int fd)
{
	return fd >= 0 && fcntl(fd, F_GETFD) >= 0;
}

/**
 * evpoll_backend_name() - name of a backend
 * @backend: an enum evpoll_backend value
 *
 * Return: "evpoll", "epoll", "uring", "aio", "poll", "select", "sigio",
 * "default" for EVPOLL_BACKEND_DEFAULT, or NULL for other values.
 */
const char *evpoll_backend_name(enum evpoll_backend backend)
{
	const struct evpoll_backend_ops *ops = poller_ops(backend);

	if (backend == EVPOLL_BACKEND_DEFAULT)
		return "default";
	return ops ? ops->name : NULL;
}

/**
 * evpoll_backend_by_name() - look a backend up by name
 * @name: a name as returned by evpoll_backend_name(); "io_uring" is also
 *	  accepted for "uring", and "linuxaio" for "aio"
 *
 * Return: the enum evpoll_backend value (EVPOLL_BACKEND_DEFAULT for
 * "default"), or -EINVAL if @name is NULL or unknown.
 */
int evpoll_backend_by_name(const char *name)
{
	int b;

	if (!name)
		return -EINVAL;
	if (!strcmp(name, "default"))
		return EVPOLL_BACKEND_DEFAULT;
	if (!strcmp(name, "io_uring"))
		return EVPOLL_BACKEND_URING;
	if (!strcmp(name, "linuxaio"))
		return EVPOLL_BACKEND_AIO;
	for (b = EVPOLL_BACKEND_DEFAULT + 1; b < EVPOLL_BACKEND_COUNT; b++)
		if (!strcmp(name, poller_backends[b]->name))
			return b;
	return -EINVAL;
}

/**
 * evpoll_backend_caps() - what a backend can do, before it is probed
 * @backend: a backend (not EVPOLL_BACKEND_DEFAULT)
 *
 * A poller's own evpoll_poller_caps() may have fewer bits when the running
 * kernel lacks a feature (io_uring multishot poll for EVPOLL_CAP_ET).
 *
 * Return: EVPOLL_CAP_* bits, 0 for an unknown backend.
 */
unsigned int evpoll_backend_caps(enum evpoll_backend backend)
{
	const struct evpoll_backend_ops *ops = poller_ops(backend);

	return ops ? ops->caps : 0;
}

/**
 * evpoll_backend_probe() - can this backend be used on this machine?
 * @backend: a backend (not EVPOLL_BACKEND_DEFAULT)
 *
 * Return: 0 if a poller of this backend can be created, else a negative
 * errno value: -EINVAL for an unknown backend, -ENODEV when /dev/evpoll
 * cannot be opened, -ENOSYS or -EPERM when the kernel lacks or forbids
 * the mechanism, -EOPNOTSUPP when it lacks the poll operation.
 */
int evpoll_backend_probe(enum evpoll_backend backend)
{
	const struct evpoll_backend_ops *ops = poller_ops(backend);

	if (!ops)
		return -EINVAL;
	return ops->probe();
}

/**
 * evpoll_backends_available() - the backends usable on this machine
 * @list: array receiving up to @max backends, in preference order
 *	  (may be NULL if @max is 0)
 * @max:  capacity of @list
 *
 * Return: the number of available backends (which may exceed @max: only
 * @max are stored), or -EINVAL if @max is negative.
 */
int evpoll_backends_available(enum evpoll_backend *list, int max)
{
	int b, n = 0;

	if (max < 0 || (max > 0 && !list))
		return -EINVAL;
	for (b = EVPOLL_BACKEND_DEFAULT + 1; b < EVPOLL_BACKEND_COUNT; b++) {
		if (poller_backends[b]->probe() < 0)
			continue;
		if (n < max)
			list[n] = b;
		n++;
	}
	return n;
}

/**
 * evpoll_backend_default() - the backend EVPOLL_BACKEND_DEFAULT stands for
 *
 * $EVPOLL_BACKEND, if set and not empty, names the backend; it is not
 * replaced by another one when it cannot be used.  Otherwise the first
 * backend, in preference order, whose probe succeeds.
 *
 * Return: an enum evpoll_backend value, or a negative errno value: -EINVAL
 * if $EVPOLL_BACKEND names no backend, the probe's error if the backend
 * it names is unavailable.
 */
int evpoll_backend_default(void)
{
	const char *env = getenv("EVPOLL_BACKEND");
	int b, ret;

	if (env && *env) {
		b = evpoll_backend_by_name(env);
		if (b <= EVPOLL_BACKEND_DEFAULT)
			return -EINVAL;
		ret = evpoll_backend_probe(b);
		return ret < 0 ? ret : b;
	}
	for (b = EVPOLL_BACKEND_DEFAULT + 1; b < EVPOLL_BACKEND_COUNT; b++)
		if (poller_backends[b]->probe() == 0)
			return b;
	return -ENODEV;
}

/**
 * evpoll_poller_new() - create a poller
 * @backend: the backend, or EVPOLL_BACKEND_DEFAULT (see
 *	     evpoll_backend_default())
 * @flags:   must be 0
 * @out:     receives the new poller
 *
 * Return: 0, or a negative errno value: -EINVAL (bad @backend, @flags or
 * @out), -ENOMEM, or the backend's error (-ENODEV when /dev/evpoll cannot
 * be opened, -EMFILE, -ENOSYS, -EAGAIN when no real-time signal is left
 * for sigio...).
 */
int evpoll_poller_new(enum evpoll_backend backend, unsigned int flags,
		      struct evpoll_poller **out)
{
	const struct evpoll_backend_ops *ops;
	struct evpoll_poller *p;
	int ret;

	if (flags || !out)
		return -EINVAL;
	if (backend == EVPOLL_BACKEND_DEFAULT) {
		ret = evpoll_backend_default();
		if (ret < 0)
			return ret;
		backend = ret;
	}
	ops = poller_ops(backend);
	if (!ops)
		return -EINVAL;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->ops = ops;
	p->caps = ops->caps;
	ret = ops->init(p);
	if (ret < 0) {
		free(p);
		return ret;
	}
	*out = p;
	return 0;
}

/**
 * evpoll_poller_new_by_name() - create a poller from a backend name
 * @name:  a backend name (see evpoll_backend_name()), "default", or NULL
 *	   (same as "default")
 * @flags: must be 0
 * @out:   receives the new poller
 *
 * Return: as evpoll_poller_new(); -EINVAL for an unknown name.
 */
int evpoll_poller_new_by_name(const char *name, unsigned int flags,
			      struct evpoll_poller **out)
{
	int b = name ? evpoll_backend_by_name(name) : EVPOLL_BACKEND_DEFAULT;

	if (b < 0)
		return b;
	return evpoll_poller_new(b, flags, out);
}

/**
 * evpoll_poller_free() - destroy a poller
 * @p: the poller, or NULL
 *
 * The registered fds are not closed; the backend's own fds are, and what
 * a backend changed on the registered fds is undone (sigio's O_ASYNC).
 */
void evpoll_poller_free(struct evpoll_poller *p)
{
	if (!p)
		return;
	p->ops->destroy(p);
	free(p->fds);
	free(p);
}

/**
 * evpoll_poller_backend() - the backend of a poller
 * @p: the poller
 *
 * Return: its enum evpoll_backend value (never EVPOLL_BACKEND_DEFAULT).
 */
enum evpoll_backend evpoll_poller_backend(const struct evpoll_poller *p)
{
	return p->ops->id;
}

/**
 * evpoll_poller_backend_name() - the name of the backend of a poller
 * @p: the poller
 *
 * Return: a static string, e.g. "epoll".
 */
const char *evpoll_poller_backend_name(const struct evpoll_poller *p)
{
	return p->ops->name;
}

/**
 * evpoll_poller_caps() - what this poller can do
 * @p: the poller
 *
 * Return: EVPOLL_CAP_* bits.
 */
unsigned int evpoll_poller_caps(const struct evpoll_poller *p)
{
	return p->caps;
}

static uint32_t poller_next_gen(struct evpoll_poller *p)
{
	if (++p->gen == 0)
		p->gen = 1;
	return p->gen;
}

static int poller_fd_reserve(struct evpoll_poller *p, int fd)
{
	struct evpoll__fd *fds;
	int n = p->nfds ? p->nfds : 64;

	if (fd < p->nfds)
		return 0;
	while (n <= fd)
		n *= 2;
	fds = realloc(p->fds, (size_t)n * sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	memset(fds + p->nfds, 0, (size_t)(n - p->nfds) * sizeof(*fds));
	p->fds = fds;
	p->nfds = n;
	return 0;
}

void evpoll__fd_forget(struct evpoll_poller *p, int fd)
{
	struct evpoll__fd *f = evpoll__fd_lookup(p, fd);

	if (!f)
		return;
	p->ops->ctl(p, EPOLL_CTL_DEL, fd, f);
	memset(f, 0, sizeof(*f));
	p->count--;
}

static int poller_check_events(struct evpoll_poller *p, int op,
			       uint32_t events)
{
	if (events & ~(EVPOLL_POLLER_EVENTS | EVPOLL_POLLER_FLAGS))
		return -EINVAL;
	if (events & EPOLLEXCLUSIVE) {
		if (op == EPOLL_CTL_MOD || (events & ~POLLER_EXCLUSIVE_OK))
			return -EINVAL;
		if (!(p->caps & EVPOLL_CAP_EXCLUSIVE))
			return -EOPNOTSUPP;
	}
	if ((events & EPOLLET) && !(p->caps & EVPOLL_CAP_ET))
		return -EOPNOTSUPP;
	if ((events & EPOLLONESHOT) && !(p->caps & EVPOLL_CAP_ONESHOT))
		return -EOPNOTSUPP;
	if ((events & EPOLLRDHUP) && !(p->caps & EVPOLL_CAP_RDHUP))
		return -EOPNOTSUPP;
	return 0;
}

static int poller_ctl(struct evpoll_poller *p, int op, int fd,
		      uint32_t events, uint64_t data)
{
	struct evpoll__fd *f, saved;
	struct stat st;
	int ret;

	if (!p)
		return -EINVAL;
	if (fd < 0 || fstat(fd, &st) < 0) {
		/* Closed without DEL: the file is gone, so is its entry. */
		evpoll__fd_forget(p, fd);
		return -EBADF;
	}
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISBLK(st.st_mode))
		return -EPERM;
	if (op != EPOLL_CTL_DEL) {
		ret = poller_check_events(p, op, events);
		if (ret < 0)
			return ret;
	}

	f = evpoll__fd_lookup(p, fd);
	if (f && (f->dev != st.st_dev || f->ino != st.st_ino)) {
		/* The fd number was closed and reused by another file. */
		evpoll__fd_forget(p, fd);
		f = NULL;
	}

	switch (op) {
	case EPOLL_CTL_ADD:
		if (f)
			return -EEXIST;
		ret = poller_fd_reserve(p, fd);
		if (ret < 0)
			return ret;
		f = &p->fds[fd];
		memset(f, 0, sizeof(*f));
		f->state = EVPOLL__FD_USED;
		f->events = events;
		f->data = data;
		f->gen = poller_next_gen(p);
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		ret = p->ops->ctl(p, op, fd, f);
		if (ret < 0) {
			memset(f, 0, sizeof(*f));
			return ret;
		}
		p->count++;
		return 0;
	case EPOLL_CTL_MOD:
		if (!f)
			return -ENOENT;
		if (f->events & EPOLLEXCLUSIVE)
			return -EINVAL;
		saved = *f;
		f->events = events;
		f->data = data;
		f->gen = poller_next_gen(p);
		f->state &= ~EVPOLL__FD_DISARMED;
		ret = p->ops->ctl(p, op, fd, f);
		if (ret < 0) {
			f->events = saved.events;
			f->data = saved.data;
			f->gen = saved.gen;
			f->state = saved.state;
		}
		return ret;
	case EPOLL_CTL_DEL:
		if (!f)
			return -ENOENT;
		evpoll__fd_forget(p, fd);
		return 0;
	default:
		return -EINVAL;
	}
}

/**
 * evpoll_poller_add() - watch an fd
 * @p:      the poller
 * @fd:     the file descriptor
 * @events: EPOLLIN, EPOLLOUT, EPOLLPRI, EPOLLRDHUP, with EPOLLET,
 *	    EPOLLONESHOT or EPOLLEXCLUSIVE where the backend can do them
 *	    (EPOLLERR and EPOLLHUP are always reported)
 * @data:   user data returned with each event
 *
 * Return: 0, or a negative errno value: -EBADF, -EPERM (regular file,
 * directory, block device), -EINVAL (unknown bits), -EEXIST, -EOPNOTSUPP
 * (a flag the backend lacks, see evpoll_poller_caps()), -ERANGE (select:
 * fd >= FD_SETSIZE), -ENOMEM, or the backend's error.
 */
int evpoll_poller_add(struct evpoll_poller *p, int fd, uint32_t events,
		      uint64_t data)
{
	return poller_ctl(p, EPOLL_CTL_ADD, fd, events, data);
}

/**
 * evpoll_poller_mod() - change the events and user data of a watched fd
 * @p:      the poller
 * @fd:     the file descriptor
 * @events: as for evpoll_poller_add(), EPOLLEXCLUSIVE excepted
 * @data:   user data returned with each event
 *
 * Also re-arms an EPOLLONESHOT fd that has fired.
 *
 * Return: 0, or a negative errno value: -ENOENT if @fd is not watched,
 * others as evpoll_poller_add().
 */
int evpoll_poller_mod(struct evpoll_poller *p, int fd, uint32_t events,
		      uint64_t data)
{
	return poller_ctl(p, EPOLL_CTL_MOD, fd, events, data);
}

/**
 * evpoll_poller_del() - stop watching an fd
 * @p:  the poller
 * @fd: the file descriptor (still open)
 *
 * Return: 0, or a negative errno value: -ENOENT if @fd is not watched,
 * -EBADF if @fd is not open (a watched fd that was closed is forgotten).
 */
int evpoll_poller_del(struct evpoll_poller *p, int fd)
{
	return poller_ctl(p, EPOLL_CTL_DEL, fd, 0, 0);
}

/* ONESHOT bookkeeping after the backend delivered @n events. */
static int poller_delivered(struct evpoll_poller *p,
			    struct evpoll_poller_event *evs, int n)
{
	int i, out = 0;

	for (i = 0; i < n; i++) {
		struct evpoll__fd *f = evpoll__fd_lookup(p, evs[i].fd);

		if (!f || !evs[i].events)
			continue;
		if ((f->events & EPOLLONESHOT) &&
		    !(f->state & EVPOLL__FD_DISARMED)) {
			f->state |= EVPOLL__FD_DISARMED;
			if (!(p->caps & EVPOLL_CAP_KERNEL_ONESHOT))
				p->ops->ctl(p, EPOLL_CTL_MOD, evs[i].fd, f);
		}
		evs[out++] = evs[i];
	}
	return out;
}

static int64_t poller_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/**
 * evpoll_poller_wait() - wait for events
 * @p:          the poller
 * @evs:        array receiving the events
 * @maxevents:  capacity of @evs, greater than zero
 * @timeout_ms: milliseconds to wait, -1 (any negative) forever, 0 not at all
 *
 * Level-triggered fds are reported again while they stay ready; when more
 * fds are ready than @maxevents, later calls report the others.
 *
 * Return: the number of events stored, 0 when the timeout expired, or a
 * negative errno value: -EINVAL (@maxevents <= 0), -EFAULT (@evs NULL),
 * -EINTR (a signal handler ran), or the backend's error.
 */
int evpoll_poller_wait(struct evpoll_poller *p,
		       struct evpoll_poller_event *evs, int maxevents,
		       int timeout_ms)
{
	int64_t deadline = 0, left;
	int n, ms = timeout_ms < 0 ? -1 : timeout_ms;

	if (!p || maxevents <= 0)
		return -EINVAL;
	if (!evs)
		return -EFAULT;
	if (ms > 0)
		deadline = poller_now_ns() + (int64_t)ms * 1000000;

	for (;;) {
		n = p->ops->wait(p, evs, maxevents, ms);
		if (n < 0)
			return n;
		n = poller_delivered(p, evs, n);
		if (n > 0 || ms == 0)
			return n;
		if (ms > 0) {
			left = deadline - poller_now_ns();
			if (left <= 0)
				return 0;
			ms = (int)((left + 999999) / 1000000);
		}
	}
}
