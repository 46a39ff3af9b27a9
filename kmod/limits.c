// SPDX-License-Identifier: GPL-2.0
/*
 * limits.c - the per-user limit on watched items (epoll's max_user_watches).
 *
 * Every instance is charged to the real uid that opened it (as epoll charges
 * ep->user).  One watched item costs one charge; ADD past max_user_watches
 * fails with ENOSPC.  The default is derived like epoll's: 4% of low memory
 * divided by the cost of one item.  Root may change it at run time through
 * /sys/module/evpoll/parameters/max_user_watches; lowering it below what a
 * user already holds only stops further ADDs.
 *
 * Locking
 * -------
 * evpoll_users_lock (spinlock) protects the evpoll_users hash and each
 * user's refcount transitions to and from zero.  Taken in process context
 * only (instance open/close), never with another evpoll lock held.
 * user->watches is an atomic counter, changed under evp->mtx of the
 * instance adding or removing the item (no lock of its own).
 */
#include <linux/atomic.h>
#include <linux/cred.h>
#include <linux/hashtable.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uidgid.h>

#include "evpoll_int.h"

struct evpoll_user {
	struct hlist_node node;		/* in evpoll_users */
	kuid_t uid;			/* real uid, immutable */
	refcount_t ref;			/* instances open; evpoll_users_lock */
	atomic_long_t watches;		/* items watched by all its instances */
};

/* Rough cost of one watched item (item + one wait-queue hook + fref). */
#define EVPOLL_ITEM_COST	256

static unsigned long max_user_watches;
module_param(max_user_watches, ulong, 0644);
MODULE_PARM_DESC(max_user_watches,
		 "items one user may watch across all instances (default: 4% of low memory / item cost, as epoll)");

static DEFINE_SPINLOCK(evpoll_users_lock);
static DEFINE_HASHTABLE(evpoll_users, 6);

/* The record of @uid, referenced, or NULL. */
static struct evpoll_user *evpoll_user_find(kuid_t uid)
{
	struct evpoll_user *user;

	lockdep_assert_held(&evpoll_users_lock);
	hash_for_each_possible(evpoll_users, user, node, __kuid_val(uid))
		if (uid_eq(user->uid, uid)) {
			refcount_inc(&user->ref);
			return user;
		}
	return NULL;
}

/**
 * evpoll_user_get - the accounting record of the caller's real uid
 *
 * Return: a referenced record, or NULL when out of memory.
 */
struct evpoll_user *evpoll_user_get(void)
{
	kuid_t uid = current_uid();
	struct evpoll_user *user, *new;

	spin_lock(&evpoll_users_lock);
	user = evpoll_user_find(uid);
	spin_unlock(&evpoll_users_lock);
	if (user)
		return user;

	/* First instance of this uid: allocate outside the lock. */
	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		return NULL;
	new->uid = uid;
	refcount_set(&new->ref, 1);
	atomic_long_set(&new->watches, 0);
	spin_lock(&evpoll_users_lock);
	user = evpoll_user_find(uid);	/* another task may have won */
	if (!user) {
		hash_add(evpoll_users, &new->node, __kuid_val(uid));
		user = new;
		new = NULL;
	}
	spin_unlock(&evpoll_users_lock);
	kfree(new);
	return user;
}

void evpoll_user_put(struct evpoll_user *user)
{
	if (!refcount_dec_and_lock(&user->ref, &evpoll_users_lock))
		return;
	hash_del(&user->node);
	spin_unlock(&evpoll_users_lock);
	WARN_ON_ONCE(atomic_long_read(&user->watches));
	kfree(user);
}

/**
 * evpoll_user_charge - charge one watched item to @user
 * @user: the instance's user
 *
 * Return: false if that would exceed max_user_watches (the caller fails
 * with ENOSPC).
 */
bool evpoll_user_charge(struct evpoll_user *user)
{
	if ((unsigned long)atomic_long_inc_return(&user->watches) >
	    READ_ONCE(max_user_watches)) {
		atomic_long_dec(&user->watches);
		return false;
	}
	return true;
}

void evpoll_user_uncharge(struct evpoll_user *user)
{
	atomic_long_dec(&user->watches);
}

long evpoll_user_watches(const struct evpoll_user *user)
{
	return atomic_long_read(&user->watches);
}

int evpoll_limits_init(void)
{
	struct sysinfo si;
	unsigned long lowmem;

	if (max_user_watches)		/* set at insmod time */
		return 0;
	si_meminfo(&si);
	lowmem = si.totalram - si.totalhigh;
	max_user_watches = ((lowmem / 25) << PAGE_SHIFT) / EVPOLL_ITEM_COST;
	if (max_user_watches > LONG_MAX)
		max_user_watches = LONG_MAX;
	return 0;
}
