// SPDX-License-Identifier: GPL-2.0
/*
 * aio_test.c - the completion-model API (evpoll_aio_*, <evpoll-aio.h>) on
 * every backend: one FIXTURE, one variant per backend, one body per
 * behaviour.  What differs between backends is a property of the variant
 * (where a bad fd is reported, whether a running read can be cancelled,
 * ...), so each difference is asserted, not skipped.
 *
 * Files are created in $EVPOLL_AIO_TESTDIR, else $TMPDIR, else /tmp;
 * O_DIRECT also tries $EVPOLL_VM_OUT (the VM's writable share), /var/tmp
 * and the current directory, and SKIPs when no filesystem there takes it
 * (tmpfs before Linux 6.6 does not).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/aio_abi.h>

#include "kselftest_harness.h"
#include "evpoll-aio.h"

#define BLK		4096

static const struct timespec ts_zero = { 0, 0 };
static const struct timespec ts_long = { 10, 0 };
static const struct timespec ts_20ms = { 0, 20 * 1000 * 1000 };

static int count_fds(void)
{
	char path[64];
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (!access(path, F_OK))
			n++;
	}
	return n;
}

static const char *test_dir(void)
{
	const char *d = getenv("EVPOLL_AIO_TESTDIR");

	if (!d || !*d)
		d = getenv("TMPDIR");
	return d && *d ? d : "/tmp";
}

/* An unlinked temporary file in @dir, or -errno. */
static int tmpfile_in(const char *dir, int flags)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/evpoll-aio-XXXXXX", dir);
	fd = mkostemp(path, flags);
	if (fd < 0)
		return -errno;
	unlink(path);
	return fd;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void fill(unsigned char *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(seed * 31 + i * 7 + (i >> 8));
}

FIXTURE(aio) {
	struct evpoll_aio *ctx;
	int nfds;
	char skip[160];
};

/*
 * What the backends do differently (Documentation/aio.rst has the table):
 * @bad_fd_at_submit: a bad fd fails the submit (else: the completion)
 * @cancel_running: a read already blocked in the kernel can be cancelled
 * @sync_buffered: a buffered file read is complete when submit returns
 * @file_position: EVPOLL_AIO_OFFSET_NONE works on a seekable file
 */
FIXTURE_VARIANT(aio) {
	enum evpoll_aio_backend backend;
	bool bad_fd_at_submit;
	bool cancel_running;
	bool sync_buffered;
	bool file_position;
};

FIXTURE_VARIANT_ADD(aio, uring) {
	.backend = EVPOLL_AIO_BACKEND_URING,
	.bad_fd_at_submit = false,
	.cancel_running = true,
	.sync_buffered = false,
	.file_position = true,
};

FIXTURE_VARIANT_ADD(aio, posix) {
	.backend = EVPOLL_AIO_BACKEND_POSIX,
	.bad_fd_at_submit = false,
	.cancel_running = false,
	.sync_buffered = false,
	.file_position = false,
};

FIXTURE_VARIANT_ADD(aio, linux) {
	.backend = EVPOLL_AIO_BACKEND_LINUX,
	.bad_fd_at_submit = true,
	.cancel_running = true,
	.sync_buffered = true,
	.file_position = false,
};

FIXTURE_SETUP(aio)
{
	enum evpoll_aio_backend list[EVPOLL_AIO_BACKEND_MAX];
	int n, i, ret;
	bool avail = false;

	self->nfds = count_fds();
	n = evpoll_aio_backends_available(list, EVPOLL_AIO_BACKEND_MAX);
	for (i = 0; i < n; i++)
		avail |= list[i] == variant->backend;
	if (!avail) {
		snprintf(self->skip, sizeof(self->skip),
			 "backend %s does not work here",
			 evpoll_aio_backend_name(variant->backend));
		return;
	}
	ret = evpoll_aio_new(variant->backend, 64, 0, &self->ctx);
	ASSERT_EQ(0, ret) TH_LOG("evpoll_aio_new: %s", strerror(-ret));
	ASSERT_EQ(variant->backend, evpoll_aio_backend(self->ctx));
}

FIXTURE_TEARDOWN(aio)
{
	evpoll_aio_free(self->ctx);
	/* destroy waits for everything: no fd of ours may be left */
	EXPECT_EQ(self->nfds, count_fds());
}

#define REQUIRE_CTX() do {						\
	if (!self->ctx)							\
		SKIP(return, "%s", self->skip);				\
} while (0)

