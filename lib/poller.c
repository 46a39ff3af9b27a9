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
 *  - validation: EINVAL (unknown bits, EPOLLEXCLUSIVE misuse) and
 *    EOPNOTSUPP (a flag the backend cannot honour, see EVPOLL_CAP_*) here;
 *    EBADF, EPERM (a file without ->poll), EEXIST and ENOENT are the
 *    kernel's answers, from an epoll set (below);
 *  - the fd table (struct evpoll__fd, indexed by fd number) with the
 *    registration's events, user data and generation;
 *  - which file an fd number names.  epoll keys its items by (file, fd
 *    number) and drops an item when its file is closed, so an epoll set
 *    is an exact and cheap oracle, for anonymous-inode files too (eventfd,
 *    timerfd... share one inode: (st_dev, st_ino) cannot tell them
 *    apart).  The epoll and evpoll backends ask their own set (no extra
 *    system call: the ctl itself answers).  The other backends keep a
 *    shadow epoll set (@shadow, never waited on) with every registered
 *    fd: its ADD/DEL give epoll's EBADF/EPERM/EEXIST/ENOENT, and before an
 *    event is reported, an ADD that fails with EEXIST proves that the fd
 *    still names the file that was added (one epoll_ctl() per event).  A
 *    registration whose fd was closed, or now names another file, is
 *    forgotten and its events dropped: nothing is ever reported with the
 *    user data of a closed-and-reused fd number.  The contract stays
 *    epoll's (and libev's, libuv's): DEL before close;
 *  - wake-ups (evpoll_poller_wakeup()): an eventfd registered in the
 *    backend like any fd (EVPOLL__FD_OWN), drained and never reported;
 *    sigio, whose files must signal, has its own ->wakeup;
 *  - fork (evpoll_poller_reinit()): the backend's ->reinit, a new shadow
 *    set and a new wake-up fd;
 *  - ONESHOT: after an event is delivered for an EPOLLONESHOT fd, the
 *    entry is marked disarmed until the next MOD.  Backends whose kernel
 *    mechanism is one-shot anyway (EVPOLL_CAP_KERNEL_ONESHOT) only see the
 *    mark; the others get a MOD that removes the fd from their sets;
 *  - timeouts: a backend may wake up with nothing to report (stale
 *    completions, a signal for a removed fd); the wait is then resumed
 *    with what is left of the timeout, so 0 is returned only when the
 *    timeout has expired.
 *
 * A poller is not thread-safe: callers serialize calls on one poller,
 * except evpoll_poller_wakeup(), which any thread may call at any time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "registry.h"

static const struct evpoll_backend_ops *const
poller_backends[EVPOLL_BACKEND_COUNT] = {
	[EVPOLL_BACKEND_EVPOLL]	= &evpoll__backend_evpoll,
	[EVPOLL_BACKEND_EPOLL]	= &evpoll__backend_epoll,
	[EVPOLL_BACKEND_URING]	= &evpoll__backend_uring,
	[EVPOLL_BACKEND_AIO]	= &evpoll__backend_linuxaio,
	[EVPOLL_BACKEND_POLL]	= &evpoll__backend_poll,
	[EVPOLL_BACKEND_SELECT]	= &evpoll__backend_select,
	[EVPOLL_BACKEND_SIGIO]	= &evpoll__backend_sigio,
	[EVPOLL_BACKEND_EVPOLL_RING] = &evpoll__backend_evpoll_ring,
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

static const char *poller_registry_name(int b)
{
	return poller_backends[b]->name;
}

static int poller_registry_probe(int b)
{
	return poller_backends[b]->probe();
}

static const char *const poller_aliases[][2] = {
	{ "io_uring", "uring" },
	{ "linuxaio", "aio" },
	{ NULL, NULL },
};

static const struct evpoll__registry poller_registry = {
	.env	= "EVPOLL_BACKEND",
	.nr	= EVPOLL_BACKEND_COUNT,
	.name	= poller_registry_name,
	.probe	= poller_registry_probe,
	.aliases = poller_aliases,
};

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
 * "evpoll-ring",
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
	return evpoll__registry_by_name(&poller_registry, name);
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
	for (b = evpoll__registry_next(&poller_registry, 0);
	     b < EVPOLL_BACKEND_COUNT;
	     b = evpoll__registry_next(&poller_registry, b)) {
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
	return evpoll__registry_default(&poller_registry);
}

static int poller_ctl(struct evpoll_poller *p, int op, int fd,
		      uint32_t events, uint64_t data);

/* A new wake-up eventfd, registered in the backend as the poller's own. */
static int poller_wakefd_new(struct evpoll_poller *p)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), ret;

	if (fd < 0)
		return -errno;
	ret = poller_ctl(p, EPOLL_CTL_ADD, fd, EPOLLIN, 0);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	p->fds[fd].state |= EVPOLL__FD_OWN;
	p->wakefd = fd;
	return 0;
}

