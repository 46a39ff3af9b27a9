// SPDX-License-Identifier: GPL-2.0
/*
 * ring_test - the event ring (EVPOLL_IOC_RING_SETUP, mmap, _RING_ENTER):
 * argument checks, what is posted from the wake-up and what is reported
 * by RING_ENTER (level-triggered, one-shot, dispatch, user events,
 * tombstones, wake-ups without a key, overflow), sleeping and waking,
 * EPOLLEXCLUSIVE, and the mapping's life (close while mapped, fork, exec,
 * munmap while waiting, mremap, a second setup).
 */
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "evpring.h"
#include "kselftest_harness.h"

FIXTURE(ring) {
	int evfd;
	int p[2];
	struct tring r;
};

FIXTURE_SETUP(ring)
{
	self->evfd = evp_open();
	ASSERT_GE(self->evfd, 0);
	ASSERT_EQ(pipe2(self->p, O_NONBLOCK | O_CLOEXEC), 0);
	memset(&self->r, 0, sizeof(self->r));
}

FIXTURE_TEARDOWN(ring)
{
	if (self->r.hdr)
		munmap(self->r.hdr, self->r.size);
	close(self->p[0]);
	close(self->p[1]);
	close(self->evfd);
}

static void drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

TEST_F(ring, feature_bit)
{
	struct evpoll_version v = { .size = sizeof(v) };

	ASSERT_EQ(ioctl(self->evfd, EVPOLL_IOC_VERSION, &v), 0);
	EXPECT_TRUE(v.features & EVPOLL_IOC_FEAT_RING);
}

TEST_F(ring, setup_bad_arguments)
{
	struct evpoll_ring_setup s = { 0 };
	struct epoll_event ev[1];
	void *map;

	/* No ring yet: mmap ENODEV, enter ENODEV. */
	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->evfd, 0);
	EXPECT_EQ(map, MAP_FAILED);
	EXPECT_EQ(errno, ENODEV);
	EXPECT_EQ(tring_enter(self->evfd, ev, 1, 0), -ENODEV);

	EXPECT_EQ(tring_setup_args(self->evfd, &s), -EINVAL);	/* 0 */
	s.entries = 3;
	EXPECT_EQ(tring_setup_args(self->evfd, &s), -EINVAL);
	s.entries = EVPOLL_RING_MAX_ENTRIES * 2;
	EXPECT_EQ(tring_setup_args(self->evfd, &s), -EINVAL);
	s.entries = 0x80000000u;
	EXPECT_EQ(tring_setup_args(self->evfd, &s), -EINVAL);
	s.entries = 8;
	s.flags = ~EVPOLL_RING_SETUP_FLAGS;
	EXPECT_EQ(tring_setup_args(self->evfd, &s), -EINVAL);
	s.flags = 0;
	s.__reserved0 = 1;
	EXPECT_EQ(tring_setup_args(self->evfd, &s), -EINVAL);
	s.__reserved0 = 0;
	s.__reserved[1] = 1;
	EXPECT_EQ(tring_setup_args(self->evfd, &s), -EINVAL);
	EXPECT_EQ(ioctl(self->evfd, EVPOLL_IOC_RING_SETUP, (void *)8), -1);
	EXPECT_EQ(errno, EFAULT);
	/* Nothing was set up by the failures. */
	EXPECT_EQ(tring_enter(self->evfd, ev, 1, 0), -ENODEV);
}

TEST_F(ring, setup_geometry_and_second_setup)
{
	struct evpoll_ring_setup s = { .entries = 8 };
	int fd;

	ASSERT_EQ(tring_setup_args(self->evfd, &s), 0);
	EXPECT_EQ(s.mmap_size, 4096);
	EXPECT_EQ(s.off_entries, sizeof(struct evpoll_ring_header));
	/* The same size again: the same ring; another size: EBUSY. */
	ASSERT_EQ(tring_open(&self->r, self->evfd, 8), 0);
	EXPECT_EQ(self->r.hdr->entries, 8);
	EXPECT_EQ(self->r.hdr->mask, 7);
	EXPECT_EQ(self->r.hdr->head, 0);
	EXPECT_EQ(self->r.hdr->tail, 0);
	s.entries = 16;
	EXPECT_EQ(tring_setup_args(self->evfd, &s), -EBUSY);
	/* The largest ring. */
	fd = evp_open();
	s.entries = EVPOLL_RING_MAX_ENTRIES;
	ASSERT_EQ(tring_setup_args(fd, &s), 0);
	EXPECT_EQ(s.mmap_size, 16 * EVPOLL_RING_MAX_ENTRIES + 4096);
	close(fd);
}