/* Wait for exactly one completion (10 s at most). */
static int wait_one(struct evpoll_aio *ctx, struct evpoll_aio_cqe *cqe)
{
	return evpoll_aio_wait(ctx, cqe, 1, 1, &ts_long);
}

/* Collect @n completions into @cqes, indexed by user_data (< n). */
static int wait_all(struct evpoll_aio *ctx, struct evpoll_aio_cqe *cqes,
		    unsigned int n)
{
	struct evpoll_aio_cqe tmp[64];
	unsigned int got = 0;

	while (got < n) {
		unsigned int want = n - got > 64 ? 64 : n - got;
		int ret = evpoll_aio_wait(ctx, tmp, want, want, &ts_long);
		int i;

		if (ret <= 0)
			return ret ? ret : -ETIME;
		for (i = 0; i < ret; i++) {
			if (tmp[i].user_data >= n)
				return -ERANGE;
			cqes[tmp[i].user_data] = tmp[i];
		}
		got += (unsigned int)ret;
	}
	return (int)got;
}

/* Writes three blocks at scattered offsets, reads them back, compares. */
TEST_F(aio, file_write_read_buffered)
{
	unsigned char out[3][BLK], in[3][BLK];
	const int64_t off[3] = { 0, 5 * BLK, 2 * BLK };
	struct evpoll_aio_req reqs[3];
	struct evpoll_aio_cqe cqes[3];
	int fd, i;

	REQUIRE_CTX();
	fd = tmpfile_in(test_dir(), 0);
	ASSERT_LE(0, fd);

	for (i = 0; i < 3; i++) {
		fill(out[i], BLK, i + 1);
		reqs[i] = (struct evpoll_aio_req){
			.op = EVPOLL_AIO_WRITE, .fd = fd, .buf = out[i],
			.len = BLK, .offset = off[i], .user_data = i,
		};
	}
	ASSERT_EQ(3, evpoll_aio_submit(self->ctx, reqs, 3));
	ASSERT_EQ(3, wait_all(self->ctx, cqes, 3));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(BLK, cqes[i].res);

	memset(in, 0, sizeof(in));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, evpoll_aio_read(self->ctx, fd, in[i], BLK, off[i],
					     i));
	ASSERT_EQ(3, wait_all(self->ctx, cqes, 3));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(BLK, cqes[i].res);
		EXPECT_EQ(0, memcmp(in[i], out[i], BLK));
	}
	EXPECT_EQ(0, evpoll_aio_inflight(self->ctx));
	close(fd);
}

/* O_DIRECT with aligned buffers, where some filesystem takes it. */
TEST_F(aio, file_write_read_odirect)
{
	const char *dirs[] = { test_dir(), getenv("EVPOLL_VM_OUT"),
			       "/var/tmp", "." };
	struct evpoll_aio_cqe cqes[4];
	unsigned char *out, *in;
	int fd = -EINVAL, first = 0, i;
	ssize_t sync;

	REQUIRE_CTX();
	for (i = 0; i < 4 && fd < 0; i++) {
		if (!dirs[i])
			continue;
		fd = tmpfile_in(dirs[i], O_DIRECT);
		if (fd < 0 && !first)
			first = -fd;
	}
	if (fd < 0)
		SKIP(return, "no O_DIRECT file: %s: %s; /var/tmp, .: %s",
		     dirs[0], strerror(first), strerror(-fd));

	ASSERT_EQ(0, posix_memalign((void **)&out, BLK, 4 * BLK));
	ASSERT_EQ(0, posix_memalign((void **)&in, BLK, 4 * BLK));
	fill(out, 4 * BLK, 9);
	memset(in, 0, 4 * BLK);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, evpoll_aio_write(self->ctx, fd, out + i * BLK,
					      BLK, i * BLK, i));
	ASSERT_EQ(4, wait_all(self->ctx, cqes, 4));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(BLK, cqes[i].res);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, evpoll_aio_read(self->ctx, fd, in + i * BLK,
					     BLK, i * BLK, i));
	ASSERT_EQ(4, wait_all(self->ctx, cqes, 4));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(BLK, cqes[i].res);
	EXPECT_EQ(0, memcmp(in, out, 4 * BLK));

	/*
	 * Misaligned O_DIRECT: -EINVAL in the completion on block-based
	 * filesystems, accepted by tmpfs (6.6+); the oracle is pread().
	 */
	sync = pread(fd, in + 1, BLK, 0);
	if (sync < 0)
		sync = -errno;
	ASSERT_EQ(0, evpoll_aio_read(self->ctx, fd, in + 1, BLK, 0, 7));
	ASSERT_EQ(1, wait_one(self->ctx, cqes));
	EXPECT_EQ(sync, cqes[0].res);
	free(out);
	free(in);
	close(fd);
}

