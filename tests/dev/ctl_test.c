// SPDX-License-Identifier: GPL-2.0
/*
 * ctl_test - EVPOLL_IOC_CTL: add, modify, delete, and every errno.
 *
 * The rules are epoll_ctl(2)'s; each errno test states the epoll rule it
 * mirrors.  Run inside the VM with the module loaded.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/eventfd.h>

#include <sys/prctl.h>

#include "evp.h"
#include "kselftest_harness.h"

FIXTURE(ctl) {
	int evfd;
	int p[2];	/* pipe: p[0] read end, p[1] write end */
};

FIXTURE_SETUP(ctl)
{
	self->evfd = evp_open();
	ASSERT_GE(self->evfd, 0) TH_LOG("open %s: %s", EVPOLL_DEVICE,
					strerror(errno));
	ASSERT_EQ(pipe2(self->p, O_NONBLOCK), 0);
}

FIXTURE_TEARDOWN(ctl)
{
	close(self->p[0]);
	close(self->p[1]);
	close(self->evfd);
}

TEST_F(ctl, add_mod_del)
{
	struct epoll_event ev[2];

	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 7), 0);
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
	EXPECT_EQ(ev[0].events, EPOLLIN);
	EXPECT_EQ(ev[0].data.u64, 7);

	/* MOD changes both the mask and the data. */
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_MOD, self->p[0], EPOLLPRI, 8), 0);
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 0);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_MOD, self->p[0], EPOLLIN, 9), 0);
	ASSERT_EQ(evp_wait(self->evfd, ev, 2, 0), 1);
	EXPECT_EQ(ev[0].data.u64, 9);

	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_DEL, self->p[0], 0, 0), 0);
	EXPECT_EQ(evp_wait(self->evfd, ev, 2, 0), 0);
	/* Deleted means gone: DEL again and MOD fail. */
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_DEL, self->p[0], 0, 0), -ENOENT);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_MOD, self->p[0], EPOLLIN, 0), -ENOENT);
}

TEST_F(ctl, add_twice_eexist)
{
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 0), 0);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0], EPOLLOUT, 0), -EEXIST);
}

/* The key is (file, fd): a dup()ed fd is a separate item (epoll(7) Q&A). */
TEST_F(ctl, dup_fd_is_separate_item)
{
	struct epoll_event ev[4];
	int d = dup(self->p[0]);

	ASSERT_GE(d, 0);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 1), 0);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, d, EPOLLIN, 2), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(evp_wait(self->evfd, ev, 4, 0), 2);
	EXPECT_EQ(ev[0].data.u64 + ev[1].data.u64, 3);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_DEL, d, 0, 0), 0);
	ASSERT_EQ(evp_wait(self->evfd, ev, 4, 0), 1);
	EXPECT_EQ(ev[0].data.u64, 1);
	close(d);
}

TEST_F(ctl, bad_fd_ebadf)
{
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, -1, EPOLLIN, 0), -EBADF);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, 9999, EPOLLIN, 0), -EBADF);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_DEL, 9999, 0, 0), -EBADF);
	/* epoll checks the fd before the op: EBADF wins over a bad op. */
	EXPECT_EQ(evp_ctl(self->evfd, 77, 9999, EPOLLIN, 0), -EBADF);
}

TEST_F(ctl, bad_op_einval)
{
	EXPECT_EQ(evp_ctl(self->evfd, 0, self->p[0], EPOLLIN, 0), -EINVAL);
	EXPECT_EQ(evp_ctl(self->evfd, 4, self->p[0], EPOLLIN, 0), -EINVAL);
	EXPECT_EQ(evp_ctl(self->evfd, -1, self->p[0], EPOLLIN, 0), -EINVAL);
}

TEST_F(ctl, self_einval)
{
	int d = dup(self->evfd);

	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->evfd, EPOLLIN, 0), -EINVAL);
	/* Same file under another fd number: still itself. */
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, d, EPOLLIN, 0), -EINVAL);
	close(d);
}

TEST_F(ctl, flags_nonzero_einval)
{
	struct evpoll_ctl c = {
		.op = EVPOLL_CTL_ADD, .fd = self->p[0], .events = EPOLLIN,
		.flags = 1,
	};

	EXPECT_EQ(ioctl(self->evfd, EVPOLL_IOC_CTL, &c), -1);
	EXPECT_EQ(errno, EINVAL);
	c.flags = 0x80000000u;
	EXPECT_EQ(ioctl(self->evfd, EVPOLL_IOC_CTL, &c), -1);
	EXPECT_EQ(errno, EINVAL);
	/* Nothing was added by the refused calls. */
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_DEL, self->p[0], 0, 0), -ENOENT);
}

TEST_F(ctl, bad_pointer_efault)
{
	EXPECT_EQ(ioctl(self->evfd, EVPOLL_IOC_CTL, NULL), -1);
	EXPECT_EQ(errno, EFAULT);
	EXPECT_EQ(ioctl(self->evfd, EVPOLL_IOC_CTL, (void *)16), -1);
	EXPECT_EQ(errno, EFAULT);
}

TEST_F(ctl, unknown_ioctl_enotty)
{
	EXPECT_EQ(ioctl(self->evfd, _IO(EVPOLL_IOC_MAGIC, 99), 0), -1);
	EXPECT_EQ(errno, ENOTTY);
	/* Same number, wrong size: a different command. */
	EXPECT_EQ(ioctl(self->evfd, _IOW(EVPOLL_IOC_MAGIC, 1, int), 0), -1);
	EXPECT_EQ(errno, ENOTTY);
}

