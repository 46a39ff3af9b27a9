/* SPDX-License-Identifier: GPL-2.0 */
/*
 * evpoll-bench: what the files share.
 *
 *   main.c       options, the mode table, the driver, the self-check
 *   measure.c    markers, the plugin's log, samples, the table, the CSV
 *   setup.c      set-up helpers: socketpairs, pollers, limits, CPU
 *   mode-*.c     one mode each: its runs and its columns
 *   echo.c       the echo servers, one per I/O model (mode-echo.c is the
 *                load client)
 *
 * Adding a mode:
 *   1. write mode-<name>.c defining
 *      "const struct bench_mode bench_mode_<name> = { .name = "<name>", ... }"
 *      with one of the run hooks below; its runs are bracketed by
 *      run_start() / run_stop() (one sample each);
 *   2. add BENCH_MODE(<name>) to bench-modes.h, where the order is the
 *      order the driver runs the modes in (the Makefile builds every
 *      mode-*.c);
 *   3. if it has extra columns, give them a named view in union
 *      bench_extra and set .extra_label and .format;
 *   4. new options: struct opts, usage() and getopt in main.c, and
 *      Documentation/man/evpoll-bench.1.
 */
#ifndef _EVPOLL_BENCH_H
#define _EVPOLL_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <evpoll.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_LIST	16
#define MAX_EVENTS	256

/* main.c: options */

struct opts {
	unsigned int modes;		/* bit i: bench_modes[i] */
	enum evpoll_backend backends[EVPOLL_BACKEND_MAX];
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
	long max_n[EVPOLL_BACKEND_MAX];
	int pause_ms;
	const char *out;
	const char *insn_log;
	const char *echo_models;
	bool selfcheck;
	bool edge;			/* -g: EPOLLET where the backend has ET */
	bool verbose;
};

extern struct opts opt;

/* The backend of slot @bi in repeat @rep: the order rotates. */
static inline enum evpoll_backend bench_backend(int bi, int rep)
{
	return opt.backends[(bi + rep) % opt.nr_backends];
}

/* Samples */

#define BENCH_NR_EXTRA	3

/*
 * union bench_extra - a mode's extra results
 * @v:		the generic view: medians, CSV columns x0..x2
 * the others:	each mode's names for them
 */
union bench_extra {
	double v[BENCH_NR_EXTRA];
	struct {
		double writes;		/* writes the run made */
	} chain;
	struct {
		double wakeups;		/* wakeups per event */
		double fairness;	/* Jain's index of the wins */
	} herd;
	struct {
		double p50, p90, p99;	/* ns */
	} pct;				/* latency, echo */
	struct {
		double caches;		/* slab caches, bytes per item */
		double slab;		/* all slab, bytes per item */
	} mem;
	struct {
		double syscalls;	/* per op, -1: not counted */
		double waits;		/* waits per op (burst) */
		double waiter;		/* burst: the waiter's vCPU's
					 * instructions per op, -1 unknown */
	} v2;				/* toggle, batch-add, burst */
};

struct bench_mode;

/*
 * struct sample - one measured run
 * @mode, @metric:	what was measured (chain/"event", churn/"add"...)
 * @backend:		backend or I/O model name
 * @n, @param:		the run's size and its second parameter (A, T...)
 * @ops:		events, operations or requests in the run
 * @ns:			wall-clock nanoseconds of the run
 * @insn:		guest instructions of every vCPU (-1: not counted)
 * @insn_self:		those of the vCPU that ran the stop marker
 * @sys:		system calls of the process but read(2)/write(2) in
 *			the run (-1: not counted; see measure.c)
 * @extra:		mode-specific results (percentiles, fairness...)
 */
struct sample {
	const struct bench_mode *mode;
	const char *metric;
	char backend[16];
	long n;
	long param;
	int rep;
	long ops;
	double ns;
	double insn;
	double insn_self;
	double sys;
	bool sys_only;		/* run of the system call pass (measure.c) */
	union bench_extra extra;
};

