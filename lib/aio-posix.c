// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * aio-posix.c - completion backend "posix": POSIX AIO, aio_read(3),
 * aio_write(3), aio_error(3), aio_return(3), aio_suspend(3), aio_cancel(3).
 *
 * notes about POSIX AIO (glibc 2.36, sysdeps/pthread/aio_misc.c)
 *
 * - There is no kernel involvement at all: glibc implements POSIX AIO in
 *   user space with a pool of threads.  Each request becomes a plain
 *   pread()/pwrite() run by one of those threads; the data is copied by
 *   that blocking syscall, and the "notification" is the thread storing the
 *   result and waking aio_suspend() waiters.  At most 20 threads
 *   (struct aioinit .aio_threads), created on demand; an idle thread lingers
 *   1 s (.aio_idle_time) waiting for more work, then exits.
 * - Requests on one file descriptor are serialised: glibc queues a request
 *   behind the one running on the same fd (ordered by priority) instead of
 *   starting another thread.  Many requests on one file therefore run one
 *   at a time; only different descriptors run in parallel, up to 20.
 * - Streams: pread() on a pipe or socket fails with ESPIPE and glibc then
 *   calls read() (likewise pwrite()/write()): two syscalls per request.
 *   Seekable files have no "current position" mode: EVPOLL_AIO_OFFSET_NONE
 *   on them is refused with -EINVAL at submit (one fstat() per such
 *   request tells streams from files).
 * - Every error of the transfer itself, a bad descriptor included
 *   (-EBADF), comes back in the completion: aio_read()/aio_write() only
 *   fail (-EAGAIN) when glibc cannot allocate a request or start a thread.
 * - Completion: SIGEV_NONE.  The library keeps a compact array of the
 *   aiocbs in flight, scans it with aio_error() and sleeps in
 *   aio_suspend() on all of them: each wait costs O(requests in flight),
 *   and inside glibc each aio_suspend() entry is looked up in its
 *   per-descriptor request list.  (SIGEV_THREAD would start one thread per
 *   completion; SIGEV_SIGNAL would take a process-wide signal.)
 * - Cancel: aio_cancel() only removes a request that is still queued
 *   (AIO_CANCELED: it completes with ECANCELED).  A request a thread has
 *   started, e.g. a read blocked on an empty pipe, cannot be stopped
 *   (AIO_NOTCANCELED): -EALREADY, and evpoll_aio_free() has to wait
 *   for it until the read returns.
 * - O_DIRECT works (the threads just call pread), synchronously in the
 *   thread.  After fork() the child has none of the parent's AIO threads.
 */
#include <aio.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aio.h"

struct posix_ctx {
	const struct aiocb **list;	/* aiocbs in flight, compact */
	unsigned int nr;		/* entries used in list */
};

struct posix_slot {
	struct aiocb cb;
	unsigned int pos;		/* index in posix_ctx.list */
};

static struct evpoll_aio_slot *posix_slot_of(const struct aiocb *cb)
{
	return (struct evpoll_aio_slot *)((char *)cb -
		offsetof(struct posix_slot, cb) -
		offsetof(struct evpoll_aio_slot, priv));
}

static int posix_probe(void)
{
	return sysconf(_SC_ASYNCHRONOUS_IO) > 0 ? 0 : -ENOSYS;
}

static int posix_init(struct evpoll_aio *ctx)
{
	struct posix_ctx *p = ctx->priv;

	p->list = calloc(ctx->depth, sizeof(*p->list));
	return p->list ? 0 : -ENOMEM;
}

static void posix_exit(struct evpoll_aio *ctx)
{
	struct posix_ctx *p = ctx->priv;

	free(p->list);
}

static int posix_submit(struct evpoll_aio *ctx, struct evpoll_aio_slot **slots,
			unsigned int nr)
{
	struct posix_ctx *p = ctx->priv;
	unsigned int i;

	for (i = 0; i < nr; i++) {
		const struct evpoll_aio_req *r = &slots[i]->req;
		struct posix_slot *ps = (struct posix_slot *)slots[i]->priv;
		off_t offset = (off_t)r->offset;
		int ret;

		if (r->offset == EVPOLL_AIO_OFFSET_NONE) {
			ret = evpoll__aio_stream_check(r->fd);
			if (ret < 0)
				return i ? (int)i : ret;
			offset = 0;
		}
		memset(&ps->cb, 0, sizeof(ps->cb));
		ps->cb.aio_fildes = r->fd;
		ps->cb.aio_buf = r->buf;
		ps->cb.aio_nbytes = r->len;
		ps->cb.aio_offset = offset;
		ps->cb.aio_sigevent.sigev_notify = SIGEV_NONE;
		if (r->op == EVPOLL_AIO_READ)
			ret = aio_read(&ps->cb);
		else
			ret = aio_write(&ps->cb);
		if (ret)
			return i ? (int)i : -errno;
		ps->pos = p->nr;
		p->list[p->nr++] = &ps->cb;
	}
	return (int)nr;
}

/* Complete every finished aiocb; return how many. */
static unsigned int posix_harvest(struct evpoll_aio *ctx)
{
	struct posix_ctx *p = ctx->priv;
	unsigned int i = 0, got = 0;

	while (i < p->nr) {
		const struct aiocb *cb = p->list[i];
		struct evpoll_aio_slot *slot;
		ssize_t ret;
		int err;

		err = aio_error(cb);
		if (err == EINPROGRESS) {
			i++;
			continue;
		}
		ret = aio_return((struct aiocb *)cb);
		slot = posix_slot_of(cb);
		/* swap the last entry into this place */
		p->list[i] = p->list[--p->nr];
		((struct posix_slot *)posix_slot_of(p->list[i])->priv)->pos = i;
		p->list[p->nr] = NULL;
		evpoll__aio_complete(ctx, slot, err ? -err : (int64_t)ret);
		got++;
	}
	return got;
}

static int posix_reap(struct evpoll_aio *ctx, unsigned int want,
		      const struct timespec *deadline)
{
	struct posix_ctx *p = ctx->priv;
	unsigned int got = 0;

	for (;;) {
		struct timespec rel;
		int ret;

		got += posix_harvest(ctx);
		if (got >= want)
			return 0;
		if (!p->nr)
			return 0;	/* nothing left to wait for */
		if (deadline && evpoll__aio_timeout(deadline, &rel))
			return -ETIME;
		ret = aio_suspend(p->list, (int)p->nr, deadline ? &rel : NULL);
		if (ret && errno == EINTR)
			return -EINTR;
		/* 0, or EAGAIN on timeout: harvest, then check the deadline */
	}
}

static int posix_cancel(struct evpoll_aio *ctx, struct evpoll_aio_slot *slot)
{
	struct posix_slot *ps = (struct posix_slot *)slot->priv;

	switch (aio_cancel(ps->cb.aio_fildes, &ps->cb)) {
	case AIO_CANCELED:
		return 0;	/* aio_error() now says ECANCELED */
	case AIO_NOTCANCELED:
	case AIO_ALLDONE:
		return -EALREADY;
	default:
		return -errno;
	}
}

const struct evpoll_aio_ops evpoll__aio_posix = {
	.name		= "posix",
	.ctx_size	= sizeof(struct posix_ctx),
	.slot_size	= sizeof(struct posix_slot),
	.probe		= posix_probe,
	.init		= posix_init,
	.exit		= posix_exit,
	.submit		= posix_submit,
	.reap		= posix_reap,
	.cancel		= posix_cancel,
};
