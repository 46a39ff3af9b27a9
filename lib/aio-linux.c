// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * aio-linux.c - completion backend "linux": Linux native AIO, io_setup(2),
 * io_submit(2), io_pgetevents(2), io_cancel(2), io_destroy(2), called as raw
 * syscalls with the structures of <linux/aio_abi.h> (no libaio).
 *
 * notes about Linux native AIO (fs/aio.c, Linux 6.1 and 6.12)
 *
 * - io_submit() calls the file's ->read_iter/->write_iter right away, in
 *   the submitting thread.  Only a file that can queue the transfer and
 *   return -EIOCBQUEUED makes the request asynchronous: in practice
 *   O_DIRECT on a filesystem or block device (and even then io_submit()
 *   may block on metadata or a full device queue).  Everything else is
 *   done synchronously inside io_submit(): a buffered read copies from the
 *   page cache, waiting for the disk if the page is not there; the event is
 *   in the ring before io_submit() returns.  tests/aio shows it.
 * - Pipes, sockets, FIFOs: ->read_iter blocks inside io_submit() until
 *   there is data (IOCB_NOWAIT only with RWF_NOWAIT), so a read of an empty
 *   pipe would hang the submitter for ever.  This backend therefore runs a
 *   stream request (offset EVPOLL_AIO_OFFSET_NONE) in two stages:
 *   IOCB_CMD_POLL (4.18) for POLLIN/POLLOUT first; when that event comes
 *   back, evpoll_aio_wait() submits the real IOCB_CMD_PREAD/PWRITE, which
 *   then finds data (or room) and completes during that io_submit().
 *   Cost: two io_submit() and two events per stream request; the copy is
 *   still done synchronously by the thread calling evpoll_aio_wait().  With
 *   a blocking fd and another reader stealing the data, that second
 *   io_submit() can block; make streams O_NONBLOCK (a short read or
 *   -EAGAIN is then possible instead).  A stream given an explicit offset
 *   skips the poll stage and behaves as the kernel does.
 * - No "current position": the kernel uses aio_offset as ki_pos and
 *   rejects negative offsets, so EVPOLL_AIO_OFFSET_NONE on a seekable file
 *   is refused with -EINVAL (one fstat() per such request tells).
 * - Errors: io_submit() looks the descriptor up, so a bad fd fails the
 *   submit with -EBADF and produces no event; errors of the transfer
 *   (-EFAULT, -EINVAL for a misaligned O_DIRECT buffer) come in the event.
 *   io_submit() of a batch stops at the first bad iocb and returns how many
 *   it took.
 * - io_cancel() only finds requests that registered a cancel method: polls
 *   (aio_poll_cancel) and USB gadget I/O.  For those it returns
 *   -EINPROGRESS and the event still comes through the ring (a cancelled
 *   poll reports mask 0): here -ECANCELED.  Reads and writes give -EINVAL:
 *   -EALREADY here, they complete with their result.
 * - io_setup(nr) maps a ring of io_events into the process; the sum of nr
 *   over the system is limited by /proc/sys/fs/aio-max-nr (65536 by
 *   default): io_setup() then fails with -EAGAIN.  Events could be read
 *   from that ring without a syscall (libev does); io_pgetevents() (4.18,
 *   as IOCB_CMD_POLL) without a signal mask is used here, not
 *   io_getevents(): it returns -EINTR only when a signal handler ran, not
 *   for a task_work notification (TIF_NOTIFY_SIGNAL, io_uring).
 *   io_destroy() cancels what it can and waits for the rest.  The context
 *   belongs to the process's mm: a child after fork() gets -EINVAL.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aio.h"
#include "syscall.h"

#define LINUX_BATCH	64

struct linux_ctx {
	aio_context_t id;
	struct io_event *events;
};

struct linux_slot {
	struct iocb iocb;
	bool stream;		/* two stages: IOCB_CMD_POLL, then I/O */
	bool polling;		/* in the poll stage */
};

static int linux_probe(void)
{
	aio_context_t id = 0;
	int ret = evpoll__io_setup(1, &id);

	if (ret)
		return ret;
	evpoll__io_destroy(id);
	return 0;
}

static int linux_init(struct evpoll_aio *ctx)
{
	struct linux_ctx *l = ctx->priv;
	int ret;

	l->events = calloc(ctx->depth, sizeof(*l->events));
	if (!l->events)
		return -ENOMEM;
	l->id = 0;
	ret = evpoll__io_setup(ctx->depth, &l->id);
	if (ret) {
		free(l->events);
		l->events = NULL;
	}
	return ret;
}

static void linux_exit(struct evpoll_aio *ctx)
{
	struct linux_ctx *l = ctx->priv;

	evpoll__io_destroy(l->id);
	free(l->events);
}

/* Fill the iocb for the slot's current stage. */
static void linux_prep(struct evpoll_aio *ctx, struct evpoll_aio_slot *slot)
{
	struct linux_slot *ls = (struct linux_slot *)slot->priv;
	const struct evpoll_aio_req *r = &slot->req;
	struct iocb *cb = &ls->iocb;

	memset(cb, 0, sizeof(*cb));
	cb->aio_data = evpoll__aio_slot_idx(ctx, slot);
	cb->aio_fildes = (__u32)r->fd;
	if (ls->polling) {
		cb->aio_lio_opcode = IOCB_CMD_POLL;
		cb->aio_buf = r->op == EVPOLL_AIO_READ ? POLLIN : POLLOUT;
		return;
	}
	cb->aio_lio_opcode = r->op == EVPOLL_AIO_READ ? IOCB_CMD_PREAD :
							IOCB_CMD_PWRITE;
	cb->aio_buf = (__u64)(uintptr_t)r->buf;
	cb->aio_nbytes = r->len;
	cb->aio_offset = ls->stream ? 0 : r->offset;
}

