// SPDX-License-Identifier: GPL-2.0
/*
 * user.c - user events: items with no file (kqueue's EVFILT_USER).
 *
 * EVPOLL_IOC_USER_ADD creates one with its data and flags and returns an
 * id (>= EVPOLL_USER_ID_BASE, so it is never mistaken for an fd by
 * EVPOLL_IOC_SUBMIT's ENABLE/DISABLE/DEL/DEL_NOTIFY).  EVPOLL_IOC_USER_TRIGGER,
 * from any thread, makes it ready: it is queued on the instance's list of
 * ready user events and a waiter is kicked (evpoll_core_kick()).  Triggers
 * before the delivery coalesce (it is queued once); the delivery reports
 * EPOLLIN with its data and clears it (EV_CLEAR).  EPOLLONESHOT and
 * EVPOLLDISPATCH disable it at delivery; EVPOLL_CTL_ENABLE re-arms it, and
 * reports it at once if it was triggered while disabled.  Each user event
 * is charged as one watch to the instance's user (max_user_watches).
 *
 * Locking
 * -------
 * uevs->mtx (mutex) serialises add, delete, enable/disable and delivery
 * (which writes to user memory); it nests inside nothing of evpoll's.
 * uevs->lock (spinlock, process context only) protects uevs->ready and
 * every user event's state (link, disabled, pending, dead); triggers take
 * only it, under rcu_read_lock() to find the event by id (uevs->ids is an
 * xarray: its own lock for updates, RCU for lookups; user events are
 * freed after a grace period).  Nothing is called with uevs->lock held:
 * the waiter is kicked after it is dropped.  The wait path peeks at
 * uevs->ready with list_empty_careful() only.
 *
 * Field protection:
 *   struct evpoll_uevs: ready (lock), ids (xarray), evp (immutable)
 *   struct evpoll_uev:  link, disabled, pending, dead (lock);
 *                       id, events, data (immutable)
 */
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include <uapi/linux/evpoll.h>
#include "evpoll_int.h"

struct evpoll_uevs {
	struct evpoll *evp;		/* owner */
	struct mutex mtx;		/* see Locking */
	spinlock_t lock;		/* see Locking */
	struct list_head ready;		/* triggered, enabled, not delivered */
	struct xarray ids;		/* id -> struct evpoll_uev */
	u32 next_id;			/* xa_alloc_cyclic() cursor */
};

struct evpoll_uev {
	struct list_head link;		/* in uevs->ready */
	struct rcu_head rcu;
	u64 data;
	u32 events;			/* EPOLLIN | ONESHOT | DISPATCH | ET */
	int id;
	bool disabled;			/* ONESHOT/DISPATCH fired, or DISABLE */
	bool pending;			/* triggered while disabled */
	bool dead;			/* deleted; a racing trigger fails */
};

/* The flags USER_ADD accepts. */
#define EVPOLL_UEV_EVENTS	(EPOLLIN | EPOLLONESHOT | EPOLLET | \
				 EVPOLLDISPATCH)

/**
 * evpoll_uevs_create - the user-event table of an instance
 * @evp: the instance (core.c creates it on the first USER_ADD)
 *
 * Return: the table, or NULL when out of memory.
 */
struct evpoll_uevs *evpoll_uevs_create(struct evpoll *evp)
{
	struct evpoll_uevs *uevs = kzalloc(sizeof(*uevs), GFP_KERNEL_ACCOUNT);

	if (!uevs)
		return NULL;
	uevs->evp = evp;
	mutex_init(&uevs->mtx);
	spin_lock_init(&uevs->lock);
	INIT_LIST_HEAD(&uevs->ready);
	xa_init_flags(&uevs->ids, XA_FLAGS_ALLOC);
	return uevs;
}

/**
 * evpoll_uevs_destroy - free the table and every user event in it
 * @uevs: the table; its instance is being released (no ioctl can run)
 */
void evpoll_uevs_destroy(struct evpoll_uevs *uevs)
{
	struct evpoll_user *user = evpoll_core_user(uevs->evp);
	struct evpoll_uev *uev;
	unsigned long id;

	xa_for_each(&uevs->ids, id, uev) {
		evpoll_user_uncharge(user);
		kfree(uev);
	}
	xa_destroy(&uevs->ids);
	mutex_destroy(&uevs->mtx);
	kfree(uevs);
}

/* Lockless peek (the wait path, under the instance's ready lock). */
bool evpoll_uevs_pending(struct evpoll_uevs *uevs)
{
	return !list_empty_careful(&uevs->ready);
}

/**
 * evpoll_uevs_deliver - report ready user events
 * @uevs:	the table
 * @events:	user array, checked with access_ok()
 * @maxevents:	its room, > 0
 *
 * Each is reported once as EPOLLIN with its data and cleared; ONESHOT and
 * DISPATCH ones are disabled.  One that cannot be stored is put back.
 *
 * Return: the number reported, or -EFAULT if none could be.
 */
int evpoll_uevs_deliver(struct evpoll_uevs *uevs,
			struct evpoll_event __user *events, int maxevents)
{
	struct evpoll_uev *uev = NULL;
	int n = 0;

	mutex_lock(&uevs->mtx);
	while (n < maxevents) {
		spin_lock(&uevs->lock);
		uev = list_first_entry_or_null(&uevs->ready,
					       struct evpoll_uev, link);
		if (uev) {
			list_del_init(&uev->link);
			if (uev->events & (EPOLLONESHOT | EVPOLLDISPATCH))
				uev->disabled = true;
		}
		spin_unlock(&uevs->lock);
		if (!uev)
			break;
		/* uevs->mtx keeps it alive: delete takes it too. */
		if (evpoll_core_put_event(&events[n], EPOLLIN, uev->data)) {
			spin_lock(&uevs->lock);
			uev->disabled = false;
			list_add(&uev->link, &uevs->ready);
			spin_unlock(&uevs->lock);
			break;
		}
		n++;
	}
	mutex_unlock(&uevs->mtx);
	return n || !uev ? n : -EFAULT;
}

