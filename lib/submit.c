// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * submit.c - version 2 of the device wrapper: evpoll_submit() (batched
 * changes with per-change results, then a wait with min-wait), user
 * events, and the feature query.  Like evpoll.c, -1 and errno on failure
 * of the call as a whole; per-change errors are in each change's result.
 *
 * On x86-64 and i386 (packed struct epoll_event) struct evpoll_change has
 * the kernel's struct evpoll_submit_change layout (checked below), so the
 * caller's array is handed to the kernel as is and the kernel writes the
 * results in place.  Elsewhere (arm64: struct epoll_event is not packed)
 * each slice is copied into the kernel's layout and the results back.
 * Arrays longer than the kernel's EVPOLL_SUBMIT_MAX are sent in slices;
 * only the last slice carries the wait, so the changes are still all
 * applied before it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include <linux/evpoll.h>

#include "evpoll.h"

/* The kernel's sigset_t is _NSIG bits: 8 bytes on every Linux target. */
#define SUBMIT_SIGSETSIZE	8

#if defined(__x86_64__) || defined(__i386__)
#define SUBMIT_SAME_LAYOUT	1
_Static_assert(sizeof(struct evpoll_change) ==
	       sizeof(struct evpoll_submit_change) &&
	       offsetof(struct evpoll_change, fd) ==
	       offsetof(struct evpoll_submit_change, fd) &&
	       offsetof(struct evpoll_change, event) ==
	       offsetof(struct evpoll_submit_change, events) &&
	       offsetof(struct evpoll_change, event.data) ==
	       offsetof(struct evpoll_submit_change, data) &&
	       offsetof(struct evpoll_change, result) ==
	       offsetof(struct evpoll_submit_change, result),
	       "struct evpoll_change is not the kernel's layout");
#else
#define SUBMIT_SAME_LAYOUT	0
#endif

static int submit_fail(int err)
{
	errno = err;
	return -1;
}

/* The device says ENOTTY for an fd that is not an instance: epoll's EINVAL. */
static int submit_ioctl(int evfd, unsigned long cmd, void *arg)
{
	int ret = ioctl(evfd, cmd, arg);

	if (ret < 0 && errno == ENOTTY)
		errno = EINVAL;
	return ret;
}

/*
 * One EVPOLL_IOC_SUBMIT of at most EVPOLL_SUBMIT_MAX changes.  Where the
 * layouts differ, through a copy in the kernel's layout (results copied
 * back for the changes the kernel attempted, s->nchanged).
 */
static int submit_slice(int evfd, struct evpoll_submit *s,
			struct evpoll_change *changes)
{
	struct evpoll_submit_change *k;
	unsigned int i;
	int ret, err;

	if (SUBMIT_SAME_LAYOUT || !s->nchanges) {
		s->changes = (__u64)(uintptr_t)changes;
		return submit_ioctl(evfd, EVPOLL_IOC_SUBMIT, s);
	}
	k = malloc(s->nchanges * sizeof(*k));
	if (!k)
		return submit_fail(ENOMEM);
	for (i = 0; i < s->nchanges; i++) {
		k[i].op = (__u32)changes[i].op;
		k[i].fd = changes[i].fd;
		k[i].events = changes[i].event.events;
		k[i].data = changes[i].event.data.u64;
		k[i].result = changes[i].result;
	}
	s->changes = (__u64)(uintptr_t)k;
	ret = submit_ioctl(evfd, EVPOLL_IOC_SUBMIT, s);
	err = errno;
	for (i = 0; i < s->nchanged && i < s->nchanges; i++)
		changes[i].result = k[i].result;
	free(k);
	errno = err;
	return ret;
}

/* With ERR_NOWAIT: did one of these (applied) changes fail? */
static bool submit_any_failed(const struct evpoll_submit *s,
			      const struct evpoll_change *changes, int n)
{
	int i;

	if (!(s->flags & EVPOLL_SUBMIT_ERR_NOWAIT))
		return false;
	for (i = 0; i < n; i++)
		if (changes[i].result)
			return true;
	return false;
}

