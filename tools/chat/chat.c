// SPDX-License-Identifier: GPL-2.0
/*
 * evpoll-chat - a chat server, written once per I/O model.
 *
 *   evpoll-chat --model MODEL [--port P] [--bind ADDR] [--max-clients N]
 *               [--outq BYTES] [--sndbuf BYTES] [--verbose]
 *   evpoll-chat --list
 *
 * Every line a client sends (at most 1024 bytes, newline included) goes
 * verbatim to every other client.  Prints "listening on PORT" once it
 * accepts connections; SIGTERM or SIGINT stops it cleanly (exit 0).
 * See evpoll-chat(1) and Documentation/io-models.rst.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chat.h"

volatile sig_atomic_t chat_stopping;
static int wake_wr = -1;
static int listen_fd = -1;

static const struct chat_model *const models[] = {
	&chat_model_blocking,
	&chat_model_nonblocking,
	&chat_model_select,
	&chat_model_poll,
	&chat_model_epoll,
	&chat_model_evpoll,
	&chat_model_evpoll_ring,
	&chat_model_sigio,
	&chat_model_uring,
	&chat_model_linuxaio,
	&chat_model_posixaio,
};

#define NR_MODELS	(sizeof(models) / sizeof(models[0]))

/*
 * SIGTERM, SIGINT: set the flag, wake whoever waits on the pipe, and shut
 * the listener down so that a thread blocked in accept() returns.  Only
 * async-signal-safe calls (write, shutdown).
 */
static void on_stop(int sig)
{
	int saved = errno;
	char b = 0;

	chat_stopping = 1;
	if (write(wake_wr, &b, 1) < 0) {
		/* the pipe is full: a wake-up is already pending */
	}
	shutdown(listen_fd, SHUT_RDWR);
	errno = saved;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: evpoll-chat --model MODEL [--port P] [--bind ADDR]\n"
		"                   [--max-clients N] [--outq BYTES] [--sndbuf BYTES]\n"
		"                   [--verbose]\n"
		"       evpoll-chat --list\n"
		"models: blocking nonblocking select poll epoll evpoll\n"
		"        evpoll-ring sigio uring linuxaio posixaio\n");
}

static int listen_on(const char *addr, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int one = 1, fd;

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "evpoll-chat: bad address '%s'\n", addr);
		return -1;
	}
	sin.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(fd, 128) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len)) {
		fprintf(stderr, "evpoll-chat: %s:%d: %s\n", addr, port,
			strerror(errno));
		return -1;
	}
	return fd;
}

/*
 * Called by a model once it is ready to take clients (its poller, ring or
 * signals set up): the one line on standard output.
 */
void chat_listening(struct chat_server *srv)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	getsockname(srv->lfd, (struct sockaddr *)&sin, &len);
	printf("listening on %d\n", ntohs(sin.sin_port));
	fflush(stdout);
}

static const struct chat_model *find_model(const char *name)
{
	size_t i;

	for (i = 0; i < NR_MODELS; i++)
		if (!strcmp(models[i]->name, name))
			return models[i];
	fprintf(stderr, "evpoll-chat: unknown model '%s' (--list)\n", name);
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "max-clients", required_argument, NULL, 'n' },
		{ "outq", required_argument, NULL, 'q' },
		{ "sndbuf", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct chat_server srv = {
		.max_conns = CHAT_MAX_CLIENTS,
		.outq_size = CHAT_OUTQ_DEFAULT,
	};
	struct sigaction sa = { .sa_handler = on_stop };
	const char *model = NULL, *addr = "127.0.0.1";
	int port = 0, pipefd[2], opt, ret;
	size_t i;

	while ((opt = getopt_long(argc, argv, "m:p:b:n:q:s:vlh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'm': model = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'b': addr = optarg; break;
		case 'n': srv.max_conns = atoi(optarg); break;
		case 'q': srv.outq_size = strtoul(optarg, NULL, 0); break;
		case 's': srv.sndbuf = atoi(optarg); break;
		case 'v': srv.verbose = true; break;
		case 'l':
			for (i = 0; i < NR_MODELS; i++)
				printf("%-12s %s\n", models[i]->name,
				       models[i]->family);
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!model || optind != argc || port < 0 || port > 65535 ||
	    srv.max_conns < 1 || srv.outq_size < CHAT_LINE_MAX ||
	    srv.sndbuf < 0) {
		usage(stderr);
		return 2;
	}
	srv.model = find_model(model);
	if (!srv.model)
		return 2;
	srv.conns = calloc(srv.max_conns, sizeof(*srv.conns));
	if (!srv.conns || pipe2(pipefd, O_CLOEXEC | O_NONBLOCK)) {
		perror("evpoll-chat");
		return 1;
	}
	srv.wakefd = pipefd[0];
	wake_wr = pipefd[1];
	srv.lfd = listen_fd = listen_on(addr, port);
	if (srv.lfd < 0)
		return 1;
	/* No SA_RESTART: a blocked accept() or recv() returns EINTR. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	ret = srv.model->run(&srv);
	if (srv.verbose)
		fprintf(stderr, "evpoll-chat: %s: %lu lines, %lu clients "
			"disconnected by a policy\n", srv.model->name,
			srv.lines, srv.kicked);
	close(srv.lfd);
	close(pipefd[0]);
	close(pipefd[1]);
	free(srv.conns);
	return ret ? 1 : 0;
}