TEST_F(ring, mmap_bad_arguments)
{
	struct evpoll_ring_setup s = { .entries = 512 };	/* 3 pages */
	void *map, *m2;

	ASSERT_EQ(tring_setup_args(self->evfd, &s), 0);
	ASSERT_EQ(s.mmap_size, 3 * 4096);
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->evfd, 4096);
	EXPECT_EQ(map, MAP_FAILED);
	EXPECT_EQ(errno, EINVAL);
	map = mmap(NULL, 4 * 4096, PROT_READ, MAP_SHARED, self->evfd, 0);
	EXPECT_EQ(map, MAP_FAILED);
	EXPECT_EQ(errno, EINVAL);
	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		   self->evfd, 0);
	EXPECT_EQ(map, MAP_FAILED);
	EXPECT_EQ(errno, EINVAL);
	map = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED,
		   self->evfd, 0);
	EXPECT_EQ(map, MAP_FAILED);
	EXPECT_EQ(errno, EPERM);
	/* A shorter mapping is fine; it cannot grow. */
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, self->evfd, 0);
	ASSERT_NE(map, MAP_FAILED);
	EXPECT_EQ(((struct evpoll_ring_header *)map)->entries, 512);
	m2 = mremap(map, 4096, 3 * 4096, MREMAP_MAYMOVE);
	EXPECT_EQ(m2, MAP_FAILED);
	EXPECT_EQ(munmap(map, 4096), 0);
}

/* ET: posted from the wake-up, no system call on the instance. */
TEST_F(ring, et_posted_and_coalesced)
{
	struct pollfd pfd = { .fd = self->evfd, .events = POLLIN };
	struct epoll_event ev[4];

	ASSERT_EQ(tring_open(&self->r, self->evfd, 8), 0);
	ASSERT_EQ(evp_ctl(self->evfd, EPOLL_CTL_ADD, self->p[0],
			  EPOLLIN | EPOLLET, 0x42), 0);
	EXPECT_EQ(tring_tail(&self->r), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(tring_tail(&self->r), 1);
	EXPECT_EQ(self->r.ent[0].events, EPOLLIN);
	EXPECT_EQ(self->r.ent[0].data, 0x42);
	EXPECT_EQ(tring_flags(&self->r), 0);
	/* Unread entry, same bits: not posted again. */
	ASSERT_EQ(write(self->p[1], "y", 1), 1);
	EXPECT_EQ(tring_tail(&self->r), 1);
	ASSERT_EQ(tring_harvest(&self->r, ev, 4), 1);
	EXPECT_EQ(ev[0].data.u64, 0x42);
	/* Read: a new write is a new edge, a new entry. */
	ASSERT_EQ(write(self->p[1], "z", 1), 1);
	EXPECT_EQ(tring_tail(&self->r), 2);
	ASSERT_EQ(tring_harvest(&self->r, ev, 4), 1);
	/* ET: nothing for the kernel to report, nothing in the ring. */
	EXPECT_EQ(tring_enter(self->evfd, ev, 4, 0), -ETIME);
	/* poll() of the instance: readable while the ring has entries. */
	EXPECT_EQ(poll(&pfd, 1, 0), 0);
	drain(self->p[0]);
	ASSERT_EQ(write(self->p[1], "w", 1), 1);
	EXPECT_EQ(poll(&pfd, 1, 0), 1);
	EXPECT_EQ(tring_enter(self->evfd, ev, 4, 0), 0);
	EXPECT_EQ(tring_harvest(&self->r, ev, 4), 1);
	EXPECT_EQ(poll(&pfd, 1, 0), 0);
}

/* An epoll set (or an instance) watching a ring instance sees its posts. */
TEST_F(ring, watched_instance_readable)
{
	struct epoll_event ev[2];
	int ep = epoll_create1(EPOLL_CLOEXEC), outer = evp_open();

	ASSERT_GE(ep, 0);
	ASSERT_GE(outer, 0);
	ASSERT_EQ(tring_open(&self->r, self->evfd, 8), 0);
	ASSERT_EQ(evp_ctl(self->evfd, EPOLL_CTL_ADD, self->p[0],
			  EPOLLIN | EPOLLET, 1), 0);
	ev[0].events = EPOLLIN;
	ev[0].data.u64 = 2;
	ASSERT_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, self->evfd, ev), 0);
	ASSERT_EQ(evp_ctl(outer, EPOLL_CTL_ADD, self->evfd, EPOLLIN, 3), 0);
	EXPECT_EQ(epoll_wait(ep, ev, 2, 0), 0);
	EXPECT_EQ(evp_wait(outer, ev, 2, 0), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(epoll_wait(ep, ev, 2, 0), 1);
	EXPECT_EQ(ev[0].data.u64, 2);
	ASSERT_EQ(evp_wait(outer, ev, 2, 0), 1);
	EXPECT_EQ(ev[0].data.u64, 3);
	ASSERT_EQ(tring_harvest(&self->r, ev, 2), 1);
	EXPECT_EQ(epoll_wait(ep, ev, 2, 0), 0);
	EXPECT_EQ(evp_wait(outer, ev, 2, 0), 0);
	close(outer);
	close(ep);
}

