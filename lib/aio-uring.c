// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * aio-uring.c - completion backend "uring": io_uring read/write requests
 * through liburing.
 *
 * notes about io_uring (as Linux 6.1 and 6.12 behave; liburing 2.3)
 *
 * - A read or write is first tried inline, non-blocking (IOCB_NOWAIT),
 *   inside io_uring_enter(): data already in the page cache or in a socket
 *   buffer is copied during the submit and the CQE is there when
 *   io_uring_submit() returns.  Otherwise the request goes on without any
 *   thread of ours:
 *   - pipes, sockets, FIFOs, ttys: io_uring arms an internal poll on the
 *     file and retries the read when the file's wait queue fires
 *     (REQ_F_APOLL).  No thread blocks, and such a request can always be
 *     cancelled: it completes with -ECANCELED.
 *   - buffered file I/O that would block: async buffered reads (5.9+, on
 *     filesystems with FMODE_BUF_RASYNC: ext4, xfs, btrfs) wait for the
 *     page through a callback; everything else is handed to an io-wq
 *     worker, a kernel thread ("iou-wrk-PID") that blocks in its place.
 *   - O_DIRECT: submitted to the block layer, completed from its interrupt:
 *     the only case where the device really works while nobody waits.
 * - Offset -1 (EVPOLL_AIO_OFFSET_NONE) means "the file position"
 *   (IORING_FEAT_RW_CUR_POS, 5.6): used and advanced on seekable files,
 *   ignored on streams.  This backend is the only one with that mode.
 * - Every error, a bad descriptor included, comes back in the CQE: the
 *   submit itself only fails for ring-level reasons.
 * - Cancel is a request too (IORING_OP_ASYNC_CANCEL, keyed by user_data):
 *   its own CQE says 0 (found and stopped: the target completes with
 *   -ECANCELED), -ENOENT (not found: already completed) or -EALREADY
 *   (running in io-wq: it was signalled and completes with its result,
 *   -EINTR or -ECANCELED).  evpoll_aio_cancel() waits for that CQE.
 * - Ring sizes: the SQ holds one submit batch (at most 64 here, +1 for a
 *   cancel), the CQ depth+1 entries (IORING_SETUP_CQSIZE), so with at most
 *   depth requests in flight the CQ never overflows.  IORING_SETUP_SUBMIT_ALL
 *   (5.18) keeps the kernel from stopping a batch at a failing SQE; without
 *   it (older kernels) SQEs left behind go with the next io_uring_enter().
 * - Setup can be refused: kernel.io_uring_disabled (6.6+), seccomp filters
 *   of container runtimes, or a kernel without CONFIG_IO_URING give
 *   -EPERM/-ENOSYS from io_uring_setup(): probe() reports it.
 * - The ring is MAP_SHARED memory: after fork() parent and child would
 *   share it.  Do not use a context in both.
 */
#include <errno.h>
#include <stdbool.h>

#include "aio.h"
#include "uring.h"

/*
 * user_data of our cancel SQEs.  Not ~0ULL: liburing uses that
 * (LIBURING_UDATA_TIMEOUT) for the timeout SQEs of its waits on kernels
 * without IORING_FEAT_EXT_ARG (before 5.11); those CQEs are skipped.
 */
#define URING_CANCEL_TAG	(~0ULL - 1)
#define URING_SQ_MAX		128U

struct uring_ctx {
	struct io_uring ring;
	struct evpoll__uring_users users;
	int cancel_res;
	bool cancel_done;
};

static int uring_init(struct evpoll_aio *ctx)
{
	struct uring_ctx *u = ctx->priv;
	unsigned int sq = ctx->depth + 1, cq = ctx->depth + 1;
	int ret;

	if (sq > URING_SQ_MAX)
		sq = URING_SQ_MAX;
	/* IORING_MAX_CQ_ENTRIES; beyond, IORING_FEAT_NODROP keeps CQEs */
	if (cq > 65536)
		cq = 65536;
	/* before 5.18, no SUBMIT_ALL: set up without it */
	ret = evpoll__uring_init(&u->ring, sq, cq, IORING_SETUP_SUBMIT_ALL);
	if (ret == 0)
		evpoll__uring_users_init(&u->users);
	return ret;
}

/*
 * evpoll_aio_free() has cancelled every request and reaped every
 * completion before this: the kernel's teardown has nothing to cancel, and
 * evpoll__uring_exit() takes its task_work notification here, so that it
 * cannot interrupt this thread's next epoll_wait() or io_getevents() with
 * EINTR (lib/uring.c, "notes about tearing a ring down").
 */
static void uring_exit(struct evpoll_aio *ctx)
{
	struct uring_ctx *u = ctx->priv;

	evpoll__uring_exit(&u->ring, &u->users);
}

