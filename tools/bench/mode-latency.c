// SPDX-License-Identifier: GPL-2.0
/*
 * latency: one byte written to a socket a thread waits on, the time until
 * that thread runs; percentiles over the rounds.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

struct lat {
	enum evpoll_backend backend;
	int rfd;		/* the waiter's end */
	int ack;		/* waiter -> writer */
	long rounds;
	uint64_t t0;		/* __atomic: set before each write */
	uint64_t *ns;
	pthread_barrier_t ready;
};

static void *lat_main(void *arg)
{
	struct lat *l = arg;
	struct evpoll_poller_event ev;
	struct evpoll_poller *p;
	long i;
	int ret;

	ret = evpoll_poller_new(l->backend, 0, &p);
	if (!ret)
		ret = evpoll_poller_add(p, l->rfd, EPOLLIN, 0);
	if (ret)
		die("latency %s: %s", evpoll_backend_name(l->backend), strerror(-ret));
	pthread_barrier_wait(&l->ready);
	for (i = 0; i < l->rounds; i++) {
		char c;
		int k;

		do
			k = evpoll_poller_wait(p, &ev, 1, 5000);
		while (k == -EINTR);
		l->ns[i] = now_ns() - __atomic_load_n(&l->t0, __ATOMIC_ACQUIRE);
		if (k != 1 || read(l->rfd, &c, 1) != 1)
			die("latency %s: wait gave %d", evpoll_backend_name(l->backend), k);
		if (write(l->ack, "a", 1) != 1)
			die("latency: ack: %s", strerror(errno));
	}
	evpoll_poller_free(p);
	return NULL;
}

static void latency_backend(enum evpoll_backend b, int rep)
{
	struct lat l = { .backend = b, .rounds = opt.lat_rounds };
	const char *name = evpoll_backend_name(b);
	struct sample *s;
	pthread_t tid;
	struct run r;
	int sv[2], ack[2];
	long i;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) ||
	    pipe2(ack, O_CLOEXEC))
		die("latency: %s", strerror(errno));
	l.rfd = sv[0];
	l.ack = ack[1];
	l.ns = xcalloc(l.rounds, sizeof(*l.ns));
	pthread_barrier_init(&l.ready, NULL, 2);
	if (pthread_create(&tid, NULL, lat_main, &l))
		die("latency: pthread_create");
	pthread_barrier_wait(&l.ready);
	sleep_ms(10);
	run_start(&r);
	for (i = 0; i < l.rounds; i++) {
		char c;

		__atomic_store_n(&l.t0, now_ns(), __ATOMIC_RELEASE);
		if (write(sv[1], "l", 1) != 1 || read(ack[0], &c, 1) != 1)
			die("latency: %s", strerror(errno));
	}
	s = run_stop(&r, &bench_mode_latency, "round", name, 1, 0, rep,
		     l.rounds);
	pthread_join(tid, NULL);
	percentiles(l.ns, l.rounds, &s->extra);
	close(sv[0]);
	close(sv[1]);
	close(ack[0]);
	close(ack[1]);
	pthread_barrier_destroy(&l.ready);
	free(l.ns);
}

const struct bench_mode bench_mode_latency = {
	.name		= "latency",
	.extra_label	= "p50/p90/p99 us",
	.run_backend	= latency_backend,
	.format		= format_percentiles,
};
