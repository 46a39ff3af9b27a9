// SPDX-License-Identifier: GPL-2.0
/*
 * close: what close() of a watched fd costs (issue 12), per close, as a
 * ratio to a plain close() of an unwatched fd of the same kind, K closes
 * per run.  Two kinds (the metric): "unix", one end of an AF_UNIX stream
 * socketpair (a cheap close: the worst case for the ratio), and "tcp",
 * the accepted end of a loopback TCP connection (the close sends a FIN),
 * their peers open.  Rows:
 *
 *   plain	close() of an unwatched end: the reference ("x plain" 1)
 *   epoll	close() of an end an epoll instance watches (epoll's own
 *		release of the item in __fput())
 *   lib	evpoll_close() of an end an evpoll instance watches: one
 *		EVPOLL_IOC_FORGET with EVPOLL_FORGET_CLOSE on a module that
 *		has it (else FORGET, then close())
 *   lib-2call	the same close in two system calls, as before the flag:
 *		evpoll_forget(), then close()
 *   shim	close() of an end watched through libevpoll-preload.so (its
 *		epoll_create1/epoll_ctl/close, dlopen()ed: the same code an
 *		LD_PRELOADed program runs), which forgets and closes (in one
 *		call, as lib)
 *   shim-unw	the shim's close() of an unwatched end while the shim has
 *		registrations: the cost every other close pays
 *   noent	evpoll_close() of an unwatched end: the FORGET ioctl that
 *		finds nothing (its lookup), and closes
 *
 * Without the module's EVPOLL_IOC_FORGET, lib and shim would only drop an
 * fd (the reaper releases the file later): they are not measured then.
 * The shim is $EVPOLL_PRELOAD_LIB or <dir of evpoll-bench>/../lib/.
 * Optional (-m close).
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

enum close_variant {
	CV_PLAIN,
	CV_EPOLL,
	CV_LIB,
	CV_LIB_2CALL,
	CV_SHIM,
	CV_SHIM_UNWATCHED,
	CV_NOENT,
	CV_NR
};

static const char *const close_name[CV_NR] = {
	"plain", "epoll", "lib", "lib-2call", "shim", "shim-unw", "noent",
};

enum close_kind {
	CK_UNIX,
	CK_TCP,
	CK_NR
};

static const char *const kind_name[CK_NR] = { "unix", "tcp" };

/* The loopback listener of the tcp kind. */
static int tcp_l = -1;
static struct sockaddr_in tcp_addr;

/* The shim's entry points, dlopen()ed once. */
static struct {
	int (*create1)(int flags);
	int (*ctl)(int epfd, int op, int fd, struct epoll_event *ev);
	int (*close)(int fd);
	bool tried;
} shim;

static bool shim_open(void)
{
	char path[PATH_MAX + 32], exe[PATH_MAX], *slash;
	const char *env = getenv("EVPOLL_PRELOAD_LIB");
	ssize_t n;
	void *h;

	if (shim.tried)
		return shim.close != NULL;
	shim.tried = true;
	if (env && *env) {
		snprintf(path, sizeof(path), "%s", env);
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n < 0 ? 0 : n] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		snprintf(path, sizeof(path), "%s/../lib/libevpoll-preload.so",
			 exe);
	}
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "evpoll-bench: close: no shim: %s\n",
			dlerror());
		return false;
	}
	shim.create1 = (int (*)(int))dlsym(h, "epoll_create1");
	shim.ctl = (int (*)(int, int, int, struct epoll_event *))
		   dlsym(h, "epoll_ctl");
	shim.close = (int (*)(int))dlsym(h, "close");
	if (!shim.create1 || !shim.ctl || !shim.close)
		shim.close = NULL;
	return shim.close != NULL;
}

static bool have_forget(void)
{
	uint64_t mask = 0;
	int fd = evpoll_create1(EVPOLL_CLOEXEC);
	bool ok = fd >= 0 && !evpoll_features(fd, &mask) &&
		  (mask & EVPOLL_FEAT_FORGET);

	if (fd >= 0)
		close(fd);
	return ok;
}

static void tcp_listen(long k)
{
	socklen_t len = sizeof(tcp_addr);

	memset(&tcp_addr, 0, sizeof(tcp_addr));
	tcp_addr.sin_family = AF_INET;
	tcp_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	tcp_l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (tcp_l < 0 ||
	    bind(tcp_l, (struct sockaddr *)&tcp_addr, sizeof(tcp_addr)) ||
	    listen(tcp_l, (int)k) ||
	    getsockname(tcp_l, (struct sockaddr *)&tcp_addr, &len))
		die("close: tcp listener: %s", strerror(errno));
}

/* K connections of @kind: the ends to close in @a, their peers in @b. */
static void close_pairs(enum close_kind kind, long k, int *a, int *b)
{
	long i;
	int sv[2];

	for (i = 0; i < k; i++) {
		if (kind == CK_UNIX) {
			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				       sv))
				die("close: socketpair: %s", strerror(errno));
			a[i] = sv[0];
			b[i] = sv[1];
			continue;
		}
		b[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (b[i] < 0 || connect(b[i], (struct sockaddr *)&tcp_addr,
					sizeof(tcp_addr)))
			die("close: connect: %s", strerror(errno));
		a[i] = accept4(tcp_l, NULL, NULL, SOCK_CLOEXEC);
		if (a[i] < 0)
			die("close: accept: %s", strerror(errno));
	}
}