/*
 * Linux AIO does a buffered read inside io_submit(): its event is there
 * before evpoll_aio_read() returns, so a wait that does not block finds
 * it.  The other backends make no such promise (io_uring often completes
 * inline too, the posix thread may not have run yet): nothing to assert.
 * The raw syscalls show the same for a pipe: an O_NONBLOCK empty pipe's
 * read "completes" with -EAGAIN inside io_submit().
 */
TEST_F(aio, buffered_read_done_inside_submit)
{
	unsigned char buf[BLK], data[BLK];
	struct evpoll_aio_cqe cqe;
	aio_context_t id = 0;
	struct io_event ev;
	struct iocb cb, *cbp = &cb;
	struct timespec z = { 0, 0 };
	int fd, p[2];

	REQUIRE_CTX();
	if (!variant->sync_buffered)
		SKIP(return, "%s: completion time not defined",
		     evpoll_aio_backend_name(variant->backend));
	fd = tmpfile_in(test_dir(), 0);
	ASSERT_LE(0, fd);
	fill(data, BLK, 3);
	ASSERT_EQ(BLK, pwrite(fd, data, BLK, 0));

	ASSERT_EQ(0, evpoll_aio_read(self->ctx, fd, buf, BLK, 0, 42));
	ASSERT_EQ(1, evpoll_aio_wait(self->ctx, &cqe, 1, 1, &ts_zero));
	EXPECT_EQ(BLK, cqe.res);
	EXPECT_EQ(42, cqe.user_data);
	close(fd);

	/* the kernel itself, without the library's poll stage */
	ASSERT_EQ(0, pipe2(p, O_NONBLOCK));
	ASSERT_EQ(0, syscall(__NR_io_setup, 4, &id));
	memset(&cb, 0, sizeof(cb));
	cb.aio_lio_opcode = IOCB_CMD_PREAD;
	cb.aio_fildes = p[0];
	cb.aio_buf = (uintptr_t)buf;
	cb.aio_nbytes = sizeof(buf);
	cb.aio_data = 7;
	ASSERT_EQ(1, syscall(__NR_io_submit, id, 1, &cbp));
	ASSERT_EQ(1, syscall(__NR_io_getevents, id, 0, 1, &ev, &z));
	EXPECT_EQ(7, ev.data);
	EXPECT_EQ(-EAGAIN, (long long)ev.res);
	syscall(__NR_io_destroy, id);
	close(p[0]);
	close(p[1]);
}

/* A read of an empty pipe completes when data is written later. */
TEST_F(aio, pipe_read_waits_for_writer)
{
	const struct timespec ts_50ms = { 0, 50 * 1000 * 1000 };
	struct evpoll_aio_cqe cqe;
	char buf[64];
	double t0;
	int p[2];

	REQUIRE_CTX();
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, evpoll_aio_read(self->ctx, p[0], buf, sizeof(buf),
				     EVPOLL_AIO_OFFSET_NONE, 1));
	t0 = now_ms();
	EXPECT_EQ(0, evpoll_aio_wait(self->ctx, &cqe, 1, 1, &ts_50ms));
	EXPECT_LE(40, now_ms() - t0);
	EXPECT_EQ(1, evpoll_aio_inflight(self->ctx));

	ASSERT_EQ(5, write(p[1], "hello", 5));
	ASSERT_EQ(1, wait_one(self->ctx, &cqe));
	EXPECT_EQ(5, cqe.res);
	EXPECT_EQ(1, cqe.user_data);
	EXPECT_EQ(0, memcmp(buf, "hello", 5));

	/* write side through the API too, then EOF after close */
	ASSERT_EQ(0, evpoll_aio_write(self->ctx, p[1], "abc", 3,
				      EVPOLL_AIO_OFFSET_NONE, 2));
	ASSERT_EQ(1, wait_one(self->ctx, &cqe));
	EXPECT_EQ(3, cqe.res);
	ASSERT_EQ(3, read(p[0], buf, sizeof(buf)));
	ASSERT_EQ(0, evpoll_aio_read(self->ctx, p[0], buf, sizeof(buf),
				     EVPOLL_AIO_OFFSET_NONE, 3));
	close(p[1]);
	ASSERT_EQ(1, wait_one(self->ctx, &cqe));
	EXPECT_EQ(0, cqe.res);
	EXPECT_EQ(3, cqe.user_data);
	close(p[0]);
}

