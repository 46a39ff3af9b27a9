/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * evpoll-aio.h - completion-model asynchronous I/O in libevpoll.
 *
 * The "asynchronous I/O" model of the five classic I/O models: the caller
 * hands a buffer to the system, the system copies the data and only then
 * tells the caller.  One small API over three Linux mechanisms:
 *
 *	EVPOLL_AIO_BACKEND_URING	io_uring (liburing)
 *	EVPOLL_AIO_BACKEND_POSIX	POSIX AIO (glibc: a pool of threads)
 *	EVPOLL_AIO_BACKEND_LINUX	Linux native AIO (io_setup/io_submit)
 *
 * It follows the poller's pattern (<evpoll.h>): evpoll_aio_new(backend,
 * depth, flags, &ctx) with the output last, evpoll_aio_new_by_name(),
 * evpoll_aio_free(), evpoll_aio_backend_default(),
 * evpoll_aio_backends_available(), evpoll_aio_backend_probe(), one
 * visibility macro (EVPOLL_API), -ENODEV when no backend is available, and
 * the same environment-variable rule ($EVPOLL_AIO_BACKEND as
 * $EVPOLL_BACKEND).
 *
 * Every function returns 0 (or a count) on success and a negative errno
 * value on failure; none of them sets errno.  A context is not thread-safe:
 * one thread at a time, as with an io_uring ring.  Every request that was
 * submitted produces exactly one completion, even when it is cancelled.
 * See evpoll_aio(3) and Documentation/aio.rst.
 *
 * Included by <evpoll.h>; may also be included on its own (it includes
 * <evpoll.h> for EVPOLL_API).
 */
#ifndef _EVPOLL_AIO_H
#define _EVPOLL_AIO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "evpoll.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * enum evpoll_aio_backend - the mechanism behind a context
 * @EVPOLL_AIO_BACKEND_DEFAULT: $EVPOLL_AIO_BACKEND if set and not empty,
 *			       else the first available backend below
 * @EVPOLL_AIO_BACKEND_URING:  io_uring read/write requests ("uring")
 * @EVPOLL_AIO_BACKEND_POSIX:  POSIX aio_read/aio_write, glibc threads
 *			       ("posix")
 * @EVPOLL_AIO_BACKEND_LINUX:  Linux native AIO, io_submit ("linux")
 *
 * The numeric order of the backends is the default preference order.  A
 * value, once given, never changes; a new backend takes a new value below
 * EVPOLL_AIO_BACKEND_MAX.
 */
enum evpoll_aio_backend {
	EVPOLL_AIO_BACKEND_DEFAULT = 0,
	EVPOLL_AIO_BACKEND_URING = 1,
	EVPOLL_AIO_BACKEND_POSIX = 2,
	EVPOLL_AIO_BACKEND_LINUX = 3,
};

/*
 * A fixed bound, for arrays indexed by backend or holding a list of them:
 * every enum evpoll_aio_backend value, present and future, is below it, and
 * its value does not change while the soname is libevpoll.so.0.
 */
#define EVPOLL_AIO_BACKEND_MAX	32

/* struct evpoll_aio_req.op */
#define EVPOLL_AIO_READ		0
#define EVPOLL_AIO_WRITE	1

/*
 * Offset for streams (pipes, sockets, FIFOs, terminals): no position.
 * On a seekable file only io_uring accepts it (it then uses and advances the
 * file position); the other backends refuse it with -EINVAL.
 */
#define EVPOLL_AIO_OFFSET_NONE	((int64_t)-1)

/* Depth of a context created with depth 0. */
#define EVPOLL_AIO_DEFAULT_DEPTH 256

/**
 * struct evpoll_aio_req - one read or write request
 * @op:		EVPOLL_AIO_READ or EVPOLL_AIO_WRITE
 * @fd:		file descriptor
 * @buf:	buffer; must stay valid until the request's completion has
 *		been returned by evpoll_aio_wait() or the context freed
 * @len:	bytes to transfer (at most 0x7ffff000 are transferred)
 * @offset:	file offset, or EVPOLL_AIO_OFFSET_NONE for a stream
 * @user_data:	returned unchanged in the completion; also the key of
 *		evpoll_aio_cancel()
 */
struct evpoll_aio_req {
	uint32_t op;
	int32_t fd;
	void *buf;
	size_t len;
	int64_t offset;
	uint64_t user_data;
};

/**
 * struct evpoll_aio_cqe - one completion
 * @res:	bytes transferred (0 at end of file), or -errno; -ECANCELED
 *		for a request that evpoll_aio_cancel() stopped
 * @user_data:	the request's @user_data
 */
struct evpoll_aio_cqe {
	int64_t res;
	uint64_t user_data;
};

struct evpoll_aio;

EVPOLL_API int evpoll_aio_new(enum evpoll_aio_backend backend,
			      unsigned int depth, unsigned int flags,
			      struct evpoll_aio **out);
EVPOLL_API int evpoll_aio_new_by_name(const char *name, unsigned int depth,
				      unsigned int flags,
				      struct evpoll_aio **out);
EVPOLL_API void evpoll_aio_free(struct evpoll_aio *ctx);

EVPOLL_API int evpoll_aio_submit(struct evpoll_aio *ctx,
				 const struct evpoll_aio_req *reqs,
				 unsigned int nr);
EVPOLL_API int evpoll_aio_read(struct evpoll_aio *ctx, int fd, void *buf,
			       size_t len, int64_t offset, uint64_t user_data);
EVPOLL_API int evpoll_aio_write(struct evpoll_aio *ctx, int fd,
				const void *buf, size_t len, int64_t offset,
				uint64_t user_data);
EVPOLL_API int evpoll_aio_wait(struct evpoll_aio *ctx,
			       struct evpoll_aio_cqe *cqes,
			       unsigned int min_nr, unsigned int max_nr,
			       const struct timespec *timeout);
EVPOLL_API int evpoll_aio_cancel(struct evpoll_aio *ctx, uint64_t user_data);
EVPOLL_API unsigned int evpoll_aio_inflight(const struct evpoll_aio *ctx);

EVPOLL_API enum evpoll_aio_backend
evpoll_aio_backend(const struct evpoll_aio *ctx);

EVPOLL_API const char *evpoll_aio_backend_name(enum evpoll_aio_backend backend);
EVPOLL_API int evpoll_aio_backend_by_name(const char *name);
EVPOLL_API int evpoll_aio_backend_probe(enum evpoll_aio_backend backend);
EVPOLL_API int evpoll_aio_backends_available(enum evpoll_aio_backend *list,
					     int max);
EVPOLL_API int evpoll_aio_backend_default(void);

#ifdef __cplusplus
}
#endif

#endif /* _EVPOLL_AIO_H */
