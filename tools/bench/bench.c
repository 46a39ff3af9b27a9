// SPDX-License-Identifier: GPL-2.0
/*
 * evpoll-bench - the same work through every readiness mechanism and I/O
 * model of Linux, side by side (issue #6).
 *
 * Modes (each over every backend that can do it, all through libevpoll's
 * poller and completion APIs, so every backend runs the same code):
 *
 *   chain    N socketpairs, A active chains, W writes: each readable
 *	      callback reads a byte and writes one to the next pair
 *	      (libevent's bench.c); cost per event
 *   idle     N watched, one active pair ping-ponged: cost per wakeup
 *   churn    add / modify / remove K fds with N watched: cost per op
 *   herd     T threads each waiting on one eventfd (with and without
 *	      EPOLLEXCLUSIVE): wakeups per event, fairness, cost per event
 *   latency  a write to the waiting thread running: percentiles
 *   echo     TCP echo on loopback in every I/O model (blocking with a
 *	      thread per connection, non-blocking busy polling, each poller
 *	      backend, signal-driven = sigio, completion-based: io_uring,
 *	      Linux AIO, POSIX AIO) against our own load client
 *   mem      kernel memory per watched item (slabinfo), epoll and evpoll
 *   quiet    N watched, nothing happens for one second: what the machine
 *	      executes meanwhile (timers, evpoll's reaper)
 *
 * Every run is bracketed by marker instructions (7-byte NOPs) that the
 * QEMU plugin insn-plugin.c counts guest instructions between; with -i LOG
 * (the plugin's log, read back over the VM's share) each run gets an
 * instruction count beside its wall-clock time.  Repeats interleave the
 * backends; the table gives medians and spreads, ratios against epoll.
 *
 * See evpoll-bench(1).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <evpoll.h>
#include <evpoll-aio.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_LIST	16
#define MAX_EVENTS	256
#define ECHO_MSG	64

/* ------------------------------------------------------------------ */
/* Options */

struct opts {
	unsigned int modes;
	enum evpoll_backend backends[EVPOLL_BACKEND_COUNT];
	int nr_backends;
	long ns[MAX_LIST];
	int nr_ns;
	long as[MAX_LIST];
	int nr_as;
	long ts[MAX_LIST];
	int nr_ts;
	long writes;
	int repeats;
	long churn_ops;
	long herd_events;
	long lat_rounds;
	long echo_conns;
	long echo_reqs;
	long echo_secs;
	long max_n[EVPOLL_BACKEND_COUNT];
	int pause_ms;
	const char *out;
	const char *insn_log;
	const char *echo_models;
	bool selfcheck;
	bool verbose;
};

enum {
	MODE_CHAIN	= 1 << 0,
	MODE_IDLE	= 1 << 1,
	MODE_CHURN	= 1 << 2,
	MODE_HERD	= 1 << 3,
	MODE_LATENCY	= 1 << 4,
	MODE_ECHO	= 1 << 5,
	MODE_MEM	= 1 << 6,
	MODE_QUIET	= 1 << 7,
};

static const char *const mode_names[] = {
	"chain", "idle", "churn", "herd", "latency", "echo", "mem", "quiet",
};

static struct opts opt = {
	.writes = 1000,
	.repeats = 5,
	.churn_ops = 1000,
	.herd_events = 200,
	.lat_rounds = 500,
	.echo_conns = 16,
	.echo_reqs = 4000,
	.echo_secs = 20,
	.pause_ms = 50,
	.echo_models = "blocking,nonblock,poller,aio-uring,aio-linux,aio-posix",
};

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "evpoll-bench: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		die("out of memory");
	return p;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ------------------------------------------------------------------ */
/* Instruction counting: markers and the plugin's log */

#define MARK(kind) \
	asm volatile(".byte 0x0f, 0x1f, 0x80, " #kind ", 0x45, 0x56, 0xb5" \
		     ::: "memory")

static int insn_fd = -1;
static off_t insn_off;
static uint64_t insn_seq;

/*
 * Read the plugin's log from where the last call stopped until a line
 * starting with @tag (and, for 'R', carrying @seq) shows up; the host
 * writes it while the guest reads, so retry for up to two seconds.
 */
static bool insn_read(char tag, uint64_t seq, double *all, double *self)
{
	static char buf[8192];
	static size_t len;
	int tries;

	for (tries = 0; tries < 400; tries++) {
		char *nl;
		ssize_t r;

		while ((nl = memchr(buf, '\n', len))) {
			unsigned long long s, a, me;
			size_t used = nl - buf + 1;
			bool hit = false;

			*nl = 0;
			if (buf[0] == tag && tag == 'H')
				hit = true;
			else if (buf[0] == tag &&
				 sscanf(buf + 1, "%llu %llu %llu", &s, &a, &me) == 3 &&
				 s == seq) {
				*all = a;
				*self = me;
				hit = true;
			}
			memmove(buf, buf + used, len - used);
			len -= used;
			if (hit)
				return true;
		}
		r = pread(insn_fd, buf + len, sizeof(buf) - 1 - len, insn_off);
		if (r > 0) {
			insn_off += r;
			len += r;
			continue;
		}
		sleep_ms(5);
	}
	return false;
}

static void insn_open(const char *path)
{
	double a, s;

	insn_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (insn_fd < 0)
		die("%s: %s", path, strerror(errno));
	insn_off = lseek(insn_fd, 0, SEEK_END);
	/* Count the stops already in the log, so the sequence matches. */
	{
		char line[256];
		FILE *f = fopen(path, "r");

		while (f && fgets(line, sizeof(line), f))
			if (line[0] == 'R')
				insn_seq++;
		if (f)
			fclose(f);
	}
	MARK(0x03);
	if (!insn_read('H', 0, &a, &s)) {
		fprintf(stderr, "evpoll-bench: %s: no answer from the plugin: %s\n",
			path, "no instruction counts");
		close(insn_fd);
		insn_fd = -1;
	}
}

