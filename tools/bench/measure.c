// SPDX-License-Identifier: GPL-2.0
/*
 * evpoll-bench: measuring.  Every run is bracketed by marker instructions
 * (7-byte NOPs) that the QEMU plugin insn-plugin.c counts guest
 * instructions between; with -i LOG (the plugin's log, read back over the
 * VM's share) each run gets an instruction count beside its wall-clock
 * time.  The samples become a table of medians and spreads, with ratios
 * against epoll, and two CSV files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "bench.h"

/* ------------------------------------------------------------------ */
/* Instruction counting: markers and the plugin's log */

#define MARK(kind) \
	asm volatile(".byte 0x0f, 0x1f, 0x80, " #kind ", 0x45, 0x56, 0xb5" \
		     ::: "memory")

static int insn_fd = -1;
static off_t insn_off;
static uint64_t insn_seq;

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

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

void insn_open(const char *path)
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

struct sample *samples;
size_t nr_samples;
static size_t cap_samples;

/*
 * System calls per op: a perf counter on the raw_syscalls:sys_enter
 * tracepoint for this process and the threads it creates (inherit),
 * filtered to leave out read(2) and write(2) (x86-64 numbers 0 and 1):
 * what is left is the readiness mechanism's own calls (waits, ctl, ring
 * entries), since the modes make the same reads and writes on every
 * backend.  -1 where it cannot be opened (no tracefs, not root, another
 * arch).
 *
 * The counter is not free: while it is open, every system call of the
 * process (read and write too, before the filter drops them) runs the
 * tracepoint's perf handler, about 470 guest instructions (chain, stock
 * 6.1: epoll 7,985 per event with it, 6,578 without).  That would add a
 * constant per call to every backend's figure, flattering the ratios of
 * those with fewer calls.  So the counter is open only in the system
 * call pass (bench_sys_pass, main.c), a repeat of its own after the
 * measured ones, whose instructions and times are not used.
 */
bool bench_sys_pass;
static int sys_fd = -1;

/* The raw_syscalls:sys_enter tracepoint's id, -1 without tracefs. */
long long bench_sys_tracepoint_id(void)
{
	static const char *const paths[] = {
		"/sys/kernel/tracing/events/raw_syscalls/sys_enter/id",
		"/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id",
	};
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int fd = open(paths[i], O_RDONLY | O_CLOEXEC);
		ssize_t len;

		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len > 0) {
			buf[len] = '\0';
			return atoll(buf);
		}
	}
	return -1;
}

/*
 * A counting perf event on raw_syscalls:sys_enter for the calling thread
 * and, with @inherit, the threads it creates from then on; -1 where it
 * cannot be opened.  The two counters (this file's, setup.c's per-thread
 * sysc_count()) are opened here.
 */
int bench_sys_counter_open(bool inherit)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(a),
		.inherit = inherit,
	};
	long long id = bench_sys_tracepoint_id();

	if (id < 0)
		return -1;
	a.config = id;
	return syscall(SYS_perf_event_open, &a, 0, -1, -1,
		       PERF_FLAG_FD_CLOEXEC);
}

/*
 * Open the counter for the system call pass: false where it cannot be
 * (no pass then).  Threads created after this are counted (inherit): the
 * modes create theirs per run.
 */
bool sys_pass_begin(void)
{
#ifdef __x86_64__
	sys_fd = bench_sys_counter_open(true);
	if (sys_fd >= 0 &&
	    ioctl(sys_fd, PERF_EVENT_IOC_SET_FILTER, "id != 0 && id != 1")) {
		close(sys_fd);
		sys_fd = -1;
	}
	bench_sys_pass = sys_fd >= 0;
#endif
	return bench_sys_pass;
}

/* Calls so far (the inherited counters of live threads included). */
static double sys_count(void)
{
	uint64_t v;

	if (sys_fd < 0 || read(sys_fd, &v, sizeof(v)) != sizeof(v))
		return -1;
	return (double)v;
}

void run_start(struct run *r)
{
	r->sys0 = sys_count();
	MARK(0x01);
	r->t0 = now_ns();
}

