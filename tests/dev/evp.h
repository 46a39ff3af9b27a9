/* SPDX-License-Identifier: GPL-2.0 */
/*
 * evp.h - thin helpers over the raw /dev/evpoll ioctls for the device
 * tests.  The tests talk to the module directly, not through libevpoll, so
 * that a library bug cannot hide (or fake) a kernel behaviour.  Every helper
 * returns the ioctl's result, or -errno.
 */
#ifndef _EVPOLL_TESTS_EVP_H
#define _EVPOLL_TESTS_EVP_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <linux/evpoll.h>

#define NSEC_PER_MSEC	1000000LL
#define NSEC_PER_SEC	1000000000LL

static inline int evp_open(void)
{
	return open(EVPOLL_DEVICE, O_RDWR | O_CLOEXEC);
}

static inline int evp_ctl(int evfd, int op, int fd, uint32_t events,
			  uint64_t data)
{
	struct evpoll_ctl c = {
		.op = op, .fd = fd, .events = events, .data = data,
	};

	return ioctl(evfd, EVPOLL_IOC_CTL, &c) ? -errno : 0;
}

static inline int evp_wait_args(int evfd, struct evpoll_wait *w)
{
	int ret = ioctl(evfd, EVPOLL_IOC_WAIT, w);

	return ret < 0 ? -errno : ret;
}

/* timeout_ns < 0: forever; 0: do not block. */
static inline int evp_wait(int evfd, struct epoll_event *evs, int max,
			   long long timeout_ns)
{
	struct evpoll_wait w = {
		.events = (uintptr_t)evs, .maxevents = max,
		.timeout = timeout_ns,
	};

	return evp_wait_args(evfd, &w);
}

static inline long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/*
 * Evaluate @cond every ms until it holds: the milliseconds that took, or
 * -1 once @limit_ms have passed.  How the tests wait for another thread
 * or the module's work instead of sleeping a fixed time.
 */
#define evp_poll_until(cond, limit_ms)					\
({									\
	long long __t0 = now_ns(), __ms;				\
									\
	for (;;) {							\
		__ms = (now_ns() - __t0) / NSEC_PER_MSEC;		\
		if (cond)						\
			break;						\
		if (__ms > (limit_ms)) {				\
			__ms = -1;					\
			break;						\
		}							\
		usleep(1000);						\
	}								\
	__ms;								\
})

