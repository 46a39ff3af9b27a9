// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * ring.c - the event ring of an instance (evpoll_ring_setup(3)): events
 * the kernel posts into pages shared with the program, harvested with
 * plain loads and stores.  liburing-style results: 0 or a count on
 * success, -errno on failure, errno untouched.
 *
 * The consumer side of the protocol at the top of kmod/ring.c: load the
 * tail with acquire (C), read the entries from head to tail, store the
 * new head with release (D).  The head is the consumer's: the kernel never
 * writes it, so a plain load under the harvest lock reads our own last
 * store (or that of another handle of the same ring, used in turn).  One consumer at a time: harvests of
 * one struct evpoll_ring are serialised by a spinlock of this struct
 * (held for the copy only, never across a system call), so several
 * threads may call evpoll_ring_harvest() and evpoll_ring_wait() on one
 * ring.  Two processes sharing a ring after fork() have one lock each:
 * only one of them may harvest.
 *
 * evpoll_ring_wait() harvests; only when the ring is empty (or, on an
 * EVPOLL_RING_LT_STRICT ring, when the kernel flags level-triggered items
 * that may still be ready: then without blocking, after the harvested
 * events) does it make EVPOLL_IOC_RING_ENTER, which stores the events that
 * are not in the ring
 * (level-triggered items still ready, one-shot and dispatch items, user
 * events, tombstones, what a full ring could not take) into the caller's
 * array, or sleeps until the ring or the kernel has events.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#include <linux/evpoll.h>

#include "evpoll.h"

/* The kernel's sigset_t is _NSIG bits: 8 bytes on every Linux target. */
#define RING_SIGSETSIZE	8

struct evpoll_ring {
	int evfd;
	int lock;				/* harvest lock, 0 or 1 */
	unsigned int flags;			/* EVPOLL_RING_LT_STRICT */
	uint32_t mask;
	struct evpoll_ring_header *hdr;		/* the mapping */
	const struct evpoll_ring_entry *entries;
	size_t map_size;
};

static int ring_errno(void)
{
	/* Not an instance, or a module without the ring. */
	return errno == ENOTTY ? -EINVAL : -errno;
}

/**
 * evpoll_ring_setup_flags() - give an instance its event ring and map it
 * @evfd:	an evpoll instance (evpoll_create1())
 * @entries:	ring size, a power of two, 1 .. 32768
 * @flags:	0 or EVPOLL_RING_LT_STRICT
 * @ring:	out: the ring handle
 *
 * Return: 0, or -EINVAL (bad @entries or @flags, @evfd not an instance,
 * or a module without EVPOLL_FEAT_RING), -EBUSY (the instance has a ring
 * of another size or flags), -ENOMEM, or mmap(2)'s error.
 */
int evpoll_ring_setup_flags(int evfd, unsigned int entries,
			    unsigned int flags, struct evpoll_ring **ring)
{
	struct evpoll_ring_setup s = { .entries = entries, .flags = flags };
	struct evpoll_ring *r;
	void *map;
	int ret;

	if (!ring)
		return -EINVAL;
	if (ioctl(evfd, EVPOLL_IOC_RING_SETUP, &s) < 0)
		return ring_errno();
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	map = mmap(NULL, s.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   evfd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		free(r);
		return ret;
	}
	r->evfd = evfd;
	r->flags = flags;
	r->hdr = map;
	r->entries = (const void *)((char *)map + s.off_entries);
	r->map_size = s.mmap_size;
	r->mask = r->hdr->mask;
	*ring = r;
	return 0;
}

/**
 * evpoll_ring_setup() - evpoll_ring_setup_flags() with no flags
 * @evfd:	an evpoll instance
 * @entries:	ring size, a power of two, 1 .. 32768
 * @ring:	out: the ring handle
 *
 * Return: as evpoll_ring_setup_flags().
 */
int evpoll_ring_setup(int evfd, unsigned int entries, struct evpoll_ring **ring)
{
	return evpoll_ring_setup_flags(evfd, entries, 0, ring);
}

/**
 * evpoll_ring_free() - unmap the ring and free the handle
 * @ring: the handle, or NULL
 *
 * The ring itself lives as long as the instance: closing the instance fd
 * (before or after this) frees it once nothing maps it.
 */
void evpoll_ring_free(struct evpoll_ring *ring)
{
	if (!ring)
		return;
	munmap(ring->hdr, ring->map_size);
	free(ring);
}

static void ring_lock(struct evpoll_ring *r)
{
	while (__atomic_exchange_n(&r->lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&r->lock, __ATOMIC_RELAXED))
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#else
			;
#endif
}

static void ring_unlock(struct evpoll_ring *r)
{
	__atomic_store_n(&r->lock, 0, __ATOMIC_RELEASE);
}

/*
 * Take up to @maxevents events from the ring into @events, under the
 * harvest lock; the arguments are valid.  Returns the number taken.
 */
