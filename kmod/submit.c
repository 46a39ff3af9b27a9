// SPDX-License-Identifier: GPL-2.0
/*
 * submit.c - the version 2 ioctls: EVPOLL_IOC_SUBMIT (a batch of changes,
 * each with its own result, then optionally a wait with min-wait) and the
 * user-event ioctls.  Argument decoding and validation only: the work is
 * core.c's (evpoll_core_ctl_v2(), evpoll_core_wait_min()) and user.c's.
 *
 * EVPOLL_IOC_SUBMIT, in this order:
 *  1. The whole call is validated first: the struct (size, flags, reserved
 *     fields), the changes array's range, the wait's arguments and the
 *     signal mask (copied in).  Any failure here fails the call with
 *     nothing applied: EFAULT, EINVAL, E2BIG (see Documentation/abi.rst).
 *  2. The changes are applied in array order, each one attempted whatever
 *     the previous ones gave.  For each entry the kernel copies it in,
 *     writes its result field once before applying it (so an entry whose
 *     result cannot be written is not applied), applies it, and writes the
 *     result (0 or the -errno EVPOLL_IOC_CTL would give).  If an entry
 *     cannot be read or written, the call stops there and fails with
 *     EFAULT: the entries before it were applied and have their results,
 *     it and the ones after it were not applied, and nchanged (written
 *     back into the struct when it can be) is its index.
 *  3. With EVPOLL_SUBMIT_WAIT, the wait: its events include those the
 *     changes just caused (an ADD of a ready fd is reported by this call).
 *     With EVPOLL_SUBMIT_ERR_NOWAIT too, a change whose result is not 0
 *     makes the wait not block (as kevent() returns at once with its
 *     EV_ERROR entries): a caller that reports refusals as events never
 *     sleeps on one.
 *
 * Locking: none of its own; each change takes the instance's locks as
 * EVPOLL_IOC_CTL does, one change at a time (cond_resched() after each),
 * so a batch never holds a lock across the whole array.
 */
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/uaccess.h>

#include <uapi/linux/evpoll.h>
#include "evpoll_int.h"

/*
 * Read one change and write its result field back (unchanged) in one
 * user-access window: a change whose result cannot be written is not
 * applied.  False on a fault.
 */
static bool evpoll_submit_get(struct evpoll_submit_change *c,
			      struct evpoll_submit_change __user *uc)
{
	/* Packed: @data is 4-aligned, so it is addressed by its offset. */
	u64 __user *udata = (u64 __user *)((char __user *)uc +
			offsetof(struct evpoll_submit_change, data));

	if (!user_access_begin(uc, sizeof(*uc)))
		return false;
	unsafe_get_user(c->op, &uc->op, efault);
	unsafe_get_user(c->fd, &uc->fd, efault);
	unsafe_get_user(c->events, &uc->events, efault);
	unsafe_get_user(c->data, udata, efault);
	unsafe_get_user(c->result, &uc->result, efault);
	unsafe_put_user(c->result, &uc->result, efault);
	user_access_end();
	return true;

efault:
	user_access_end();
	return false;
}

/*
 * Apply the changes; return 0, or -EFAULT with *done = the faulting index.
 * *failed: whether a change got a result other than 0.
 */
static int evpoll_submit_changes(struct evpoll *evp,
				 struct evpoll_submit_change __user *uc,
				 u32 nchanges, u32 *done, bool *failed)
{
	struct evpoll_submit_change c;
	u32 i;

	for (i = 0; i < nchanges; i++) {
		s32 res;

		if (!evpoll_submit_get(&c, &uc[i]))
			break;
		res = evpoll_core_ctl_v2(evp, c.op, c.fd,
					 (__force __poll_t)c.events, c.data);
		*failed |= res != 0;
		/* Only a concurrent munmap()/mprotect() gets here. */
		if (put_user(res, &uc[i].result)) {
			i++;
			break;
		}
		/*
		 * After every change: one can be long (an ADD of an instance
		 * walks the nest below it), and with nothing pending this is
		 * a need_resched() test.
		 */
		cond_resched();
	}
	*done = i;
	return i == nchanges ? 0 : -EFAULT;
}

static long evpoll_ioctl_submit(struct evpoll *evp,
				struct evpoll_submit __user *us)
{
	struct evpoll_submit_change __user *changes;
	struct evpoll_event __user *events = NULL;
	ktime_t end, *endp = NULL;
	struct evpoll_submit s;
	sigset_t kmask;
	bool failed = false;
	u32 usize, done;
	long ret;

	if (get_user(usize, &us->size))
		return -EFAULT;
	if (usize < EVPOLL_SUBMIT_SIZE_VER0)
		return -EINVAL;
	ret = copy_struct_from_user(&s, sizeof(s), us, usize);
	if (ret)
		return ret;	/* -EFAULT, or -E2BIG: unknown non-zero tail */
	if ((s.flags & ~EVPOLL_SUBMIT_FLAGS) || s.__reserved ||
	    s.nchanges > EVPOLL_SUBMIT_MAX)
		return -EINVAL;
	changes = u64_to_user_ptr(s.changes);
	if (!access_ok(changes, (size_t)s.nchanges * sizeof(*changes)))
		return -EFAULT;

