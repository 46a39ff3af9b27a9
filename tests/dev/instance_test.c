// SPDX-License-Identifier: GPL-2.0
/*
 * instance_test - the instance file itself: pollable, fdinfo, shared by
 * threads and processes, closed under a waiter, freed at exit.
 */
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "evp.h"
#include "kselftest_harness.h"

FIXTURE(inst) {
	int evfd;
	int p[2];
};

FIXTURE_SETUP(inst)
{
	self->evfd = evp_open();
	ASSERT_GE(self->evfd, 0);
	ASSERT_EQ(pipe2(self->p, O_NONBLOCK), 0);
	ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 1), 0);
}

FIXTURE_TEARDOWN(inst)
{
	close(self->p[0]);
	close(self->p[1]);
	close(self->evfd);
}

static int poll_in(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1 ? pfd.revents : 0;
}

/*
 *   t0 --poll()--> e0 --(lt)--> pipe
 */
TEST_F(inst, readable_under_poll_when_ready)
{
	struct epoll_event ev;

	EXPECT_EQ(poll_in(self->evfd, 0), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	EXPECT_EQ(poll_in(self->evfd, 0), POLLIN);
	/* Still ready after a wait (level-triggered). */
	ASSERT_EQ(evp_wait(self->evfd, &ev, 1, 0), 1);
	EXPECT_EQ(poll_in(self->evfd, 0), POLLIN);
	/* Drained: the instance is not readable although the item was queued. */
	ASSERT_EQ(read(self->p[0], &ev, 1), 1);
	EXPECT_EQ(poll_in(self->evfd, 0), 0);
}

TEST_F(inst, readable_under_select_and_epoll)
{
	struct epoll_event ev;
	struct timeval tv = { 0 };
	fd_set rd;
	int ep = epoll_create1(0);

	ASSERT_GE(ep, 0);
	ev.events = EPOLLIN;
	ev.data.u64 = 77;
	ASSERT_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, self->evfd, &ev), 0);
	EXPECT_EQ(epoll_wait(ep, &ev, 1, 0), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	EXPECT_EQ(epoll_wait(ep, &ev, 1, 1000), 1);
	EXPECT_EQ(ev.data.u64, 77);
	FD_ZERO(&rd);
	FD_SET(self->evfd, &rd);
	EXPECT_EQ(select(self->evfd + 1, &rd, NULL, NULL, &tv), 1);
	close(ep);
}

static void *write_later(void *arg)
{
	int fd = *(int *)arg;

	usleep(100 * 1000);
	if (write(fd, "x", 1) != 1)
		abort();
	return NULL;
}

/* A poll() sleeping on the instance is woken by an event on an item. */
TEST_F(inst, poll_sleeper_woken)
{
	pthread_t t;

	ASSERT_EQ(pthread_create(&t, NULL, write_later, &self->p[1]), 0);
	EXPECT_EQ(poll_in(self->evfd, 10000), POLLIN);
	pthread_join(t, NULL);
}

#define NOT_RETURNED	(-1000)

struct waiter {
	int evfd;
	long long timeout_ns;
	pid_t tid;
	int ret;		/* NOT_RETURNED until the wait returns */
	struct epoll_event ev;
};

static void waiter_init(struct waiter *w, int evfd, long long timeout_ns)
{
	memset(w, 0, sizeof(*w));
	w->evfd = evfd;
	w->timeout_ns = timeout_ns;
	w->ret = NOT_RETURNED;
}

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	int ret;

	evp_set_tid(&w->tid);
	ret = evp_wait(w->evfd, &w->ev, 1, w->timeout_ns);
	__atomic_store_n(&w->ret, ret, __ATOMIC_RELEASE);
	return NULL;
}

static int waiter_ret(struct waiter *w)
{
	return __atomic_load_n(&w->ret, __ATOMIC_ACQUIRE);
}

/* Both waiters sleep in their wait (up to 20 s). */
static bool waiters_asleep(struct waiter w[2])
{
	pid_t tids[2] = { evp_get_tid(&w[0].tid), evp_get_tid(&w[1].tid) };

	return evp_tasks_asleep(tids, 2);
}