/* AF_UNIX stream: read posted first, write second, both complete. */
TEST_F(aio, socketpair_read_then_write)
{
	struct evpoll_aio_cqe cqes[2];
	char out[100], in[100];
	int sv[2];

	REQUIRE_CTX();
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	fill((unsigned char *)out, sizeof(out), 5);
	ASSERT_EQ(0, evpoll_aio_read(self->ctx, sv[1], in, sizeof(in),
				     EVPOLL_AIO_OFFSET_NONE, 0));
	ASSERT_EQ(0, evpoll_aio_write(self->ctx, sv[0], out, sizeof(out),
				      EVPOLL_AIO_OFFSET_NONE, 1));
	ASSERT_EQ(2, wait_all(self->ctx, cqes, 2));
	EXPECT_EQ(sizeof(in), cqes[0].res);
	EXPECT_EQ(sizeof(out), cqes[1].res);
	EXPECT_EQ(0, memcmp(in, out, sizeof(in)));
	close(sv[0]);
	close(sv[1]);
}

/* TCP over loopback: a reply read waits for the peer's write. */
TEST_F(aio, tcp_loopback_echo)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct evpoll_aio_cqe cqe;
	char msg[32] = "ping over tcp", got[32];
	int ls, c, s;

	REQUIRE_CTX();
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, ls);
	ASSERT_EQ(0, bind(ls, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, listen(ls, 1));
	ASSERT_EQ(0, getsockname(ls, (struct sockaddr *)&sa, &len));
	c = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, connect(c, (struct sockaddr *)&sa, sizeof(sa)));
	s = accept(ls, NULL, NULL);
	ASSERT_LE(0, s);

	/* server side reads first: nothing there yet */
	ASSERT_EQ(0, evpoll_aio_read(self->ctx, s, got, sizeof(got),
				     EVPOLL_AIO_OFFSET_NONE, 10));
	EXPECT_EQ(0, evpoll_aio_wait(self->ctx, &cqe, 1, 1, &ts_zero));
	ASSERT_EQ(0, evpoll_aio_write(self->ctx, c, msg, sizeof(msg),
				      EVPOLL_AIO_OFFSET_NONE, 11));
	{
		struct evpoll_aio_cqe cqes[2];
		int n = 0;

		while (n < 2) {
			int r = evpoll_aio_wait(self->ctx, cqes + n, 1, 2 - n,
						&ts_long);
			ASSERT_LT(0, r);
			n += r;
		}
		EXPECT_NE(cqes[0].user_data, cqes[1].user_data);
		EXPECT_EQ(sizeof(msg), cqes[0].res);
		EXPECT_EQ(sizeof(msg), cqes[1].res);
	}
	EXPECT_EQ(0, memcmp(msg, got, sizeof(msg)));
	close(s);
	close(c);
	close(ls);
}

/* Reads past the end are short, at the end they return 0. */
TEST_F(aio, file_short_read_at_eof)
{
	unsigned char data[100], buf[BLK];
	struct evpoll_aio_cqe cqe;
	int fd;

	REQUIRE_CTX();
	fd = tmpfile_in(test_dir(), 0);
	ASSERT_LE(0, fd);
	fill(data, sizeof(data), 11);
	ASSERT_EQ(sizeof(data), write(fd, data, sizeof(data)));

	ASSERT_EQ(0, evpoll_aio_read(self->ctx, fd, buf, BLK, 0, 1));
	ASSERT_EQ(1, wait_one(self->ctx, &cqe));
	EXPECT_EQ(100, cqe.res);
	EXPECT_EQ(0, memcmp(buf, data, 100));

	ASSERT_EQ(0, evpoll_aio_read(self->ctx, fd, buf, BLK, 60, 2));
	ASSERT_EQ(1, wait_one(self->ctx, &cqe));
	EXPECT_EQ(40, cqe.res);
	EXPECT_EQ(0, memcmp(buf, data + 60, 40));

	ASSERT_EQ(0, evpoll_aio_read(self->ctx, fd, buf, BLK, 100, 3));
	ASSERT_EQ(1, wait_one(self->ctx, &cqe));
	EXPECT_EQ(0, cqe.res);

	ASSERT_EQ(0, evpoll_aio_read(self->ctx, fd, buf, BLK, 1 << 20, 4));
	ASSERT_EQ(1, wait_one(self->ctx, &cqe));
	EXPECT_EQ(0, cqe.res);
	close(fd);
}

