// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * sigio_test.c - the sigio backend must not touch what it does not own:
 * the file's owner, signal and O_ASYNC are restored by DEL, even after the
 * user closed the fd; the program's own signals and handlers keep
 * working; what cannot work is refused.  Scenarios that used to kill the
 * process run in a child, and the parent checks how it ended.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evpoll.h"
#include "kselftest_harness.h"
#include "helpers.h"

static volatile sig_atomic_t got_sig;

static void on_sig(int sig)
{
	got_sig = sig;
}

/* Run @fn in a child; its exit status, or 128 + the signal that ended it. */
static int in_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn());
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
				     WEXITSTATUS(status);
}

/*
 * 13a: a registered pipe kept open by a dup, its fd closed without DEL,
 * the poller freed, the pipe written: the file must not signal any more.
 */
static int closed_without_del(void)
{
	struct evpoll_poller *p;
	int pfd[2], keep;

	if (pipe2(pfd, O_CLOEXEC) < 0 ||
	    evpoll_poller_new(EVPOLL_BACKEND_SIGIO, 0, &p) < 0 ||
	    evpoll_poller_add(p, pfd[0], EPOLLIN, 0) < 0)
		return 10;
	keep = dup(pfd[0]);
	close(pfd[0]);
	evpoll_poller_free(p);
	if (write(pfd[1], "x", 1) != 1)
		return 11;
	if (fcntl(keep, F_GETFL) & O_ASYNC)
		return 12;
	return 0;
}

TEST(sigio_closed_without_del_does_not_kill)
{
	EXPECT_EQ(0, in_child(closed_without_del));
}

/*
 * 13b: a program that set O_ASYNC and F_SETOWN itself for its own SIGIO
 * handler: ADD, DEL, free, write: its handler runs, with SIGIO, and the
 * owner and signal are what it set.
 */
static int own_o_async(void)
{
	struct sigaction sa = { .sa_handler = on_sig };
	struct f_owner_ex own;
	struct evpoll_poller *p;
	int pfd[2];

	if (sigaction(SIGIO, &sa, NULL) < 0 || pipe2(pfd, O_CLOEXEC) < 0 ||
	    fcntl(pfd[0], F_SETOWN, getpid()) < 0 ||
	    fcntl(pfd[0], F_SETFL, O_ASYNC) < 0)
		return 10;
	if (evpoll_poller_new(EVPOLL_BACKEND_SIGIO, 0, &p) < 0 ||
	    evpoll_poller_add(p, pfd[0], EPOLLIN, 0) < 0 ||
	    evpoll_poller_del(p, pfd[0]) < 0)
		return 11;
	if (fcntl(pfd[0], F_GETSIG) != 0)
		return 12;
	if (fcntl(pfd[0], F_GETOWN_EX, &own) < 0 ||
	    own.type != F_OWNER_PID || own.pid != getpid())
		return 13;
	if (!(fcntl(pfd[0], F_GETFL) & O_ASYNC))
		return 14;
	/* Registered again, then freed: restored as well. */
	if (evpoll_poller_add(p, pfd[0], EPOLLIN, 0) < 0)
		return 15;
	evpoll_poller_free(p);
	if (fcntl(pfd[0], F_GETSIG) != 0 ||
	    fcntl(pfd[0], F_GETOWN_EX, &own) < 0 || own.pid != getpid())
		return 16;
	got_sig = 0;
	if (write(pfd[1], "x", 1) != 1)
		return 17;
	return got_sig == SIGIO ? 0 : 18;
}

TEST(sigio_del_restores_owner_signal_and_o_async)
{
	EXPECT_EQ(0, in_child(own_o_async));
}