struct sample *run_stop(struct run *r, const struct bench_mode *mode,
			const char *metric, const char *backend, long n,
			long param, int rep, long ops)
{
	uint64_t t1 = now_ns();
	struct sample *s;
	double sys1;

	MARK(0x02);
	sys1 = sys_count();
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
	s->sys_only = bench_sys_pass;
	/* The read(2)s of the counter itself are filtered out. */
	s->sys = r->sys0 >= 0 && sys1 >= 0 ? sys1 - r->sys0 : -1;
	if (insn_fd >= 0) {
		insn_seq++;
		if (!insn_read('R', insn_seq, &s->insn, &s->insn_self))
			fprintf(stderr, "evpoll-bench: no count for stop %llu\n",
				(unsigned long long)insn_seq);
	}
	if (opt.verbose)
		fprintf(stderr, "  %s/%s %s n=%ld p=%ld rep=%d ops=%ld %.0f ns/op %.0f insn/op\n",
			mode->name, metric, backend, n, param, rep, ops,
			ops ? s->ns / ops : 0, ops && s->insn >= 0 ? s->insn / ops : -1);
	return s;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts @v[0..n) (n > 0) and puts its p50, p90 and p99 in @x->pct. */
void percentiles(uint64_t *v, long n, union bench_extra *x)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	x->pct.p50 = v[n / 2];
	x->pct.p90 = v[n * 90 / 100];
	x->pct.p99 = v[n * 99 / 100];
}

void format_percentiles(char *buf, size_t len, const union bench_extra *x)
{
	snprintf(buf, len, "%.1f/%.1f/%.1f", x->pct.p50 / 1e3,
		 x->pct.p90 / 1e3, x->pct.p99 / 1e3);
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
	const struct bench_mode *mode;
	const char *metric;
	const char *backend;
	long n;
	long param;
	int reps;
	double insn, insn_spread;	/* per op */
	double ns, ns_spread;		/* per op */
	double sys;			/* system calls per op, -1 */
	union bench_extra extra;	/* medians */
	double insn_ratio, ns_ratio;	/* against epoll (or the reference) */
};

static bool same_cell(const struct sample *a, const struct cell *c)
{
	return a->mode == c->mode && !strcmp(a->metric, c->metric) &&
	       !strcmp(a->backend, c->backend) && a->n == c->n &&
	       a->param == c->param;
}

static struct cell *cells;
static size_t nr_cells;

