// SPDX-License-Identifier: GPL-2.0
/*
 * evpoll-chat: what every model shares.  Nothing here waits: the models
 * decide how to wait (a blocked thread, a busy loop, a poller, a signal,
 * a completion) and call in here once data has been copied into the
 * process (chat_input()) or a socket can take more (chat_write_ready()).
 *
 * The blocking model calls every function here with its one mutex held;
 * the other models are single-threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chat.h"

void chat_set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/* Take a new client into the table; NULL (and @fd closed) if it is full. */
struct chat_conn *chat_conn_add(struct chat_server *srv, int fd)
{
	struct chat_conn *c;
	int one = 1, i;

	for (i = 0; i < srv->max_conns && srv->conns[i]; i++)
		;
	c = i < srv->max_conns ? calloc(1, sizeof(*c)) : NULL;
	if (c)
		c->out = malloc(srv->outq_size);
	if (!c || !c->out) {
		if (srv->verbose)
			fprintf(stderr, "evpoll-chat: fd %d refused: %s\n", fd,
				c ? "out of memory" : "too many clients");
		if (c)
			free(c);
		close(fd);
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (srv->sndbuf)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &srv->sndbuf,
			   sizeof(srv->sndbuf));
	c->fd = fd;
	c->slot = i;
	srv->conns[i] = c;
	srv->nr_conns++;
	if (srv->verbose)
		fprintf(stderr, "evpoll-chat: client %d joined (fd %d)\n", i, fd);
	return c;
}

/* Close @c's socket and forget it; a partial line dies with it. */
void chat_conn_free(struct chat_server *srv, struct chat_conn *c)
{
	if (srv->verbose)
		fprintf(stderr, "evpoll-chat: client %d left%s\n", c->slot,
			c->linelen ? " mid-line (partial line dropped)" : "");
	srv->conns[c->slot] = NULL;
	srv->nr_conns--;
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	free(c);
}

/* Mark @c to be closed; the model closes it (the killed hook tells it). */
void chat_kill(struct chat_server *srv, struct chat_conn *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = true;
	if (why) {
		srv->kicked++;
		if (srv->verbose)
			fprintf(stderr, "evpoll-chat: client %d disconnected: %s\n",
				c->slot, why);
	}
	if (srv->model->killed)
		srv->model->killed(srv, c);
}

/* Append @len bytes to @c's output ring; false if they do not fit. */
static bool out_push(struct chat_server *srv, struct chat_conn *c,
		     const char *p, size_t len)
{
	size_t tail, first;

	if (len > srv->outq_size - c->len)
		return false;
	tail = (c->head + c->len) % srv->outq_size;
	first = srv->outq_size - tail;
	if (first > len)
		first = len;
	memcpy(c->out + tail, p, first);
	memcpy(c->out, p + first, len - first);
	c->len += len;
	return true;
}

/*
 * The queued bytes that are contiguous in the ring, from the head: what
 * one write() or one asynchronous write can take.  They stay in the queue
 * (and are not overwritten) until chat_out_pop().
 */
size_t chat_out_peek(const struct chat_server *srv, const struct chat_conn *c,
		     const char **p)
{
	size_t n = srv->outq_size - c->head;

	*p = c->out + c->head;
	return n < c->len ? n : c->len;
}

void chat_out_pop(struct chat_server *srv, struct chat_conn *c, size_t n)
{
	c->head = (c->head + n) % srv->outq_size;
	c->len -= n;
	if (!c->len)
		c->head = 0;
}

/*
 * Move up to @max queued bytes of @c into @buf: for a write that runs
 * outside the server's control (a writer thread's blocking send(), a
 * posted asynchronous write), so that the queue and its limit hold only
 * what has not been handed to the kernel yet.
 */
size_t chat_out_take(struct chat_server *srv, struct chat_conn *c,
		     char *buf, size_t max)
{
	size_t len = 0;

	while (c->len && len < max) {
		const char *p;
		size_t n = chat_out_peek(srv, c, &p);

		if (n > max - len)
			n = max - len;
		memcpy(buf + len, p, n);
		chat_out_pop(srv, c, n);
		len += n;
	}
	return len;
}

/* One complete line from @from: to every other live client, verbatim. */
static void broadcast(struct chat_server *srv, struct chat_conn *from,
		      const char *line, size_t len)
{
	int i;

	srv->lines++;
	for (i = 0; i < srv->max_conns; i++) {
		struct chat_conn *c = srv->conns[i];

		if (!c || c == from || c->dead)
			continue;
		if (!out_push(srv, c, line, len))
			chat_kill(srv, c, "output queue full (slow client)");
		else if (srv->model->queued)
			srv->model->queued(srv, c);
	}
}

/*
 * @n bytes that @c sent, already copied into the process: complete lines
 * are broadcast, the rest is kept for the next call.  -1 when a line is
 * longer than CHAT_LINE_MAX (then @c has been killed).
 */
int chat_input(struct chat_server *srv, struct chat_conn *c,
	       const char *buf, size_t n)
{
	while (n) {
		const char *nl = memchr(buf, '\n', n);
		size_t take = nl ? (size_t)(nl - buf) + 1 : n;

		if (c->linelen + take > CHAT_LINE_MAX ||
		    (!nl && c->linelen + take == CHAT_LINE_MAX)) {
			chat_kill(srv, c, "line longer than 1024 bytes");
			return -1;
		}
		memcpy(c->line + c->linelen, buf, take);
		c->linelen += take;
		if (nl) {
			broadcast(srv, c, c->line, c->linelen);
			c->linelen = 0;
		}
		buf += take;
		n -= take;
	}
	return 0;
}

/*
 * Accept one client on the non-blocking listener: its fd (non-blocking
 * too), or -1 when there is none (EAGAIN) or it failed.
 */
int chat_accept(struct chat_server *srv)
{
	int fd;

	do
		fd = accept4(srv->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	while (fd < 0 && errno == EINTR);
	return fd;
}

/*
 * Readiness models: @c's socket is readable.  Read (copy) until it would
 * block.  -1 when @c is to be closed (EOF, error, over-long line).
 */
int chat_read_ready(struct chat_server *srv, struct chat_conn *c)
{
	char buf[4096];

	for (;;) {
		ssize_t n = read(c->fd, buf, sizeof(buf));

		if (n > 0) {
			if (chat_input(srv, c, buf, n))
				return -1;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		chat_kill(srv, c, NULL);
		return -1;
	}
}

/*
 * Readiness models: write what is queued for @c until the queue is empty
 * (0) or the socket is full (1); -1 on an error (then @c is killed).
 */
int chat_write_ready(struct chat_server *srv, struct chat_conn *c)
{
	while (c->len) {
		const char *p;
		size_t len = chat_out_peek(srv, c, &p);
		ssize_t w = send(c->fd, p, len, MSG_NOSIGNAL);

		if (w > 0) {
			chat_out_pop(srv, c, w);
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return 1;
		chat_kill(srv, c, NULL);
		return -1;
	}
	return 0;
}

/* Empty the wake pipe; true if a stop was asked for. */
bool chat_drain_wake(struct chat_server *srv)
{
	char buf[64];

	while (read(srv->wakefd, buf, sizeof(buf)) > 0)
		;
	return chat_stopping;
}
