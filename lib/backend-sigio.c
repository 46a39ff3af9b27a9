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
 * poller takes its own real-time signal, directs it at the thread that
 * created the poller (F_OWNER_TID) and blocks it there, together with
 * SIGIO; the wait collects them with sigtimedwait().
 *
 * What belongs to the program is left alone:
 *
 *  - the signal: the first real-time signal from SIGRTMAX downwards that
 *    no other sigio poller uses, whose disposition is SIG_DFL (no handler,
 *    not ignored) and that the creating thread does not block: a signal
 *    the program handles, ignores or blocks is its own;
 *  - the file: ADD saves the file's owner (F_GETOWN_EX, which also steers
 *    SIGURG), signal (F_GETSIG) and O_ASYNC, and every DEL (and free, and
 *    the forgetting of a closed fd) restores them.  They belong to the
 *    open file description, which may outlive the fd (a dup, a child): so
 *    ADD keeps a dup of the fd (close-on-exec, above 2) through which DEL
 *    reaches the description after the user closed the fd.  Like io_uring
 *    and aio requests, that dup keeps the file open until DEL or free;
 *    and closing it, like any close() of the file in the process, drops
 *    the process's POSIX record locks (F_SETLK) on it.
 *    Once every description is restored, no file raises the poller's
 *    signal, and free may unblock it;
 *  - SIGIO: it stays blocked in the creating thread while a sigio poller
 *    lives there (an overflow SIGIO would otherwise kill a program that
 *    does not handle it).  The kernel's overflow SIGIO has si_code
 *    SI_KERNEL; it makes the poller rescan.  A SIGIO the poller collects
 *    that is not an overflow (kill(), sigqueue()), or any SIGIO when the
 *    program has a SIGIO handler (its own O_ASYNC files send SI_KERNEL
 *    too), is sent again to the thread (tgkill) with SIGIO unblocked for
 *    that moment, so the program's disposition applies to it: its handler
 *    runs and the wait returns -EINTR, as epoll_wait() would.  The same
 *    is done for the SIGIO still pending when the last poller of the
 *    thread is freed (nothing is flushed but the poller's own signal).
 *
 * What cannot work is refused: a file without a ->fasync operation never
 * signals; O_ASYNC is set with ioctl(FIOASYNC), which fails with ENOTTY
 * for such a file (fcntl(F_SETFL) would set the flag silently), and ADD
 * returns -EOPNOTSUPP.  A wait from another thread than the creator, where
 * the signals never arrive, fails with -EPERM.
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
 *  - files without a ->fasync operation are refused (above): eventfd,
 *    timerfd, signalfd, epoll, /dev/null...  (no EVPOLL_CAP_ANON_FILES;
 *    inotify has ->fasync and works).  Sockets, pipes, FIFOs and ttys
 *    work;
 *  - while registered, the file's signals go to the poller: a program's
 *    own O_ASYNC handling of that file is suspended until DEL;
 *  - the signals go to the creating thread: wait (and free) must be
 *    called there (no EVPOLL_CAP_ANY_THREAD; wait elsewhere: -EPERM);
 *  - real-time signals queue in the per-user RLIMIT_SIGPENDING, shared by
 *    all the user's processes, until a wait collects them: a poller not
 *    waited on while its files are busy holds up to that many;
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
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backend.h"

/* evpoll__fd.bidx bits; bu64 is the fd's struct sigio_file * */
#define SIGIO_HOT	(1 << 0)	/* in the hot list */

/* What ADD changed on a file, to be restored by DEL. */
struct sigio_file {
	int dup;		/* reaches the description after close() */
	int sig;		/* F_GETSIG before ADD */
	int async;		/* O_ASYNC was set before ADD */
	struct f_owner_ex own;	/* F_GETOWN_EX before ADD */
};

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
	pthread_t thread;	/* the same, for pthread_equal() */
	int intr;		/* a SIGIO went to the program's handler */
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

/* Is @sig the program's: handled, ignored, or blocked in this thread? */
static int sigio_signal_taken(int sig, const sigset_t *blocked)
{
	struct sigaction sa;

	if (sigismember(blocked, sig) || sigaction(sig, NULL, &sa) < 0)
		return 1;
	return (sa.sa_flags & SA_SIGINFO) || sa.sa_handler != SIG_DFL;
}

/* A free real-time signal (see the notes), reserved, or -EAGAIN. */
static int sigio_alloc_signal(void)
{
	sigset_t blocked;
	int sig;

	pthread_sigmask(SIG_BLOCK, NULL, &blocked);
	for (sig = SIGRTMAX; sig >= SIGRTMIN; sig--) {
		uint64_t bit = 1ULL << (sig - SIGRTMIN);

		if (sigio_signal_taken(sig, &blocked))
			continue;
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
	s->thread = pthread_self();
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

static struct sigio_file *sigio_file(const struct evpoll__fd *f)
{
	return (struct sigio_file *)(uintptr_t)f->bu64;
}

/* Put back what sigio_add() changed on @sf's description; free @sf. */
static void sigio_restore(struct sigio_file *sf)
{
	int off = 0;

	if (!sf->async)
		ioctl(sf->dup, FIOASYNC, &off);
	fcntl(sf->dup, F_SETSIG, sf->sig);
	fcntl(sf->dup, F_SETOWN_EX, &sf->own);
	close(sf->dup);
	free(sf);
}

static int sigio_add(struct sigio_poller *s, int fd, struct evpoll__fd *f)
{
	struct f_owner_ex own = { .type = F_OWNER_TID, .pid = s->tid };
	struct sigio_file *sf;
	int fl, on = 1, ret;

	sf = calloc(1, sizeof(*sf));
	if (!sf)
		return -ENOMEM;
	fl = fcntl(fd, F_GETFL);
	sf->sig = fcntl(fd, F_GETSIG);
	if (fl < 0 || sf->sig < 0 || fcntl(fd, F_GETOWN_EX, &sf->own) < 0) {
		ret = -errno;
		goto out_free;
	}
	sf->async = !!(fl & O_ASYNC);
	sf->dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (sf->dup < 0) {
		ret = -errno;
		goto out_free;
	}
	if (fcntl(fd, F_SETOWN_EX, &own) < 0 ||
	    fcntl(fd, F_SETSIG, s->sig) < 0) {
		ret = -errno;
		goto out_restore;
	}
	/* FIOASYNC, not F_SETFL: ENOTTY for a file without ->fasync. */
	if (!sf->async && ioctl(fd, FIOASYNC, &on) < 0) {
		ret = errno == ENOTTY ? -EOPNOTSUPP : -errno;
		sf->async = 1;		/* nothing to turn off */
		goto out_restore;
	}
	f->bidx = 0;
	f->bu64 = (uintptr_t)sf;
	ret = sigio_hot(s, fd, f);
	if (ret == 0)
		return 0;
	f->bu64 = 0;
out_restore:
	sigio_restore(sf);
	return ret;
out_free:
	free(sf);
	return ret;
}

static int sigio_ctl(struct evpoll_poller *p, int op, int fd,
		     struct evpoll__fd *f)
{
	struct sigio_poller *s = p->priv;

	switch (op) {
	case EPOLL_CTL_ADD:
		return sigio_add(s, fd, f);
	case EPOLL_CTL_MOD:
		if (f->state & EVPOLL__FD_DISARMED) {
			sigio_unhot(s, fd, f);
			return 0;
		}
		return sigio_hot(s, fd, f);
	case EPOLL_CTL_DEL:
		sigio_unhot(s, fd, f);
		/* Through the dup: the fd may be closed, or another file. */
		if (f->bu64)
			sigio_restore(sigio_file(f));
		f->bu64 = 0;
		return 0;
	}
	return -EINVAL;
}

/* Does the program handle SIGIO (a function, not SIG_DFL or SIG_IGN)? */
static int sigio_program_handles_sigio(void)
{
	struct sigaction sa;

	if (sigaction(SIGIO, NULL, &sa) < 0)
		return 0;
	return (sa.sa_flags & SA_SIGINFO) ||
	       (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
}

/*
 * A SIGIO taken by sigtimedwait(): 1 if it is a queue overflow (the
 * kernel's SIGIO, SI_KERNEL).  One that is not, or any when the program
 * handles SIGIO, is sent again to this thread with SIGIO unblocked for a
 * moment, so that the program's disposition applies to it (@s->intr is
 * set when its handler ran).  Not when the program itself blocked SIGIO
 * here: it is then the program's to collect, and lost (documented).
 */
static int sigio_sigio(struct sigio_poller *s, const siginfo_t *si)
{
	int overflow = si->si_code == SI_KERNEL;
	int handled = sigio_program_handles_sigio();
	sigset_t set;

	if ((overflow && !handled) || !sigio_thread_unblock)
		return overflow;
	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	syscall(SYS_tgkill, getpid(), gettid(), SIGIO);
	/* Delivered on the way out of this call. */
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (handled)
		s->intr = 1;
	return overflow;
}

static void sigio_destroy(struct evpoll_poller *p)
{
	struct sigio_poller *s = p->priv;
	sigset_t set;
	int fd;

	for (fd = 0; fd < p->nfds; fd++)
		if (evpoll__fd_lookup(p, fd))
			sigio_ctl(p, EPOLL_CTL_DEL, fd, &p->fds[fd]);

	/*
	 * Every file is restored: none raises our signal any more, and the
	 * queued ones are ours to drop.  A pending SIGIO goes to the program
	 * unless it is an overflow it has no handler for (sigio_sigio()).
	 */
	sigemptyset(&set);
	sigaddset(&set, s->sig);
	sigio_flush(&set);
	if (s->unblock_sig)
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (--sigio_thread_users == 0 && sigio_thread_unblock) {
		struct timespec zero = { 0, 0 };
		siginfo_t si;

		sigemptyset(&set);
		sigaddset(&set, SIGIO);
		while (sigtimedwait(&set, &si, &zero) > 0)
			sigio_sigio(s, &si);
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
		if (!sigio_sigio(s, si))
			return;
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

	/* Our signals are sent to the creating thread alone. */
	if (!pthread_equal(pthread_self(), s->thread))
		return -EPERM;
	s->intr = 0;
	if (s->overflows != __atomic_load_n(&sigio_overflows, __ATOMIC_ACQUIRE)) {
		s->overflows = __atomic_load_n(&sigio_overflows,
					       __ATOMIC_ACQUIRE);
		sigio_all_hot(p);
	}
	sigio_drain(p);
	n = sigio_check(p, evs, max);
	if (n == 0 && s->intr)
		return -EINTR;
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
	n = sigio_check(p, evs, max);
	return n == 0 && s->intr ? -EINTR : n;
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
};
