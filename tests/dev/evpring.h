/* SPDX-License-Identifier: GPL-2.0 */
/*
 * evpring.h - the event ring through the raw ioctls and mmap(), for the
 * device tests (ring_test, ring_stress_test): a consumer written here
 * from the protocol in kmod/ring.c, not libevpoll's.  Helpers return the
 * ioctl's result or -errno.
 */
#ifndef _EVPOLL_TESTS_EVPRING_H
#define _EVPOLL_TESTS_EVPRING_H

#include <sys/mman.h>

#include "evp2.h"

struct tring {
	int evfd;
	struct evpoll_ring_header *hdr;
	struct evpoll_ring_entry *ent;
	size_t size;
};

static inline int tring_setup_args(int evfd, struct evpoll_ring_setup *s)
{
	return ioctl(evfd, EVPOLL_IOC_RING_SETUP, s) ? -errno : 0;
}

/* Set up a ring of @entries on @evfd and map it: 0 or -errno. */
static inline int tring_open_flags(struct tring *r, int evfd,
				   unsigned int entries, uint32_t flags)
{
	struct evpoll_ring_setup s = { .entries = entries, .flags = flags };
	void *map;
	int ret = tring_setup_args(evfd, &s);

	if (ret)
		return ret;
	map = mmap(NULL, s.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   evfd, 0);
	if (map == MAP_FAILED)
		return -errno;
	r->evfd = evfd;
	r->hdr = map;
	r->ent = (void *)((char *)map + s.off_entries);
	r->size = s.mmap_size;
	return 0;
}

static inline int tring_open(struct tring *r, int evfd, unsigned int entries)
{
	return tring_open_flags(r, evfd, entries, 0);
}

static inline uint32_t tring_tail(const struct tring *r)
{
	return __atomic_load_n(&r->hdr->tail, __ATOMIC_ACQUIRE);
}

static inline uint32_t tring_flags(const struct tring *r)
{
	return __atomic_load_n(&r->hdr->flags, __ATOMIC_RELAXED);
}

/* Harvest up to @max entries: the count. */
static inline int tring_harvest(struct tring *r, struct epoll_event *evs,
				int max)
{
	uint32_t head = r->hdr->head, tail = tring_tail(r);
	int n = 0;

	while (head != tail && n < max) {
		struct evpoll_ring_entry *e = &r->ent[head & r->hdr->mask];

		evs[n].events = e->events;
		evs[n].data.u64 = e->data;
		n++;
		head++;
	}
	__atomic_store_n(&r->hdr->head, head, __ATOMIC_RELEASE);
	return n;
}

/* EVPOLL_IOC_RING_ENTER, timeout_ns < 0: forever, 0: do not block. */
static inline int tring_enter(int evfd, struct epoll_event *evs, int max,
			      long long timeout_ns)
{
	struct evpoll_ring_enter e = {
		.events = (uintptr_t)evs, .maxevents = max,
		.timeout = timeout_ns,
	};
	int ret = ioctl(evfd, EVPOLL_IOC_RING_ENTER, &e);

	return ret < 0 ? -errno : ret;
}

#endif /* _EVPOLL_TESTS_EVPRING_H */
