/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * evpoll.h - public API of libevpoll.
 *
 * Two layers:
 *
 *  1. The /dev/evpoll device wrapper, with the exact signatures and errno
 *     behaviour of the epoll(7) system calls: evpoll_create1(),
 *     evpoll_ctl(), evpoll_wait(), evpoll_pwait(), evpoll_pwait2().  These
 *     return -1 and set errno, as the epoll calls do.
 *
 *  2. The poller: one handle type (struct evpoll_poller) over every
 *     readiness mechanism of Linux (evpoll, epoll, io_uring, Linux AIO,
 *     poll, select, signal-driven I/O), chosen by enum, by name or from the
 *     environment (EVPOLL_BACKEND=<name>).  These functions return 0 (or a
 *     count) on success and a negative errno value on failure, and never
 *     touch errno (the liburing convention).
 *
 * Event bits and flags are epoll's: EPOLLIN, EPOLLOUT, EPOLLPRI,
 * EPOLLRDHUP, EPOLLERR, EPOLLHUP, EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE.
 * See evpoll_poller_new(3), evpoll_create1(3) and
 * Documentation/backends.rst.
 */
#ifndef _EVPOLL_H
#define _EVPOLL_H

#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the functions exported by libevpoll.so (built -fvisibility=hidden). */
#define EVPOLL_API __attribute__((visibility("default")))

/*
 * The version this header belongs to (compile time).  The running
 * library's: evpoll_version(3).  Both come from the project's one VERSION.
 */
#define EVPOLL_VERSION_MAJOR	0
#define EVPOLL_VERSION_MINOR	1

EVPOLL_API const char *evpoll_version(void);
EVPOLL_API int evpoll_version_major(void);
EVPOLL_API int evpoll_version_minor(void);
EVPOLL_API int evpoll_version_patch(void);

/* evpoll_create1() flag, equal to EPOLL_CLOEXEC. */
#define EVPOLL_CLOEXEC		EPOLL_CLOEXEC

/* ------------------------------------------------------------------ */
/* The /dev/evpoll wrapper: epoll's signatures, -1 and errno on error. */

EVPOLL_API int evpoll_create(int size);
EVPOLL_API int evpoll_create1(int flags);
EVPOLL_API int evpoll_ctl(int evfd, int op, int fd, struct epoll_event *ev);
EVPOLL_API int evpoll_wait(int evfd, struct epoll_event *evs, int maxevents,
			   int timeout_ms);
EVPOLL_API int evpoll_pwait(int evfd, struct epoll_event *evs, int maxevents,
			    int timeout_ms, const sigset_t *sigmask);
EVPOLL_API int evpoll_pwait2(int evfd, struct epoll_event *evs, int maxevents,
			     const struct timespec *timeout,
			     const sigset_t *sigmask);

/*
 * Close-safety: a watched fd closed without EPOLL_CTL_DEL.  Call
 * evpoll_forget() just before close(), or evpoll_close() instead of it:
 * 1 dropped, 0 kept (other holders), -1 and errno.
 */
EVPOLL_API int evpoll_forget(int evfd, int fd);
EVPOLL_API int evpoll_close(int evfd, int fd);

/* ------------------------------------------------------------------ */
/* Version 2: beyond epoll (evpoll_submit(3)), -1 and errno on error.  */

/* Operations of evpoll_submit() (evpoll_ctl() refuses them: EINVAL). */
#define EVPOLL_CTL_DISABLE	16	/* keep the item, stop reporting */
#define EVPOLL_CTL_ENABLE	17	/* re-arm with its mask, report now */
#define EVPOLL_CTL_DEL_NOTIFY	18	/* DEL, then one EVPOLLREMOVED event */

/* Event flags of evpoll_submit() (evpoll_ctl() ignores them, as epoll). */
#define EVPOLLDISPATCH		(1U << 24)  /* disable after each delivery */
/* EVPOLLREMOVED: a tombstone; at ADD: post one when the file is closed */
#define EVPOLLREMOVED		(1U << 25)

/* User event ids are at least this (never an fd number). */
#define EVPOLL_USER_ID_BASE	0x40000000

/* evpoll_features() bits */
#define EVPOLL_FEAT_SUBMIT	(1ULL << 0)  /* batched changes + wait */
#define EVPOLL_FEAT_MIN_WAIT	(1ULL << 1)  /* min_events, min_wait */
#define EVPOLL_FEAT_DISPATCH	(1ULL << 2)  /* DISABLE/ENABLE/DISPATCH */
#define EVPOLL_FEAT_TOMBSTONE	(1ULL << 3)  /* DEL_NOTIFY, EVPOLLREMOVED */
#define EVPOLL_FEAT_USER	(1ULL << 4)  /* user events */
#define EVPOLL_FEAT_RING	(1ULL << 5)  /* event ring (evpoll_ring_setup) */
#define EVPOLL_FEAT_COUNTERS	(1ULL << 6)  /* per-item fdinfo counters */
#define EVPOLL_FEAT_FORGET	(1ULL << 7)  /* evpoll_forget() */