/*
 * struct bench_mode - one mode; unset labels take the defaults shown
 * @name:		its -m name, the "mode" column of the CSV
 * @n_label:		the table's heading of n ("N")
 * @param_label:	the table's heading of param ("-")
 * @per:		"per <per>" in the table's title (the metric)
 * @extra_label:	the heading of the extra column ("")
 * @optional:		left out unless -m names it (or says all)
 * @no_selfcheck:	left out of -S
 * @run_poller:		per N, repeat and backend, on a poller watching the
 *			first N socketpairs (pairs[]); leaves it as it found it
 * @run_backend_n:	per N, repeat and backend, after that poller is freed
 * @run_backend:	per repeat and backend, after the N loop
 * @run:		after the N loop, with the mode's own loops
 * @format:		the extra column of a table row, from the medians
 */
struct bench_mode {
	const char *name;
	const char *n_label;
	const char *param_label;
	const char *per;
	const char *extra_label;
	bool optional;
	bool no_selfcheck;
	void (*run_poller)(struct evpoll_poller *p, long n, int rep);
	void (*run_backend_n)(enum evpoll_backend b, long n, int rep);
	void (*run_backend)(enum evpoll_backend b, int rep);
	void (*run)(void);
	void (*format)(char *buf, size_t len, const union bench_extra *x);
};

#define BENCH_MODE(name)	BENCH_MODE_ID_##name,
enum bench_mode_id {
#include "bench-modes.h"
	BENCH_NR_MODES
};
#undef BENCH_MODE

#define BENCH_MODE(name)	extern const struct bench_mode bench_mode_##name;
#include "bench-modes.h"
#undef BENCH_MODE

extern const struct bench_mode *const bench_modes[BENCH_NR_MODES];

/* measure.c */

struct run {
	uint64_t t0;
	double sys0;	/* system calls before the run, -1 */
};

extern struct sample *samples;
extern size_t nr_samples;

uint64_t now_ns(void);
void insn_open(const char *path);
void run_start(struct run *r);
struct sample *run_stop(struct run *r, const struct bench_mode *mode,
			const char *metric, const char *backend, long n,
			long param, int rep, long ops);
void percentiles(uint64_t *v, long n, union bench_extra *x);
void format_percentiles(char *buf, size_t len, const union bench_extra *x);
extern bool bench_sys_pass;
bool sys_pass_begin(void);
void summarize(void);
void print_table(FILE *f);
void write_csv(const char *prefix);

/* setup.c */

struct pair {
	int r;		/* watched end */
	int w;		/* written end */
};

extern struct pair *pairs;
extern int failures;		/* fail() calls */

void die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *xcalloc(size_t n, size_t size);
void sleep_ms(int ms);
void pin_cpu0(void);
void pairs_get(long n);
void pairs_put(void);
bool backend_fits(enum evpoll_backend b, long n);
long scaled_writes(enum evpoll_backend b, long n, long w, long min);
void flush_wait(struct evpoll_poller *p, long ops);
struct evpoll_poller *poller_with(enum evpoll_backend b, long n);
void drain(int fd);
uint64_t bench_evpoll_features(void);
long long bench_sys_tracepoint_id(void);
int bench_sys_counter_open(bool inherit);
long sysc_count(void);
double sysc_per(long before, long after, long ops);

/* mode-toggle.c: for the version 2 modes (toggle, batch-add, burst) */
struct evpoll_poller *bench_variant_poller(enum evpoll_backend b,
					   bool no_submit, bool batched);
void bench_format_syscalls(char *buf, size_t len, const union bench_extra *x);
/*
 * burst and burst-paced (mode-burst.c): the writer pauses @gap_ns between
 * two events of a burst, 0 for none.
 */
void bench_burst_all(const struct bench_mode *mode, long gap_ns);
void bench_burst_format(char *buf, size_t len, const union bench_extra *x);

#endif /* _EVPOLL_BENCH_H */
