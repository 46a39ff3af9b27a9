// SPDX-License-Identifier: GPL-2.0
/*
 * wakeup_race_test - lost wake-ups on the ->poll() path of an instance,
 * and io_uring's loop breaker (issue 10, items 5-7).  Stress tests, each
 * bounded in rounds and in time, that stop at the first lost event.
 *
 *   recheck_vs_wake    poll() re-checks stale ready items while their
 *                      eventfds are written: no write may be lost.
 *   poll_vs_poll       two threads poll() an instance whose one item is
 *                      always readable: neither may ever see it idle.
 *   wait0_vs_wait0     the same with non-blocking WAITs: each must
 *                      deliver the item.
 *   uring_loop         a ring multishot-polls an instance that watches the
 *                      ring (EPOLL_URING_WAKE): the poll must end, as it
 *                      does with epoll in the same topology.
 */
#ifndef EVP_NO_URING	/* the 32-bit build: Debian has no i386 liburing */
#include <liburing.h>
#endif
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>

#include "evp.h"
#include "kselftest_harness.h"

#define RACE_NS		(4 * NSEC_PER_SEC)
#define RACE_ROUNDS	200000
#define NFD		8

/* Two threads meet at a spinning barrier each round. */
struct race {
	int evfd;
	int efd[NFD];
	atomic_int go;			/* round number the writer may start */
	atomic_int done;		/* rounds the writer finished */
	atomic_bool stop;
	unsigned int delay;		/* writer's spin before writing */
};

static void spin(unsigned int n)
{
	while (n--)
		__asm__ volatile("" ::: "memory");
}

static void *recheck_writer(void *arg)
{
	struct race *r = arg;
	uint64_t one = 1;
	int round = 0, i;

	for (;;) {
		while (atomic_load(&r->go) == round)
			if (atomic_load(&r->stop))
				return NULL;
		round++;
		spin(r->delay);
		for (i = NFD - 1; i >= 0; i--)
			if (write(r->efd[i], &one, sizeof(one)) != sizeof(one))
				abort();
		atomic_store(&r->done, round);
	}
}

/*
 * Item 5.  NFD eventfds, level-triggered, on the ready list but drained
 * (stale).  Each round one thread poll()s the instance, which re-checks
 * the stale items, while another writes every eventfd.  Afterwards all of
 * them are readable, so a WAIT must report all NFD: an item the re-check
 * unlinked after the write's wake-up found it still linked is lost.
 */
TEST(recheck_vs_wake)
{
	struct epoll_event evs[NFD];
	struct race r = { 0 };
	long long t0 = now_ns();
	struct pollfd pfd;
	uint64_t v;
	pthread_t t;
	int round, i, n, lost = 0;

	r.evfd = evp_open();
	ASSERT_GE(r.evfd, 0);
	for (i = 0; i < NFD; i++) {
		r.efd[i] = eventfd(1, EFD_NONBLOCK);
		ASSERT_GE(r.efd[i], 0);
		ASSERT_EQ(evp_ctl(r.evfd, EVPOLL_CTL_ADD, r.efd[i], EPOLLIN, i), 0);
	}
	pfd.fd = r.evfd;
	pfd.events = POLLIN;
	ASSERT_EQ(pthread_create(&t, NULL, recheck_writer, &r), 0);
	for (round = 1; round <= RACE_ROUNDS; round++) {
		/* Drain: the items stay on the ready list, stale. */
		for (i = 0; i < NFD; i++)
			ASSERT_EQ(read(r.efd[i], &v, sizeof(v)), sizeof(v));
		r.delay = (round * 37) % 2000;
		atomic_store(&r.go, round);
		ASSERT_GE(poll(&pfd, 1, 0), 0);
		while (atomic_load(&r.done) != round)
			;
		n = evp_wait(r.evfd, evs, NFD, 0);
		if (n != NFD) {
			lost = NFD - n;
			break;
		}
		if (now_ns() - t0 > RACE_NS)
			break;
	}
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	TH_LOG("%d rounds in %lld ms", round,
	       (now_ns() - t0) / NSEC_PER_MSEC);
	EXPECT_EQ(lost, 0) {
		TH_LOG("round %d: %d of %d readable eventfds not reported after a poll() re-check",
		       round, lost, NFD);
	}
	for (i = 0; i < NFD; i++)
		close(r.efd[i]);
	close(r.evfd);
}

struct pp {
	int evfd;
	bool wait;			/* WAIT(0) instead of poll(0) */
	atomic_bool stop;
	atomic_long polls, idle;
};

static void *poll_loop(void *arg)
{
	struct pp *p = arg;
	struct pollfd pfd = { .fd = p->evfd, .events = POLLIN };
	struct epoll_event ev;
	int n;

	while (!atomic_load(&p->stop)) {
		atomic_fetch_add(&p->polls, 1);
		n = p->wait ? evp_wait(p->evfd, &ev, 1, 0) : poll(&pfd, 1, 0);
		if (n != 1) {
			atomic_fetch_add(&p->idle, 1);
			atomic_store(&p->stop, true);
		}
	}
	return NULL;
}