/**
 * evpoll_poller_new() - create a poller
 * @backend: the backend, or EVPOLL_BACKEND_DEFAULT (see
 *	     evpoll_backend_default())
 * @flags:   0 or EVPOLL_POLLER_CHECK_FDS
 * @out:     receives the new poller
 *
 * EVPOLL_POLLER_CHECK_FDS: see include/evpoll.h and "Closing a watched fd"
 * in Documentation/backends.rst.
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

	if ((flags & ~EVPOLL_POLLER_CHECK_FDS) || !out)
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
	p->shadow = -1;
	p->wakefd = -1;
	p->wakeup = ops->wakeup;
	p->check_fds = !!(flags & EVPOLL_POLLER_CHECK_FDS);
	ret = ops->init(p);
	if (ret < 0) {
		free(p);
		return ret;
	}
	if (!(ops->flags & EVPOLL__BACKEND_KERNEL_FILES)) {
		p->shadow = epoll_create1(EPOLL_CLOEXEC);
		if (p->shadow < 0) {
			ret = -errno;
			goto out_free;
		}
	}
	if (!p->wakeup) {
		ret = poller_wakefd_new(p);
		if (ret < 0)
			goto out_free;
	}
	*out = p;
	return 0;

out_free:
	evpoll_poller_free(p);
	return ret;
}

/**
 * evpoll_poller_new_by_name() - create a poller from a backend name
 * @name:  a backend name (see evpoll_backend_name()), "default", or NULL
 *	   (same as "default")
 * @flags: as for evpoll_poller_new()
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
	if (p->shadow >= 0)
		close(p->shadow);
	if (p->wakefd >= 0)
		close(p->wakefd);
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

void evpoll__fd_clear(struct evpoll_poller *p, struct evpoll__fd *f)
{
	memset(f, 0, sizeof(*f));
	p->count--;
}

/* Forget @fd's registration: the backend's DEL, then the table entry. */
static void poller_drop(struct evpoll_poller *p, struct evpoll__fd *f, int fd)
{
	p->ops->ctl(p, EPOLL_CTL_DEL, fd, f);
	evpoll__fd_clear(p, f);
}

/*
 * Forget a registration whose fd was closed: the shadow item, if its file
 * is still open elsewhere, stays behind, harmless (never waited on) until
 * that file is closed.
 */
void evpoll__fd_forget(struct evpoll_poller *p, int fd)
{
	struct evpoll__fd *f = evpoll__fd_lookup(p, fd);

	if (f)
		poller_drop(p, f, fd);
}

static int poller_shadow_ctl(struct evpoll_poller *p, int op, int fd)
{
	struct epoll_event ev = { .events = EPOLLET };

	return epoll_ctl(p->shadow, op, fd, &ev) < 0 ? -errno : 0;
}

/*
 * Does @fd still name the file it was added for?  Asked of the shadow
 * set, or of the backend's own (epoll, evpoll: an item tagged 0, which
 * no registration has, lives there between the ADD and the DEL).  0 if
 * so; -ENOENT if it names another file, -EBADF if it is closed, -EPERM if
 * it names a file without ->poll (the registration is stale); another
 * -errno (-ENOMEM, -ENOSPC) when the kernel could not tell.
 */
