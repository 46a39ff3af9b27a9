// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * aio.c - the evpoll_aio_* API: contexts, request slots, the queue of
 * finished requests, backend selection.  The mechanisms themselves live in
 * aio-uring.c, aio-posix.c and aio-linux.c behind struct evpoll_aio_ops
 * (aio.h).
 *
 * Everything returns 0, a count, or -errno; errno is never set on purpose
 * (it may be clobbered by the calls made underneath).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "evpoll-aio.h"
#include "aio.h"
#include "registry.h"

/* Linux never transfers more than this in one read or write. */
#define CAIO_MAX_LEN	0x7ffff000UL
#define CAIO_MAX_DEPTH	65536U
#define NSEC_PER_SEC		1000000000L
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

/* One past the last backend: the library's own bound, not the API's. */
#define CAIO_NR_BACKENDS	(EVPOLL_AIO_BACKEND_LINUX + 1)

/* Indexed by enum evpoll_aio_backend; the order of preference. */
static const struct evpoll_aio_ops *const caio_backend_ops[] = {
	[EVPOLL_AIO_BACKEND_URING] = &evpoll__aio_uring,
	[EVPOLL_AIO_BACKEND_POSIX] = &evpoll__aio_posix,
	[EVPOLL_AIO_BACKEND_LINUX] = &evpoll__aio_linux,
};

_Static_assert(ARRAY_SIZE(caio_backend_ops) == CAIO_NR_BACKENDS &&
	       CAIO_NR_BACKENDS <= EVPOLL_AIO_BACKEND_MAX,
	       "every backend has its ops, below EVPOLL_AIO_BACKEND_MAX");

/* The ops of a real backend, or NULL (EVPOLL_AIO_BACKEND_DEFAULT too). */
static const struct evpoll_aio_ops *caio_ops(int backend)
{
	if (backend <= EVPOLL_AIO_BACKEND_DEFAULT ||
	    backend >= CAIO_NR_BACKENDS)
		return NULL;
	return caio_backend_ops[backend];
}

static const char *caio_registry_name(int b)
{
	return caio_backend_ops[b]->name;
}

static int caio_registry_probe(int b)
{
	return caio_backend_ops[b]->probe();
}

static const char *const caio_aliases[][2] = {
	{ "io_uring", "uring" },
	{ NULL, NULL },
};

static const struct evpoll__registry caio_registry = {
	.env	= "EVPOLL_AIO_BACKEND",
	.nr	= CAIO_NR_BACKENDS,
	.name	= caio_registry_name,
	.probe	= caio_registry_probe,
	.aliases = caio_aliases,
};

/**
 * evpoll_aio_backend_name - name of a backend
 * @backend: enum evpoll_aio_backend
 *
 * Return: "uring", "posix", "linux", "default" for
 * EVPOLL_AIO_BACKEND_DEFAULT, or NULL for other values.
 */
const char *evpoll_aio_backend_name(enum evpoll_aio_backend backend)
{
	const struct evpoll_aio_ops *ops = caio_ops(backend);

	if (backend == EVPOLL_AIO_BACKEND_DEFAULT)
		return "default";
	return ops ? ops->name : NULL;
}

/**
 * evpoll_aio_backend_by_name - backend of a name
 * @name: "uring" (also accepted: "io_uring"), "posix", "linux" or "default"
 *
 * Return: the enum evpoll_aio_backend value (EVPOLL_AIO_BACKEND_DEFAULT
 * for "default"), or -EINVAL if @name is NULL or unknown.
 */
int evpoll_aio_backend_by_name(const char *name)
{
	return evpoll__registry_by_name(&caio_registry, name);
}

/**
 * evpoll_aio_backend_probe - can this backend be used on this machine?
 * @backend: a backend (not EVPOLL_AIO_BACKEND_DEFAULT)
 *
 * No ring is set up (lib/uring.c); Linux AIO sets a context of one event
 * up and destroys it.
 *
 * Return: 0 if a context of this backend can be created, else -EINVAL for
 * an unknown backend, -ENOSYS or -EPERM when the kernel lacks or forbids
 * the mechanism, -EAGAIN when fs.aio-max-nr is reached (linux).
 */
int evpoll_aio_backend_probe(enum evpoll_aio_backend backend)
{
	const struct evpoll_aio_ops *ops = caio_ops(backend);

	if (!ops)
		return -EINVAL;
	return ops->probe();
}

