// SPDX-License-Identifier: GPL-2.0
/*
 * failslab_test - every allocation of every module operation made to fail.
 *
 * With failslab (debug kernel: CONFIG_FAILSLAB + fault-injection debugfs),
 * writing N to /proc/thread-self/fail-nth makes the N-th slab allocation of
 * this thread fail.  For each operation, N goes 1, 2, 3, ... until the
 * operation no longer reaches an N-th allocation; every injected failure
 * must give the documented errno (ENOMEM, or the VFS's own errno for the
 * allocations open(2) makes before the module runs), and leave nothing
 * behind: the instance keeps working, its item and watch counts are
 * unchanged, and the runner's kmemleak scan finds no leak.  The table
 * printed at the end says how many allocation sites each operation has and
 * what each failure returned.
 *
 * On a kernel without failslab (the stock Debian one) every test is a SKIP
 * with that reason.
 */
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/prctl.h>

#include "evp.h"
#include "kselftest_harness.h"

#define FAILSLAB	"/sys/kernel/debug/failslab"

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -EIO;
}

/*
 * /proc/thread-self/fail-nth stays open for the whole test: opening it
 * allocates, and an allocation of our own between arming the countdown and
 * reading it back would be counted (or failed) instead of the module's.
 * pread()/pwrite() on it do not allocate.
 */
static int nth_fd = -1;

static int fail_nth(int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	if (nth_fd < 0)
		nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (nth_fd < 0)
		return -errno;
	return pwrite(nth_fd, buf, len, 0) == len ? 0 : -errno;
}

/* What is left of the countdown: 0 once the N-th allocation failed. */
static int fail_nth_left(void)
{
	char buf[16] = "";

	if (pread(nth_fd, buf, sizeof(buf) - 1, 0) < 0)
		return -1;
	return atoi(buf);
}

static bool failslab_ready(void)
{
	struct stat st;

	if (stat(FAILSLAB, &st)) {
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
		if (stat(FAILSLAB, &st))
			return false;
	}
	/*
	 * GFP_KERNEL allocations are exempt by default: include them.  The
	 * random failures (probability) stay off: fail-nth alone decides.
	 */
	return !write_str(FAILSLAB "/ignore-gfp-wait", "N") &&
	       !write_str(FAILSLAB "/verbose", "0");
}

struct ctx {
	int evfd;
	int target;		/* fd to ADD */
	uint32_t events;
	long long items, watches;
};

/*
 * Run @op with the n-th allocation failing, for n = 1.. until it no longer
 * reaches one.  @op returns 0 or -errno; @undo reverts a success;
 * @check verifies nothing was left behind after a failure.
 */
struct op {
	const char *name;
	int (*op)(void *ctx);
	void (*undo)(void *ctx);
	int (*check)(void *ctx);
	int errs[3];		/* the errnos a failure may give */
};

static int exercise(struct __test_metadata *_metadata, const struct op *o,
		    void *ctx)
{
	char line[4096];
	int n, ret, left, len = 0;

	/* Counts before: what a clean failure must leave unchanged. */
	if (o->check) {
		struct ctx *c = ctx;

		c->items = evp_counter(c->evfd, "evpoll-items");
		c->watches = evp_counter(c->evfd, "evpoll-user-watches");
	}
	len += snprintf(line + len, sizeof(line) - len, "%-28s", o->name);
	for (n = 1; n < 64; n++) {
		ASSERT_EQ(fail_nth(n), 0);
		ret = o->op(ctx);
		left = fail_nth_left();
		fail_nth(0);
		if (getenv("FAILSLAB_DEBUG"))
			fprintf(stderr, "# %s n=%d ret=%d left=%d\n", o->name,
				n, ret, left);
		if (left > 0) {		/* fewer than n allocations */
			EXPECT_EQ(ret, 0) TH_LOG("%s: failed (%d) with no injected failure",
						 o->name, ret);
			if (!ret && o->undo)
				o->undo(ctx);
			break;
		}
		/* The n-th allocation failed. */
		if (ret == 0) {
			/* Tolerated only if the allocation was optional. */
			if (o->undo)
				o->undo(ctx);
		} else {
			EXPECT_TRUE(ret == o->errs[0] || ret == o->errs[1] ||
				    ret == o->errs[2])
				TH_LOG("%s: allocation %d failed -> %d", o->name, n, ret);
		}
		if (o->check)
			EXPECT_EQ(o->check(ctx), 0) TH_LOG("%s: state after failure %d",
							   o->name, n);
		if (len < (int)sizeof(line) - 64)
			len += snprintf(line + len, sizeof(line) - len, " #%d:%s",
					n, ret ? strerror(-ret) : "ok");
	}
	EXPECT_GT(n, 1) TH_LOG("%s: no allocation was ever failed", o->name);
	fprintf(stderr, "# failslab %s (%d sites)\n", line, n - 1);
	return n - 1;
}


static int op_open(void *p)
{
	struct ctx *c = p;
	int fd = evp_open();

	if (fd < 0)
		return -errno;
	c->target = fd;
	return 0;
}

static void undo_close(void *p)
{
	close(((struct ctx *)p)->target);
}

static int op_add(void *p)
{
	struct ctx *c = p;

	return evp_ctl(c->evfd, EVPOLL_CTL_ADD, c->target, c->events, 5);
}

static void undo_del(void *p)
{
	struct ctx *c = p;

	evp_ctl(c->evfd, EVPOLL_CTL_DEL, c->target, 0, 0);
}

static int op_mod(void *p)
{
	struct ctx *c = p;

	return evp_ctl(c->evfd, EVPOLL_CTL_MOD, c->target, c->events, 6);
}

