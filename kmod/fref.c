// SPDX-License-Identifier: GPL-2.0
/*
 * fref.c - pinned target files, and the rule that tells an orphaned one.
 *
 * Overview
 * --------
 * fs/eventpoll.c learns that a watched file is going away from __fput(),
 * which calls eventpoll_release() before the file is torn down.  A module
 * has no such hook, so evpoll must keep every watched file alive itself: an
 * item holds the file pinned (the wait queues it hooked belong to the file's
 * private data, which would otherwise be freed under it).
 *
 * The consequence to handle: a program that close()s a watched socket
 * without EVPOLL_CTL_DEL would keep the socket open forever.  So every file
 * watched by evpoll has one struct evpoll_fref here, which holds the single
 * reference evpoll takes on it, however many items (in however many
 * instances) watch it.  When file_count() drops to 1, nobody but evpoll can
 * reach the file any more (no fd table, no SCM_RIGHTS message, no mapping
 * holds it), and no one can take a new reference: the file is *orphaned*,
 * and its items are removed, which drops the last reference and lets the
 * file's release run (for a TCP socket: the FIN the peer waits for).
 *
 * Orphans are found in two places (core.c):
 *  - at delivery: a ready item whose file is orphaned is removed instead of
 *    being reported, so a closed fd never produces an event;
 *  - by the reaper (core.c's "Reaper" section: one deferrable work for
 *    all instances, each walked at its own backed-off period): an idle
 *    orphan (no events) is dropped within the bound documented there.
 * A program that tells evpoll before it closes (EVPOLL_IOC_FORGET, core.c)
 * has the item dropped at once instead.
 *
 * Dropping an orphan drops the file's last reference, and fput() would
 * run the release (a TCP socket's FIN, a pipe's EOF, an flock's unlock)
 * only when the dropping task returns to user space: a WAIT that drops an
 * orphan and then sleeps would sit on the release it caused, forever if
 * the event it waits for is that release's (issue 12).  So an orphan's
 * final put goes through evpoll_fref_put_async(): the last reference is
 * handed to a work item that releases the file at once (__fput_sync() in
 * a kworker), whatever the dropping task does next.
 *
 * Locking
 * -------
 * No global lock.  evpoll_frefs is an rhashtable (its own per-bucket locks
 * inside) read under RCU; a fref lives while fref->nr > 0 and is freed an
 * RCU grace period after it was removed from the table.
 *  - get: the new fref is allocated first (outside any lock, charged to
 *    the caller's memcg; or taken from the caller's spare) and inserted
 *    with one lookup of the table; if the file already has a fref, that
 *    one is taken with refcount_inc_not_zero() and the new one becomes
 *    the caller's spare (evpoll_fref_get()).  An insert that finds a
 *    fref whose count already went to zero (being put by another task)
 *    replaces it in the table: the dying one still holds its own file
 *    reference until its put drops it, so a file may transiently have two
 *    frefs (and file_count() 2 from evpoll), which only makes
 *    evpoll_fref_orphaned() answer false a moment longer.
 *  - put: the task that drops nr to zero removes the fref from the table
 *    (-ENOENT if a get replaced it: fine), fput()s the file, and frees the
 *    fref after a grace period.
 * So an allocation (and the memory reclaim it may run) never holds up
 * another task's ADD, DEL or reap.  Callers hold evp->mtx of their
 * instance (core.c); nothing here nests inside it.
 *
 * Memory: frefs come from a SLAB_ACCOUNT cache with GFP_KERNEL_ACCOUNT
 * (charged to the task that allocated it: the first to watch the file, or
 * an earlier ADD on the same instance whose fref was kept as the
 * instance's spare), and count against
 * max_user_watches through their items.  The table's bucket array is shared
 * by all users and resized by rhashtable's worker, so it is not charged to
 * anyone; it holds about 1.3 buckets (8 bytes each) per fref and shrinks
 * back to .min_size when the frefs go.
 *
 * Field protection:
 *   fref->file       immutable while the fref exists
 *   fref->nr         refcount_t (atomic)
 *   fref->node       rhashtable's bucket locks
 *   fref->release    owned by the task that dropped nr to zero, then by
 *                    fref_release_list (llist: lockless) and its work
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hash.h>
#include <linux/llist.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "evpoll_int.h"

static struct rhashtable evpoll_frefs;
static struct kmem_cache *fref_cache __read_mostly;

/*
 * The key is a kernel pointer, which no user chooses: one multiplication
 * (hash_64()) mixes it as well as rhashtable's default jhash2() does, for
 * a third of the instructions, and every get, insert and remove hashes.
 */
