// SPDX-License-Identifier: GPL-2.0
/*
 * evpoll-bench: the echo servers, one per I/O model.  Each runs in a
 * child process, serves c->conns connections on the listener c->lfd and
 * exits 0 once every one of them is closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <evpoll.h>
#include <evpoll-aio.h>

#include "bench.h"
#include "echo.h"

void set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

static int accept_one(int lfd)
{
	int one = 1, fd;

	do
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Write all of @buf on a (possibly non-blocking) socket. */
int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd pfd = { fd, POLLOUT, 0 };

			poll(&pfd, 1, 100);
			continue;
		}
		if (w <= 0)
			return -1;
		buf += w;
		len -= w;
	}
	return 0;
}

static void *echo_conn_thread(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write_all(fd, buf, n))
			break;
	close(fd);
	return NULL;
}

static int serve_blocking(struct echo_cfg *c)
{
	pthread_t *tids = xcalloc(c->conns, sizeof(*tids));
	long i;

	set_nonblock(c->lfd, false);
	for (i = 0; i < c->conns; i++) {
		int fd = accept_one(c->lfd);

		if (fd < 0 || pthread_create(&tids[i], NULL, echo_conn_thread,
					     (void *)(intptr_t)fd))
			return 1;
	}
	for (i = 0; i < c->conns; i++)
		pthread_join(tids[i], NULL);
	return 0;
}

static int serve_nonblock(struct echo_cfg *c)
{
	int *fds = xcalloc(c->conns, sizeof(*fds));
	long accepted = 0, closed = 0, i;
	char buf[4096];

	set_nonblock(c->lfd, true);
	while (closed < c->conns) {
		if (accepted < c->conns) {
			int fd = accept_one(c->lfd);

			if (fd >= 0) {
				set_nonblock(fd, true);
				fds[accepted++] = fd;
			}
		}
		for (i = 0; i < accepted; i++) {
			ssize_t n;

			if (fds[i] < 0)
				continue;
			n = read(fds[i], buf, sizeof(buf));
			if (n > 0) {
				if (write_all(fds[i], buf, n))
					n = 0;
			}
			if (n == 0 || (n < 0 && errno != EAGAIN)) {
				close(fds[i]);
				fds[i] = -1;
				closed++;
			}
		}
	}
	return 0;
}

static int serve_poller(struct echo_cfg *c)
{
	struct evpoll_poller_event evs[64];
	struct evpoll_poller *p;
	long accepted = 0, closed = 0;
	uint32_t events = EPOLLIN;
	char buf[4096];
	int ret, i;

	ret = evpoll_poller_new(c->backend, 0, &p);
	if (ret)
		return 1;
	/* -g: edge-triggered where offered; then read until EAGAIN. */
	if (opt.edge && (evpoll_poller_caps(p) & EVPOLL_CAP_ET))
		events |= EPOLLET;
	set_nonblock(c->lfd, true);
	if (evpoll_poller_add(p, c->lfd, EPOLLIN, (uint64_t)-1))
		return 1;
	while (closed < c->conns) {
		int k = evpoll_poller_wait(p, evs, 64, 5000);

		if (k == 0 || (k < 0 && k != -EINTR))
			return 1;
		for (i = 0; i < k; i++) {
			int fd = evs[i].fd;
			ssize_t n;

			if (evs[i].data == (uint64_t)-1) {
				while ((fd = accept_one(c->lfd)) >= 0) {
					set_nonblock(fd, true);
					accepted++;
					if (evpoll_poller_add(p, fd, events, fd))
						return 1;
				}
				if (accepted == c->conns)
					evpoll_poller_del(p, c->lfd);
				continue;
			}
			do {
				n = read(fd, buf, sizeof(buf));
				if (n > 0 && write_all(fd, buf, n))
					n = 0;	/* the peer is gone */
			} while (n > 0 && (events & EPOLLET));
			if (n > 0 || (n < 0 && errno == EAGAIN))
				continue;
			evpoll_poller_del(p, fd);
			close(fd);
			closed++;
		}
	}
	evpoll_poller_free(p);
	return 0;
}

/* Completion model: a read always posted per connection; echo on it. */
static int serve_aio(struct echo_cfg *c)
{
	struct evpoll_aio_cqe cqes[64];
	struct evpoll_aio *ctx;
	char (*bufs)[4096];
	int *fds;
	long closed = 0, i;
	int ret;

	ret = evpoll_aio_new_by_name(c->aio, 2 * c->conns + 8, 0, &ctx);
	if (ret) {
		fprintf(stderr, "echo %s: %s\n", c->name, strerror(-ret));
		return 1;
	}
	fds = xcalloc(c->conns, sizeof(*fds));
	bufs = xcalloc(c->conns, sizeof(*bufs));
	set_nonblock(c->lfd, false);
	for (i = 0; i < c->conns; i++) {
		fds[i] = accept_one(c->lfd);
		if (fds[i] < 0)
			return 1;
		set_nonblock(fds[i], true);
		/* user_data: connection index, bit 32 set for a write */
		if (evpoll_aio_read(ctx, fds[i], bufs[i], sizeof(bufs[i]),
				    EVPOLL_AIO_OFFSET_NONE, i))
			return 1;
	}
	while (closed < c->conns) {
		int k = evpoll_aio_wait(ctx, cqes, 1, 64, NULL);

		if (k < 0 && k != -EINTR)
			return 1;
		for (i = 0; i < k; i++) {
			long idx = cqes[i].user_data & 0xffffffff;
			bool wrote = cqes[i].user_data >> 32;
			int64_t res = cqes[i].res;

			if (res == -EAGAIN || res == -EINTR)
				ret = wrote ? 0 : evpoll_aio_read(ctx, fds[idx],
						bufs[idx], sizeof(bufs[idx]),
						EVPOLL_AIO_OFFSET_NONE, idx);
			else if (res <= 0) {
				close(fds[idx]);
				closed++;
				continue;
			} else if (!wrote)
				ret = evpoll_aio_write(ctx, fds[idx], bufs[idx],
						       res, EVPOLL_AIO_OFFSET_NONE,
						       idx | 1ULL << 32);
			else
				ret = evpoll_aio_read(ctx, fds[idx], bufs[idx],
						      sizeof(bufs[idx]),
						      EVPOLL_AIO_OFFSET_NONE, idx);
			if (ret)
				return 1;
		}
	}
	evpoll_aio_free(ctx);
	free(fds);
	free(bufs);
	return 0;
}

/* The server of @c in a child process: 0 when every connection closed. */
int echo_serve(struct echo_cfg *c)
{
	switch (c->model) {
	case ECHO_BLOCKING:
		return serve_blocking(c);
	case ECHO_NONBLOCK:
		return serve_nonblock(c);
	case ECHO_POLLER:
		return serve_poller(c);
	case ECHO_AIO:
		return serve_aio(c);
	}
	return 1;
}
