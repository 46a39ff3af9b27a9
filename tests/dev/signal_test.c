// SPDX-License-Identifier: GPL-2.0
/*
 * signal_test - the WAIT signal mask (epoll_pwait semantics) and EINTR.
 *
 *   t0 --(wait, mask)--> e0 --(lt)--> pipe
 *   t1 --kill(SIGUSR1)--> t0
 */
#include <pthread.h>
#include <sys/syscall.h>

#include "evp.h"
#include "kselftest_harness.h"

static volatile sig_atomic_t got_usr1;
static volatile sig_atomic_t usr1_blocked_in_handler;

static void on_usr1(int sig)
{
	sigset_t cur;

	got_usr1++;
	/* The handler runs with the wait's mask still in force (plus sig). */
	sigprocmask(SIG_BLOCK, NULL, &cur);
	usr1_blocked_in_handler = sigismember(&cur, SIGUSR2);
}

struct killer {
	pid_t tid;
	int delay_ms;
	int sig;
};

/* Signals @k->tid once it sleeps (in its wait) and @k->delay_ms more. */
static void *kill_later(void *arg)
{
	struct killer *k = arg;

	evp_tasks_asleep(&k->tid, 1);
	usleep(k->delay_ms * 1000);
	syscall(SYS_tgkill, getpid(), k->tid, k->sig);
	return NULL;
}

FIXTURE(sig) {
	int evfd;
	int p[2];
	sigset_t orig;
};

FIXTURE_SETUP(sig)
{
	struct sigaction sa = { .sa_handler = on_usr1 };

	self->evfd = evp_open();
	ASSERT_GE(self->evfd, 0);
	ASSERT_EQ(pipe2(self->p, O_NONBLOCK), 0);
	ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 0), 0);
	ASSERT_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	got_usr1 = 0;
	sigprocmask(SIG_SETMASK, NULL, &self->orig);
}

FIXTURE_TEARDOWN(sig)
{
	close(self->p[0]);
	close(self->p[1]);
	close(self->evfd);
}

static int wait_mask(int evfd, long long tmo, const sigset_t *mask,
		     unsigned int setsize)
{
	struct epoll_event ev;
	struct evpoll_wait w = {
		.events = (uintptr_t)&ev, .maxevents = 1, .timeout = tmo,
		.sigmask = (uintptr_t)mask, .sigsetsize = setsize,
	};

	return evp_wait_args(evfd, &w);
}

/* A signal during a plain wait interrupts it with EINTR. */
TEST_F(sig, signal_interrupts_wait)
{
	struct killer k = { .tid = gettid(), .delay_ms = 0, .sig = SIGUSR1 };
	pthread_t t;

	ASSERT_EQ(pthread_create(&t, NULL, kill_later, &k), 0);
	EXPECT_EQ(wait_mask(self->evfd, 60 * NSEC_PER_SEC, NULL, 0), -EINTR);
	EXPECT_EQ(got_usr1, 1);
	pthread_join(t, NULL);
}

/* Blocked outside, unblocked by the wait's mask: pwait's atomic unblock. */
TEST_F(sig, mask_unblocks_during_wait)
{
	sigset_t block, waitmask, after;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	ASSERT_EQ(sigprocmask(SIG_BLOCK, &block, NULL), 0);
	/* Pending before the wait: delivered as soon as the mask opens. */
	ASSERT_EQ(raise(SIGUSR1), 0);
	EXPECT_EQ(got_usr1, 0);

	sigemptyset(&waitmask);
	sigaddset(&waitmask, SIGUSR2);	/* visible in the handler */
	usr1_blocked_in_handler = 0;
	EXPECT_EQ(wait_mask(self->evfd, 10 * NSEC_PER_SEC, &waitmask, 8), -EINTR);
	EXPECT_EQ(got_usr1, 1);
	EXPECT_TRUE(usr1_blocked_in_handler);
	/* The original mask is back after the handler. */
	sigprocmask(SIG_SETMASK, NULL, &after);
	EXPECT_TRUE(sigismember(&after, SIGUSR1));
	EXPECT_FALSE(sigismember(&after, SIGUSR2));
	sigprocmask(SIG_SETMASK, &self->orig, NULL);
}

/* Unblocked outside, blocked by the wait's mask: no EINTR, timeout. */
TEST_F(sig, mask_blocks_during_wait)
{
	struct killer k = { .tid = gettid(), .delay_ms = 20, .sig = SIGUSR1 };
	sigset_t waitmask;
	pthread_t t;

	sigemptyset(&waitmask);
	sigaddset(&waitmask, SIGUSR1);
	ASSERT_EQ(pthread_create(&t, NULL, kill_later, &k), 0);
	EXPECT_EQ(wait_mask(self->evfd, 300 * NSEC_PER_MSEC, &waitmask, 8), 0);
	pthread_join(t, NULL);
	/* The mask is restored on return: the signal is delivered now. */
	EXPECT_EQ(got_usr1, 1);
}

/* Events ready win over a pending signal (ep_poll() order). */
TEST_F(sig, events_win_over_pending_signal)
{
	sigset_t block, waitmask;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	ASSERT_EQ(sigprocmask(SIG_BLOCK, &block, NULL), 0);
	ASSERT_EQ(raise(SIGUSR1), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	sigemptyset(&waitmask);
	EXPECT_EQ(wait_mask(self->evfd, -1, &waitmask, 8), 1);
	/* The mask came back without the handler running... */
	EXPECT_EQ(got_usr1, 0);
	/* ...and the signal is still pending for later. */
	sigprocmask(SIG_SETMASK, &self->orig, NULL);
	EXPECT_EQ(got_usr1, 1);
}

TEST_F(sig, bad_sigsetsize_einval)
{
	sigset_t m;

	sigemptyset(&m);
	EXPECT_EQ(wait_mask(self->evfd, 0, &m, 4), -EINVAL);
	EXPECT_EQ(wait_mask(self->evfd, 0, &m, 16), -EINVAL);
	/* No mask: the size is not looked at, as epoll_pwait. */
	EXPECT_EQ(wait_mask(self->evfd, 0, NULL, 3), 0);
}

TEST_F(sig, bad_sigmask_pointer_efault)
{
	EXPECT_EQ(wait_mask(self->evfd, 0, (sigset_t *)8, 8), -EFAULT);
}

/* SIGKILL cannot be blocked by the wait's mask. */
TEST_F(sig, sigkill_not_blockable)
{
	pid_t pid = fork();
	int status;

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		sigset_t all;

		sigfillset(&all);
		wait_mask(self->evfd, -1, &all, 8);
		_exit(0);
	}
	usleep(100 * 1000);
	kill(pid, SIGKILL);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST_HARNESS_MAIN
