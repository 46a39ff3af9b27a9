// SPDX-License-Identifier: GPL-2.0
/*
 * evpoll-chat-load - load an evpoll-chat server, check exact delivery and
 * measure the server, one model after the other.
 *
 *   evpoll-chat-load [-m MODELS] [-c CLIENTS] [-n LINES] [-r RATE]
 *                    [-s SIZE] [-T SECONDS] [-i INSN_LOG] [-S] [-o CSV]
 *                    [-x SERVER] [-q]
 *   evpoll-chat-load -p PORT [-c ...]        (a server already running)
 *
 * For each model: start `evpoll-chat --model M --port 0`, read its
 * "listening on PORT", connect the clients one by one (each announces
 * itself and waits until every earlier client heard it, so that every
 * client is known to the server before the measured phase), then let
 * every client send LINES lines at RATE lines per second (a thread per
 * client, ppoll() on its socket) while it reads the others' lines.
 * Checked: every line reaches every other client exactly once, verbatim,
 * in its sender's order, and never its sender; then an end line from
 * client 0 must be the next line every other client reads (nothing extra
 * came); then SIGTERM must make the server exit with status 0.
 *
 * Measured, over the phase in which the lines flow: delivery latency
 * (send to receipt, CLOCK_MONOTONIC) p50/p99; the server's CPU time and
 * context switches (sums over its threads, /proc/PID/task/TID/schedstat
 * and .../status), threads and VmRSS at the end of the phase; with -i the
 * guest instructions of the phase (QEMU plugin tools/bench/insn-plugin.c,
 * all vCPUs, so load clients included); with -S, in a second run of the
 * same load under `strace -f -c`, the server's system calls (its whole
 * life, set-up included).  Per-line numbers are per delivered line: a
 * line sent to C clients is delivered C-1 times.
 *
 * Exit status: 0 if every model passed every check, 1 otherwise, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#define MAX_CLIENTS	256
#define STR_(x)		#x
#define STR(x)		STR_(x)
#define LINE_MAX_	1024
#define CHAT_OUTQ_BYTES	65536	/* evpoll-chat's default --outq */
#define POLICY_SNDBUF	16384	/* --sndbuf of the server in policies() */

static struct {
	const char *models;
	const char *server;
	const char *insn_log;
	const char *csv;
	int port;
	int clients;
	int lines;
	int rate;
	int size;
	int limit_s;
	bool strace;
	bool policies;
	bool quiet;
} opt = {
	.clients = 16, .lines = 100, .rate = 100, .size = 64, .limit_s = 60,
};

/* ------------------------------------------------------------------ */
/* Small helpers */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { ns / 1000000000ULL, ns % 1000000000ULL };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static bool policy_run;		/* run_load(): policies() instead of the load */

/* A failure of the current run: the first one is kept and printed. */
static char run_error[512];

