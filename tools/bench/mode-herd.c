// SPDX-License-Identifier: GPL-2.0
/*
 * herd: T threads each waiting on one eventfd through its own poller,
 * without and (where the backend can) with EPOLLEXCLUSIVE.  Wakeups per
 * event, fairness (Jain's index of the events each thread consumed) and
 * cost per event.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bench.h"

struct herd {
	enum evpoll_backend backend;
	bool exclusive;
	int efd;
	int ack;		/* write end: the winner acknowledges */
	int stop;		/* __atomic */
	pthread_barrier_t ready;
};

struct herd_thread {
	struct herd *h;
	pthread_t tid;
	long wakeups;		/* waits that returned an event */
	long wins;		/* events this thread consumed */
};

static void *herd_main(void *arg)
{
	struct herd_thread *t = arg;
	struct herd *h = t->h;
	struct evpoll_poller_event ev;
	struct evpoll_poller *p;
	int ret;

	ret = evpoll_poller_new(h->backend, 0, &p);
	if (!ret)
		ret = evpoll_poller_add(p, h->efd, EPOLLIN |
					(h->exclusive ? EPOLLEXCLUSIVE : 0), 0);
	if (ret)
		die("herd %s: %s", evpoll_backend_name(h->backend), strerror(-ret));
	pthread_barrier_wait(&h->ready);
	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
		uint64_t v;
		int k = evpoll_poller_wait(p, &ev, 1, 200);

		if (k <= 0)
			continue;
		__atomic_add_fetch(&t->wakeups, 1, __ATOMIC_RELAXED);
		if (read(h->efd, &v, sizeof(v)) == sizeof(v)) {
			__atomic_add_fetch(&t->wins, 1, __ATOMIC_RELAXED);
			if (write(h->ack, "a", 1) != 1)
				die("herd: ack: %s", strerror(errno));
		}
	}
	evpoll_poller_free(p);
	return NULL;
}

static void herd_run(enum evpoll_backend b, long nthreads, bool exclusive,
		     int rep)
{
	const char *name = evpoll_backend_name(b);
	struct herd_thread *t = xcalloc(nthreads, sizeof(*t));
	long e = opt.herd_events, i, wakeups = 0, wins = 0;
	double sum = 0, sq = 0;
	struct herd h = { .backend = b, .exclusive = exclusive };
	struct sample *s;
	uint64_t one = 1;
	struct run r;
	int ack[2];

	h.efd = eventfd(0, EFD_NONBLOCK | EFD_SEMAPHORE | EFD_CLOEXEC);
	if (h.efd < 0 || pipe2(ack, O_CLOEXEC))
		die("herd: %s", strerror(errno));
	h.ack = ack[1];
	pthread_barrier_init(&h.ready, NULL, nthreads + 1);
	for (i = 0; i < nthreads; i++) {
		t[i].h = &h;
		if (pthread_create(&t[i].tid, NULL, herd_main, &t[i]))
			die("herd: pthread_create");
	}
	pthread_barrier_wait(&h.ready);
	sleep_ms(20);	/* every thread blocked in its wait */
	run_start(&r);
	for (i = 0; i < e; i++) {
		char c;

		if (write(h.efd, &one, sizeof(one)) != sizeof(one))
			die("herd: write: %s", strerror(errno));
		if (read(ack[0], &c, 1) != 1)
			die("herd: ack: %s", strerror(errno));
	}
	s = run_stop(&r, &bench_mode_herd, exclusive ? "excl" : "plain", name,
		     nthreads, exclusive, rep, e);
	sleep_ms(50);	/* late wakeups of the last event */
	for (i = 0; i < nthreads; i++) {
		long w = __atomic_load_n(&t[i].wins, __ATOMIC_RELAXED);

		wakeups += __atomic_load_n(&t[i].wakeups, __ATOMIC_RELAXED);
		wins += w;
		sum += w;
		sq += (double)w * w;
	}
	__atomic_store_n(&h.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < nthreads; i++)
		pthread_join(t[i].tid, NULL);
	s->extra.herd.wakeups = (double)wakeups / e;
	s->extra.herd.fairness = sq ? sum * sum / (nthreads * sq) : 0;
	if (wins != e)
		fail("herd %s: %ld events consumed, expected %ld", name, wins, e);
	close(h.efd);
	close(ack[0]);
	close(ack[1]);
	pthread_barrier_destroy(&h.ready);
	free(t);
}

/* Per -t value, repeat and backend (sigio: no eventfd, one thread). */
static void herd_all(void)
{
	int ti, rep, bi;

	for (ti = 0; ti < opt.nr_ts; ti++)
		for (rep = 0; rep < opt.repeats; rep++)
			for (bi = 0; bi < opt.nr_backends; bi++) {
				enum evpoll_backend b = bench_backend(bi, rep);

				if (b == EVPOLL_BACKEND_SIGIO)
					continue;
				herd_run(b, opt.ts[ti], false, rep);
				if (evpoll_backend_caps(b) & EVPOLL_CAP_EXCLUSIVE)
					herd_run(b, opt.ts[ti], true, rep);
			}
}

static void herd_format(char *buf, size_t len, const union bench_extra *x)
{
	snprintf(buf, len, "%.2f %.3f", x->herd.wakeups, x->herd.fairness);
}

const struct bench_mode bench_mode_herd = {
	.name		= "herd",
	.n_label	= "T",
	.param_label	= "excl",
	.per		= "event",
	.extra_label	= "wakeups/event fairness",
	.run		= herd_all,
	.format		= herd_format,
};