/* ------------------------------------------------------------------ */
/* Samples: one per measured run */

/*
 * struct sample - one measured run
 * @mode, @metric:	what was measured ("chain"/"event", "churn"/"add"...)
 * @backend:		backend or I/O model name
 * @n, @param:		the run's size and its second parameter (A, T...)
 * @ops:		events, operations or requests in the run
 * @ns:			wall-clock nanoseconds of the run
 * @insn:		guest instructions of every vCPU (-1: not counted)
 * @insn_self:		those of the vCPU that ran the stop marker
 * @x:			mode-specific extras (percentiles, fairness...)
 */
struct sample {
	const char *mode;
	const char *metric;
	char backend[16];
	long n;
	long param;
	int rep;
	long ops;
	double ns;
	double insn;
	double insn_self;
	double x[3];
};

static struct sample *samples;
static size_t nr_samples, cap_samples;
static int failures;

struct run {
	uint64_t t0;
};

static void run_start(struct run *r)
{
	MARK(0x01);
	r->t0 = now_ns();
}

static struct sample *run_stop(struct run *r, const char *mode,
			       const char *metric, const char *backend,
			       long n, long param, int rep, long ops)
{
	uint64_t t1 = now_ns();
	struct sample *s;

	MARK(0x02);
	if (nr_samples == cap_samples) {
		cap_samples = cap_samples ? 2 * cap_samples : 256;
		samples = realloc(samples, cap_samples * sizeof(*samples));
		if (!samples)
			die("out of memory");
	}
	s = &samples[nr_samples++];
	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->metric = metric;
	snprintf(s->backend, sizeof(s->backend), "%s", backend);
	s->n = n;
	s->param = param;
	s->rep = rep;
	s->ops = ops;
	s->ns = t1 - r->t0;
	s->insn = s->insn_self = -1;
	if (insn_fd >= 0) {
		insn_seq++;
		if (!insn_read('R', insn_seq, &s->insn, &s->insn_self))
			fprintf(stderr, "evpoll-bench: no count for stop %llu\n",
				(unsigned long long)insn_seq);
	}
	if (opt.verbose)
		fprintf(stderr, "  %s/%s %s n=%ld p=%ld rep=%d ops=%ld %.0f ns/op %.0f insn/op\n",
			mode, metric, backend, n, param, rep, ops,
			ops ? s->ns / ops : 0, ops && s->insn >= 0 ? s->insn / ops : -1);
	return s;
}

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "evpoll-bench: FAIL: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failures++;
}

/* ------------------------------------------------------------------ */
/* Set-up helpers */

static void raise_nofile(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur >= (rlim_t)want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < (rlim_t)want)
		rl.rlim_max = want;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * Everything runs on CPU 0 (threads and the echo server inherit it): under
 * TCG a wakeup that crosses to a halted vCPU costs milliseconds of host
 * time and a variable number of guest instructions, which would swamp
 * what is measured.  The other vCPU runs the kernel's own work.
 */
static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

struct pair {
	int r;		/* watched end */
	int w;		/* written end */
};

static struct pair *pairs;
static long nr_pairs;

/* Make sure at least @n socketpairs exist (kept across backends). */
static void pairs_get(long n)
{
	if (n <= nr_pairs)
		return;
	raise_nofile(2 * n + 256);
	pairs = realloc(pairs, n * sizeof(*pairs));
	if (!pairs)
		die("out of memory");
	for (; nr_pairs < n; nr_pairs++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			       0, sv))
			die("socketpair #%ld: %s (RLIMIT_NOFILE?)", nr_pairs,
			    strerror(errno));
		pairs[nr_pairs].r = sv[0];
		pairs[nr_pairs].w = sv[1];
	}
}

static void pairs_put(void)
{
	long i;

	for (i = 0; i < nr_pairs; i++) {
		close(pairs[i].r);
		close(pairs[i].w);
	}
	free(pairs);
	pairs = NULL;
	nr_pairs = 0;
}

/* Largest fd number the pairs use (select's limit). */
static int pairs_max_fd(long n)
{
	int m = 0;
	long i;

	for (i = 0; i < n; i++) {
		if (pairs[i].r > m)
			m = pairs[i].r;
		if (pairs[i].w > m)
			m = pairs[i].w;
	}
	return m;
}

static bool backend_fits(enum evpoll_backend b, long n)
{
	if (opt.max_n[b] && n > opt.max_n[b])
		return false;
	if (b == EVPOLL_BACKEND_SELECT && pairs_max_fd(n) >= FD_SETSIZE - 16)
		return false;
	return true;
}

/* Backends whose wait scans every watched fd: fewer writes at large N. */
static bool backend_scans(enum evpoll_backend b)
{
	return b == EVPOLL_BACKEND_POLL || b == EVPOLL_BACKEND_SELECT;
}

static long scaled_writes(enum evpoll_backend b, long n, long w, long min)
{
	long s;

	if (!backend_scans(b) || n <= 1000)
		return w;
	s = w * 1000 / n;
	if (s < min)
		s = min;
	return s < w ? s : w;
}

