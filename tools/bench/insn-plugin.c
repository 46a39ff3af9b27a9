// SPDX-License-Identifier: GPL-2.0
/*
 * insn-plugin.c - QEMU TCG plugin for evpoll-bench: count the guest
 * instructions executed between two marker instructions.
 *
 * Under TCG a guest's clock is the host's: whatever else runs on the host
 * stretches every measured run.  The number of guest instructions a run
 * executes (user and kernel, on every vCPU) does not depend on that, so
 * evpoll-bench reports it first and wall-clock time beside it.  It is a
 * measure of work, not of time: cache misses, contention and the price of
 * atomics are invisible to it.
 *
 * The markers are NOPs no compiler emits, nopl disp32(%rax) with a
 * displacement of 0xb55645KK ("EV" and a magic byte):
 *
 *	0f 1f 80 KK 45 56 b5
 *
 *	KK = 0x01  start: remember every vCPU's count
 *	KK = 0x02  stop: log one line "R <seq> <all> <self> <vcpu>": the
 *		   instructions of all vCPUs since the last start, those of
 *		   the vCPU that stopped, and its number; seq counts stops
 *		   from 1
 *	KK = 0x03  hello: log "H <vcpu>", so a program can tell that the
 *		   plugin is there
 *
 * One start/stop pair is open at a time, machine-wide (evpoll-bench runs
 * one measurement at a time).  Every line is flushed at once: the guest
 * reads the log back over its 9p share right after each stop.
 *
 * Build: cc -O2 -fPIC -shared -o evpoll-insn.so insn-plugin.c
 * Use:   qemu-system-x86_64 ... -plugin evpoll-insn.so,log=/path/insn.log
 *
 * Debian ships no qemu-plugin.h: qemu-plugin-api.h declares the part of
 * QEMU's plugin API version 1 (QEMU 7.2) this file and prof-plugin.c use.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "qemu-plugin-api.h"

EXPORT int qemu_plugin_version = 1;
EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
			       int argc, char **argv);
/* End of the QEMU plugin API. */

#define VCPU_SLOTS		32
#define MARK_START	0x01
#define MARK_STOP	0x02
#define MARK_HELLO	0x03

/*
 * struct cpu_count - one vCPU's running instruction count
 * @insns:	written only by that vCPU's TCG thread; read by the others
 *		(relaxed 64-bit loads) when they sum all counts
 * @start:	@insns of this vCPU at the last start marker (under log_lock)
 */
struct cpu_count {
	uint64_t insns;
	uint64_t start;
} __attribute__((aligned(64)));

static struct cpu_count cpus[VCPU_SLOTS];
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file;		/* NULL once QEMU is exiting */
static uint64_t stops;

static uint64_t cpu_insns(unsigned int cpu)
{
	return __atomic_load_n(&cpus[cpu].insns, __ATOMIC_RELAXED);
}

/* Block entry: the whole block is counted at once. */
static void on_block(unsigned int cpu, void *udata)
{
	if (cpu < VCPU_SLOTS)
		__atomic_store_n(&cpus[cpu].insns,
				 cpus[cpu].insns + (uintptr_t)udata,
				 __ATOMIC_RELAXED);
}

/*
 * A marker ran.  @udata holds its kind (low byte) and, above it, how many
 * instructions of its block come after it: on_block() has counted those
 * already, so they are taken off this vCPU's count here.
 */
static void on_marker(unsigned int cpu, void *udata)
{
	uintptr_t v = (uintptr_t)udata;
	uint64_t self, all = 0;
	unsigned int i;

	if (cpu >= VCPU_SLOTS)
		return;
	pthread_mutex_lock(&log_lock);
	if (!log_file)
		goto out_unlock;
	switch (v & 0xff) {
	case MARK_START:
		for (i = 0; i < VCPU_SLOTS; i++)
			cpus[i].start = cpu_insns(i);
		cpus[cpu].start -= v >> 8;
		break;
	case MARK_STOP:
		for (i = 0; i < VCPU_SLOTS; i++)
			all += cpu_insns(i) - cpus[i].start;
		all -= v >> 8;
		self = cpu_insns(cpu) - (v >> 8) - cpus[cpu].start;
		fprintf(log_file, "R %" PRIu64 " %" PRIu64 " %" PRIu64 " %u\n",
			++stops, all, self, cpu);
		fflush(log_file);
		break;
	case MARK_HELLO:
		fprintf(log_file, "H %u\n", cpu);
		fflush(log_file);
		break;
	}
out_unlock:
	pthread_mutex_unlock(&log_lock);
}

static const uint8_t marker_tail[3] = { 0x45, 0x56, 0xb5 };

/* The marker kind of an instruction, or 0 if it is not a marker. */
static unsigned int marker_kind(const struct qemu_plugin_insn *insn)
{
	const uint8_t *p;

	if (qemu_plugin_insn_size(insn) != 7)
		return 0;
	p = qemu_plugin_insn_data(insn);
	if (p[0] != 0x0f || p[1] != 0x1f || p[2] != 0x80 ||
	    memcmp(p + 4, marker_tail, sizeof(marker_tail)))
		return 0;
	if (p[3] < MARK_START || p[3] > MARK_HELLO)
		return 0;
	return p[3];
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t i, n = qemu_plugin_tb_n_insns(tb);

	qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block,
					     QEMU_PLUGIN_CB_NO_REGS,
					     (void *)(uintptr_t)n);
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		uintptr_t kind = marker_kind(insn);

		if (!kind)
			continue;
		qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker,
			QEMU_PLUGIN_CB_NO_REGS,
			(void *)(kind | (uintptr_t)(n - 1 - i) << 8));
	}
}

static void on_qemu_exit(qemu_plugin_id_t id, void *udata)
{
	unsigned int i;

	pthread_mutex_lock(&log_lock);
	for (i = 0; i < VCPU_SLOTS; i++)
		if (cpus[i].insns)
			fprintf(log_file, "T %u %" PRIu64 "\n", i,
				cpus[i].insns);
	fclose(log_file);
	log_file = NULL;
	pthread_mutex_unlock(&log_lock);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
			       int argc, char **argv)
{
	const char *path = NULL;
	int i;

	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], "log=", 4))
			path = argv[i] + 4;
	if (!path) {
		fprintf(stderr, "evpoll-insn: usage: -plugin evpoll-insn.so,log=PATH\n");
		return -1;
	}
	log_file = fopen(path, "w");
	if (!log_file) {
		perror(path);
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
	return 0;
}