/**
 * struct evpoll_change - one change of evpoll_submit()
 * @op:		EPOLL_CTL_ADD/MOD/DEL or EVPOLL_CTL_DISABLE/ENABLE/DEL_NOTIFY
 * @fd:		the target fd, or a user event's id
 * @event:	mask, flags and data (ADD, MOD)
 * @result:	out: 0 or -errno, as evpoll_ctl() would fail (the kernel
 *		writes only 0 or a negative value: preset it positive to see
 *		which changes a failed call did not reach)
 */
struct evpoll_change {
	int op;
	int fd;
	struct epoll_event event;
	int result;
};

/**
 * struct evpoll_wait_opts - how evpoll_submit() waits
 * @timeout:	NULL: block; else the longest wait
 * @sigmask:	NULL: leave the mask alone; else the mask during the wait
 * @min_events:	0 or 1: return at the first event; more: at least this many
 *		(more than maxevents is taken as maxevents)
 * @flags:	0, or EVPOLL_WAIT_ERR_NOWAIT: if one of the call's changes
 *		failed, do not block (return what is ready, possibly 0)
 * @min_wait_ns: with @min_events > 1: wait at most this long after the
 *		first event for more (0: until @min_events or the timeout)
 */
struct evpoll_wait_opts {
	const struct timespec *timeout;
	const sigset_t *sigmask;
	unsigned int min_events;
	unsigned int flags;
	long long min_wait_ns;
};

#define EVPOLL_WAIT_ERR_NOWAIT	0x1U

EVPOLL_API int evpoll_submit(int evfd, struct evpoll_change *changes,
			     int nchanges, struct epoll_event *events,
			     int maxevents, const struct evpoll_wait_opts *opts);
EVPOLL_API int evpoll_user_add(int evfd, uint64_t data, uint32_t events);
EVPOLL_API int evpoll_user_trigger(int evfd, int id);
EVPOLL_API int evpoll_user_del(int evfd, int id);
EVPOLL_API int evpoll_features(int evfd, uint64_t *mask);

/*
 * The event ring (evpoll_ring_setup(3)): liburing-style, 0 or a count on
 * success, -errno on failure (errno is not used).
 */
struct evpoll_ring;

EVPOLL_API int evpoll_ring_setup(int evfd, unsigned int entries,
				 struct evpoll_ring **ring);
/*
 * evpoll_ring_setup_flags() flag: level-triggered items are never posted;
 * evpoll_ring_wait() enters the kernel at each wait while one is ready, so
 * it reports them exactly as evpoll_wait() would.
 */
#define EVPOLL_RING_LT_STRICT	(1U << 0)
EVPOLL_API int evpoll_ring_setup_flags(int evfd, unsigned int entries,
				       unsigned int flags,
				       struct evpoll_ring **ring);
/* Never enters the kernel. */
EVPOLL_API int evpoll_ring_harvest(struct evpoll_ring *ring,
				   struct epoll_event *events, int maxevents);
/* Harvest; if the ring is empty, sleep in the kernel; 0 on timeout. */
EVPOLL_API int evpoll_ring_wait(struct evpoll_ring *ring,
				struct epoll_event *events, int maxevents,
				const struct evpoll_wait_opts *opts);
EVPOLL_API void evpoll_ring_free(struct evpoll_ring *ring);

/* ------------------------------------------------------------------ */
/* The poller: one API over every readiness backend, -errno on error. */

/**
 * enum evpoll_backend - readiness mechanisms a poller can be built on
 * @EVPOLL_BACKEND_DEFAULT: $EVPOLL_BACKEND if set, else the first
 *			    available backend in the order below
 * @EVPOLL_BACKEND_EVPOLL:  /dev/evpoll (this project's kernel module)
 * @EVPOLL_BACKEND_EPOLL:   epoll(7)
 * @EVPOLL_BACKEND_URING:   io_uring poll requests (liburing)
 * @EVPOLL_BACKEND_AIO:	    Linux native AIO, IOCB_CMD_POLL
 * @EVPOLL_BACKEND_POLL:    poll(2)
 * @EVPOLL_BACKEND_SELECT:  select(2), fds below FD_SETSIZE only
 * @EVPOLL_BACKEND_SIGIO:   O_ASYNC + F_SETSIG real-time signals
 * @EVPOLL_BACKEND_EVPOLL_RING: /dev/evpoll with batched changes and the
 *			    event ring (never chosen by default)
 *
 * The numeric order of the real backends is the default preference order
 * (Documentation/backends.rst explains it).  A value, once given, never
 * changes; a new backend takes a new value below EVPOLL_BACKEND_MAX.
 */
enum evpoll_backend {
	EVPOLL_BACKEND_DEFAULT = 0,
	EVPOLL_BACKEND_EVPOLL,
	EVPOLL_BACKEND_EPOLL,
	EVPOLL_BACKEND_URING,
	EVPOLL_BACKEND_AIO,
	EVPOLL_BACKEND_POLL,
	EVPOLL_BACKEND_SELECT,
	EVPOLL_BACKEND_SIGIO,
	EVPOLL_BACKEND_EVPOLL_RING,
#ifdef EVPOLL__INTERNAL
	/*
	 * The library's own bound, one past its last backend: it grows when
	 * a backend is added, so it is not part of the API (nor the ABI).
	 */
	EVPOLL_BACKEND_COUNT
#endif
};