/*
 * A zero-timeout wait: makes a backend submit what it defers (uring's ADD
 * and MOD, aio's re-arms) and reap the completions of cancelled requests.
 * Nothing is ready when it is called.  A cancelled aio request holds a
 * context slot until its completion is reaped; the backend reaps them
 * itself when the context fills, and the waits here (one per MAX_EVENTS
 * operations for aio) reap the rest inside the timed run, so aio's
 * churn figures include the cost of its cancellations.
 */
static void flush_wait(struct evpoll_poller *p, long ops)
{
	struct evpoll_poller_event evs[MAX_EVENTS];
	long rounds = 1;

	if (evpoll_poller_backend(p) == EVPOLL_BACKEND_AIO)
		rounds = ops / MAX_EVENTS + 2;
	while (rounds--)
		evpoll_poller_wait(p, evs, MAX_EVENTS, 0);
}

static struct evpoll_poller *poller_with(enum evpoll_backend b, long n)
{
	struct evpoll_poller *p;
	long i;
	int ret;

	ret = evpoll_poller_new(b, 0, &p);
	if (ret)
		die("%s: poller: %s", evpoll_backend_name(b), strerror(-ret));
	for (i = 0; i < n; i++) {
		ret = evpoll_poller_add(p, pairs[i].r, EPOLLIN, i);
		if (ret)
			die("%s: add #%ld (fd %d): %s", evpoll_backend_name(b), i,
			    pairs[i].r, strerror(-ret));
	}
	/* Submit what a backend defers (uring's ADDs) before timing. */
	flush_wait(p, n);
	return p;
}

static void drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* ------------------------------------------------------------------ */
/* chain */

static long chain_once(struct evpoll_poller *p, long n, long a, long w)
{
	struct evpoll_poller_event evs[MAX_EVENTS];
	long left = w, fired = 0, i;

	for (i = 0; i < a && left > 0; i++, left--)
		if (write(pairs[i * n / a].w, "e", 1) != 1)
			die("chain: write: %s", strerror(errno));
	while (fired < w) {
		int k = evpoll_poller_wait(p, evs, MAX_EVENTS, 2000);

		if (k < 0 && k != -EINTR)
			die("chain: wait: %s", strerror(-k));
		if (k == 0) {
			fail("chain %s n=%ld a=%ld: stalled at %ld of %ld events",
			     evpoll_poller_backend_name(p), n, a, fired, w);
			break;
		}
		for (i = 0; i < k; i++) {
			long idx = evs[i].data;
			char c;

			if (read(pairs[idx].r, &c, 1) != 1)
				continue;	/* a stale level, not an event */
			fired++;
			if (left > 0) {
				if (write(pairs[(idx + 1) % n].w, "e", 1) != 1)
					die("chain: write: %s", strerror(errno));
				left--;
			}
		}
	}
	return fired;
}

static void bench_chain(struct evpoll_poller *p, long n, long a, int rep)
{
	enum evpoll_backend b = evpoll_poller_backend(p);
	const char *name = evpoll_backend_name(b);
	long w = scaled_writes(b, n, opt.writes, 2 * a);
	struct sample *s;
	struct run r;
	long fired;

	if (w < a)
		w = a;
	run_start(&r);
	fired = chain_once(p, n, a, w);
	s = run_stop(&r, "chain", "event", name, n, a, rep, fired);
	if (fired != w)
		fail("chain %s n=%ld a=%ld: %ld events, expected %ld", name, n,
		     a, fired, w);
	s->x[0] = w;
}

/* ------------------------------------------------------------------ */
/* idle */

static void bench_idle(struct evpoll_poller *p, long n, int rep)
{
	enum evpoll_backend b = evpoll_poller_backend(p);
	const char *name = evpoll_backend_name(b);
	long w = scaled_writes(b, n, opt.writes, 20), i, got = 0;
	struct evpoll_poller_event ev;
	struct run r;

	run_start(&r);
	for (i = 0; i < w; i++) {
		char c;
		int k;

		if (write(pairs[0].w, "i", 1) != 1)
			die("idle: write: %s", strerror(errno));
		do
			k = evpoll_poller_wait(p, &ev, 1, 2000);
		while (k == -EINTR);
		if (k != 1 || ev.data != 0) {
			fail("idle %s n=%ld: wait gave %d (data %llu)", name, n,
			     k, (unsigned long long)ev.data);
			drain(pairs[0].r);
			break;
		}
		if (read(pairs[0].r, &c, 1) == 1)
			got++;
	}
	run_stop(&r, "idle", "wakeup", name, n, 1, rep, got);
	if (got != w)
		fail("idle %s n=%ld: %ld wakeups, expected %ld", name, n, got, w);
}

/* ------------------------------------------------------------------ */
/* quiet: the background cost of a watched set (evpoll's reaper walks it) */

static void bench_quiet(struct evpoll_poller *p, long n, int rep)
{
	struct run r;

	run_start(&r);
	sleep_ms(1000);
	run_stop(&r, "quiet", "second", evpoll_poller_backend_name(p), n, 0,
		 rep, 1);
}

/* ------------------------------------------------------------------ */
/* churn */

static void churn_settle(struct evpoll_poller *p, long k)
{
	flush_wait(p, k);
	sleep_ms(opt.pause_ms);
}