static void fail(const char *fmt, ...)
{
	va_list ap;

	if (run_error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(run_error, sizeof(run_error), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Instruction counting: the bench's markers (tools/bench/measure.c) */

#define MARK(kind) \
	asm volatile(".byte 0x0f, 0x1f, 0x80, " #kind ", 0x45, 0x56, 0xb5" \
		     ::: "memory")

/* Lines starting with 'R' in the plugin's log, and the last one's count. */
static long insn_stops(double *last_all)
{
	char line[256];
	long n = 0;
	FILE *f = fopen(opt.insn_log, "r");

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long seq, all;

		if (line[0] == 'R' && sscanf(line + 1, "%llu %llu", &seq, &all) == 2) {
			n++;
			*last_all = all;
		}
	}
	if (f)
		fclose(f);
	return n;
}

/* After a stop marker: wait (2 s at most) for its line; -1 if none. */
static double insn_count(long stops_before)
{
	double all = -1;
	int tries;

	for (tries = 0; tries < 400; tries++) {
		if (insn_stops(&all) > stops_before)
			return all;
		sleep_ns(5000000);
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* The server: start, stop, its numbers in /proc */

struct server {
	pid_t pid;
	int port;
};

static const char *server_path(void)
{
	static char path[PATH_MAX];
	ssize_t n;
	char *slash;

	if (opt.server)
		return opt.server;
	n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	if (n < 0)
		return "evpoll-chat";
	path[n] = 0;
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "evpoll-chat");
	return path;
}

/* Start evpoll-chat (under strace -f -c if @trace) and read its port. */
static int server_start(struct server *s, const char *model, const char *trace)
{
	char line[128], portarg[16];
	size_t len = 0;
	int pfd[2];
	uint64_t deadline = now_ns() + 20000000000ULL;

	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (!s->pid) {
		snprintf(portarg, sizeof(portarg), "%d", 0);
		dup2(pfd[1], STDOUT_FILENO);
		if (trace)
			execlp("strace", "strace", "-f", "-c", "-q", "-o", trace,
			       server_path(), "--model", model, "--port",
			       portarg, (char *)NULL);
		else if (policy_run)	/* little kernel buffering: a short flood */
			execl(server_path(), "evpoll-chat", "--model", model,
			      "--port", portarg, "--sndbuf", STR(POLICY_SNDBUF),
			      (char *)NULL);
		else
			execl(server_path(), "evpoll-chat", "--model", model,
			      "--port", portarg, (char *)NULL);
		perror("evpoll-chat-load: exec");
		_exit(127);
	}
	close(pfd[1]);
	while (len < sizeof(line) - 1) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		ssize_t n;

		if (now_ns() > deadline || poll(&p, 1, 1000) < 0)
			break;
		if (!p.revents)
			continue;
		n = read(pfd[0], line + len, sizeof(line) - 1 - len);
		if (n <= 0)
			break;
		len += n;
		line[len] = 0;
		if (strchr(line, '\n'))
			break;
	}
	close(pfd[0]);
	line[len] = 0;
	if (sscanf(line, "listening on %d", &s->port) != 1) {
		fail("server did not print 'listening on PORT' (got '%.40s')", line);
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		return -1;
	}
	return 0;
}

/* Under strace: the server is strace's child. */
static pid_t traced_pid(pid_t pid)
{
	char path[64];
	int child = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	f = fopen(path, "r");
	if (f && fscanf(f, "%d", &child) != 1)
		child = 0;
	if (f)
		fclose(f);
	return child > 0 ? child : pid;
}

/* SIGTERM; the server must exit 0 within 10 s. */
static void server_stop(struct server *s, bool traced)
{
	uint64_t deadline = now_ns() + 10000000000ULL;
	int status;

	kill(traced ? traced_pid(s->pid) : s->pid, SIGTERM);
	while (waitpid(s->pid, &status, WNOHANG) == 0) {
		if (now_ns() > deadline) {
			fail("server still running 10 s after SIGTERM");
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &status, 0);
			return;
		}
		sleep_ns(2000000);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("server did not exit cleanly after SIGTERM (status 0x%x)",
		     status);
}

struct proc_stats {
	double cpu_ns;		/* sum of the threads' schedstat run time */
	double ctxsw;		/* voluntary + nonvoluntary, all threads */
	long threads;
	long rss_kib;
};

static long status_field(const char *path, const char *key)
{
	char line[256];
	size_t kl = strlen(key);
	long v = -1;
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl)) {
			v = strtol(line + kl, NULL, 10);
			break;
		}
	if (f)
		fclose(f);
	return v;
}

static void proc_read(pid_t pid, struct proc_stats *ps)
{
	char path[320];
	struct dirent *d;
	DIR *dir;

	memset(ps, 0, sizeof(*ps));
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	while (dir && (d = readdir(dir))) {
		unsigned long long run = 0;
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", pid,
			 d->d_name);
		f = fopen(path, "r");
		if (f && fscanf(f, "%llu", &run) == 1)
			ps->cpu_ns += run;
		if (f)
			fclose(f);
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", pid,
			 d->d_name);
		ps->ctxsw += status_field(path, "voluntary_ctxt_switches:") +
			     status_field(path, "nonvoluntary_ctxt_switches:");
	}
	if (dir)
		closedir(dir);
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	ps->threads = status_field(path, "Threads:");
	ps->rss_kib = status_field(path, "VmRSS:");
}

