/* SPDX-License-Identifier: GPL-2.0 */
/*
 * evpoll-chat: one chat server in every I/O model.
 *
 *   chat.c             options, the listener, signals, the model table
 *   core.c             what every model shares: the connection table, line
 *                      assembly, the broadcast, bounded output queues
 *   model-blocking.c   blocking: two threads per client
 *   model-nonblock.c   non-blocking: one thread polling every socket
 *   model-poller.c     multiplexed: select, poll, epoll, evpoll, evpoll-ring
 *                      (the poller)
 *   model-sigio.c      signal-driven: O_ASYNC + F_SETSIG, sigwaitinfo()
 *   model-aio.c        asynchronous: uring, linuxaio, posixaio (evpoll_aio)
 *
 * A model is a struct chat_model: run() sets itself up, calls
 * chat_listening() (which prints "listening on PORT"), serves until
 * chat_stopping is set, then closes every connection and returns 0.  It is called with the
 * listening socket open (blocking) and the wake pipe's read end, which the
 * SIGTERM/SIGINT handler writes a byte to.
 *
 * The protocol (Documentation/io-models.rst, evpoll-chat(1)): TCP,
 * lines of at most CHAT_LINE_MAX bytes counting the newline; each line is
 * sent verbatim to every other client.  Policies, enforced here in core.c:
 *   - a line longer than CHAT_LINE_MAX: its sender is disconnected;
 *   - a client whose output queue (srv->outq_size bytes not yet handed
 *     to the kernel) would overflow: that client is disconnected, the
 *     others are not slowed down;
 *   - a client that disconnects mid-line: the partial line is dropped.
 */
#ifndef _EVPOLL_CHAT_H
#define _EVPOLL_CHAT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHAT_LINE_MAX		1024	/* bytes, newline included */
#define CHAT_OUTQ_DEFAULT	65536	/* bytes queued per client, at most */
#define CHAT_MAX_CLIENTS	256

struct chat_server;

/*
 * struct chat_conn - one connected client
 * @fd:		its socket
 * @slot:	index in srv->conns
 * @dead:	to be closed: EOF, error, over-long line or overflow
 * @line, @linelen:	the line being assembled (no newline yet)
 * @out, @head, @len:	output queue, a ring of srv->outq_size bytes
 * @priv:	the model's per-connection state
 */
struct chat_conn {
	int fd;
	int slot;
	bool dead;
	char line[CHAT_LINE_MAX];
	size_t linelen;
	char *out;
	size_t head, len;
	void *priv;
};

/*
 * struct chat_model - one I/O model
 * @name:	--model name
 * @family:	which of the five I/O models it is
 * @arg:	the poller or completion backend's name, for the shared files
 * @run:	serve until chat_stopping; 0 on a clean exit
 * @queued:	optional: output was queued on @c (arm EPOLLOUT, wake a
 *		writer thread, post a write)
 * @killed:	optional: @c was just marked dead by core.c (overflow)
 */
struct chat_model {
	const char *name;
	const char *family;
	const char *arg;
	int (*run)(struct chat_server *srv);
	void (*queued)(struct chat_server *srv, struct chat_conn *c);
	void (*killed)(struct chat_server *srv, struct chat_conn *c);
};

/*
 * struct chat_server - the server
 * @model:	the model serving
 * @lfd:	listening socket
 * @wakefd:	read end of the wake pipe (the signal handler writes to it)
 * @conns:	connections by slot, NULL for a free slot
 * @max_conns:	slots
 * @nr_conns:	slots in use
 * @outq_size:	bytes of each output queue
 * @sndbuf:	SO_SNDBUF of each client socket, 0 to leave the kernel's
 * @verbose:	log connections and disconnections to stderr
 * @lines:	lines received (complete, broadcast)
 * @kicked:	clients disconnected by a policy
 */
struct chat_server {
	const struct chat_model *model;
	int lfd;
	int wakefd;
	struct chat_conn **conns;
	int max_conns;
	int nr_conns;
	size_t outq_size;
	int sndbuf;
	bool verbose;
	unsigned long lines;
	unsigned long kicked;
};

extern volatile sig_atomic_t chat_stopping;

/* The models (model-*.c). */
extern const struct chat_model chat_model_blocking;
extern const struct chat_model chat_model_nonblocking;
extern const struct chat_model chat_model_select;
extern const struct chat_model chat_model_poll;
extern const struct chat_model chat_model_epoll;
extern const struct chat_model chat_model_evpoll;
extern const struct chat_model chat_model_evpoll_ring;
extern const struct chat_model chat_model_sigio;
extern const struct chat_model chat_model_uring;
extern const struct chat_model chat_model_linuxaio;
extern const struct chat_model chat_model_posixaio;

/* chat.c: a model calls it once it is ready to take clients. */
void chat_listening(struct chat_server *srv);

/* core.c */
struct chat_conn *chat_conn_add(struct chat_server *srv, int fd);
void chat_conn_free(struct chat_server *srv, struct chat_conn *c);
int chat_input(struct chat_server *srv, struct chat_conn *c,
	       const char *buf, size_t n);
void chat_kill(struct chat_server *srv, struct chat_conn *c, const char *why);
size_t chat_out_peek(const struct chat_server *srv, const struct chat_conn *c,
		     const char **p);
void chat_out_pop(struct chat_server *srv, struct chat_conn *c, size_t n);
size_t chat_out_take(struct chat_server *srv, struct chat_conn *c,
		     char *buf, size_t max);
int chat_accept(struct chat_server *srv);
int chat_read_ready(struct chat_server *srv, struct chat_conn *c);
int chat_write_ready(struct chat_server *srv, struct chat_conn *c);
void chat_set_nonblock(int fd, bool on);
bool chat_drain_wake(struct chat_server *srv);

#endif /* _EVPOLL_CHAT_H */
