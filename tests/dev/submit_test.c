// SPDX-License-Identifier: GPL-2.0
/*
 * submit_test - EVPOLL_IOC_SUBMIT: a batch of changes with per-change
 * results, then an optional wait.  Per-change errnos are EVPOLL_IOC_CTL's
 * (epoll_ctl's); the call fails as a whole only for its own arguments; a
 * fault in the middle of the array stops the batch at that entry.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include "evp2.h"
#include "kselftest_harness.h"

FIXTURE(submit) {
	int evfd;
	int p[2];
	int q[2];
};

FIXTURE_SETUP(submit)
{
	self->evfd = evp_open();
	ASSERT_GE(self->evfd, 0) TH_LOG("open %s: %s", EVPOLL_DEVICE,
					strerror(errno));
	ASSERT_EQ(pipe2(self->p, O_NONBLOCK), 0);
	ASSERT_EQ(pipe2(self->q, O_NONBLOCK), 0);
}

FIXTURE_TEARDOWN(submit)
{
	close(self->p[0]);
	close(self->p[1]);
	close(self->q[0]);
	close(self->q[1]);
	close(self->evfd);
}

/* The probe the library's evpoll_features() makes: no change, no wait. */
TEST_F(submit, empty_probe)
{
	EXPECT_EQ(evp_submit(self->evfd, NULL, 0), 0);
}

/* Every errno epoll_ctl() gives, each in its own entry of one batch. */
TEST_F(submit, per_entry_errno)
{
	int file = open("/proc/self/status", O_RDONLY);
	int ep = epoll_create1(0);
	evp_chg c[9];

	ASSERT_GE(file, 0);
	ASSERT_GE(ep, 0);
	c[0] = evp_chg_make(EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 1);
	c[1] = evp_chg_make(EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 1);
	c[2] = evp_chg_make(EVPOLL_CTL_ADD, -1, EPOLLIN, 1);
	c[3] = evp_chg_make(EVPOLL_CTL_ADD, file, EPOLLIN, 1);
	c[4] = evp_chg_make(EVPOLL_CTL_ADD, self->evfd, EPOLLIN, 1);
	c[5] = evp_chg_make(EVPOLL_CTL_MOD, self->q[0], EPOLLIN, 1);
	c[6] = evp_chg_make(EVPOLL_CTL_DEL, self->q[0], 0, 0);
	c[7] = evp_chg_make(99, self->q[0], EPOLLIN, 1);
	c[8] = evp_chg_make(EVPOLL_CTL_MOD, self->p[0],
			    EPOLLIN | EPOLLEXCLUSIVE, 1);
	EXPECT_EQ(evp_submit(self->evfd, c, 9), 0);
	EXPECT_EQ(c[0].result, 0);
	EXPECT_EQ(c[1].result, -EEXIST);
	EXPECT_EQ(c[2].result, -EBADF);
	EXPECT_EQ(c[3].result, -EPERM);
	EXPECT_EQ(c[4].result, -EINVAL);
	EXPECT_EQ(c[5].result, -ENOENT);
	EXPECT_EQ(c[6].result, -ENOENT);
	EXPECT_EQ(c[7].result, -EINVAL);
	EXPECT_EQ(c[8].result, -EINVAL);
	/* The new ops on an fd that is not watched: ENOENT. */
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_DISABLE, self->q[0], 0, 0),
		  -ENOENT);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ENABLE, self->q[0], 0, 0),
		  -ENOENT);
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_DEL_NOTIFY, self->q[0], 0,
			   0), -ENOENT);
	/* evpoll does not watch epoll (abi.rst). */
	EXPECT_EQ(evp_ctl2(self->evfd, EVPOLL_CTL_ADD, ep, EPOLLIN, 0),
		  -EINVAL);
	close(ep);
	close(file);
}

/* ELOOP for a cycle of instances, as a per-entry result. */
TEST_F(submit, per_entry_eloop)
{
	int other = evp_open();
	evp_chg c[2];

	ASSERT_GE(other, 0);
	EXPECT_EQ(evp_ctl(other, EVPOLL_CTL_ADD, self->evfd, EPOLLIN, 0), 0);
	c[0] = evp_chg_make(EVPOLL_CTL_ADD, other, EPOLLIN, 0);
	c[1] = evp_chg_make(EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 0);
	EXPECT_EQ(evp_submit(self->evfd, c, 2), 0);
	EXPECT_EQ(c[0].result, -ELOOP);
	EXPECT_EQ(c[1].result, 0);
	close(other);
}

