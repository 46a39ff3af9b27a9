// SPDX-License-Identifier: GPL-2.0
/*
 * quiet-inst: N watched across N/64 instances of 64 fds each, nothing
 * happens for one second: what the machine executes meanwhile, when the
 * watched set is spread over many instances (a per-instance reaper timer
 * costs per instance, not per item).  epoll and evpoll only.  Not run
 * unless -m names it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bench.h"

#define QUIET_INST_FDS	64	/* fds per instance */

/*
 * The instances are made with the epoll-signature calls, not pollers: a
 * poller keeps per-fd tables sized by the highest fd, which 1,024 of
 * them at N=65536 would make gigabytes.
 */
static int quiet_inst_create(enum evpoll_backend b)
{
	return b == EVPOLL_BACKEND_EPOLL ? epoll_create1(EPOLL_CLOEXEC) :
	       evpoll_create1(EVPOLL_CLOEXEC);
}

static int quiet_inst_add(enum evpoll_backend b, int efd, int fd, long k)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = k };

	return b == EVPOLL_BACKEND_EPOLL ?
	       epoll_ctl(efd, EPOLL_CTL_ADD, fd, &ev) :
	       evpoll_ctl(efd, EPOLL_CTL_ADD, fd, &ev);
}

static void quiet_inst_backend_n(enum evpoll_backend b, long n, int rep)
{
	long ni = (n + QUIET_INST_FDS - 1) / QUIET_INST_FDS, i, k;
	struct run r;
	int *efd;

	if (b != EVPOLL_BACKEND_EPOLL && b != EVPOLL_BACKEND_EVPOLL)
		return;
	efd = xcalloc(ni, sizeof(*efd));
	for (i = 0; i < ni; i++) {
		efd[i] = quiet_inst_create(b);
		if (efd[i] < 0)
			die("%s: instance %ld: %s", evpoll_backend_name(b), i,
			    strerror(errno));
		for (k = i * QUIET_INST_FDS;
		     k < n && k < (i + 1) * QUIET_INST_FDS; k++)
			if (quiet_inst_add(b, efd[i], pairs[k].r, k))
				die("%s: add #%ld: %s", evpoll_backend_name(b),
				    k, strerror(errno));
	}
	run_start(&r);
	sleep_ms(1000);
	run_stop(&r, &bench_mode_quiet_inst, "second", evpoll_backend_name(b),
		 n, QUIET_INST_FDS, rep, 1);
	for (i = 0; i < ni; i++)
		close(efd[i]);
	free(efd);
}

const struct bench_mode bench_mode_quiet_inst = {
	.name		= "quiet-inst",
	.param_label	= "fds/instance",
	.optional	= true,
	.no_selfcheck	= true,
	.run_backend_n	= quiet_inst_backend_n,
};