/* Total system calls in an strace -c summary, -1 if none. */
static double strace_total(const char *file)
{
	char line[256];
	double calls = -1;
	FILE *f = fopen(file, "r");

	while (f && fgets(line, sizeof(line), f)) {
		double pct, secs, usecs, n;

		if (strstr(line, " total") &&
		    sscanf(line, "%lf %lf %lf %lf", &pct, &secs, &usecs, &n) == 4)
			calls = n;
	}
	if (f)
		fclose(f);
	return calls;
}

/* ------------------------------------------------------------------ */
/* The clients */

struct client {
	int id;
	int fd;
	char rbuf[8192];
	size_t rlen;
	/* measured phase */
	int sent;
	long received;
	int *next;		/* by sender: the next sequence number expected */
	uint64_t *lat;		/* ns, one per line received */
	pthread_t tid;
	char error[256];
};

static struct client *clients;
static uint64_t phase_deadline;
static bool phase_abort;	/* a client failed: the others stop */

static int dial(int port, int rcvbuf)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd >= 0 && rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

static int send_all(int fd, const char *p, size_t len, uint64_t deadline)
{
	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		struct pollfd pf = { fd, POLLOUT, 0 };

		if (w > 0) {
			p += w;
			len -= w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (now_ns() > deadline)
			return -1;
		poll(&pf, 1, 100);
	}
	return 0;
}

/*
 * The next line of @cl (newline replaced by 0) into @line: 1, 0 if none
 * is complete yet, -1 on EOF or error (the socket is read when needed).
 */
static int next_line(struct client *cl, char *line, bool read_more)
{
	char *nl = memchr(cl->rbuf, '\n', cl->rlen);
	ssize_t n;

	while (!nl) {
		if (!read_more || cl->rlen == sizeof(cl->rbuf))
			return cl->rlen == sizeof(cl->rbuf) ? -1 : 0;
		n = read(cl->fd, cl->rbuf + cl->rlen, sizeof(cl->rbuf) - cl->rlen);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return -1;
		if (n < 0)
			return 0;
		cl->rlen += n;
		nl = memchr(cl->rbuf, '\n', cl->rlen);
	}
	*nl = 0;
	strcpy(line, cl->rbuf);
	cl->rlen -= nl + 1 - cl->rbuf;
	memmove(cl->rbuf, nl + 1, cl->rlen);
	return 1;
}

/* Wait (until @deadline) for a complete line on @cl. */
static int wait_line(struct client *cl, char *line, uint64_t deadline)
{
	for (;;) {
		struct pollfd pf = { cl->fd, POLLIN, 0 };
		int r = next_line(cl, line, true);

		if (r)
			return r;
		if (now_ns() > deadline)
			return -2;
		poll(&pf, 1, 100);
	}
}

/* One received line of the measured phase: check it, time it. */
static int check_line(struct client *cl, const char *line, uint64_t t)
{
	unsigned long long sent_ns;
	int from, seq, pos;

	if (sscanf(line, "%d %d %llu %n", &from, &seq, &sent_ns, &pos) != 3 ||
	    from < 0 || from >= opt.clients) {
		snprintf(cl->error, sizeof(cl->error),
			 "client %d: unexpected line '%.60s'", cl->id, line);
		return -1;
	}
	if (from == cl->id) {
		snprintf(cl->error, sizeof(cl->error),
			 "client %d: got its own line %d back", cl->id, seq);
		return -1;
	}
	if (seq != cl->next[from]) {
		snprintf(cl->error, sizeof(cl->error),
			 "client %d: from client %d got line %d, expected %d (%s)",
			 cl->id, from, seq, cl->next[from],
			 seq < cl->next[from] ? "duplicate or reordered" :
			 "lost or reordered");
		return -1;
	}
	if ((int)strlen(line) + 1 != opt.size || strspn(line + pos, "x") !=
	    strlen(line + pos)) {
		snprintf(cl->error, sizeof(cl->error),
			 "client %d: line %d of client %d altered", cl->id, seq,
			 from);
		return -1;
	}
	cl->next[from]++;
	cl->lat[cl->received++] = t - sent_ns;
	return 0;
}

