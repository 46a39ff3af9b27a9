// SPDX-License-Identifier: GPL-2.0
/*
 * scm_test - watched sockets passed in SCM_RIGHTS messages, and the unix
 * garbage collector (Documentation/security.rst, "SCM_RIGHTS cycles").
 *
 * A unix socket whose only references are in flight in unix messages that
 * only it can receive is garbage; the unix GC frees it (net/unix/
 * garbage.c: unix_vertex_dead() wants file_count() == the in-flight count).
 * evpoll's pin on a watched file is one reference more, so the GC keeps a
 * socket that an instance watches for as long as the instance watches it;
 * epoll holds no reference, and the same program frees the socket.
 *
 *  - pinned_until_instance_closes: the difference to epoll (the oracle, in
 *    the same GC pass), and that closing the instance hands the socket
 *    back to the GC: nothing is lost for good while the instance is
 *    reachable.
 * The cycle that is closed for good (the instance itself sent in the
 * message) is tests/manual/scm_leak.c: it leaks on purpose, so it is not
 * part of make check.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "evp.h"
#include "kselftest_harness.h"

static unsigned long inode_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/* Is a unix socket with inode @ino still alive (/proc/net/unix)? */
static bool unix_alive(unsigned long ino)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/net/unix", "r");

	if (!f)
		return true;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long i;

		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %lu", &i) == 1 &&
		    i == ino)
			found = true;
	}
	fclose(f);
	return found;
}

/* Closing a unix socket runs the unix GC when anything is in flight. */
static void kick_gc(void)
{
	int s[2];

	if (!socketpair(AF_UNIX, SOCK_STREAM, 0, s)) {
		close(s[0]);
		close(s[1]);
	}
}

/*
 * A socket that holds the only reference to itself in its own receive
 * queue, watched by @watcher's ADD: returns its inode.
 */
static unsigned long self_sent_socket(int watcher, bool is_epoll)
{
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned long ino;
	int s[2];

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, s))
		return 0;
	ino = inode_of(s[0]);
	if (is_epoll ? epoll_ctl(watcher, EPOLL_CTL_ADD, s[0], &ev) :
		       evp_ctl(watcher, EVPOLL_CTL_ADD, s[0], EPOLLIN, 0))
		ino = 0;
	if (evp_send_fds(s[1], &s[0], 1))
		ino = 0;
	close(s[0]);
	close(s[1]);
	return ino;
}

TEST(pinned_until_instance_closes)
{
	int ep = epoll_create1(0), evfd = evp_open(), efd = eventfd(0, 0);
	unsigned long ino_ep, ino_evp;
	struct epoll_event ev;
	long long ms;

	ASSERT_GE(ep, 0);
	ASSERT_GE(evfd, 0);
	ASSERT_GE(efd, 0);
	ino_evp = self_sent_socket(evfd, false);
	ASSERT_NE(ino_evp, 0);
	/* A closed eventfd: its reaping shows that a reaper pass ran. */
	ASSERT_EQ(evp_ctl(evfd, EVPOLL_CTL_ADD, efd, EPOLLOUT | EPOLLET, 0), 0);
	ASSERT_EQ(evp_wait(evfd, &ev, 1, 0), 1);	/* consume its edge */
	close(efd);
	ms = evp_counter_settles(evfd, "evpoll-reaped", 1, 20000);
	ASSERT_GE(ms, 0) TH_LOG("no reaper pass within 20 s");

	/* epoll: the GC frees its socket, in a pass that also sees ours. */
	ino_ep = self_sent_socket(ep, true);
	ASSERT_NE(ino_ep, 0);
	ms = evp_poll_until((kick_gc(), !unix_alive(ino_ep)), 20000);
	ASSERT_GE(ms, 0) TH_LOG("the unix GC never freed epoll's socket");
	/* evpoll: the pin keeps it, and the reaper cannot tell. */
	EXPECT_TRUE(unix_alive(ino_evp));
	EXPECT_EQ(evp_counter(evfd, "evpoll-items"), 1);

	/* Closing the instance unpins it: the GC frees it after all. */
	close(evfd);
	ms = evp_poll_until((kick_gc(), !unix_alive(ino_evp)), 20000);
	EXPECT_GE(ms, 0) TH_LOG("the socket outlived the instance");
	TH_LOG("freed %lld ms after the instance was closed", ms);
	close(ep);
}

TEST_HARNESS_MAIN