/* The instance @v watches its ends with, or -1 (plain, shim-unw). */
static int close_instance(enum close_variant v)
{
	switch (v) {
	case CV_EPOLL:
		return epoll_create1(EPOLL_CLOEXEC);
	case CV_LIB:
	case CV_LIB_2CALL:
	case CV_NOENT:
		return evpoll_create1(EVPOLL_CLOEXEC);
	case CV_SHIM:
		return shim.create1(EPOLL_CLOEXEC);
	default:
		return -1;
	}
}

static int close_watch(enum close_variant v, int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	switch (v) {
	case CV_EPOLL:
		return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	case CV_LIB:
	case CV_LIB_2CALL:
		return evpoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	default:	/* CV_SHIM */
		return shim.ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
}

static int close_one(enum close_variant v, int ep, int fd)
{
	switch (v) {
	case CV_LIB:
	case CV_NOENT:
		return evpoll_close(ep, fd);
	case CV_LIB_2CALL:
		evpoll_forget(ep, fd);
		return close(fd);
	case CV_SHIM:
	case CV_SHIM_UNWATCHED:
		return shim.close(fd);
	default:
		return close(fd);
	}
}

/* One timed run of @v: K closes; the per-close cost (insn, else ns). */
static double close_run(enum close_kind kind, enum close_variant v, long k,
			int rep, int *a, int *b, double plain)
{
	struct sample *s;
	struct run r;
	int ep;
	long i;

	close_pairs(kind, k, a, b);
	ep = close_instance(v);
	if (ep < 0 && v != CV_PLAIN && v != CV_SHIM_UNWATCHED)
		die("close %s: instance: %s", close_name[v], strerror(errno));
	for (i = 0; ep >= 0 && v != CV_NOENT && i < k; i++)
		if (close_watch(v, ep, a[i]))
			die("close %s: ADD: %s", close_name[v], strerror(errno));
	sleep_ms(opt.pause_ms);
	run_start(&r);
	for (i = 0; i < k; i++)
		if (close_one(v, ep, a[i]))
			fail("close %s: close(%d): %s", close_name[v], a[i],
			     strerror(errno));
	s = run_stop(&r, &bench_mode_close, kind_name[kind], close_name[v], k,
		     0, rep, k);
	for (i = 0; i < k; i++)
		close(b[i]);
	if (ep >= 0)
		close(ep);
	s->extra.v[0] = -1;
	if (s->insn >= 0 || s->ns > 0) {
		double per = (s->insn >= 0 ? s->insn : s->ns) / k;

		if (plain > 0)
			s->extra.v[0] = per / plain;
		return per;
	}
	return -1;
}

static void close_raise_nofile(long need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= (rlim_t)need)
		return;
	rl.rlim_cur = rl.rlim_max < (rlim_t)need ? rl.rlim_max : (rlim_t)need;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static void close_all(void)
{
	long k = opt.churn_ops;
	bool forget = have_forget(), with_shim;
	int *a, *b, rep, keep[2] = { -1, -1 }, sep = -1;
	enum close_variant v;
	enum close_kind kind;

	close_raise_nofile(2 * k + 256);
	a = xcalloc(k, sizeof(*a));
	b = xcalloc(k, sizeof(*b));
	with_shim = forget && shim_open();
	if (!forget)
		fprintf(stderr, "evpoll-bench: close: the module has no "
			"EVPOLL_IOC_FORGET: lib and shim not measured\n");
	if (with_shim) {
		/* one registration, so that the shim tracks closes */
		sep = shim.create1(EPOLL_CLOEXEC);
		if (sep < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, keep) ||
		    close_watch(CV_SHIM, sep, keep[0]))
			die("close: shim set-up: %s", strerror(errno));
	}
	tcp_listen(k);
	for (kind = 0; kind < CK_NR; kind++) {
		for (rep = 0; rep < opt.repeats; rep++) {
			double plain = close_run(kind, CV_PLAIN, k, rep, a, b,
						 -1);

			for (v = CV_EPOLL; v < CV_NR; v++) {
				if (v >= CV_LIB && !forget)
					break;
				if ((v == CV_SHIM || v == CV_SHIM_UNWATCHED) &&
				    !with_shim)
					continue;
				close_run(kind, v, k, rep, a, b, plain);
			}
		}
	}
	close(tcp_l);
	if (sep >= 0) {
		shim.close(keep[0]);
		close(keep[1]);
		shim.close(sep);
	}
	free(a);
	free(b);
}

static void close_format(char *buf, size_t len, const union bench_extra *x)
{
	if (x->v[0] > 0)
		snprintf(buf, len, "%.2fx plain", x->v[0]);
	else
		snprintf(buf, len, "1.00x plain (reference)");
}

const struct bench_mode bench_mode_close = {
	.name		= "close",
	.n_label	= "K",
	.per		= "close",
	.extra_label	= "vs plain close()",
	.optional	= true,
	.no_selfcheck	= true,
	.run		= close_all,
	.format		= close_format,
};