/* One client's measured phase; on an error, cl->error says what. */
static void client_run(struct client *cl)
{
	long expect = (long)opt.lines * (opt.clients - 1);
	uint64_t period = opt.rate ? 1000000000ULL / opt.rate : 0;
	uint64_t next_send = now_ns();
	char out[LINE_MAX_ + 1], line[sizeof(cl->rbuf) + 1];
	size_t olen = 0, ooff = 0;

	while (cl->sent < opt.lines || cl->received < expect || olen) {
		uint64_t now = now_ns(), wait = 100000000ULL;
		struct pollfd pf = { cl->fd, POLLIN, 0 };
		struct timespec ts;
		int r;

		if (__atomic_load_n(&phase_abort, __ATOMIC_RELAXED))
			return;		/* another client failed: it says why */
		if (now > phase_deadline) {
			snprintf(cl->error, sizeof(cl->error),
				 "client %d: time limit: sent %d/%d, received %ld/%ld",
				 cl->id, cl->sent, opt.lines, cl->received, expect);
			return;
		}
		if (!olen && cl->sent < opt.lines && now >= next_send) {
			int n = snprintf(out, sizeof(out), "%d %d %llu ", cl->id,
					 cl->sent, (unsigned long long)now);

			memset(out + n, 'x', opt.size - 1 - n);
			out[opt.size - 1] = '\n';
			olen = opt.size;
			ooff = 0;
			cl->sent++;
			next_send += period;
		}
		if (olen) {
			ssize_t w = send(cl->fd, out + ooff, olen, MSG_NOSIGNAL);

			if (w > 0) {
				ooff += w;
				olen -= w;
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				snprintf(cl->error, sizeof(cl->error),
					 "client %d: send: %s", cl->id,
					 strerror(errno));
				return;
			}
		}
		if (olen)
			pf.events |= POLLOUT;
		if (olen)
			wait = 1000000ULL;
		else if (cl->sent < opt.lines)
			wait = next_send > now ? next_send - now : 0;
		ts.tv_sec = wait / 1000000000ULL;
		ts.tv_nsec = wait % 1000000000ULL;
		if (wait && ppoll(&pf, 1, &ts, NULL) < 0 && errno != EINTR)
			return;
		for (;;) {
			r = next_line(cl, line, true);
			if (r < 0) {
				snprintf(cl->error, sizeof(cl->error),
					 "client %d: disconnected by the server "
					 "(received %ld/%ld)", cl->id,
					 cl->received, expect);
				return;
			}
			if (!r)
				break;
			if (cl->received >= expect) {
				snprintf(cl->error, sizeof(cl->error),
					 "client %d: more lines than sent: '%.40s'",
					 cl->id, line);
				return;
			}
			if (check_line(cl, line, now_ns()))
				return;
		}
	}
}

static void *client_main(void *arg)
{
	struct client *cl = arg;

	client_run(cl);
	if (cl->error[0])
		__atomic_store_n(&phase_abort, true, __ATOMIC_RELAXED);
	return NULL;
}

/*
 * Connect the clients one by one; client k (from 1) says "join k" and
 * every earlier client must hear it: then k is in the server's table (the
 * server read k's line, and accepts in order).
 */
static int join_all(int port, uint64_t deadline)
{
	char msg[32], line[sizeof(clients[0].rbuf) + 1];
	int k, j, n;

	for (k = 0; k < opt.clients; k++) {
		clients[k].id = k;
		clients[k].fd = dial(port, 0);
		if (clients[k].fd < 0) {
			fail("client %d: connect: %s", k, strerror(errno));
			return -1;
		}
		if (!k)
			continue;	/* no one to hear it, it could reach 1 */
		n = snprintf(msg, sizeof(msg), "join %d\n", k);
		if (send_all(clients[k].fd, msg, n, deadline)) {
			fail("client %d: cannot send its join line", k);
			return -1;
		}
		msg[n - 1] = 0;
		for (j = 0; j < k; j++) {
			int r = wait_line(&clients[j], line, deadline);

			if (r != 1 || strcmp(line, msg)) {
				fail("client %d: waiting for '%s': %s '%.40s'", j,
				     msg, r == -2 ? "time limit" : r < 0 ?
				     "disconnected" : "got", r == 1 ? line : "");
				return -1;
			}
		}
	}
	return 0;
}

