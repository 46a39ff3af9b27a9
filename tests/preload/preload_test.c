// SPDX-License-Identifier: GPL-2.0
/*
 * preload_test.c - libevpoll-preload.so on unmodified programs.
 *
 * Each test runs a program that only knows epoll (preload_helper, or
 * python3's asyncio) under LD_PRELOAD=libevpoll-preload.so and checks,
 * from outside the program where it can, that its epoll instances really
 * are /dev/evpoll.  Needs the module (tests/guest); tests that need the
 * device SKIP without it.
 *
 * Paths: the shim is $EVPOLL_PRELOAD_LIB, else <dir of this program>/
 * PRELOAD_LIB_REL (../../lib/libevpoll-preload.so, the build tree); the
 * helpers are in <dir of this program>/preload.d/.
 *
 * tests/preload32 builds this file, the helper and the shim as i386
 * programs (gcc -m32, -D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64) for the
 * VM's 32-bit pass, the shim in preload.d/ (PRELOAD_LIB_REL).
 */
#include <errno.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/evpoll.h>

#include "kselftest_harness.h"

#ifndef PRELOAD_LIB_REL
#define PRELOAD_LIB_REL "../../lib/libevpoll-preload.so"
#endif

/*
 * The i386 build (tests/preload32): python3 is an x86-64 program, which
 * an i386 shim cannot be preloaded into, and preload_linked would need an
 * i386 libevpoll.so.
 */
#define I386_BUILD (sizeof(void *) == 4)

extern char **environ;

static char preload_lib[PATH_MAX];
static char helper_dir[2100];

static void find_paths(void)
{
	char exe[2048], *slash;
	const char *lib = getenv("EVPOLL_PRELOAD_LIB");
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n < 0 ? 0 : n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(helper_dir, sizeof(helper_dir), "%s/preload.d", exe);
	if (lib && *lib)
		snprintf(preload_lib, sizeof(preload_lib), "%s", lib);
	else
		snprintf(preload_lib, sizeof(preload_lib), "%s/%s", exe,
			 PRELOAD_LIB_REL);
}

static bool have_device(void)
{
	return !access("/dev/evpoll", R_OK | W_OK);
}

/*
 * Does the module have EVPOLL_IOC_FORGET?  Without it the shim leaves
 * closed fds to the module's reaper, and the close-safety tests skip,
 * unless EVPOLL_TEST_FORGET=1 (to see them fail on such a module).
 */