/*
 * A read of a pipe nobody writes to can never complete.  io_uring and
 * Linux AIO (its poll stage) stop it: -ECANCELED.  POSIX AIO cannot: a
 * glibc thread sits in read(), aio_cancel() says AIO_NOTCANCELED, and the
 * read completes (0, EOF) only once the write end is closed.
 */
TEST_F(aio, cancel_read_that_never_completes)
{
	struct evpoll_aio_cqe cqe;
	char buf[16];
	int p[2], ret;

	REQUIRE_CTX();
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, evpoll_aio_read(self->ctx, p[0], buf, sizeof(buf),
				     EVPOLL_AIO_OFFSET_NONE, 77));
	/* let a posix thread start it */
	EXPECT_EQ(0, evpoll_aio_wait(self->ctx, &cqe, 1, 1, &ts_20ms));
	EXPECT_EQ(-ENOENT, evpoll_aio_cancel(self->ctx, 78));

	ret = evpoll_aio_cancel(self->ctx, 77);
	if (variant->cancel_running) {
		EXPECT_EQ(0, ret);
		ASSERT_EQ(1, wait_one(self->ctx, &cqe));
		EXPECT_EQ(-ECANCELED, cqe.res);
	} else {
		EXPECT_EQ(-EALREADY, ret);
		EXPECT_EQ(0, evpoll_aio_wait(self->ctx, &cqe, 1, 1, &ts_20ms));
		close(p[1]);
		p[1] = -1;
		ASSERT_EQ(1, wait_one(self->ctx, &cqe));
		EXPECT_EQ(0, cqe.res);
	}
	EXPECT_EQ(77, cqe.user_data);
	/* completed: nothing left to cancel */
	EXPECT_EQ(-ENOENT, evpoll_aio_cancel(self->ctx, 77));
	EXPECT_EQ(0, evpoll_aio_inflight(self->ctx));
	close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
}

/*
 * Two reads on one empty pipe: the second is only queued on every backend
 * (glibc runs one request per fd at a time), so it can always be cancelled.
 */
TEST_F(aio, cancel_queued_second_read)
{
	struct evpoll_aio_cqe cqes[2];
	char a[8], b[8];
	int p[2];

	REQUIRE_CTX();
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, evpoll_aio_read(self->ctx, p[0], a, sizeof(a),
				     EVPOLL_AIO_OFFSET_NONE, 0));
	ASSERT_EQ(0, evpoll_aio_read(self->ctx, p[0], b, sizeof(b),
				     EVPOLL_AIO_OFFSET_NONE, 1));
	EXPECT_EQ(0, evpoll_aio_wait(self->ctx, cqes, 1, 2, &ts_20ms));
	EXPECT_EQ(0, evpoll_aio_cancel(self->ctx, 1));
	EXPECT_EQ(-EALREADY, evpoll_aio_cancel(self->ctx, 1));
	ASSERT_EQ(8, write(p[1], "12345678", 8));
	ASSERT_EQ(2, wait_all(self->ctx, cqes, 2));
	EXPECT_EQ(8, cqes[0].res);
	EXPECT_EQ(-ECANCELED, cqes[1].res);
	EXPECT_EQ(0, memcmp(a, "12345678", 8));
	close(p[0]);
	close(p[1]);
}

/*
 * A closed descriptor: Linux AIO looks it up in io_submit() and fails the
 * submit; io_uring and POSIX AIO accept the request and complete it with
 * -EBADF.
 */
