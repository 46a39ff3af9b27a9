// SPDX-License-Identifier: GPL-2.0
/*
 * preload_linked.c - a program linked with libevpoll.so, run by
 * preload_test under LD_PRELOAD=libevpoll-preload.so: the library's
 * wrappers (evpoll_wait() & co.) must give epoll's errno on their error
 * paths there too, where the C library's epoll symbols are the shim's.
 *
 *   preload_linked errors     prints "errors ok" when every case held
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "evpoll.h"

#define BAD_HIGH	((void *)(uintptr_t)-4096)

static int failed;

static void expect(const char *what, int ret, int err)
{
	if (ret == -1 && errno == err)
		return;
	fprintf(stderr, "preload_linked: %s: %d (%s), want %s\n", what, ret,
		ret < 0 ? strerror(errno) : "-", strerror(err));
	failed++;
}

int main(int argc, char **argv)
{
	struct epoll_event e[2], one = { .events = EPOLLIN };
	struct timespec neg = { 0, -1 };
	int evfd;

	alarm(60);
	evfd = evpoll_create1(0);
	if (evfd < 0) {
		printf("errno %d\n", errno);
		return 1;
	}
	expect("evpoll_wait maxevents 0", evpoll_wait(evfd, e, 0, 0), EINVAL);
	expect("evpoll_wait maxevents -1", evpoll_wait(evfd, e, -1, 0), EINVAL);
	expect("evpoll_wait events above the user range",
	       evpoll_wait(evfd, BAD_HIGH, 1, 0), EFAULT);
	expect("evpoll_pwait maxevents 0", evpoll_pwait(evfd, e, 0, 0, NULL),
	       EINVAL);
	expect("evpoll_pwait2 maxevents 0",
	       evpoll_pwait2(evfd, e, 0, NULL, NULL), EINVAL);
	expect("evpoll_pwait2 tv_nsec -1",
	       evpoll_pwait2(evfd, e, 2, &neg, NULL), EINVAL);
	expect("evpoll_pwait2 fd -1, tv_nsec -1",
	       evpoll_pwait2(-1, e, 2, &neg, NULL), EINVAL);
	expect("evpoll_pwait2 fd -1, bad timespec",
	       evpoll_pwait2(-1, e, 2, BAD_HIGH, NULL), EFAULT);
	expect("evpoll_ctl event above the user range",
	       evpoll_ctl(evfd, EPOLL_CTL_ADD, 0, BAD_HIGH), EFAULT);
	expect("evpoll_ctl fd -1", evpoll_ctl(evfd, EPOLL_CTL_ADD, -1, &one),
	       EBADF);
	/* and the shim's own entry points in the same process */
	expect("epoll_wait maxevents 0", epoll_wait(evfd, e, 0, 0), EINVAL);
	expect("syscall(SYS_epoll_pwait2) maxevents 0",
	       (int)syscall(SYS_epoll_pwait2, evfd, e, 0, NULL, NULL, 8),
	       EINVAL);
	close(evfd);
	if (failed)
		return 1;
	printf("errors ok\n");
	return 0;
}