/* After the phase: client 0's end line must be the next line of all. */
static void check_end(uint64_t deadline)
{
	char line[sizeof(clients[0].rbuf) + 1];
	int j;

	if (send_all(clients[0].fd, "end\n", 4, deadline)) {
		fail("client 0: cannot send the end line");
		return;
	}
	for (j = 1; j < opt.clients; j++) {
		int r = wait_line(&clients[j], line, deadline);

		if (r != 1 || strcmp(line, "end")) {
			fail("client %d: expected the end line, %s '%.40s'", j,
			     r == 1 ? "got" : "none came", r == 1 ? line : "");
			return;
		}
	}
}

/* ------------------------------------------------------------------ */
/* The policies (-P) */

/* Read @cl until EOF or reset; the lines it got, -1 at the deadline. */
static long wait_eof(struct client *cl, uint64_t deadline)
{
	long lines = 0;

	for (;;) {
		struct pollfd pf = { cl->fd, POLLIN, 0 };
		ssize_t n = read(cl->fd, cl->rbuf, sizeof(cl->rbuf));

		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return lines;
		if (n > 0) {
			char *p = cl->rbuf;

			while ((p = memchr(p, '\n', cl->rbuf + n - p))) {
				lines++;
				p++;
			}
			continue;
		}
		if (errno != EAGAIN && errno != EINTR)
			return lines;
		if (now_ns() > deadline)
			return -1;
		poll(&pf, 1, 100);
	}
}

/* @to's next line must be @line. */
static int expect(int to, const char *what, const char *line,
		  uint64_t deadline)
{
	char got[sizeof(clients[0].rbuf) + 1];
	int r = wait_line(&clients[to], got, deadline);

	if (r != 1 || strcmp(got, line)) {
		fail("%s: client %d: expected '%.30s', %s '%.30s'", what, to,
		     line, r == 1 ? "got" : "none came", r == 1 ? got : "");
		return -1;
	}
	return 0;
}

/* @from sends @line (no newline); @to's next line must be it. */
static int relay(int from, int to, const char *what, const char *line,
		 uint64_t deadline)
{
	size_t len = strlen(line);
	char *buf = malloc(len + 1);
	int r;

	if (!buf)
		return -1;
	memcpy(buf, line, len);
	buf[len] = '\n';
	r = send_all(clients[from].fd, buf, len + 1, deadline);
	free(buf);
	if (r) {
		fail("%s: client %d cannot send", what, from);
		return -1;
	}
	return to < 0 ? 0 : expect(to, what, line, deadline);
}

/* Flood line @j: 999 bytes (the newline makes 1000), numbered. */
static void flood_line(char *buf, int j)
{
	memset(buf, 'w', 999);
	buf[999] = 0;
	snprintf(buf, 9, "%07d", j % 10000000);
	buf[7] = ' ';
}

/*
 * Clients 0..3: 0 sends an over-long line (must be disconnected, the
 * others not); 1 sends a line of exactly 1024 bytes (delivered); 3 sends
 * half a line and leaves (nothing of it delivered); 3 comes back, never
 * reads and gets flooded by 1 (must be disconnected once its queue
 * overflows, while 2 gets every line).  Client 2 checks what arrives.
 */
static void policies(int port, uint64_t deadline)
{
	char big[LINE_MAX_ + 8];
	int rcv = 4096, i, flood;
	long got;

	memset(big, 'y', sizeof(big));
	if (send_all(clients[0].fd, big, sizeof(big), deadline)) {
		fail("over-long line: client 0 cannot send");
		return;
	}
	if (wait_eof(&clients[0], deadline) < 0) {
		fail("over-long line: client 0 was not disconnected");
		return;
	}
	memset(big, 'z', LINE_MAX_ - 1);
	big[LINE_MAX_ - 1] = 0;
	if (relay(1, 2, "1024-byte line", big, deadline) ||
	    expect(3, "1024-byte line", big, deadline))
		return;

	if (send_all(clients[3].fd, "half a li", 9, deadline)) {
		fail("partial line: client 3 cannot send");
		return;
	}
	close(clients[3].fd);
	clients[3].fd = -1;
	if (relay(1, 2, "after a partial line", "after the partial line",
		  deadline))
		return;

	/* A slow client: a small receive buffer, never read. */
	clients[3].fd = dial(port, rcv);
	if (clients[3].fd < 0 || send_all(clients[3].fd, "slow joins\n", 11,
					  deadline)) {
		fail("slow client: cannot connect");
		return;
	}
	if (expect(1, "slow client", "slow joins", deadline) ||
	    expect(2, "slow client", "slow joins", deadline))
		return;
	/*
	 * Enough to fill what the kernel may buffer for client 3 (the
	 * server's send buffer, --sndbuf 16384, which the kernel doubles;
	 * client 3's receive buffer) and then its queue; sent in batches of
	 * 50 lines, each batch read by client 2.
	 */
	flood = (4 * POLICY_SNDBUF + 4 * rcv + 2 * CHAT_OUTQ_BYTES) / 1000 + 100;
	for (i = 0; i < flood; i += 50) {
		int j;

		for (j = i; j < i + 50 && j < flood; j++) {
			flood_line(big, j);
			if (relay(1, -1, "slow client: flood", big, deadline))
				return;
		}
		for (j = i; j < i + 50 && j < flood; j++) {
			flood_line(big, j);
			if (expect(2, "slow client: flood", big, deadline))
				return;
		}
	}
	got = wait_eof(&clients[3], deadline);
	if (got < 0 || got >= flood + 1) {
		fail("slow client: not disconnected (it got %ld of %d lines)",
		     got, flood + 1);
		return;
	}
	if (relay(2, 1, "after the slow client", "still here", deadline))
		return;
}

