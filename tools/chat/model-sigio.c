// SPDX-License-Identifier: GPL-2.0
/*
 * evpoll-chat, model "sigio": signal-driven I/O, written out here with
 * fcntl() and sigwaitinfo() (not through the poller's sigio backend,
 * lib/backend-sigio.c, which wraps the same calls in the poller API):
 * this file is the example of the model.
 *
 * Each socket is given an owner (F_SETOWN), a real-time signal (F_SETSIG)
 * and O_ASYNC: when data arrives (or room appears after a write found the
 * socket full) the kernel queues that signal for the process, with the fd
 * in si_fd and POLL_IN/POLL_OUT in si_band.  The signal is blocked and
 * taken synchronously with sigwaitinfo(), so nothing runs in a handler.
 * Phase 1 (waiting) is the kernel's: the process is told when; phase 2
 * (the copy) is still read(), which must drain the socket to EAGAIN since
 * a new signal only comes with new data.  One signal per arrival: the loop
 * takes all that are queued (sigtimedwait() with a zero timeout) before it
 * writes, so that lines arriving together leave in one send() per client.
 * If the real-time signal queue overflows, the kernel sends a plain SIGIO
 * instead: then every socket is tried (sigio_rescan()).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "chat.h"

/* F_SETOWN, F_SETSIG, then O_ASYNC (and O_NONBLOCK): signals from now on. */
static int sigio_arm(int fd, int sig)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETOWN, getpid()) ||
	    fcntl(fd, F_SETSIG, sig) ||
	    fcntl(fd, F_SETFL, fl | O_ASYNC | O_NONBLOCK))
		return -errno;
	return 0;
}

static void sigio_conn(struct chat_server *srv, struct chat_conn *c)
{
	if (!c->dead && chat_read_ready(srv, c) == 0)
		chat_write_ready(srv, c);
}

/*
 * Accept until EAGAIN; a new socket may have received data before it got
 * O_ASYNC, which sent no signal: read it once now.
 */
static void sigio_accept(struct chat_server *srv, int sig)
{
	int fd;

	while ((fd = chat_accept(srv)) >= 0) {
		struct chat_conn *c = chat_conn_add(srv, fd);

		if (!c)
			continue;
		if (sigio_arm(fd, sig))
			chat_kill(srv, c, "fcntl O_ASYNC failed");
		else
			sigio_conn(srv, c);
	}
}

/* Every connection: the signal queue overflowed, or the start. */
static void sigio_rescan(struct chat_server *srv, int sig)
{
	int i;

	sigio_accept(srv, sig);
	for (i = 0; i < srv->max_conns; i++)
		if (srv->conns[i])
			sigio_conn(srv, srv->conns[i]);
}

/* After a signal: write what it queued, close the dead. */
static void sigio_settle(struct chat_server *srv, bool all)
{
	int i;

	for (i = 0; i < srv->max_conns; i++) {
		struct chat_conn *c = srv->conns[i];

		if (c && !c->dead && c->len && !all)
			chat_write_ready(srv, c);
		if (c && (c->dead || all))
			chat_conn_free(srv, c);
	}
}

static struct chat_conn *sigio_find(struct chat_server *srv, int fd)
{
	int i;

	for (i = 0; i < srv->max_conns; i++)
		if (srv->conns[i] && srv->conns[i]->fd == fd)
			return srv->conns[i];
	return NULL;
}

static int sigio_run(struct chat_server *srv)
{
	int sig = SIGRTMIN + 1;
	sigset_t set;
	siginfo_t si;

	sigemptyset(&set);
	sigaddset(&set, sig);
	sigaddset(&set, SIGIO);		/* the real-time queue overflowed */
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (sigio_arm(srv->lfd, sig)) {
		fprintf(stderr, "evpoll-chat: O_ASYNC: %s\n", strerror(errno));
		return 1;
	}
	chat_listening(srv);
	sigio_rescan(srv, sig);
	while (!chat_stopping) {
		static const struct timespec zero;
		struct chat_conn *c;
		int s = sigwaitinfo(&set, &si);		/* phase 1: sleep */

		/*
		 * Take every signal already queued before writing: the lines
		 * that arrived together then go out in one send() per client.
		 */
		for (; s > 0; s = sigtimedwait(&set, &si, &zero)) {
			if (s == SIGTERM || s == SIGINT) {
				chat_stopping = 1;
				break;
			}
			if (s == SIGIO)
				sigio_rescan(srv, sig);
			else if (si.si_fd == srv->lfd)
				sigio_accept(srv, sig);
			else if ((c = sigio_find(srv, si.si_fd)))
				sigio_conn(srv, c);	/* phase 2: read() copies */
		}
		sigio_settle(srv, false);
	}
	sigio_settle(srv, true);
	return 0;
}

const struct chat_model chat_model_sigio = {
	.name = "sigio",
	.family = "signal-driven",
	.run = sigio_run,
};