/* Leaves the same fds watched as it found, with EPOLLIN. */
static void bench_churn(struct evpoll_poller *p, long n, int rep)
{
	const char *name = evpoll_poller_backend_name(p);
	long k = opt.churn_ops < n ? opt.churn_ops : n, j;
	struct run r;
	int ret;

	churn_settle(p, k);

	/* modify: toggle EPOLLPRI (every backend maps it somewhere) */
	run_start(&r);
	for (j = 0; j < k; j++) {
		long i = j * n / k;

		ret = evpoll_poller_mod(p, pairs[i].r, EPOLLIN | EPOLLPRI, i);
		if (ret)
			die("churn %s: mod: %s", name, strerror(-ret));
	}
	flush_wait(p, k);
	run_stop(&r, "churn", "mod", name, n, k, rep, k);
	churn_settle(p, k);

	run_start(&r);
	for (j = 0; j < k; j++) {
		ret = evpoll_poller_del(p, pairs[j * n / k].r);
		if (ret)
			die("churn %s: del: %s", name, strerror(-ret));
	}
	flush_wait(p, k);
	run_stop(&r, "churn", "del", name, n, k, rep, k);
	churn_settle(p, k);

	run_start(&r);
	for (j = 0; j < k; j++) {
		long i = j * n / k;

		ret = evpoll_poller_add(p, pairs[i].r, EPOLLIN, i);
		if (ret)
			die("churn %s: add: %s", name, strerror(-ret));
	}
	flush_wait(p, k);
	run_stop(&r, "churn", "add", name, n, k, rep, k);
	churn_settle(p, k);
}

/* ------------------------------------------------------------------ */
/* herd */

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

static void bench_herd(enum evpoll_backend b, long nthreads, bool exclusive,
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
	s = run_stop(&r, "herd", exclusive ? "excl" : "plain", name, nthreads,
		     exclusive, rep, e);
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
	s->x[0] = (double)wakeups / e;
	s->x[1] = sq ? sum * sum / (nthreads * sq) : 0;	/* Jain's index */
	if (wins != e)
		fail("herd %s: %ld events consumed, expected %ld", name, wins, e);
	close(h.efd);
	close(ack[0]);
	close(ack[1]);
	pthread_barrier_destroy(&h.ready);
	free(t);
}

/* ------------------------------------------------------------------ */
/* latency */

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

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void bench_latency(enum evpoll_backend b, int rep)
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
	s = run_stop(&r, "latency", "round", name, 1, 0, rep, l.rounds);
	pthread_join(tid, NULL);
	qsort(l.ns, l.rounds, sizeof(*l.ns), cmp_u64);
	s->x[0] = l.ns[l.rounds / 2];
	s->x[1] = l.ns[l.rounds * 90 / 100];
	s->x[2] = l.ns[l.rounds * 99 / 100];
	close(sv[0]);
	close(sv[1]);
	close(ack[0]);
	close(ack[1]);
	pthread_barrier_destroy(&l.ready);
	free(l.ns);
}

/* ------------------------------------------------------------------ */
/* echo: servers */

enum echo_model {
	ECHO_BLOCKING,
	ECHO_NONBLOCK,
	ECHO_POLLER,
	ECHO_AIO,
};

struct echo_cfg {
	enum echo_model model;
	enum evpoll_backend backend;	/* ECHO_POLLER */
	char aio[16];			/* ECHO_AIO: backend name */
	char name[16];
	int lfd;
	long conns;
};

static void set_nonblock(int fd, bool on)
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
static int write_all(int fd, const char *buf, size_t len)
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
	char buf[4096];
	int ret, i;

	ret = evpoll_poller_new(c->backend, 0, &p);
	if (ret)
		return 1;
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
					if (evpoll_poller_add(p, fd, EPOLLIN, fd))
						return 1;
				}
				if (accepted == c->conns)
					evpoll_poller_del(p, c->lfd);
				continue;
			}
			n = read(fd, buf, sizeof(buf));
			if (n > 0 && !write_all(fd, buf, n))
				continue;
			if (n < 0 && errno == EAGAIN)
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

	ret = evpoll_aio_create_by_name(&ctx, c->aio, 2 * c->conns + 8, 0);
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
	evpoll_aio_destroy(ctx);
	free(fds);
	free(bufs);
	return 0;
}

static int serve(struct echo_cfg *c)
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

/* ------------------------------------------------------------------ */
/* echo: the load client (epoll through the poller, the same for all) */

struct echo_conn {
	int fd;
	size_t got;
	uint64_t sent_at;
};

static void bench_echo(struct echo_cfg *c, int rep)
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
		_exit(serve(c));
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
	s = run_stop(&r, "echo", "request", c->name, c->conns, 0, rep, done);
	evpoll_poller_free(p);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("echo %s: the server failed (status 0x%x)", c->name, status);
	if (done < opt.echo_reqs)
		fail("echo %s: %ld of %ld requests in %ld s", c->name, done,
		     opt.echo_reqs, opt.echo_secs);
	if (done) {
		qsort(lat, done, sizeof(*lat), cmp_u64);
		s->x[0] = lat[done / 2];
		s->x[1] = lat[done * 90 / 100];
		s->x[2] = lat[done * 99 / 100];
	}
	free(cs);
	free(lat);
}

/* ------------------------------------------------------------------ */
/* mem: kernel memory per watched item */

static const char *const slab_caches[] = {
	"eventpoll_epi", "eventpoll_pwq",
	"evpoll_item", "evpoll_hook", "evpoll_fref",
};
#define NR_SLAB_CACHES ARRAY_SIZE(slab_caches)

/*
 * Bytes of the caches above in use (and each one's active objects and
 * object size in @objs, @sizes), and the Slab total of meminfo.
 */
