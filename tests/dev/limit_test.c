// SPDX-License-Identifier: GPL-2.0
/*
 * limit_test - the per-user watch limit (epoll's max_user_watches): ENOSPC
 * past it, counted across all of one user's instances, per real uid.
 */
#include <sys/eventfd.h>
#include <sys/wait.h>

#include <sys/prctl.h>

#include "evp.h"
#include "kselftest_harness.h"

FIXTURE(limit) {
	long long saved;
};

FIXTURE_SETUP(limit)
{
	/* A SKIP here would not stop the body (6.1 harness): fail instead. */
	ASSERT_EQ(geteuid(), 0) TH_LOG("setting max_user_watches needs root");
	self->saved = evp_param("max_user_watches");
	ASSERT_GT(self->saved, 0);
	/* 4% of low memory / item cost, as epoll: far above a few hundred. */
	EXPECT_GT(self->saved, 1000);
}

FIXTURE_TEARDOWN(limit)
{
	if (self->saved > 0)
		evp_set_param("max_user_watches", self->saved);
}

TEST_F(limit, enospc_past_limit)
{
	int evfd = evp_open(), efd[12], i;
	long long base;

	ASSERT_GE(evfd, 0);
	base = evp_counter(evfd, "evpoll-user-watches");
	ASSERT_GE(base, 0);
	ASSERT_EQ(evp_set_param("max_user_watches", base + 10), 0);
	for (i = 0; i < 12; i++) {
		efd[i] = eventfd(0, 0);
		ASSERT_GE(efd[i], 0);
	}
	for (i = 0; i < 10; i++)
		EXPECT_EQ(evp_ctl(evfd, EVPOLL_CTL_ADD, efd[i], EPOLLIN, i), 0);
	EXPECT_EQ(evp_ctl(evfd, EVPOLL_CTL_ADD, efd[10], EPOLLIN, 0), -ENOSPC);
	/* DEL gives the charge back. */
	EXPECT_EQ(evp_ctl(evfd, EVPOLL_CTL_DEL, efd[0], 0, 0), 0);
	EXPECT_EQ(evp_ctl(evfd, EVPOLL_CTL_ADD, efd[10], EPOLLIN, 0), 0);
	EXPECT_EQ(evp_ctl(evfd, EVPOLL_CTL_ADD, efd[11], EPOLLIN, 0), -ENOSPC);
	/* MOD is not an extra watch. */
	EXPECT_EQ(evp_ctl(evfd, EVPOLL_CTL_MOD, efd[1], EPOLLOUT, 0), 0);
	close(evfd);
	for (i = 0; i < 12; i++)
		close(efd[i]);
}

/* The limit counts all instances of one user together. */
TEST_F(limit, shared_across_instances)
{
	int e1 = evp_open(), e2 = evp_open(), efd = eventfd(0, 0);
	long long base;

	ASSERT_GE(e1, 0);
	ASSERT_GE(e2, 0);
	base = evp_counter(e1, "evpoll-user-watches");
	ASSERT_EQ(evp_set_param("max_user_watches", base + 1), 0);
	EXPECT_EQ(evp_ctl(e1, EVPOLL_CTL_ADD, efd, EPOLLIN, 0), 0);
	EXPECT_EQ(evp_ctl(e2, EVPOLL_CTL_ADD, efd, EPOLLIN, 0), -ENOSPC);
	/* Closing an instance gives its charges back. */
	close(e1);
	EXPECT_EQ(evp_ctl(e2, EVPOLL_CTL_ADD, efd, EPOLLIN, 0), 0);
	close(e2);
	close(efd);
}

/* Another real uid has its own count. */
TEST_F(limit, per_user)
{
	int evfd = evp_open(), efd = eventfd(0, 0), status;
	long long base;
	pid_t pid;

	ASSERT_GE(evfd, 0);
	base = evp_counter(evfd, "evpoll-user-watches");
	ASSERT_EQ(evp_set_param("max_user_watches", base + 1), 0);
	ASSERT_EQ(evp_ctl(evfd, EVPOLL_CTL_ADD, efd, EPOLLIN, 0), 0);
	EXPECT_EQ(evp_ctl(evfd, EVPOLL_CTL_ADD, efd, EPOLLOUT, 0), -EEXIST);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int e;

		if (setresuid(65534, 65534, 65534))
			_exit(2);
		/* Keep /proc/self/fdinfo readable after the uid change. */
		prctl(PR_SET_DUMPABLE, 1);
		e = evp_open();
		if (e < 0)
			_exit(3);
		if (evp_counter(e, "evpoll-user-watches") != 0)
			_exit(4);
		_exit(evp_ctl(e, EVPOLL_CTL_ADD, efd, EPOLLIN, 0) ? 5 : 0);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(WEXITSTATUS(status), 0);
	close(evfd);
	close(efd);
}

TEST_HARNESS_MAIN
