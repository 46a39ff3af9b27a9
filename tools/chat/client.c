// SPDX-License-Identifier: GPL-2.0
/*
 * evpoll-chat-client - join an evpoll-chat server from a terminal.
 *
 *   evpoll-chat-client [-n NAME] [HOST] PORT
 *
 * One poll() on standard input and the socket.  A line typed is sent with
 * "NAME: " in front (the server itself adds nothing); a line received is
 * printed as it came.  End with Ctrl-D, or when the server goes away.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int dial(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1, err;

	err = getaddrinfo(host, port, &hints, &res);
	if (err) {
		fprintf(stderr, "evpoll-chat-client: %s: %s\n", host,
			gai_strerror(err));
		return -1;
	}
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen)) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		fprintf(stderr, "evpoll-chat-client: %s port %s: %s\n", host,
			port, strerror(errno));
	return fd;
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *name = getenv("USER"), *host = "127.0.0.1";
	char line[1100], out[1100], buf[4096];
	struct pollfd pfd[2];
	int opt, fd;

	while ((opt = getopt(argc, argv, "n:h")) != -1) {
		if (opt != 'n') {
			fprintf(stderr, "usage: evpoll-chat-client [-n NAME] [HOST] PORT\n");
			return opt == 'h' ? 0 : 2;
		}
		name = optarg;
	}
	if (argc - optind == 2)
		host = argv[optind++];
	if (argc - optind != 1) {
		fprintf(stderr, "usage: evpoll-chat-client [-n NAME] [HOST] PORT\n");
		return 2;
	}
	fd = dial(host, argv[optind]);
	if (fd < 0)
		return 1;
	if (!name)
		name = "anonymous";
	/* unbuffered: poll() on fd 0 must see every line stdio has not read */
	setvbuf(stdin, NULL, _IONBF, 0);
	printf("connected to %s port %s as %s; Ctrl-D leaves\n", host,
	       argv[optind], name);
	fflush(stdout);
	pfd[0] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = fd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			return 1;
		}
		if (pfd[1].revents) {
			ssize_t n = read(fd, buf, sizeof(buf));

			if (n <= 0) {
				printf("[server closed the connection]\n");
				return 0;
			}
			fwrite(buf, 1, n, stdout);
			fflush(stdout);
		}
		if (pfd[0].revents) {
			int len;

			if (!fgets(line, sizeof(line), stdin))
				return 0;
			line[strcspn(line, "\n")] = 0;
			/* the protocol's limit: 1024 bytes, newline included */
			len = snprintf(out, 1024, "%s: %s", name, line);
			if (len > 1022)
				len = 1022;
			out[len++] = '\n';
			if (send_all(fd, out, len)) {
				perror("send");
				return 1;
			}
		}
	}
}
