// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * backend-sigio.c - the signal-driven I/O backend (O_ASYNC + F_SETSIG).
 *
 * notes about signal-driven I/O:
 *
 * With O_ASYNC set on a file, its driver sends a signal to the owner
 * (F_SETOWN_EX) whenever the file's state changes: new data, buffer space
 * freed, hang-up.  F_SETSIG picks a real-time signal instead of SIGIO,
 * which is queued (one per wakeup) and carries the fd in si_fd.  Each
 * poller takes its own real-time signal, from SIGRTMAX downwards (so it
 * is unlikely to collide with an application's SIGRTMIN+n), directs it at
 * the thread that created the poller (F_OWNER_TID) and blocks it there,
 * together with SIGIO; the wait collects them with sigtimedwait().
 *
 * A signal only says "something happened on this fd", not what is ready
 * now, and it is sent on changes, not on levels.  So:
 *
 *  - every signalled fd becomes "hot", and hot fds are checked with a
 *    zero-timeout poll() before anything is reported;
 *  - a newly added or modified fd is hot (it may be ready already);
 *  - level-triggered (default): a reported fd stays hot until poll() finds
 *    it not ready (reported fds go to the end of the hot list, so a
 *    caller taking few events at a time starves nobody);
 *  - EPOLLET: a reported fd leaves the hot list and comes back with the
 *    next signal: edge semantics, natively;
 *  - EPOLLONESHOT: emulated by lib/poller.c (the fd leaves the hot list
 *    and its signals are ignored until MOD).
 *
 * Queue overflow: real-time signals are queued up to RLIMIT_SIGPENDING;
 * when the queue is full the kernel sends plain SIGIO instead, and which
 * fds changed is lost.  On SIGIO every registered fd becomes hot (a full
 * poll() over the interest set, O(n) once); the overflow is also counted
 * process-wide, so other sigio pollers, which may have lost signals too,
 * rescan at their next wait.
 *
 * Limits, all documented in Documentation/backends.rst:
 *  - files without a ->fasync operation never signal.  That is true of
 *    every anonymous-inode file (eventfd, timerfd, signalfd, epoll, ...):
 *    fds whose inode has no file type are refused with -EOPNOTSUPP (no
 *    EVPOLL_CAP_ANON_FILES).  Sockets, pipes, FIFOs and ttys work;
 *  - O_ASYNC, F_SETOWN_EX and F_SETSIG are properties of the open file
 *    description, shared with dup()s and other processes; DEL and
 *    evpoll_poller_free() clear O_ASYNC if the poller set it;
 *  - the signals go to the creating thread: wait (and free) must be
 *    called there (no EVPOLL_CAP_ANY_THREAD);
 *  - the thread's signal mask changes: the poller's signal and SIGIO stay
 *    blocked while a sigio poller exists in the thread;
 *  - at most SIGRTMAX - SIGRTMIN + 1 (31 with glibc) pollers at once per
 *    process; the next one fails with -EAGAIN.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backend.h"

/* evpoll__fd.bidx bits */
#define SIGIO_HOT	(1 << 0)	/* in the hot list */
#define SIGIO_ASYNC	(1 << 1)	/* O_ASYNC was set by us */

/* Real-time signals in use by sigio pollers: bit (sig - SIGRTMIN). */
static uint64_t sigio_signals;
/* Number of SIGIO (queue overflow) collected by any sigio poller. */
static unsigned long sigio_overflows;
/* sigio pollers alive in this thread, and whether SIGIO was unblocked. */
static __thread int sigio_thread_users;
static __thread int sigio_thread_unblock;

struct sigio_poller {
	int sig;		/* our real-time signal */
	int unblock_sig;	/* unblock @sig when freed */
	pid_t tid;		/* owner thread */
	unsigned long overflows; /* sigio_overflows at the last rescan */
	sigset_t set;		/* @sig and SIGIO */
	int *hot;		/* fds to check with poll() */
	int nhot;
	int hotcap;
	struct pollfd *pfds;	/* poll() buffer, hotcap entries */
};

static int sigio_probe(void)
{
	return SIGRTMAX - SIGRTMIN < 64 ? 0 : -EOPNOTSUPP;
}

static int sigio_alloc_signal(void)
{
	int sig;

	for (sig = SIGRTMAX; sig >= SIGRTMIN; sig--) {
		uint64_t bit = 1ULL << (sig - SIGRTMIN);

		if (!(__atomic_fetch_or(&sigio_signals, bit, __ATOMIC_ACQ_REL) &
		      bit))
			return sig;
	}
	return -EAGAIN;
}

static void sigio_free_signal(int sig)
{
	__atomic_fetch_and(&sigio_signals, ~(1ULL << (sig - SIGRTMIN)),
			   __ATOMIC_ACQ_REL);
}

/* Throw away queued instances of the signals in @set. */
static void sigio_flush(const sigset_t *set)
{
	struct timespec zero = { 0, 0 };

	while (sigtimedwait(set, NULL, &zero) > 0)
		;
}

static int sigio_init(struct evpoll_poller *p)
{
	struct sigio_poller *s;
	sigset_t old;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	ret = sigio_alloc_signal();
	if (ret < 0) {
		free(s);
		return ret;
	}
	s->sig = ret;
	s->tid = gettid();
	s->overflows = __atomic_load_n(&sigio_overflows, __ATOMIC_ACQUIRE);
	sigemptyset(&s->set);
	sigaddset(&s->set, s->sig);
	sigaddset(&s->set, SIGIO);

	pthread_sigmask(SIG_BLOCK, &s->set, &old);
	s->unblock_sig = !sigismember(&old, s->sig);
	if (sigio_thread_users++ == 0)
		sigio_thread_unblock = !sigismember(&old, SIGIO);
	/* Leftovers of an earlier poller that had the same signal. */
	sigemptyset(&old);
	sigaddset(&old, s->sig);
	sigio_flush(&old);
	p->priv = s;
	return 0;
}

static void sigio_unhot(struct sigio_poller *s, int fd, struct evpoll__fd *f)
{
	int i;

	if (!(f->bidx & SIGIO_HOT))
		return;
	f->bidx &= ~SIGIO_HOT;
	for (i = 0; i < s->nhot; i++) {
		if (s->hot[i] == fd) {
			memmove(s->hot + i, s->hot + i + 1,
				(size_t)(s->nhot - i - 1) * sizeof(int));
			s->nhot--;
			return;
		}
	}
}

static int sigio_hot(struct sigio_poller *s, int fd, struct evpoll__fd *f)
{
	if ((f->bidx & SIGIO_HOT) || (f->state & EVPOLL__FD_DISARMED))
		return 0;
	if (s->nhot == s->hotcap) {
		int cap = s->hotcap ? s->hotcap * 2 : 64;
		int *hot = realloc(s->hot, (size_t)cap * sizeof(*hot));
		struct pollfd *pfds;

		if (!hot)
			return -ENOMEM;
		s->hot = hot;
		pfds = realloc(s->pfds, (size_t)cap * sizeof(*pfds));
		if (!pfds)
			return -ENOMEM;
		s->pfds = pfds;
		s->hotcap = cap;
	}
	s->hot[s->nhot++] = fd;
	f->bidx |= SIGIO_HOT;
	return 0;
}

static void sigio_all_hot(struct evpoll_poller *p)
{
	struct sigio_poller *s = p->priv;
	int fd;

	for (fd = 0; fd < p->nfds; fd++)
		if (evpoll__fd_lookup(p, fd))
			sigio_hot(s, fd, &p->fds[fd]);
}

static int sigio_ctl(struct evpoll_poller *p, int op, int fd,
		     struct evpoll__fd *f)
{
	struct sigio_poller *s = p->priv;
	struct f_owner_ex own = { .type = F_OWNER_TID, .pid = s->tid };
	struct stat st;
	int fl;

	switch (op) {
	case EPOLL_CTL_ADD:
		if (fstat(fd, &st) < 0)
			return -errno;
		if ((st.st_mode & S_IFMT) == 0)
			return -EOPNOTSUPP;	/* anonymous inode */
		f->dev = st.st_dev;	/* for DEL, below */
		f->ino = st.st_ino;
		f->bidx = 0;
		if (fcntl(fd, F_SETOWN_EX, &own) < 0 ||
		    fcntl(fd, F_SETSIG, s->sig) < 0)
			return -errno;
		fl = fcntl(fd, F_GETFL);
		if (fl < 0)
			return -errno;
		if (!(fl & O_ASYNC)) {
			if (fcntl(fd, F_SETFL, fl | O_ASYNC) < 0)
				return -errno;
			f->bidx |= SIGIO_ASYNC;
		}
		return sigio_hot(s, fd, f);
	case EPOLL_CTL_MOD:
		if (f->state & EVPOLL__FD_DISARMED) {
			sigio_unhot(s, fd, f);
			return 0;
		}
		return sigio_hot(s, fd, f);
	case EPOLL_CTL_DEL:
		sigio_unhot(s, fd, f);
		/* Not on another file that took the number of a closed fd. */
		if ((f->bidx & SIGIO_ASYNC) && fstat(fd, &st) == 0 &&
		    st.st_dev == f->dev && st.st_ino == f->ino) {
			fl = fcntl(fd, F_GETFL);
			if (fl >= 0)
				fcntl(fd, F_SETFL, fl & ~O_ASYNC);
			fcntl(fd, F_SETSIG, 0);
		}
		return 0;
	}
	return -EINVAL;
}

static void sigio_destroy(struct evpoll_poller *p)
{
	struct sigio_poller *s = p->priv;
	sigset_t set;
	int fd;

	for (fd = 0; fd < p->nfds; fd++)
		if (evpoll__fd_lookup(p, fd))
			sigio_ctl(p, EPOLL_CTL_DEL, fd, &p->fds[fd]);

	/* Unblocking a queued real-time signal or SIGIO would kill us. */
	sigemptyset(&set);
	sigaddset(&set, s->sig);
	sigio_flush(&set);
	if (s->unblock_sig)
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (--sigio_thread_users == 0 && sigio_thread_unblock) {
		sigemptyset(&set);
		sigaddset(&set, SIGIO);
		sigio_flush(&set);
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	}
	sigio_free_signal(s->sig);
	free(s->hot);
	free(s->pfds);
	free(s);
}

static void sigio_note(struct evpoll_poller *p, const siginfo_t *si)
{
	struct sigio_poller *s = p->priv;
	struct evpoll__fd *f;

	if (si->si_signo == SIGIO) {
		s->overflows = __atomic_add_fetch(&sigio_overflows, 1,
						  __ATOMIC_ACQ_REL);
		sigio_all_hot(p);
		return;
	}
	f = evpoll__fd_lookup(p, si->si_fd);
	if (f)
		sigio_hot(s, si->si_fd, f);
}

/* Collect the signals already queued, without waiting. */
static void sigio_drain(struct evpoll_poller *p)
{
	struct sigio_poller *s = p->priv;
	struct timespec zero = { 0, 0 };
	siginfo_t si;

	while (sigtimedwait(&s->set, &si, &zero) > 0)
		sigio_note(p, &si);
}

/* poll() the hot fds, report the ready ones, keep the hot list right. */
static int sigio_check(struct evpoll_poller *p,
		       struct evpoll_poller_event *evs, int max)
{
	struct sigio_poller *s = p->priv;
	int i, k = s->nhot, n = 0;

	if (k <= 0)
		return 0;
	for (i = 0; i < k; i++) {
		struct evpoll__fd *f = &p->fds[s->hot[i]];

		s->pfds[i].fd = s->hot[i];
		s->pfds[i].events = (short)evpoll__fd_want(f);
		s->pfds[i].revents = 0;
	}
	if (poll(s->pfds, (nfds_t)k, 0) < 0)
		return -errno;

	/*
	 * Rebuild the hot list: first the ready fds not reported (no room),
	 * then the reported level-triggered ones.  events is reused as a
	 * mark: 1 stays in front, 2 goes to the back, 0 leaves.
	 */
	for (i = 0; i < k; i++) {
		int fd = s->pfds[i].fd;
		struct evpoll__fd *f = &p->fds[fd];
		uint32_t ev;

		f->bidx &= ~SIGIO_HOT;
		s->pfds[i].events = 0;
		if (s->pfds[i].revents & POLLNVAL)
			continue;
		ev = evpoll__fd_report(f, (uint16_t)s->pfds[i].revents);
		if (!ev)
			continue;
		if (n == max) {
			s->pfds[i].events = 1;
			continue;
		}
		evpoll__event_set(&evs[n++], fd, f, ev);
		if (!(f->events & EPOLLET))
			s->pfds[i].events = 2;
	}
	s->nhot = 0;
	for (i = 0; i < k; i++)
		if (s->pfds[i].events == 1)
			sigio_hot(s, s->pfds[i].fd, &p->fds[s->pfds[i].fd]);
	for (i = 0; i < k; i++)
		if (s->pfds[i].events == 2)
			sigio_hot(s, s->pfds[i].fd, &p->fds[s->pfds[i].fd]);
	for (i = 0; i < k; i++)
		if (s->pfds[i].revents & POLLNVAL)
			evpoll__fd_forget(p, s->pfds[i].fd);
	return n;
}

static int sigio_wait(struct evpoll_poller *p, struct evpoll_poller_event *evs,
		      int max, int timeout_ms)
{
	struct sigio_poller *s = p->priv;
	struct timespec ts, *tsp = NULL;
	siginfo_t si;
	int n;

	if (s->overflows != __atomic_load_n(&sigio_overflows, __ATOMIC_ACQUIRE)) {
		s->overflows = __atomic_load_n(&sigio_overflows,
					       __ATOMIC_ACQUIRE);
		sigio_all_hot(p);
	}
	sigio_drain(p);
	n = sigio_check(p, evs, max);
	if (n != 0 || timeout_ms == 0)
		return n;

	if (timeout_ms > 0) {
		evpoll__ms_to_timespec(timeout_ms, &ts);
		tsp = &ts;
	}
	if (sigtimedwait(&s->set, &si, tsp) < 0)
		return errno == EAGAIN ? 0 : -errno;
	sigio_note(p, &si);
	sigio_drain(p);
	return sigio_check(p, evs, max);
}

/*
 * evpoll_poller_wakeup(): our signal, queued to the owner thread with
 * si_fd -1 (no registration's), ends its sigtimedwait().  poller.c sends
 * at most one per pending wake-up.
 */
static int sigio_wakeup(struct evpoll_poller *p)
{
	struct sigio_poller *s = p->priv;
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = s->sig;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_fd = -1;
	if (syscall(SYS_rt_tgsigqueueinfo, getpid(), s->tid, s->sig, &si) < 0)
		return -errno;
	return 0;
}

/*
 * After fork(), in the child: the files signal the thread that calls this.
 * Their open file descriptions are shared with the parent, whose poller
 * no longer hears them (no EVPOLL_CAP_FORK).
 */
static int sigio_reinit(struct evpoll_poller *p)
{
	struct sigio_poller *s = p->priv;
	struct f_owner_ex own = { .type = F_OWNER_TID, .pid = gettid() };
	int fd;

	s->tid = own.pid;
	for (fd = 0; fd < p->nfds; fd++) {
		if (!evpoll__fd_lookup(p, fd))
			continue;
		if (fcntl(fd, F_SETOWN_EX, &own) < 0)
			return -errno;
		sigio_hot(s, fd, &p->fds[fd]);
	}
	return 0;
}

const struct evpoll_backend_ops evpoll__backend_sigio = {
	.name		= "sigio",
	.id		= EVPOLL_BACKEND_SIGIO,
	.caps		= EVPOLL_CAP_ET | EVPOLL_CAP_ONESHOT |
			  EVPOLL_CAP_RDHUP | EVPOLL_CAP_HUP |
			  EVPOLL_CAP_ANY_FDNUM,
	.probe		= sigio_probe,
	.init		= sigio_init,
	.ctl		= sigio_ctl,
	.wait		= sigio_wait,
	.destroy	= sigio_destroy,
	.reinit		= sigio_reinit,
	.wakeup		= sigio_wakeup,
};
