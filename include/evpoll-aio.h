/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * evpoll-aio.h - completion-model asynchronous I/O in libevpoll.
 *
 * The "asynchronous I/O" model of the five classic I/O models: the caller
 * hands a buffer to the system, the system copies the data and only then
 * tells the caller.  One small API over three Linux mechanisms:
 *
 *	EVPOLL_AIO_URING	io_uring (liburing)
 *	EVPOLL_AIO_POSIX	POSIX AIO (glibc: a pool of threads)
 *	EVPOLL_AIO_LINUX	Linux native AIO (io_setup/io_submit)
 *
 * Every function returns 0 (or a count) on success and a negative errno
 * value on failure; none of them sets errno.  A context is not thread-safe:
 * one thread at a time, as with an io_uring ring.  Every request that was
 * submitted produces exactly one completion, even when it is cancelled.
 * See evpoll_aio(3) and Documentation/aio.rst.
 *
 * Included by <evpoll.h>; may also be included on its own.
 */
#ifndef _EVPOLL_AIO_H
#define _EVPOLL_AIO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef EVPOLL_AIO_API
#define EVPOLL_AIO_API __attribute__((visibility("default")))
#endif

/**
 * enum evpoll_aio_backend - the mechanism behind a context
 * @EVPOLL_AIO_DEFAULT:	$EVPOLL_AIO_BACKEND if set, else the best one
 * @EVPOLL_AIO_URING:	io_uring read/write requests ("uring")
 * @EVPOLL_AIO_POSIX:	POSIX aio_read/aio_write, glibc threads ("posix")
 * @EVPOLL_AIO_LINUX:	Linux native AIO, io_submit ("linux")
 * @EVPOLL_AIO_NR_BACKENDS: number of values, not a backend
 *
 * The order of the backends is the order of preference of the default.
 */
enum evpoll_aio_backend {
	EVPOLL_AIO_DEFAULT = 0,
	EVPOLL_AIO_URING = 1,
	EVPOLL_AIO_POSIX = 2,
	EVPOLL_AIO_LINUX = 3,
	EVPOLL_AIO_NR_BACKENDS
};

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
 *		been returned by evpoll_aio_wait() or the context destroyed
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

EVPOLL_AIO_API int evpoll_aio_create(struct evpoll_aio **ctxp,
				     enum evpoll_aio_backend backend,
				     unsigned int depth, unsigned int flags);
EVPOLL_AIO_API int evpoll_aio_create_by_name(struct evpoll_aio **ctxp,
					     const char *name,
					     unsigned int depth,
					     unsigned int flags);
EVPOLL_AIO_API void evpoll_aio_destroy(struct evpoll_aio *ctx);

EVPOLL_AIO_API int evpoll_aio_submit(struct evpoll_aio *ctx,
				     const struct evpoll_aio_req *reqs,
				     unsigned int nr);
EVPOLL_AIO_API int evpoll_aio_read(struct evpoll_aio *ctx, int fd, void *buf,
				   size_t len, int64_t offset,
				   uint64_t user_data);
EVPOLL_AIO_API int evpoll_aio_write(struct evpoll_aio *ctx, int fd,
				    const void *buf, size_t len,
				    int64_t offset, uint64_t user_data);
EVPOLL_AIO_API int evpoll_aio_wait(struct evpoll_aio *ctx,
				   struct evpoll_aio_cqe *cqes,
				   unsigned int min_nr, unsigned int max_nr,
				   const struct timespec *timeout);
EVPOLL_AIO_API int evpoll_aio_cancel(struct evpoll_aio *ctx,
				     uint64_t user_data);
EVPOLL_AIO_API unsigned int evpoll_aio_inflight(const struct evpoll_aio *ctx);

EVPOLL_AIO_API int evpoll_aio_backend(const struct evpoll_aio *ctx);
EVPOLL_AIO_API const char *evpoll_aio_backend_name(int backend);
EVPOLL_AIO_API int evpoll_aio_backend_by_name(const char *name);
EVPOLL_AIO_API int evpoll_aio_backends(int *list, unsigned int nr);
EVPOLL_AIO_API int evpoll_aio_default_backend(void);

#ifdef __cplusplus
}
#endif

#endif /* _EVPOLL_AIO_H */
