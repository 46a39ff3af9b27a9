/* SPDX-License-Identifier: GPL-2.0 */
/*
 * evpoll-bench: the echo servers (echo.c) and their load client
 * (mode-echo.c).
 */
#ifndef _EVPOLL_BENCH_ECHO_H
#define _EVPOLL_BENCH_ECHO_H

#include <stdbool.h>
#include <stddef.h>

#include <evpoll.h>

#define ECHO_MSG	64

enum echo_model {
	ECHO_BLOCKING,		/* a thread per connection */
	ECHO_NONBLOCK,		/* non-blocking reads, busy polling */
	ECHO_POLLER,		/* a poller backend */
	ECHO_AIO,		/* completion-based: a read always posted */
};

struct echo_cfg {
	enum echo_model model;
	enum evpoll_backend backend;	/* ECHO_POLLER */
	char aio[16];			/* ECHO_AIO: backend name */
	char name[16];
	int lfd;
	long conns;
};

void set_nonblock(int fd, bool on);
int write_all(int fd, const char *buf, size_t len);
int echo_serve(struct echo_cfg *c);

#endif /* _EVPOLL_BENCH_ECHO_H */