/**
 * evpoll_uev_add - EVPOLL_IOC_USER_ADD
 * @uevs:	the table
 * @events:	EPOLLIN, optionally EPOLLONESHOT or EVPOLLDISPATCH (EPOLLET
 *		accepted and meaningless)
 * @data:	reported with the event
 *
 * Return: the id, or -EINVAL (@events), -ENOSPC (max_user_watches, or
 * no id left), -ENOMEM.
 */
int evpoll_uev_add(struct evpoll_uevs *uevs, u32 events, u64 data)
{
	struct evpoll_user *user = evpoll_core_user(uevs->evp);
	struct evpoll_uev *uev;
	u32 id;
	int err;

	if (!(events & EPOLLIN) || (events & ~EVPOLL_UEV_EVENTS))
		return -EINVAL;
	if (!evpoll_user_charge(user))
		return -ENOSPC;
	uev = kzalloc(sizeof(*uev), GFP_KERNEL_ACCOUNT);
	if (!uev) {
		err = -ENOMEM;
		goto err_uncharge;
	}
	INIT_LIST_HEAD(&uev->link);
	uev->events = events;
	uev->data = data;
	mutex_lock(&uevs->mtx);
	/* Cyclic: a stale id is unlikely to name a newer event soon. */
	err = xa_alloc_cyclic(&uevs->ids, &id, uev,
			      XA_LIMIT(EVPOLL_USER_ID_BASE, INT_MAX),
			      &uevs->next_id, GFP_KERNEL_ACCOUNT);
	if (err >= 0)
		uev->id = id;
	mutex_unlock(&uevs->mtx);
	if (err < 0) {
		err = err == -EBUSY ? -ENOSPC : err;
		goto err_free;
	}
	return id;

err_free:
	kfree(uev);
err_uncharge:
	evpoll_user_uncharge(user);
	return err;
}

/**
 * evpoll_uev_trigger - EVPOLL_IOC_USER_TRIGGER, from any thread
 * @uevs:	the table, or NULL (no user event was ever added)
 * @id:		the user event
 *
 * Return: 0 or -ENOENT.
 */
int evpoll_uev_trigger(struct evpoll_uevs *uevs, int id)
{
	struct evpoll_uev *uev;
	bool kick = false;
	int err = 0;

	if (!uevs || id < EVPOLL_USER_ID_BASE)
		return -ENOENT;
	rcu_read_lock();
	uev = xa_load(&uevs->ids, id);
	if (uev) {
		spin_lock(&uevs->lock);
		if (uev->dead) {
			err = -ENOENT;
		} else if (uev->disabled) {
			uev->pending = true;
		} else if (list_empty(&uev->link)) {
			list_add_tail(&uev->link, &uevs->ready);
			kick = true;
		}
		spin_unlock(&uevs->lock);
	} else {
		err = -ENOENT;
	}
	rcu_read_unlock();
	if (kick)
		evpoll_core_kick(uevs->evp);
	return err;
}

/**
 * evpoll_uev_ctl - a SUBMIT change on a user event
 * @uevs:	the table, or NULL
 * @op:		EVPOLL_CTL_DEL, _DEL_NOTIFY, _ENABLE or _DISABLE
 * @id:		the user event
 *
 * Return: 0, -ENOENT (unknown id), -EINVAL (another op), -ENOMEM.
 */
int evpoll_uev_ctl(struct evpoll_uevs *uevs, u32 op, int id)
{
	struct evpoll_tomb *tomb = NULL;
	struct evpoll_uev *uev;
	bool kick = false;
	int err = 0;

	if (op != EVPOLL_CTL_DEL && op != EVPOLL_CTL_DEL_NOTIFY &&
	    op != EVPOLL_CTL_ENABLE && op != EVPOLL_CTL_DISABLE)
		return -EINVAL;
	if (!uevs)
		return -ENOENT;
	mutex_lock(&uevs->mtx);
	uev = xa_load(&uevs->ids, id);
	if (!uev) {
		err = -ENOENT;
		goto out;
	}
	if (op == EVPOLL_CTL_DEL_NOTIFY) {
		/* Queued after the removal below, so nothing follows it. */
		tomb = evpoll_core_tomb_alloc();
		if (!tomb) {
			err = -ENOMEM;
			goto out;
		}
	}
	spin_lock(&uevs->lock);
	switch (op) {
	case EVPOLL_CTL_ENABLE:
		uev->disabled = false;
		if (uev->pending && list_empty(&uev->link)) {
			list_add_tail(&uev->link, &uevs->ready);
			kick = true;
		}
		uev->pending = false;
		break;
	case EVPOLL_CTL_DISABLE:
		uev->disabled = true;
		if (!list_empty(&uev->link)) {
			list_del_init(&uev->link);
			uev->pending = true;
		}
		break;
	default:	/* DEL, DEL_NOTIFY */
		uev->dead = true;
		list_del_init(&uev->link);
		break;
	}
	spin_unlock(&uevs->lock);
	if (op == EVPOLL_CTL_DEL || op == EVPOLL_CTL_DEL_NOTIFY) {
		xa_erase(&uevs->ids, id);
		evpoll_user_uncharge(evpoll_core_user(uevs->evp));
		if (tomb)
			evpoll_core_tomb_post(uevs->evp, tomb, uev->data);
		kfree_rcu(uev, rcu);
	}
out:
	mutex_unlock(&uevs->mtx);
	if (kick)
		evpoll_core_kick(uevs->evp);
	return err;
}