static int linux_submit(struct evpoll_aio *ctx, struct evpoll_aio_slot **slots,
			unsigned int nr)
{
	struct linux_ctx *l = ctx->priv;
	struct iocb *iocbs[LINUX_BATCH];
	unsigned int i;
	int err = 0, ret;

	for (i = 0; i < nr && i < LINUX_BATCH; i++) {
		struct linux_slot *ls = (struct linux_slot *)slots[i]->priv;

		if (slots[i]->req.offset == EVPOLL_AIO_OFFSET_NONE) {
			err = evpoll__aio_stream_check(slots[i]->req.fd);
			if (err < 0)
				break;
			ls->stream = true;
			ls->polling = true;
		}
		linux_prep(ctx, slots[i]);
		iocbs[i] = &ls->iocb;
	}
	if (!i)
		return err;
	ret = evpoll__io_submit(l->id, i, iocbs);
	return ret;
}

/*
 * Submit the I/O stage of @n streams whose poll fired; complete the ones
 * the kernel refuses.  Return how many requests were completed here.
 */
static unsigned int linux_second_stage(struct evpoll_aio *ctx,
				       struct iocb **iocbs, unsigned int n)
{
	struct linux_ctx *l = ctx->priv;
	unsigned int i = 0, got = 0;

	while (i < n) {
		int ret = evpoll__io_submit(l->id, n - i, iocbs + i);

		if (ret > 0) {
			i += (unsigned int)ret;
			continue;
		}
		/* the first of the rest was refused: complete it */
		evpoll__aio_complete(ctx, evpoll__aio_slot(ctx,
				     (unsigned int)iocbs[i]->aio_data),
				     ret ? ret : -EAGAIN);
		got++;
		i++;
	}
	return got;
}

static int linux_reap(struct evpoll_aio *ctx, unsigned int want,
		      const struct timespec *deadline)
{
	struct linux_ctx *l = ctx->priv;
	unsigned int got = 0;

	for (;;) {
		struct iocb *again[LINUX_BATCH];
		struct timespec rel = { 0, 0 }, *tsp = &rel;
		unsigned int min = got < want ? want - got : 0;
		unsigned int n = 0, max = ctx->depth;
		int ret, i;

		if (min && deadline) {
			if (evpoll__aio_timeout(deadline, &rel))
				min = 0;	/* last, non-blocking pass */
		} else if (min) {
			tsp = NULL;
		}
		if (max > LINUX_BATCH)
			max = LINUX_BATCH;	/* room in again[] */
		/*
		 * Not io_getevents(): a task_work notification (an io_uring
		 * ring of this thread torn down or completing) is no signal
		 * and must not end the wait with -EINTR; io_pgetevents()
		 * restarts (the whole @rel again) unless a handler ran
		 * (lib/syscall.h).
		 */
		ret = evpoll__io_pgetevents(l->id, min, max, l->events, tsp);
		if (ret < 0)
			return ret;	/* -EINTR: a signal handler ran */
		for (i = 0; i < ret; i++) {
			struct io_event *ev = &l->events[i];
			struct evpoll_aio_slot *slot =
				evpoll__aio_slot(ctx, (unsigned int)ev->data);
			struct linux_slot *ls =
				(struct linux_slot *)slot->priv;

			if (!ls->polling) {
				evpoll__aio_complete(ctx, slot, ev->res);
				got++;
			} else if (slot->cancelled) {
				evpoll__aio_complete(ctx, slot, -ECANCELED);
				got++;
			} else if (ev->res < 0) {
				evpoll__aio_complete(ctx, slot, ev->res);
				got++;
			} else {
				/* ready (or HUP/ERR): the read reports it */
				ls->polling = false;
				linux_prep(ctx, slot);
				again[n++] = &ls->iocb;
			}
		}
		if (n)
			got += linux_second_stage(ctx, again, n);
		if (got >= want && !n)
			return 0;
		if (got < want && deadline && !min && want)
			return -ETIME;
	}
}

static int linux_cancel(struct evpoll_aio *ctx, struct evpoll_aio_slot *slot)
{
	struct linux_ctx *l = ctx->priv;
	struct linux_slot *ls = (struct linux_slot *)slot->priv;
	struct io_event ev;
	int ret;

	ret = evpoll__io_cancel(l->id, &ls->iocb, &ev);
	if (!ret || ret == -EINPROGRESS)
		return ls->polling ? 0 : -EALREADY;
	if (ret == -EINVAL)
		return -EALREADY;	/* no cancel method, or already done */
	return ret;
}

const struct evpoll_aio_ops evpoll__aio_linux = {
	.name		= "linux",
	.ctx_size	= sizeof(struct linux_ctx),
	.slot_size	= sizeof(struct linux_slot),
	.probe		= linux_probe,
	.init		= linux_init,
	.exit		= linux_exit,
	.submit		= linux_submit,
	.reap		= linux_reap,
	.cancel		= linux_cancel,
};