/* ------------------------------------------------------------------ */
/* One run, the table */

struct result {
	char model[24];
	char family[24];
	double secs, p50_us, p99_us;
	double cpu_ms, ctxsw, syscalls, insn;
	long deliveries, threads, rss_kib;
	bool ok;
	bool policies;		/* -P passed too */
	char error[512];
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void free_clients(void)
{
	int i;

	for (i = 0; clients && i < opt.clients; i++) {
		if (clients[i].fd >= 0)
			close(clients[i].fd);
		free(clients[i].next);
		free(clients[i].lat);
	}
	free(clients);
	clients = NULL;
}

/*
 * Run the load once against @model (or the server on opt.port): checks,
 * and the numbers unless @trace (then only the strace count).
 */
static void run_load(const char *model, const char *trace, struct result *res)
{
	long expect = (long)opt.lines * (opt.clients - 1), nlat = 0, stops = 0;
	uint64_t deadline = now_ns() + (uint64_t)opt.limit_s * 1000000000ULL;
	struct server srv = { .pid = 0, .port = opt.port };
	struct proc_stats before, after;
	uint64_t *lat, t0, t1;
	double dummy;
	int i;

	run_error[0] = 0;
	if (model && server_start(&srv, model, trace))
		goto out;
	clients = calloc(opt.clients, sizeof(*clients));
	for (i = 0; clients && i < opt.clients; i++) {
		clients[i].fd = -1;
		clients[i].next = calloc(opt.clients, sizeof(int));
		clients[i].lat = calloc(expect ? expect : 1, sizeof(uint64_t));
		if (!clients[i].next || !clients[i].lat)
			break;
	}
	if (!clients || i < opt.clients) {
		fail("out of memory");
		goto stop;
	}
	if (join_all(srv.port, deadline))
		goto stop;
	if (policy_run) {
		policies(srv.port, deadline);
		goto stop;
	}

	if (srv.pid && !trace)
		proc_read(srv.pid, &before);
	if (opt.insn_log && !trace)
		stops = insn_stops(&dummy);
	phase_deadline = deadline;
	phase_abort = false;
	MARK(0x01);
	t0 = now_ns();
	for (i = 0; i < opt.clients; i++)
		if (pthread_create(&clients[i].tid, NULL, client_main, &clients[i])) {
			fail("cannot start client threads");
			phase_deadline = 0;
			while (i--)
				pthread_join(clients[i].tid, NULL);
			goto stop;
		}
	for (i = 0; i < opt.clients; i++)
		pthread_join(clients[i].tid, NULL);
	t1 = now_ns();
	MARK(0x02);
	if (!trace) {
		res->secs = (t1 - t0) / 1e9;
		res->deliveries = (long)opt.clients * expect;
		if (opt.insn_log)
			res->insn = insn_count(stops);
		if (srv.pid) {
			proc_read(srv.pid, &after);
			res->cpu_ms = (after.cpu_ns - before.cpu_ns) / 1e6;
			res->ctxsw = after.ctxsw - before.ctxsw;
			res->threads = after.threads;
			res->rss_kib = after.rss_kib;
		}
	}
	for (i = 0; i < opt.clients; i++)
		if (clients[i].error[0]) {
			fail("%s", clients[i].error);
			goto stop;
		}
	check_end(deadline);
	if (trace)
		goto stop;
	lat = malloc((opt.clients * expect + 1) * sizeof(*lat));
	for (i = 0; lat && i < opt.clients; i++) {
		memcpy(lat + nlat, clients[i].lat,
		       clients[i].received * sizeof(*lat));
		nlat += clients[i].received;
	}
	if (lat && nlat) {
		qsort(lat, nlat, sizeof(*lat), cmp_u64);
		res->p50_us = lat[nlat / 2] / 1e3;
		res->p99_us = lat[(nlat * 99) / 100] / 1e3;
	}
	free(lat);
stop:
	free_clients();
	if (srv.pid)
		server_stop(&srv, trace != NULL);
	if (trace && !run_error[0]) {
		res->syscalls = strace_total(trace);
		if (res->syscalls < 0)
			fail("no strace summary in %s", trace);
	}
out:
	if (run_error[0]) {
		res->ok = false;
		snprintf(res->error, sizeof(res->error), "%s%s", trace ?
			 "under strace: " : "", run_error);
	}
}

static void per_line(char *buf, size_t len, double v, long lines,
		     const char *fmt)
{
	if (v < 0 || !lines)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, fmt, v / lines);
}

