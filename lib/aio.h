/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * aio.h - internal interface between lib/aio.c (the public evpoll_aio_* API)
 * and the completion backends lib/aio-{uring,posix,linux}.c.
 *
 * aio.c owns the request slots and the queue of finished requests; a
 * backend only moves slots from "in flight" to "done" by calling
 * evpoll__aio_complete().  Slot life cycle:
 *
 *	FREE --submit--> INFLIGHT --evpoll__aio_complete()--> DONE
 *	DONE --evpoll_aio_wait() copies the cqe out--> FREE
 *
 * A slot stays taken until its completion reaches the caller, so the done
 * queue (depth entries) can never overflow and a context never holds more
 * than depth requests.
 */
#ifndef _EVPOLL_AIO_INT_H
#define _EVPOLL_AIO_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "evpoll-aio.h"

enum evpoll_aio_slot_state {
	EVPOLL_AIO_SLOT_FREE = 0,
	EVPOLL_AIO_SLOT_INFLIGHT,
	EVPOLL_AIO_SLOT_DONE,
};

/**
 * struct evpoll_aio_slot - one request as the context tracks it
 * @req:	the request as submitted (offset already checked)
 * @state:	enum evpoll_aio_slot_state
 * @cancelled:	evpoll_aio_cancel() reported success for it
 * @next_free:	free list link (index), valid while FREE
 * @priv:	backend's per-request state, ops->slot_size bytes
 */
struct evpoll_aio_slot {
	struct evpoll_aio_req req;
	uint8_t state;
	bool cancelled;
	unsigned int next_free;
	unsigned char priv[] __attribute__((aligned(16)));
};

/**
 * struct evpoll_aio_ops - one completion backend
 * @name:	short name ("uring", "posix", "linux")
 * @ctx_size:	size of the backend's per-context state (ctx->priv)
 * @slot_size:	size of the backend's per-request state (slot->priv)
 * @probe:	0 if the mechanism works on this machine, else -errno
 * @init:	set up ctx->priv for ctx->depth requests
 * @exit:	release ctx->priv; no request is in flight any more
 * @submit:	start @nr requests (slots already INFLIGHT); return how many
 *		started (>= 1), or -errno if the first could not start;
 *		slots that did not start are put back by the caller
 * @reap:	wait until at least @want more slots have been completed with
 *		evpoll__aio_complete(), or until @deadline (CLOCK_MONOTONIC,
 *		absolute; NULL: no limit); it may complete more than @want.
 *		Return 0, -ETIME when the deadline passed first, or -EINTR
 * @cancel:	try to stop one INFLIGHT slot: 0 if it will complete with
 *		-ECANCELED (the backend completes it so), -EALREADY if it is
 *		running or done and will complete with its own result, or
 *		another -errno
 */
struct evpoll_aio_ops {
	const char *name;
	size_t ctx_size;
	size_t slot_size;
	int (*probe)(void);
	int (*init)(struct evpoll_aio *ctx);
	void (*exit)(struct evpoll_aio *ctx);
	int (*submit)(struct evpoll_aio *ctx, struct evpoll_aio_slot **slots,
		      unsigned int nr);
	int (*reap)(struct evpoll_aio *ctx, unsigned int want,
		    const struct timespec *deadline);
	int (*cancel)(struct evpoll_aio *ctx, struct evpoll_aio_slot *slot);
};

/**
 * struct evpoll_aio - a context (opaque to users)
 * @ops:	the backend
 * @backend:	enum evpoll_aio_backend of @ops
 * @depth:	number of slots
 * @slot_stride: bytes between two slots in @slots
 * @slots:	depth slots of @slot_stride bytes each
 * @free_head:	first FREE slot index, or @depth if none
 * @inflight:	slots INFLIGHT or DONE (submitted, not yet returned)
 * @done:	ring of DONE slot indexes in completion order
 * @done_head:	next index of @done to return (free-running counter)
 * @done_tail:	next index of @done to fill (free-running counter)
 * @res:	result of each DONE slot, indexed by slot
 * @priv:	backend state, ops->ctx_size bytes
 */
struct evpoll_aio {
	const struct evpoll_aio_ops *ops;
	int backend;
	unsigned int depth;
	size_t slot_stride;
	unsigned char *slots;
	unsigned int free_head;
	unsigned int inflight;
	unsigned int *done;
	unsigned int done_head;
	unsigned int done_tail;
	int64_t *res;
	void *priv;
};

static inline struct evpoll_aio_slot *
evpoll__aio_slot(struct evpoll_aio *ctx, unsigned int idx)
{
	return (struct evpoll_aio_slot *)(ctx->slots +
					  (size_t)idx * ctx->slot_stride);
}

static inline unsigned int evpoll__aio_slot_idx(struct evpoll_aio *ctx,
						struct evpoll_aio_slot *slot)
{
	return (unsigned int)(((unsigned char *)slot - ctx->slots) /
			      ctx->slot_stride);
}

void evpoll__aio_complete(struct evpoll_aio *ctx,
			  struct evpoll_aio_slot *slot, int64_t res);
int evpoll__aio_timeout(const struct timespec *deadline, struct timespec *rel);
int evpoll__aio_stream_check(int fd);

extern const struct evpoll_aio_ops evpoll__aio_uring;
extern const struct evpoll_aio_ops evpoll__aio_posix;
extern const struct evpoll_aio_ops evpoll__aio_linux;

#endif /* _EVPOLL_AIO_INT_H */
