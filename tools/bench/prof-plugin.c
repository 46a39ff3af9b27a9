// SPDX-License-Identifier: GPL-2.0
/*
 * prof-plugin.c - QEMU TCG plugin: where the instructions of a measured
 * run go.  A profiling companion of insn-plugin.c (same markers, same
 * subset of QEMU's plugin API version 1): per translation block, the
 * guest instructions executed between a start marker (0x01) and a stop
 * marker (0x02), all vCPUs together.  At each stop it appends to its log
 *
 *	P <seq>
 *	<block vaddr, hex> <instructions>	(one line per block that ran)
 *
 * prof-report.py maps the addresses to the guest's /proc/kallsyms and
 * compares two runs function by function.  Counting per block costs an
 * atomic add per block executed: use it for one short run, not for the
 * figures (insn-plugin.c).
 *
 * Build: make tools (build/tools/evpoll-prof.so)
 * Use:   vm-run.sh -p build/tools/evpoll-prof.so,log=OUT/prof.log ...
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu-plugin-api.h"

EXPORT int qemu_plugin_version = 1;

struct tbc { uint64_t vaddr; uint64_t n; uint64_t count; };
static struct tbc **tbs;
static size_t nr_tbs, cap_tbs;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file;
static int active;
static uint64_t stops;

/* Block entry: while a run is open, count the block's instructions. */
static void on_block(unsigned int cpu, void *udata)
{
	struct tbc *t = udata;

	if (__atomic_load_n(&active, __ATOMIC_RELAXED))
		__atomic_fetch_add(&t->count, t->n, __ATOMIC_RELAXED);
}

static void on_marker(unsigned int cpu, void *udata)
{
	uintptr_t kind = (uintptr_t)udata;
	size_t i;

	pthread_mutex_lock(&lock);
	if (kind == 1) {
		for (i = 0; i < nr_tbs; i++)
			tbs[i]->count = 0;
		__atomic_store_n(&active, 1, __ATOMIC_RELAXED);
	} else if (kind == 2) {
		__atomic_store_n(&active, 0, __ATOMIC_RELAXED);
		fprintf(log_file, "P %" PRIu64 "\n", ++stops);
		for (i = 0; i < nr_tbs; i++)
			if (tbs[i]->count)
				fprintf(log_file, "%" PRIx64 " %" PRIu64 "\n",
					tbs[i]->vaddr, tbs[i]->count);
		fflush(log_file);
	}
	pthread_mutex_unlock(&lock);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t i, n = qemu_plugin_tb_n_insns(tb);
	struct tbc *t = calloc(1, sizeof(*t));

	t->vaddr = qemu_plugin_tb_vaddr(tb);
	t->n = n;
	pthread_mutex_lock(&lock);
	if (nr_tbs == cap_tbs) {
		cap_tbs = cap_tbs ? 2 * cap_tbs : 65536;
		tbs = realloc(tbs, cap_tbs * sizeof(*tbs));
	}
	tbs[nr_tbs++] = t;
	pthread_mutex_unlock(&lock);
	qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS, t);
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		const uint8_t *p = qemu_plugin_insn_data(insn);

		if (qemu_plugin_insn_size(insn) == 7 && p[0] == 0x0f && p[1] == 0x1f &&
		    p[2] == 0x80 && p[4] == 0x45 && p[5] == 0x56 && p[6] == 0xb5 &&
		    (p[3] == 1 || p[3] == 2))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker,
				QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)p[3]);
	}
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
			       int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], "log=", 4))
			log_file = fopen(argv[i] + 4, "w");
	if (!log_file)
		return -1;
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	return 0;
}