static u32 evpoll_fref_hash(const void *data, u32 len, u32 seed)
{
	return hash_64((unsigned long)*(struct file * const *)data ^ seed,
		       32);
}

/* The key is one pointer: compare it as such, not with memcmp(). */
static int evpoll_fref_cmp(struct rhashtable_compare_arg *arg,
			   const void *obj)
{
	const struct evpoll_fref *fref = obj;

	return *(struct file * const *)arg->key != fref->file;
}

static const struct rhashtable_params fref_params = {
	.key_len		= sizeof(struct file *),
	.key_offset		= offsetof(struct evpoll_fref, file),
	.head_offset		= offsetof(struct evpoll_fref, node),
	.hashfn			= evpoll_fref_hash,
	.obj_cmpfn		= evpoll_fref_cmp,
	/*
	 * Shrink when the set empties, but never below 2048 buckets (16 KiB
	 * and the table's header: one 32 KiB allocation, made once at load):
	 * watched sets that grow and empty again (connection churn) below
	 * ~1500 files never resize.  Without a
	 * floor, shrinking measured ADD at 1.175x epoll's cost at 100 fds
	 * against 1.05x without; with 256 buckets, closing 300 watched unix
	 * sockets paid 120 instructions per close in rht_deferred_worker
	 * (close bench, 2026-12-01) and registering 1,000 fds 180 per ADD.
	 */
	.min_size		= 2048,
	.automatic_shrinking	= true,
};

/**
 * evpoll_fref_get - count one more item watching @file, pinning it
 * @file: the target file (the caller holds a reference for the call)
 * @spare: the caller's spare fref (NULL or one left here by an earlier
 *	   call), used instead of allocating; set to the fref allocated and
 *	   not needed, if any.  The caller serialises its calls with one
 *	   spare and frees it with evpoll_fref_free_spare().
 *
 * An ADD usually watches a file that nobody watches yet, so the fref is
 * allocated first and inserted with one lookup of the table; a file that
 * is already watched (by another instance: the caller finds another fd of
 * the file in its own set without asking) leaves that fref in @spare for
 * the next call, so the allocation is not lost.
 *
 * Return: the file's fref, or ERR_PTR(-ENOMEM).
 */
struct evpoll_fref *evpoll_fref_get(struct file *file,
				    struct evpoll_fref **spare)
{
	struct evpoll_fref *old, *new = *spare;

	if (!new) {
		new = kmem_cache_alloc(fref_cache, GFP_KERNEL_ACCOUNT);
		if (!new)
			return ERR_PTR(-ENOMEM);
	}
	*spare = NULL;
	new->file = file;
	refcount_set(&new->nr, 1);

	for (;;) {
		rcu_read_lock();
		old = rhashtable_lookup_get_insert_fast(&evpoll_frefs,
							&new->node,
							fref_params);
		if (!old)
			break;
		if (IS_ERR(old)) {
			rcu_read_unlock();
			*spare = new;
			return ERR_PTR(-ENOMEM);
		}
		if (refcount_inc_not_zero(&old->nr)) {
			rcu_read_unlock();
			*spare = new;
			return old;
		}
		/* @old is being put: take its place. */
		if (!rhashtable_replace_fast(&evpoll_frefs, &old->node,
					     &new->node, fref_params))
			break;
		/* ... it was removed meanwhile: look again. */
		rcu_read_unlock();
	}
	rcu_read_unlock();
	get_file(file);
	return new;
}