static bool have_forget(void)
{
	struct evpoll_version v = { .size = sizeof(v) };
	const char *force = getenv("EVPOLL_TEST_FORGET");
	bool ok;
	int fd;

	if (force && !strcmp(force, "1"))
		return true;
	fd = open("/dev/evpoll", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	ok = !ioctl(fd, EVPOLL_IOC_VERSION, &v) &&
	     (v.features & EVPOLL_IOC_FEAT_FORGET);
	close(fd);
	return ok;
}

struct child {
	pid_t pid;
	int in;		/* its stdin, ours to write */
	FILE *out;	/* its stdout */
};

#define NS_NODEV	0x1	/* run it where /dev is an empty tmpfs */
#define NS_SETUP_ERR	10000	/* spawn(): -(this + errno) */

/*
 * Start @argv with LD_PRELOAD=<the shim> and the NULL-terminated @env
 * settings added to our environment.  Return 0, -errno if it could not be
 * started, -(NS_SETUP_ERR + errno) if the mount namespace of NS_NODEV
 * could not be set up.
 */
static int spawn(struct child *c, char *const argv[], const char *const env[],
		 int flags)
{
	int in[2], out[2], ready[2], err = 0;
	char preload[PATH_MAX + 16];

	if (pipe(in) || pipe(out) || pipe2(ready, O_CLOEXEC))
		return -errno;
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (!c->pid) {
		const char *const *e;

		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		close(ready[0]);
		if (flags & NS_NODEV) {
			if (unshare(CLONE_NEWNS) ||
			    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
			    mount("none", "/dev", "tmpfs", 0, NULL)) {
				err = NS_SETUP_ERR + errno;
				if (write(ready[1], &err, sizeof(err)) < 0)
					_exit(126);
				_exit(126);
			}
		}
		snprintf(preload, sizeof(preload), "LD_PRELOAD=%s",
			 preload_lib);
		putenv(preload);
		for (e = env; e && *e; e++)
			putenv((char *)*e);
		execv(argv[0], argv);
		err = errno;
		if (write(ready[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(ready[1]);
	if (read(ready[0], &err, sizeof(err)) == sizeof(err)) {
		close(ready[0]);
		close(in[1]);
		close(out[0]);
		waitpid(c->pid, NULL, 0);
		return -err;
	}
	close(ready[0]);
	c->in = in[1];
	c->out = fdopen(out[0], "r");
	return 0;
}

/* Wait for the child; return its exit status, or 128 + signal. */
static int reap(struct child *c)
{
	int status;

	close(c->in);
	if (c->out)
		fclose(c->out);
	if (waitpid(c->pid, &status, 0) != c->pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) :
				   128 + WTERMSIG(status);
}

static void helper(char *buf, size_t len)
{
	snprintf(buf, len, "%s/preload_helper", helper_dir);
}

FIXTURE(preload) {
	char helper[PATH_MAX];
	struct child c;
};

FIXTURE_SETUP(preload)
{
	find_paths();
	helper(self->helper, sizeof(self->helper));
	ASSERT_EQ(0, access(preload_lib, R_OK))
		TH_LOG("no shim at %s", preload_lib);
	ASSERT_EQ(0, access(self->helper, X_OK))
		TH_LOG("no helper at %s", self->helper);
}

FIXTURE_TEARDOWN(preload)
{
}

/*
 * A plain epoll program, looked at from outside while it sits in
 * epoll_wait(): its epoll fd links to /dev/evpoll and its fdinfo lists the
 * watched fd in epoll's format.
 */
TEST_F(preload, epoll_fd_is_dev_evpoll_from_outside)
{
	char *argv[] = { self->helper, "wait", NULL };
	char line[256], path[64], link[256];
	bool item = false;
	FILE *f;
	ssize_t n;
	int epfd;

	if (!have_device())
		SKIP(return, "no /dev/evpoll (module not loaded)");
	ASSERT_EQ(0, spawn(&self->c, argv, NULL, 0));
	ASSERT_NE(NULL, fgets(line, sizeof(line), self->c.out));
	ASSERT_EQ(1, sscanf(line, "ready %d", &epfd)) TH_LOG("got: %s", line);

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", self->c.pid, epfd);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = '\0';
	EXPECT_STREQ("/dev/evpoll", link);

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", self->c.pid, epfd);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		unsigned int tfd, events;

		if (sscanf(line, "tfd: %u events: %x", &tfd, &events) == 2 &&
		    tfd == 0 && (events & 1))
			item = true;
	}
	fclose(f);
	EXPECT_TRUE(item) TH_LOG("no 'tfd: 0 events: ...' line in %s", path);

	/* wake it: one byte on its stdin */
	ASSERT_EQ(1, write(self->c.in, "x", 1));
	ASSERT_NE(NULL, fgets(line, sizeof(line), self->c.out));
	EXPECT_STREQ("done\n", line);
	EXPECT_EQ(0, reap(&self->c));
}

#if __TIMESIZE == 32
/*
 * i386: a program built without _TIME_BITS=64 (preload_helper_time32)
 * calls epoll_pwait2 with a struct timespec of two 32-bit longs, which
 * the shim converts (with the 64-bit time_t build of the helper, the
 * other tests call __epoll_pwait2_time64).  "wait" ends with
 * epoll_pwait2 on the instance, with and without a signal mask.
 */
TEST_F(preload, time32_program_epoll_pwait2)
{
	char *argv[] = { self->helper, "wait", NULL };
	char line[256];
	int epfd;

	if (!have_device())
		SKIP(return, "no /dev/evpoll (module not loaded)");
	snprintf(self->helper, sizeof(self->helper),
		 "%s/preload_helper_time32", helper_dir);
	ASSERT_EQ(0, access(self->helper, X_OK));
	ASSERT_EQ(0, spawn(&self->c, argv, NULL, 0));
	ASSERT_NE(NULL, fgets(line, sizeof(line), self->c.out));
	ASSERT_EQ(1, sscanf(line, "ready %d", &epfd)) TH_LOG("got: %s", line);
	ASSERT_EQ(1, write(self->c.in, "x", 1));
	if (!fgets(line, sizeof(line), self->c.out))
		strcpy(line, "(no output)\n");
	EXPECT_STREQ("done\n", line);
	EXPECT_EQ(0, reap(&self->c));
}
#endif

/* The whole ctl/wait path, and epoll_create(0) / bad flags stay EINVAL. */
TEST_F(preload, create_roundtrip_on_evpoll)
{
	char *argv[] = { self->helper, "create", NULL };
	char line[256];

	if (!have_device())
		SKIP(return, "no /dev/evpoll (module not loaded)");
	ASSERT_EQ(0, spawn(&self->c, argv, NULL, 0));
	ASSERT_NE(NULL, fgets(line, sizeof(line), self->c.out));
	EXPECT_STREQ("ok /dev/evpoll\n", line);
	EXPECT_EQ(0, reap(&self->c));
}

/*
 * No device (here: /dev is an empty tmpfs in a mount namespace of the
 * child): epoll_create1() and epoll_create() fail with open()'s ENOENT, no
 * silent fallback.
 */
TEST_F(preload, no_device_fails_with_open_errno)
{
	static const char *const env[] = { "EVPOLL_PRELOAD_FALLBACK=0", NULL };
	char *argv[] = { self->helper, "create", NULL };
	char line[256];
	int ret;

	ret = spawn(&self->c, argv, env, NS_NODEV);
	if (ret <= -NS_SETUP_ERR)
		SKIP(return, "no private /dev here: %s",
		     strerror(-ret - NS_SETUP_ERR));
	ASSERT_EQ(0, ret);
	ASSERT_NE(NULL, fgets(line, sizeof(line), self->c.out));
	EXPECT_STREQ("errno 2\n", line);
	ASSERT_NE(NULL, fgets(line, sizeof(line), self->c.out));
	EXPECT_STREQ("errno 2\n", line);
	EXPECT_EQ(0, reap(&self->c));
}

/* ... unless EVPOLL_PRELOAD_FALLBACK=1: then the kernel's epoll. */
TEST_F(preload, no_device_fallback_uses_kernel_epoll)
{
	static const char *const env[] = { "EVPOLL_PRELOAD_FALLBACK=1", NULL };
	char *argv[] = { self->helper, "create", NULL };
	char line[256];
	int ret;

	ret = spawn(&self->c, argv, env, NS_NODEV);
	if (ret <= -NS_SETUP_ERR)
		SKIP(return, "no private /dev here: %s",
		     strerror(-ret - NS_SETUP_ERR));
	ASSERT_EQ(0, ret);
	ASSERT_NE(NULL, fgets(line, sizeof(line), self->c.out));
	EXPECT_STREQ("ok anon_inode:[eventpoll]\n", line);
	EXPECT_EQ(0, reap(&self->c));
}

/* Inherited instance in a child, a child's own, and after exec. */
TEST_F(preload, fork_and_exec)
{
	char *argv[] = { self->helper, "fork", NULL };
	char line[256];

	if (!have_device())
		SKIP(return, "no /dev/evpoll (module not loaded)");
	ASSERT_EQ(0, spawn(&self->c, argv, NULL, 0));
	ASSERT_NE(NULL, fgets(line, sizeof(line), self->c.out));
	EXPECT_STREQ("fork ok\n", line);
	EXPECT_EQ(0, reap(&self->c));
}

/* Eight threads creating, using and closing instances at once. */
TEST_F(preload, threads_create_and_wait)
{
	char *argv[] = { self->helper, "threads", NULL };
	char line[256];

	if (!have_device())
		SKIP(return, "no /dev/evpoll (module not loaded)");
	ASSERT_EQ(0, spawn(&self->c, argv, NULL, 0));
	ASSERT_NE(NULL, fgets(line, sizeof(line), self->c.out));
	EXPECT_STREQ("threads ok\n", line);
	EXPECT_EQ(0, reap(&self->c));
}

/* fd numbers that change kind behind the shim's back still route right. */
TEST_F(preload, reused_fd_numbers_are_rerouted)
{
	char *argv[] = { self->helper, "reuse", NULL };
	char line[256];

	if (!have_device())
		SKIP(return, "no /dev/evpoll (module not loaded)");
	ASSERT_EQ(0, spawn(&self->c, argv, NULL, 0));
	ASSERT_NE(NULL, fgets(line, sizeof(line), self->c.out));
	EXPECT_STREQ("reuse ok\n", line);
	EXPECT_EQ(0, reap(&self->c));
}

/* Run the helper in @mode; expect one line "@mode ok" and exit 0. */
static void helper_mode_env_ok(struct __test_metadata *_metadata,
			       FIXTURE_DATA(preload) *self, const char *mode,
			       const char *const env[])
{
	char *argv[] = { self->helper, (char *)mode, NULL };
	char line[256], want[64];
	int status;

	ASSERT_EQ(0, spawn(&self->c, argv, env, 0));
	snprintf(want, sizeof(want), "%s ok\n", mode);
	if (!fgets(line, sizeof(line), self->c.out))
		strcpy(line, "(no output)\n");
	status = reap(&self->c);
	EXPECT_STREQ(want, line);
	EXPECT_EQ(0, status) TH_LOG("helper %s: exit status %d%s", mode,
				    status, status == 128 + SIGSEGV ?
				    " (SIGSEGV)" : "");
}

static void helper_mode_ok(struct __test_metadata *_metadata,
			   FIXTURE_DATA(preload) *self, const char *mode)
{
	helper_mode_env_ok(_metadata, self, mode, NULL);
}

/*
 * Stale routing hints: every entry point, the C library's four and
 * syscall()'s four, on a number that changed from evpoll to kernel epoll
 * (syscall(SYS_epoll_create1), dup2()) and back (open(), dup2()).
 */
TEST_F(preload, stale_hints_on_every_entry_point)
{
	if (!have_device())
		SKIP(return, "no /dev/evpoll (module not loaded)");
	helper_mode_ok(_metadata, self, "reuse_raw");
}

/*
 * Every error path of every interposed call (bad maxevents, events,
 * timespec, sigmask, sigsetsize; ctl's op, event, fds) on an evpoll
 * instance gives the errno of the same call on a kernel epoll instance,
 * and nothing crashes (the shim used to recurse into itself).
 */
TEST_F(preload, error_paths_match_epoll)
{
	if (!have_device())
		SKIP(return, "no /dev/evpoll (module not loaded)");
	helper_mode_ok(_metadata, self, "errors");
}

#if __TIMESIZE == 32
/*
 * The same program's error paths: the shim's conversion of a 32-bit
 * timespec gives the errno of the C library's own (tv_nsec -1 and 1e9,
 * tv_sec -1, a bad pointer) on a kernel epoll instance.
 */
TEST_F(preload, time32_program_error_paths)
{
	if (!have_device())
		SKIP(return, "no /dev/evpoll (module not loaded)");
	snprintf(self->helper, sizeof(self->helper),
		 "%s/preload_helper_time32", helper_dir);
	helper_mode_ok(_metadata, self, "errors");
}
#endif

/* The same for a program linked with libevpoll.so, under the shim. */
TEST_F(preload, error_paths_linked_libevpoll)
{
	char *argv[] = { self->helper, "errors", NULL };
	char line[256];
	int status;

	if (!have_device())
		SKIP(return, "no /dev/evpoll (module not loaded)");
	if (I386_BUILD)
		SKIP(return, "i386 build: no i386 libevpoll.so to link with");
	snprintf(self->helper, sizeof(self->helper), "%s/preload_linked",
		 helper_dir);
	ASSERT_EQ(0, spawn(&self->c, argv, NULL, 0));
	if (!fgets(line, sizeof(line), self->c.out))
		strcpy(line, "(no output)\n");
	status = reap(&self->c);
	EXPECT_STREQ("errors ok\n", line);
	EXPECT_EQ(0, status) TH_LOG("exit status %d%s", status,
				    status == 128 + SIGSEGV ? " (SIGSEGV)" : "");
}

/*
 * The shim resolves what it needs before main(): no dlsym() afterwards,
 * and syscall() and epoll_wait() work from a SIGSEGV handler.
 */
TEST_F(preload, no_lazy_dlsym_signal_handler)
{
	helper_mode_ok(_metadata, self, "sigsafe");
}

/*
 * A real program from Debian: python3's asyncio (selectors.EpollSelector)
 * serving bounded echo requests on loopback; the script checks every
 * reply and that its selector's fd is /dev/evpoll.
 */
TEST_F_TIMEOUT(preload, python3_asyncio_echo, 300)
{
	char script[PATH_MAX];
	char *argv[] = { "/usr/bin/python3", script, "400", "20", NULL };
	char line[512];
	bool ok = false;

	if (!have_device())
		SKIP(return, "no /dev/evpoll (module not loaded)");
	if (access(argv[0], X_OK))
		SKIP(return, "no %s", argv[0]);
	if (I386_BUILD)
		SKIP(return, "i386 build: %s is not an i386 program", argv[0]);
	snprintf(script, sizeof(script), "%s/asyncio_echo.py", helper_dir);
	ASSERT_EQ(0, spawn(&self->c, argv, NULL, 0));
	while (fgets(line, sizeof(line), self->c.out)) {
		TH_LOG("python3: %s", strtok(line, "\n"));
		if (!strncmp(line, "ok ", 3))
			ok = true;
	}
	EXPECT_TRUE(ok);
	EXPECT_EQ(0, reap(&self->c));
}

/* ------------------------------------------------------------------ */
/* Close-safety: a watched fd closed without EPOLL_CTL_DEL (issue 12). */

#define NEED_FORGET() do {						\
	if (!have_device())						\
		SKIP(return, "no /dev/evpoll (module not loaded)");	\
	if (!have_forget())						\
		SKIP(return, "module without EVPOLL_IOC_FORGET "	\
		     "(EVPOLL_TEST_FORGET=1 runs it anyway)");		\
} while (0)

/*
 * A server closes its watched listening socket without DEL and binds the
 * same port again at once: as with epoll, it succeeds (the module's
 * reaper used to keep the old socket listening for up to 250 ms:
 * EADDRINUSE).
 */
TEST_F(preload, closed_listener_port_binds_again)
{
	NEED_FORGET();
	helper_mode_ok(_metadata, self, "rebind");
}

/*
 * A watched TCP (loopback) or unix socket closed without DEL: the peer
 * sees EOF within 50 ms of close() returning (the FIN is sent by the
 * close itself), not after the reaper's 250 ms.
 */
TEST_F(preload, closed_socket_peer_sees_eof)
{
	NEED_FORGET();
	helper_mode_ok(_metadata, self, "fin");
}

/* A pipe's reader sees EOF, and its writer EPIPE, at once. */
TEST_F(preload, closed_pipe_end_seen_at_once)
{
	NEED_FORGET();
	helper_mode_ok(_metadata, self, "pipe_eof");
}

/*
 * Epoll's rule: a dup()ed or forked holder keeps the item; it goes at
 * the last holder's close.
 */
TEST_F(preload, dup_and_fork_holders_keep_item)
{
	NEED_FORGET();
	helper_mode_ok(_metadata, self, "holders");
}

/*
 * close_range() (and CLOSE_RANGE_CLOEXEC, which keeps), closefrom(),
 * dup2()/dup3() over a watched fd (a failing dup2 keeps),
 * syscall(SYS_close), fclose(), an fd in two instances, DEL then close.
 */
TEST_F(preload, every_close_path_forgets)
{
	NEED_FORGET();
	helper_mode_ok(_metadata, self, "closes");
}

/*
 * The shim's close of a watched fd, in one call (EVPOLL_FORGET_CLOSE) on a
 * module that has it: close()'s result and errno, a second close of a
 * kept number (EBADF), instances closed while watched or watching.
 */
TEST_F(preload, close_in_one_call)
{
	NEED_FORGET();
	helper_mode_ok(_metadata, self, "close_one");
}

/* The same closes in two calls (EVPOLL_PRELOAD_FORGET_CLOSE=0). */
TEST_F(preload, close_in_two_calls)
{
	static const char *const env[] = {
		"EVPOLL_PRELOAD_FORGET_CLOSE=0", NULL,
	};

	NEED_FORGET();
	helper_mode_env_ok(_metadata, self, "close_one", env);
	helper_mode_env_ok(_metadata, self, "closes", env);
	helper_mode_env_ok(_metadata, self, "holders", env);
}

/*
 * 8 threads x 100 watched pipes of two shared instances, closed without
 * DEL at once: every reader sees EOF at once.
 */
TEST_F(preload, threads_close_watched_fds)
{
	NEED_FORGET();
	helper_mode_ok(_metadata, self, "threads_close");
}

/*
 * The shim exports the six epoll calls, syscall(), the calls that close
 * or duplicate fds, and nothing else; on a target whose time_t is 32-bit
 * by default (i386), also the names glibc gives two of them in programs
 * built with _TIME_BITS=64: __fcntl_time64 (glibc 2.34+, for fcntl and
 * fcntl64) and __epoll_pwait2_time64 (2.35+).
 */
TEST_F(preload, exports_only_epoll)
{
	static const char *const exported[] = {
		"epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
		"epoll_pwait", "epoll_pwait2", "syscall", "close",
		"close_range", "closefrom", "dup", "dup2", "dup3", "fcntl",
		"fcntl64", "fclose", "pclose",
#if __TIMESIZE == 32
#if __GLIBC_PREREQ(2, 34)
		"__fcntl_time64",
#endif
#if __GLIBC_PREREQ(2, 35)
		"__epoll_pwait2_time64",
#endif
#endif
	};
	static const char *const hidden[] = {
		"evpoll_create1", "evpoll_ctl", "evpoll_wait", "evpoll_pwait",
		"evpoll_pwait2", "fd_kind", "evpoll_aio_new", "evpoll_forget",
		"evpoll_close", "reg_inst",
	};
	void *h = dlopen(preload_lib, RTLD_NOW | RTLD_LOCAL);
	unsigned int i;

	ASSERT_NE(NULL, h) TH_LOG("dlopen: %s", dlerror());
	for (i = 0; i < sizeof(exported) / sizeof(exported[0]); i++) {
		Dl_info info;
		void *sym = dlsym(h, exported[i]);

		ASSERT_NE(NULL, sym) TH_LOG("%s not exported", exported[i]);
		/* defined by the shim itself, not found in libc */
		ASSERT_NE(0, dladdr(sym, &info));
		EXPECT_EQ(NULL, strstr(info.dli_fname, "libc.so"))
			TH_LOG("%s comes from %s", exported[i],
			       info.dli_fname);
	}
	for (i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		const char *name = hidden[i];
		void *sym = dlsym(h, name);

		if (sym)
			TH_LOG("exported: %s", name);
		EXPECT_EQ(NULL, sym);
	}
	dlclose(h);
}

TEST_HARNESS_MAIN