/* Applied in array order: ADD, MOD, DEL of one fd; then DEL before ADD. */
TEST_F(submit, order_of_application)
{
	struct epoll_event ev[2];
	evp_chg c[4];

	c[0] = evp_chg_make(EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 1);
	c[1] = evp_chg_make(EVPOLL_CTL_MOD, self->p[0], EPOLLIN, 2);
	c[2] = evp_chg_make(EVPOLL_CTL_DEL, self->p[0], 0, 0);
	c[3] = evp_chg_make(EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 3);
	EXPECT_EQ(evp_submit(self->evfd, c, 4), 0);
	EXPECT_EQ(c[0].result, 0);
	EXPECT_EQ(c[1].result, 0);
	EXPECT_EQ(c[2].result, 0);
	EXPECT_EQ(c[3].result, 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
	EXPECT_EQ(ev[0].data.u64, 3);

	/* Reversed: DEL first fails, MOD then sees the ADD before it. */
	c[0] = evp_chg_make(EVPOLL_CTL_DEL, self->q[0], 0, 0);
	c[1] = evp_chg_make(EVPOLL_CTL_ADD, self->q[0], EPOLLIN, 4);
	c[2] = evp_chg_make(EVPOLL_CTL_MOD, self->q[0], EPOLLIN, 5);
	EXPECT_EQ(evp_submit(self->evfd, c, 3), 0);
	EXPECT_EQ(c[0].result, -ENOENT);
	EXPECT_EQ(c[1].result, 0);
	EXPECT_EQ(c[2].result, 0);
}

/* A refused change does not stop the ones after it. */
TEST_F(submit, failure_does_not_stop_the_next)
{
	evp_chg c[3];

	c[0] = evp_chg_make(EVPOLL_CTL_MOD, self->p[0], EPOLLIN, 1);
	c[1] = evp_chg_make(EVPOLL_CTL_ADD, -1, EPOLLIN, 2);
	c[2] = evp_chg_make(EVPOLL_CTL_ADD, self->q[0], EPOLLIN, 3);
	EXPECT_EQ(evp_submit(self->evfd, c, 3), 0);
	EXPECT_EQ(c[0].result, -ENOENT);
	EXPECT_EQ(c[1].result, -EBADF);
	EXPECT_EQ(c[2].result, 0);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->q[0], EPOLLIN, 0),
		  -EEXIST);
}

/*
 * EVPOLL_SUBMIT_ERR_NOWAIT: a refused change makes a blocking wait return
 * at once (bounded by alarm(), whose default action fails the test); a
 * call whose changes all succeed still blocks; the flag needs a wait.
 */
TEST_F(submit, err_nowait)
{
	struct evpoll_submit s = {
		.size = sizeof(s),
		.flags = EVPOLL_SUBMIT_WAIT | EVPOLL_SUBMIT_ERR_NOWAIT,
		.maxevents = 4, .timeout = -1,
	};
	struct epoll_event ev[4];
	evp_chg c[2];

	c[0] = evp_chg_make(EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 1);
	c[1] = evp_chg_make(EVPOLL_CTL_MOD, self->q[0], EPOLLIN, 2);
	s.changes = (uintptr_t)c;
	s.nchanges = 2;
	s.events = (uintptr_t)ev;
	alarm(5);
	EXPECT_EQ(evp_submit_args(self->evfd, &s), 0);
	alarm(0);
	EXPECT_EQ(c[0].result, 0);
	EXPECT_EQ(c[1].result, -ENOENT);

	/* All succeed: the wait blocks until its timeout (50 ms). */
	c[0] = evp_chg_make(EVPOLL_CTL_ADD, self->q[0], EPOLLIN, 2);
	s.nchanges = 1;
	s.timeout = 50 * 1000000LL;
	EXPECT_EQ(evp_submit_args(self->evfd, &s), 0);
	EXPECT_EQ(c[0].result, 0);

	/* Without EVPOLL_SUBMIT_WAIT the flag is refused. */
	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.flags = EVPOLL_SUBMIT_ERR_NOWAIT;
	EXPECT_EQ(evp_submit_args(self->evfd, &s), -EINVAL);
}