static inline int ring_take(struct evpoll_ring *r, struct epoll_event *events,
			    int maxevents)
{
	uint32_t head, tail, n, i;

	ring_lock(r);
	/* Ours to write: only its last store matters (another handle's). */
	head = __atomic_load_n(&r->hdr->head, __ATOMIC_RELAXED);
	/* (C): pairs with the kernel's store-release of tail (B). */
	tail = __atomic_load_n(&r->hdr->tail, __ATOMIC_ACQUIRE);
	n = tail - head;
	if (n > (uint32_t)maxevents)
		n = (uint32_t)maxevents;
	for (i = 0; i < n; i++) {
		const struct evpoll_ring_entry *e =
			&r->entries[(head + i) & r->mask];

		events[i].events = e->events;
		events[i].data.u64 = e->data;
	}
	if (n)	/* (D): our reads are done before the kernel reuses them. */
		__atomic_store_n(&r->hdr->head, head + n, __ATOMIC_RELEASE);
	ring_unlock(r);
	return (int)n;
}

/**
 * evpoll_ring_harvest() - take the events in the ring, without a system call
 * @ring:	the ring
 * @events:	where to store them
 * @maxevents:	capacity of @events, >= 1
 *
 * Return: the number of events stored (0: the ring is empty), or -EINVAL.
 */
int evpoll_ring_harvest(struct evpoll_ring *ring, struct epoll_event *events,
			int maxevents)
{
	if (!ring || !events || maxevents <= 0)
		return -EINVAL;
	return ring_take(ring, events, maxevents);
}

/* Absolute CLOCK_MONOTONIC ns of @ts from now (saturating). */
static int64_t ring_deadline(const struct timespec *ts)
{
	struct timespec now;
	int64_t d;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (ts->tv_sec > INT64_MAX / 1000000000 / 2)
		return INT64_MAX;
	d = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
	return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + d;
}

/*
 * After @n events were harvested into @events: on an LT_STRICT ring
 * whose kernel flags events outside the ring (F_ENTER: level-triggered
 * items that may still be ready), take them too, without blocking, after
 * the harvested ones.  Returns the total.  Out of line, as ring_enter():
 * the harvest that finds events then needs no stack frame.
 */
static __attribute__((noinline)) int
ring_enter_more(struct evpoll_ring *r, struct epoll_event *events,
		int n, int maxevents)
{
	struct evpoll_ring_enter e = {
		.events = (uintptr_t)(events + n),
		.maxevents = maxevents - n,
	};
	int ret;

	ret = ioctl(r->evfd, EVPOLL_IOC_RING_ENTER, &e);
	return ret > 0 ? n + ret : n;
}

/*
 * The ring was empty: the deadline, then EVPOLL_IOC_RING_ENTER until the
 * kernel or the ring has events, the timeout passes or a signal comes.
 */
static __attribute__((noinline)) int
ring_enter(struct evpoll_ring *r, struct epoll_event *events,
	   int maxevents, const struct evpoll_wait_opts *opts)
{
	struct evpoll_ring_enter e = {
		.events = (uintptr_t)events,
		.maxevents = maxevents,
		.timeout = -1,
	};
	const struct timespec *ts = opts ? opts->timeout : NULL;
	int n, ret;

	if (ts && (ts->tv_sec < 0 || ts->tv_nsec < 0 ||
		   ts->tv_nsec >= 1000000000))
		return -EINVAL;
	if (ts && !ts->tv_sec && !ts->tv_nsec) {
		e.timeout = 0;
	} else if (ts) {
		e.timeout = ring_deadline(ts);
		e.flags = EVPOLL_ENTER_ABSTIME;
	}
	if (opts && opts->sigmask) {
		e.sigmask = (uintptr_t)opts->sigmask;
		e.sigsetsize = RING_SIGSETSIZE;
	}
	for (;;) {
		ret = ioctl(r->evfd, EVPOLL_IOC_RING_ENTER, &e);
		if (ret > 0)
			return ret;
		if (ret < 0)
			return errno == ETIME ? 0 : ring_errno();
		/* The ring has events (unless another thread took them). */
		n = ring_take(r, events, maxevents);
		if (n || !e.timeout)
			return n;
	}
}

/**
 * evpoll_ring_wait() - harvest; if the ring is empty, wait in the kernel
 * @ring:	the ring
 * @events:	where to store the events
 * @maxevents:	capacity of @events, >= 1
 * @opts:	NULL: block; else its timeout (NULL: block) and sigmask are
 *		used (min_events and min_wait_ns are not: the first event
 *		returns)
 *
 * A harvest that finds events returns them without reading @opts (an
 * invalid timeout is then not seen); the timeout and its deadline are
 * worked out only when the call enters the kernel to wait.
 *
 * Return: the number of events, 0 on timeout, -EINVAL, -EINTR, -EFAULT.
 */
int evpoll_ring_wait(struct evpoll_ring *ring, struct epoll_event *events,
		     int maxevents, const struct evpoll_wait_opts *opts)
{
	int n;

	if (!ring || !events || maxevents <= 0)
		return -EINVAL;
	n = ring_take(ring, events, maxevents);
	if (!n)
		return ring_enter(ring, events, maxevents, opts);
	/*
	 * LT_STRICT: level-triggered items still ready are reported by the
	 * kernel at every wait (F_ENTER says some may be).
	 */
	if (!(ring->flags & EVPOLL_RING_LT_STRICT) || n == maxevents ||
	    !(__atomic_load_n(&ring->hdr->flags, __ATOMIC_RELAXED) &
	      EVPOLL_RING_F_ENTER))
		return n;
	return ring_enter_more(ring, events, n, maxevents);
}
