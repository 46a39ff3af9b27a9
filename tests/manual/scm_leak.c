// SPDX-License-Identifier: GPL-2.0
/*
 * scm_leak - the SCM_RIGHTS cycle evpoll cannot break (security.rst):
 * socketpair s, instance A watches s[0], s[1] sends {s[0], A} to s[0], all
 * three closed.  A and s[0] are then reachable only through the message in
 * s[0]'s own queue: the unix GC would free that, but evpoll's pin on s[0]
 * is a reference it cannot account for (file_count() != in-flight count),
 * and the instance, the socket and the message live until reboot; the
 * module cannot be unloaded.  epoll holds no reference: the same program
 * leaks nothing there.
 *
 * What it shows: how many such cycles a user can make.  As uid 65534 with
 * RLIMIT_NOFILE 64 it makes cycles until sendmsg() fails: the kernel
 * refuses a user more in-flight files than RLIMIT_NOFILE (ETOOMANYREFS,
 * too_many_unix_fds(); not for CAP_SYS_RESOURCE/CAP_SYS_ADMIN), and the
 * leaked items stay charged to the user's max_user_watches.
 *
 * By hand only, in a VM you do not need afterwards:
 *   tools/vm/vm-run.sh -m .../evpoll.ko -- build/tests/manual/scm_leak
 * exits 0 when the bound held; vm-run.sh then reports 91 (rmmod failed):
 * that is the leak.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "evp.h"

#define LEAK_NOFILE	64

static int leak_cycles(void)
{
	struct rlimit rl = { LEAK_NOFILE, LEAK_NOFILE };
	int n, s[2], a, fds[2], err = 0, probe;
	long long watches;

	if (setrlimit(RLIMIT_NOFILE, &rl))
		return -100;
	for (n = 0; n < 10 * LEAK_NOFILE; n++) {
		if (socketpair(AF_UNIX, SOCK_DGRAM, 0, s))
			return -101;
		a = evp_open();
		if (a < 0)
			return -102;
		if (evp_ctl(a, EVPOLL_CTL_ADD, s[0], EPOLLIN, 0))
			return -103;
		fds[0] = s[0];
		fds[1] = a;
		err = evp_send_fds(s[1], fds, 2);
		close(s[0]);
		close(s[1]);
		close(a);
		if (err)
			break;
	}
	probe = evp_open();
	watches = evp_counter(probe, "evpoll-user-watches");
	printf("# %d cycles made, then sendmsg: %s; the user's watches stay at %lld\n",
	       n, strerror(-err), watches);
	if (err != -ETOOMANYREFS || watches != n)
		return -104;
	return n;
}

int main(void)
{
	int status, n;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		if (geteuid() == 0 &&
		    (setresgid(65534, 65534, 65534) ||
		     setresuid(65534, 65534, 65534)))
			_exit(2);
		prctl(PR_SET_DUMPABLE, 1);
		n = leak_cycles();
		_exit(n > 0 && n < LEAK_NOFILE ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 1;
	printf("scm_leak: %s\n", WEXITSTATUS(status) ? "FAILED" : "bound held");
	return WEXITSTATUS(status);
}