/* Two threads run poll_loop() on one always-readable item; idle count. */
static long run_pp(bool wait, long *calls, long long *ms)
{
	struct pp p = { .wait = wait };
	long long t0 = now_ns();
	pthread_t t[2];
	int efd, i;

	p.evfd = evp_open();
	efd = eventfd(1, EFD_NONBLOCK);
	if (p.evfd < 0 || efd < 0 ||
	    evp_ctl(p.evfd, EVPOLL_CTL_ADD, efd, EPOLLIN, 1))
		return -1;
	for (i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, poll_loop, &p))
			return -1;
	while (!atomic_load(&p.stop) && now_ns() - t0 < RACE_NS &&
	       atomic_load(&p.polls) < 50 * RACE_ROUNDS)
		usleep(1000);
	atomic_store(&p.stop, true);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	*calls = atomic_load(&p.polls);
	*ms = (now_ns() - t0) / NSEC_PER_MSEC;
	close(efd);
	close(p.evfd);
	return atomic_load(&p.idle);
}

/*
 * Item 6.  One level-triggered item that is always readable.  Two threads
 * poll() the instance: each re-check takes the ready list private for a
 * moment, and the other's lockless "anything ready?" test must not read
 * the list empty and the scan over at once.
 */
TEST(poll_vs_poll)
{
	long long ms;
	long calls, idle = run_pp(false, &calls, &ms);

	ASSERT_LE(0, idle);
	TH_LOG("%ld polls in %lld ms", calls, ms);
	EXPECT_EQ(idle, 0) {
		TH_LOG("poll() found an always-readable instance idle");
	}
}

/*
 * The same race on WAIT with a zero timeout: a delivery takes the ready
 * list private and puts the level-triggered item back, and the other
 * thread's "anything ready?" test, two lockless reads (the list, then
 * "a scan is in progress"), could read the list before the item went
 * back and the flag after the scan ended, and return 0 without looking
 * under the lock (dev_nest_test's two_pollers_both_get_lt_event failed
 * so, on 6.12, once).
 */
TEST(wait0_vs_wait0)
{
	long long ms;
	long calls, idle = run_pp(true, &calls, &ms);

	ASSERT_LE(0, idle);
	TH_LOG("%ld waits in %lld ms", calls, ms);
	EXPECT_EQ(idle, 0) {
		TH_LOG("WAIT(0) found an always-readable instance empty");
	}
}

/*
 * Item 7.  Ring R multishot-polls instance E; E watches R.  A NOP posts a
 * CQE, which wakes R's pollers (E's item) with EPOLL_URING_WAKE; E wakes
 * its own pollers, the multishot poll, which posts a CQE, and so on.  The
 * flag passed up tells io_uring to end the multishot poll (one final CQE
 * without IORING_CQE_F_MORE).  Returns the CQEs of the poll seen before it
 * ended, or -1 if it was still going after 2000 CQEs or 2 s.
 */
#ifndef EVP_NO_URING
static int run_uring_loop(bool use_epoll)
{
	struct __kernel_timespec ts = { .tv_nsec = 100 * NSEC_PER_MSEC };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	long long t0 = now_ns();
	int efd, polls = 0, ret = -1;

	if (io_uring_queue_init(64, &ring, 0))
		return -2;
	if (use_epoll) {
		struct epoll_event ev = { .events = EPOLLIN };

		efd = epoll_create1(EPOLL_CLOEXEC);
		if (efd < 0 || epoll_ctl(efd, EPOLL_CTL_ADD, ring.ring_fd, &ev))
			return -2;
	} else {
		efd = evp_open();
		if (efd < 0 ||
		    evp_ctl(efd, EVPOLL_CTL_ADD, ring.ring_fd, EPOLLIN, 0))
			return -2;
	}
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_poll_multishot(sqe, efd, POLLIN);
	io_uring_sqe_set_data64(sqe, 1);
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, 2);
	if (io_uring_submit(&ring) != 2)
		return -2;
	while (polls < 2000 && now_ns() - t0 < 2 * NSEC_PER_SEC) {
		if (io_uring_wait_cqe_timeout(&ring, &cqe, &ts))
			continue;
		if (io_uring_cqe_get_data64(cqe) == 1) {
			polls++;
			if (!(cqe->flags & IORING_CQE_F_MORE)) {
				io_uring_cqe_seen(&ring, cqe);
				ret = polls;
				break;
			}
		}
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	close(efd);
	return ret;
}
#endif /* EVP_NO_URING */

TEST(uring_loop)
{
#ifdef EVP_NO_URING
	SKIP(return, "built without liburing (no i386 liburing in Debian 12)");
#else
	int ep = run_uring_loop(true);
	int evp = run_uring_loop(false);

	TH_LOG("poll CQEs until the multishot poll ended: epoll %d, evpoll %d (-1: still looping)",
	       ep, evp);
	ASSERT_GT(ep, 0);
	EXPECT_GT(evp, 0);
	EXPECT_LE(evp, ep + 1);
#endif
}

TEST_HARNESS_MAIN