static int poller_same_file(struct evpoll_poller *p, int fd)
{
	struct evpoll__fd probe = { 0 };
	int ret;

	if (p->shadow >= 0)
		ret = poller_shadow_ctl(p, EPOLL_CTL_ADD, fd);
	else
		ret = p->ops->ctl(p, EPOLL_CTL_ADD, fd, &probe);
	if (ret == -EEXIST)
		return 0;
	if (ret == 0) {
		if (p->shadow >= 0)
			poller_shadow_ctl(p, EPOLL_CTL_DEL, fd);
		else
			p->ops->ctl(p, EPOLL_CTL_DEL, fd, &probe);
		return -ENOENT;
	}
	return ret;
}

static int poller_stale(int err)
{
	return err == -ENOENT || err == -EBADF || err == -EPERM;
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

/* MOD or DEL of an fd that is not registered: epoll's errno. */
static int poller_ctl_absent(struct evpoll_poller *p, int fd)
{
	struct evpoll__fd none = { 0 };
	int ret;

	/*
	 * A DEL that may only find a leftover item of a file closed without
	 * DEL and open again at @fd: its answer is EBADF, EPERM or ENOENT.
	 */
	if (p->shadow >= 0)
		ret = poller_shadow_ctl(p, EPOLL_CTL_DEL, fd);
	else
		ret = p->ops->ctl(p, EPOLL_CTL_DEL, fd, &none);
	return ret < 0 ? ret : -ENOENT;
}

/*
 * A plain change of a registration (ADD of a new one, MOD, DEL): the
 * backend may queue it for its next wait (->queue, evpoll's batched path).
 */
static int poller_backend_ctl(struct evpoll_poller *p, int op, int fd,
			      struct evpoll__fd *f)
{
	int ret;

	if (p->ops->queue) {
		ret = p->ops->queue(p, op, fd, f);
		if (ret <= 0)
			return ret;
	}
	return p->ops->ctl(p, op, fd, f);
}

/*
 * Set up @f as a new registration of @fd and hand it to the backend;
 * @f is cleared again if the backend refuses it.
 */
static int poller_insert(struct evpoll_poller *p, int fd, uint32_t events,
			 uint64_t data)
{
	struct evpoll__fd *f;
	int ret = poller_fd_reserve(p, fd);

	if (ret < 0)
		return ret;
	f = &p->fds[fd];
	memset(f, 0, sizeof(*f));
	f->state = EVPOLL__FD_USED;
	f->events = events;
	f->data = data;
	f->gen = poller_next_gen(p);
	ret = poller_backend_ctl(p, EPOLL_CTL_ADD, fd, f);
	if (ret < 0) {
		memset(f, 0, sizeof(*f));
		return ret;
	}
	p->count++;
	return 0;
}

static int poller_mod(struct evpoll_poller *p, int fd, struct evpoll__fd *f,
		      uint32_t events, uint64_t data)
{
	struct evpoll__fd saved = *f;
	int ret;

	if (f->events & EPOLLEXCLUSIVE)
		return -EINVAL;
	f->events = events;
	f->data = data;
	f->gen = poller_next_gen(p);
	f->state &= ~EVPOLL__FD_DISARMED;
	ret = poller_backend_ctl(p, EPOLL_CTL_MOD, fd, f);
	if (ret < 0) {
		f->events = saved.events;
		f->data = saved.data;
		f->gen = saved.gen;
		f->state = saved.state;
	}
	return ret;
}

/*
 * epoll, evpoll: the backend's own ctl is the oracle.  An ADD the kernel
 * accepts while the table has @fd names a new file (the old item went
 * with its file, or is left to the ->reinit that @stale triggers); a MOD
 * or DEL that finds no item means the same.
 */
static int poller_ctl_kernel(struct evpoll_poller *p, int op, int fd,
			     struct evpoll__fd *f, uint32_t events,
			     uint64_t data)
{
	int ret;

	switch (op) {
	case EPOLL_CTL_ADD:
		if (f) {
			struct evpoll__fd old = *f;

			memset(f, 0, sizeof(*f));
			f->events = events;
			f->data = data;
			f->state = EVPOLL__FD_USED;
			f->gen = poller_next_gen(p);
			ret = p->ops->ctl(p, op, fd, f);
			if (ret < 0)
				*f = old;
			if (poller_stale(ret))
				evpoll__fd_clear(p, f);
			return ret;
		}
		return poller_insert(p, fd, events, data);
	case EPOLL_CTL_MOD:
		if (!f)
			return poller_ctl_absent(p, fd);
		ret = poller_mod(p, fd, f, events, data);
		break;
	case EPOLL_CTL_DEL:
		if (!f)
			return poller_ctl_absent(p, fd);
		ret = poller_backend_ctl(p, op, fd, f);
		if (ret < 0 && !poller_stale(ret))
			return ret;
		evpoll__fd_clear(p, f);
		return ret;
	default:
		return -EINVAL;
	}
	if (poller_stale(ret))
		evpoll__fd_clear(p, f);
	return ret;
}

/*
 * The other backends: the shadow set is the oracle, asked before the
 * backend.  A registration found stale is forgotten (poller_drop()), and
 * the call answers for the file now at @fd, as epoll would.
 */
static int poller_ctl_shadow(struct evpoll_poller *p, int op, int fd,
			     struct evpoll__fd *f, uint32_t events,
			     uint64_t data)
{
	int ret;

	switch (op) {
	case EPOLL_CTL_ADD:
		ret = poller_shadow_ctl(p, op, fd);
		if (ret == -EEXIST && f)
			return -EEXIST;
		/* EEXIST without f: a leftover item whose file is back. */
		if (ret < 0 && ret != -EEXIST) {
			if (f && poller_stale(ret))
				poller_drop(p, f, fd);
			return ret;
		}
		if (f)
			poller_drop(p, f, fd);	/* @fd names a new file */
		ret = poller_insert(p, fd, events, data);
		if (ret < 0)
			poller_shadow_ctl(p, EPOLL_CTL_DEL, fd);
		return ret;
	case EPOLL_CTL_MOD:
		if (!f)
			return poller_ctl_absent(p, fd);
		ret = poller_same_file(p, fd);
		if (ret < 0) {
			if (poller_stale(ret))
				poller_drop(p, f, fd);
			return ret;
		}
		return poller_mod(p, fd, f, events, data);
	case EPOLL_CTL_DEL:
		if (!f)
			return poller_ctl_absent(p, fd);
		ret = poller_shadow_ctl(p, op, fd);
		if (ret == 0 || poller_stale(ret))
			poller_drop(p, f, fd);
		return ret;
	}
	return -EINVAL;
}

/*
 * The checks of a call on one fd: 0 with *@fp its table entry (NULL if
 * not registered), or -EINVAL (@p NULL, the poller's own fd: as
 * epoll_ctl() on the epoll fd itself), -EBADF (@fd negative).
 */
static int poller_fd_arg(struct evpoll_poller *p, int fd,
			 struct evpoll__fd **fp)
{
	if (!p)
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	*fp = evpoll__fd_lookup(p, fd);
	if (*fp && ((*fp)->state & EVPOLL__FD_OWN))
		return -EINVAL;
	return 0;
}

static int poller_ctl(struct evpoll_poller *p, int op, int fd,
		      uint32_t events, uint64_t data)
{
	struct evpoll__fd *f;
	int ret = poller_fd_arg(p, fd, &f);

	if (ret < 0)
		return ret;
	if (op != EPOLL_CTL_DEL) {
		ret = poller_check_events(p, op, events);
		if (ret < 0)
			return ret;
	}
	if (p->shadow < 0)
		return poller_ctl_kernel(p, op, fd, f, events, data);
	return poller_ctl_shadow(p, op, fd, f, events, data);
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

/**
 * evpoll_poller_close() - stop watching an fd and close it
 * @p:  the poller
 * @fd: the file descriptor (open)
 *
 * evpoll_poller_del() then close(2), in one call, so that a backend can
 * do both in the right order: on evpoll a change still queued for @fd is
 * dropped, and the module is told before the close (EVPOLL_IOC_FORGET,
 * where the module has it), so that its item is gone, and the close
 * releases the file, before this returns.  @fd is closed whenever it was
 * open, watched or not.
 *
 * Return: 0, or a negative errno value: -EBADF if @fd is not open (not
 * closed then; a watched fd that was closed is forgotten), -ENOENT or
 * -EPERM if @p did not watch @fd (closed all the same), -EINVAL (@p
 * NULL, or @fd the poller's own), or the error of close(2) (@fd is
 * closed all the same, as close(2) leaves it).
 */
int evpoll_poller_close(struct evpoll_poller *p, int fd)
{
	struct evpoll__fd *f;
	int ret = poller_fd_arg(p, fd, &f);

	if (ret < 0)
		return ret;
	if (f && p->ops->close) {
		ret = p->ops->close(p, fd, f);
		evpoll__fd_clear(p, f);
		return ret;
	}
	ret = poller_ctl(p, EPOLL_CTL_DEL, fd, 0, 0);
	if (ret == -EBADF)
		return ret;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	return ret;
}

/*
 * After the backend delivered @n events: drop those of the wake-up fd
 * (setting *@woken) and, on shadow backends or with
 * EVPOLL_POLLER_CHECK_FDS, those of registrations whose fd no longer
 * names their file (forgetting them); ONESHOT bookkeeping.
 */
static int poller_delivered(struct evpoll_poller *p,
			    struct evpoll_poller_event *evs, int n, int *woken)
{
	int i, out = 0;

	for (i = 0; i < n; i++) {
		int fd = evs[i].fd;
		struct evpoll__fd *f = evpoll__fd_lookup(p, fd);
		uint64_t count;

		if (!f || !evs[i].events)
			continue;
		if (f->state & EVPOLL__FD_OWN) {
			/* Wake-ups coalesce: one read takes them all. */
			if (read(fd, &count, sizeof(count)) < 0)
				count = 0;
			*woken = 1;
			continue;
		}
		if (f->state & EVPOLL__FD_REFUSED) {
			/* Its EPOLLERR (->queue): the registration ends. */
			evs[out++] = evs[i];
			evpoll__fd_clear(p, f);
			continue;
		}
		if ((p->shadow >= 0 || p->check_fds) &&
		    poller_stale(poller_same_file(p, fd))) {
			/* epoll, evpoll: the item left is ->reinit's. */
			if (p->shadow >= 0)
				poller_drop(p, f, fd);
			else
				evpoll__fd_clear(p, f);
			continue;
		}
		if ((f->events & EPOLLONESHOT) &&
		    !(f->state & EVPOLL__FD_DISARMED)) {
			f->state |= EVPOLL__FD_DISARMED;
			if (!(p->caps & EVPOLL_CAP_KERNEL_ONESHOT))
				p->ops->ctl(p, EPOLL_CTL_MOD, fd, f);
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
		int ret, woken = 0;

		/* A pending wake-up of a ->wakeup backend: do not block. */
		n = p->wakeup &&
		    __atomic_load_n(&p->wake, __ATOMIC_ACQUIRE) ? 0 : ms;
		n = p->ops->wait(p, evs, maxevents, n);
		if (n < 0)
			return n;
		n = poller_delivered(p, evs, n, &woken);
		if (p->stale) {
			/*
			 * Items the backend cannot name any more (their file
			 * is still open elsewhere) would be reported at every
			 * wait, forever: rebuild the set without them.
			 */
			p->stale = 0;
			ret = p->ops->reinit(p);
			if (ret < 0 && n == 0)
				return ret;
		}
		if (p->wakeup &&
		    __atomic_exchange_n(&p->wake, 0, __ATOMIC_ACQ_REL))
			woken = 1;
		if (n > 0 || ms == 0 || woken)
			return n;
		if (ms > 0) {
			left = deadline - poller_now_ns();
			if (left <= 0)
				return 0;
			ms = (int)((left + 999999) / 1000000);
		}
	}
}

/**
 * evpoll_poller_wakeup() - wake a waiting evpoll_poller_wait() up
 * @p: the poller
 *
 * May be called from any thread, and from a signal handler on every
 * backend but sigio.  A wait in progress returns at once (0 if nothing
 * else is ready); with no wait in progress, the next one does, once.
 * Wake-ups before that return coalesce into one.
 *
 * Return: 0, or a negative errno value: -EINVAL (@p NULL), or the error
 * of the write(2) (eventfd) or of the signal (sigio).
 */
int evpoll_poller_wakeup(struct evpoll_poller *p)
{
	uint64_t one = 1;

	if (!p)
		return -EINVAL;
	if (p->wakeup) {
		if (__atomic_exchange_n(&p->wake, 1, __ATOMIC_ACQ_REL))
			return 0;	/* one is pending already */
		return p->wakeup(p);
	}
	/* EAGAIN: the counter is full, the waiter will wake anyway. */
	if (write(p->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

int evpoll__epoll_move(struct evpoll_poller *p,
		       int (*ctl)(int, int, int, struct epoll_event *),
		       int old, int nfd, int tagged)
{
	int fd, err = 0;

	for (fd = 0; fd < p->nfds; fd++) {
		struct evpoll__fd *f = evpoll__fd_lookup(p, fd);
		struct epoll_event ev = { .events = EPOLLET };

		if (!f)
			continue;
		/* @old keys its items by (file, fd): EEXIST, same file. */
		if (ctl(old, EPOLL_CTL_ADD, fd, &ev) == 0) {
			ctl(old, EPOLL_CTL_DEL, fd, &ev);
			evpoll__fd_forget(p, fd);
			continue;
		}
		if (errno != EEXIST) {
			evpoll__fd_forget(p, fd);
			continue;
		}
		if (tagged) {
			ev.events = f->events;
			ev.data.u64 = evpoll__tag(fd, f);
		}
		if (ctl(nfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			if (!err)
				err = -errno;
			evpoll__fd_forget(p, fd);
		}
	}
	return err;
}

/**
 * evpoll_poller_reinit() - give a poller its own kernel state after fork
 * @p: the poller, inherited from the parent
 *
 * Call it in the child, before any other use of @p there, and before the
 * parent changes its own poller.  The child gets its own interest set
 * (epoll, evpoll), ring (uring), context (aio), shadow set and wake-up fd,
 * with the same registrations, events and user data; the parent's poller
 * is not changed.  sigio cannot separate them (no EVPOLL_CAP_FORK):
 * O_ASYNC, the owner and the signal belong to the open file descriptions,
 * shared with the parent, and after reinit the registered files signal
 * the child.  Registrations whose fd no longer names the file that was
 * added are forgotten.  Level-triggered fds that are ready are reported
 * again, and an edge-triggered one may be.
 *
 * Return: 0, or a negative errno value: -EINVAL (@p NULL), -ENOMEM,
 * -EMFILE, or the backend's error (then @p can only be freed).
 */
int evpoll_poller_reinit(struct evpoll_poller *p)
{
	int ret, old, nfd;

	if (!p)
		return -EINVAL;
	__atomic_store_n(&p->wake, 0, __ATOMIC_RELEASE);
	p->stale = 0;
	if (p->ops->reinit) {
		ret = p->ops->reinit(p);
		if (ret < 0)
			return ret;
	}
	if (p->shadow >= 0) {
		nfd = epoll_create1(EPOLL_CLOEXEC);
		if (nfd < 0)
			return -errno;
		old = p->shadow;
		ret = evpoll__epoll_move(p, epoll_ctl, old, nfd, 0);
		p->shadow = nfd;
		close(old);
		if (ret < 0)
			return ret;
	}
	if (p->wakefd >= 0) {
		/* The parent's counter: a wake-up there must not wake us. */
		old = p->wakefd;
		p->fds[old].state &= ~EVPOLL__FD_OWN;
		ret = poller_wakefd_new(p);	/* may move p->fds */
		if (ret < 0) {
			p->fds[old].state |= EVPOLL__FD_OWN;
			return ret;
		}
		poller_ctl(p, EPOLL_CTL_DEL, old, 0, 0);
		close(old);
	}
	return 0;
}