/**
 * evpoll_aio_backends_available - backends that work on this machine
 * @list: array receiving up to @max backends, in preference order (may be
 *	NULL if @max is 0)
 * @max: capacity of @list
 *
 * Return: the number of available backends (which may exceed @max: only
 * @max are stored), or -EINVAL if @max is negative (or positive with a
 * NULL @list).
 */
int evpoll_aio_backends_available(enum evpoll_aio_backend *list, int max)
{
	int b, n = 0;

	if (max < 0 || (max > 0 && !list))
		return -EINVAL;
	for (b = evpoll__registry_next(&caio_registry, 0);
	     b < CAIO_NR_BACKENDS; b = evpoll__registry_next(&caio_registry, b)) {
		if (n < max)
			list[n] = b;
		n++;
	}
	return n;
}

/**
 * evpoll_aio_backend_default - the backend EVPOLL_AIO_BACKEND_DEFAULT
 * stands for
 *
 * The rule of evpoll_backend_default() and $EVPOLL_BACKEND:
 * $EVPOLL_AIO_BACKEND, if set and not empty, names the backend; it is not
 * replaced by another one when it cannot be used.  Otherwise the first
 * backend, in preference order, whose probe succeeds.
 *
 * Return: an enum evpoll_aio_backend value, or a negative errno value:
 * -EINVAL if $EVPOLL_AIO_BACKEND names no backend ("default" included),
 * the probe's error if the backend it names is unavailable, -ENODEV (the
 * poller's "none available") if no backend works here.
 */
int evpoll_aio_backend_default(void)
{
	return evpoll__registry_default(&caio_registry);
}

/**
 * evpoll_aio_new - create a completion context
 * @backend: the backend, or EVPOLL_AIO_BACKEND_DEFAULT (see
 *	evpoll_aio_backend_default())
 * @depth: most requests submitted and not yet returned by evpoll_aio_wait();
 *	0 means EVPOLL_AIO_DEFAULT_DEPTH
 * @flags: must be 0
 * @out: receives the new context
 *
 * Return: 0, or a negative errno value: -EINVAL (bad @backend, @depth,
 * @flags or @out, or $EVPOLL_AIO_BACKEND names no backend), -ENODEV (no
 * backend available), -ENOMEM, or the backend's setup error (-ENOSYS,
 * -EPERM, -EAGAIN for Linux AIO when /proc/sys/fs/aio-max-nr is
 * reached, ...).
 */
int evpoll_aio_new(enum evpoll_aio_backend backend, unsigned int depth,
		   unsigned int flags, struct evpoll_aio **out)
{
	const struct evpoll_aio_ops *ops;
	struct evpoll_aio *ctx;
	unsigned int i;
	int b = backend;
	int ret;

	if (!out || flags || depth > CAIO_MAX_DEPTH)
		return -EINVAL;
	if (b == EVPOLL_AIO_BACKEND_DEFAULT) {
		b = evpoll_aio_backend_default();
		if (b < 0)
			return b;
	}
	ops = caio_ops(b);
	if (!ops)
		return -EINVAL;
	if (!depth)
		depth = EVPOLL_AIO_DEFAULT_DEPTH;

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->ops = ops;
	ctx->backend = b;
	ctx->depth = depth;
	ctx->slot_stride = (sizeof(struct evpoll_aio_slot) + ops->slot_size +
			    15) & ~(size_t)15;
	ctx->slots = calloc(depth, ctx->slot_stride);
	ctx->done = calloc(depth, sizeof(*ctx->done));
	ctx->res = calloc(depth, sizeof(*ctx->res));
	ctx->priv = ops->ctx_size ? calloc(1, ops->ctx_size) : NULL;
	ret = -ENOMEM;
	if (!ctx->slots || !ctx->done || !ctx->res ||
	    (ops->ctx_size && !ctx->priv))
		goto err_free;

	for (i = 0; i < depth; i++)
		evpoll__aio_slot(ctx, i)->next_free = i + 1;
	ctx->free_head = 0;

	ret = ops->init(ctx);
	if (ret)
		goto err_free;
	*out = ctx;
	return 0;

err_free:
	free(ctx->priv);
	free(ctx->res);
	free(ctx->done);
	free(ctx->slots);
	free(ctx);
	return ret;
}