TEST_F(aio, bad_fd_error)
{
	struct evpoll_aio_cqe cqe;
	char buf[16];
	int fd, ret;

	REQUIRE_CTX();
	fd = dup(0);
	ASSERT_LE(0, fd);
	close(fd);

	ret = evpoll_aio_read(self->ctx, fd, buf, sizeof(buf), 0, 5);
	if (variant->bad_fd_at_submit) {
		EXPECT_EQ(-EBADF, ret);
		EXPECT_EQ(0, evpoll_aio_inflight(self->ctx));
		EXPECT_EQ(0, evpoll_aio_wait(self->ctx, &cqe, 0, 1, &ts_zero));
	} else {
		ASSERT_EQ(0, ret);
		ASSERT_EQ(1, wait_one(self->ctx, &cqe));
		EXPECT_EQ(-EBADF, cqe.res);
		EXPECT_EQ(5, cqe.user_data);
	}
	/* stream mode: fstat() fails, the backend reports it as above */
	ret = evpoll_aio_write(self->ctx, fd, buf, sizeof(buf),
			       EVPOLL_AIO_OFFSET_NONE, 6);
	if (variant->bad_fd_at_submit) {
		EXPECT_EQ(-EBADF, ret);
	} else {
		ASSERT_EQ(0, ret);
		ASSERT_EQ(1, wait_one(self->ctx, &cqe));
		EXPECT_EQ(-EBADF, cqe.res);
	}
	/* a batch: the good request before the bad one still starts */
	{
		int p[2];
		struct evpoll_aio_req reqs[2] = {
			{ .op = EVPOLL_AIO_WRITE, .buf = "x", .len = 1,
			  .offset = EVPOLL_AIO_OFFSET_NONE, .user_data = 0 },
			{ .op = EVPOLL_AIO_WRITE, .fd = fd, .buf = "y",
			  .len = 1, .offset = 0, .user_data = 1 },
		};
		struct evpoll_aio_cqe cqes[2];

		ASSERT_EQ(0, pipe(p));
		reqs[0].fd = p[1];
		if (variant->bad_fd_at_submit) {
			EXPECT_EQ(1, evpoll_aio_submit(self->ctx, reqs, 2));
			ASSERT_EQ(1, wait_one(self->ctx, cqes));
			EXPECT_EQ(1, cqes[0].res);
		} else {
			EXPECT_EQ(2, evpoll_aio_submit(self->ctx, reqs, 2));
			ASSERT_EQ(2, wait_all(self->ctx, cqes, 2));
			EXPECT_EQ(1, cqes[0].res);
			EXPECT_EQ(-EBADF, cqes[1].res);
		}
		close(p[0]);
		close(p[1]);
	}
}