/* Order of first appearance among the samples: groups, then backends. */
static long first_seen(const struct cell *c, bool backend)
{
	size_t i;

	for (i = 0; i < nr_samples; i++) {
		const struct sample *s = &samples[i];

		if (backend ? !strcmp(s->backend, c->backend) :
		    s->mode == c->mode && !strcmp(s->metric, c->metric))
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

/*
 * Median of extra @e over the samples of @c from @first on, those of the
 * system call pass (@pass) or the measured ones, in scratch @x (room for
 * every sample); -1 without any.
 */
static double extra_median(size_t first, const struct cell *c, int e,
			   bool pass, double *x)
{
	size_t j, k = 0;
	double sp;

	for (j = first; j < nr_samples; j++)
		if (same_cell(&samples[j], c) && samples[j].sys_only == pass)
			x[k++] = samples[j].extra.v[e];
	return median(x, k, &sp);
}

/* The samples into cells (one per mode, metric, backend, n, param). */
void summarize(void)
{
	double *v = xcalloc(nr_samples, sizeof(*v));
	double *w = xcalloc(nr_samples, sizeof(*w));
	double *x = xcalloc(nr_samples, sizeof(*x));
	double *y = xcalloc(nr_samples, sizeof(*y));
	size_t i, j;

	cells = xcalloc(nr_samples, sizeof(*cells));
	for (i = 0; i < nr_samples; i++) {
		struct sample *s = &samples[i];
		struct cell *c = NULL;
		int nv = 0, nw = 0, ny = 0, e;
		double sp;

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
			const struct sample *t = &samples[j];

			if (!same_cell(t, c) || !t->ops)
				continue;
			if (t->sys_only) {
				if (t->sys >= 0)
					y[ny++] = t->sys / t->ops;
				continue;
			}
			w[nw++] = t->ns / t->ops;
			if (t->insn >= 0)
				v[nv++] = t->insn / t->ops;
		}
		c->reps = nw;
		c->sys = median(y, ny, &sp);
		c->insn = median(v, nv, &c->insn_spread);
		c->ns = median(w, nw, &c->ns_spread);
		/*
		 * The extras of the measured runs; one they could not count
		 * (-1: the version 2 modes' system calls) from the pass.
		 */
		for (e = 0; e < BENCH_NR_EXTRA; e++) {
			c->extra.v[e] = extra_median(i, c, e, false, x);
			if (c->extra.v[e] < 0)
				c->extra.v[e] = extra_median(i, c, e, true, x);
		}
	}
	/* Ratios against epoll in the same mode, metric, n and param. */
	for (i = 0; i < nr_cells; i++) {
		struct cell *c = &cells[i];

		c->insn_ratio = c->ns_ratio = -1;
		for (j = 0; j < nr_cells; j++) {
			struct cell *r = &cells[j];

			if (strcmp(r->backend, "epoll") || r->mode != c->mode ||
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
	free(y);
	qsort(cells, nr_cells, sizeof(*cells), cmp_cell);
}

static const char *label(const char *s, const char *dflt)
{
	return s ? s : dflt;
}

static void fmt_ratio(char *buf, size_t len, double r)
{
	if (r < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.3f", r);
}

void print_table(FILE *f)
{
	const struct bench_mode *m = NULL;
	const char *metric = "";
	size_t i;

	for (i = 0; i < nr_cells; i++) {
		struct cell *c = &cells[i];
		char ir[16], wr[16], sy[16], extra[96] = "";

		if (m != c->mode || strcmp(metric, c->metric)) {
			m = c->mode;
			metric = c->metric;
			fprintf(f, "\n%s (%s): per %s, median of the repeats;"
				" spread = (max-min)/median\n", m->name, metric,
				label(m->per, metric));
			fprintf(f, "%-13s %6s %5s %4s %12s %7s %8s %11s %7s %8s %7s  %s\n",
				"backend", label(m->n_label, "N"),
				label(m->param_label, "-"), "reps",
				"insn", "spread", "x epoll", "ns", "spread",
				"x epoll", "sys", label(m->extra_label, ""));
		}
		fmt_ratio(ir, sizeof(ir), c->insn_ratio);
		fmt_ratio(wr, sizeof(wr), c->ns_ratio);
		fmt_ratio(sy, sizeof(sy), c->sys);
		if (m->format)
			m->format(extra, sizeof(extra), &c->extra);
		fprintf(f, "%-13s %6ld %5ld %4d %12.0f %6.1f%% %8s %11.0f %6.1f%% %8s %7s  %s\n",
			c->backend, c->n, c->param, c->reps, c->insn,
			100 * c->insn_spread, ir, c->ns, 100 * c->ns_spread, wr,
			sy, extra);
	}
}

static FILE *csv_open(char *path, size_t len, const char *prefix,
		      const char *which)
{
	FILE *f;

	snprintf(path, len, "%s-%s.csv", prefix, which);
	f = fopen(path, "w");
	if (!f)
		die("%s: %s", path, strerror(errno));
	return f;
}

void write_csv(const char *prefix)
{
	char path[4096];
	FILE *f;
	size_t i;

	f = csv_open(path, sizeof(path), prefix, "raw");
	fprintf(f, "mode,metric,backend,n,param,rep,ops,ns,insn,insn_self,x0,x1,x2,sys,sys_pass\n");
	for (i = 0; i < nr_samples; i++) {
		struct sample *s = &samples[i];

		fprintf(f, "%s,%s,%s,%ld,%ld,%d,%ld,%.0f,%.0f,%.0f,%g,%g,%g,%g,%d\n",
			s->mode->name, s->metric, s->backend, s->n, s->param,
			s->rep, s->ops, s->ns, s->insn, s->insn_self,
			s->extra.v[0], s->extra.v[1], s->extra.v[2], s->sys,
			s->sys_only);
	}
	fclose(f);
	f = csv_open(path, sizeof(path), prefix, "summary");
	fprintf(f, "mode,metric,backend,n,param,reps,insn_per_op,insn_spread,insn_ratio,ns_per_op,ns_spread,ns_ratio,x0,x1,x2,sys_per_op\n");
	for (i = 0; i < nr_cells; i++) {
		struct cell *c = &cells[i];

		fprintf(f, "%s,%s,%s,%ld,%ld,%d,%.1f,%.4f,%.4f,%.1f,%.4f,%.4f,%g,%g,%g,%g\n",
			c->mode->name, c->metric, c->backend, c->n, c->param,
			c->reps, c->insn, c->insn_spread, c->insn_ratio, c->ns,
			c->ns_spread, c->ns_ratio, c->extra.v[0],
			c->extra.v[1], c->extra.v[2], c->sys);
	}
	fclose(f);
}