/**
 * evpoll_submit() - apply changes, then wait, in one call
 * @evfd:	the instance
 * @changes:	@nchanges changes, applied in order; each gets its result
 * @nchanges:	>= 0
 * @events:	array receiving the events
 * @maxevents:	its capacity; 0: apply the changes and return 0
 * @opts:	the wait (NULL: block until an event, no sigmask, no min-wait)
 *
 * See evpoll_submit(3).
 *
 * Return: the number of events stored (0 on timeout), or -1 with errno
 * (EINVAL, EFAULT, EBADF, EINTR) when the call as a whole failed.
 */
int evpoll_submit(int evfd, struct evpoll_change *changes, int nchanges,
		  struct epoll_event *events, int maxevents,
		  const struct evpoll_wait_opts *opts)
{
	struct evpoll_submit s = { .size = sizeof(s) };
	const struct timespec *ts = opts ? opts->timeout : NULL;

	if (nchanges < 0 || maxevents < 0)
		return submit_fail(EINVAL);
	if (maxevents > 0) {
		s.flags = EVPOLL_SUBMIT_WAIT;
		s.events = (__u64)(uintptr_t)events;
		s.maxevents = maxevents;
		s.timeout = -1;
		if (ts) {
			if (ts->tv_sec < 0 || ts->tv_nsec < 0 ||
			    ts->tv_nsec >= 1000000000L)
				return submit_fail(EINVAL);
			s.timeout = ts->tv_sec > INT64_MAX / 1000000000LL - 1 ?
				    INT64_MAX : ts->tv_sec * 1000000000LL +
						ts->tv_nsec;
		}
		if (opts) {
			if (opts->min_wait_ns < 0 ||
			    (opts->flags & ~EVPOLL_WAIT_ERR_NOWAIT))
				return submit_fail(EINVAL);
			if (opts->flags & EVPOLL_WAIT_ERR_NOWAIT)
				s.flags |= EVPOLL_SUBMIT_ERR_NOWAIT;
			s.min_events = opts->min_events;
			s.min_wait = opts->min_wait_ns;
			if (opts->sigmask) {
				s.sigmask = (__u64)(uintptr_t)opts->sigmask;
				s.sigsetsize = SUBMIT_SIGSETSIZE;
			}
		}
	}

	/* All but the last slice: changes only. */
	while (nchanges > EVPOLL_SUBMIT_MAX) {
		struct evpoll_submit part = {
			.size = sizeof(part),
			.nchanges = EVPOLL_SUBMIT_MAX,
		};

		if (submit_slice(evfd, &part, changes) < 0)
			return -1;
		/* A refusal in an earlier slice counts for the wait too. */
		if (submit_any_failed(&s, changes, EVPOLL_SUBMIT_MAX))
			s.timeout = 0;
		changes += EVPOLL_SUBMIT_MAX;
		nchanges -= EVPOLL_SUBMIT_MAX;
	}
	s.nchanges = (__u32)nchanges;
	return submit_slice(evfd, &s, changes);
}

/**
 * evpoll_user_add() - add a user event (no fd; kqueue's EVFILT_USER)
 * @evfd:	the instance
 * @data:	reported with the event
 * @events:	EPOLLIN, optionally EPOLLONESHOT or EVPOLLDISPATCH (EPOLLET
 *		accepted, changes nothing)
 *
 * Return: the id (>= EVPOLL_USER_ID_BASE), or -1 with errno (EINVAL,
 * ENOSPC, ENOMEM, EBADF).
 */
int evpoll_user_add(int evfd, uint64_t data, uint32_t events)
{
	struct evpoll_user_ctl u = { .events = events, .data = data };

	if (submit_ioctl(evfd, EVPOLL_IOC_USER_ADD, &u) < 0)
		return -1;
	return u.id;
}

static int user_op(int evfd, unsigned long cmd, int id)
{
	struct evpoll_user_ctl u = { .id = id };

	return submit_ioctl(evfd, cmd, &u) < 0 ? -1 : 0;
}

