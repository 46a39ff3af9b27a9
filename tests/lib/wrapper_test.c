// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * wrapper_test.c - the errno rules of the evpoll_* wrappers that hold
 * with or without the module: argument checks made before the device is
 * reached, and the EINVAL that epoll returns for "not an epoll fd" (the
 * ioctl's ENOTTY, translated).  Each case is checked against the kernel's
 * epoll in the same situation.  Runs on the host and in the VM; the
 * complete epoll/evpoll comparison is compat_test.c (VM only).
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "evpoll.h"
#include "kselftest_harness.h"
#include "helpers.h"

/* Run @call, return its errno (0 if it succeeded). */
#define ERRNO_OF(call)	({ errno = 0; (call) < 0 ? errno : 0; })

/* An open fd that is neither an epoll nor an evpoll instance. */
FIXTURE(notinst) {
	int pfd[2];
	int memfd;
	int closed;
	int nfds_before;
};

FIXTURE_SETUP(notinst)
{
	int tmp[2];

	self->nfds_before = count_open_fds();
	ASSERT_EQ(0, pipe2(self->pfd, O_CLOEXEC));
	self->memfd = memfd_create("evpoll-test", MFD_CLOEXEC);
	ASSERT_LE(0, self->memfd);
	ASSERT_EQ(0, pipe2(tmp, O_CLOEXEC));
	close(tmp[0]);
	close(tmp[1]);
	self->closed = tmp[0];
}

FIXTURE_TEARDOWN(notinst)
{
	close(self->pfd[0]);
	close(self->pfd[1]);
	close(self->memfd);
	EXPECT_EQ(self->nfds_before, count_open_fds());
}

TEST(create1_flags)
{
	EXPECT_EQ(EINVAL, ERRNO_OF(epoll_create1(O_NONBLOCK)));
	EXPECT_EQ(EINVAL, ERRNO_OF(evpoll_create1(O_NONBLOCK)));
	EXPECT_EQ(EINVAL, ERRNO_OF(epoll_create1(-1)));
	EXPECT_EQ(EINVAL, ERRNO_OF(evpoll_create1(-1)));
}

TEST(create_size)
{
	EXPECT_EQ(EINVAL, ERRNO_OF(epoll_create(0)));
	EXPECT_EQ(EINVAL, ERRNO_OF(evpoll_create(0)));
	EXPECT_EQ(EINVAL, ERRNO_OF(epoll_create(-5)));
	EXPECT_EQ(EINVAL, ERRNO_OF(evpoll_create(-5)));
}

TEST(create_without_module_fails_with_open_errno)
{
	if (access("/dev/evpoll", F_OK) == 0)
		SKIP(return, "/dev/evpoll exists here");
	EXPECT_EQ(ENOENT, ERRNO_OF(evpoll_create1(0)));
	EXPECT_EQ(ENOENT, ERRNO_OF(evpoll_create1(EVPOLL_CLOEXEC)));
	EXPECT_EQ(ENOENT, ERRNO_OF(evpoll_create(1)));
}

TEST(create_cloexec)
{
	int fd = evpoll_create1(EVPOLL_CLOEXEC);

	if (fd < 0)
		SKIP(return, "/dev/evpoll: %s", strerror(errno));
	EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	fd = evpoll_create1(0);
	ASSERT_LE(0, fd);
	EXPECT_FALSE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	close(fd);
}

TEST_F(notinst, ctl_on_pipe_is_einval)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int e = self->pfd[0];

	EXPECT_EQ(EINVAL, ERRNO_OF(epoll_ctl(e, EPOLL_CTL_ADD, self->pfd[1],
					     &ev)));
	EXPECT_EQ(EINVAL, ERRNO_OF(evpoll_ctl(e, EPOLL_CTL_ADD, self->pfd[1],
					      &ev)));
	EXPECT_EQ(EINVAL, ERRNO_OF(epoll_ctl(e, EPOLL_CTL_DEL, self->pfd[1],
					     NULL)));
	EXPECT_EQ(EINVAL, ERRNO_OF(evpoll_ctl(e, EPOLL_CTL_DEL, self->pfd[1],
					      NULL)));
}

TEST_F(notinst, ctl_checks_target_first)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int e = self->pfd[0];

	/* epoll: EBADF for the target before EINVAL for epfd. */
	EXPECT_EQ(EBADF, ERRNO_OF(epoll_ctl(e, EPOLL_CTL_ADD, self->closed,
					    &ev)));
	EXPECT_EQ(EBADF, ERRNO_OF(evpoll_ctl(e, EPOLL_CTL_ADD, self->closed,
					     &ev)));
	/* ... and EPERM for a target without ->poll. */
	EXPECT_EQ(EPERM, ERRNO_OF(epoll_ctl(e, EPOLL_CTL_ADD, self->memfd,
					    &ev)));
	EXPECT_EQ(EPERM, ERRNO_OF(evpoll_ctl(e, EPOLL_CTL_ADD, self->memfd,
					     &ev)));
}

TEST_F(notinst, ctl_bad_epfd_is_ebadf)
{
	struct epoll_event ev = { .events = EPOLLIN };

	EXPECT_EQ(EBADF, ERRNO_OF(epoll_ctl(-1, EPOLL_CTL_ADD, self->pfd[0],
					    &ev)));
	EXPECT_EQ(EBADF, ERRNO_OF(evpoll_ctl(-1, EPOLL_CTL_ADD, self->pfd[0],
					     &ev)));
	EXPECT_EQ(EBADF, ERRNO_OF(epoll_ctl(self->closed, EPOLL_CTL_ADD,
					    self->pfd[0], &ev)));
	EXPECT_EQ(EBADF, ERRNO_OF(evpoll_ctl(self->closed, EPOLL_CTL_ADD,
					     self->pfd[0], &ev)));
}