/* Read /proc/self/fdinfo/FD of an instance into buf; returns length. */
static inline int evp_fdinfo(int evfd, char *buf, size_t size)
{
	size_t len = 0;
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", evfd);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	while (len < size - 1 &&
	       (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	return len;
}

/* The value of a "name: value" counter line in an instance's fdinfo. */
static inline long long evp_counter(int evfd, const char *name)
{
	static char buf[4 << 20];
	char key[64];
	char *p;

	if (evp_fdinfo(evfd, buf, sizeof(buf)) < 0)
		return -1;
	snprintf(key, sizeof(key), "\n%s: ", name);
	p = strstr(buf, key);
	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/*
 * Poll an instance's fdinfo counter every ms until it reads @want: the
 * milliseconds that took, or -1 after @limit_ms.
 */
static inline long long evp_counter_settles(int evfd, const char *name,
					    long long want, long long limit_ms)
{
	return evp_poll_until(evp_counter(evfd, name) == want, limit_ms);
}

/* The number in a small sysfs file; -1 if absent. */
static inline long long evp_read_ll(const char *path)
{
	char buf[64];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

/* A module parameter; -1 if absent. */
static inline long long evp_param(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/evpoll/parameters/%s",
		 name);
	return evp_read_ll(path);
}

/* A device counter, /sys/class/misc/evpoll/NAME; -1 if absent. */
static inline long long evp_sysfs_stat(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/misc/evpoll/%s", name);
	return evp_read_ll(path);
}

static inline int evp_set_param(const char *name, long long val)
{
	char path[128], buf[64];
	int fd, len, ok;

	snprintf(path, sizeof(path), "/sys/module/evpoll/parameters/%s",
		 name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%lld\n", val);
	ok = write(fd, buf, len) == len;
	close(fd);
	return ok ? 0 : -EIO;
}

/*
 * Thread @tid of this process sleeps ('S' in /proc/self/task/TID/stat).
 * Tests use it instead of a usleep() to know that a thread has reached
 * its wait call before they make an event: on a loaded TCG host a thread
 * may take seconds to get there.  Waits and sleeping syscalls are the
 * only places where the test threads sleep.
 */
static inline bool evp_task_asleep(pid_t tid)
{
	char path[64], buf[256], *rp;
	ssize_t len;
	int fd;

	if (tid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return false;
	buf[len] = '\0';
	rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && rp[2] == 'S';
}

static inline bool evp_all_asleep(const pid_t *tids, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!evp_task_asleep(tids[i]))
			return false;
	return true;
}

/*
 * Poll (every ms, up to 20 s) until every thread in @tids[0..n) sleeps
 * (tids from evp_get_tid(); 0 is never asleep).
 */
static inline bool evp_tasks_asleep(const pid_t *tids, int n)
{
	return evp_poll_until(evp_all_asleep(tids, n), 20000) >= 0;
}

/* Called by a thread first thing: publishes its tid to the test. */
static inline void evp_set_tid(pid_t *slot)
{
	__atomic_store_n(slot, gettid(), __ATOMIC_RELEASE);
}

/* The tid a thread published with evp_set_tid() (waits up to 20 s), or 0. */
static inline pid_t evp_get_tid(const pid_t *slot)
{
	evp_poll_until(__atomic_load_n(slot, __ATOMIC_ACQUIRE) != 0, 20000);
	return __atomic_load_n(slot, __ATOMIC_ACQUIRE);
}

/* Send @n (<= 4) fds over @via in one SCM_RIGHTS message: 0 or -errno. */
static inline int evp_send_fds(int via, const int *fds, int n)
{
	char data = 'x', cbuf[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = CMSG_SPACE(n * sizeof(int)),
	};
	struct cmsghdr *cm;

	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	return sendmsg(via, &msg, 0) == 1 ? 0 : -errno;
}

/* A connected loopback TCP pair: sv[0] accepted, sv[1] connected. */
static inline int evp_tcp_pair(int sv[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int l;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0)
		return -1;
	if (bind(l, (void *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (void *)&a, &len)) {
		close(l);
		return -1;
	}
	sv[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sv[1] < 0 || connect(sv[1], (void *)&a, sizeof(a))) {
		close(l);
		return -1;
	}
	sv[0] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	close(l);
	return sv[0] < 0 ? -1 : 0;
}

/*
 * A WAIT buffer held in a userfaultfd fault: @npages anonymous pages, all
 * present but the last, which is registered for missing-page faults.  A
 * WAIT that stores an event there stalls in the fault, holding its
 * instance's mutex, for as long as the test wants: evp_uffd_faulted()
 * waits for the fault, evp_uffd_release() resolves it (a zero page).
 */
struct evp_uffd {
	int uffd;
	char *map;	/* the mapping, @len bytes */
	size_t len;
	char *held;	/* its last page, the one that faults */
	long pg;
};

/* 0, or -errno (ENOSYS: no CONFIG_USERFAULTFD; EPERM: not allowed). */
static inline int evp_uffd_map(struct evp_uffd *u, int npages)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };
	int err;

	u->pg = sysconf(_SC_PAGESIZE);
	u->len = npages * u->pg;
	u->map = MAP_FAILED;
	u->held = NULL;
	u->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (u->uffd < 0)
		return -errno;
	if (ioctl(u->uffd, UFFDIO_API, &api))
		goto err;
	u->map = mmap(NULL, u->len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->map == MAP_FAILED)
		goto err;
	memset(u->map, 0, u->len - u->pg);	/* the others present */
	u->held = u->map + u->len - u->pg;
	reg.range.start = (uintptr_t)u->held;
	reg.range.len = u->pg;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(u->uffd, UFFDIO_REGISTER, &reg))
		goto err;
	return 0;
err:
	err = -errno;
	if (u->map != MAP_FAILED)
		munmap(u->map, u->len);
	close(u->uffd);
	return err;
}

/* A fault on the held page came (waits up to 20 s). */
static inline bool evp_uffd_faulted(struct evp_uffd *u)
{
	struct pollfd pfd = { .fd = u->uffd, .events = POLLIN };
	struct uffd_msg msg;

	return poll(&pfd, 1, 20000) == 1 &&
	       read(u->uffd, &msg, sizeof(msg)) == sizeof(msg) &&
	       msg.event == UFFD_EVENT_PAGEFAULT;
}

/* Resolve the fault: the stalled WAIT goes on.  0 or -errno. */
static inline int evp_uffd_release(struct evp_uffd *u)
{
	struct uffdio_zeropage zp = { 0 };

	zp.range.start = (uintptr_t)u->held;
	zp.range.len = u->pg;
	return ioctl(u->uffd, UFFDIO_ZEROPAGE, &zp) ? -errno : 0;
}

static inline void evp_uffd_unmap(struct evp_uffd *u)
{
	close(u->uffd);
	munmap(u->map, u->len);
}

#endif /* _EVPOLL_TESTS_EVP_H */