/**
 * evpoll_aio_new_by_name - evpoll_aio_new() with a backend name
 * @name: a backend name (see evpoll_aio_backend_name()), "default", or
 *	NULL (same as "default")
 * @depth: as for evpoll_aio_new()
 * @flags: must be 0
 * @out: receives the new context
 *
 * Return: as evpoll_aio_new(); -EINVAL for an unknown name.
 */
int evpoll_aio_new_by_name(const char *name, unsigned int depth,
			   unsigned int flags, struct evpoll_aio **out)
{
	int b = name ? evpoll_aio_backend_by_name(name) :
		       EVPOLL_AIO_BACKEND_DEFAULT;

	if (b < 0)
		return b;
	return evpoll_aio_new(b, depth, flags, out);
}

/**
 * evpoll_aio_backend - backend of a context
 * @ctx: the context
 *
 * Return: its enum evpoll_aio_backend value (never
 * EVPOLL_AIO_BACKEND_DEFAULT).
 */
enum evpoll_aio_backend evpoll_aio_backend(const struct evpoll_aio *ctx)
{
	return ctx->backend;
}

/**
 * evpoll_aio_inflight - requests submitted and not yet returned
 * @ctx: the context
 *
 * Return: the number of requests submitted whose completion has not yet
 * been returned by evpoll_aio_wait(); at most the context's depth.
 */
unsigned int evpoll_aio_inflight(const struct evpoll_aio *ctx)
{
	return ctx->inflight;
}

/* Called by the backends, once per slot. */
void evpoll__aio_complete(struct evpoll_aio *ctx,
			  struct evpoll_aio_slot *slot, int64_t res)
{
	unsigned int idx = evpoll__aio_slot_idx(ctx, slot);

	slot->state = EVPOLL_AIO_SLOT_DONE;
	ctx->res[idx] = res;
	ctx->done[ctx->done_tail++ % ctx->depth] = idx;
}

/*
 * Time left until @deadline in @rel.  Return 0, or -ETIME if the deadline
 * has passed (@rel is then zero).
 */
int evpoll__aio_timeout(const struct timespec *deadline, struct timespec *rel)
{
	struct timespec now;
	long long ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)(deadline->tv_sec - now.tv_sec) * NSEC_PER_SEC +
	     (deadline->tv_nsec - now.tv_nsec);
	if (ns <= 0) {
		rel->tv_sec = 0;
		rel->tv_nsec = 0;
		return -ETIME;
	}
	rel->tv_sec = ns / NSEC_PER_SEC;
	rel->tv_nsec = ns % NSEC_PER_SEC;
	return 0;
}

/*
 * EVPOLL_AIO_OFFSET_NONE on a backend without a "current position" mode
 * (posix, linux): refuse seekable files, since reading them at some offset
 * the caller did not ask for would be wrong.  Return 1 if @fd is a stream,
 * -EINVAL if it is seekable, 0 if fstat() failed (let the backend report
 * the bad descriptor its own way).
 */
int evpoll__aio_stream_check(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return 0;
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return -EINVAL;
	return 1;
}

static void caio_put_slot(struct evpoll_aio *ctx,
			  struct evpoll_aio_slot *slot)
{
	slot->state = EVPOLL_AIO_SLOT_FREE;
	slot->cancelled = false;
	slot->next_free = ctx->free_head;
	ctx->free_head = evpoll__aio_slot_idx(ctx, slot);
	ctx->inflight--;
}

/**
 * evpoll_aio_submit - start requests
 * @ctx: the context
 * @reqs: @nr requests, copied (the buffers they point to are not)
 * @nr: number of requests
 *
 * All requests are handed to the backend in one batch where it has one
 * (io_uring_submit(), io_submit()).  A request that starts always produces
 * one completion, also when the operation itself fails: whether an error
 * such as a bad descriptor is returned here or in the completion depends on
 * the backend (see evpoll_aio(3)).
 *
 * Return: the number of requests started (the first ones of @reqs), or
 * -errno if the first could not start: -EINVAL (bad @op, or
 * EVPOLL_AIO_OFFSET_NONE on a seekable file with the posix and linux
 * backends), -EAGAIN (depth requests already in flight: call
 * evpoll_aio_wait() first), or the backend's error.
 */