TEST_F(notinst, ctl_null_event_is_efault_first)
{
	EXPECT_EQ(EFAULT, ERRNO_OF(epoll_ctl(-1, EPOLL_CTL_ADD, -1, NULL)));
	EXPECT_EQ(EFAULT, ERRNO_OF(evpoll_ctl(-1, EPOLL_CTL_ADD, -1, NULL)));
	EXPECT_EQ(EFAULT, ERRNO_OF(epoll_ctl(self->pfd[0], EPOLL_CTL_MOD,
					     self->pfd[1], NULL)));
	EXPECT_EQ(EFAULT, ERRNO_OF(evpoll_ctl(self->pfd[0], EPOLL_CTL_MOD,
					      self->pfd[1], NULL)));
	/* A bad op reads the event too. */
	EXPECT_EQ(EFAULT, ERRNO_OF(epoll_ctl(self->pfd[0], 7, self->pfd[1],
					     NULL)));
	EXPECT_EQ(EFAULT, ERRNO_OF(evpoll_ctl(self->pfd[0], 7, self->pfd[1],
					      NULL)));
}

/*
 * Bad fd and bad arguments at once: 6.1 checks maxevents and the buffer
 * first, later kernels the fd.  The wrapper must agree with the running
 * kernel's epoll, whichever it is.
 */
#define SAME_ERRNO(ecall, vcall)					\
	do {								\
		int __e = ERRNO_OF(ecall), __v = ERRNO_OF(vcall);	\
									\
		EXPECT_NE(0, __e);					\
		EXPECT_EQ(__e, __v) {					\
			TH_LOG("%s: epoll %s, evpoll %s", #vcall,	\
			       strerror(__e), strerror(__v));		\
		}							\
	} while (0)

TEST_F(notinst, wait_errors_follow_the_kernel_order)
{
	struct timespec bad_ns = { 0, 2000000000 }, neg = { -1, 0 };
	struct epoll_event ev[2];
	volatile int minus_one = -1;	/* hidden from -Wstringop-overflow */
	int fds[] = { -1, self->closed, self->pfd[0], self->memfd };
	unsigned int i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		int e = fds[i];

		SAME_ERRNO(epoll_wait(e, ev, 0, 0), evpoll_wait(e, ev, 0, 0));
		SAME_ERRNO(epoll_wait(e, ev, minus_one, 0),
			   evpoll_wait(e, ev, minus_one, 0));
		SAME_ERRNO(epoll_pwait(e, ev, 0, 0, NULL),
			   evpoll_pwait(e, ev, 0, 0, NULL));
		SAME_ERRNO(epoll_pwait2(e, ev, 0, NULL, NULL),
			   evpoll_pwait2(e, ev, 0, NULL, NULL));
		SAME_ERRNO(epoll_wait(e, (void *)-4096L, 1, 0),
			   evpoll_wait(e, (void *)-4096L, 1, 0));
		/* epoll_pwait2 reads the timespec before anything else. */
		SAME_ERRNO(epoll_pwait2(e, ev, 2, &bad_ns, NULL),
			   evpoll_pwait2(e, ev, 2, &bad_ns, NULL));
		SAME_ERRNO(epoll_pwait2(e, ev, 2, &neg, NULL),
			   evpoll_pwait2(e, ev, 2, &neg, NULL));
		SAME_ERRNO(epoll_pwait2(e, ev, 2, (void *)8, NULL),
			   evpoll_pwait2(e, ev, 2, (void *)8, NULL));
		SAME_ERRNO(epoll_pwait2(e, ev, 0, &bad_ns, NULL),
			   evpoll_pwait2(e, ev, 0, &bad_ns, NULL));
	}
	/* A valid fd that is no instance: the argument errors. */
	EXPECT_EQ(EINVAL, ERRNO_OF(evpoll_wait(self->pfd[0], ev, 0, 0)));
	/* EFAULT, but EINVAL for a 32-bit task on a 64-bit kernel */
	SAME_ERRNO(epoll_wait(self->pfd[0], (void *)-4096L, 1, 0),
		   evpoll_wait(self->pfd[0], (void *)-4096L, 1, 0));
	EXPECT_EQ(EINVAL, ERRNO_OF(evpoll_pwait2(self->pfd[0], ev, 2,
						 &bad_ns, NULL)));
}

TEST_F(notinst, wait_bad_fd)
{
	struct epoll_event ev[2];

	EXPECT_EQ(EBADF, ERRNO_OF(epoll_wait(-1, ev, 2, 0)));
	EXPECT_EQ(EBADF, ERRNO_OF(evpoll_wait(-1, ev, 2, 0)));
	EXPECT_EQ(EBADF, ERRNO_OF(epoll_wait(self->closed, ev, 2, 0)));
	EXPECT_EQ(EBADF, ERRNO_OF(evpoll_wait(self->closed, ev, 2, 0)));
	EXPECT_EQ(EINVAL, ERRNO_OF(epoll_wait(self->pfd[0], ev, 2, 0)));
	EXPECT_EQ(EINVAL, ERRNO_OF(evpoll_wait(self->pfd[0], ev, 2, 0)));
	EXPECT_EQ(EINVAL, ERRNO_OF(epoll_pwait2(self->memfd, ev, 2, NULL,
						NULL)));
	EXPECT_EQ(EINVAL, ERRNO_OF(evpoll_pwait2(self->memfd, ev, 2, NULL,
						 NULL)));
}

TEST_HARNESS_MAIN