/* An event a change of the call causes is reported by that call's wait. */
TEST_F(submit, change_and_wait)
{
	struct epoll_event ev[4];
	evp_chg c[2];

	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	c[0] = evp_chg_make(EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 7);
	c[1] = evp_chg_make(EVPOLL_CTL_ADD, self->q[1], EPOLLOUT, 8);
	ASSERT_EQ(evp_submit_wait(self->evfd, c, 2, ev, 4, 0, 0, 0), 2);
	EXPECT_EQ(c[0].result, 0);
	EXPECT_EQ(c[1].result, 0);
	EXPECT_EQ(ev[0].data.u64 + ev[1].data.u64, 15);

	/* MOD away EPOLLOUT and wait, in one call: nothing from q[1]. */
	c[0] = evp_chg_make(EVPOLL_CTL_MOD, self->q[1], EPOLLIN, 8);
	ASSERT_EQ(evp_submit_wait(self->evfd, c, 1, ev, 4, 0, 0, 0), 1);
	EXPECT_EQ(ev[0].data.u64, 7);
	/* A blocking wait with a change that makes an fd ready returns. */
	c[0] = evp_chg_make(EVPOLL_CTL_DEL, self->p[0], 0, 0);
	c[1] = evp_chg_make(EVPOLL_CTL_MOD, self->q[1], EPOLLOUT, 9);
	ASSERT_EQ(evp_submit_wait(self->evfd, c, 2, ev, 4, -1, 0, 0), 1);
	EXPECT_EQ(ev[0].data.u64, 9);
}

/*
 * A fault in the middle: the array runs into a PROT_NONE page at entry
 * k.  The call fails with EFAULT, nchanged says k, entries before k were
 * applied with their results, k and after were not.
 */
TEST_F(submit, fault_in_the_middle)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct epoll_event ev[2];
	struct evpoll_submit s;
	unsigned int k = 3;
	evp_chg *c;
	char *map;

	map = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(map, MAP_FAILED);
	ASSERT_EQ(mprotect(map + pg, pg, PROT_NONE), 0);
	c = (evp_chg *)(map + pg - k * sizeof(*c));
	c[0] = evp_chg_make(EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 1);
	c[1] = evp_chg_make(EVPOLL_CTL_MOD, self->q[0], EPOLLIN, 2);
	c[2] = evp_chg_make(EVPOLL_CTL_ADD, self->q[0], EPOLLIN, 3);
	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.flags = EVPOLL_SUBMIT_WAIT;
	s.changes = (uintptr_t)c;
	s.nchanges = k + 2;
	s.events = (uintptr_t)ev;
	s.maxevents = 2;
	s.nchanged = 12345;
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	EXPECT_EQ(evp_submit_args(self->evfd, &s), -EFAULT);
	EXPECT_EQ(s.nchanged, k);
	EXPECT_EQ(c[0].result, 0);
	EXPECT_EQ(c[1].result, -ENOENT);
	EXPECT_EQ(c[2].result, 0);
	/* Applied: both are watched now.  No wait was made: p is ready. */
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 0),
		  -EEXIST);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->q[0], EPOLLIN, 0),
		  -EEXIST);
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);

	/* An array that is read-only: nothing applied, nchanged 0. */
	c = (evp_chg *)map;
	c[0] = evp_chg_make(EVPOLL_CTL_DEL, self->p[0], 0, 0);
	ASSERT_EQ(mprotect(map, pg, PROT_READ), 0);
	s.changes = (uintptr_t)c;
	s.nchanges = 1;
	s.flags = 0;
	s.events = 0;
	s.maxevents = 0;
	EXPECT_EQ(evp_submit_args(self->evfd, &s), -EFAULT);
	EXPECT_EQ(s.nchanged, 0);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 0),
		  -EEXIST);
	munmap(map, 2 * pg);
}

/* An address no task may pass (x86-64 direct map). */
#define KERNEL_ADDR	0xffff888000000000ULL

