// SPDX-License-Identifier: GPL-2.0
/*
 * stress_test - many threads on one instance at once, bounded in time.
 *
 *   waiters (2) --WAIT--> e0 --(lt)--> sentinel eventfd (always readable)
 *                          | --(lt)--> e1 --(et)--> pool fds
 *                          | --(lt/et/oneshot)--> pool of pipes/eventfds
 *   ctl thread:    ADD/MOD/DEL on e0 and e1 at random
 *   fd thread:     writes, reads, close()s and dup2()s pool fds (so items
 *                  lose their fd without DEL and get reaped)
 *   fork thread:   children that wait on e0 and exit
 *   signal thread: SIGUSR1 at the waiters (EINTR is allowed)
 * At the end the churn stops and the main thread closes e0 while the
 * waiters may still be in WAIT.  Checked: no WAIT ever times out (the sentinel stays ready, so an
 * empty return would be a lost event), the kernel stays quiet (dmesg is
 * scanned by the runner), and every instance is freed afterwards.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "evp.h"
#include "kselftest_harness.h"

#define POOL		64
#define RUN_NS		(6 * NSEC_PER_SEC)

struct stress {
	int e0, e1, sentinel;
	int pool[POOL];
	atomic_bool stop;		/* waiters */
	atomic_bool stop_churn;		/* everyone else */
	atomic_long waits, events, timeouts, eintr, errors, ctls, closes;
	atomic_long forks;
	pid_t waiter_tid[2];
};

static unsigned int rnd(unsigned int *seed)
{
	*seed = *seed * 1103515245 + 12345;
	return *seed >> 8;
}

static void on_usr1(int sig)
{
}

static void *waiter(void *arg)
{
	struct stress *st = arg;
	struct epoll_event ev[16];
	int n;

	while (!atomic_load(&st->stop)) {
		n = evp_wait(st->e0, ev, 16, NSEC_PER_SEC);
		atomic_fetch_add(&st->waits, 1);
		if (n > 0)
			atomic_fetch_add(&st->events, n);
		else if (n == 0)
			atomic_fetch_add(&st->timeouts, 1);
		else if (n == -EINTR)
			atomic_fetch_add(&st->eintr, 1);
		else if (n != -EBADF)	/* e0 closed at the very end */
			atomic_fetch_add(&st->errors, 1);
	}
	return NULL;
}

static void *ctl_thread(void *arg)
{
	static const uint32_t modes[] = {
		EPOLLIN, EPOLLIN | EPOLLET, EPOLLIN | EPOLLONESHOT,
		EPOLLIN | EPOLLOUT, EPOLLOUT | EPOLLET,
	};
	struct stress *st = arg;
	unsigned int seed = 1;

	while (!atomic_load(&st->stop_churn)) {
		int fd = st->pool[rnd(&seed) % POOL];
		int efd = rnd(&seed) % 4 ? st->e0 : st->e1;
		int op = 1 + rnd(&seed) % 3;
		int r = evp_ctl(efd, op, fd, modes[rnd(&seed) % 5], fd);

		atomic_fetch_add(&st->ctls, 1);
		if (r && r != -EEXIST && r != -ENOENT && r != -EBADF &&
		    r != -EPERM)
			atomic_fetch_add(&st->errors, 1);
	}
	return NULL;
}

static void *fd_thread(void *arg)
{
	struct stress *st = arg;
	unsigned int seed = 2;
	uint64_t one = 1;
	char buf[64];

	while (!atomic_load(&st->stop_churn)) {
		int i = rnd(&seed) % POOL, fd = st->pool[i], nfd;

		switch (rnd(&seed) % 4) {
		case 0:
		case 1:
			if (write(fd, &one, 8) < 0)
				(void)0;
			break;
		case 2:
			if (read(fd, buf, sizeof(buf)) < 0)
				(void)0;
			break;
		case 3:
			/* Replace the file under the same number, no DEL. */
			nfd = eventfd(0, EFD_NONBLOCK);
			if (nfd >= 0) {
				dup2(nfd, fd);
				close(nfd);
				atomic_fetch_add(&st->closes, 1);
			}
			break;
		}
	}
	return NULL;
}