/*
 *   t0   t1
 *    \  / (et)
 *     e0 --(et)--> eventfd
 * Two threads wait on one instance; two edges give each one event.
 */
TEST(two_threads_one_instance)
{
	struct waiter w[2];
	pthread_t t[2];
	uint64_t one = 1;
	int evfd = evp_open(), efd = eventfd(0, EFD_NONBLOCK), i;

	ASSERT_GE(evfd, 0);
	ASSERT_EQ(evp_ctl(evfd, EVPOLL_CTL_ADD, efd, EPOLLIN | EPOLLET, 5), 0);
	for (i = 0; i < 2; i++) {
		waiter_init(&w[i], evfd, 30 * NSEC_PER_SEC);
		ASSERT_EQ(pthread_create(&t[i], NULL, wait_thread, &w[i]), 0);
	}
	ASSERT_TRUE(waiters_asleep(w));
	ASSERT_EQ(write(efd, &one, 8), 8);
	/* One has taken the first edge; the other still sleeps. */
	evp_poll_until(waiter_ret(&w[0]) != NOT_RETURNED ||
		       waiter_ret(&w[1]) != NOT_RETURNED, 20000);
	ASSERT_EQ(waiter_ret(&w[0]) == NOT_RETURNED ||
		  waiter_ret(&w[1]) == NOT_RETURNED, true);
	i = waiter_ret(&w[0]) == NOT_RETURNED ? 0 : 1;
	ASSERT_TRUE(evp_tasks_asleep(&w[i].tid, 1));	/* tid published */
	ASSERT_EQ(write(efd, &one, 8), 8);
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(w[i].ret, 1);
		EXPECT_EQ(w[i].ev.data.u64, 5);
	}
	close(efd);
	close(evfd);
}

/*
 * One edge wakes exactly one of two sleeping waiters (exclusive waits):
 * the other keeps sleeping until its timeout.
 */
TEST(one_event_wakes_one_waiter)
{
	struct waiter w[2];
	pthread_t t[2];
	uint64_t one = 1;
	int evfd = evp_open(), efd = eventfd(0, EFD_NONBLOCK), i, got = 0;

	ASSERT_GE(evfd, 0);
	ASSERT_EQ(evp_ctl(evfd, EVPOLL_CTL_ADD, efd, EPOLLIN | EPOLLET, 5), 0);
	for (i = 0; i < 2; i++) {
		waiter_init(&w[i], evfd, 2 * NSEC_PER_SEC);
		ASSERT_EQ(pthread_create(&t[i], NULL, wait_thread, &w[i]), 0);
	}
	ASSERT_TRUE(waiters_asleep(w));
	ASSERT_EQ(write(efd, &one, 8), 8);
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		got += w[i].ret;
	}
	EXPECT_EQ(got, 1);
	close(efd);
	close(evfd);
}

/* Closing the instance fd under a waiter: it finishes normally. */
TEST(close_while_waiting)
{
	struct waiter w;
	pthread_t t;
	int evfd = evp_open(), efd = eventfd(0, EFD_NONBLOCK);
	uint64_t one = 1;
	pid_t tid;

	ASSERT_GE(evfd, 0);
	ASSERT_EQ(evp_ctl(evfd, EVPOLL_CTL_ADD, efd, EPOLLIN, 3), 0);
	waiter_init(&w, evfd, 30 * NSEC_PER_SEC);
	ASSERT_EQ(pthread_create(&t, NULL, wait_thread, &w), 0);
	tid = evp_get_tid(&w.tid);
	ASSERT_TRUE(evp_tasks_asleep(&tid, 1));
	EXPECT_EQ(close(evfd), 0);
	/* The waiter holds its own reference: the event still reaches it. */
	ASSERT_EQ(write(efd, &one, 8), 8);
	pthread_join(t, NULL);
	EXPECT_EQ(w.ret, 1);
	EXPECT_EQ(w.ev.data.u64, 3);
	close(efd);
}