static bool slab_bytes(double *caches, double *total, unsigned long *objs,
		       unsigned long *sizes)
{
	char line[512], name[64];
	FILE *f = fopen("/proc/slabinfo", "r");
	unsigned long active, num, size;
	size_t i;

	*caches = 0;
	*total = 0;
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %lu %lu %lu", name, &active, &num, &size) != 4)
			continue;
		for (i = 0; i < NR_SLAB_CACHES; i++) {
			if (strcmp(name, slab_caches[i]))
				continue;
			*caches += (double)active * size;
			objs[i] = active;
			sizes[i] = size;
		}
	}
	fclose(f);
	f = fopen("/proc/meminfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %lu kB", &size) == 1)
			*total = size * 1024.0;
	if (f)
		fclose(f);
	return true;
}

static void bench_mem(enum evpoll_backend b, long n, int rep)
{
	unsigned long o0[NR_SLAB_CACHES] = { 0 }, o1[NR_SLAB_CACHES] = { 0 };
	unsigned long sz[NR_SLAB_CACHES] = { 0 };
	double c0, t0, c1, t1;
	struct evpoll_poller *p;
	struct sample *s;
	struct run r;
	size_t i;

	sleep_ms(100);
	if (!slab_bytes(&c0, &t0, o0, sz)) {
		fprintf(stderr, "evpoll-bench: mem: /proc/slabinfo unreadable (root?)\n");
		return;
	}
	run_start(&r);
	p = poller_with(b, n);
	s = run_stop(&r, "mem", "item", evpoll_backend_name(b), n, 0, rep, n);
	sleep_ms(100);
	slab_bytes(&c1, &t1, o1, sz);
	s->x[0] = (c1 - c0) / n;
	s->x[1] = (t1 - t0) / n;
	if (rep == 0) {
		printf("mem %s N=%ld:", evpoll_backend_name(b), n);
		for (i = 0; i < NR_SLAB_CACHES; i++)
			if (o1[i] != o0[i])
				printf(" %s %+.3f objs/item x %lu B",
				       slab_caches[i], (double)((long)o1[i] - (long)o0[i]) / n,
				       sz[i]);
		printf("\n");
	}
	evpoll_poller_free(p);
}

/* ------------------------------------------------------------------ */
/* Summary: medians and spreads, ratios against epoll */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of @v[0..n), and (max - min) / median in @spread. */
static double median(double *v, int n, double *spread)
{
	double m;

	if (!n) {
		*spread = 0;
		return -1;
	}
	qsort(v, n, sizeof(*v), cmp_double);
	m = n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	*spread = m > 0 ? (v[n - 1] - v[0]) / m : 0;
	return m;
}

struct cell {
	const char *mode;
	const char *metric;
	const char *backend;
	long n;
	long param;
	int reps;
	double insn, insn_spread;	/* per op */
	double ns, ns_spread;		/* per op */
	double x[3];
	double insn_ratio, ns_ratio;	/* against epoll (or the reference) */
};

static bool same_cell(const struct sample *a, const struct cell *c)
{
	return !strcmp(a->mode, c->mode) && !strcmp(a->metric, c->metric) &&
	       !strcmp(a->backend, c->backend) && a->n == c->n &&
	       a->param == c->param;
}

static struct cell *cells;
static size_t nr_cells;

static void summarize(void)
{
	double *v = xcalloc(nr_samples, sizeof(*v));
	double *w = xcalloc(nr_samples, sizeof(*w));
	double *x = xcalloc(nr_samples, sizeof(*x));
	size_t i, j, k;

	cells = xcalloc(nr_samples, sizeof(*cells));
	for (i = 0; i < nr_samples; i++) {
		struct sample *s = &samples[i];
		struct cell *c = NULL;
		int nv = 0, nw = 0, e;

		for (j = 0; j < nr_cells && !c; j++)
			if (same_cell(s, &cells[j]))
				c = &cells[j];
		if (c)
			continue;
		c = &cells[nr_cells++];
		c->mode = s->mode;
		c->metric = s->metric;
		c->backend = s->backend;
		c->n = s->n;
		c->param = s->param;
		for (j = i; j < nr_samples; j++) {
			if (!same_cell(&samples[j], c) || !samples[j].ops)
				continue;
			w[nw++] = samples[j].ns / samples[j].ops;
			if (samples[j].insn >= 0)
				v[nv++] = samples[j].insn / samples[j].ops;
		}
		c->reps = nw;
		c->insn = median(v, nv, &c->insn_spread);
		c->ns = median(w, nw, &c->ns_spread);
		for (e = 0; e < 3; e++) {
			double sp;

			k = 0;
			for (j = i; j < nr_samples; j++)
				if (same_cell(&samples[j], c))
					x[k++] = samples[j].x[e];
			c->x[e] = median(x, k, &sp);
		}
	}
	/* Ratios against epoll in the same mode, metric, n and param. */
	for (i = 0; i < nr_cells; i++) {
		struct cell *c = &cells[i];

		c->insn_ratio = c->ns_ratio = -1;
		for (j = 0; j < nr_cells; j++) {
			struct cell *r = &cells[j];

			if (strcmp(r->backend, "epoll") || strcmp(r->mode, c->mode) ||
			    strcmp(r->metric, c->metric) || r->n != c->n ||
			    r->param != c->param)
				continue;
			if (r->insn > 0 && c->insn >= 0)
				c->insn_ratio = c->insn / r->insn;
			if (r->ns > 0)
				c->ns_ratio = c->ns / r->ns;
		}
	}
	free(v);
	free(w);
	free(x);
}

/* Order of first appearance among the samples: groups, then backends. */
static long first_seen(const struct cell *c, bool backend)
{
	size_t i;

	for (i = 0; i < nr_samples; i++) {
		const struct sample *s = &samples[i];

		if (backend ? !strcmp(s->backend, c->backend) :
		    !strcmp(s->mode, c->mode) && !strcmp(s->metric, c->metric))
			return i;
	}
	return 0;
}

