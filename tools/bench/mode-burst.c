// SPDX-License-Identifier: GPL-2.0
/*
 * burst: a writer thread makes B events ready one after the other (one
 * eventfd write each, B eventfds watched edge-triggered), the waiter
 * collects them: waits per event and cost per event, with min_events =
 * M (the param: 1, 8, 32).  epoll and evpoll (plain) cannot ask for a
 * minimum: they return at the first event (they run at every M, as the
 * reference of its row); "evpoll-submit" waits through evpoll_submit()
 * with min_events M (at most what the burst has left) and min_wait 10 ms.
 * The writer (vCPU 0) starts a burst when the waiter (vCPU 1) has the
 * previous one (a pipe); both vCPUs' instructions count, writer and
 * waiter; the system calls are the waiter's.  The waiter's vCPU's share
 * is reported beside (what the stop marker's vCPU, the writer's, did
 * not count): the write and the wake-up callback it runs are the same
 * work for every backend, and a min-wait changes the waiter's side.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define BURST_B		64
#define BURST_MIN_WAIT	10000000LL	/* ns */

enum burst_kind { BURST_EPOLL, BURST_EVPOLL, BURST_SUBMIT };

static const char *const burst_names[] = {
	[BURST_EPOLL] = "epoll",
	[BURST_EVPOLL] = "evpoll",
	[BURST_SUBMIT] = "evpoll-submit",
};

struct burst {
	enum burst_kind kind;
	int set;
	int efd[BURST_B];
	int go[2];		/* waiter -> writer: burst collected */
	long bursts;
	long min_events;
	long waits;		/* the waiter's */
	long sc0, sc1;		/* the waiter's system calls */
	pthread_barrier_t ready;
};

static int burst_wait(struct burst *b, struct epoll_event *evs, long left)
{
	struct evpoll_wait_opts o = { .min_wait_ns = BURST_MIN_WAIT };

	switch (b->kind) {
	case BURST_EPOLL:
		return epoll_wait(b->set, evs, BURST_B, -1);
	case BURST_EVPOLL:
		return evpoll_wait(b->set, evs, BURST_B, -1);
	default:
		o.min_events = b->min_events < left ? b->min_events : left;
		return evpoll_submit(b->set, NULL, 0, evs, BURST_B, &o);
	}
}

static void *burst_waiter(void *arg)
{
	struct burst *b = arg;
	struct epoll_event evs[BURST_B];
	long i, got;
	int k;

	cpu_set_t set;

	/* The other vCPU: woken from the writer's, as a server thread is. */
	CPU_ZERO(&set);
	CPU_SET(1, &set);
	sched_setaffinity(0, sizeof(set), &set);
	pthread_barrier_wait(&b->ready);
	b->sc0 = sysc_count();
	for (i = 0; i < b->bursts; i++) {
		for (got = 0; got < BURST_B; got += k) {
			do
				k = burst_wait(b, evs, BURST_B - got);
			while (k < 0 && errno == EINTR);
			if (k <= 0)
				die("burst %s: wait: %d %s", burst_names[b->kind],
				    k, strerror(errno));
			b->waits++;
		}
		if (write(b->go[1], "g", 1) != 1)
			die("burst: go: %s", strerror(errno));
	}
	b->sc1 = sysc_count();
	return NULL;
}

static void burst_run(const struct bench_mode *mode, long gap_ns,
		      enum burst_kind kind, long m, int rep)
{
	struct burst b = { .kind = kind, .bursts = opt.herd_events / 2,
			   .min_events = m };
	struct timespec gap = { .tv_nsec = gap_ns };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	uint64_t one = 1;
	struct sample *s;
	pthread_t tid;
	struct run r;
	long i, j, ev_total;
	char c;

	if (b.bursts < 1)
		b.bursts = 1;
	b.set = kind == BURST_EPOLL ? epoll_create1(EPOLL_CLOEXEC) :
				      evpoll_create1(EPOLL_CLOEXEC);
	if (b.set < 0 || pipe2(b.go, O_CLOEXEC))
		die("burst: %s", strerror(errno));
	for (i = 0; i < BURST_B; i++) {
		b.efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ev.data.u64 = i;
		if (b.efd[i] < 0 ||
		    (kind == BURST_EPOLL ? epoll_ctl : evpoll_ctl)(b.set,
				EPOLL_CTL_ADD, b.efd[i], &ev))
			die("burst: add: %s", strerror(errno));
	}
	pthread_barrier_init(&b.ready, NULL, 2);
	if (pthread_create(&tid, NULL, burst_waiter, &b))
		die("burst: pthread_create");
	pthread_barrier_wait(&b.ready);
	sleep_ms(10);
	ev_total = b.bursts * BURST_B;
	run_start(&r);
	for (i = 0; i < b.bursts; i++) {
		for (j = 0; j < BURST_B; j++) {
			if (j && gap_ns)
				nanosleep(&gap, NULL);
			if (write(b.efd[j], &one, sizeof(one)) != sizeof(one))
				die("burst: write: %s", strerror(errno));
		}
		if (read(b.go[0], &c, 1) != 1)
			die("burst: go: %s", strerror(errno));
	}
	s = run_stop(&r, mode, "event", burst_names[kind],
		     BURST_B, m, rep, ev_total);
	pthread_join(tid, NULL);
	s->extra.v2.syscalls = sysc_per(b.sc0, b.sc1, ev_total);
	s->extra.v2.waits = (double)b.waits / ev_total;
	s->extra.v2.waiter = s->insn >= 0 && s->insn_self >= 0 ?
		(double)(s->insn - s->insn_self) / ev_total : -1;
	for (i = 0; i < BURST_B; i++)
		close(b.efd[i]);
	close(b.set);
	close(b.go[0]);
	close(b.go[1]);
	pthread_barrier_destroy(&b.ready);
}

static bool burst_available(enum burst_kind k)
{
	if (k == BURST_EPOLL)
		return true;
	if (k == BURST_EVPOLL)
		return evpoll_backend_probe(EVPOLL_BACKEND_EVPOLL) == 0;
	return bench_evpoll_features() & EVPOLL_FEAT_MIN_WAIT;
}

/* Every min_events for every kind; @mode names the samples. */
void bench_burst_all(const struct bench_mode *mode, long gap_ns)
{
	static const long ms[] = { 1, 8, 32 };
	int mi, rep, ki, nk = ARRAY_SIZE(burst_names);

	for (mi = 0; mi < (int)ARRAY_SIZE(ms); mi++)
		for (rep = 0; rep < opt.repeats; rep++)
			for (ki = 0; ki < nk; ki++) {
				enum burst_kind k = (ki + rep) % nk;

				if (burst_available(k))
					burst_run(mode, gap_ns, k, ms[mi], rep);
			}
}

static void burst_all(void)
{
	bench_burst_all(&bench_mode_burst, 0);
}

void bench_burst_format(char *buf, size_t len, const union bench_extra *x)
{
	char sys[32] = "-", waiter[32] = "-";

	if (x->v2.syscalls >= 0)
		snprintf(sys, sizeof(sys), "%.3f", x->v2.syscalls);
	if (x->v2.waiter >= 0)
		snprintf(waiter, sizeof(waiter), "%.0f", x->v2.waiter);
	snprintf(buf, len, "%.3f %s %s", x->v2.waits, sys, waiter);
}

const struct bench_mode bench_mode_burst = {
	.name		= "burst",
	.n_label	= "B",
	.param_label	= "min",
	.per		= "event",
	.extra_label	= "waits/event syscalls/event waiter-insn/event",
	.run		= burst_all,
	.format		= bench_burst_format,
};
