// SPDX-License-Identifier: GPL-2.0
/*
 * evpoll-chat, models "uring", "linuxaio", "posixaio": asynchronous I/O
 * through libevpoll's completion API (include/evpoll-aio.h).
 *
 * A read is always posted on every client, into that client's own buffer.
 * The process does not wait for data and then copy it: it is told, by a
 * completion, that both phases are over and the bytes are in its buffer
 * (aio_loop()).  Writes are posted the same way, one at a time per client,
 * from a buffer filled from its output queue.  What does the waiting and the copying
 * differs by mechanism (lib/aio-uring.c, aio-linux.c, aio-posix.c):
 * io_uring's kernel side; Linux AIO's poll request and then a read inside
 * evpoll_aio_wait(); glibc's threads blocked in read().
 *
 * The completion API has no accept: a helper thread blocks in accept()
 * and passes each new fd through a pipe, on which a read is posted like on
 * any client.  The wake pipe (SIGTERM/SIGINT) has a read posted as well.
 *
 * posixaio: glibc runs the requests on one descriptor one after the
 * other, so a write would wait behind the read that waits for the client:
 * writes go to a dup() of the socket.  Its threads (at most 20 by
 * default) each block in one read: aio_init() raises the limit.
 */
#include <aio.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <evpoll-aio.h>

#include "chat.h"

#define AIO_WAKE	1ULL	/* user_data of the wake pipe's read */
#define AIO_ACCEPT	2ULL	/* user_data of the accept pipe's read */
#define AIO_WRITE	1ULL	/* bit 0 of a connection's user_data */

struct aio_conn {
	struct chat_conn *c;
	int wfd;		/* where writes go: c->fd, or a dup (posix) */
	bool reading, writing, cancelled;
	char rbuf[4096];
	char wbuf[16384];	/* the write in flight, out of the queue */
	size_t woff, wlen;	/* its part not yet written */
};

struct aio_state {
	struct evpoll_aio *ctx;
	struct chat_server *srv;
	bool blocking;		/* sockets stay blocking (uring, posix) */
	bool dup_writes;	/* posix */
	int accept_pipe[2];
	int accepted[64];	/* the accept pipe's read buffer */
	char wakebuf[64];
	pthread_t acceptor;
};

static uint64_t aio_ud(struct aio_conn *ac, bool write)
{
	return (uint64_t)(uintptr_t)ac | (write ? AIO_WRITE : 0);
}

/* The helper thread: accept() blocks; each fd goes down the pipe. */
static void *aio_acceptor(void *arg)
{
	struct aio_state *st = arg;
	int flags = SOCK_CLOEXEC | (st->blocking ? 0 : SOCK_NONBLOCK);

	while (!chat_stopping) {
		int fd = accept4(st->srv->lfd, NULL, NULL, flags);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;		/* shut down by the signal handler */
		}
		if (write(st->accept_pipe[1], &fd, sizeof(fd)) != sizeof(fd))
			close(fd);
	}
	return NULL;
}

static int aio_post_read(struct aio_state *st, struct aio_conn *ac)
{
	int ret = evpoll_aio_read(st->ctx, ac->c->fd, ac->rbuf,
				  sizeof(ac->rbuf), EVPOLL_AIO_OFFSET_NONE,
				  aio_ud(ac, false));

	ac->reading = !ret;
	return ret;
}

static void aio_new_conn(struct aio_state *st, int fd)
{
	struct chat_conn *c = chat_conn_add(st->srv, fd);
	struct aio_conn *ac;

	if (!c)
		return;
	ac = calloc(1, sizeof(*ac));
	c->priv = ac;
	if (!ac) {
		chat_conn_free(st->srv, c);
		return;
	}
	ac->c = c;
	ac->wfd = st->dup_writes ? dup(fd) : fd;
	if (ac->wfd < 0 || aio_post_read(st, ac))
		chat_kill(st->srv, c, "cannot post a read");
}

static void aio_free_conn(struct aio_state *st, struct aio_conn *ac)
{
	if (ac->wfd >= 0 && ac->wfd != ac->c->fd)
		close(ac->wfd);
	chat_conn_free(st->srv, ac->c);
	free(ac);
}

/* One completion of a client's read or write. */
static void aio_complete(struct aio_state *st, struct aio_conn *ac,
			 bool write, int64_t res)
{
	struct chat_conn *c = ac->c;

	if (write)
		ac->writing = false;
	else
		ac->reading = false;
	if (c->dead)
		return;
	if (res == -EAGAIN || res == -EINTR) {
		if (!write && aio_post_read(st, ac))
			chat_kill(st->srv, c, NULL);
		return;		/* a write is posted again by aio_settle() */
	}
	if (res <= 0) {
		chat_kill(st->srv, c, NULL);	/* EOF, reset, cancelled */
		return;
	}
	if (write) {
		ac->woff += res;	/* a short write: the rest goes next */
		ac->wlen -= res;
		return;
	}
	/* Both phases are done: the bytes are in ac->rbuf already. */
	if (!chat_input(st->srv, c, ac->rbuf, res) && aio_post_read(st, ac))
		chat_kill(st->srv, c, NULL);
}

/*
 * After a batch: post a write where output is queued and none is in
 * flight; stop the dead (shut the socket down so that a read blocked in a
 * glibc thread returns, cancel what can be cancelled) and free them once
 * nothing of theirs is in flight.
 */
