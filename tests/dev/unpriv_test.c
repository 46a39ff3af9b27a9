// SPDX-License-Identifier: GPL-2.0
/*
 * unpriv_test - what an unprivileged user sees and may do: the /sys
 * counters of all users' instances are root's only; a user drives the
 * device fully (CTL, WAIT, VERSION, nesting) within their own watch limit.
 * Run as root, each case drops to uid/gid 65534 in a child; run as a user
 * (the unprivileged pass of make check), it runs as that user.
 */
#include <grp.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "evp.h"
#include "kselftest_harness.h"

#define NOBODY	65534

/*
 * Run @fn in a child, as uid/gid @uid if we are root: its exit status
 * (0 = every check in it held), or -1.
 */
static int as_user(uid_t uid, int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (geteuid() == 0 &&
		    (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
		     setresuid(uid, uid, uid)))
			_exit(100);
		/* Keep /proc/self/fdinfo readable after the uid change. */
		prctl(PR_SET_DUMPABLE, 1);
		_exit(fn(arg));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int sysfs_unreadable(void *arg)
{
	static const char *const names[] = { "instances", "instances_created" };
	char path[128];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/sys/class/misc/evpoll/%s",
			 names[i]);
		if (open(path, O_RDONLY) >= 0)
			return 1 + i;
		if (errno != EACCES)
			return 10 + i;
	}
	return 0;
}

/* The counters of every user's instances are root's (mode 0400). */
TEST(sysfs_counters_root_only)
{
	struct stat st;

	ASSERT_EQ(stat("/sys/class/misc/evpoll/instances", &st), 0);
	EXPECT_EQ(st.st_mode & 0777, 0400);
	ASSERT_EQ(stat("/sys/class/misc/evpoll/instances_created", &st), 0);
	EXPECT_EQ(st.st_mode & 0777, 0400);
	EXPECT_EQ(as_user(NOBODY, sysfs_unreadable, NULL), 0);
}

/* Everything the ABI offers works for a user. */
static int full_use(void *arg)
{
	struct evpoll_version v = { .size = sizeof(v) };
	int a = evp_open(), b = evp_open(), efd = eventfd(1, 0);
	struct epoll_event ev;

	if (a < 0 || b < 0 || efd < 0)
		return 1;
	if (ioctl(a, EVPOLL_IOC_VERSION, &v) || v.abi_version != 1)
		return 2;
	if (evp_ctl(a, EVPOLL_CTL_ADD, efd, EPOLLIN, 7))
		return 3;
	if (evp_ctl(a, EVPOLL_CTL_MOD, efd, EPOLLIN | EPOLLET, 8))
		return 4;
	if (evp_wait(a, &ev, 1, 0) != 1 || ev.data.u64 != 8)
		return 5;
	/* Nested: b watches a, which has efd ready (edge: re-arm). */
	if (evp_ctl(a, EVPOLL_CTL_MOD, efd, EPOLLIN, 9))
		return 6;
	if (evp_ctl(b, EVPOLL_CTL_ADD, a, EPOLLIN, 10))
		return 7;
	if (evp_wait(b, &ev, 1, 0) != 1 || ev.data.u64 != 10)
		return 8;
	if (evp_counter(a, "evpoll-user-watches") != 2)
		return 9;
	if (evp_ctl(a, EVPOLL_CTL_DEL, efd, 0, 0))
		return 10;
	close(b);
	close(a);
	close(efd);
	return 0;
}

TEST(user_full_use)
{
	EXPECT_EQ(as_user(NOBODY, full_use, NULL), 0);
}

struct limit_arg {
	long long limit;
};

/* Fill the user's limit: the next ADD is ENOSPC, for this user only. */
static int fill_limit(void *arg)
{
	struct limit_arg *la = arg;
	int evfd = evp_open(), i, efd;

	if (evfd < 0)
		return 1;
	if (evp_counter(evfd, "evpoll-user-watches") != 0)
		return 2;
	for (i = 0; i < la->limit; i++) {
		efd = eventfd(0, 0);
		if (efd < 0 || evp_ctl(evfd, EVPOLL_CTL_ADD, efd, EPOLLIN, i))
			return 3;
	}
	efd = eventfd(0, 0);
	if (evp_ctl(evfd, EVPOLL_CTL_ADD, efd, EPOLLIN, 0) != -ENOSPC)
		return 4;
	return 0;
}

/* As root: the limit binds a user, and each user separately. */
TEST(limit_binds_each_user)
{
	struct limit_arg la = { .limit = 8 };
	long long saved = evp_param("max_user_watches");
	int evfd, efd, i;

	if (geteuid() != 0) {
		/* A user cannot change the limit. */
		EXPECT_EQ(evp_set_param("max_user_watches", 1), -EACCES);
		EXPECT_EQ(evp_param("max_user_watches"), saved);
		return;
	}
	ASSERT_GT(saved, 0);
	evfd = evp_open();
	ASSERT_GE(evfd, 0);
	ASSERT_EQ(evp_set_param("max_user_watches",
				evp_counter(evfd, "evpoll-user-watches") +
				la.limit), 0);
	EXPECT_EQ(as_user(NOBODY, fill_limit, &la), 0);
	EXPECT_EQ(as_user(NOBODY - 1, fill_limit, &la), 0);
	/* Root's own count was not touched by theirs. */
	for (i = 0; i < la.limit; i++) {
		efd = eventfd(0, 0);
		EXPECT_EQ(evp_ctl(evfd, EVPOLL_CTL_ADD, efd, EPOLLIN, 0), 0);
	}
	close(evfd);
	evp_set_param("max_user_watches", saved);
}

TEST_HARNESS_MAIN
