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
 *  - by each instance's reaper work (core.c's "Reaper" section: its period,
 *    arming and walk), every reap_interval_ms while the instance watches
 *    anything: an idle orphan (no events) is dropped within
 *    reap_interval_ms plus the time of one pass over the instance.
 *
 * Locking
 * -------
 * evpoll_fref_mutex (mutex) protects evpoll_frefs (the table) and every
 * fref->nr.  Taken only from process context (ctl, release, the reaper
 * work), inside evp->mtx: order evp->mtx -> evpoll_fref_mutex.  The table
 * is never read outside the mutex, so frefs need no RCU.
 *
 * Field protection:
 *   fref->file       immutable while the fref exists
 *   fref->nr         evpoll_fref_mutex
 *   fref->node       evpoll_fref_mutex (rhashtable's own locks inside)
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>

#include "evpoll_int.h"

struct evpoll_fref {
	struct rhash_head node;	/* in evpoll_frefs, keyed by file */
	struct file *file;	/* the file, pinned by one reference */
	unsigned long nr;	/* items watching it, all instances */
};

static DEFINE_MUTEX(evpoll_fref_mutex);
static struct rhashtable evpoll_frefs;
static struct kmem_cache *fref_cache __read_mostly;

static const struct rhashtable_params fref_params = {
	.key_len		= sizeof(struct file *),
	.key_offset		= offsetof(struct evpoll_fref, file),
	.head_offset		= offsetof(struct evpoll_fref, node),
	/*
	 * No shrinking: a set that empties and fills again (connection
	 * churn) would otherwise pay rhashtable's resize on every cycle
	 * (measured: ADD 1.175x epoll's cost at 100 fds with shrinking, 1.05x
	 * without).  The table keeps its high-water size, 8 bytes a bucket.
	 */
	.automatic_shrinking	= false,
};

/**
 * evpoll_fref_get - count one more item watching @file, pinning it
 * @file: the target file (the caller holds a reference for the call)
 *
 * Return: the file's fref, or ERR_PTR(-ENOMEM).
 */
struct evpoll_fref *evpoll_fref_get(struct file *file)
{
	struct evpoll_fref *fref;
	int err;

	mutex_lock(&evpoll_fref_mutex);
	fref = rhashtable_lookup_fast(&evpoll_frefs, &file, fref_params);
	if (fref) {
		fref->nr++;
		goto out_unlock;
	}
	fref = kmem_cache_alloc(fref_cache, GFP_KERNEL_ACCOUNT);
	if (!fref) {
		fref = ERR_PTR(-ENOMEM);
		goto out_unlock;
	}
	fref->file = file;
	fref->nr = 1;
	err = rhashtable_insert_fast(&evpoll_frefs, &fref->node, fref_params);
	if (err) {
		kmem_cache_free(fref_cache, fref);
		fref = ERR_PTR(err == -EEXIST ? -EBUSY : -ENOMEM);
		goto out_unlock;
	}
	get_file(file);
out_unlock:
	mutex_unlock(&evpoll_fref_mutex);
	return fref;
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
	struct file *file = NULL;

	mutex_lock(&evpoll_fref_mutex);
	if (--fref->nr == 0) {
		rhashtable_remove_fast(&evpoll_frefs, &fref->node, fref_params);
		file = fref->file;
		kmem_cache_free(fref_cache, fref);
	}
	mutex_unlock(&evpoll_fref_mutex);
	if (file)
		fput(file);
}

struct file *evpoll_fref_file(const struct evpoll_fref *fref)
{
	return fref->file;
}

/**
 * evpoll_fref_orphaned - is evpoll the only holder of the file left?
 * @fref: a live fref (the caller's item keeps it alive)
 *
 * Lockless: file_count() is an atomic read.  A transient reference taken by
 * someone else (a syscall in progress on a dup of the fd) only makes this
 * say false; the answer true cannot become stale, as no fd refers to the
 * file any more and nothing can take a new reference.
 */
bool evpoll_fref_orphaned(const struct evpoll_fref *fref)
{
	return evpoll_file_refs(fref->file) == 1;
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
	rhashtable_destroy(&evpoll_frefs);
	kmem_cache_destroy(fref_cache);
}