int evpoll_aio_submit(struct evpoll_aio *ctx,
				     const struct evpoll_aio_req *reqs,
				     unsigned int nr)
{
	struct evpoll_aio_slot *batch[64];
	unsigned int done = 0;
	int err = 0;

	if (!nr)
		return 0;
	if (!reqs)
		return -EINVAL;

	while (done < nr && !err) {
		unsigned int n = 0, i;
		int started;

		while (done + n < nr && n < ARRAY_SIZE(batch)) {
			const struct evpoll_aio_req *r = &reqs[done + n];
			struct evpoll_aio_slot *slot;

			if ((r->op != EVPOLL_AIO_READ &&
			     r->op != EVPOLL_AIO_WRITE) ||
			    (r->offset < 0 &&
			     r->offset != EVPOLL_AIO_OFFSET_NONE)) {
				err = -EINVAL;
				break;
			}
			if (ctx->free_head >= ctx->depth) {
				err = -EAGAIN;
				break;
			}
			slot = evpoll__aio_slot(ctx, ctx->free_head);
			ctx->free_head = slot->next_free;
			ctx->inflight++;
			slot->state = EVPOLL_AIO_SLOT_INFLIGHT;
			slot->cancelled = false;
			slot->req = *r;
			if (slot->req.len > CAIO_MAX_LEN)
				slot->req.len = CAIO_MAX_LEN;
			memset(slot->priv, 0, ctx->ops->slot_size);
			batch[n++] = slot;
		}
		if (!n)
			break;

		started = ctx->ops->submit(ctx, batch, n);
		for (i = started > 0 ? (unsigned int)started : 0; i < n; i++)
			caio_put_slot(ctx, batch[i]);
		if (started < 0) {
			err = started;
			break;
		}
		done += (unsigned int)started;
		if ((unsigned int)started < n)
			break;
	}
	return done ? (int)done : err;
}

/**
 * evpoll_aio_read - start one read
 * @ctx: the context
 * @fd: file descriptor
 * @buf: destination, valid until the completion is returned
 * @len: bytes to read
 * @offset: file offset, or EVPOLL_AIO_OFFSET_NONE for a stream
 * @user_data: returned in the completion
 *
 * Return: 0 if the read started, else -errno as for evpoll_aio_submit().
 */
int evpoll_aio_read(struct evpoll_aio *ctx, int fd, void *buf,
				   size_t len, int64_t offset,
				   uint64_t user_data)
{
	struct evpoll_aio_req req = {
		.op = EVPOLL_AIO_READ,
		.fd = fd,
		.buf = buf,
		.len = len,
		.offset = offset,
		.user_data = user_data,
	};
	int ret = evpoll_aio_submit(ctx, &req, 1);

	return ret < 0 ? ret : 0;
}

/**
 * evpoll_aio_write - start one write
 * @ctx: the context
 * @fd: file descriptor
 * @buf: source, valid until the completion is returned
 * @len: bytes to write
 * @offset: file offset, or EVPOLL_AIO_OFFSET_NONE for a stream
 * @user_data: returned in the completion
 *
 * Return: 0 if the write started, else -errno as for evpoll_aio_submit().
 */
int evpoll_aio_write(struct evpoll_aio *ctx, int fd,
				    const void *buf, size_t len,
				    int64_t offset, uint64_t user_data)
{
	struct evpoll_aio_req req = {
		.op = EVPOLL_AIO_WRITE,
		.fd = fd,
		.buf = (void *)buf,
		.len = len,
		.offset = offset,
		.user_data = user_data,
	};
	int ret = evpoll_aio_submit(ctx, &req, 1);

	return ret < 0 ? ret : 0;
}

/* Copy up to @max finished requests out, in completion order. */
static unsigned int caio_drain(struct evpoll_aio *ctx,
			       struct evpoll_aio_cqe *cqes,
			       unsigned int max)
{
	unsigned int n = 0;

	while (n < max && ctx->done_head != ctx->done_tail) {
		unsigned int idx = ctx->done[ctx->done_head++ % ctx->depth];
		struct evpoll_aio_slot *slot = evpoll__aio_slot(ctx, idx);

		cqes[n].res = ctx->res[idx];
		cqes[n].user_data = slot->req.user_data;
		caio_put_slot(ctx, slot);
		n++;
	}
	return n;
}

/**
 * evpoll_aio_wait - collect completions
 * @ctx: the context
 * @cqes: array of @max_nr completions to fill
 * @min_nr: wait until this many are available (capped at
 *	evpoll_aio_inflight(), so it never waits for requests that were not
 *	submitted); 0 collects what is there without blocking
 * @max_nr: capacity of @cqes, >= 1
 * @timeout: longest wait (relative); NULL waits as long as needed, {0, 0}
 *	does not block
 *
 * Return: the number of completions stored (fewer than @min_nr, maybe 0,
 * when the timeout expired), -EINTR if a signal arrived before any
 * completion, -EINVAL for bad arguments.
 */