static int cmp_cell(const void *a, const void *b)
{
	const struct cell *x = a, *y = b;
	long d;

	d = first_seen(x, false) - first_seen(y, false);
	if (!d)
		d = x->n - y->n;
	if (!d)
		d = x->param - y->param;
	if (!d)
		d = first_seen(x, true) - first_seen(y, true);
	return d < 0 ? -1 : d > 0;
}

static const char *param_name(const char *mode)
{
	if (!strcmp(mode, "chain"))
		return "A";
	if (!strcmp(mode, "churn"))
		return "K";
	if (!strcmp(mode, "herd"))
		return "excl";
	return "-";
}

static const char *n_name(const char *mode)
{
	if (!strcmp(mode, "herd"))
		return "T";
	if (!strcmp(mode, "echo"))
		return "C";
	return "N";
}

static void fmt_ratio(char *buf, size_t len, double r)
{
	if (r < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.3f", r);
}

static void print_table(FILE *f)
{
	const char *mode = "", *metric = "";
	size_t i;

	for (i = 0; i < nr_cells; i++) {
		struct cell *c = &cells[i];
		char ir[16], wr[16], extra[96] = "";

		if (strcmp(mode, c->mode) || strcmp(metric, c->metric)) {
			mode = c->mode;
			metric = c->metric;
			fprintf(f, "\n%s (%s): per %s, median of the repeats;"
				" spread = (max-min)/median\n", mode, metric,
				!strcmp(mode, "herd") ? "event" : metric);
			fprintf(f, "%-9s %6s %5s %4s %12s %7s %8s %11s %7s %8s  %s\n",
				"backend", n_name(mode), param_name(mode), "reps",
				"insn", "spread", "x epoll", "ns", "spread",
				"x epoll",
				!strcmp(mode, "herd") ? "wakeups/event fairness" :
				!strcmp(mode, "latency") || !strcmp(mode, "echo") ?
				"p50/p90/p99 us" :
				!strcmp(mode, "mem") ? "slab caches B/item, all slab B/item" :
				"");
		}
		fmt_ratio(ir, sizeof(ir), c->insn_ratio);
		fmt_ratio(wr, sizeof(wr), c->ns_ratio);
		if (!strcmp(mode, "herd"))
			snprintf(extra, sizeof(extra), "%.2f %.3f", c->x[0], c->x[1]);
		else if (!strcmp(mode, "latency") || !strcmp(mode, "echo"))
			snprintf(extra, sizeof(extra), "%.1f/%.1f/%.1f",
				 c->x[0] / 1e3, c->x[1] / 1e3, c->x[2] / 1e3);
		else if (!strcmp(mode, "mem"))
			snprintf(extra, sizeof(extra), "%.1f %.1f", c->x[0], c->x[1]);
		fprintf(f, "%-9s %6ld %5ld %4d %12.0f %6.1f%% %8s %11.0f %6.1f%% %8s  %s\n",
			c->backend, c->n, c->param, c->reps, c->insn,
			100 * c->insn_spread, ir, c->ns, 100 * c->ns_spread, wr,
			extra);
	}
}

static void write_csv(const char *prefix)
{
	char path[4096];
	FILE *f;
	size_t i;

	snprintf(path, sizeof(path), "%s-raw.csv", prefix);
	f = fopen(path, "w");
	if (!f)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "mode,metric,backend,n,param,rep,ops,ns,insn,insn_self,x0,x1,x2\n");
	for (i = 0; i < nr_samples; i++) {
		struct sample *s = &samples[i];

		fprintf(f, "%s,%s,%s,%ld,%ld,%d,%ld,%.0f,%.0f,%.0f,%g,%g,%g\n",
			s->mode, s->metric, s->backend, s->n, s->param, s->rep,
			s->ops, s->ns, s->insn, s->insn_self, s->x[0], s->x[1],
			s->x[2]);
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s-summary.csv", prefix);
	f = fopen(path, "w");
	if (!f)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "mode,metric,backend,n,param,reps,insn_per_op,insn_spread,insn_ratio,ns_per_op,ns_spread,ns_ratio,x0,x1,x2\n");
	for (i = 0; i < nr_cells; i++) {
		struct cell *c = &cells[i];

		fprintf(f, "%s,%s,%s,%ld,%ld,%d,%.1f,%.4f,%.4f,%.1f,%.4f,%.4f,%g,%g,%g\n",
			c->mode, c->metric, c->backend, c->n, c->param, c->reps,
			c->insn, c->insn_spread, c->insn_ratio, c->ns,
			c->ns_spread, c->ns_ratio, c->x[0], c->x[1], c->x[2]);
	}
	fclose(f);
}

/* ------------------------------------------------------------------ */
/* Driver */

static bool have(enum evpoll_backend b)
{
	int i;

	for (i = 0; i < opt.nr_backends; i++)
		if (opt.backends[i] == b)
			return true;
	return false;
}

