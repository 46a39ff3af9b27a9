// SPDX-License-Identifier: GPL-2.0
/*
 * ring_stress_test - the ring's producer/consumer protocol under load:
 * writer threads (pinned to CPU 0) make eventfds ready, so the kernel
 * posts from their write()s, while one consumer (pinned to CPU 1 when
 * there is one) harvests the ring with plain loads and stores and enters
 * the kernel only when it is empty.  Each writer writes its eventfd again
 * only once the consumer has read the previous value, so every write is
 * exactly one edge: the consumer must see each one exactly once (a lost
 * event stalls its writer: the test fails after a bounded time; a
 * duplicate finds the eventfd empty).  The ring is small, so it overflows
 * and the overflow path (ready list, EVPOLL_RING_F_ENTER, RING_ENTER)
 * is exercised too.  Edge-triggered; level-triggered on an
 * EVPOLL_RING_LT_STRICT ring (exact); and level-triggered on a default
 * ring, whose rule lets a posted entry be stale (the item may have been
 * reported by a RING_ENTER's re-poll meanwhile and read): there a stale
 * report is counted and allowed, a lost one still fails.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>

#include "evpring.h"
#include "kselftest_harness.h"

#define NWRITERS	8
#define NROUNDS		1500
#define DEADLINE_NS	(120 * NSEC_PER_SEC)

struct stress {
	int evfd;
	int efd[NWRITERS];
	unsigned int acked[NWRITERS];	/* consumer -> writer */
	int stop;
	long long deadline;
};

struct writer {
	struct stress *s;
	int i;
	int ok;
};

static void pin(int cpu)
{
	cpu_set_t set;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *writer_fn(void *arg)
{
	struct writer *w = arg;
	struct stress *s = w->s;
	uint64_t one = 1;
	unsigned int k;

	pin(0);
	for (k = 0; k < NROUNDS; k++) {
		while (__atomic_load_n(&s->acked[w->i], __ATOMIC_ACQUIRE) != k) {
			if (__atomic_load_n(&s->stop, __ATOMIC_RELAXED) ||
			    now_ns() > s->deadline)
				return NULL;
			sched_yield();
		}
		if (write(s->efd[w->i], &one, 8) != 8)
			return NULL;
	}
	w->ok = 1;
	return NULL;
}

FIXTURE(stress) {
	struct stress s;
	struct tring r;
};

FIXTURE_VARIANT(stress) {
	uint32_t events;
	unsigned int entries;
	uint32_t flags;		/* evpoll_ring_setup.flags */
	bool stale_ok;		/* the default ring's LT rule */
};

FIXTURE_VARIANT_ADD(stress, et) {
	.events = EPOLLIN | EPOLLET,
	.entries = 4,
};

FIXTURE_VARIANT_ADD(stress, lt_strict) {
	.events = EPOLLIN,
	.entries = 4,
	.flags = EVPOLL_RING_LT_STRICT,
};

FIXTURE_VARIANT_ADD(stress, lt) {
	.events = EPOLLIN,
	.entries = 4,
	.stale_ok = true,
};

FIXTURE_VARIANT_ADD(stress, et_large) {
	.events = EPOLLIN | EPOLLET,
	.entries = 64,
};

FIXTURE_SETUP(stress)
{
	int i;

	memset(&self->s, 0, sizeof(self->s));
	self->s.evfd = evp_open();
	ASSERT_GE(self->s.evfd, 0);
	ASSERT_EQ(tring_open_flags(&self->r, self->s.evfd, variant->entries,
				   variant->flags), 0);
	for (i = 0; i < NWRITERS; i++) {
		self->s.efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ASSERT_GE(self->s.efd[i], 0);
		ASSERT_EQ(evp_ctl(self->s.evfd, EPOLL_CTL_ADD, self->s.efd[i],
				  variant->events, i), 0);
	}
}

FIXTURE_TEARDOWN(stress)
{
	int i;

	munmap(self->r.hdr, self->r.size);
	for (i = 0; i < NWRITERS; i++)
		close(self->s.efd[i]);
	close(self->s.evfd);
}

TEST_F_TIMEOUT(stress, every_edge_once, 300)
{
	struct writer w[NWRITERS];
	pthread_t t[NWRITERS];
	struct epoll_event ev[64];
	unsigned long done = 0, dup = 0, bad = 0, entered = 0, harvested = 0;
	int i, n;

	self->s.deadline = now_ns() + DEADLINE_NS;
	pin(1);
	for (i = 0; i < NWRITERS; i++) {
		w[i] = (struct writer){ .s = &self->s, .i = i };
		ASSERT_EQ(pthread_create(&t[i], NULL, writer_fn, &w[i]), 0);
	}
	while (done < (unsigned long)NWRITERS * NROUNDS &&
	       now_ns() < self->s.deadline) {
		n = tring_harvest(&self->r, ev, 64);
		harvested += n;
		if (!n) {
			n = tring_enter(self->s.evfd, ev, 64,
					100 * NSEC_PER_MSEC);
			if (n <= 0)
				continue;	/* 0: the ring has entries */
			entered += n;
		}
		for (i = 0; i < n; i++) {
			unsigned int id = ev[i].data.u64;
			uint64_t val;

			if (id >= NWRITERS || !(ev[i].events & EPOLLIN)) {
				bad++;
				continue;
			}
			if (read(self->s.efd[id], &val, 8) != 8) {
				dup++;	/* reported, but nothing written */
				continue;
			}
			if (val != 1)
				bad++;
			done++;
			__atomic_store_n(&self->s.acked[id],
					 self->s.acked[id] + 1,
					 __ATOMIC_RELEASE);
		}
	}
	__atomic_store_n(&self->s.stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < NWRITERS; i++) {
		pthread_join(t[i], NULL);
		EXPECT_TRUE(w[i].ok);
		EXPECT_EQ(self->s.acked[i], NROUNDS);
	}
	TH_LOG("events %lu: %lu harvested, %lu from RING_ENTER; overflow %llu",
	       done, harvested, entered,
	       (unsigned long long)self->r.hdr->overflow);
	EXPECT_EQ(done, (unsigned long)NWRITERS * NROUNDS);
	if (variant->stale_ok) {
		TH_LOG("stale reports (allowed by the default LT rule): %lu",
		       dup);
	} else {
		EXPECT_EQ(dup, 0);
	}
	EXPECT_EQ(bad, 0);
	/*
	 * The ring carried events (not everything went through ENTER), but
	 * for level-triggered items on an LT_STRICT ring: never posted.
	 */
	if (variant->flags & EVPOLL_RING_LT_STRICT) {
		EXPECT_EQ(harvested, 0);
	} else {
		EXPECT_GT(harvested, 0);
	}
}

TEST_HARNESS_MAIN