/* A ring set up after the items were added posts for them too. */
TEST_F(ring, setup_after_add)
{
	struct epoll_event ev[2];

	ASSERT_EQ(evp_ctl(self->evfd, EPOLL_CTL_ADD, self->p[0],
			  EPOLLIN | EPOLLET, 7), 0);
	ASSERT_EQ(tring_open(&self->r, self->evfd, 4), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(tring_harvest(&self->r, ev, 2), 1);
	EXPECT_EQ(ev[0].data.u64, 7);
}

/* LT: posted, then reported again by each RING_ENTER while ready. */
TEST_F(ring, lt_reported_again_while_ready)
{
	struct epoll_event ev[4];

	ASSERT_EQ(tring_open(&self->r, self->evfd, 8), 0);
	ASSERT_EQ(evp_ctl(self->evfd, EPOLL_CTL_ADD, self->p[0], EPOLLIN, 5),
		  0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(tring_harvest(&self->r, ev, 4), 1);
	EXPECT_EQ(ev[0].data.u64, 5);
	EXPECT_EQ(tring_flags(&self->r), 0);
	/* Still ready: each entry reports it again, in the array. */
	ASSERT_EQ(tring_enter(self->evfd, ev, 4, 0), 1);
	EXPECT_EQ(ev[0].events, EPOLLIN);
	EXPECT_EQ(ev[0].data.u64, 5);
	ASSERT_EQ(tring_enter(self->evfd, ev, 4, 0), 1);
	drain(self->p[0]);
	EXPECT_EQ(tring_enter(self->evfd, ev, 4, 0), -ETIME);
	EXPECT_EQ(tring_tail(&self->r), 1);
	/* Ready again: posted again. */
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	EXPECT_EQ(tring_tail(&self->r), 2);
}

/*
 * EVPOLL_RING_LT_STRICT: level-triggered items are never posted; every
 * ENTER reports them while ready, with the ring's entries or without.
 */
TEST_F(ring, lt_strict)
{
	struct evpoll_ring_setup s = { .entries = 8,
				       .flags = EVPOLL_RING_LT_STRICT };
	struct epoll_event ev[4];
	int q[2];

	ASSERT_EQ(tring_setup_args(self->evfd, &s), 0);
	s.flags = 0;
	EXPECT_EQ(tring_setup_args(self->evfd, &s), -EBUSY);
	s.flags = 2;
	EXPECT_EQ(tring_setup_args(self->evfd, &s), -EINVAL);
	ASSERT_EQ(pipe2(q, O_NONBLOCK | O_CLOEXEC), 0);
	ASSERT_EQ(tring_open_flags(&self->r, self->evfd, 8,
				   EVPOLL_RING_LT_STRICT), 0);
	ASSERT_EQ(evp_ctl(self->evfd, EPOLL_CTL_ADD, self->p[0], EPOLLIN, 1),
		  0);
	ASSERT_EQ(evp_ctl(self->evfd, EPOLL_CTL_ADD, q[0], EPOLLIN | EPOLLET,
			  2), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	EXPECT_EQ(tring_tail(&self->r), 0);		/* LT: not posted */
	EXPECT_EQ(tring_flags(&self->r), EVPOLL_RING_F_ENTER);
	ASSERT_EQ(write(q[1], "x", 1), 1);
	EXPECT_EQ(tring_tail(&self->r), 1);		/* ET: posted */
	/* F_ENTER with entries in the ring: the LT item comes anyway. */
	ASSERT_EQ(tring_enter(self->evfd, ev, 4, 0), 1);
	EXPECT_EQ(ev[0].data.u64, 1);
	/* Still ready: F_ENTER stays set, the next ENTER reports it. */
	EXPECT_EQ(tring_flags(&self->r), EVPOLL_RING_F_ENTER);
	ASSERT_EQ(tring_harvest(&self->r, ev, 4), 1);
	EXPECT_EQ(ev[0].data.u64, 2);
	ASSERT_EQ(tring_enter(self->evfd, ev, 4, 0), 1);
	EXPECT_EQ(ev[0].data.u64, 1);
	drain(self->p[0]);
	EXPECT_EQ(tring_enter(self->evfd, ev, 4, 0), -ETIME);
	EXPECT_EQ(tring_flags(&self->r), 0);
	close(q[0]);
	close(q[1]);
}

TEST_F(ring, oneshot_through_enter)
{
	struct epoll_event ev[4];

	ASSERT_EQ(tring_open(&self->r, self->evfd, 8), 0);
	ASSERT_EQ(evp_ctl(self->evfd, EPOLL_CTL_ADD, self->p[0],
			  EPOLLIN | EPOLLONESHOT, 9), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	EXPECT_EQ(tring_tail(&self->r), 0);
	EXPECT_EQ(tring_flags(&self->r), EVPOLL_RING_F_ENTER);
	ASSERT_EQ(tring_enter(self->evfd, ev, 4, 0), 1);
	EXPECT_EQ(ev[0].data.u64, 9);
	EXPECT_EQ(tring_flags(&self->r), 0);
	/* Disarmed until MOD. */
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	EXPECT_EQ(tring_enter(self->evfd, ev, 4, 0), -ETIME);
	EXPECT_EQ(tring_tail(&self->r), 0);
	ASSERT_EQ(evp_ctl(self->evfd, EPOLL_CTL_MOD, self->p[0],
			  EPOLLIN | EPOLLONESHOT, 10), 0);
	EXPECT_EQ(tring_flags(&self->r), EVPOLL_RING_F_ENTER);
	ASSERT_EQ(tring_enter(self->evfd, ev, 4, 0), 1);
	EXPECT_EQ(ev[0].data.u64, 10);
	EXPECT_EQ(tring_enter(self->evfd, ev, 4, 0), -ETIME);
}

TEST_F(ring, dispatch_enable)
{
	struct epoll_event ev[4];

	ASSERT_EQ(tring_open(&self->r, self->evfd, 8), 0);
	ASSERT_EQ(evp_ctl2(self->evfd, EPOLL_CTL_ADD, self->p[0],
			   EPOLLIN | EPOLLET | EVPOLLDISPATCH, 3), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(tring_enter(self->evfd, ev, 4, 0), 1);
	EXPECT_EQ(ev[0].data.u64, 3);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	EXPECT_EQ(tring_enter(self->evfd, ev, 4, 0), -ETIME);
	ASSERT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ENABLE, self->p[0], 0, 0),
		  0);
	ASSERT_EQ(tring_enter(self->evfd, ev, 4, 0), 1);
	EXPECT_EQ(tring_tail(&self->r), 0);
}

TEST_F(ring, user_event_through_enter)
{
	struct epoll_event ev[4];
	int id;

	ASSERT_EQ(tring_open(&self->r, self->evfd, 8), 0);
	id = evp_user_add(self->evfd, EPOLLIN, 0x77);
	ASSERT_GE(id, 0);
	EXPECT_EQ(evp_user_trigger(self->evfd, id), 0);
	EXPECT_EQ(evp_user_trigger(self->evfd, id), 0);
	EXPECT_EQ(tring_flags(&self->r), EVPOLL_RING_F_ENTER);
	ASSERT_EQ(tring_enter(self->evfd, ev, 4, 0), 1);
	EXPECT_EQ(ev[0].events, EPOLLIN);
	EXPECT_EQ(ev[0].data.u64, 0x77);
	EXPECT_EQ(tring_enter(self->evfd, ev, 4, 0), -ETIME);
}

/* A tombstone comes after every entry the item had in the ring. */
TEST_F(ring, tombstone_after_ring_entries)
{
	struct epoll_event ev[4];

	ASSERT_EQ(tring_open(&self->r, self->evfd, 8), 0);
	ASSERT_EQ(evp_ctl2(self->evfd, EPOLL_CTL_ADD, self->p[0],
			   EPOLLIN | EPOLLET, 0x51), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(tring_tail(&self->r), 1);
	ASSERT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_DEL_NOTIFY, self->p[0], 0,
			   0), 0);
	/* The ring first: ENTER says so and reports nothing. */
	EXPECT_EQ(tring_enter(self->evfd, ev, 4, 0), 0);
	ASSERT_EQ(tring_harvest(&self->r, ev, 4), 1);
	EXPECT_EQ(ev[0].data.u64, 0x51);
	ASSERT_EQ(tring_enter(self->evfd, ev, 4, 0), 1);
	EXPECT_EQ(ev[0].events, EVPOLLREMOVED);
	EXPECT_EQ(ev[0].data.u64, 0x51);
	EXPECT_EQ(tring_enter(self->evfd, ev, 4, 0), -ETIME);
}

/* inotify wakes its readers without a key: reported by ENTER. */
TEST_F(ring, wakeup_without_key)
{
	char dir[] = "/tmp/evpring.XXXXXX", path[64];
	struct epoll_event ev[4];
	int in;

	ASSERT_EQ(tring_open(&self->r, self->evfd, 8), 0);
	ASSERT_NE(mkdtemp(dir), NULL);
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	ASSERT_GE(in, 0);
	ASSERT_GE(inotify_add_watch(in, dir, IN_CREATE), 0);
	ASSERT_EQ(evp_ctl(self->evfd, EPOLL_CTL_ADD, in, EPOLLIN | EPOLLET,
			  0x11), 0);
	snprintf(path, sizeof(path), "%s/f", dir);
	close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	EXPECT_EQ(tring_tail(&self->r), 0);
	EXPECT_EQ(tring_flags(&self->r), EVPOLL_RING_F_ENTER);
	ASSERT_EQ(tring_enter(self->evfd, ev, 4, 0), 1);
	EXPECT_EQ(ev[0].events, EPOLLIN);
	EXPECT_EQ(ev[0].data.u64, 0x11);
	unlink(path);
	rmdir(dir);
	close(in);
}

/* A full ring loses nothing: the rest waits in the kernel, in order. */
TEST_F(ring, overflow_loses_nothing)
{
	struct epoll_event ev[16];
	int fds[6][2], i, n, got[6] = { 0 };

	ASSERT_EQ(tring_open(&self->r, self->evfd, 2), 0);
	for (i = 0; i < 6; i++) {
		ASSERT_EQ(pipe2(fds[i], O_NONBLOCK | O_CLOEXEC), 0);
		ASSERT_EQ(evp_ctl(self->evfd, EPOLL_CTL_ADD, fds[i][0],
				  EPOLLIN | EPOLLET, i), 0);
	}
	for (i = 0; i < 5; i++)
		ASSERT_EQ(write(fds[i][1], "x", 1), 1);
	EXPECT_EQ(tring_tail(&self->r), 2);
	EXPECT_EQ(self->r.hdr->overflow, 3);
	EXPECT_EQ(tring_flags(&self->r), EVPOLL_RING_F_ENTER);
	ASSERT_EQ(tring_harvest(&self->r, ev, 16), 2);
	got[ev[0].data.u64]++;
	got[ev[1].data.u64]++;
	/* Room again, but nothing is posted before the overflow is out. */
	ASSERT_EQ(write(fds[5][1], "x", 1), 1);
	EXPECT_EQ(tring_tail(&self->r), 2);
	n = tring_enter(self->evfd, ev, 16, 0);
	ASSERT_EQ(n, 4);
	for (i = 0; i < n; i++)
		got[ev[i].data.u64]++;
	for (i = 0; i < 6; i++)
		EXPECT_EQ(got[i], 1);
	EXPECT_EQ(tring_flags(&self->r), 0);
	/* Posting again. */
	drain(fds[0][0]);
	ASSERT_EQ(write(fds[0][1], "x", 1), 1);
	EXPECT_EQ(tring_tail(&self->r), 3);
	for (i = 0; i < 6; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
}

/* maxevents smaller than what waits: the rest by the next ENTER. */
TEST_F(ring, enter_maxevents_keeps_flag)
{
	struct epoll_event ev[2];
	int fds[3][2], i;

	ASSERT_EQ(tring_open(&self->r, self->evfd, 8), 0);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(pipe2(fds[i], O_NONBLOCK | O_CLOEXEC), 0);
		ASSERT_EQ(write(fds[i][1], "x", 1), 1);
		/* Ready at ADD: reported by ENTER. */
		ASSERT_EQ(evp_ctl(self->evfd, EPOLL_CTL_ADD, fds[i][0],
				  EPOLLIN | EPOLLET, i), 0);
	}
	EXPECT_EQ(tring_flags(&self->r), EVPOLL_RING_F_ENTER);
	ASSERT_EQ(tring_enter(self->evfd, ev, 2, 0), 2);
	EXPECT_EQ(tring_flags(&self->r), EVPOLL_RING_F_ENTER);
	ASSERT_EQ(tring_enter(self->evfd, ev, 2, 0), 1);
	EXPECT_EQ(ev[0].data.u64, 2);
	EXPECT_EQ(tring_enter(self->evfd, ev, 2, 0), -ETIME);
	for (i = 0; i < 3; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
}

struct waiter {
	int evfd;
	pid_t tid;
	int ret;
};

static void *waiter_fn(void *arg)
{
	struct waiter *w = arg;
	struct epoll_event ev[4];

	evp_set_tid(&w->tid);
	w->ret = tring_enter(w->evfd, ev, 4, 20 * NSEC_PER_SEC);
	return NULL;
}

/*
 * A ring of 8 on the fixture's instance, the pipe added edge-triggered,
 * and a thread asleep in RING_ENTER on it.
 */
static bool ring_with_waiter(struct tring *r, int evfd, int rfd,
			     struct waiter *w, pthread_t *t)
{
	pid_t tid;

	w->evfd = evfd;
	w->ret = 99;
	if (tring_open(r, evfd, 8) ||
	    evp_ctl(evfd, EPOLL_CTL_ADD, rfd, EPOLLIN | EPOLLET, 1) ||
	    pthread_create(t, NULL, waiter_fn, w))
		return false;
	tid = evp_get_tid(&w->tid);
	return evp_tasks_asleep(&tid, 1);
}

/* An empty ring sleeps; a post wakes it (0: harvest the ring). */
TEST_F(ring, enter_sleeps_and_wakes)
{
	struct waiter w = { 0 };
	struct epoll_event ev[4];
	pthread_t t;

	ASSERT_TRUE(ring_with_waiter(&self->r, self->evfd, self->p[0], &w,
				     &t));
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	pthread_join(t, NULL);
	EXPECT_EQ(w.ret, 0);
	EXPECT_EQ(tring_harvest(&self->r, ev, 4), 1);
	/* Timeout: ETIME. */
	EXPECT_EQ(tring_enter(self->evfd, ev, 4, 20 * NSEC_PER_MSEC), -ETIME);
}

/* munmap() while a thread waits: the kernel never used the mapping. */
TEST_F(ring, munmap_while_waiting)
{
	struct waiter w = { 0 };
	struct epoll_event ev[4];
	pthread_t t;

	ASSERT_TRUE(ring_with_waiter(&self->r, self->evfd, self->p[0], &w,
				     &t));
	ASSERT_EQ(munmap(self->r.hdr, self->r.size), 0);
	self->r.hdr = NULL;
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	pthread_join(t, NULL);
	EXPECT_EQ(w.ret, 0);
	/* Map it again: the entry is there. */
	ASSERT_EQ(tring_open(&self->r, self->evfd, 8), 0);
	EXPECT_EQ(tring_harvest(&self->r, ev, 4), 1);
}

/* Closing the instance while mapped: the ring lives until munmap. */
TEST_F(ring, close_while_mapped)
{
	struct epoll_event ev[4];

	ASSERT_EQ(tring_open(&self->r, self->evfd, 8), 0);
	ASSERT_EQ(evp_ctl(self->evfd, EPOLL_CTL_ADD, self->p[0],
			  EPOLLIN | EPOLLET, 1), 0);
	close(self->evfd);
	/* The mapping holds the instance: it still posts. */
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	EXPECT_EQ(tring_harvest(&self->r, ev, 4), 1);
	EXPECT_EQ(munmap(self->r.hdr, self->r.size), 0);
	self->r.hdr = NULL;
	self->evfd = evp_open();	/* for the teardown */
}

/* mremap() may move the mapping. */
TEST_F(ring, mremap_moves)
{
	struct epoll_event ev[4];
	void *m, *to;

	ASSERT_EQ(tring_open(&self->r, self->evfd, 8), 0);
	ASSERT_EQ(evp_ctl(self->evfd, EPOLL_CTL_ADD, self->p[0],
			  EPOLLIN | EPOLLET, 1), 0);
	to = mmap(NULL, self->r.size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		  -1, 0);
	ASSERT_NE(to, MAP_FAILED);
	m = mremap(self->r.hdr, self->r.size, self->r.size, MREMAP_MAYMOVE |
		   MREMAP_FIXED, to);
	ASSERT_EQ(m, to);
	self->r.hdr = m;
	self->r.ent = (void *)((char *)m + 128);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	EXPECT_EQ(tring_harvest(&self->r, ev, 4), 1);
}

/* fork(): the child shares the ring (MAP_SHARED). */
TEST_F(ring, fork_shares_ring)
{
	struct epoll_event ev[4];
	int status;
	pid_t pid;

	ASSERT_EQ(tring_open(&self->r, self->evfd, 8), 0);
	ASSERT_EQ(evp_ctl(self->evfd, EPOLL_CTL_ADD, self->p[0],
			  EPOLLIN | EPOLLET, 1), 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* The child harvests what the parent's write posted. */
		if (write(self->p[1], "x", 1) != 1)
			_exit(2);
		_exit(tring_harvest(&self->r, ev, 4) == 1 ? 0 : 1);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(WEXITSTATUS(status), 0);
	EXPECT_EQ(self->r.hdr->head, 1);
	EXPECT_EQ(tring_harvest(&self->r, ev, 4), 0);
}

/* exec drops the mapping; a second setup lets the program map it again. */
TEST_F(ring, exec_then_map_again)
{
	struct epoll_event ev[4];
	char fdstr[16];
	int status;
	pid_t pid;

	ASSERT_EQ(tring_open(&self->r, self->evfd, 8), 0);
	ASSERT_EQ(evp_ctl(self->evfd, EPOLL_CTL_ADD, self->p[0],
			  EPOLLIN | EPOLLET, 1), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	snprintf(fdstr, sizeof(fdstr), "%d", self->evfd);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int fd = dup(self->evfd);	/* without O_CLOEXEC */

		if (fd < 0)
			_exit(3);
		snprintf(fdstr, sizeof(fdstr), "%d", fd);
		/* A new program: the child's mapping is gone. */
		execl("/bin/sh", "sh", "-c", "exit 0", fdstr, (char *)NULL);
		_exit(4);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(WEXITSTATUS(status), 0);
	munmap(self->r.hdr, self->r.size);
	self->r.hdr = NULL;
	ASSERT_EQ(tring_open(&self->r, self->evfd, 8), 0);
	EXPECT_EQ(tring_harvest(&self->r, ev, 4), 1);
}

/*
 * EPOLLEXCLUSIVE: with a sleeper in RING_ENTER on each of two instances,
 * one wake-up posts to (and wakes) one of them only.
 */
TEST_F(ring, exclusive_wakes_one)
{
	struct waiter w[2] = {
		{ .ret = 99 }, { .ret = 99 },
	};
	struct tring r2 = { 0 };
	pthread_t t[2];
	pid_t tids[2];
	uint64_t one = 1;
	int efd, i, posted;

	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_GE(efd, 0);
	w[0].evfd = self->evfd;
	w[1].evfd = evp_open();
	ASSERT_GE(w[1].evfd, 0);
	ASSERT_EQ(tring_open(&self->r, w[0].evfd, 8), 0);
	ASSERT_EQ(tring_open(&r2, w[1].evfd, 8), 0);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(evp_ctl(w[i].evfd, EPOLL_CTL_ADD, efd,
				  EPOLLIN | EPOLLET | EPOLLEXCLUSIVE, i), 0);
		ASSERT_EQ(pthread_create(&t[i], NULL, waiter_fn, &w[i]), 0);
		tids[i] = evp_get_tid(&w[i].tid);
	}
	ASSERT_TRUE(evp_tasks_asleep(tids, 2));
	ASSERT_EQ(write(efd, &one, 8), 8);
	/* The exclusive walk is done when write() returns. */
	posted = tring_tail(&self->r) + tring_tail(&r2);
	EXPECT_EQ(posted, 1);
	/* Release the other waiter. */
	ASSERT_EQ(read(efd, &one, 8), 8);
	ASSERT_EQ(write(efd, &one, 8), 8);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(w[0].ret, 0);
	EXPECT_EQ(w[1].ret, 0);
	munmap(r2.hdr, r2.size);
	close(w[1].evfd);
	close(efd);
}

TEST_F(ring, enter_bad_arguments)
{
	struct evpoll_ring_enter e = { 0 };
	struct epoll_event ev[1];

	ASSERT_EQ(tring_open(&self->r, self->evfd, 8), 0);
	e.events = (uintptr_t)ev;
	e.maxevents = 0;
	EXPECT_EQ(ioctl(self->evfd, EVPOLL_IOC_RING_ENTER, &e), -1);
	EXPECT_EQ(errno, EINVAL);
	e.maxevents = 1;
	e.flags = 2;
	EXPECT_EQ(ioctl(self->evfd, EVPOLL_IOC_RING_ENTER, &e), -1);
	EXPECT_EQ(errno, EINVAL);
	e.flags = 0;
	e.__reserved = 1;
	EXPECT_EQ(ioctl(self->evfd, EVPOLL_IOC_RING_ENTER, &e), -1);
	EXPECT_EQ(errno, EINVAL);
	e.__reserved = 0;
	e.sigmask = (uintptr_t)ev;
	e.sigsetsize = 4;
	EXPECT_EQ(ioctl(self->evfd, EVPOLL_IOC_RING_ENTER, &e), -1);
	EXPECT_EQ(errno, EINVAL);
	e.sigmask = 0;
	e.sigsetsize = 0;
	EXPECT_EQ(ioctl(self->evfd, EVPOLL_IOC_RING_ENTER, (void *)8), -1);
	EXPECT_EQ(errno, EFAULT);
	/* ABSTIME in the past: does not block. */
	e.flags = EVPOLL_ENTER_ABSTIME;
	e.timeout = 1;
	EXPECT_EQ(ioctl(self->evfd, EVPOLL_IOC_RING_ENTER, &e), -1);
	EXPECT_EQ(errno, ETIME);
	/* A bogus head reads as a full ring: nothing breaks. */
	self->r.hdr->head = 12345;
	EXPECT_EQ(ioctl(self->evfd, EVPOLL_IOC_RING_ENTER, &e), 0);
	self->r.hdr->head = 0;
}

TEST_HARNESS_MAIN
