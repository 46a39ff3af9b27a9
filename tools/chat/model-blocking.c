// SPDX-License-Identifier: GPL-2.0
/*
 * evpoll-chat, model "blocking": every call blocks until it is done.
 *
 * The main thread blocks in accept(); each client gets a reader thread,
 * blocked in recv() (both phases of an input operation, waiting for data
 * and copying it, in one call), and a writer thread, blocked in send() or
 * on its condition variable.  A writer of its own per client is what keeps
 * a slow client from stalling the others: a reader only queues.  One mutex
 * (lock) protects the connection table and every queue.
 *
 * Threads: 1 + 2 per client.  Stop: the signal handler shuts the listener
 * down (accept() fails); then every client socket is shut down here, which
 * makes every recv() return 0 and every send() fail.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chat.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t all_gone = PTHREAD_COND_INITIALIZER;

struct blocking_conn {
	struct chat_server *srv;
	struct chat_conn *c;
	pthread_t writer;
	pthread_cond_t more;	/* output queued, or dead */
};

static struct blocking_conn *bc(struct chat_conn *c)
{
	return c->priv;
}

/*
 * Writer thread: take up to sizeof(buf) bytes out of the queue, send them
 * (blocking while the socket is full), sleep on the condition when the
 * queue is empty.  Taken out before sending: the queue (and its limit)
 * holds only what has not been handed to the kernel.
 */
static void *blocking_writer(void *arg)
{
	struct blocking_conn *b = arg;
	struct chat_conn *c = b->c;
	char buf[16384];

	pthread_mutex_lock(&lock);
	for (;;) {
		size_t len, off = 0;

		while (!c->len && !c->dead)
			pthread_cond_wait(&b->more, &lock);
		if (c->dead)
			break;
		len = chat_out_take(b->srv, c, buf, sizeof(buf));
		pthread_mutex_unlock(&lock);
		while (off < len) {
			ssize_t w = send(c->fd, buf + off, len - off,
					 MSG_NOSIGNAL);	/* blocks if full */

			if (w > 0)
				off += w;
			else if (!(w < 0 && errno == EINTR))
				break;
		}
		pthread_mutex_lock(&lock);
		if (off < len)
			chat_kill(b->srv, c, NULL);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

/*
 * Reader thread: recv() blocks until data is there and copies it; the
 * lines go to the other clients' queues.  Owns the connection: once the
 * reader stops, it joins the writer and frees everything.
 */
static void *blocking_reader(void *arg)
{
	struct blocking_conn *b = arg;
	struct chat_server *srv = b->srv;
	struct chat_conn *c = b->c;
	char buf[4096];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);	/* blocks */

		pthread_mutex_lock(&lock);
		if (n > 0 && !c->dead && !chat_input(srv, c, buf, n)) {
			pthread_mutex_unlock(&lock);
			continue;
		}
		if (n < 0 && errno == EINTR && !c->dead) {
			pthread_mutex_unlock(&lock);
			continue;
		}
		chat_kill(srv, c, NULL);
		pthread_mutex_unlock(&lock);
		break;
	}
	pthread_join(b->writer, NULL);
	pthread_mutex_lock(&lock);
	pthread_cond_destroy(&b->more);
	chat_conn_free(srv, c);
	free(b);
	if (!srv->nr_conns)
		pthread_cond_broadcast(&all_gone);
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* Called with lock held, from another client's reader. */
static void blocking_queued(struct chat_server *srv, struct chat_conn *c)
{
	pthread_cond_signal(&bc(c)->more);
}

/* Called with lock held: wake both of @c's threads. */
static void blocking_killed(struct chat_server *srv, struct chat_conn *c)
{
	shutdown(c->fd, SHUT_RDWR);
	pthread_cond_signal(&bc(c)->more);
}

static int blocking_start(struct chat_server *srv, int fd)
{
	struct blocking_conn *b = calloc(1, sizeof(*b));
	struct chat_conn *c = NULL;
	bool writer = false;
	pthread_attr_t attr;
	pthread_t reader;
	int ret = -1;

	if (!b) {
		close(fd);
		return -1;
	}
	pthread_mutex_lock(&lock);
	c = chat_conn_add(srv, fd);
	if (c) {
		b->srv = srv;
		b->c = c;
		c->priv = b;
		pthread_cond_init(&b->more, NULL);
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 128 * 1024);
		writer = !pthread_create(&b->writer, &attr, blocking_writer, b);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (writer && !pthread_create(&reader, &attr, blocking_reader, b))
			ret = 0;
		pthread_attr_destroy(&attr);
		if (ret)
			chat_kill(srv, c, "no thread");
	}
	pthread_mutex_unlock(&lock);
	if (ret && c) {
		if (writer)
			pthread_join(b->writer, NULL);
		pthread_mutex_lock(&lock);
		pthread_cond_destroy(&b->more);
		chat_conn_free(srv, c);
		pthread_mutex_unlock(&lock);
	}
	if (ret)
		free(b);
	return ret;
}

static int blocking_run(struct chat_server *srv)
{
	sigset_t stop, old;
	int i;

	/*
	 * The client threads block SIGTERM and SIGINT (they inherit the
	 * mask), so the handler runs in this thread and interrupts accept().
	 */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	chat_listening(srv);
	while (!chat_stopping) {
		int fd = accept4(srv->lfd, NULL, NULL, SOCK_CLOEXEC);	/* blocks */

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EMFILE || errno == ENFILE)
				continue;
			if (!chat_stopping)
				perror("evpoll-chat: accept");
			break;
		}
		pthread_sigmask(SIG_BLOCK, &stop, &old);
		blocking_start(srv, fd);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	pthread_mutex_lock(&lock);
	for (i = 0; i < srv->max_conns; i++)
		if (srv->conns[i])
			chat_kill(srv, srv->conns[i], NULL);
	while (srv->nr_conns)
		pthread_cond_wait(&all_gone, &lock);
	pthread_mutex_unlock(&lock);
	return chat_stopping ? 0 : 1;
}

const struct chat_model chat_model_blocking = {
	.name = "blocking",
	.family = "blocking",
	.run = blocking_run,
	.queued = blocking_queued,
	.killed = blocking_killed,
};
