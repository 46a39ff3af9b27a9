// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * linuxaio_test.c - the aio backend's context growth against the
 * system-wide /proc/sys/fs/aio-max-nr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "evpoll.h"
#include "kselftest_harness.h"
#include "helpers.h"

static long read_long(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

#define DEFAULT_AIO_MAX_NR	65536
#define HALF_PLUS_ONE		(DEFAULT_AIO_MAX_NR / 2 + 1)

/*
 * The context doubles when the fds outgrow it.  Growing it while the old
 * one still existed needed old + new = 3 * 32,768 of aio-max-nr's
 * 65,536 on the way to 32,769 fds: that ADD failed with -EAGAIN although
 * one context of 65,536 fits.
 */
TEST(aio_grows_past_half_of_aio_max_nr)
{
	struct evpoll_poller_event ev[4];
	struct evpoll_poller *p;
	struct rlimit rl;
	int pfd[2], i, ret = 0, *fds;

	if (evpoll_backend_probe(EVPOLL_BACKEND_AIO) < 0)
		SKIP(return, "aio unavailable");
	/*
	 * 32,769 registrations outlast the harness's 30 s under KASAN; the
	 * debug-kernel run is for the sanitizers, and the stock runs (6.1,
	 * 6.12) check this library property.
	 */
	if (getenv("EVPOLL_CHECK_KERNEL") &&
	    !strcmp(getenv("EVPOLL_CHECK_KERNEL"), "debug"))
		SKIP(return, "too slow for the debug kernel's time limit");
	if (read_long("/proc/sys/fs/aio-max-nr") != DEFAULT_AIO_MAX_NR ||
	    read_long("/proc/sys/fs/aio-nr") != 0)
		SKIP(return, "needs aio-max-nr %d and no other AIO context",
		     DEFAULT_AIO_MAX_NR);
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_max < HALF_PLUS_ONE + 100)
		SKIP(return, "RLIMIT_NOFILE hard limit %lu too low",
		     (unsigned long)rl.rlim_max);
	rl.rlim_cur = rl.rlim_max;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));

	fds = calloc(HALF_PLUS_ONE, sizeof(*fds));
	ASSERT_NE(NULL, fds);
	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	ASSERT_EQ(0, evpoll_poller_new(EVPOLL_BACKEND_AIO, 0, &p));
	for (i = 0; i < HALF_PLUS_ONE; i++) {
		fds[i] = fcntl(pfd[0], F_DUPFD_CLOEXEC, 3);
		ASSERT_LE(0, fds[i]);
		ret = evpoll_poller_add(p, fds[i], EPOLLIN, (uint64_t)i);
		if (ret < 0)
			break;
	}
	EXPECT_EQ(0, ret) {
		TH_LOG("ADD of fd %d of %d: %d (aio-nr %ld)", i + 1,
		       HALF_PLUS_ONE, ret, read_long("/proc/sys/fs/aio-nr"));
	}
	/* Still a working poller: the last fd reports. */
	ASSERT_EQ(1, write(pfd[1], "x", 1));
	EXPECT_LT(0, evpoll_poller_wait(p, ev, 4, 2000));
	evpoll_poller_free(p);
	for (i = 0; i < HALF_PLUS_ONE && fds[i] > 0; i++)
		close(fds[i]);
	free(fds);
	close(pfd[0]);
	close(pfd[1]);
	/* Every context is gone. */
	EXPECT_EQ(0, read_long("/proc/sys/fs/aio-nr"));
}

TEST_HARNESS_MAIN
