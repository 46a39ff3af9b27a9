// SPDX-License-Identifier: GPL-2.0
/*
 * mem: kernel memory per watched item (slabinfo), epoll and evpoll only.
 * Needs a readable /proc/slabinfo (root).
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"

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

static void mem_backend_n(enum evpoll_backend b, long n, int rep)
{
	unsigned long o0[NR_SLAB_CACHES] = { 0 }, o1[NR_SLAB_CACHES] = { 0 };
	unsigned long sz[NR_SLAB_CACHES] = { 0 };
	double c0, t0, c1, t1;
	struct evpoll_poller *p;
	struct sample *s;
	struct run r;
	size_t i;

	if (b != EVPOLL_BACKEND_EPOLL && b != EVPOLL_BACKEND_EVPOLL)
		return;
	sleep_ms(100);
	if (!slab_bytes(&c0, &t0, o0, sz)) {
		fprintf(stderr, "evpoll-bench: mem: /proc/slabinfo unreadable (root?)\n");
		return;
	}
	run_start(&r);
	p = poller_with(b, n);
	s = run_stop(&r, &bench_mode_mem, "item", evpoll_backend_name(b), n, 0,
		     rep, n);
	sleep_ms(100);
	slab_bytes(&c1, &t1, o1, sz);
	s->extra.mem.caches = (c1 - c0) / n;
	s->extra.mem.slab = (t1 - t0) / n;
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

static void mem_format(char *buf, size_t len, const union bench_extra *x)
{
	snprintf(buf, len, "%.1f %.1f", x->mem.caches, x->mem.slab);
}

const struct bench_mode bench_mode_mem = {
	.name		= "mem",
	.extra_label	= "slab caches B/item, all slab B/item",
	.no_selfcheck	= true,
	.run_backend_n	= mem_backend_n,
	.format		= mem_format,
};