/* A process exits with instances open: its peer sees the sockets close. */
TEST(process_exit_frees_instances)
{
	int sv[2], status;
	char c;
	pid_t pid;

	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int i, e[8];

		close(sv[0]);
		for (i = 0; i < 8; i++) {
			e[i] = evp_open();
			if (e[i] < 0 ||
			    evp_ctl(e[i], EVPOLL_CTL_ADD, sv[1], EPOLLIN, i))
				_exit(1);
		}
		_exit(0);	/* no close, no DEL */
	}
	close(sv[1]);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(WEXITSTATUS(status), 0);
	/* All references are gone: EOF at once. */
	EXPECT_EQ(poll_in(sv[0], 2000) & POLLIN, POLLIN);
	EXPECT_EQ(read(sv[0], &c, 1), 0);
	close(sv[0]);
}

/* A forked child shares the instance, as with epoll. */
TEST_F(inst, fork_shares_instance)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct epoll_event ev;

		_exit(evp_wait(self->evfd, &ev, 1, 5 * NSEC_PER_SEC) == 1 &&
		      ev.data.u64 == 1 ? 0 : 1);
	}
	usleep(100 * 1000);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(WEXITSTATUS(status), 0);
}

/* fdinfo: one epoll-format line per item, in key order, plus counters. */
TEST_F(inst, fdinfo_lists_items)
{
	char buf[8192], want[256];
	struct stat st;
	int efd = eventfd(0, 0);

	ASSERT_GE(efd, 0);
	ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, efd,
			  EPOLLOUT | EPOLLET, 0x1234abcdull), 0);
	ASSERT_GT(evp_fdinfo(self->evfd, buf, sizeof(buf)), 0);

	ASSERT_EQ(fstat(self->p[0], &st), 0);
	snprintf(want, sizeof(want),
		 "tfd: %8d events: %8x data: %16llx  pos:0 ino:%lx sdev:%x\n",
		 self->p[0], EPOLLIN | EPOLLERR | EPOLLHUP, 1ull,
		 (unsigned long)st.st_ino, 0);
	/* sdev is the kernel's s_dev; compare everything before it. */
	*strstr(want, "sdev:") = '\0';
	EXPECT_NE(strstr(buf, want), NULL) TH_LOG("want '%s' in:\n%s", want, buf);

	ASSERT_EQ(fstat(efd, &st), 0);
	snprintf(want, sizeof(want),
		 "tfd: %8d events: %8x data: %16llx  pos:0 ino:%lx ",
		 efd, EPOLLOUT | EPOLLET | EPOLLERR | EPOLLHUP, 0x1234abcdull,
		 (unsigned long)st.st_ino);
	EXPECT_NE(strstr(buf, want), NULL) TH_LOG("want '%s' in:\n%s", want, buf);
	EXPECT_NE(strstr(buf, "\nevpoll-items: 2\n"), NULL);
	EXPECT_NE(strstr(buf, "\nevpoll-ready: 1\n"), NULL);	/* efd writable */
	EXPECT_GE(evp_counter(self->evfd, "evpoll-user-watches"), 2);
	close(efd);
	ASSERT_GT(evp_fdinfo(self->evfd, buf, sizeof(buf)), 0);
	/* efd is closed but pinned until reaped: no DEL was made. */
	EXPECT_GE(evp_counter(self->evfd, "evpoll-items"), 1);
}

/*
 * /sys/class/misc/evpoll/instances{,_created}: opened and closed.  Root
 * only: a user cannot read them (unpriv_test checks that in detail).
 */
TEST(sysfs_instance_counters)
{
	long long open0 = evp_sysfs_stat("instances");
	long long made0 = evp_sysfs_stat("instances_created");
	int e[3], i;

	if (geteuid() != 0) {
		EXPECT_EQ(open0, -1);
		EXPECT_EQ(made0, -1);
		return;
	}
	ASSERT_GE(open0, 0);
	ASSERT_GE(made0, 0);
	for (i = 0; i < 3; i++)
		ASSERT_GE(e[i] = evp_open(), 0);
	EXPECT_EQ(evp_sysfs_stat("instances"), open0 + 3);
	EXPECT_EQ(evp_sysfs_stat("instances_created"), made0 + 3);
	for (i = 0; i < 3; i++)
		close(e[i]);
	EXPECT_EQ(evp_sysfs_stat("instances"), open0);
	EXPECT_EQ(evp_sysfs_stat("instances_created"), made0 + 3);
}

TEST_HARNESS_MAIN
