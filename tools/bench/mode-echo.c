// SPDX-License-Identifier: GPL-2.0
/*
 * echo: TCP echo on loopback in every I/O model (blocking with a thread
 * per connection, non-blocking busy polling, each poller backend,
 * signal-driven = sigio, completion-based: io_uring, Linux AIO, POSIX AIO)
 * against our own load client, the same for all: epoll through the poller.
 * Cost per request, latency percentiles.  The servers are in echo.c.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <evpoll.h>
#include <evpoll-aio.h>

#include "bench.h"
#include "echo.h"

struct echo_conn {
	int fd;
	size_t got;
	uint64_t sent_at;
};

static void echo_run(struct echo_cfg *c, int rep)
{
	struct echo_conn *cs = xcalloc(c->conns, sizeof(*cs));
	uint64_t *lat = xcalloc(opt.echo_reqs, sizeof(*lat));
	struct evpoll_poller_event evs[64];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	long sent = 0, done = 0, i;
	struct evpoll_poller *p;
	char msg[ECHO_MSG], buf[4096];
	int ready[2], one = 1, status;
	struct sample *s;
	uint64_t deadline;
	struct run r;
	pid_t pid;

	memset(msg, 'x', sizeof(msg));
	c->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(c->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (c->lfd < 0 || bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(c->lfd, 1024) ||
	    getsockname(c->lfd, (struct sockaddr *)&sa, &salen) || pipe(ready))
		die("echo: listener: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("echo: fork: %s", strerror(errno));
	if (!pid) {
		close(ready[0]);
		close(ready[1]);
		_exit(echo_serve(c));
	}
	close(ready[1]);
	close(ready[0]);
	close(c->lfd);
	if (evpoll_poller_new(EVPOLL_BACKEND_EPOLL, 0, &p))
		die("echo: client poller");
	run_start(&r);
	for (i = 0; i < c->conns; i++) {
		cs[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (cs[i].fd < 0 ||
		    connect(cs[i].fd, (struct sockaddr *)&sa, sizeof(sa)))
			die("echo: connect: %s", strerror(errno));
		setsockopt(cs[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		set_nonblock(cs[i].fd, true);
		evpoll_poller_add(p, cs[i].fd, EPOLLIN, i);
	}
	deadline = now_ns() + opt.echo_secs * 1000000000ull;
	for (i = 0; i < c->conns && sent < opt.echo_reqs; i++, sent++) {
		cs[i].sent_at = now_ns();
		if (write_all(cs[i].fd, msg, sizeof(msg)))
			die("echo: write: %s", strerror(errno));
	}
	while (done < sent && now_ns() < deadline) {
		int k = evpoll_poller_wait(p, evs, 64, 1000);

		for (i = 0; i < k; i++) {
			struct echo_conn *e = &cs[evs[i].data];
			ssize_t n = read(e->fd, buf, sizeof(buf));

			if (n <= 0) {
				if (n < 0 && errno == EAGAIN)
					continue;
				fail("echo %s: server closed a connection", c->name);
				deadline = 0;
				break;
			}
			e->got += n;
			while (e->got >= ECHO_MSG) {
				e->got -= ECHO_MSG;
				lat[done++] = now_ns() - e->sent_at;
				if (sent < opt.echo_reqs) {
					e->sent_at = now_ns();
					if (write_all(e->fd, msg, sizeof(msg)))
						die("echo: write: %s", strerror(errno));
					sent++;
				}
			}
		}
	}
	for (i = 0; i < c->conns; i++)
		close(cs[i].fd);
	waitpid(pid, &status, 0);
	s = run_stop(&r, &bench_mode_echo, "request", c->name, c->conns, 0, rep,
		     done);
	evpoll_poller_free(p);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("echo %s: the server failed (status 0x%x)", c->name, status);
	if (done < opt.echo_reqs)
		fail("echo %s: %ld of %ld requests in %ld s", c->name, done,
		     opt.echo_reqs, opt.echo_secs);
	if (done)
		percentiles(lat, done, &s->extra);
	free(cs);
	free(lat);
}

/*
 * One server per -e model ("poller": one per -b backend, "aio-<name>":
 * skipped when that completion backend is missing), then every repeat
 * over them, rotating the order.
 */
static void echo_all(void)
{
	struct echo_cfg cfgs[EVPOLL_BACKEND_MAX + 8];
	int nc = 0, ci, bi, rep;
	char *list = strdup(opt.echo_models), *tok, *save = NULL;

	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct echo_cfg *c = &cfgs[nc];

		memset(c, 0, sizeof(*c));
		c->conns = opt.echo_conns;
		snprintf(c->name, sizeof(c->name), "%s", tok);
		if (!strcmp(tok, "blocking")) {
			c->model = ECHO_BLOCKING;
		} else if (!strcmp(tok, "nonblock")) {
			c->model = ECHO_NONBLOCK;
		} else if (!strncmp(tok, "aio-", 4)) {
			struct evpoll_aio *ctx;

			c->model = ECHO_AIO;
			snprintf(c->aio, sizeof(c->aio), "%s", tok + 4);
			if (evpoll_aio_new_by_name(c->aio, 8, 0, &ctx)) {
				fprintf(stderr, "evpoll-bench: echo: no %s\n", tok);
				continue;
			}
			evpoll_aio_free(ctx);
		} else if (!strcmp(tok, "poller")) {
			for (bi = 0; bi < opt.nr_backends; bi++) {
				c = &cfgs[nc++];
				memset(c, 0, sizeof(*c));
				c->conns = opt.echo_conns;
				c->model = ECHO_POLLER;
				c->backend = opt.backends[bi];
				snprintf(c->name, sizeof(c->name), "%s",
					 evpoll_backend_name(c->backend));
			}
			continue;
		} else {
			die("echo: unknown model %s", tok);
		}
		nc++;
	}
	free(list);
	for (rep = 0; rep < opt.repeats; rep++)
		for (ci = 0; ci < nc; ci++)
			echo_run(&cfgs[(ci + rep) % nc], rep);
}

const struct bench_mode bench_mode_echo = {
	.name		= "echo",
	.n_label	= "C",
	.extra_label	= "p50/p90/p99 us",
	.run		= echo_all,
	.format		= format_percentiles,
};
