/* SPDX-License-Identifier: GPL-2.0 */
/*
 * evp2.h - helpers over the version 2 ioctls (EVPOLL_IOC_SUBMIT, user
 * events) for the device tests.  Every helper returns the ioctl's result,
 * or -errno.
 */
#ifndef _EVPOLL_TESTS_EVP2_H
#define _EVPOLL_TESTS_EVP2_H

#include "evp.h"

typedef struct evpoll_submit_change evp_chg;

static inline evp_chg evp_chg_make(uint32_t op, int fd, uint32_t events,
				   uint64_t data)
{
	evp_chg c = {
		.op = op, .fd = fd, .events = events, .data = data,
		.result = 1,	/* the kernel writes only 0 or -errno */
	};

	return c;
}

static inline int evp_submit_args(int evfd, struct evpoll_submit *s)
{
	int ret = ioctl(evfd, EVPOLL_IOC_SUBMIT, s);

	return ret < 0 ? -errno : ret;
}

/* Changes only. */
static inline int evp_submit(int evfd, evp_chg *c, unsigned int n)
{
	struct evpoll_submit s = {
		.size = sizeof(s), .changes = (uintptr_t)c, .nchanges = n,
	};

	return evp_submit_args(evfd, &s);
}

/* Changes, then a wait (timeout_ns < 0: forever; 0: do not block). */
static inline int evp_submit_wait(int evfd, evp_chg *c, unsigned int n,
				  struct epoll_event *evs, int max,
				  long long timeout_ns, unsigned int min_events,
				  long long min_wait_ns)
{
	struct evpoll_submit s = {
		.size = sizeof(s), .flags = EVPOLL_SUBMIT_WAIT,
		.changes = (uintptr_t)c, .nchanges = n,
		.events = (uintptr_t)evs, .maxevents = max,
		.timeout = timeout_ns, .min_events = min_events,
		.min_wait = min_wait_ns,
	};

	return evp_submit_args(evfd, &s);
}

/* One change through SUBMIT: its result (or the call's -errno). */
static inline int evp_ctl2(int evfd, uint32_t op, int fd, uint32_t events,
			   uint64_t data)
{
	evp_chg c = evp_chg_make(op, fd, events, data);
	int ret = evp_submit(evfd, &c, 1);

	return ret < 0 ? ret : c.result;
}

static inline int evp_user_ioctl(int evfd, unsigned long cmd,
				 struct evpoll_user_ctl *u)
{
	return ioctl(evfd, cmd, u) < 0 ? -errno : 0;
}

/* A new user event's id, or -errno. */
static inline int evp_user_add(int evfd, uint32_t events, uint64_t data)
{
	struct evpoll_user_ctl u = { .events = events, .data = data };
	int ret = evp_user_ioctl(evfd, EVPOLL_IOC_USER_ADD, &u);

	return ret < 0 ? ret : u.id;
}

static inline int evp_user_trigger(int evfd, int id)
{
	struct evpoll_user_ctl u = { .id = id };

	return evp_user_ioctl(evfd, EVPOLL_IOC_USER_TRIGGER, &u);
}

static inline int evp_user_del(int evfd, int id)
{
	struct evpoll_user_ctl u = { .id = id };

	return evp_user_ioctl(evfd, EVPOLL_IOC_USER_DEL, &u);
}

/* voluntary_ctxt_switches of thread @tid of this process, or -1. */
static inline long long evp_task_nvcsw(pid_t tid)
{
	char path[64], buf[2048], *p;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	p = strstr(buf, "\nvoluntary_ctxt_switches:");
	return p ? strtoll(p + 25, NULL, 10) : -1;
}

#endif /* _EVPOLL_TESTS_EVP2_H */