/* The spare of evpoll_fref_get() (never in the table), or NULL. */
void evpoll_fref_free_spare(struct evpoll_fref *spare)
{
	if (spare)
		kmem_cache_free(fref_cache, spare);
}

static void evpoll_fref_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(fref_cache, container_of(head, struct evpoll_fref, rcu));
}

/**
 * evpoll_fref_put - one item less watches the file; unpin it after the last
 * @fref: from evpoll_fref_get()
 *
 * The final fput() may release the file (deferred by fput() itself to task
 * work or a kworker, so this is safe under evp->mtx).
 */
void evpoll_fref_put(struct evpoll_fref *fref)
{
	if (!refcount_dec_and_test(&fref->nr))
		return;
	/* -ENOENT when a get replaced us in the table: nothing to remove. */
	rhashtable_remove_fast(&evpoll_frefs, &fref->node, fref_params);
	fput(fref->file);
	call_rcu(&fref->rcu, evpoll_fref_free_rcu);
}

/*
 * Final puts of orphans (evpoll_fref_put_async()): the work releases each
 * file in its own context, then frees the fref.
 */
static LLIST_HEAD(fref_release_list);

static void evpoll_fref_release_fn(struct work_struct *work)
{
	struct evpoll_fref *fref, *tmp;
	struct llist_node *list = llist_del_all(&fref_release_list);

	llist_for_each_entry_safe(fref, tmp, list, release) {
		__fput_sync(fref->file);	/* a kworker: at once */
		call_rcu(&fref->rcu, evpoll_fref_free_rcu);
		cond_resched();
	}
}

static DECLARE_WORK(fref_release_work, evpoll_fref_release_fn);

/**
 * evpoll_fref_hold - one more reference: for evpoll_fref_put_async(), or
 * a new item of a file another item of the set already watches
 * @fref: a live fref (the caller's item keeps it alive)
 */
void evpoll_fref_hold(struct evpoll_fref *fref)
{
	refcount_inc(&fref->nr);
}

/**
 * evpoll_fref_put_async - evpoll_fref_put() whose final fput() never waits
 *	for the calling task
 * @fref: from evpoll_fref_get() or evpoll_fref_hold()
 *
 * If evpoll's reference is the file's last, the release runs in a work
 * item, not when the caller returns to user space (see the overview).
 * Otherwise this is evpoll_fref_put().
 */
void evpoll_fref_put_async(struct evpoll_fref *fref)
{
	if (!refcount_dec_and_test(&fref->nr))
		return;
	rhashtable_remove_fast(&evpoll_frefs, &fref->node, fref_params);
	if (evpoll_file_put_unless_last(fref->file)) {
		call_rcu(&fref->rcu, evpoll_fref_free_rcu);
		return;
	}
	llist_add(&fref->release, &fref_release_list);
	queue_work(system_unbound_wq, &fref_release_work);
}

int evpoll_fref_init(void)
{
	int err;

	fref_cache = KMEM_CACHE(evpoll_fref, SLAB_ACCOUNT);
	if (!fref_cache)
		return -ENOMEM;
	err = rhashtable_init(&evpoll_frefs, &fref_params);
	if (err)
		kmem_cache_destroy(fref_cache);
	return err;
}

void evpoll_fref_exit(void)
{
	/* Every instance is gone (the module is busy while one is open). */
	WARN_ON_ONCE(atomic_read(&evpoll_frefs.nelems));
	flush_work(&fref_release_work);	/* files it is still releasing */
	rhashtable_destroy(&evpoll_frefs);
	rcu_barrier();		/* the frees of the last frefs */
	kmem_cache_destroy(fref_cache);
}