static void print_header(void)
{
	printf("%-12s %-13s %5s %8s %8s %8s %7s %7s %7s %5s %7s %9s  %s\n",
	       "model", "family", "lines", "p50 us", "p99 us", "cpu ms",
	       "cpu/ln", "csw/ln", "sys/ln", "thr", "rss KiB", "insn/ln",
	       "check");
}

static void print_result(const struct result *r, FILE *csv)
{
	char cpl[16], csw[16], sys[16], ins[16];

	per_line(cpl, sizeof(cpl), r->cpu_ms * 1000, r->deliveries, "%.1f");
	per_line(csw, sizeof(csw), r->ctxsw, r->deliveries, "%.2f");
	per_line(sys, sizeof(sys), r->syscalls, r->deliveries, "%.2f");
	per_line(ins, sizeof(ins), r->insn, r->deliveries, "%.0f");
	printf("%-12s %-13s %5ld %8.0f %8.0f %8.1f %7s %7s %7s %5ld %7ld %9s  %s\n",
	       r->model, r->family, r->deliveries, r->p50_us, r->p99_us,
	       r->cpu_ms, cpl, csw, sys, r->threads, r->rss_kib, ins,
	       !r->ok ? "FAILED" : r->policies ? "exact+pol" : "exact");
	if (!r->ok)
		printf("  %s: %s\n", r->model, r->error);
	fflush(stdout);
	if (csv)
		fprintf(csv, "%s,%s,%d,%d,%d,%d,%ld,%.3f,%.1f,%.1f,%.1f,"
			"%s,%s,%s,%ld,%ld,%s,%s\n",
			r->model, r->family, opt.clients, opt.lines, opt.rate,
			opt.size, r->deliveries, r->secs, r->p50_us, r->p99_us,
			r->cpu_ms, cpl, csw, sys, r->threads, r->rss_kib, ins,
			r->ok ? "exact" : "failed");
}

/* The models and their families, from `evpoll-chat --list`. */
static int list_models(char names[][24], char families[][24], int max)
{
	char cmd[PATH_MAX + 16], line[128];
	int n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "'%s' --list", server_path());
	p = popen(cmd, "r");
	while (p && n < max && fgets(line, sizeof(line), p))
		if (!strstr(line, "not yet") &&
		    sscanf(line, "%23s %23s", names[n], families[n]) == 2)
			n++;
	if (p)
		pclose(p);
	return n;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: evpoll-chat-load [-m MODEL,...|all] [-p PORT] [-c CLIENTS]\n"
		"         [-n LINES] [-r RATE] [-s SIZE] [-T SECONDS] [-i INSN_LOG]\n"
		"         [-S] [-P] [-o CSV] [-x SERVER] [-q]\n");
}