/* Bad arguments are refused before anything starts. */
TEST_F(aio, invalid_arguments)
{
	struct evpoll_aio_req req = { .op = 9, .fd = 0, .len = 1 };
	struct evpoll_aio_cqe cqe;
	struct evpoll_aio *ctx;
	char buf[4];

	REQUIRE_CTX();
	EXPECT_EQ(-EINVAL, evpoll_aio_submit(self->ctx, &req, 1));
	req.op = EVPOLL_AIO_READ;
	req.offset = -2;
	EXPECT_EQ(-EINVAL, evpoll_aio_submit(self->ctx, &req, 1));
	EXPECT_EQ(0, evpoll_aio_submit(self->ctx, &req, 0));
	EXPECT_EQ(-EINVAL, evpoll_aio_wait(self->ctx, &cqe, 2, 1, NULL));
	EXPECT_EQ(-EINVAL, evpoll_aio_wait(self->ctx, &cqe, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, evpoll_aio_wait(self->ctx, &cqe, 1, 1,
				&(struct timespec){ 0, 1000000000 }));
	/* nothing in flight: min_nr is capped, no blocking */
	EXPECT_EQ(0, evpoll_aio_wait(self->ctx, &cqe, 1, 1, NULL));
	EXPECT_EQ(-EINVAL, evpoll_aio_new(variant->backend, 0, 1, &ctx));
	EXPECT_EQ(-EINVAL, evpoll_aio_new(variant->backend, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, evpoll_aio_new(99, 0, 0, &ctx));
	EXPECT_EQ(-EINVAL, evpoll_aio_new(EVPOLL_AIO_BACKEND_MAX, 0, 0, &ctx));
	EXPECT_EQ(-EINVAL, evpoll_aio_new_by_name("nope", 0, 0, &ctx));
	EXPECT_EQ(0, evpoll_aio_inflight(self->ctx));
	(void)buf;
}

/*
 * EVPOLL_AIO_OFFSET_NONE on a regular file: io_uring reads at the file
 * position and advances it; the others have no such mode: -EINVAL.
 */
TEST_F(aio, offset_none_on_file)
{
	unsigned char data[64], buf[16];
	struct evpoll_aio_cqe cqe;
	int fd, ret;

	REQUIRE_CTX();
	fd = tmpfile_in(test_dir(), 0);
	ASSERT_LE(0, fd);
	fill(data, sizeof(data), 2);
	ASSERT_EQ(sizeof(data), pwrite(fd, data, sizeof(data), 0));
	ASSERT_EQ(8, lseek(fd, 8, SEEK_SET));

	ret = evpoll_aio_read(self->ctx, fd, buf, 16,
			      EVPOLL_AIO_OFFSET_NONE, 1);
	if (!variant->file_position) {
		EXPECT_EQ(-EINVAL, ret);
		EXPECT_EQ(0, evpoll_aio_inflight(self->ctx));
		close(fd);
		return;
	}
	ASSERT_EQ(0, ret);
	ASSERT_EQ(1, wait_one(self->ctx, &cqe));
	EXPECT_EQ(16, cqe.res);
	EXPECT_EQ(0, memcmp(buf, data + 8, 16));
	EXPECT_EQ(24, lseek(fd, 0, SEEK_CUR));
	close(fd);
}

/* 64 reads of one file in flight (the depth), the 65th is -EAGAIN. */
TEST_F(aio, many_file_reads_in_flight)
{
	struct evpoll_aio_req reqs[64];
	struct evpoll_aio_cqe cqes[64];
	unsigned char *data, *buf;
	int fd, i;

	REQUIRE_CTX();
	fd = tmpfile_in(test_dir(), 0);
	ASSERT_LE(0, fd);
	data = malloc(64 * BLK);
	buf = calloc(64, BLK);
	ASSERT_NE(NULL, data);
	ASSERT_NE(NULL, buf);
	fill(data, 64 * BLK, 4);
	ASSERT_EQ(64 * BLK, pwrite(fd, data, 64 * BLK, 0));

	for (i = 0; i < 64; i++)
		reqs[i] = (struct evpoll_aio_req){
			.op = EVPOLL_AIO_READ, .fd = fd, .buf = buf + i * BLK,
			.len = BLK, .offset = (int64_t)(63 - i) * BLK,
			.user_data = i,
		};
	ASSERT_EQ(64, evpoll_aio_submit(self->ctx, reqs, 64));
	EXPECT_EQ(-EAGAIN, evpoll_aio_read(self->ctx, fd, buf, 1, 0, 99));
	ASSERT_EQ(64, wait_all(self->ctx, cqes, 64));
	for (i = 0; i < 64; i++) {
		EXPECT_EQ(BLK, cqes[i].res);
		EXPECT_EQ(0, memcmp(buf + i * BLK, data + (63 - i) * BLK,
				    BLK));
	}
	EXPECT_EQ(0, evpoll_aio_inflight(self->ctx));
	free(data);
	free(buf);
	close(fd);
}

/* 32 pipes, a read waiting on each, then the writes in reverse order. */
TEST_F(aio, many_pipe_reads_in_flight)
{
	struct evpoll_aio_cqe cqes[32];
	int p[32][2], i;
	char buf[32][8];

	REQUIRE_CTX();
	for (i = 0; i < 32; i++) {
		ASSERT_EQ(0, pipe(p[i]));
		ASSERT_EQ(0, evpoll_aio_read(self->ctx, p[i][0], buf[i], 8,
					     EVPOLL_AIO_OFFSET_NONE, i));
	}
	EXPECT_EQ(32, evpoll_aio_inflight(self->ctx));
	EXPECT_EQ(0, evpoll_aio_wait(self->ctx, cqes, 0, 32, &ts_zero));
	for (i = 31; i >= 0; i--) {
		char msg[8];

		snprintf(msg, sizeof(msg), "p%06d", i);
		ASSERT_EQ(8, write(p[i][1], msg, 8));
	}
	ASSERT_EQ(32, wait_all(self->ctx, cqes, 32));
	for (i = 0; i < 32; i++) {
		char msg[8];

		snprintf(msg, sizeof(msg), "p%06d", i);
		EXPECT_EQ(8, cqes[i].res);
		EXPECT_EQ(0, memcmp(buf[i], msg, 8));
		close(p[i][0]);
		close(p[i][1]);
	}
}

/* A timeout expires when nothing completes, and returns 0. */
TEST_F(aio, wait_timeout_expires)
{
	const struct timespec ts = { 0, 100 * 1000 * 1000 };
	struct evpoll_aio_cqe cqe;
	double t0, dt;
	char buf[4];
	int p[2];

	REQUIRE_CTX();
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, evpoll_aio_read(self->ctx, p[0], buf, sizeof(buf),
				     EVPOLL_AIO_OFFSET_NONE, 1));
	t0 = now_ms();
	EXPECT_EQ(0, evpoll_aio_wait(self->ctx, &cqe, 1, 1, &ts));
	dt = now_ms() - t0;
	EXPECT_LE(95, dt);
	EXPECT_GE(5000, dt);
	close(p[1]);	/* EOF completes the read */
	ASSERT_EQ(1, wait_one(self->ctx, &cqe));
	EXPECT_EQ(0, cqe.res);
	close(p[0]);
}

struct closer {
	int fd;
	int delay_ms;
};

static void *close_later(void *arg)
{
	struct closer *c = arg;

	usleep(c->delay_ms * 1000);
	close(c->fd);
	return NULL;
}

/*
 * destroy with reads blocked on empty pipes: io_uring and Linux AIO cancel
 * them (no writer ever comes: destroy would hang otherwise); POSIX AIO has
 * to wait until they return (here: a thread closes the write ends after
 * 200 ms).  Either way no buffer is touched after destroy and nothing
 * leaks (the teardown counts fds).
 */
TEST_F(aio, destroy_with_reads_in_flight)
{
	struct closer c[4];
	pthread_t th[4];
	char buf[4][8];
	int p[4][2], i;
	double t0, dt;

	REQUIRE_CTX();
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pipe(p[i]));
		ASSERT_EQ(0, evpoll_aio_read(self->ctx, p[i][0], buf[i], 8,
					     EVPOLL_AIO_OFFSET_NONE, i));
	}
	for (i = 0; i < 4 && !variant->cancel_running; i++) {
		c[i].fd = p[i][1];
		c[i].delay_ms = 200;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, close_later, &c[i]));
	}
	t0 = now_ms();
	evpoll_aio_free(self->ctx);
	self->ctx = NULL;
	dt = now_ms() - t0;
	if (variant->cancel_running) {
		EXPECT_GT(30000, dt);	/* it returned: cancelled */
	} else {
		EXPECT_LE(150, dt);	/* it waited for the reads */
	}
	for (i = 0; i < 4; i++) {
		if (variant->cancel_running)
			close(p[i][1]);
		else
			pthread_join(th[i], NULL);
		close(p[i][0]);
	}
}