int evpoll_aio_wait(struct evpoll_aio *ctx,
				   struct evpoll_aio_cqe *cqes,
				   unsigned int min_nr, unsigned int max_nr,
				   const struct timespec *timeout)
{
	struct timespec deadline, *dl = NULL;
	unsigned int pending, want;
	int ret = 0;

	if (!cqes || !max_nr || min_nr > max_nr)
		return -EINVAL;
	if (timeout) {
		if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 ||
		    timeout->tv_nsec >= NSEC_PER_SEC)
			return -EINVAL;
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += timeout->tv_sec;
		deadline.tv_nsec += timeout->tv_nsec;
		if (deadline.tv_nsec >= NSEC_PER_SEC) {
			deadline.tv_sec++;
			deadline.tv_nsec -= NSEC_PER_SEC;
		}
		dl = &deadline;
	}
	if (min_nr > ctx->inflight)
		min_nr = ctx->inflight;

	pending = ctx->done_tail - ctx->done_head;
	want = min_nr > pending ? min_nr - pending : 0;
	if (ctx->inflight > pending)
		ret = ctx->ops->reap(ctx, want, dl);
	if (ret == -ETIME)
		ret = 0;
	if (ret < 0 && ctx->done_head == ctx->done_tail)
		return ret;
	return (int)caio_drain(ctx, cqes, max_nr);
}

/**
 * evpoll_aio_cancel - try to stop a request
 * @ctx: the context
 * @user_data: the request's user data (the oldest-slotted request in
 *	flight with this value if several have it)
 *
 * The request still produces its completion, to be collected with
 * evpoll_aio_wait().
 *
 * Return: 0 if it was stopped: its completion carries -ECANCELED;
 * -EALREADY if it is running or finished and cannot be stopped any more:
 * its completion carries its own result (POSIX AIO: a request a glibc
 * thread has started; Linux AIO: any read or write, only its emulated poll
 * stage on streams can be cancelled); -ENOENT if no request in flight has
 * this user data.
 */
int evpoll_aio_cancel(struct evpoll_aio *ctx,
				     uint64_t user_data)
{
	struct evpoll_aio_slot *found = NULL;
	unsigned int i;
	int ret;

	for (i = 0; i < ctx->depth; i++) {
		struct evpoll_aio_slot *slot = evpoll__aio_slot(ctx, i);

		if (slot->state == EVPOLL_AIO_SLOT_FREE ||
		    slot->req.user_data != user_data)
			continue;
		if (slot->state == EVPOLL_AIO_SLOT_INFLIGHT &&
		    !slot->cancelled) {
			found = slot;
			break;
		}
		if (!found)
			found = slot;
	}
	if (!found)
		return -ENOENT;
	if (found->state != EVPOLL_AIO_SLOT_INFLIGHT || found->cancelled)
		return -EALREADY;
	ret = ctx->ops->cancel(ctx, found);
	if (!ret)
		found->cancelled = true;
	return ret;
}

/**
 * evpoll_aio_free - cancel, wait for and free everything
 * @ctx: the context (NULL is ignored)
 *
 * Every request in flight is cancelled where the backend can, and waited
 * for where it cannot; completions not yet collected are discarded.  When
 * this returns no request touches its buffer any more.  With the posix
 * backend, a request that a glibc thread is running cannot be cancelled
 * and is waited for: a read from a pipe nobody writes to blocks this call
 * until the pipe is written to or closed.
 */
void evpoll_aio_free(struct evpoll_aio *ctx)
{
	unsigned int i;

	if (!ctx)
		return;
	for (i = 0; i < ctx->depth; i++) {
		struct evpoll_aio_slot *slot = evpoll__aio_slot(ctx, i);

		if (slot->state == EVPOLL_AIO_SLOT_INFLIGHT &&
		    !slot->cancelled && !ctx->ops->cancel(ctx, slot))
			slot->cancelled = true;
	}
	while (ctx->inflight > ctx->done_tail - ctx->done_head)
		ctx->ops->reap(ctx, ctx->inflight -
				    (ctx->done_tail - ctx->done_head), NULL);
	ctx->ops->exit(ctx);
	free(ctx->priv);
	free(ctx->res);
	free(ctx->done);
	free(ctx->slots);
	free(ctx);
}