/* Nothing half-built: same counts as before, and the instance works. */
static int check_clean(void *p)
{
	struct ctx *c = p;
	struct epoll_event ev;
	uint64_t one = 1;
	int efd, ret = 0;

	if (evp_counter(c->evfd, "evpoll-items") != c->items ||
	    evp_counter(c->evfd, "evpoll-user-watches") != c->watches)
		return -1;
	efd = eventfd(0, EFD_NONBLOCK);
	if (evp_ctl(c->evfd, EVPOLL_CTL_ADD, efd, EPOLLIN, 77) ||
	    write(efd, &one, 8) != 8)
		ret = -2;
	else if (evp_wait(c->evfd, &ev, 1, 0) != 1 || ev.data.u64 != 77)
		ret = -3;
	evp_ctl(c->evfd, EVPOLL_CTL_DEL, efd, 0, 0);
	close(efd);
	return ret;
}

FIXTURE(fs) {
	struct ctx c;
	const char *skip;	/* the 6.1 harness runs the body after a setup SKIP */
};

FIXTURE_SETUP(fs)
{
	if (geteuid() != 0)
		self->skip = "fault injection needs root";
	else if (!failslab_ready())
		self->skip = "no failslab on this kernel (CONFIG_FAILSLAB, debugfs)";
	if (self->skip)
		return;
	self->c.evfd = evp_open();
	ASSERT_GE(self->c.evfd, 0);
	self->c.items = evp_counter(self->c.evfd, "evpoll-items");
	self->c.watches = evp_counter(self->c.evfd, "evpoll-user-watches");
}

FIXTURE_TEARDOWN(fs)
{
	fail_nth(0);
	if (self->c.evfd > 0)
		close(self->c.evfd);
}

TEST_F(fs, open)
{
	struct op o = { "open", op_open, undo_close, NULL,
			{ -ENOMEM, -ENFILE, -ENOMEM } };

	if (self->skip)
		SKIP(return, "%s", self->skip);

	exercise(_metadata, &o, &self->c);
}

/* The first instance of a uid also allocates its accounting record. */
TEST_F(fs, open_new_user)
{
	struct op o = { "open (new uid)", op_open, undo_close, NULL,
			{ -ENOMEM, -ENFILE, -ENOMEM } };
	int status, sites;
	pid_t pid;

	if (self->skip)
		SKIP(return, "%s", self->skip);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* fail-nth is per task and needs no privilege on oneself. */
		close(self->c.evfd);
		if (setresuid(54321, 54321, 54321))
			_exit(2);
		prctl(PR_SET_DUMPABLE, 1);	/* /proc/self stays ours */
		nth_fd = -1;
		sites = exercise(_metadata, &o, &self->c);
		_exit(sites >= 2 && _metadata->passed ? 0 : 3);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(fs, add_pipe)
{
	struct op o = { "ADD pipe", op_add, undo_del, check_clean,
			{ -ENOMEM, -ENOMEM, -ENOMEM } };
	int p[2];

	if (self->skip)
		SKIP(return, "%s", self->skip);

	ASSERT_EQ(pipe(p), 0);
	self->c.target = p[0];
	self->c.events = EPOLLIN;
	exercise(_metadata, &o, &self->c);
	close(p[0]);
	close(p[1]);
}

TEST_F(fs, add_socket_second_instance)
{
	struct op o = { "ADD socket (file shared)", op_add, undo_del,
			check_clean, { -ENOMEM, -ENOMEM, -ENOMEM } };
	int sv[2], other = evp_open();

	if (self->skip)
		SKIP(return, "%s", self->skip);

	/* The file is already pinned by another instance: no new fref. */
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ASSERT_EQ(evp_ctl(other, EVPOLL_CTL_ADD, sv[0], EPOLLIN, 0), 0);
	self->c.target = sv[0];
	self->c.events = EPOLLIN | EPOLLOUT;
	exercise(_metadata, &o, &self->c);
	close(other);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(fs, add_nested_instance)
{
	struct op o = { "ADD instance (nesting)", op_add, undo_del,
			check_clean, { -ENOMEM, -ENOMEM, -ENOMEM } };
	int inner = evp_open();

	if (self->skip)
		SKIP(return, "%s", self->skip);

	ASSERT_GE(inner, 0);
	self->c.target = inner;
	self->c.events = EPOLLIN;
	exercise(_metadata, &o, &self->c);
	close(inner);
}

TEST_F(fs, add_and_mod_wakeup)
{
	struct op add = { "ADD EPOLLWAKEUP", op_add, undo_del, check_clean,
			  { -ENOMEM, -ENOMEM, -ENOMEM } };
	struct op mod = { "MOD EPOLLWAKEUP", op_mod, NULL, NULL,
			  { -ENOMEM, -ENOMEM, -ENOMEM } };
	int efd = eventfd(0, 0);

	if (self->skip)
		SKIP(return, "%s", self->skip);

	self->c.target = efd;
	self->c.events = EPOLLIN | EPOLLWAKEUP;
	exercise(_metadata, &add, &self->c);
	/* MOD to a mask with WAKEUP when the item has none: one source. */
	ASSERT_EQ(evp_ctl(self->c.evfd, EVPOLL_CTL_ADD, efd, EPOLLIN, 0), 0);
	exercise(_metadata, &mod, &self->c);
	/* After every failure the item is still there and works. */
	EXPECT_EQ(evp_ctl(self->c.evfd, EVPOLL_CTL_MOD, efd, EPOLLIN, 0), 0);
	EXPECT_EQ(evp_ctl(self->c.evfd, EVPOLL_CTL_DEL, efd, 0, 0), 0);
	close(efd);
}

TEST_HARNESS_MAIN