static int uring_submit(struct evpoll_aio *ctx, struct evpoll_aio_slot **slots,
			unsigned int nr)
{
	struct uring_ctx *u = ctx->priv;
	unsigned int i;
	int ret;

	evpoll__uring_used(&u->users);
	for (i = 0; i < nr; i++) {
		const struct evpoll_aio_req *r = &slots[i]->req;
		struct io_uring_sqe *sqe = evpoll__uring_sqe(&u->ring);

		if (!sqe)
			break;
		if (r->op == EVPOLL_AIO_READ)
			io_uring_prep_read(sqe, r->fd, r->buf,
					   (unsigned int)r->len,
					   (__u64)r->offset);
		else
			io_uring_prep_write(sqe, r->fd, r->buf,
					    (unsigned int)r->len,
					    (__u64)r->offset);
		io_uring_sqe_set_data64(sqe, evpoll__aio_slot_idx(ctx,
								  slots[i]));
	}
	if (!i)
		return -EBUSY;
	ret = io_uring_submit(&u->ring);
	/*
	 * A ring-level failure (-EAGAIN, -ENOMEM) leaves the SQEs queued in
	 * the SQ: the next io_uring_enter() (any submit or wait) takes them,
	 * so they count as started.
	 */
	(void)ret;
	return (int)i;
}

/* Move every CQE present to the done queue; return how many requests. */
static unsigned int uring_harvest(struct evpoll_aio *ctx)
{
	struct uring_ctx *u = ctx->priv;
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0, got = 0;

	io_uring_for_each_cqe(&u->ring, head, cqe) {
		__u64 data = io_uring_cqe_get_data64(cqe);

		seen++;
		if (data >= ctx->depth && data != URING_CANCEL_TAG)
			continue;	/* liburing's own timeout */
		if (data == URING_CANCEL_TAG) {
			u->cancel_res = cqe->res;
			u->cancel_done = true;
			continue;
		}
		evpoll__aio_complete(ctx, evpoll__aio_slot(ctx,
							   (unsigned int)data),
				     cqe->res);
		got++;
	}
	io_uring_cq_advance(&u->ring, seen);
	return got;
}

static int uring_reap(struct evpoll_aio *ctx, unsigned int want,
		      const struct timespec *deadline)
{
	struct uring_ctx *u = ctx->priv;
	unsigned int got = 0;

	evpoll__uring_used(&u->users);
	for (;;) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec kts;
		struct timespec rel;
		int ret;

		got += uring_harvest(ctx);
		if (got >= want)
			return 0;
		if (deadline) {
			if (evpoll__aio_timeout(deadline, &rel))
				return -ETIME;
			kts.tv_sec = rel.tv_sec;
			kts.tv_nsec = rel.tv_nsec;
			ret = io_uring_submit_and_wait_timeout(&u->ring, &cqe,
							       want - got,
							       &kts, NULL);
		} else {
			ret = io_uring_submit_and_wait(&u->ring, want - got);
		}
		if (ret == -ETIME) {
			got += uring_harvest(ctx);
			return got >= want ? 0 : -ETIME;
		}
		if (ret == -EINTR)
			return -EINTR;
		if (ret < 0 && ret != -EAGAIN && ret != -EBUSY)
			return ret;
	}
}

static int uring_cancel(struct evpoll_aio *ctx, struct evpoll_aio_slot *slot)
{
	struct uring_ctx *u = ctx->priv;
	struct io_uring_sqe *sqe;
	int ret;

	evpoll__uring_used(&u->users);
	sqe = evpoll__uring_sqe(&u->ring);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_cancel64(sqe, evpoll__aio_slot_idx(ctx, slot), 0);
	io_uring_sqe_set_data64(sqe, URING_CANCEL_TAG);
	u->cancel_done = false;
	ret = io_uring_submit(&u->ring);
	if (ret < 0)
		return ret;
	while (!u->cancel_done) {
		struct io_uring_cqe *cqe;

		uring_harvest(ctx);
		if (u->cancel_done)
			break;
		ret = io_uring_wait_cqe(&u->ring, &cqe);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN)
			return ret;
	}
	switch (u->cancel_res) {
	case 0:
		return 0;
	case -ENOENT:		/* completed; its CQE is or will be ours */
	case -EALREADY:
		return -EALREADY;
	default:
		return u->cancel_res;
	}
}

const struct evpoll_aio_ops evpoll__aio_uring = {
	.name		= "uring",
	.ctx_size	= sizeof(struct uring_ctx),
	.slot_size	= 0,
	.probe		= evpoll__uring_probe,
	.init		= uring_init,
	.exit		= uring_exit,
	.submit		= uring_submit,
	.reap		= uring_reap,
	.cancel		= uring_cancel,
};