static void run_matrix(void)
{
	int rep, bi, ni, ai;

	pin_cpu0();
	for (ni = 0; ni < opt.nr_ns; ni++) {
		long n = opt.ns[ni];

		if (!(opt.modes & (MODE_CHAIN | MODE_IDLE | MODE_CHURN | MODE_MEM |
				    MODE_QUIET)))
			break;
		pairs_get(n);
		fprintf(stderr, "evpoll-bench: N=%ld\n", n);
		for (rep = 0; rep < opt.repeats; rep++) {
			for (bi = 0; bi < opt.nr_backends; bi++) {
				/* Rotate the order: no backend always first. */
				enum evpoll_backend b =
					opt.backends[(bi + rep) % opt.nr_backends];

				struct evpoll_poller *p;

				if (!backend_fits(b, n))
					continue;
				p = poller_with(b, n);
				if (opt.modes & MODE_CHAIN)
					for (ai = 0; ai < opt.nr_as; ai++)
						if (opt.as[ai] <= n)
							bench_chain(p, n, opt.as[ai], rep);
				if (opt.modes & MODE_IDLE)
					bench_idle(p, n, rep);
				if (opt.modes & MODE_QUIET)
					bench_quiet(p, n, rep);
				if (opt.modes & MODE_CHURN)
					bench_churn(p, n, rep);
				evpoll_poller_free(p);
				sleep_ms(opt.pause_ms);	/* deferred frees */
				if ((opt.modes & MODE_MEM) &&
				    (b == EVPOLL_BACKEND_EPOLL || b == EVPOLL_BACKEND_EVPOLL))
					bench_mem(b, n, rep);
			}
		}
	}
	pairs_put();

	if (opt.modes & MODE_HERD) {
		for (ni = 0; ni < opt.nr_ts; ni++)
			for (rep = 0; rep < opt.repeats; rep++)
				for (bi = 0; bi < opt.nr_backends; bi++) {
					enum evpoll_backend b =
						opt.backends[(bi + rep) % opt.nr_backends];

					if (b == EVPOLL_BACKEND_SIGIO)
						continue;	/* no eventfd, one thread */
					bench_herd(b, opt.ts[ni], false, rep);
					if (evpoll_backend_caps(b) & EVPOLL_CAP_EXCLUSIVE)
						bench_herd(b, opt.ts[ni], true, rep);
				}
	}
	if (opt.modes & MODE_LATENCY)
		for (rep = 0; rep < opt.repeats; rep++)
			for (bi = 0; bi < opt.nr_backends; bi++)
				bench_latency(opt.backends[(bi + rep) % opt.nr_backends],
					      rep);
	if (opt.modes & MODE_ECHO) {
		struct echo_cfg cfgs[EVPOLL_BACKEND_COUNT + 8];
		int nc = 0, ci;
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
				if (evpoll_aio_create_by_name(&ctx, c->aio, 8, 0)) {
					fprintf(stderr, "evpoll-bench: echo: no %s\n", tok);
					continue;
				}
				evpoll_aio_destroy(ctx);
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
				bench_echo(&cfgs[(ci + rep) % nc], rep);
	}
}

/* Every backend completes tiny runs with the expected counts. */
static int selfcheck(void)
{
	int bi;

	opt.repeats = 1;
	opt.writes = 200;
	opt.churn_ops = 20;
	opt.herd_events = 20;
	opt.lat_rounds = 20;
	opt.echo_conns = 4;
	opt.echo_reqs = 100;
	opt.pause_ms = 0;
	opt.nr_ns = 1;
	opt.ns[0] = 50;
	opt.nr_as = 2;
	opt.as[0] = 1;
	opt.as[1] = 7;
	opt.nr_ts = 1;
	opt.ts[0] = 3;
	opt.modes = MODE_CHAIN | MODE_IDLE | MODE_CHURN | MODE_HERD |
		    MODE_LATENCY | MODE_ECHO;
	run_matrix();
	for (bi = 0; bi < opt.nr_backends; bi++) {
		const char *name = evpoll_backend_name(opt.backends[bi]);
		long events = 0;
		size_t i;

		for (i = 0; i < nr_samples; i++)
			if (!strcmp(samples[i].backend, name) &&
			    !strcmp(samples[i].mode, "chain"))
				events += samples[i].ops;
		if (events != 2 * opt.writes)
			fail("selfcheck %s: chain gave %ld events, expected %ld",
			     name, events, 2 * opt.writes);
		printf("selfcheck: %-7s chain events %ld\n", name, events);
	}
	printf("selfcheck: %zu runs, %d failures: %s\n", nr_samples, failures,
	       failures ? "FAIL" : "ok");
	return failures ? 1 : 0;
}

static int parse_list(const char *s, long *out, int max, const char *what)
{
	char *end;
	int n = 0;

	while (*s) {
		if (n == max)
			die("too many values for %s", what);
		out[n++] = strtol(s, &end, 0);
		if (end == s || out[n - 1] <= 0 || (*end && *end != ','))
			die("bad %s list: %s", what, s);
		s = *end ? end + 1 : end;
	}
	return n;
}

static void parse_backends(const char *s)
{
	enum evpoll_backend avail[EVPOLL_BACKEND_COUNT];
	int n, i;

	opt.nr_backends = 0;
	if (!s || !strcmp(s, "all")) {
		/* epoll first: the reference of every ratio. */
		n = evpoll_backends_available(avail, EVPOLL_BACKEND_COUNT);
		if (evpoll_backend_probe(EVPOLL_BACKEND_EPOLL) == 0)
			opt.backends[opt.nr_backends++] = EVPOLL_BACKEND_EPOLL;
		for (i = 0; i < n; i++)
			if (avail[i] != EVPOLL_BACKEND_EPOLL)
				opt.backends[opt.nr_backends++] = avail[i];
		return;
	}
	{
		char *list = strdup(s), *tok, *save = NULL;

		for (tok = strtok_r(list, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			int b = evpoll_backend_by_name(tok);

			if (b <= 0)
				die("unknown backend %s", tok);
			if (evpoll_backend_probe(b)) {
				fprintf(stderr, "evpoll-bench: %s unavailable here: skipped\n",
					tok);
				continue;
			}
			if (opt.nr_backends < EVPOLL_BACKEND_COUNT && !have(b))
				opt.backends[opt.nr_backends++] = b;
		}
		free(list);
	}
}

static void parse_max_n(const char *s)
{
	char *list = strdup(s), *tok, *save = NULL;

	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int b;

		if (!eq)
			die("-X wants BACKEND=N,...");
		*eq = 0;
		b = evpoll_backend_by_name(tok);
		if (b <= 0)
			die("unknown backend %s", tok);
		opt.max_n[b] = strtol(eq + 1, NULL, 0);
	}
	free(list);
}