/* The list of backends, the default, names and $EVPOLL_AIO_BACKEND. */
TEST_F(aio, backend_selection)
{
	enum evpoll_aio_backend list[EVPOLL_AIO_BACKEND_MAX];
	struct evpoll_aio *ctx;
	int n, i, def;

	REQUIRE_CTX();
	n = evpoll_aio_backends_available(list, EVPOLL_AIO_BACKEND_MAX);
	ASSERT_LE(1, n);
	EXPECT_EQ(n, evpoll_aio_backends_available(NULL, 0));
	EXPECT_EQ(-EINVAL, evpoll_aio_backends_available(NULL, 1));
	EXPECT_EQ(-EINVAL, evpoll_aio_backends_available(list, -1));
	for (i = 0; i < n; i++) {
		const char *name = evpoll_aio_backend_name(list[i]);

		ASSERT_NE(NULL, name);
		EXPECT_EQ(list[i], evpoll_aio_backend_by_name(name));
		EXPECT_EQ(0, evpoll_aio_backend_probe(list[i]));
	}
	EXPECT_EQ(NULL, evpoll_aio_backend_name(-1));
	EXPECT_EQ(NULL, evpoll_aio_backend_name(EVPOLL_AIO_BACKEND_MAX));
	EXPECT_STREQ("default",
		     evpoll_aio_backend_name(EVPOLL_AIO_BACKEND_DEFAULT));
	EXPECT_EQ(EVPOLL_AIO_BACKEND_URING,
		  evpoll_aio_backend_by_name("io_uring"));
	EXPECT_EQ(-EINVAL, evpoll_aio_backend_by_name(NULL));
	EXPECT_EQ(-EINVAL,
		  evpoll_aio_backend_probe(EVPOLL_AIO_BACKEND_DEFAULT));

	unsetenv("EVPOLL_AIO_BACKEND");
	def = evpoll_aio_backend_default();
	EXPECT_EQ(list[0], def);

	setenv("EVPOLL_AIO_BACKEND",
	       evpoll_aio_backend_name(variant->backend), 1);
	EXPECT_EQ(variant->backend, evpoll_aio_backend_default());
	ASSERT_EQ(0, evpoll_aio_new(EVPOLL_AIO_BACKEND_DEFAULT, 0, 0, &ctx));
	EXPECT_EQ(variant->backend, evpoll_aio_backend(ctx));
	evpoll_aio_free(ctx);

	setenv("EVPOLL_AIO_BACKEND", "bogus", 1);
	EXPECT_EQ(-EINVAL,
		  evpoll_aio_new(EVPOLL_AIO_BACKEND_DEFAULT, 0, 0, &ctx));
	unsetenv("EVPOLL_AIO_BACKEND");

	ASSERT_EQ(0, evpoll_aio_new_by_name(
			evpoll_aio_backend_name(variant->backend), 1, 0, &ctx));
	EXPECT_EQ(variant->backend, evpoll_aio_backend(ctx));
	evpoll_aio_free(ctx);
}

TEST_HARNESS_MAIN
