// SPDX-License-Identifier: GPL-2.0
/*
 * evpoll-chat, models "select", "poll", "epoll", "evpoll", "evpoll-ring":
 * I/O multiplexing through libevpoll's poller (include/evpoll.h).
 *
 * One thread blocks in evpoll_poller_wait() on every socket at once
 * (phase 1: waiting for any of them to become readable); then read()
 * copies the data (phase 2) from a socket that is known to have some, so
 * it does not block.  The five models are this one file: what differs is
 * the mechanism behind the poller (lib/backend-select.c, backend-poll.c,
 * backend-epoll.c, backend-evpoll.c, backend-evpoll-ring.c: the events of
 * a wait come from evpoll's shared ring, without a system call while it
 * has some), chosen by name.
 *
 * Level-triggered: EPOLLIN on every client, EPOLLOUT only while its output
 * queue is not empty and the socket was found full.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <evpoll.h>

#include "chat.h"

#define POLLER_LISTEN	((uint64_t)-1)
#define POLLER_WAKE	((uint64_t)-2)

struct poller_state {
	struct evpoll_poller *p;
	bool *armed;		/* by slot: EPOLLOUT is set */
};

static void poller_close(struct chat_server *srv, struct poller_state *st,
			 struct chat_conn *c)
{
	evpoll_poller_del(st->p, c->fd);
	chat_conn_free(srv, c);
}

static void poller_accept(struct chat_server *srv, struct poller_state *st)
{
	int fd;

	while ((fd = chat_accept(srv)) >= 0) {
		struct chat_conn *c = chat_conn_add(srv, fd);
		int ret;

		if (!c)
			continue;
		ret = evpoll_poller_add(st->p, fd, EPOLLIN, c->slot);
		if (ret) {
			fprintf(stderr, "evpoll-chat: poller add fd %d: %s\n",
				fd, strerror(-ret));
			chat_conn_free(srv, c);
			continue;
		}
		st->armed[c->slot] = false;
	}
}

/*
 * After a batch of events: write what the batch queued, arm EPOLLOUT
 * where the socket is full, disarm it where the queue emptied, close the
 * dead.
 */
static void poller_settle(struct chat_server *srv, struct poller_state *st)
{
	int i;

	for (i = 0; i < srv->max_conns; i++) {
		struct chat_conn *c = srv->conns[i];
		bool want;

		if (!c)
			continue;
		if (!c->dead && c->len && !st->armed[i])
			chat_write_ready(srv, c);
		if (c->dead) {
			poller_close(srv, st, c);
			continue;
		}
		want = c->len != 0;
		if (want != st->armed[i] &&
		    !evpoll_poller_mod(st->p, c->fd, EPOLLIN |
				       (want ? EPOLLOUT : 0), i))
			st->armed[i] = want;
	}
}

static int poller_run(struct chat_server *srv)
{
	struct evpoll_poller_event evs[64];
	struct poller_state st = { 0 };
	int ret, i, k = 0;

	ret = evpoll_poller_new_by_name(srv->model->arg, 0, &st.p);
	if (ret) {
		fprintf(stderr, "evpoll-chat: %s poller: %s%s\n",
			srv->model->arg, strerror(-ret),
			strcmp(srv->model->arg, "evpoll") ? "" :
			" (is evpoll.ko loaded? /dev/evpoll)");
		return 1;
	}
	st.armed = calloc(srv->max_conns, sizeof(*st.armed));
	chat_set_nonblock(srv->lfd, true);
	if (!st.armed ||
	    evpoll_poller_add(st.p, srv->lfd, EPOLLIN, POLLER_LISTEN) ||
	    evpoll_poller_add(st.p, srv->wakefd, EPOLLIN, POLLER_WAKE)) {
		fprintf(stderr, "evpoll-chat: poller set-up failed\n");
		return 1;
	}
	chat_listening(srv);
	while (!chat_stopping) {
		/* Phase 1: sleep until one of the sockets is ready. */
		k = evpoll_poller_wait(st.p, evs, 64, -1);
		if (k < 0 && k != -EINTR) {
			fprintf(stderr, "evpoll-chat: wait: %s\n", strerror(-k));
			break;
		}
		for (i = 0; i < k; i++) {
			uint64_t d = evs[i].data;
			struct chat_conn *c;

			if (d == POLLER_WAKE) {
				chat_drain_wake(srv);
				continue;
			}
			if (d == POLLER_LISTEN) {
				poller_accept(srv, &st);
				continue;
			}
			c = srv->conns[d];
			if (!c || c->dead || c->fd != evs[i].fd)
				continue;
			/* Phase 2: the copy; the data is there already. */
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				chat_read_ready(srv, c);
			if (!c->dead && (evs[i].events & EPOLLOUT))
				chat_write_ready(srv, c);
		}
		poller_settle(srv, &st);
	}
	for (i = 0; i < srv->max_conns; i++)
		if (srv->conns[i])
			poller_close(srv, &st, srv->conns[i]);
	free(st.armed);
	evpoll_poller_free(st.p);
	return k < 0 && k != -EINTR ? 1 : 0;
}

#define POLLER_MODEL(n)					\
	const struct chat_model chat_model_##n = {	\
		.name = #n,				\
		.family = "multiplexed",		\
		.arg = #n,				\
		.run = poller_run,			\
	}

POLLER_MODEL(select);
POLLER_MODEL(poll);
POLLER_MODEL(epoll);
POLLER_MODEL(evpoll);

const struct chat_model chat_model_evpoll_ring = {
	.name = "evpoll-ring",
	.family = "multiplexed",
	.arg = "evpoll-ring",
	.run = poller_run,
};