int main(int argc, char **argv)
{
	char names[32][24], families[32][24];
	char *list = NULL, *tok, *save = NULL;
	int nr_models, o, i, failed = 0;
	FILE *csv = NULL;

	while ((o = getopt(argc, argv, "m:p:c:n:r:s:T:i:SPo:x:qh")) != -1) {
		switch (o) {
		case 'm': opt.models = optarg; break;
		case 'p': opt.port = atoi(optarg); break;
		case 'c': opt.clients = atoi(optarg); break;
		case 'n': opt.lines = atoi(optarg); break;
		case 'r': opt.rate = atoi(optarg); break;
		case 's': opt.size = atoi(optarg); break;
		case 'T': opt.limit_s = atoi(optarg); break;
		case 'i': opt.insn_log = optarg; break;
		case 'S': opt.strace = true; break;
		case 'P': opt.policies = true; break;
		case 'o': opt.csv = optarg; break;
		case 'x': opt.server = optarg; break;
		case 'q': opt.quiet = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || opt.clients < 2 || opt.clients > MAX_CLIENTS ||
	    opt.lines < 1 || opt.rate < 0 || opt.size < 40 ||
	    opt.size > LINE_MAX_ || opt.limit_s < 1) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	nr_models = list_models(names, families, 32);
	if (opt.csv) {
		bool fresh = access(opt.csv, F_OK) != 0;

		csv = fopen(opt.csv, "a");
		if (!csv) {
			perror(opt.csv);
			return 1;
		}
		if (fresh)
			fprintf(csv, "model,family,clients,lines,rate,size,deliveries,"
				"seconds,p50_us,p99_us,cpu_ms,cpu_us_per_line,"
				"ctxsw_per_line,syscalls_per_line,threads,rss_kib,"
				"insn_per_line,check\n");
	}
	printf("evpoll-chat-load: %d clients x %d lines of %d bytes at %d/s "
	       "each%s\n", opt.clients, opt.lines, opt.size, opt.rate,
	       opt.insn_log ? ", guest instructions counted" : "");
	print_header();
	if (opt.port) {
		struct result r = { .model = "(port)", .ok = true };

		r.syscalls = r.insn = r.cpu_ms = r.ctxsw = -1;

		run_load(NULL, NULL, &r);
		print_result(&r, csv);
		return r.ok ? 0 : 1;
	}
	if (!opt.models || !strcmp(opt.models, "all")) {
		/* every model; evpoll only where /dev/evpoll is */
		size_t len = 1;

		for (i = 0; i < nr_models; i++)
			len += strlen(names[i]) + 1;
		list = calloc(1, len);
		for (i = 0; list && i < nr_models; i++) {
			if (!strcmp(names[i], "evpoll") && access("/dev/evpoll", F_OK))
				continue;
			strcat(strcat(list, names[i]), ",");
		}
	} else {
		list = strdup(opt.models);
	}
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct result r = { .ok = true };
		char trace[] = "/tmp/evpoll-chat-strace.XXXXXX";

		snprintf(r.model, sizeof(r.model), "%.23s", tok);
		snprintf(r.family, sizeof(r.family), "?");
		for (i = 0; i < nr_models; i++)
			if (!strcmp(names[i], tok))
				snprintf(r.family, sizeof(r.family), "%.23s",
					 families[i]);
		r.syscalls = r.insn = -1;
		run_load(tok, NULL, &r);
		if (r.ok && opt.strace) {
			int fd = mkstemp(trace);

			if (fd >= 0) {
				close(fd);
				run_load(tok, trace, &r);
				unlink(trace);
			}
		}
		if (r.ok && opt.policies) {
			int saved = opt.clients;

			opt.clients = 4;
			policy_run = true;
			run_load(tok, NULL, &r);
			policy_run = false;
			opt.clients = saved;
			if (r.ok)
				r.policies = true;
			else
				memmove(r.error + 10, r.error, sizeof(r.error) - 10),
				memcpy(r.error, "policies: ", 10);
		}
		print_result(&r, csv);
		failed += !r.ok;
	}
	free(list);
	if (csv)
		fclose(csv);
	if (!opt.quiet)
		printf("evpoll-chat-load: %s\n", failed ? "FAILED" : "every line "
		       "reached every other client exactly once, in order");
	return failed ? 1 : 0;
}