/* 14: the program's own SIGRTMAX handler keeps its signal. */
static int own_rtmax(void)
{
	struct sigaction sa = { .sa_handler = on_sig };
	struct evpoll_poller *p;
	sigset_t set;
	int pfd[2], sig;

	if (sigaction(SIGRTMAX, &sa, NULL) < 0 || pipe2(pfd, O_CLOEXEC) < 0)
		return 10;
	/* A signal the program blocks is not free either. */
	sigemptyset(&set);
	sigaddset(&set, SIGRTMAX - 1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (evpoll_poller_new(EVPOLL_BACKEND_SIGIO, 0, &p) < 0 ||
	    evpoll_poller_add(p, pfd[0], EPOLLIN, 0) < 0)
		return 11;
	sig = fcntl(pfd[0], F_GETSIG);
	if (sig == SIGRTMAX || sig == SIGRTMAX - 1 || sig < SIGRTMIN)
		return 12;
	got_sig = 0;
	raise(SIGRTMAX);
	if (got_sig != SIGRTMAX)
		return 13;
	evpoll_poller_free(p);
	return 0;
}

TEST(sigio_leaves_the_programs_realtime_signals_alone)
{
	EXPECT_EQ(0, in_child(own_rtmax));
}

/*
 * 14: a SIGIO sent to the program (kill(), not an overflow) reaches its
 * handler, during a wait (which returns -EINTR, as epoll_wait() would)
 * and when it is pending at free.
 */
static int own_sigio(void)
{
	struct sigaction sa = { .sa_handler = on_sig };
	struct evpoll_poller_event ev[4];
	struct evpoll_poller *p;
	int pfd[2], n;

	if (sigaction(SIGIO, &sa, NULL) < 0 || pipe2(pfd, O_CLOEXEC) < 0)
		return 10;
	if (evpoll_poller_new(EVPOLL_BACKEND_SIGIO, 0, &p) < 0 ||
	    evpoll_poller_add(p, pfd[0], EPOLLIN, 0) < 0)
		return 11;
	got_sig = 0;
	kill(getpid(), SIGIO);
	n = evpoll_poller_wait(p, ev, 4, 100);
	if (got_sig != SIGIO)
		return 12;
	if (n != -EINTR)
		return 13;
	got_sig = 0;
	kill(getpid(), SIGIO);
	evpoll_poller_free(p);
	return got_sig == SIGIO ? 0 : 14;
}

TEST(sigio_leaves_the_programs_sigio_alone)
{
	EXPECT_EQ(0, in_child(own_sigio));
}

struct other_wait {
	struct evpoll_poller *p;
	int ret;
	int64_t ms;
};

static void *wait_thread(void *arg)
{
	struct other_wait *w = arg;
	struct evpoll_poller_event ev[4];
	int64_t t0 = now_ms();

	w->ret = evpoll_poller_wait(w->p, ev, 4, 2000);
	w->ms = now_ms() - t0;
	return NULL;
}

/* 14: a wait from another thread than the creator is refused at once. */
TEST(sigio_wait_from_another_thread_is_refused)
{
	struct other_wait w = { .ret = 1 };
	pthread_t t;
	int pfd[2];

	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_SIGIO, 0, &w.p));
	ASSERT_EQ(0, evpoll_poller_add(w.p, pfd[0], EPOLLIN, 0));
	ASSERT_EQ(0, pthread_create(&t, NULL, wait_thread, &w));
	ASSERT_EQ(1, write(pfd[1], "x", 1));
	pthread_join(t, NULL);
	EXPECT_EQ(-EPERM, w.ret);
	EXPECT_GT(1000, w.ms);
	evpoll_poller_free(w.p);
	close(pfd[0]);
	close(pfd[1]);
}

/* 14: a file without ->fasync never signals: refused at ADD. */
TEST(sigio_refuses_files_without_fasync)
{
	struct evpoll_poller *p;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int ret;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_SIGIO, 0, &p));
	ret = evpoll_poller_add(p, fd, EPOLLIN, 0);
	/* poller.c may refuse it first, as epoll does (no ->poll). */
	if (ret != -EPERM)
		EXPECT_EQ(-EOPNOTSUPP, ret);
	EXPECT_FALSE(fcntl(fd, F_GETFL) & O_ASYNC);
	EXPECT_EQ(0, fcntl(fd, F_GETSIG));
	evpoll_poller_free(p);
	close(fd);
}

TEST_HARNESS_MAIN
