/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * backend.h - what lib/poller.c and the backend-*.c files share.
 *
 * A poller is a backend (one const struct evpoll_backend_ops, one file
 * each) plus the fd table kept by poller.c.  poller.c validates every call
 * (EINVAL, EOPNOTSUPP from the capability bits; EBADF, EPERM, EEXIST and
 * ENOENT are the kernel's, from an epoll set: see poller.c), keeps the
 * table, tells a closed-and-reused fd number from the file that was added,
 * emulates ONESHOT for the backends that cannot do it, wakes a waiter up,
 * and loops on empty wakeups until the timeout expires; a backend only
 * translates ADD/MOD/DEL and wait into its mechanism.  Nothing here is
 * exported: internal cross-file names start with "evpoll__".
 *
 * Names in lib/ (functions, variables, macros; upper case for macros),
 * one rule, so that a name tells its scope:
 *
 *   evpoll_*	public API, declared in include/evpoll.h or
 *		include/evpoll-aio.h, marked EVPOLL_API and
 *		listed by libevpoll.map.
 *   evpoll__*	shared between library files: declared in a header of lib/
 *		(backend.h, aio.h, syscall.h, uring.h), never exported
 *		(not marked EVPOLL_API in a -fvisibility=hidden build;
 *		libevpoll.map's "evpoll_*" alone would let them through).
 *		Never used for a static.
 *   <file>_*	file-local statics: a short prefix for the file or its
 *		mechanism, never evpoll_: epoll_, evpdev_ (backend-evpoll.c),
 *		linuxaio_, poll_, select_, sigio_, uring_ (backend-*.c);
 *		uring_, posix_, linux_ (aio-*.c); caio_ (aio.c, the
 *		completion API); poller_ (poller.c); wrap_ (evpoll.c, the
 *		/dev/evpoll wrapper); preload.c, which has no ops table,
 *		uses plain names and preload_ (cfg(), real(), route_*()).
 *
 * Struct tags follow the same rule (a backend's private state is struct
 * <prefix>_poller), with two kinds of exception: the opaque public
 * handles struct evpoll_poller and struct evpoll_aio, defined here and in
 * aio.h; and the internal ops tables, which keep the names STYLE.md gives
 * them (struct evpoll_backend_ops, and in aio.h struct evpoll_aio_ops and
 * struct evpoll_aio_slot).
 *
 * A static also avoids names that mean something else nearby: libc's
 * (aio_cancel(3)), and the kernel API that kmod/ calls (poll_wait()).
 */
#ifndef _EVPOLL_BACKEND_H
#define _EVPOLL_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "evpoll.h"

/* evpoll__fd.state */
#define EVPOLL__FD_USED		(1U << 0)  /* registered */
#define EVPOLL__FD_DISARMED	(1U << 1)  /* ONESHOT fired, waiting for MOD */
#define EVPOLL__FD_OWN		(1U << 2)  /* the poller's own wake-up fd */
/* A queued change the kernel refused: the event reported is its last. */
#define EVPOLL__FD_REFUSED	(1U << 3)

/**
 * struct evpoll__fd - one registered fd, poller->fds[fd]
 * @events:	events and flags as given to add/mod
 * @state:	EVPOLL__FD_* bits
 * @data:	user data returned with each event
 * @gen:	generation of this registration, changed by every add and mod:
 *		backends that tag kernel requests with it drop completions
 *		of older registrations (io_uring, aio)
 * @bidx:	backend private (slot in a pollfd array, flags...)
 * @bu64:	backend private (request in flight...)
 * @dev:	backend private (sigio: st_dev of the file at add time)
 * @ino:	backend private (sigio: st_ino of the file at add time)
 *
 * poller.c changes @events, @state, @data and @gen; the backend fields
 * stay as the backend left them.
 */
struct evpoll__fd {
	uint32_t events;
	uint32_t state;
	uint64_t data;
	uint32_t gen;
	int bidx;
	uint64_t bu64;
	dev_t dev;
	ino_t ino;
};

/**
 * struct evpoll_poller - a poller handle (opaque to users)
 * @ops:	the backend
 * @caps:	EVPOLL_CAP_* bits of this instance (the backend's init may
 *		drop some: io_uring without multishot poll has no ET)
 * @fds:	the fd table, indexed by fd number
 * @nfds:	size of @fds
 * @count:	number of registered fds
 * @gen:	last generation handed out
 * @shadow:	an epoll set holding every registered fd (events EPOLLET,
 *		never waited on), -1 with a backend that has
 *		EVPOLL__BACKEND_KERNEL_FILES: the kernel's answer to
 *		ADD/MOD/DEL for the file now at an fd number (see poller.c)
 * @wakefd:	eventfd registered as EVPOLL__FD_OWN, written by
 *		evpoll_poller_wakeup(); -1 with a backend that has ->wakeup
 * @wakeup:	this instance's ->wakeup: the backend's, which its ->init may
 *		clear (evpoll without user events: the eventfd instead)
 * @wake:	a wake-up is pending (backends with ->wakeup); atomic
 * @check_fds:	EVPOLL_POLLER_CHECK_FDS was given
 * @stale:	events a backend got for registrations it cannot name any
 *		more (an epoll item of a file closed without DEL but still
 *		open elsewhere): poller.c then calls ->reinit
 * @priv:	backend state
 */
struct evpoll_poller {
	const struct evpoll_backend_ops *ops;
	unsigned int caps;
	struct evpoll__fd *fds;
	int nfds;
	int count;
	uint32_t gen;
	int shadow;
	int wakefd;
	int (*wakeup)(struct evpoll_poller *p);
	int wake;
	int check_fds;
	unsigned int stale;
	void *priv;
};

/* evpoll_backend_ops.flags */
/*
 * The kernel keys its interest set by (file, fd number), as epoll does:
 * its ADD/MOD/DEL answers tell a reused fd number from the file that was
 * added, and an item goes away with its file.  No shadow set.
 */
#define EVPOLL__BACKEND_KERNEL_FILES	(1U << 0)

/* Operations passed to ->ctl: EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL. */

/**
 * struct evpoll_backend_ops - one readiness mechanism
 * @name:	name for EVPOLL_BACKEND and evpoll_backend_by_name()
 * @id:		enum value
 * @caps:	EVPOLL_CAP_* the backend can offer
 * @flags:	EVPOLL__BACKEND_* bits
 * @probe:	0 if usable on this machine, else -errno (-ENODEV, -ENOSYS,
 *		-EOPNOTSUPP...); must not leave anything open
 * @init:	set up p->priv, may clear bits of p->caps
 * @ctl:	EPOLL_CTL_ADD/MOD/DEL of @fd, already validated; for ADD and
 *		MOD @f holds the new state (watch evpoll__fd_want(@f)), for
 *		DEL the state being removed.  On error the table is restored.
 * @wait:	store up to @max events (evpoll__fd_report() masks) with fd
 *		and data; return the count, 0 on timeout or on a wakeup with
 *		nothing to report, or -errno (-EINTR on a signal)
 * @destroy:	free everything init and ctl allocated
 * @reinit:	optional: after fork(), in the child, give the poller its own
 *		kernel state (set, ring, context, signal owner) with the same
 *		registrations; for a KERNEL_FILES backend also called when
 *		@stale is set, to drop items that cannot be named any more.
 *		Registrations whose fd no longer names their file are
 *		forgotten (evpoll__fd_forget()).
 * @wakeup:	optional: make a waiting (or the next) ->wait return; called
 *		from any thread, after @wake was set.  Backends without it
 *		are woken through @wakefd.
 * @queue:	optional: ADD of a new registration, MOD, or DEL of a
 *		registered fd, which the backend may defer to its next ->wait
 *		(evpoll's batched path): 0 queued (or cancelled out),
 *		-errno refused at once, 1 not queued (poller.c calls ->ctl).
 *		A backend with ->queue applies what it queued before any
 *		->ctl, ->reinit or ->close, and reports what the kernel then
 *		refuses as Documentation/backends.rst says.
 * @close:	optional: evpoll_poller_close() of the registered @fd: drop
 *		the registration's kernel side (not the table entry) and
 *		close @fd; returns close(2)'s answer.  Without it: ->ctl's DEL,
 *		then close(2).
 */
struct evpoll_backend_ops {
	const char *name;
	enum evpoll_backend id;
	unsigned int caps;
	unsigned int flags;
	int (*probe)(void);
	int (*init)(struct evpoll_poller *p);
	int (*ctl)(struct evpoll_poller *p, int op, int fd,
		   struct evpoll__fd *f);
	int (*wait)(struct evpoll_poller *p, struct evpoll_poller_event *evs,
		    int max, int timeout_ms);
	void (*destroy)(struct evpoll_poller *p);
	int (*reinit)(struct evpoll_poller *p);
	int (*wakeup)(struct evpoll_poller *p);
	int (*queue)(struct evpoll_poller *p, int op, int fd,
		     struct evpoll__fd *f);
	int (*close)(struct evpoll_poller *p, int fd, struct evpoll__fd *f);
};

extern const struct evpoll_backend_ops evpoll__backend_evpoll;
extern const struct evpoll_backend_ops evpoll__backend_epoll;
extern const struct evpoll_backend_ops evpoll__backend_uring;
extern const struct evpoll_backend_ops evpoll__backend_linuxaio;
extern const struct evpoll_backend_ops evpoll__backend_poll;
extern const struct evpoll_backend_ops evpoll__backend_select;
extern const struct evpoll_backend_ops evpoll__backend_sigio;
extern const struct evpoll_backend_ops evpoll__backend_evpoll_ring;

/* Readiness bits a backend watches (the flags stripped). */
#define EVPOLL__WATCH	(EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP)

static inline struct evpoll__fd *evpoll__fd_lookup(struct evpoll_poller *p,
						   int fd)
{
	if (fd < 0 || fd >= p->nfds || !(p->fds[fd].state & EVPOLL__FD_USED))
		return NULL;
	return &p->fds[fd];
}

/* The readiness bits to watch for now: none while a ONESHOT is disarmed. */
static inline uint32_t evpoll__fd_want(const struct evpoll__fd *f)
{
	if (f->state & EVPOLL__FD_DISARMED)
		return 0;
	return f->events & EVPOLL__WATCH;
}

/* What of @revents the user may see: wanted bits, ERR and HUP. */
static inline uint32_t evpoll__fd_report(const struct evpoll__fd *f,
					 uint32_t revents)
{
	if (f->state & EVPOLL__FD_DISARMED)
		return 0;
	return revents & (evpoll__fd_want(f) | EPOLLERR | EPOLLHUP);
}

static inline void evpoll__event_set(struct evpoll_poller_event *ev, int fd,
				     const struct evpoll__fd *f,
				     uint32_t events)
{
	ev->events = events;
	ev->fd = fd;
	ev->data = f->data;
}

/*
 * Kernel request tags (io_uring user_data, aio_data): generation in the
 * high half, fd in the low half.  A generation is never 0, so no tag is 0
 * and none is liburing's internal LIBURING_UDATA_TIMEOUT (all ones).
 */
static inline uint64_t evpoll__tag(int fd, const struct evpoll__fd *f)
{
	return ((uint64_t)f->gen << 32) | (uint32_t)fd;
}

/* The registration a tag belongs to, or NULL if it is gone or older. */
static inline struct evpoll__fd *evpoll__tag_lookup(struct evpoll_poller *p,
						    uint64_t tag)
{
	struct evpoll__fd *f = evpoll__fd_lookup(p, (int)(uint32_t)tag);

	if (!f || f->gen != (uint32_t)(tag >> 32))
		return NULL;
	return f;
}

static inline int evpoll__tag_fd(uint64_t tag)
{
	return (int)(uint32_t)tag;
}

/*
 * The data of a backend's own kernel object that is not a registration
 * (evpoll's wake-up user event): no tag is all ones (above), and reports
 * skip it without counting it as @stale.
 */
#define EVPOLL__TAG_OWN		(~0ULL)

/*
 * epoll and evpoll share one implementation (backend-epoll.c), over
 * different system call wrappers, and so offer the same capabilities.
 */
#define EVPOLL__EPOLL_LIKE_CAPS						\
	(EVPOLL_CAP_ET | EVPOLL_CAP_ONESHOT | EVPOLL_CAP_EXCLUSIVE |	\
	 EVPOLL_CAP_RDHUP | EVPOLL_CAP_HUP | EVPOLL_CAP_ANON_FILES |	\
	 EVPOLL_CAP_ANY_FDNUM | EVPOLL_CAP_ANY_THREAD |			\
	 EVPOLL_CAP_KERNEL_ET | EVPOLL_CAP_KERNEL_ONESHOT | EVPOLL_CAP_FORK)

struct evpoll__epoll_calls {
	int (*create1)(int flags);
	int (*ctl)(int epfd, int op, int fd, struct epoll_event *ev);
	int (*wait)(int epfd, struct epoll_event *evs, int max, int timeout);
};

/**
 * struct evpoll__epoll_like - p->priv of the epoll and evpoll backends
 * @calls:	the system call wrappers
 * @epfd:	the set
 * @buf:	wait buffer, @bufcap entries
 * @bufcap:	its capacity
 *
 * The evpoll backend embeds it first in its own state (init's @size).
 */
struct evpoll__epoll_like {
	const struct evpoll__epoll_calls *calls;
	int epfd;
	struct epoll_event *buf;
	int bufcap;
};

int evpoll__epoll_like_init(struct evpoll_poller *p,
			    const struct evpoll__epoll_calls *calls,
			    size_t size);
int evpoll__epoll_like_buf(struct evpoll_poller *p, int max);
int evpoll__epoll_like_report(struct evpoll_poller *p,
			      struct evpoll_poller_event *evs, int nr);
int evpoll__epoll_like_ctl(struct evpoll_poller *p, int op, int fd,
			   struct evpoll__fd *f);
int evpoll__epoll_like_wait(struct evpoll_poller *p,
			    struct evpoll_poller_event *evs, int max,
			    int timeout_ms);
void evpoll__epoll_like_destroy(struct evpoll_poller *p);
int evpoll__epoll_like_reinit(struct evpoll_poller *p);

/*
 * Move the registrations of @p from the epoll set @old to @nfd (both
 * driven by @ctl): a registration whose fd still names its file (@old's
 * ADD says EEXIST) is added to @nfd, with its events and tag if @tagged,
 * else as a shadow item; the others are forgotten.  Returns 0 or the
 * first error of an ADD to @nfd (that registration is forgotten too).
 */
int evpoll__epoll_move(struct evpoll_poller *p,
		       int (*ctl)(int, int, int, struct epoll_event *),
		       int old, int nfd, int tagged);

/* Drop @fd after a backend found it closed (POLLNVAL, EBADF). */
void evpoll__fd_forget(struct evpoll_poller *p, int fd);
/* Clear a table entry whose kernel side is gone (or left to ->reinit). */
void evpoll__fd_clear(struct evpoll_poller *p, struct evpoll__fd *f);

/* Shared helpers. */
void evpoll__ms_to_timespec(int timeout_ms, struct timespec *ts);
int evpoll__fd_is_open(int fd);

#endif /* _EVPOLL_BACKEND_H */
