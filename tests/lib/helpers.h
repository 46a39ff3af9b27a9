/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * helpers.h - small helpers shared by the libevpoll tests.
 */
#ifndef _EVPOLL_TEST_HELPERS_H
#define _EVPOLL_TEST_HELPERS_H

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Number of open fds of this process (for the fd-leak checks). */
static inline int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;		/* opendir's own fd */
}

/*
 * poll() one fd for @events, up to @ms: its revents, 0 on timeout.  For
 * loopback TCP, whose segments may be processed later by ksoftirqd, before
 * a zero-timeout check or a comparison of two runs.
 */
static inline short await_fd(int fd, short events, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	return poll(&pfd, 1, ms) == 1 ? pfd.revents : 0;
}

static inline int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until thread @tid sleeps (state S in its stat file), up to 5 s. */
static inline int wait_sleeping(pid_t tid)
{
	char path[64], buf[256], *p;
	int i, fd, n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	for (i = 0; i < 5000; i++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		n = (int)read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			return -1;
		buf[n] = 0;
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'S')
			return 0;
		usleep(1000);
	}
	return -1;
}

/*
 * A connected TCP pair over 127.0.0.1: sv[0] the client, sv[1] the
 * accepted server side; *lfd the listening socket (or closed if lfd is
 * NULL).  Returns 0 or -1.
 */
static inline int tcp_pair(int sv[2], int *lfd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int l, c, s;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0)
		return -1;
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(l, 8) < 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &len) < 0)
		goto out_close_l;
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0)
		goto out_close_l;
	if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out_close_c;
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		goto out_close_c;
	sv[0] = c;
	sv[1] = s;
	if (lfd)
		*lfd = l;
	else
		close(l);
	return 0;

out_close_c:
	close(c);
out_close_l:
	close(l);
	return -1;
}

/* A listening TCP socket on 127.0.0.1; its address in *sa. */
static inline int tcp_listener(struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);
	int l;

	*sa = (struct sockaddr_in){ .sin_family = AF_INET };
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0)
		return -1;
	if (bind(l, (struct sockaddr *)sa, sizeof(*sa)) < 0 ||
	    listen(l, 8) < 0 ||
	    getsockname(l, (struct sockaddr *)sa, &len) < 0) {
		close(l);
		return -1;
	}
	return l;
}

#endif /* _EVPOLL_TEST_HELPERS_H */