/*
 * A fixed bound, for arrays indexed by backend or holding a list of them:
 * every enum evpoll_backend value, present and future, is below it, and
 * its value does not change while the soname is libevpoll.so.0.
 */
#define EVPOLL_BACKEND_MAX	32

/* Capability bits, see evpoll_poller_caps(3). */
#define EVPOLL_CAP_ET		(1U << 0)  /* EPOLLET accepted */
#define EVPOLL_CAP_ONESHOT	(1U << 1)  /* EPOLLONESHOT accepted */
#define EVPOLL_CAP_EXCLUSIVE	(1U << 2)  /* EPOLLEXCLUSIVE accepted */
#define EVPOLL_CAP_RDHUP	(1U << 3)  /* EPOLLRDHUP accepted and reported */
#define EVPOLL_CAP_HUP		(1U << 4)  /* EPOLLHUP/EPOLLERR reported as such */
#define EVPOLL_CAP_ANON_FILES	(1U << 5)  /* eventfd, timerfd, signalfd... */
#define EVPOLL_CAP_ANY_FDNUM	(1U << 6)  /* no limit on fd numbers */
#define EVPOLL_CAP_ANY_THREAD	(1U << 7)  /* wait may run in any thread */
#define EVPOLL_CAP_KERNEL_ET	(1U << 8)  /* ET done by the kernel */
#define EVPOLL_CAP_KERNEL_ONESHOT (1U << 9) /* ONESHOT done by the kernel */
#define EVPOLL_CAP_FORK		(1U << 10) /* reinit leaves the parent alone */
/* mods are queued and applied by the next wait (evpoll_poller_add(3)) */
#define EVPOLL_CAP_BATCHED	(1U << 11)

/*
 * evpoll_poller_new() flag: before reporting an event, check that its fd
 * still names the file that was added, on every backend.  The backends
 * other than epoll and evpoll always do; on those two it costs one
 * epoll_ctl() per event, and covers a file closed without DEL while a dup
 * keeps it open and its number names another file.
 */
#define EVPOLL_POLLER_CHECK_FDS	(1U << 0)

/* Event bits and flags the poller accepts (anything else: -EINVAL). */
#define EVPOLL_POLLER_EVENTS	(EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP | \
				 EPOLLERR | EPOLLHUP)
#define EVPOLL_POLLER_FLAGS	(EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE)

/**
 * struct evpoll_poller_event - one event returned by evpoll_poller_wait()
 * @events:	EPOLL* bits that are ready (EPOLLERR/EPOLLHUP always possible)
 * @fd:		the file descriptor they are ready on
 * @data:	the user data given to evpoll_poller_add() or _mod()
 */
struct evpoll_poller_event {
	uint32_t events;
	int32_t fd;
	uint64_t data;
};

struct evpoll_poller;

EVPOLL_API int evpoll_poller_new(enum evpoll_backend backend,
				 unsigned int flags,
				 struct evpoll_poller **out);
EVPOLL_API int evpoll_poller_new_by_name(const char *name, unsigned int flags,
					 struct evpoll_poller **out);
EVPOLL_API void evpoll_poller_free(struct evpoll_poller *p);

EVPOLL_API int evpoll_poller_add(struct evpoll_poller *p, int fd,
				 uint32_t events, uint64_t data);
EVPOLL_API int evpoll_poller_mod(struct evpoll_poller *p, int fd,
				 uint32_t events, uint64_t data);
EVPOLL_API int evpoll_poller_del(struct evpoll_poller *p, int fd);
EVPOLL_API int evpoll_poller_close(struct evpoll_poller *p, int fd);
EVPOLL_API int evpoll_poller_wait(struct evpoll_poller *p,
				  struct evpoll_poller_event *evs,
				  int maxevents, int timeout_ms);
EVPOLL_API int evpoll_poller_wakeup(struct evpoll_poller *p);
EVPOLL_API int evpoll_poller_reinit(struct evpoll_poller *p);

EVPOLL_API enum evpoll_backend
evpoll_poller_backend(const struct evpoll_poller *p);
EVPOLL_API const char *evpoll_poller_backend_name(const struct evpoll_poller *p);
EVPOLL_API unsigned int evpoll_poller_caps(const struct evpoll_poller *p);

EVPOLL_API const char *evpoll_backend_name(enum evpoll_backend backend);
EVPOLL_API int evpoll_backend_by_name(const char *name);
EVPOLL_API unsigned int evpoll_backend_caps(enum evpoll_backend backend);
EVPOLL_API int evpoll_backend_probe(enum evpoll_backend backend);
EVPOLL_API int evpoll_backends_available(enum evpoll_backend *list, int max);
EVPOLL_API int evpoll_backend_default(void);

#ifdef __cplusplus
}
#endif

/* Completion-model asynchronous I/O (evpoll_aio_*), when built. */
#if defined(__has_include)
#if __has_include("evpoll-aio.h")
#include "evpoll-aio.h"
#endif
#endif

#endif /* _EVPOLL_H */
