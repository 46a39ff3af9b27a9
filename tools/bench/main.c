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
 *   ctl      the same, one epoll_ctl() each without the poller: the C
 *	      library's epoll, libevpoll's evpoll_ctl() and the LD_PRELOAD
 *	      shim's epoll_ctl(); and the floor of a system call
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
 *   quiet-inst  the same with the N fds spread over N/64 instances
 *
 * Every run is bracketed by marker instructions (7-byte NOPs) that the
 * QEMU plugin insn-plugin.c counts guest instructions between; with -i LOG
 * (the plugin's log, read back over the VM's share) each run gets an
 * instruction count beside its wall-clock time.  Repeats interleave the
 * backends; the table gives medians and spreads, ratios against epoll.
 *
 * This file: the options, the mode table and the driver.  bench.h says
 * how the files divide the rest and how to add a mode.
 *
 * See evpoll-bench(1).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

struct opts opt = {
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

#define BENCH_MODE(name)	[BENCH_MODE_ID_##name] = &bench_mode_##name,
const struct bench_mode *const bench_modes[BENCH_NR_MODES] = {
#include "bench-modes.h"
};
#undef BENCH_MODE

static bool mode_on(size_t i)
{
	return opt.modes & 1u << i;
}

static bool have(enum evpoll_backend b)
{
	int i;

	for (i = 0; i < opt.nr_backends; i++)
		if (opt.backends[i] == b)
			return true;
	return false;
}

/*
 * The selected modes in the order of bench-modes.h: first, per N, repeat
 * and backend, the modes that run on a poller watching N socketpairs and
 * those that run after it; then the others, each over its own loops.
 */
static void run_matrix(void)
{
	bool per_n = false;
	int rep, bi, ni;
	size_t i;

	for (i = 0; i < BENCH_NR_MODES; i++)
		if (mode_on(i) && (bench_modes[i]->run_poller ||
				   bench_modes[i]->run_backend_n))
			per_n = true;
	pin_cpu0();
	for (ni = 0; ni < opt.nr_ns && per_n; ni++) {
		long n = opt.ns[ni];

		pairs_get(n);
		fprintf(stderr, "evpoll-bench: N=%ld\n", n);
		for (rep = 0; rep < opt.repeats; rep++) {
			for (bi = 0; bi < opt.nr_backends; bi++) {
				/* Rotate the order: no backend always first. */
				enum evpoll_backend b = bench_backend(bi, rep);
				struct evpoll_poller *p;

				if (!backend_fits(b, n))
					continue;
				p = poller_with(b, n);
				for (i = 0; i < BENCH_NR_MODES; i++)
					if (mode_on(i) && bench_modes[i]->run_poller)
						bench_modes[i]->run_poller(p, n, rep);
				evpoll_poller_free(p);
				sleep_ms(opt.pause_ms);	/* deferred frees */
				for (i = 0; i < BENCH_NR_MODES; i++)
					if (mode_on(i) && bench_modes[i]->run_backend_n)
						bench_modes[i]->run_backend_n(b, n, rep);
			}
		}
	}
	pairs_put();

	for (i = 0; i < BENCH_NR_MODES; i++) {
		const struct bench_mode *m = bench_modes[i];

		if (!mode_on(i))
			continue;
		if (m->run)
			m->run();
		if (m->run_backend)
			for (rep = 0; rep < opt.repeats; rep++)
				for (bi = 0; bi < opt.nr_backends; bi++)
					m->run_backend(bench_backend(bi, rep), rep);
	}
}

/* Every backend completes tiny runs with the expected counts. */
static int selfcheck(void)
{
	size_t i;
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
	opt.modes = 0;
	for (i = 0; i < BENCH_NR_MODES; i++)
		if (!bench_modes[i]->no_selfcheck)
			opt.modes |= 1u << i;
	run_matrix();
	for (bi = 0; bi < opt.nr_backends; bi++) {
		const char *name = evpoll_backend_name(opt.backends[bi]);
		long events = 0;

		for (i = 0; i < nr_samples; i++)
			if (!strcmp(samples[i].backend, name) &&
			    samples[i].mode == &bench_mode_chain)
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
	enum evpoll_backend avail[EVPOLL_BACKEND_MAX];
	int n, i;

	opt.nr_backends = 0;
	if (!s || !strcmp(s, "all")) {
		/* epoll first: the reference of every ratio. */
		n = evpoll_backends_available(avail, EVPOLL_BACKEND_MAX);
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
			if (opt.nr_backends < EVPOLL_BACKEND_MAX && !have(b))
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
		for (i = 0; i < BENCH_NR_MODES; i++)
			if (!strcmp(tok, bench_modes[i]->name))
				break;
		if (i == BENCH_NR_MODES)
			die("unknown mode %s", tok);
		opt.modes |= 1u << i;
	}
	free(list);
}

static void usage(void)
{
	fprintf(stderr,
"usage: evpoll-bench [options]\n"
"  -m MODES    chain,idle,churn,ctl,herd,latency,echo,mem,quiet,\n"
"              quiet-inst,toggle,batch-add,burst,burst-paced,\n"
"              close or all\n"
"              (default all but quiet, quiet-inst and close)\n"
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
"  -g          edge-triggered: chain and idle watch with EPOLLET on the\n"
"              backends that offer it (EVPOLL_CAP_ET), LT on the others\n"
"  -v          one line per run on stderr\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *backends = NULL;
	size_t i;
	int c;

	opt.modes = 0;
	for (i = 0; i < BENCH_NR_MODES; i++)
		if (!bench_modes[i]->optional)
			opt.modes |= 1u << i;
	opt.nr_ns = parse_list("100,1000,10000", opt.ns, MAX_LIST, "-n");
	opt.nr_as = parse_list("1,100", opt.as, MAX_LIST, "-a");
	opt.nr_ts = parse_list("4", opt.ts, MAX_LIST, "-t");
	opt.max_n[EVPOLL_BACKEND_URING] = 10000;
	opt.max_n[EVPOLL_BACKEND_AIO] = 10000;
	while ((c = getopt(argc, argv,
			   "m:b:n:a:w:r:k:t:E:L:c:R:T:e:X:p:i:o:Sgvh")) != -1) {
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
		case 'g':
			opt.edge = true;
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
	/*
	 * The system calls per op, counted in one more repeat of the whole
	 * matrix whose instructions and times are not used (measure.c).
	 */
	if (!getenv("EVPOLL_BENCH_NOSYS") && sys_pass_begin()) {
		fprintf(stderr, "evpoll-bench: system call pass\n");
		opt.repeats = 1;
		run_matrix();
	}
	summarize();
	print_table(stdout);
	if (opt.out)
		write_csv(opt.out);
	if (failures)
		fprintf(stderr, "evpoll-bench: %d failures\n", failures);
	return failures ? 1 : 0;
}