/* Files without ->poll are refused with EPERM, as epoll does. */
TEST_F(ctl, regular_file_eperm)
{
	char path[] = "/tmp/evpoll-ctl-XXXXXX";
	int fd = mkstemp(path);
	int null = open("/dev/null", O_RDWR);

	ASSERT_GE(fd, 0);
	unlink(path);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, fd, EPOLLIN, 0), -EPERM);
	ASSERT_GE(null, 0);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, null, EPOLLIN, 0), -EPERM);
	close(fd);
	close(null);
}

TEST_F(ctl, exclusive_rules_einval)
{
	/* Only on ADD, and only with IN/OUT/ERR/HUP/WAKEUP/ET. */
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0],
			  EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 0), -EINVAL);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0],
			  EPOLLIN | EPOLLEXCLUSIVE | EPOLLRDHUP, 0), -EINVAL);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0],
			  EPOLLIN | EPOLLEXCLUSIVE | EPOLLET, 0), 0);
	/* MOD carrying EXCLUSIVE, and any MOD of an exclusive item. */
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_MOD, self->p[0],
			  EPOLLIN | EPOLLEXCLUSIVE, 0), -EINVAL);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_MOD, self->p[0], EPOLLIN, 0),
		  -EINVAL);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_DEL, self->p[0], 0, 0), 0);
}

static unsigned int fdinfo_events(int evfd, int tfd)
{
	static char buf[8192];
	char key[32];
	char *p;

	if (evp_fdinfo(evfd, buf, sizeof(buf)) < 0)
		return 0;
	snprintf(key, sizeof(key), "tfd: %8d events: ", tfd);
	p = strstr(buf, key);
	return p ? strtoul(p + strlen(key), NULL, 16) : 0;
}

/* ERR and HUP are always reported: ADD and MOD add them to the mask. */
TEST_F(ctl, err_hup_always_added)
{
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0], EPOLLIN, 0), 0);
	EXPECT_EQ(fdinfo_events(self->evfd, self->p[0]),
		  EPOLLIN | EPOLLERR | EPOLLHUP);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_MOD, self->p[0], 0, 0), 0);
	EXPECT_EQ(fdinfo_events(self->evfd, self->p[0]), EPOLLERR | EPOLLHUP);
}

/* An empty mask still reports HUP, as epoll does. */
TEST_F(ctl, hup_reported_with_empty_mask)
{
	struct epoll_event ev;

	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0], 0, 5), 0);
	close(self->p[1]);
	self->p[1] = open("/dev/null", O_RDONLY);
	ASSERT_EQ(evp_wait(self->evfd, &ev, 1, 0), 1);
	EXPECT_EQ(ev.events, EPOLLHUP);
	EXPECT_EQ(ev.data.u64, 5);
}

/* EPOLLWAKEUP is kept with CAP_BLOCK_SUSPEND and silently dropped without. */
TEST_F(ctl, wakeup_needs_cap_block_suspend)
{
	int status;
	pid_t pid;

	if (geteuid() != 0)
		SKIP(return, "needs root to compare with and without the cap");
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0],
			  EPOLLIN | EPOLLWAKEUP, 0), 0);
	EXPECT_EQ(fdinfo_events(self->evfd, self->p[0]),
		  EPOLLIN | EPOLLWAKEUP | EPOLLERR | EPOLLHUP);
	/* MOD without the bit drops the wakeup source, with it re-adds. */
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_MOD, self->p[0], EPOLLIN, 0), 0);
	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_MOD, self->p[0],
			  EPOLLIN | EPOLLWAKEUP, 0), 0);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int fd;

		/* Leaving uid 0 drops every capability. */
		if (setresuid(65534, 65534, 65534))
			_exit(2);
		/* Keep /proc/self/fdinfo readable after the uid change. */
		prctl(PR_SET_DUMPABLE, 1);
		fd = evp_open();
		if (fd < 0)
			_exit(3);
		if (evp_ctl(fd, EVPOLL_CTL_ADD, self->p[0],
			    EPOLLIN | EPOLLWAKEUP, 0))
			_exit(4);
		_exit(fdinfo_events(fd, self->p[0]) ==
		      (EPOLLIN | EPOLLERR | EPOLLHUP) ? 0 : 5);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 0);
}

/* Unknown event bits are stored and ignored, as epoll does. */
TEST_F(ctl, unknown_event_bits_ignored)
{
	struct epoll_event ev;

	EXPECT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, self->p[0],
			  EPOLLIN | (1u << 20), 0), 0);
	ASSERT_EQ(write(self->p[1], "x", 1), 1);
	ASSERT_EQ(evp_wait(self->evfd, &ev, 1, 0), 1);
	EXPECT_EQ(ev.events, EPOLLIN);
}

TEST(open_is_unprivileged)
{
	struct stat st;

	ASSERT_EQ(stat(EVPOLL_DEVICE, &st), 0);
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(st.st_mode & 0777, 0666);
}

TEST(many_instances_independent)
{
	int fds[16], i, efd = eventfd(1, EFD_NONBLOCK);
	struct epoll_event ev;

	ASSERT_GE(efd, 0);
	for (i = 0; i < 16; i++) {
		fds[i] = evp_open();
		ASSERT_GE(fds[i], 0);
		ASSERT_EQ(evp_ctl(fds[i], EVPOLL_CTL_ADD, efd, EPOLLIN, i), 0);
	}
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(evp_wait(fds[i], &ev, 1, 0), 1);
		EXPECT_EQ(ev.data.u64, i);
	}
	for (i = 0; i < 16; i++)
		close(fds[i]);
	close(efd);
}

TEST_HARNESS_MAIN