	if (!(s.flags & EVPOLL_SUBMIT_WAIT)) {
		if (s.events || s.maxevents || s.min_events || s.timeout ||
		    s.min_wait || s.sigmask || s.sigsetsize ||
		    (s.flags & EVPOLL_SUBMIT_ERR_NOWAIT))
			return -EINVAL;
	} else {
		if (s.maxevents <= 0 || s.maxevents > EVPOLL_MAX_EVENTS ||
		    s.min_wait < 0)
			return -EINVAL;
		events = u64_to_user_ptr(s.events);
		if (!access_ok(events, s.maxevents * sizeof(*events)))
			return -EFAULT;
		if (s.sigmask) {
			if (s.sigsetsize != sizeof(sigset_t))
				return -EINVAL;
			if (copy_from_user(&kmask, u64_to_user_ptr(s.sigmask),
					   sizeof(kmask)))
				return -EFAULT;
		} else if (s.sigsetsize) {
			return -EINVAL;
		}
		if (s.timeout >= 0) {
			end = s.timeout ? ktime_add_safe(ktime_get(),
							 ns_to_ktime(s.timeout)) : 0;
			endp = &end;
		}
	}

	ret = evpoll_submit_changes(evp, changes, s.nchanges, &done, &failed);
	/* Best effort: the struct was readable; it may not be writable. */
	if (put_user(done, &us->nchanged) && !ret)
		ret = -EFAULT;
	if (ret || !events)
		return ret;
	if (failed && (s.flags & EVPOLL_SUBMIT_ERR_NOWAIT)) {
		/* The caller learns of the refusal now, with what is ready. */
		end = 0;
		endp = &end;
	}

	if (s.sigmask) {
		/* As epoll_pwait(): SIGKILL and SIGSTOP cannot be blocked. */
		sigdelsetmask(&kmask, sigmask(SIGKILL) | sigmask(SIGSTOP));
		set_restore_sigmask();
		current->saved_sigmask = current->blocked;
		sigprocmask(SIG_SETMASK, &kmask, NULL);
	}
	ret = evpoll_core_wait_min(evp, events, s.maxevents, endp,
				   s.min_events, s.min_wait);
	/* On EINTR the old mask comes back after the handler has run. */
	if (s.sigmask && ret != -EINTR && test_and_clear_restore_sigmask())
		sigprocmask(SIG_SETMASK, &current->saved_sigmask, NULL);
	return ret;
}

static long evpoll_ioctl_user(struct evpoll *evp, unsigned int cmd,
			      struct evpoll_user_ctl __user *uu)
{
	struct evpoll_user_ctl u;
	struct evpoll_uevs *uevs;
	int ret;

	if (copy_from_user(&u, uu, sizeof(u)))
		return -EFAULT;
	if (u.flags || u.__reserved)
		return -EINVAL;
	if (cmd != EVPOLL_IOC_USER_ADD) {
		if (u.events || u.data)
			return -EINVAL;
		uevs = evpoll_core_uevs(evp, false);
		if (cmd == EVPOLL_IOC_USER_TRIGGER)
			return evpoll_uev_trigger(uevs, u.id);
		return evpoll_uev_ctl(uevs, EVPOLL_CTL_DEL, u.id);
	}
	uevs = evpoll_core_uevs(evp, true);
	if (!uevs)
		return -ENOMEM;
	ret = evpoll_uev_add(uevs, u.events, u.data);
	if (ret < 0)
		return ret;
	if (put_user(ret, &uu->id)) {
		evpoll_uev_ctl(uevs, EVPOLL_CTL_DEL, ret);
		return -EFAULT;
	}
	return 0;
}

/**
 * evpoll_v2_ioctl - the version 2 ioctls of an instance
 * @evp:	the instance
 * @cmd:	EVPOLL_IOC_SUBMIT (any size: the struct's size field says),
 *		EVPOLL_IOC_USER_ADD, _USER_TRIGGER, _USER_DEL
 * @uarg:	the argument
 *
 * Return: see Documentation/abi.rst; -ENOTTY for an unknown @cmd.
 */
long evpoll_v2_ioctl(struct evpoll *evp, unsigned int cmd, void __user *uarg)
{
	if ((cmd & ~IOCSIZE_MASK) == (EVPOLL_IOC_SUBMIT & ~IOCSIZE_MASK))
		return evpoll_ioctl_submit(evp, uarg);
	switch (cmd) {
	case EVPOLL_IOC_USER_ADD:
	case EVPOLL_IOC_USER_TRIGGER:
	case EVPOLL_IOC_USER_DEL:
		return evpoll_ioctl_user(evp, cmd, uarg);
	default:
		return -ENOTTY;
	}
}