static void *fork_thread(void *arg)
{
	struct stress *st = arg;

	while (!atomic_load(&st->stop_churn)) {
		pid_t pid = fork();

		if (pid == 0) {
			struct epoll_event ev[4];
			int i;

			for (i = 0; i < 3; i++)
				evp_wait(st->e0, ev, 4, 10 * NSEC_PER_MSEC);
			_exit(0);
		}
		if (pid > 0) {
			waitpid(pid, NULL, 0);
			atomic_fetch_add(&st->forks, 1);
		}
		usleep(20 * 1000);
	}
	return NULL;
}

static void *signal_thread(void *arg)
{
	struct stress *st = arg;
	int i = 0;

	while (!atomic_load(&st->stop_churn)) {
		if (st->waiter_tid[i & 1])
			syscall(SYS_tgkill, getpid(), st->waiter_tid[i & 1],
				SIGUSR1);
		i++;
		usleep(5 * 1000);
	}
	return NULL;
}

struct tid_arg {
	struct stress *st;
	int idx;
};

static void *waiter_entry(void *arg)
{
	struct tid_arg *ta = arg;

	ta->st->waiter_tid[ta->idx] = gettid();
	return waiter(ta->st);
}

FIXTURE(stress) {
};

FIXTURE_SETUP(stress)
{
}

FIXTURE_TEARDOWN(stress)
{
}

TEST_F_TIMEOUT(stress, everything_at_once, 120)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	static struct stress st;
	struct tid_arg ta[2] = { { &st, 0 }, { &st, 1 } };
	pthread_t t[6];
	long long open_before = evp_sysfs_stat("instances"), t0;
	int i, ne;

	ASSERT_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	st.e0 = evp_open();
	st.e1 = evp_open();
	st.sentinel = eventfd(1, EFD_NONBLOCK);
	ASSERT_GE(st.e0, 0);
	ASSERT_GE(st.e1, 0);
	ASSERT_GE(st.sentinel, 0);
	ASSERT_EQ(evp_ctl(st.e0, EVPOLL_CTL_ADD, st.sentinel, EPOLLIN, ~0ull), 0);
	ASSERT_EQ(evp_ctl(st.e0, EVPOLL_CTL_ADD, st.e1, EPOLLIN, 1), 0);
	for (i = 0; i < POOL; i++) {
		int p[2];

		if (i % 2) {
			st.pool[i] = eventfd(0, EFD_NONBLOCK);
		} else {
			ASSERT_EQ(pipe2(p, O_NONBLOCK), 0);
			st.pool[i] = p[0];
			/* the write end is kept open on purpose (leaks to exit) */
		}
		ASSERT_GE(st.pool[i], 0);
	}

	ASSERT_EQ(pthread_create(&t[0], NULL, waiter_entry, &ta[0]), 0);
	ASSERT_EQ(pthread_create(&t[1], NULL, waiter_entry, &ta[1]), 0);
	ASSERT_EQ(pthread_create(&t[2], NULL, ctl_thread, &st), 0);
	ASSERT_EQ(pthread_create(&t[3], NULL, fd_thread, &st), 0);
	ASSERT_EQ(pthread_create(&t[4], NULL, fork_thread, &st), 0);
	ASSERT_EQ(pthread_create(&t[5], NULL, signal_thread, &st), 0);

	t0 = now_ns();
	while (now_ns() - t0 < RUN_NS)
		usleep(100 * 1000);
	/*
	 * Stop the churn (so no new fd can take e0's number), then close the
	 * instance under the waiters, then stop them.
	 */
	atomic_store(&st.stop_churn, true);
	for (i = 2; i < 6; i++)
		pthread_join(t[i], NULL);
	close(st.e0);
	usleep(100 * 1000);
	atomic_store(&st.stop, true);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	close(st.e1);

	TH_LOG("waits %ld events %ld timeouts %ld eintr %ld ctls %ld closes %ld forks %ld errors %ld",
	       atomic_load(&st.waits), atomic_load(&st.events),
	       atomic_load(&st.timeouts), atomic_load(&st.eintr),
	       atomic_load(&st.ctls), atomic_load(&st.closes),
	       atomic_load(&st.forks), atomic_load(&st.errors));
	EXPECT_GT(atomic_load(&st.waits), 100);
	EXPECT_GT(atomic_load(&st.ctls), 100);
	EXPECT_GT(atomic_load(&st.forks), 2);
	/* The sentinel is always ready: a wait that timed out lost it. */
	EXPECT_EQ(atomic_load(&st.timeouts), 0);
	EXPECT_EQ(atomic_load(&st.errors), 0);

	/* Everything is freed once the last reference is gone. */
	ne = 0;
	while (evp_sysfs_stat("instances") != open_before && ne++ < 50)
		usleep(100 * 1000);
	EXPECT_EQ(evp_sysfs_stat("instances"), open_before);
}

