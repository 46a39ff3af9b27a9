// SPDX-License-Identifier: GPL-2.0
/*
 * sidebyside - watch many sockets and pipes through /dev/evpoll and through
 * the kernel's epoll at the same time, make random things happen to them,
 * and print what each mechanism saw.  The demonstration `make run` shows.
 *
 * Every round: some writes, some reads (drains), a few half-closes and
 * closes; then both instances are waited on (level-triggered) and their
 * event sets compared: they must be identical.  Exit status 1 on any
 * difference.
 *
 *   evpoll_demo [-n FDS] [-r ROUNDS] [-s SEED]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/evpoll.h>

enum { SOCK, PIPE };

struct watched {
	int kind;
	int fd;		/* watched end (read end for pipes) */
	int peer;	/* other end, -1 once closed */
	int open;
};

static int evp_ctl(int evfd, int op, int fd, uint32_t events, uint64_t data)
{
	struct evpoll_ctl c = {
		.op = op, .fd = fd, .events = events, .data = data,
	};

	return ioctl(evfd, EVPOLL_IOC_CTL, &c);
}

static int evp_wait(int evfd, struct epoll_event *evs, int max)
{
	struct evpoll_wait w = {
		.events = (uintptr_t)evs, .maxevents = max, .timeout = 0,
	};

	return ioctl(evfd, EVPOLL_IOC_WAIT, &w);
}

static int cmp_ev(const void *a, const void *b)
{
	const struct epoll_event *x = a, *y = b;

	if (x->data.u64 != y->data.u64)
		return x->data.u64 < y->data.u64 ? -1 : 1;
	return (int)x->events - (int)y->events;
}

static const char *evstr(uint32_t e, char *buf)
{
	buf[0] = '\0';
	if (e & EPOLLIN)
		strcat(buf, "IN|");
	if (e & EPOLLOUT)
		strcat(buf, "OUT|");
	if (e & EPOLLRDHUP)
		strcat(buf, "RDHUP|");
	if (e & EPOLLHUP)
		strcat(buf, "HUP|");
	if (e & EPOLLERR)
		strcat(buf, "ERR|");
	if (buf[0])
		buf[strlen(buf) - 1] = '\0';
	return buf;
}

int main(int argc, char **argv)
{
	int n = 1000, rounds = 10, opt, i, r, evfd, epfd, bad = 0;
	unsigned int seed = 1;
	struct epoll_event *a, *b;
	struct watched *w;
	struct rlimit rl;

	while ((opt = getopt(argc, argv, "n:r:s:")) != -1) {
		switch (opt) {
		case 'n': n = atoi(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		case 's': seed = strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: %s [-n fds] [-r rounds] [-s seed]\n",
				argv[0]);
			return 2;
		}
	}
	rl.rlim_cur = rl.rlim_max = 2 * n + 64;
	setrlimit(RLIMIT_NOFILE, &rl);
	srand(seed);

	evfd = open(EVPOLL_DEVICE, O_RDWR | O_CLOEXEC);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (evfd < 0 || epfd < 0) {
		perror(evfd < 0 ? EVPOLL_DEVICE : "epoll_create1");
		return 1;
	}
	w = calloc(n, sizeof(*w));
	a = calloc(n, sizeof(*a));
	b = calloc(n, sizeof(*b));
	for (i = 0; i < n; i++) {
		int sv[2];
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP,
					  .data.u64 = i };

		w[i].kind = i % 2 ? PIPE : SOCK;
		if (w[i].kind == SOCK ?
		    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) :
		    pipe2(sv, O_NONBLOCK)) {
			perror("socketpair/pipe");
			return 1;
		}
		w[i].fd = sv[0];
		w[i].peer = sv[1];
		w[i].open = 1;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, sv[0], &ev) ||
		    evp_ctl(evfd, EVPOLL_CTL_ADD, sv[0], ev.events, i)) {
			perror("ctl add");
			return 1;
		}
	}
	printf("watching %d fds (%d unix sockets, %d pipes) with epoll and evpoll\n",
	       n, (n + 1) / 2, n / 2);
	printf("%-6s %-8s %-8s %-8s %-8s %-8s %s\n", "round", "writes",
	       "drains", "hangups", "epoll", "evpoll", "same?");

	for (r = 1; r <= rounds; r++) {
		int writes = 0, drains = 0, hups = 0, na, nb, same;
		char buf[256];

		for (i = 0; i < n / 20 + 1; i++) {
			struct watched *x = &w[rand() % n];
			int what = rand() % 10;

			if (!x->open || x->peer < 0)
				continue;
			if (what < 6) {
				writes += write(x->peer, "x", 1) == 1;
			} else if (what < 9) {
				while (read(x->fd, buf, sizeof(buf)) > 0)
					;
				drains++;
			} else {
				close(x->peer);	/* peer hangs up */
				x->peer = -1;
				hups++;
			}
		}
		na = epoll_wait(epfd, a, n, 0);
		nb = evp_wait(evfd, b, n);
		if (na < 0 || nb < 0) {
			perror("wait");
			return 1;
		}
		qsort(a, na, sizeof(*a), cmp_ev);
		qsort(b, nb, sizeof(*b), cmp_ev);
		same = na == nb && !memcmp(a, b, na * sizeof(*a));
		printf("%-6d %-8d %-8d %-8d %-8d %-8d %s\n", r, writes, drains,
		       hups, na, nb, same ? "yes" : "NO");
		if (!same) {
			bad++;
			for (i = 0; i < (na > nb ? na : nb); i++) {
				char e1[64], e2[64];

				printf("    epoll %5lld %-18s evpoll %5lld %s\n",
				       i < na ? (long long)a[i].data.u64 : -1LL,
				       i < na ? evstr(a[i].events, e1) : "-",
				       i < nb ? (long long)b[i].data.u64 : -1LL,
				       i < nb ? evstr(b[i].events, e2) : "-");
			}
		}
	}
	printf("%s: %d of %d rounds identical\n", bad ? "FAIL" : "OK",
	       rounds - bad, rounds);
	return bad ? 1 : 0;
}