/**
 * evpoll_user_trigger() - make a user event ready (from any thread)
 * @evfd:	the instance
 * @id:		from evpoll_user_add()
 *
 * Return: 0, or -1 with errno (ENOENT: unknown id; EBADF, EINVAL).
 */
int evpoll_user_trigger(int evfd, int id)
{
	return user_op(evfd, EVPOLL_IOC_USER_TRIGGER, id);
}

/**
 * evpoll_user_del() - delete a user event
 * @evfd:	the instance
 * @id:		from evpoll_user_add()
 *
 * Return: 0, or -1 with errno (ENOENT: unknown id; EBADF, EINVAL).
 */
int evpoll_user_del(int evfd, int id)
{
	return user_op(evfd, EVPOLL_IOC_USER_DEL, id);
}

/* Kernel EVPOLL_IOC_FEAT_* bit -> library EVPOLL_FEAT_* bit. */
static const struct {
	uint64_t kernel, lib;
} submit_feat_map[] = {
	{ EVPOLL_IOC_FEAT_SUBMIT, EVPOLL_FEAT_SUBMIT },
	{ EVPOLL_IOC_FEAT_MIN_WAIT, EVPOLL_FEAT_MIN_WAIT },
	{ EVPOLL_IOC_FEAT_DISPATCH, EVPOLL_FEAT_DISPATCH },
	{ EVPOLL_IOC_FEAT_TOMBSTONE, EVPOLL_FEAT_TOMBSTONE },
	{ EVPOLL_IOC_FEAT_USER, EVPOLL_FEAT_USER },
	{ EVPOLL_IOC_FEAT_COUNTERS, EVPOLL_FEAT_COUNTERS },
	{ EVPOLL_IOC_FEAT_RING, EVPOLL_FEAT_RING },
	{ EVPOLL_IOC_FEAT_FORGET, EVPOLL_FEAT_FORGET },
};

/**
 * evpoll_features() - what this instance's module offers
 * @evfd:	the instance
 * @mask:	out: EVPOLL_FEAT_* bits
 *
 * Asks EVPOLL_IOC_VERSION and maps its EVPOLL_IOC_FEAT_* bits.  A module
 * too old for that ioctl (ENOTTY) is probed with an empty EVPOLL_IOC_SUBMIT
 * instead; one without either has no version 2 feature (*@mask 0) if it
 * is an instance at all (it then says EINVAL to a WAIT with maxevents 0).
 *
 * Return: 0, or -1 with errno (EBADF; EINVAL: not an evpoll instance).
 */
int evpoll_features(int evfd, uint64_t *mask)
{
	struct evpoll_version v = { .size = sizeof(v) };
	struct evpoll_submit s = { .size = sizeof(s) };
	struct evpoll_wait w = { 0 };
	size_t i;

	if (!mask)
		return submit_fail(EFAULT);
	*mask = 0;
	if (ioctl(evfd, EVPOLL_IOC_VERSION, &v) == 0) {
		for (i = 0; i < sizeof(submit_feat_map) /
				sizeof(submit_feat_map[0]); i++)
			if (v.features & submit_feat_map[i].kernel)
				*mask |= submit_feat_map[i].lib;
		return 0;
	}
	if (errno != ENOTTY)
		return -1;
	if (ioctl(evfd, EVPOLL_IOC_SUBMIT, &s) == 0) {
		/* version 2 without VERSION: its bits, nothing later */
		for (i = 0; i < sizeof(submit_feat_map) /
				sizeof(submit_feat_map[0]); i++)
			if (submit_feat_map[i].kernel & EVPOLL_IOC_FEATURES_V2)
				*mask |= submit_feat_map[i].lib;
		return 0;
	}
	/* An instance without version 2 says EINVAL to maxevents 0. */
	if (errno == ENOTTY && ioctl(evfd, EVPOLL_IOC_WAIT, &w) < 0 &&
	    errno == EINVAL)
		return 0;
	return submit_fail(EINVAL);
}