/* Call-level errors: nothing of the batch is applied. */
TEST_F(submit, call_level_errors)
{
	struct {
		struct evpoll_submit s;
		uint64_t tail;
	} big;
	struct epoll_event ev[2];
	evp_chg c[2], *many;
	struct evpoll_submit s;
	sigset_t set;

#define RESET() do {							\
	memset(&s, 0, sizeof(s));					\
	s.size = sizeof(s);						\
	s.changes = (uintptr_t)c;					\
	s.nchanges = 1;							\
	c[0] = evp_chg_make(EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 1);	\
} while (0)

	RESET();
	s.__reserved = 1;
	EXPECT_EQ(evp_submit_args(self->evfd, &s), -EINVAL);
	RESET();
	s.flags = 1U << 31;
	EXPECT_EQ(evp_submit_args(self->evfd, &s), -EINVAL);
	RESET();
	s.size = 8;
	EXPECT_EQ(evp_submit_args(self->evfd, &s), -EINVAL);
	RESET();
	s.nchanges = EVPOLL_SUBMIT_MAX + 1;
	EXPECT_EQ(evp_submit_args(self->evfd, &s), -EINVAL);
	RESET();
	s.changes = KERNEL_ADDR;
	EXPECT_EQ(evp_submit_args(self->evfd, &s), -EFAULT);
	/* Wait arguments without EVPOLL_SUBMIT_WAIT. */
	RESET();
	s.maxevents = 2;
	EXPECT_EQ(evp_submit_args(self->evfd, &s), -EINVAL);
	/* Bad wait arguments. */
	RESET();
	s.flags = EVPOLL_SUBMIT_WAIT;
	s.events = (uintptr_t)ev;
	s.maxevents = 0;
	EXPECT_EQ(evp_submit_args(self->evfd, &s), -EINVAL);
	s.maxevents = 2;
	s.min_wait = -1;
	EXPECT_EQ(evp_submit_args(self->evfd, &s), -EINVAL);
	s.min_wait = 0;
	/*
	 * A kernel address, refused by access_ok() before any change: also
	 * from a 32-bit task, where every 32-bit address passes access_ok()
	 * and a bad one only faults when the kernel writes an event.
	 */
	s.events = KERNEL_ADDR;
	EXPECT_EQ(evp_submit_args(self->evfd, &s), -EFAULT);
	s.events = (uintptr_t)ev;
	sigemptyset(&set);
	s.sigmask = (uintptr_t)&set;
	s.sigsetsize = 4;
	EXPECT_EQ(evp_submit_args(self->evfd, &s), -EINVAL);
	s.sigsetsize = 8;
	s.sigmask = KERNEL_ADDR;
	EXPECT_EQ(evp_submit_args(self->evfd, &s), -EFAULT);
	EXPECT_EQ(c[0].result, 1);	/* never attempted */
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_DEL, self->p[0], 0, 0),
		  -ENOENT);

	/* A larger struct: a zero tail is fine, a non-zero one is E2BIG. */
	memset(&big, 0, sizeof(big));
	big.s.size = sizeof(big);
	big.s.changes = (uintptr_t)c;
	big.s.nchanges = 1;
	big.tail = 1;
	EXPECT_EQ(evp_submit_args(self->evfd, &big.s), -E2BIG);
	big.tail = 0;
	EXPECT_EQ(evp_submit_args(self->evfd, &big.s), 0);
	EXPECT_EQ(c[0].result, 0);

	/* Not an instance: the device's ENOTTY. */
	EXPECT_EQ(evp_submit_args(self->p[0], &big.s), -ENOTTY);

	/* EVPOLL_SUBMIT_MAX changes in one call are fine. */
	many = calloc(EVPOLL_SUBMIT_MAX, sizeof(*many));
	ASSERT_NE(many, NULL);
	for (int i = 0; i < EVPOLL_SUBMIT_MAX; i++)
		many[i] = evp_chg_make(EVPOLL_CTL_MOD, self->p[0], EPOLLIN, i);
	EXPECT_EQ(evp_submit(self->evfd, many, EVPOLL_SUBMIT_MAX), 0);
	EXPECT_EQ(many[EVPOLL_SUBMIT_MAX - 1].result, 0);
	free(many);
#undef RESET
}

/* EVPOLL_IOC_CTL stays epoll_ctl: the new ops are EINVAL, flags ignored. */
TEST_F(submit, plain_ctl_unchanged)
{
	struct epoll_event ev[2];

	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_DISABLE, self->p[0], 0, 0),
		  -EINVAL);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ENABLE, self->p[0], 0, 0),
		  -EINVAL);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_DEL_NOTIFY, self->p[0], 0, 0),
		  -EINVAL);
	EXPECT_EQ(evp_ctl(self->evfd, 0x80000001, self->p[0], EPOLLIN, 0),
		  -EINVAL);
	/* EVPOLLDISPATCH through CTL is an unknown bit: level-triggered. */
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0],
			  EPOLLIN | EVPOLLDISPATCH | EVPOLLREMOVED, 5), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_DEL, self->p[0], 0, 0), 0);
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 0);	/* no tombstone */
	/* A user event id is no fd for CTL. */
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_DEL, EVPOLL_USER_ID_BASE, 0,
			  0), -EBADF);
}

TEST_HARNESS_MAIN