static void aio_settle(struct aio_state *st)
{
	struct chat_server *srv = st->srv;
	int i;

	for (i = 0; i < srv->max_conns; i++) {
		struct chat_conn *c = srv->conns[i];
		struct aio_conn *ac = c ? c->priv : NULL;

		if (!ac)
			continue;
		if (c->dead) {
			if (!ac->reading && !ac->writing) {
				aio_free_conn(st, ac);
			} else if (!ac->cancelled) {
				ac->cancelled = true;
				shutdown(c->fd, SHUT_RDWR);
				if (ac->reading)
					evpoll_aio_cancel(st->ctx, aio_ud(ac, false));
				if (ac->writing)
					evpoll_aio_cancel(st->ctx, aio_ud(ac, true));
			}
			continue;
		}
		if (ac->writing || (!ac->wlen && !c->len))
			continue;
		/*
		 * Take the queue's bytes into wbuf before posting: the queue
		 * (and its limit) holds only what was not handed over yet.
		 */
		if (!ac->wlen) {
			ac->woff = 0;
			ac->wlen = chat_out_take(srv, c, ac->wbuf,
						 sizeof(ac->wbuf));
		}
		if (evpoll_aio_write(st->ctx, ac->wfd, ac->wbuf + ac->woff,
				     ac->wlen, EVPOLL_AIO_OFFSET_NONE,
				     aio_ud(ac, true)))
			chat_kill(srv, c, "cannot post a write");
		else
			ac->writing = true;
	}
}

static int aio_post_pipes(struct aio_state *st, bool wake, bool acc)
{
	int ret = 0;

	if (wake)
		ret = evpoll_aio_read(st->ctx, st->srv->wakefd, st->wakebuf,
				      sizeof(st->wakebuf),
				      EVPOLL_AIO_OFFSET_NONE, AIO_WAKE);
	if (!ret && acc)
		ret = evpoll_aio_read(st->ctx, st->accept_pipe[0],
				      st->accepted, sizeof(st->accepted),
				      EVPOLL_AIO_OFFSET_NONE, AIO_ACCEPT);
	return ret;
}

/* Completions until stopped, then until nothing is in flight. */
static int aio_loop(struct aio_state *st)
{
	struct chat_server *srv = st->srv;
	struct evpoll_aio_cqe cqes[64];
	bool acc_open = true, closing = false;
	int i, k;

	for (;;) {
		if (chat_stopping && !closing) {
			closing = true;
			for (i = 0; i < srv->max_conns; i++)
				if (srv->conns[i])
					chat_kill(srv, srv->conns[i], NULL);
			/* the acceptor ends (listener shut down): EOF on the pipe */
			pthread_join(st->acceptor, NULL);
			close(st->accept_pipe[1]);
			st->accept_pipe[1] = -1;
		}
		aio_settle(st);
		if (closing && !evpoll_aio_inflight(st->ctx))
			return 0;
		k = evpoll_aio_wait(st->ctx, cqes, 1, 64, NULL);
		if (k < 0 && k != -EINTR && k != -EAGAIN) {
			fprintf(stderr, "evpoll-chat: aio wait: %s\n", strerror(-k));
			return 1;
		}
		for (i = 0; i < k; i++) {
			uint64_t ud = cqes[i].user_data;
			int64_t res = cqes[i].res, j;

			if (ud == AIO_WAKE) {
				if (!chat_stopping && aio_post_pipes(st, true, false))
					return 1;
			} else if (ud == AIO_ACCEPT) {
				for (j = 0; j < res / (int64_t)sizeof(int); j++)
					if (closing)
						close(st->accepted[j]);
					else
						aio_new_conn(st, st->accepted[j]);
				acc_open = res > 0;
				if (acc_open && aio_post_pipes(st, false, true))
					return 1;
			} else {
				aio_complete(st, (struct aio_conn *)(uintptr_t)
					     (ud & ~AIO_WRITE), ud & AIO_WRITE, res);
			}
		}
	}
}

static int aio_run(struct chat_server *srv)
{
	struct aio_state st = { .srv = srv };
	const char *name = srv->model->arg;
	int ret;

	st.dup_writes = !strcmp(name, "posix");
	st.blocking = strcmp(name, "linux") != 0;
	if (st.dup_writes) {
		struct aioinit init = {
			.aio_threads = 2 * srv->max_conns + 8,
			.aio_num = 4 * srv->max_conns + 8,
			.aio_idle_time = 3600,	/* threads live: counted */
		};

		aio_init(&init);
	}
	ret = evpoll_aio_new_by_name(name, 2 * srv->max_conns + 8, 0, &st.ctx);
	if (ret) {
		fprintf(stderr, "evpoll-chat: %s: %s\n", name, strerror(-ret));
		return 1;
	}
	/*
	 * A read posted on a non-blocking pipe completes at once with
	 * -EAGAIN (posix, and io_uring on an O_NONBLOCK file): the loop
	 * would spin.  Blocking, the read waits for the byte, as meant.
	 */
	chat_set_nonblock(srv->lfd, false);
	chat_set_nonblock(srv->wakefd, false);
	if (pipe2(st.accept_pipe, O_CLOEXEC) || aio_post_pipes(&st, true, true) ||
	    pthread_create(&st.acceptor, NULL, aio_acceptor, &st)) {
		fprintf(stderr, "evpoll-chat: %s: set-up failed\n", name);
		return 1;
	}
	chat_listening(srv);
	ret = aio_loop(&st);
	evpoll_aio_free(st.ctx);
	close(st.accept_pipe[0]);
	if (st.accept_pipe[1] >= 0)
		close(st.accept_pipe[1]);
	return ret;
}

#define AIO_MODEL(n, backend)				\
	const struct chat_model chat_model_##n = {	\
		.name = #n,				\
		.family = "asynchronous",		\
		.arg = backend,				\
		.run = aio_run,				\
	}

AIO_MODEL(uring, "uring");
AIO_MODEL(linuxaio, "linux");
AIO_MODEL(posixaio, "posix");