static void parse_modes(const char *s)
{
	char *list = strdup(s), *tok, *save = NULL;
	size_t i;

	opt.modes = 0;
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all")) {
			opt.modes = ~0u;
			continue;
		}
		for (i = 0; i < ARRAY_SIZE(mode_names); i++)
			if (!strcmp(tok, mode_names[i]))
				break;
		if (i == ARRAY_SIZE(mode_names))
			die("unknown mode %s", tok);
		opt.modes |= 1u << i;
	}
	free(list);
}

static void usage(void)
{
	fprintf(stderr,
"usage: evpoll-bench [options]\n"
"  -m MODES    chain,idle,churn,herd,latency,echo,mem,quiet or all\n"
"              (default all but quiet)\n"
"  -b NAMES    backends (default all available, epoll first)\n"
"  -n N,...    watched fds for chain/idle/churn/mem (default 100,1000,10000)\n"
"  -a A,...    active chains (default 1,100)\n"
"  -w W        writes per chain/idle run (default 1000; fewer for poll and\n"
"              select past N=1000, costs are per event)\n"
"  -r R        repeats (default 5)\n"
"  -k K        churn operations per run (default 1000)\n"
"  -t T,...    herd threads (default 4)   -E E  herd events (default 200)\n"
"  -L L        latency rounds (default 500)\n"
"  -c C        echo connections (16)  -R R echo requests (4000)  -T S limit (20 s)\n"
"  -e MODELS   echo models (default blocking,nonblock,poller,aio-uring,\n"
"              aio-linux,aio-posix; poller = every -b backend)\n"
"  -X B=N,...  largest N for a backend (default uring=10000,aio=10000)\n"
"  -p MS       pause after churn runs (default 50)\n"
"  -i LOG      instruction counts from the QEMU plugin's log\n"
"  -o PREFIX   write PREFIX-raw.csv and PREFIX-summary.csv\n"
"  -S          self-check: tiny runs on every backend, exit 1 on a failure\n"
"  -v          one line per run on stderr\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *backends = NULL;
	int c;

	opt.modes = ~0u & ~MODE_QUIET;
	opt.nr_ns = parse_list("100,1000,10000", opt.ns, MAX_LIST, "-n");
	opt.nr_as = parse_list("1,100", opt.as, MAX_LIST, "-a");
	opt.nr_ts = parse_list("4", opt.ts, MAX_LIST, "-t");
	opt.max_n[EVPOLL_BACKEND_URING] = 10000;
	opt.max_n[EVPOLL_BACKEND_AIO] = 10000;
	while ((c = getopt(argc, argv,
			   "m:b:n:a:w:r:k:t:E:L:c:R:T:e:X:p:i:o:Svh")) != -1) {
		switch (c) {
		case 'm':
			parse_modes(optarg);
			break;
		case 'b':
			backends = optarg;
			break;
		case 'n':
			opt.nr_ns = parse_list(optarg, opt.ns, MAX_LIST, "-n");
			break;
		case 'a':
			opt.nr_as = parse_list(optarg, opt.as, MAX_LIST, "-a");
			break;
		case 't':
			opt.nr_ts = parse_list(optarg, opt.ts, MAX_LIST, "-t");
			break;
		case 'w':
			opt.writes = atol(optarg);
			break;
		case 'r':
			opt.repeats = atoi(optarg);
			break;
		case 'k':
			opt.churn_ops = atol(optarg);
			break;
		case 'E':
			opt.herd_events = atol(optarg);
			break;
		case 'L':
			opt.lat_rounds = atol(optarg);
			break;
		case 'c':
			opt.echo_conns = atol(optarg);
			break;
		case 'R':
			opt.echo_reqs = atol(optarg);
			break;
		case 'T':
			opt.echo_secs = atol(optarg);
			break;
		case 'e':
			opt.echo_models = optarg;
			break;
		case 'X':
			parse_max_n(optarg);
			break;
		case 'p':
			opt.pause_ms = atoi(optarg);
			break;
		case 'i':
			opt.insn_log = optarg;
			break;
		case 'o':
			opt.out = optarg;
			break;
		case 'S':
			opt.selfcheck = true;
			break;
		case 'v':
			opt.verbose = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || opt.writes <= 0 || opt.repeats <= 0 ||
	    opt.churn_ops <= 0 || opt.herd_events <= 0 || opt.lat_rounds <= 0 ||
	    opt.echo_conns <= 0 || opt.echo_reqs <= 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	parse_backends(backends);
	if (!opt.nr_backends)
		die("no backend available");
	if (opt.insn_log)
		insn_open(opt.insn_log);
	if (opt.selfcheck)
		return selfcheck();
	run_matrix();
	summarize();
	qsort(cells, nr_cells, sizeof(*cells), cmp_cell);
	print_table(stdout);
	if (opt.out)
		write_csv(opt.out);
	if (failures)
		fprintf(stderr, "evpoll-bench: %d failures\n", failures);
	return failures ? 1 : 0;
}
