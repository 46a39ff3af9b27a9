// SPDX-License-Identifier: GPL-2.0
/*
 * aio_pattern_test.c - the completion half chooses its backend by the
 * poller's rules (issue 11, item 18): $EVPOLL_AIO_BACKEND is read as
 * $EVPOLL_BACKEND is (unset or empty: the first available; a name never
 * replaced by another backend; "default" or an unknown name: -EINVAL; an
 * unavailable one: its probe's error), and "no backend available" is the
 * poller's -ENODEV.
 *
 * Backends are made unavailable in a forked child: a seccomp filter makes
 * io_uring_setup(2) and io_setup(2) fail, and sysconf() is wrapped
 * (-Wl,--wrap=sysconf, tests/aio/Makefile) so that libevpoll.a's posix
 * probe sees no _SC_ASYNCHRONOUS_IO.  The poller's poll and select
 * backends cannot be made unavailable, so its "none available" errno is
 * taken from its contract (evpoll_backend_default(3): -ENODEV).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include "kselftest_harness.h"
#include "evpoll.h"

/* The poller's "none available" errno (lib/poller.c). */
#define POLLER_NONE_AVAILABLE	(-ENODEV)

long __real_sysconf(int name);
long __wrap_sysconf(int name);
static int no_posix_aio;

long __wrap_sysconf(int name)
{
	if (no_posix_aio && name == _SC_ASYNCHRONOUS_IO)
		return -1;
	return __real_sysconf(name);
}

/* Make io_uring_setup() and io_setup() fail with @err in this process. */
static int deny_uring_and_linux_aio(int err)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_setup, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K,
			 SECCOMP_RET_ERRNO | ((unsigned int)err & 0xffff)),
	};
	struct sock_fprog prog = {
		.len = sizeof(f) / sizeof(f[0]),
		.filter = f,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static void setenv_both(const char *value)
{
	if (value) {
		setenv("EVPOLL_BACKEND", value, 1);
		setenv("EVPOLL_AIO_BACKEND", value, 1);
	} else {
		unsetenv("EVPOLL_BACKEND");
		unsetenv("EVPOLL_AIO_BACKEND");
	}
}

/* Success collapsed to 0: the two enums differ, the errors must not. */
static int outcome(int ret)
{
	return ret < 0 ? ret : 0;
}

static int poller_new_default(void)
{
	struct evpoll_poller *p;
	int ret = evpoll_poller_new(EVPOLL_BACKEND_DEFAULT, 0, &p);

	if (!ret)
		evpoll_poller_free(p);
	return ret;
}

static int aio_new_default(void)
{
	struct evpoll_aio *ctx;
	int ret = evpoll_aio_new(EVPOLL_AIO_BACKEND_DEFAULT, 0, 0, &ctx);

	if (!ret)
		evpoll_aio_free(ctx);
	return ret;
}

/* The same answer from both halves for $EVPOLL[_AIO]_BACKEND=@value. */
static void same_rule(struct __test_metadata *_metadata, const char *value)
{
	setenv_both(value);
	EXPECT_EQ(outcome(evpoll_backend_default()),
		  outcome(evpoll_aio_backend_default())) {
		TH_LOG("backend_default with \"%s\": poller %d, aio %d",
		       value ? value : "(unset)", evpoll_backend_default(),
		       evpoll_aio_backend_default());
	}
	EXPECT_EQ(poller_new_default(), aio_new_default()) {
		TH_LOG("new(DEFAULT) with \"%s\"", value ? value : "(unset)");
	}
	setenv_both(NULL);
}

TEST(env_rule_matches_the_poller)
{
	same_rule(_metadata, NULL);
	same_rule(_metadata, "");
	same_rule(_metadata, "default");
	same_rule(_metadata, "bogus");
	same_rule(_metadata, "io_uring");
	/* Unknown: -EINVAL on both. */
	setenv_both("bogus");
	EXPECT_EQ(-EINVAL, evpoll_aio_backend_default());
	setenv_both(NULL);
}

/*
 * A named backend that cannot be used: its probe's error, never another
 * backend, on both halves; with the variable unset, the next one.
 */
TEST(env_names_an_unavailable_backend)
{
	int err, status;
	pid_t pid;

	for (err = ENOSYS; err; err = err == ENOSYS ? EPERM : 0) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			if (deny_uring_and_linux_aio(err))
				_exit(2);
			setenv("EVPOLL_BACKEND", "uring", 1);
			setenv("EVPOLL_AIO_BACKEND", "uring", 1);
			if (evpoll_backend_default() != -err ||
			    evpoll_aio_backend_default() != -err ||
			    poller_new_default() != -err ||
			    aio_new_default() != -err)
				_exit(3);
			setenv("EVPOLL_BACKEND", "aio", 1);
			setenv("EVPOLL_AIO_BACKEND", "linux", 1);
			if (evpoll_backend_default() != -err ||
			    evpoll_aio_backend_default() != -err ||
			    aio_new_default() != -err)
				_exit(4);
			setenv_both(NULL);
			if (evpoll_aio_backend_default() !=
			    EVPOLL_AIO_BACKEND_POSIX ||
			    aio_new_default() != 0)
				_exit(5);
			_exit(0);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status)) {
			TH_LOG("errno %d: child step %d failed", err,
			       WEXITSTATUS(status));
		}
	}
}

/* No backend at all: the poller's "none available", -ENODEV. */
TEST(none_available_is_the_pollers_errno)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct evpoll_aio *ctx;

		if (deny_uring_and_linux_aio(ENOSYS))
			_exit(2);
		no_posix_aio = 1;
		setenv_both(NULL);
		if (evpoll_aio_backends_available(NULL, 0) != 0)
			_exit(3);
		if (evpoll_aio_backend_default() != POLLER_NONE_AVAILABLE)
			_exit(4);
		if (evpoll_aio_new(EVPOLL_AIO_BACKEND_DEFAULT, 0, 0, &ctx) !=
		    POLLER_NONE_AVAILABLE)
			_exit(5);
		if (evpoll_aio_new_by_name(NULL, 0, 0, &ctx) !=
		    POLLER_NONE_AVAILABLE)
			_exit(6);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) {
		TH_LOG("child step %d failed", WEXITSTATUS(status));
	}
}

TEST_HARNESS_MAIN
