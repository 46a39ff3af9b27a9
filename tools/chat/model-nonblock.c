// SPDX-License-Identifier: GPL-2.0
/*
 * evpoll-chat, model "nonblocking": one thread, every socket O_NONBLOCK,
 * and a loop that tries every one of them again and again.
 *
 * A read() on an empty non-blocking socket returns EAGAIN at once instead
 * of waiting: phase 1 (waiting for data) becomes the process asking, over
 * and over; phase 2 (the copy) still happens inside read().  Nothing ever
 * sleeps, so the server uses a whole CPU even when no one talks: that cost
 * is what this model shows (Documentation/io-models.rst measures it).
 */
#include <errno.h>
#include <unistd.h>

#include "chat.h"

/* Close every connection that core.c or a failed call marked dead. */
static void nonblock_sweep(struct chat_server *srv, bool all)
{
	int i;

	for (i = 0; i < srv->max_conns; i++) {
		struct chat_conn *c = srv->conns[i];

		if (c && (all || c->dead))
			chat_conn_free(srv, c);
	}
}

static int nonblock_run(struct chat_server *srv)
{
	int i;

	chat_set_nonblock(srv->lfd, true);
	chat_listening(srv);
	while (!chat_stopping) {
		int fd = chat_accept(srv);	/* EAGAIN most of the time */

		if (fd >= 0)
			chat_conn_add(srv, fd);
		for (i = 0; i < srv->max_conns; i++) {
			struct chat_conn *c = srv->conns[i];

			if (!c || c->dead)
				continue;
			if (chat_read_ready(srv, c) == 0)	/* EAGAIN: ask again */
				chat_write_ready(srv, c);
		}
		nonblock_sweep(srv, false);
	}
	nonblock_sweep(srv, true);
	return 0;
}

const struct chat_model chat_model_nonblocking = {
	.name = "nonblocking",
	.family = "nonblocking",
	.run = nonblock_run,
};