/*
 *   e0 --> e1 --> e2 --> e3, each also watching an eventfd that the
 *   writer thread pokes; waiters on every level.  Wake-ups must climb the
 *   chain without a lockdep report or a lost event.
 */
struct chain {
	int e[4];
	int efd[4];
	atomic_bool stop;
	atomic_long got[4], timeouts;
};

static void *chain_waiter(void *arg)
{
	struct chain *c = ((void **)arg)[0];
	int lvl = (int)(long)((void **)arg)[1];
	struct epoll_event ev[8];
	char buf[8];
	int n, i;

	while (!atomic_load(&c->stop)) {
		n = evp_wait(c->e[lvl], ev, 8, NSEC_PER_SEC);
		if (n > 0)
			atomic_fetch_add(&c->got[lvl], n);
		for (i = 0; i < n; i++)
			if (ev[i].data.u64 >= 100)	/* an eventfd: drain */
				if (read(c->efd[ev[i].data.u64 - 100], buf, 8) < 0)
					(void)0;
	}
	return NULL;
}

TEST_F_TIMEOUT(stress, nested_wakeups, 120)
{
	static struct chain c;
	void *args[4][2];
	pthread_t t[4];
	uint64_t one = 1;
	long long t0;
	int i;

	for (i = 0; i < 4; i++) {
		c.e[i] = evp_open();
		c.efd[i] = eventfd(0, EFD_NONBLOCK);
		ASSERT_GE(c.e[i], 0);
		ASSERT_EQ(evp_ctl(c.e[i], EVPOLL_CTL_ADD, c.efd[i],
				  EPOLLIN | EPOLLET, 100 + i), 0);
		if (i)
			ASSERT_EQ(evp_ctl(c.e[i - 1], EVPOLL_CTL_ADD, c.e[i],
					  EPOLLIN | EPOLLET, i), 0);
	}
	for (i = 0; i < 4; i++) {
		args[i][0] = &c;
		args[i][1] = (void *)(long)i;
		ASSERT_EQ(pthread_create(&t[i], NULL, chain_waiter, args[i]), 0);
	}
	t0 = now_ns();
	i = 0;
	while (now_ns() - t0 < 3 * NSEC_PER_SEC) {
		if (write(c.efd[i++ % 4], &one, 8) != 8)
			break;
		usleep(1000);
	}
	atomic_store(&c.stop, true);
	for (i = 0; i < 4; i++)
		write(c.efd[i], &one, 8);	/* release the waiters */
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 4; i++) {
		EXPECT_GT(atomic_load(&c.got[i]), 0) TH_LOG("level %d", i);
		close(c.e[i]);
		close(c.efd[i]);
	}
}

TEST_HARNESS_MAIN
