// SPDX-License-Identifier: GPL-2.0
/*
 * core.c - evpoll instances: interest set, ready list, wait, delivery.
 *
 * Overview
 * --------
 * An instance (struct evpoll) is what one open() of /dev/evpoll creates.
 * It keeps an interest set of items (struct evpoll_item), one per watched
 * (file, fd) pair, in an rbtree, and a ready list of items that may have
 * events.  Adding an item calls the target's ->poll() through vfs_poll()
 * with a poll_table whose queue function hooks a wait-queue entry of ours
 * (struct evpoll_hook) onto each wait queue the target exposes.  When the
 * target wakes its queue, evp_wake() runs (any context, hard IRQ included),
 * puts the item on the ready list and wakes one waiter.  Nothing ever scans
 * the interest set on the wait path: a wait costs O(ready items).
 *
 * Delivery re-polls each ready item with vfs_poll() before reporting it,
 * so readiness that went away is dropped.  Level-triggered items that are
 * still ready go back at the tail of the ready list (round-robin across
 * waits, as epoll); edge-triggered ones wait for the next wake-up; one-shot
 * ones are disabled (their event mask cleared) until EVPOLL_CTL_MOD.
 *
 * Locking
 * -------
 * Two levels, taken in this order:
 *
 * 1) evp->mtx (mutex): the interest set and everything ctl changes; held
 *    across delivery (which calls vfs_poll() and writes to user memory,
 *    both of which may sleep), across the ->poll() re-check, fdinfo and the
 *    reaper.  Other evpoll locks nest inside it: the wait-queue locks of
 *    target files (add/remove of our hooks).  fref.c takes no lock of its
 *    own (RCU lookups and refcounts; the rhashtable's bucket locks stay
 *    inside its calls).
 * 2) evp->wq.lock (spinlock, IRQ-safe): "the ready lock".  The wait queue
 *    head of WAIT sleepers doubles as the lock of the ready list, so waking
 *    a sleeper from the callback needs no second lock (as eventfd does).
 *    IRQ-safe because evp_wake() may be called from a hard-IRQ wake_up().
 *    Taken inside target wait-queue locks (the callback runs under them);
 *    never held across anything that sleeps or touches user memory.
 *
 * evp->poll_wait.lock belongs to the wait queue of tasks poll()ing the
 * instance file; it is taken (by evp_wake_pollers()) after the ready lock
 * has been dropped.
 *
 * evpoll_instances_lock (global spinlock, process context only, a leaf;
 * taken inside evp->mtx to arm the reaper): the list of instances and the
 * reaper work's arming state (see "Reaper").
 *
 * Nesting (an instance watching another instance): evpoll_nest_lock
 * (global spinlock, process context only, a leaf) protects every
 * instance's children/parents edge lists and the loop-check scratch fields.
 * The loop and depth check and the linking of the new edge happen under it
 * in one go, so two racing ADDs cannot build a cycle.  Locks of nested
 * instances are taken outer first with lockdep subclasses: a delivery or
 * ctl at depth 0 polls a watched instance at depth 1 (evp_check_ready()
 * takes its mtx with mutex_lock_nested(.., depth)), and so on down to
 * EVPOLL_MAX_NESTS.  A wake-up climbing the chain takes each poll_wait.lock
 * with the nesting level of the instance below (evp->nests), as epoll's
 * ep_poll_safewake() does.
 *
 * Field protection:
 *   struct evpoll:
 *     mtx                 self
 *     items, nr_items     mtx
 *     rdllist, scanning   wq.lock (scanning also read with READ_ONCE)
 *     wq                  wq.lock (self)
 *     poll_wait           poll_wait.lock (self)
 *     reap_due, reap_shift  mtx; also written by the reaper work on a
 *                         busy mtx and by a reap_interval_ms write
 *                         (WRITE_ONCE; read with READ_ONCE, see "Reaper")
 *     reap_armed          mtx (read by the reaper work without it)
 *     reap_nr_seen        mtx (at arming) and the reaper work, as reap_due
 *     reap_backoff        only the reaper work (a work item never runs
 *                         concurrently with itself)
 *     reap_file, reap_fd, reap_found  mtx
 *     reap_wanted         set by the reaper work without mtx (WRITE_ONCE),
 *                         cleared under mtx
 *     instance_link       evpoll_instances_lock
 *     nr_wakeups          wq.lock
 *     nr_delivered, nr_stale, nr_reaped   mtx
 *     children, parents   evpoll_nest_lock
 *     loop_gen, loop_up, loop_down        evpoll_nest_lock
 *     path_gen            mtx
 *     nests               poll_wait.lock of the instance below (see above)
 *     user, file          immutable
 *     tombs, inflight, v2_seq   wq.lock
 *     uevs                set once under mtx (smp_store_release), read
 *                         with smp_load_acquire; freed at destroy
 *     ring                set once under mtx AND wq.lock, read under
 *                         either; freed at destroy (see "Event ring")
 *     fref_spare          mtx (fref.c's evpoll_fref_get() under it)
 *   struct evpoll_item:
 *     rbn, hook0, data    mtx (hook0.wait: the target's queue lock)
 *     rdllink             wq.lock
 *     events              written with mtx AND wq.lock held; read under either
 *     ws                  written with mtx AND wq.lock held; read under either
 *     evp, fref, fd       immutable (the file is fref's)
 *     nest                immutable (NULL unless the target is an instance)
 *     hook0.wait.private  the item's struct evpoll_item_ext or NULL: set
 *                         under mtx AND wq.lock after hooking, read under
 *                         either (our wake function never uses ->private)
 *   struct evpoll_hook:
 *     wait                the target's wait-queue lock
 *     whead               set at queueing; cleared by the POLLFREE wake-up
 *                         (smp_store_release), read with smp_load_acquire
 *                         under rcu_read_lock() at removal
 *
 * Context of each entry point (see Documentation/locking.rst):
 *   evpoll_core_ctl, evpoll_core_wait, evpoll_core_poll,
 *   evpoll_core_show_fdinfo, evpoll_core_destroy,
 *   evpoll_core_forget_file, evp_reaper_fn: process context, may sleep
 *   evp_wake:                      any context, under a target's wq lock
 *
 * Ready-list states of an item (rdllink, under wq.lock):
 *   unlinked  -> on evp->rdllist            evp_wake(), insert, modify,
 *                                            LT re-queue after delivery
 *   rdllist   -> a delivery's private txlist (evp_send_events() splices)
 *   txlist    -> unlinked                   taken for delivery / re-check
 *   txlist    -> rdllist (head)             not reached before maxevents
 * While an item sits on a txlist, evp_wake() sees it linked and leaves it
 * alone; the delivery re-polls it afterwards, so no event is lost.  Once
 * taken off, a wake-up links it to evp->rdllist again.
 *
 * Removal paths (all under evp->mtx, so they exclude each other and
 * delivery): EVPOLL_CTL_DEL; insert rollback; instance destroy; orphaned
 * file (at delivery, and from the reaper, see "Reaper" below); FORGET.  Each
 * unhooks the item from the target wait queues first (after which no
 * callback can see it), then unlinks it from the ready list, then frees it.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/lockdep.h>
#include <linux/magic.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/device.h>	/* wakeup sources */
#include <linux/poll.h>
#include <linux/rbtree.h>
#include <linux/rcupdate.h>
#include <linux/sched/rt.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <uapi/linux/evpoll.h>
#include "evpoll_int.h"

struct evpoll {
	struct mutex mtx;		/* see LOCKING */
	wait_queue_head_t wq;		/* WAIT sleepers; wq.lock = ready lock */
	wait_queue_head_t poll_wait;	/* tasks poll()ing the instance */
	struct list_head rdllist;	/* ready items, FIFO */
	struct rb_root items;		/* interest set by (file, fd) */
	unsigned long nr_items;
	struct evpoll_user *user;	/* charged for each item */
	struct file *file;		/* the instance's own file */
	unsigned long reap_due;		/* reaper: next pass (jiffies) */
	unsigned long reap_armed;	/* reaper: when the set became non-empty */
	unsigned long reap_nr_seen;	/* reaper: nr_items when last looked */
	struct list_head instance_link;	/* in evpoll_instances */
	u64 nr_wakeups;			/* callbacks that queued an item */
	u64 nr_delivered;		/* events copied to user space */
	u64 nr_stale;			/* ready items found not ready */
	u64 nr_reaped;			/* items dropped: file orphaned */
	struct list_head children;	/* evpoll_nest of items on instances */
	struct list_head parents;	/* evpoll_nest of items watching us */
	u64 loop_gen;			/* loop check memo: generation, */
	int loop_up, loop_down;		/* and depths above/below us */
	u64 path_gen;			/* path check memo (evp_subtree_check) */
	u8 nests;			/* wake-up nesting level (lockdep) */
	u8 reap_backoff;		/* reaper: busy retries, doublings */
	u8 reap_shift;			/* reaper: period doublings (idle) */
	bool reap_found;		/* reaper: orphan found since last pass */
	int reap_fd;			/* reaper: last key seen, with */
	const struct file *reap_file;	/* (NULL: start a new pass) */
	bool reap_wanted;		/* reaper found mtx busy: holder reaps */
	bool scanning;			/* ready items are on a txlist */
	/* Version 2, see "Version 2" below */
	struct list_head tombs;		/* queued tombstones, by seq */
	struct list_head inflight;	/* waits in progress, by seq */
	u64 v2_seq;			/* last seq given out */
	struct evpoll_uevs *uevs;	/* user events (user.c), or NULL */
	struct evpoll_kring *ring;	/* event ring (ring.c), or NULL */
	struct evpoll_fref *fref_spare;	/* for the next evpoll_fref_get() */
};

struct evpoll_hook {
	wait_queue_entry_t wait;	/* on the target's wait queue */
	wait_queue_head_t *whead;	/* that queue; NULL after POLLFREE */
	struct evpoll_item *item;
	struct evpoll_hook *next;
};

struct evpoll_item {
	struct rb_node rbn;		/* in evp->items */
	struct list_head rdllink;	/* in evp->rdllist or a txlist */
	struct evpoll *evp;
	int fd;				/* key, with the fref's file */
	__poll_t events;		/* EPOLL* mask and input flags */
	u64 data;			/* user data */
	struct evpoll_fref *fref;	/* pins the file (evpi_file()) */
	struct wakeup_source *ws;	/* EPOLLWAKEUP */
	struct evpoll_nest *nest;	/* target is an evpoll instance */
	/*
	 * Most files expose one wait queue: its hook lives in the item (no
	 * second allocation per ADD); more are chained from hook0.next.
	 */
	struct evpoll_hook hook0;	/* in use once hook0.item is set */
};

/* The edge "item (in item->evp) watches instance target". */
struct evpoll_nest {
	struct list_head child_link;	/* in item->evp->children */
	struct list_head parent_link;	/* in target->parents */
	struct evpoll_item *item;
	struct evpoll *target;
};

/* vfs_poll() argument while an item is being hooked. */
struct evpoll_pqueue {
	poll_table pt;
	struct evpoll_item *item;	/* NULL once a hook allocation failed */
};

static struct kmem_cache *item_cache __read_mostly;
static struct kmem_cache *hook_cache __read_mostly;

static DEFINE_SPINLOCK(evpoll_nest_lock);
static u64 evpoll_loop_gen;		/* evpoll_nest_lock */

/* Version 2 (the section "Version 2" near the end of this file). */
struct evp_inflight;
static void evpi_count_wake(struct evpoll_item *item);
static void evpi_count(struct evpoll_item *item, bool delivered);
static void evpi_ext_free(struct evpoll_item *item);
static void evp_drop_orphan(struct evpoll *evp, struct evpoll_item *item);
static void evp_inflight_enter_locked(struct evpoll *evp,
				      struct evp_inflight *self);
static bool evp_inflight_leave_locked(struct evpoll *evp,
				      struct evp_inflight *self);
static bool evp_v2_available(struct evpoll *evp);
static bool evp_v2_ready_locked(struct evpoll *evp,
				const struct evp_inflight *self);
static int evp_v2_item_ctl(struct evpoll *evp, struct evpoll_item *item,
			   u32 op);
static bool evp_v2_wanted(struct evpoll *evp, __poll_t events);
static int evp_v2_attach(struct evpoll *evp, struct file *tfile, int fd,
			 u32 op);
static void evp_v2_show_item(struct evpoll_item *item, struct seq_file *m);
static __poll_t evp_v2_poll(struct evpoll *evp);
static bool evp_ring_wake(struct evpoll *evp, struct evpoll_item *item,
			  __poll_t pollflags, int sync);

static inline struct evpoll_hook *hook_from_wait(wait_queue_entry_t *wait)
{
	return container_of(wait, struct evpoll_hook, wait);
}

/* The watched file, pinned by the item's fref (fref.c). */
static inline struct file *evpi_file(const struct evpoll_item *item)
{
	return evpoll_fref_file(item->fref);
}

static inline bool evpi_is_linked(const struct evpoll_item *item)
{
	return !list_empty(&item->rdllink);
}

static inline bool evpi_is_enabled(const struct evpoll_item *item)
{
	return (item->events & ~EVPOLL_PRIVATE_BITS) &&
	       !(item->events & EVPOLL_IDISABLED);
}

/*
 * Lockless peek before a WAIT's first delivery attempt (a sleeper checks
 * again under the ready lock; ->poll() only checks under it).  While a
 * delivery or re-check holds the ready items on its private list, events
 * count as available (epoll's ovflist test does the same): a concurrent
 * waiter then queues behind evp->mtx and sees the level-triggered items
 * put back, instead of returning empty-handed.
 */
static inline bool evp_events_available(struct evpoll *evp)
{
	return !list_empty_careful(&evp->rdllist) || READ_ONCE(evp->scanning);
}

/*
 * Take the ready list private (delivery, re-check).  A delivery's @self
 * (NULL for a re-check) enters evp->inflight in the same hold of the
 * ready lock, before anything is delivered.
 */
static void evp_start_scan(struct evpoll *evp, struct list_head *txlist,
			   struct evp_inflight *self)
{
	lockdep_assert_held(&evp->mtx);
	spin_lock_irq(&evp->wq.lock);
	if (self)
		evp_inflight_enter_locked(evp, self);
	list_splice_init(&evp->rdllist, txlist);
	WRITE_ONCE(evp->scanning, true);
	spin_unlock_irq(&evp->wq.lock);
}

/*
 * Wake tasks poll()ing the instance (and instances watching it).  @item is
 * the item whose wake-up got us here, NULL when not called from
 * evp_wake().  @uring is EPOLL_URING_WAKE if that wake-up came from an
 * io_uring posting a completion: passed up as epoll does, it tells a ring
 * polling this instance not to re-arm a multishot poll, which would
 * otherwise loop (ring -> instance -> ring ...).  With lockdep, each
 * poll_wait.lock up a chain of nested instances is taken one subclass
 * deeper (ep_poll_safewake() does the same): the level below is stable,
 * as its own poll_wait.lock is held.
 */
static void evp_wake_pollers(struct evpoll *evp, struct evpoll_item *item,
			     __poll_t uring)
{
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	unsigned long flags;
	u8 nests = 0;

	if (item)
		nests = item->nest ? item->nest->target->nests : 1;
	spin_lock_irqsave_nested(&evp->poll_wait.lock, flags, nests);
	evp->nests = nests + 1;
	wake_up_locked_poll(&evp->poll_wait, EPOLLIN | EPOLLRDNORM | uring);
	evp->nests = 0;
	spin_unlock_irqrestore(&evp->poll_wait.lock, flags);
#else
	wake_up_poll(&evp->poll_wait, EPOLLIN | EPOLLRDNORM | uring);
#endif
}

/* Wake WAIT (and RING_ENTER) sleepers, passing the waker's sync hint on. */
static void evp_wake_waiters_locked(struct evpoll *evp, int sync)
{
	lockdep_assert_held(&evp->wq.lock);
	/* Sleepers queue themselves under wq.lock, held here: no race. */
	if (waitqueue_active(&evp->wq)) {
		if (sync)
			__wake_up_locked_sync_key(&evp->wq, TASK_NORMAL, NULL);
		else
			wake_up_locked(&evp->wq);
	}
}

/*
 * Queue an item on the ready list and wake one sleeper.  Returns true if
 * tasks poll()ing the instance should be woken too (outside the lock).
 */
static bool evp_make_ready(struct evpoll *evp, struct evpoll_item *item,
			   int sync)
{
	bool queued = false;

	lockdep_assert_held(&evp->wq.lock);

	if (!evpi_is_linked(item)) {
		list_add_tail(&item->rdllink, &evp->rdllist);
		if (item->ws)
			__pm_stay_awake(item->ws);
		queued = true;
		if (unlikely(evp->ring))	/* reported by RING_ENTER */
			evpoll_ring_flag_enter(evp->ring);
	}
	/*
	 * Sleepers queue themselves under wq.lock (held here) after checking
	 * the ready list, and poll_wait() callers re-check through
	 * evpoll_core_poll(): neither check can miss the item just queued.
	 * The waker's sync hint is passed on, as epoll does since 6.13.
	 */
	evp_wake_waiters_locked(evp, sync);
	/*
	 * poll_wait() sleepers re-check the list in evpoll_core_poll(), and
	 * they were woken when the item was queued: an item already on a
	 * ready list (or a delivery's private list) wakes no poller again,
	 * so a wake-up does not fan out through every instance above this
	 * one for each event of an item that is already reported ready.  A
	 * poller that re-checked since found the list without the item (the
	 * re-check unlinks each item before it polls it), so the item was
	 * queued, and pollers woken, after that.
	 */
	return queued && waitqueue_active(&evp->poll_wait);
}

/*
 * evp_wake - wait-queue callback: the target file has (maybe) events
 *
 * Runs under the target's wait-queue lock, in any context.  Returning 1
 * tells an exclusive wake-up walk (EPOLLEXCLUSIVE) that a waiter was woken
 * here and it may stop, so exclusive items only claim that when one of our
 * own waiters really is woken for an event it asked for (as epoll).
 */
static int evp_wake(wait_queue_entry_t *wait, unsigned int mode, int sync,
		    void *key)
{
	struct evpoll_hook *hook = hook_from_wait(wait);
	struct evpoll_item *item = hook->item;
	struct evpoll *evp = item->evp;
	__poll_t pollflags = key_to_poll(key);
	unsigned long flags;
	bool pwake = false;
	int ewake = 0;

	spin_lock_irqsave(&evp->wq.lock, flags);
	/* Disabled (one-shot fired), or not an event this item wants. */
	if (!evpi_is_enabled(item))
		goto out_unlock;
	if (pollflags && !(pollflags & item->events))
		goto out_unlock;

	/* Sleepers queue under wq.lock (held): one is woken just below. */
	if (waitqueue_active(&evp->wq) &&
	    (item->events & EPOLLEXCLUSIVE) && !(pollflags & POLLFREE)) {
		switch (pollflags & (EPOLLIN | EPOLLOUT)) {
		case EPOLLIN:
			ewake = !!(item->events & EPOLLIN);
			break;
		case EPOLLOUT:
			ewake = !!(item->events & EPOLLOUT);
			break;
		case 0:
			ewake = 1;
			break;
		}
	}
	evp->nr_wakeups++;
	evpi_count_wake(item);
	if (unlikely(evp->ring))	/* post to the event ring (ring.c) */
		pwake = evp_ring_wake(evp, item, pollflags, sync);
	else
		pwake = evp_make_ready(evp, item, sync);
out_unlock:
	spin_unlock_irqrestore(&evp->wq.lock, flags);

	if (pwake)
		evp_wake_pollers(evp, item, pollflags & EPOLL_URING_WAKE);
	if (!(item->events & EPOLLEXCLUSIVE))
		ewake = 1;

	if (pollflags & POLLFREE) {
		/*
		 * The queue head is about to be freed (RCU-delayed): unhook
		 * now.  Once whead is NULL nothing protects item or hook, so
		 * this is the last access.
		 */
		list_del_init(&wait->entry);
		/* Pairs with smp_load_acquire() in evpi_unhook_one(). */
		smp_store_release(&hook->whead, NULL);
	}
	return ewake;
}

/* poll_table queue function: hook the item onto one target wait queue. */
static void evp_queue_proc(struct file *file, wait_queue_head_t *whead,
			   poll_table *pt)
{
	struct evpoll_pqueue *epq = container_of(pt, struct evpoll_pqueue, pt);
	struct evpoll_item *item = epq->item;
	struct evpoll_hook *hook;

	if (unlikely(!item))	/* an earlier allocation failed */
		return;
	lockdep_assert_held(&item->evp->mtx);	/* hook0 and its chain */
	if (!item->hook0.item) {
		hook = &item->hook0;
		hook->next = NULL;
	} else {
		hook = kmem_cache_alloc(hook_cache, GFP_KERNEL_ACCOUNT);
		if (unlikely(!hook)) {
			epq->item = NULL;
			return;
		}
		hook->next = item->hook0.next;
		item->hook0.next = hook;
	}
	init_waitqueue_func_entry(&hook->wait, evp_wake);
	hook->whead = whead;
	hook->item = item;
	if (item->events & EPOLLEXCLUSIVE)
		add_wait_queue_exclusive(whead, &hook->wait);
	else
		add_wait_queue(whead, &hook->wait);
}

static __poll_t evp_check_ready(struct evpoll *evp, int depth);

/*
 * The item's current events.  With a queueing @pt (insert), this also
 * hooks the item onto the target's wait queues.  A target that is itself
 * an instance is polled directly one level deeper, so that lockdep sees
 * the nesting (vfs_poll() could not pass the depth on).
 */
static __poll_t evpi_poll(struct evpoll_item *item, poll_table *pt,
			  int depth)
{
	__poll_t res;

	lockdep_assert_held(&item->evp->mtx);
	pt->_key = item->events;
	if (item->nest) {
		struct evpoll *target = item->nest->target;

		poll_wait(evpi_file(item), &target->poll_wait, pt);
		res = evp_check_ready(target, depth + 1);
	} else {
		res = vfs_poll(evpi_file(item), pt);
	}
	if (item->events & EVPOLL_IDISABLED)	/* hooked, but not reported */
		return 0;
	return res & item->events;
}

/* Re-poll without hooking (delivery, MOD, the ->poll() re-check). */
static __poll_t evpi_repoll(struct evpoll_item *item, int depth)
{
	poll_table pt;

	init_poll_funcptr(&pt, NULL);
	return evpi_poll(item, &pt, depth);
}

static void evpi_unhook_one(struct evpoll_hook *hook)
{
	wait_queue_head_t *whead;

	rcu_read_lock();
	/* Pairs with smp_store_release() in evp_wake() (POLLFREE). */
	whead = smp_load_acquire(&hook->whead);
	if (whead)
		remove_wait_queue(whead, &hook->wait);
	rcu_read_unlock();
}

static void evpi_unhook(struct evpoll_item *item)
{
	struct evpoll_hook *hook, *next;

	lockdep_assert_held(&item->evp->mtx);
	if (!item->hook0.item)
		return;
	for (hook = item->hook0.next; hook; hook = next) {
		next = hook->next;
		evpi_unhook_one(hook);
		kmem_cache_free(hook_cache, hook);
	}
	evpi_unhook_one(&item->hook0);
	item->hook0.item = NULL;
}

static int evpi_set_wakeup(struct evpoll_item *item, __poll_t events)
{
	struct evpoll *evp = item->evp;
	struct wakeup_source *ws = NULL, *old;

	lockdep_assert_held(&evp->mtx);
	if ((events & EPOLLWAKEUP) && !item->ws) {
		ws = wakeup_source_register(NULL, "evpoll");
		if (!ws)
			return -ENOMEM;
	} else if (events & EPOLLWAKEUP) {
		return 0;
	}
	spin_lock_irq(&evp->wq.lock);
	old = item->ws;
	item->ws = ws;
	spin_unlock_irq(&evp->wq.lock);
	if (old) {
		__pm_relax(old);
		wakeup_source_unregister(old);
	}
	return 0;
}

/*
 * Longest chain of nesting edges below @evp, memoised per check; the
 * graph is kept acyclic and at most EVPOLL_MAX_NESTS deep, so the recursion
 * is bounded.  Returns EVPOLL_MAX_NESTS + 1 if @into is reachable (a cycle).
 */
static int evp_depth_down(struct evpoll *evp, struct evpoll *into)
{
	struct evpoll_nest *nest;
	int depth = 0;

	lockdep_assert_held(&evpoll_nest_lock);
	if (evp->loop_gen == evpoll_loop_gen && evp->loop_down >= 0)
		return evp->loop_down;
	evp->loop_gen = evpoll_loop_gen;
	evp->loop_up = -1;
	list_for_each_entry(nest, &evp->children, child_link) {
		if (nest->target == into)
			return EVPOLL_MAX_NESTS + 1;
		depth = max(depth, evp_depth_down(nest->target, into) + 1);
		if (depth > EVPOLL_MAX_NESTS)
			return depth;
	}
	evp->loop_down = depth;
	return depth;
}

/* Longest chain of nesting edges above @evp (instances watching it). */
static int evp_depth_up(struct evpoll *evp)
{
	struct evpoll_nest *nest;
	int depth = 0;

	lockdep_assert_held(&evpoll_nest_lock);
	if (evp->loop_gen == evpoll_loop_gen && evp->loop_up >= 0)
		return evp->loop_up;
	if (evp->loop_gen != evpoll_loop_gen) {
		evp->loop_gen = evpoll_loop_gen;
		evp->loop_down = -1;
	}
	list_for_each_entry(nest, &evp->parents, parent_link)
		depth = max(depth, evp_depth_up(nest->item->evp) + 1);
	evp->loop_up = depth;
	return depth;
}

/*
 * Link the edge "item in @evp watches instance @target", unless it would
 * close a cycle or make a chain longer than EVPOLL_MAX_NESTS edges (the
 * rule of epoll's ep_loop_check()).  Check and link under one lock.
 */
static int evp_nest_link(struct evpoll *evp, struct evpoll *target,
			 struct evpoll_nest *nest)
{
	int err = 0;

	spin_lock(&evpoll_nest_lock);
	evpoll_loop_gen++;
	evp->loop_gen = evpoll_loop_gen;	/* "into": never memoised */
	evp->loop_down = -1;
	evp->loop_up = -1;
	if (evp_depth_down(target, evp) + 1 + evp_depth_up(evp) >
	    EVPOLL_MAX_NESTS) {
		err = -ELOOP;
	} else {
		nest->target = target;
		list_add(&nest->child_link, &evp->children);
		list_add(&nest->parent_link, &target->parents);
	}
	spin_unlock(&evpoll_nest_lock);
	return err;
}

static void evp_nest_unlink(struct evpoll_nest *nest)
{
	spin_lock(&evpoll_nest_lock);
	list_del(&nest->child_link);
	list_del(&nest->parent_link);
	spin_unlock(&evpoll_nest_lock);
	kfree(nest);
}

/*
 * Wake-up paths
 * -------------
 * A wake-up of a file runs the callback of every item watching it, and
 * each queued item wakes the pollers of its instance, so a file watched
 * through layers of nested instances fans out to every path up to the
 * top.  epoll bounds that in reverse_path_check(): from a file, at most
 * evp_path_limits[n] paths of n + 1 edges may end at an unwatched
 * instance, for n >= 1 (epoll never applies the limit of paths of one
 * edge, evp_path_limits[0]).  The same rule here, with
 * the same result (EINVAL, the new item removed again) for the same ADD:
 * checked, as epoll does, when the target is an instance (every file
 * watched below it) or when the instance added to is itself watched (the
 * target file).  A file's watchers are found on the wait queue its item
 * hooked: every item on a file hooks the queues the file's ->poll()
 * names.  Lock order: evp->mtx of the instances below (subtree walk, one
 * lockdep subclass per level), evpoll_nest_lock, the file's queue lock.
 */
static const int evp_path_limits[EVPOLL_MAX_NESTS + 1] = {
	1000, 500, 100, 50, 10
};

/* Count the paths from @evp up to an unwatched instance, by length. */
static int evp_path_count_up(struct evpoll *evp, int depth, int *count)
{
	struct evpoll_nest *nest;
	int err;

	lockdep_assert_held(&evpoll_nest_lock);
	if (depth > EVPOLL_MAX_NESTS)
		return -EINVAL;
	if (list_empty(&evp->parents)) {
		/* As epoll's path_count_inc(): depth 0 is not limited. */
		if (depth && ++count[depth] > evp_path_limits[depth])
			return -EINVAL;
		return 0;
	}
	list_for_each_entry(nest, &evp->parents, parent_link) {
		err = evp_path_count_up(nest->item->evp, depth + 1, count);
		if (err)
			return err;
	}
	return 0;
}

/*
 * All paths from the file of @item (not an instance) to the top, through
 * every item watching that file, in any instance.  The item's instance
 * mtx is held; the hooks found on the queue cannot go away while its lock
 * is held, nor their instances (emptied before they are freed), nor the
 * instances above them (their edges are removed under evpoll_nest_lock).
 */
static int evp_file_path_check(struct evpoll_item *item)
{
	int count[EVPOLL_MAX_NESTS + 1] = { 0 };
	wait_queue_head_t *whead;
	wait_queue_entry_t *wait;
	int err = 0;

	lockdep_assert_held(&item->evp->mtx);
	if (!item->hook0.item)
		return 0;	/* no wait queue: it never wakes anyone */
	spin_lock(&evpoll_nest_lock);
	rcu_read_lock();
	/* Pairs with smp_store_release() in evp_wake() (POLLFREE). */
	whead = smp_load_acquire(&item->hook0.whead);
	if (whead) {
		spin_lock_irq(&whead->lock);
		list_for_each_entry(wait, &whead->head, entry) {
			if (wait->func != evp_wake)
				continue;
			err = evp_path_count_up(hook_from_wait(wait)->item->evp,
						0, count);
			if (err)
				break;
		}
		spin_unlock_irq(&whead->lock);
	}
	rcu_read_unlock();
	spin_unlock(&evpoll_nest_lock);
	return err;
}

/*
 * Check every file watched at or below @evp (an instance that just got a
 * watcher), each instance once per check (@gen).  @depth is @evp's level
 * below the caller's instance, the lockdep subclass of its mtx.
 */
static int evp_subtree_check(struct evpoll *evp, int depth, u64 gen)
{
	struct rb_node *rbn;
	int err = 0;

	if (depth > EVPOLL_MAX_NESTS)
		return -EINVAL;
	mutex_lock_nested(&evp->mtx, depth);
	if (evp->path_gen == gen)
		goto out_unlock;
	evp->path_gen = gen;
	for (rbn = rb_first(&evp->items); rbn && !err; rbn = rb_next(rbn)) {
		struct evpoll_item *item = rb_entry(rbn, struct evpoll_item,
						    rbn);

		if (item->nest)
			err = evp_subtree_check(item->nest->target, depth + 1,
						gen);
		else
			err = evp_file_path_check(item);
	}
out_unlock:
	mutex_unlock(&evp->mtx);
	return err;
}

static atomic64_t evpoll_path_gen = ATOMIC64_INIT(0);

/* After hooking @item in @evp: would its new paths exceed epoll's limits? */
static int evp_path_check(struct evpoll *evp, struct evpoll_item *item)
{
	bool watched;

	lockdep_assert_held(&evp->mtx);
	if (item->nest)
		return evp_subtree_check(item->nest->target, 1,
					 atomic64_inc_return(&evpoll_path_gen));
	spin_lock(&evpoll_nest_lock);
	watched = !list_empty(&evp->parents);
	spin_unlock(&evpoll_nest_lock);
	return watched ? evp_file_path_check(item) : 0;
}

static void evp_remove(struct evpoll *evp, struct evpoll_item *item)
{
	lockdep_assert_held(&evp->mtx);

	evpi_unhook(item);	/* from here on no evp_wake() sees item */
	spin_lock_irq(&evp->wq.lock);
	list_del_init(&item->rdllink);
	spin_unlock_irq(&evp->wq.lock);
	rb_erase(&item->rbn, &evp->items);
	evp->nr_items--;
	if (item->nest)
		evp_nest_unlink(item->nest);
	if (item->ws) {
		__pm_relax(item->ws);
		wakeup_source_unregister(item->ws);
	}
	evpi_ext_free(item);
	evpoll_fref_put(item->fref);
	evpoll_user_uncharge(evp->user);
	kmem_cache_free(item_cache, item);
}

static int evp_cmp(const struct file *f1, int fd1, const struct evpoll_item *b)
{
	const struct file *f2 = evpi_file(b);

	if (f1 != f2)
		return f1 > f2 ? 1 : -1;
	return fd1 - b->fd;
}

/*
 * Where a missing key would be linked, found by the lookup that missed
 * (evp_find_slot()), so that ADD walks the tree once.  @fref is the fref
 * of an item with the same file and another fd, if the instance has one:
 * items of one file are neighbours in the tree, and a search that misses
 * passes both neighbours of the missing key, so it sees one of them.
 * Valid while evp->mtx stays held and the tree is not changed.
 */
struct evp_slot {
	struct rb_node *parent;
	struct rb_node **link;
	struct evpoll_fref *fref;
};

static struct evpoll_item *evp_find_slot(struct evpoll *evp,
					 struct file *file, int fd,
					 struct evp_slot *slot)
{
	struct rb_node **p = &evp->items.rb_node, *parent = NULL;
	struct evpoll_fref *fref = NULL;

	lockdep_assert_held(&evp->mtx);
	while (*p) {
		struct evpoll_item *item = rb_entry(*p, struct evpoll_item,
						    rbn);
		int cmp = evp_cmp(file, fd, item);

		if (!cmp)
			return item;
		if (evpi_file(item) == file)
			fref = item->fref;
		parent = *p;
		p = cmp > 0 ? &parent->rb_right : &parent->rb_left;
	}
	slot->parent = parent;
	slot->link = p;
	slot->fref = fref;
	return NULL;
}

static struct evpoll_item *evp_find(struct evpoll *evp, struct file *file,
				    int fd)
{
	struct evp_slot slot;

	return evp_find_slot(evp, file, fd, &slot);
}

/*
 * Reaper
 * ------
 * A module has no hook in __fput(), so items whose file was closed without
 * EVPOLL_CTL_DEL (orphaned, see fref.c) are found by looking: at delivery
 * (evp_send_events()), by EVPOLL_IOC_FORGET before a cooperative close
 * (evpoll_core_forget_file()), and by this reaper, the backstop for everything
 * else.  Its period, its arming and its walk are all here.
 *
 * One work item serves every instance: a deferrable delayed work (its
 * timer never wakes an idle CPU; it runs with that CPU's next wake-up).
 * Each instance that watches anything has a due time (reap_due) and a
 * back-off exponent (reap_shift): its next pass comes reap_interval_ms <<
 * reap_shift after the last one.  A pass that finds nothing doubles the
 * period, up to reap_interval_ms << EVP_REAP_SHIFT_MAX; an orphan found
 * (by a pass or at delivery) brings it back to reap_interval_ms.  An
 * instance whose set was empty starts at reap_interval_ms <<
 * EVP_REAP_SHIFT_FRESH: a fresh set is not walked at once, and one still
 * growing when that time comes (a program adding its fds) gets another
 * fresh period, as long as its first pass stays within the longest
 * period of the set becoming non-empty.  An instance
 * that watches nothing has no due time and costs nothing: the work is
 * only armed while some instance watches something, for the earliest due
 * time (due times within half a period are served by the same run).
 *
 * Close latency for raw-ioctl users (Documentation/design.rst): an idle
 * orphan is dropped within reap_interval_ms << EVP_REAP_SHIFT_MAX (64
 * periods: 16 s at the default 250 ms) plus the time of one pass, plus
 * whatever deferral the timer sees on an idle CPU; an orphan with events
 * at the next delivery.
 *
 * The work runs in a shared workqueue, so it never sleeps on evp->mtx,
 * which a user can hold for as long as a page fault on its events buffer
 * (userfaultfd, FUSE) or a target's ->poll() takes: it only trylocks, and
 * when the mutex is busy sets reap_wanted and tries again after one
 * jiffy, then twice as long each time, up to one period.  A task that
 * holds the mutex can keep it busy for good (a thread doing ctl calls
 * back to back), so the next ctl or WAIT, before it releases the mutex,
 * does one batch of the pass itself (evp_reap_if_wanted()): the pass makes
 * progress at the pace of the holder, at the holder's cost, and its cursor
 * (the last key seen) is kept under the mutex for whichever side
 * continues it.  The walk takes EVP_REAP_BATCH items per hold of the
 * mutex and reschedules between batches.
 *
 * Every instance is on evpoll_instances.  evpoll_instances_lock (a leaf
 * spinlock, taken inside evp->mtx, never around it) protects the list and
 * the work's arming state (evp_reaper_armed, evp_reaper_expires).  The
 * work pins the instance it walks by a reference on its file (an instance
 * whose file is being released is skipped), so it walks the list with
 * the lock dropped around each instance.  Setting reap_interval_ms
 * restarts every instance's schedule (fresh) and re-arms the work; 0
 * stops it (a run that finds 0 does nothing and does not re-arm).
 * reap_due and reap_shift are written under evp->mtx, and also by the
 * work (busy retries) and by a reap_interval_ms write without it: racing
 * writes each leave a valid schedule no later than one maximal period.
 */
static unsigned int reap_interval_ms = 250;
static LIST_HEAD(evpoll_instances);
static DEFINE_SPINLOCK(evpoll_instances_lock);

/* Back-off: a fresh set's first pass, and the longest period. */
#define EVP_REAP_SHIFT_FRESH	4	/* 16 periods: 4 s at 250 ms */
#define EVP_REAP_SHIFT_MAX	6	/* 64 periods: 16 s at 250 ms */

static void evp_reaper_fn(struct work_struct *work);
static DECLARE_DEFERRABLE_WORK(evp_reaper, evp_reaper_fn);
static bool evp_reaper_armed;		/* evpoll_instances_lock */
static unsigned long evp_reaper_expires; /* evpoll_instances_lock */
/* Root-only sysfs counters (main.c): runs of the work, completed walks. */
static atomic_long_t evp_reaper_nr_runs = ATOMIC_LONG_INIT(0);
static atomic_long_t evp_reaper_nr_passes = ATOMIC_LONG_INIT(0);

unsigned long evpoll_core_reaper_runs(void)
{
	return atomic_long_read(&evp_reaper_nr_runs);
}

unsigned long evpoll_core_reaper_passes(void)
{
	return atomic_long_read(&evp_reaper_nr_passes);
}

/* The reaper's period in jiffies, at least one; 0 when reaping is off. */
static unsigned long evp_reap_period(void)
{
	unsigned int ms = READ_ONCE(reap_interval_ms);

	return ms ? max(msecs_to_jiffies(ms), 1UL) : 0;
}

/* Make the work run no later than @due (jiffies). */
static void evp_reaper_want(unsigned long due)
{
	unsigned long now = jiffies;

	spin_lock(&evpoll_instances_lock);
	if (!evp_reaper_armed || time_before(due, evp_reaper_expires)) {
		evp_reaper_armed = true;
		evp_reaper_expires = due;
		mod_delayed_work(system_unbound_wq, &evp_reaper,
				 time_after(due, now) ? due - now : 0);
	}
	spin_unlock(&evpoll_instances_lock);
}

/*
 * A fresh set's first pass: 16 periods from now, rounded up to a grid of
 * 4 to 8 periods (a power of two of jiffies), so that sets made over a
 * few seconds (a program opening many instances) share the work's runs
 * instead of spreading one run per half period over that time.  At most
 * 24 periods: within the longest period, so the bound does not move.
 */
static unsigned long evp_reap_fresh_due(unsigned long now)
{
	unsigned long period = evp_reap_period();
	unsigned long grid = roundup_pow_of_two(period) << 2;

	return round_up(now + (period << EVP_REAP_SHIFT_FRESH), grid);
}

/* Schedule @evp's next pass @shift doublings of the period from now. */
static unsigned long evp_reap_plan(struct evpoll *evp, unsigned int shift)
{
	unsigned long due = shift == EVP_REAP_SHIFT_FRESH ?
			    evp_reap_fresh_due(jiffies) :
			    jiffies + (evp_reap_period() << shift);

	WRITE_ONCE(evp->reap_shift, shift);
	WRITE_ONCE(evp->reap_due, due);
	return due;
}

static int evp_reap_interval_set(const char *val,
				 const struct kernel_param *kp)
{
	unsigned long due = 0;
	struct evpoll *evp;
	int err;

	err = param_set_uint(val, kp);
	if (err || !READ_ONCE(reap_interval_ms))
		return err;
	spin_lock(&evpoll_instances_lock);
	list_for_each_entry(evp, &evpoll_instances, instance_link)
		due = evp_reap_plan(evp, EVP_REAP_SHIFT_FRESH);
	spin_unlock(&evpoll_instances_lock);
	if (due)
		evp_reaper_want(jiffies + evp_reap_period());
	return 0;
}

static const struct kernel_param_ops evp_reap_interval_ops = {
	.set	= evp_reap_interval_set,
	.get	= param_get_uint,
};
module_param_cb(reap_interval_ms, &evp_reap_interval_ops, &reap_interval_ms,
		0644);
MODULE_PARM_DESC(reap_interval_ms,
		 "base period (ms) of the backstop that drops items whose file was closed without DEL; idle instances back off to 64 periods; 0 = only at delivery and FORGET (default 250)");

/* The set just became non-empty: its first pass, reaper armed for it. */
static void evp_reap_arm(struct evpoll *evp)
{
	lockdep_assert_held(&evp->mtx);
	WRITE_ONCE(evp->reap_armed, jiffies);
	WRITE_ONCE(evp->reap_nr_seen, evp->nr_items);
	if (evp_reap_period() && evp->nr_items)
		evp_reaper_want(evp_reap_plan(evp, EVP_REAP_SHIFT_FRESH));
}

/*
 * A fresh set (no pass yet) still growing at its first due time: put the
 * first pass off by another fresh period, within the longest period of
 * the set becoming non-empty.  The reaper work only.
 */
static bool evp_reap_postpone(struct evpoll *evp, unsigned long now)
{
	/* data_race: a stale nr_items only decides one postponement. */
	unsigned long nr = data_race(evp->nr_items);
	unsigned long period = evp_reap_period();
	unsigned long again = evp_reap_fresh_due(now);

	if (READ_ONCE(evp->reap_shift) != EVP_REAP_SHIFT_FRESH ||
	    nr == READ_ONCE(evp->reap_nr_seen) ||
	    time_after(again, READ_ONCE(evp->reap_armed) +
			      (period << EVP_REAP_SHIFT_MAX)))
		return false;
	WRITE_ONCE(evp->reap_nr_seen, nr);
	WRITE_ONCE(evp->reap_due, again);
	return true;
}

/* An orphan was found: activity, back to the shortest period. */
static void evp_reap_found(struct evpoll *evp)
{
	lockdep_assert_held(&evp->mtx);
	evp->reap_found = true;
	if (READ_ONCE(evp->reap_shift) && evp_reap_period())
		evp_reaper_want(evp_reap_plan(evp, 0));
}

/* Items the reaper checks per hold of evp->mtx. */
#define EVP_REAP_BATCH	1024

/* The first item whose key is greater than (@file, @fd), or NULL. */
static struct rb_node *evp_next_after(struct evpoll *evp,
				      const struct file *file, int fd)
{
	struct rb_node *rbp = evp->items.rb_node, *best = NULL;

	lockdep_assert_held(&evp->mtx);
	while (rbp) {
		struct evpoll_item *item = rb_entry(rbp, struct evpoll_item,
						    rbn);

		if (evp_cmp(file, fd, item) < 0) {
			best = rbp;
			rbp = rbp->rb_left;
		} else {
			rbp = rbp->rb_right;
		}
	}
	return best;
}

/*
 * One batch of @evp's pass: drop items whose file only evpoll still holds
 * (fref.c).  It walks the interest set in key order, EVP_REAP_BATCH items
 * per call, and resumes after the last key it saw: ctl and wait on a
 * large set never wait for a whole walk.  Items added behind the cursor
 * meanwhile are checked by the next pass.  evp->reap_file is only
 * compared, never dereferenced (its item may be gone).  At the end of the
 * walk, the next pass is planned (backed off unless an orphan was found).
 */
static bool evp_reap_batch(struct evpoll *evp)
{
	struct rb_node *rbn;
	unsigned int n;

	lockdep_assert_held(&evp->mtx);
	rbn = evp->reap_file ?
	      evp_next_after(evp, evp->reap_file, evp->reap_fd) :
	      rb_first(&evp->items);
	for (n = 0; rbn && n < EVP_REAP_BATCH; n++) {
		struct evpoll_item *item = rb_entry(rbn, struct evpoll_item,
						    rbn);

		rbn = rb_next(rbn);
		evp->reap_file = evpi_file(item);
		evp->reap_fd = item->fd;
		if (evpoll_fref_orphaned(item->fref))
			evp_drop_orphan(evp, item);
	}
	if (rbn)
		return false;
	evp->reap_file = NULL;	/* pass done */
	WRITE_ONCE(evp->reap_wanted, false);
	evp_reap_plan(evp, evp->reap_found ? 0 :
		      min_t(unsigned int, READ_ONCE(evp->reap_shift) + 1,
			    EVP_REAP_SHIFT_MAX));
	evp->reap_found = false;
	atomic_long_inc(&evp_reaper_nr_passes);
	return true;
}

/* Before a ctl or WAIT releases evp->mtx: the batch the work could not do. */
static void evp_reap_if_wanted(struct evpoll *evp)
{
	lockdep_assert_held(&evp->mtx);
	if (unlikely(READ_ONCE(evp->reap_wanted)))
		evp_reap_batch(evp);
}

/*
 * The work's pass over one instance (pinned by the caller): batches with
 * the mutex dropped in between; a busy mutex is left to its holder.
 */
static void evp_reap_instance(struct evpoll *evp)
{
	unsigned long busy;

	for (;;) {
		if (!mutex_trylock(&evp->mtx)) {
			/* Busy: never sleep on it here (see above). */
			busy = min(1UL << evp->reap_backoff,
				   evp_reap_period() ?: HZ);
			WRITE_ONCE(evp->reap_wanted, true);
			WRITE_ONCE(evp->reap_due, jiffies + busy);
			if ((1UL << evp->reap_backoff) < busy)
				evp->reap_backoff++;
			return;
		}
		evp->reap_backoff = 0;
		if (evp_reap_batch(evp)) {
			mutex_unlock(&evp->mtx);
			return;
		}
		mutex_unlock(&evp->mtx);
		cond_resched();
	}
}

static void evp_reaper_fn(struct work_struct *work)
{
	unsigned long now, due, next = 0, slack = evp_reap_period() / 2;
	struct evpoll *evp, *pinned = NULL;
	bool armed = false;

	atomic_long_inc(&evp_reaper_nr_runs);
	spin_lock(&evpoll_instances_lock);
	evp_reaper_armed = false;
	if (!evp_reap_period()) {	/* off: no re-arming */
		spin_unlock(&evpoll_instances_lock);
		return;
	}
	now = jiffies;
	list_for_each_entry(evp, &evpoll_instances, instance_link) {
		/* data_race: a stale nr_items costs one look, or one run. */
		if (!data_race(evp->nr_items))
			continue;
		if (!time_before(now + slack, READ_ONCE(evp->reap_due)))
			evp_reap_postpone(evp, now);
		due = READ_ONCE(evp->reap_due);
		if (time_before(now + slack, due) ||
		    !evpoll_file_tryget(evp->file)) {
			/*
			 * Not due; or being released (destroy empties it),
			 * then looked at again a period later at the latest.
			 */
			if (!time_before(now + slack, due))
				due = now + evp_reap_period();
			if (!armed || time_before(due, next))
				next = due;
			armed = true;
			continue;
		}
		/* Pinned: @evp stays on the list while the lock is dropped. */
		spin_unlock(&evpoll_instances_lock);
		if (pinned)
			fput(pinned->file);	/* a kworker: deferred */
		pinned = evp;
		evp_reap_instance(evp);
		cond_resched();
		spin_lock(&evpoll_instances_lock);
		/* data_race: as above. */
		if (data_race(evp->nr_items)) {
			due = READ_ONCE(evp->reap_due);
			if (!armed || time_before(due, next))
				next = due;
			armed = true;
		}
	}
	spin_unlock(&evpoll_instances_lock);
	if (pinned)
		fput(pinned->file);
	if (armed)
		evp_reaper_want(next);
}

/*
 * Add an item for (@tfile, @fd), missing from the set: @slot is where the
 * lookup that missed would link it (evp_find_slot(), evp->mtx held since).
 */
static int evp_insert(struct evpoll *evp, struct file *tfile, int fd,
		      __poll_t events, u64 data, const struct evp_slot *slot)
{
	struct evpoll_pqueue epq;
	struct evpoll_item *item;
	__poll_t revents;
	bool pwake = false;
	int err;

	lockdep_assert_held(&evp->mtx);
	item = kmem_cache_zalloc(item_cache, GFP_KERNEL_ACCOUNT);
	if (!item)
		return -ENOMEM;
	if (slot->fref) {	/* another fd of the file, in this set */
		evpoll_fref_hold(slot->fref);
		item->fref = slot->fref;
	} else {
		item->fref = evpoll_fref_get(tfile, &evp->fref_spare);
		if (IS_ERR(item->fref)) {
			err = PTR_ERR(item->fref);
			goto err_free_item;
		}
	}
	INIT_LIST_HEAD(&item->rdllink);
	item->evp = evp;
	item->fd = fd;
	item->events = events;
	item->data = data;
	if (evpoll_file_is_instance(tfile)) {
		item->nest = kzalloc(sizeof(*item->nest), GFP_KERNEL_ACCOUNT);
		if (!item->nest) {
			err = -ENOMEM;
			goto err_put_fref;
		}
		item->nest->item = item;
		err = evp_nest_link(evp, tfile->private_data, item->nest);
		if (err) {
			kfree(item->nest);
			goto err_put_fref;
		}
	}
	/* After the loop check: ELOOP wins over ENOSPC, as in epoll. */
	if (!evpoll_user_charge(evp->user)) {
		err = -ENOSPC;
		goto err_unlink_nest;
	}
	if (events & EPOLLWAKEUP) {
		item->ws = wakeup_source_register(NULL, "evpoll");
		if (!item->ws) {
			err = -ENOMEM;
			goto err_uncharge;
		}
	}
	/* Nothing above changed the tree: the slot is still where it goes. */
	rb_link_node(&item->rbn, slot->parent, slot->link);
	rb_insert_color(&item->rbn, &evp->items);
	evp->nr_items++;

	/* Hook onto the target's wait queues and read its state at once. */
	init_poll_funcptr(&epq.pt, evp_queue_proc);
	epq.item = item;
	revents = evpi_poll(item, &epq.pt, 0);
	if (unlikely(!epq.item)) {
		evp_remove(evp, item);	/* uncharges and frees */
		return -ENOMEM;
	}
	err = evp_path_check(evp, item);
	if (err) {
		evp_remove(evp, item);
		return err;
	}
	if (revents) {
		spin_lock_irq(&evp->wq.lock);
		pwake = evp_make_ready(evp, item, 0);
		spin_unlock_irq(&evp->wq.lock);
	}
	if (pwake)
		evp_wake_pollers(evp, NULL, 0);
	if (evp->nr_items == 1)
		evp_reap_arm(evp);
	return 0;

err_uncharge:
	evpoll_user_uncharge(evp->user);
err_unlink_nest:
	if (item->nest)
		evp_nest_unlink(item->nest);
err_put_fref:
	evpoll_fref_put(item->fref);
err_free_item:
	kmem_cache_free(item_cache, item);
	return err;
}

/* Re-poll @item (its mask just changed) and queue it if it has events. */
static void evp_queue_if_ready(struct evpoll *evp, struct evpoll_item *item)
{
	bool pwake = false;

	lockdep_assert_held(&evp->mtx);
	if (evpi_repoll(item, 0)) {
		spin_lock_irq(&evp->wq.lock);
		pwake = evp_make_ready(evp, item, 0);
		spin_unlock_irq(&evp->wq.lock);
	}
	if (pwake)
		evp_wake_pollers(evp, NULL, 0);
}

static int evp_modify(struct evpoll *evp, struct evpoll_item *item,
		      __poll_t events, u64 data)
{
	int err;

	lockdep_assert_held(&evp->mtx);
	err = evpi_set_wakeup(item, events);
	if (err)
		return err;
	spin_lock_irq(&evp->wq.lock);
	item->events = events;
	spin_unlock_irq(&evp->wq.lock);
	item->data = data;

	/*
	 * The unlock above orders the new mask before the poll below: an
	 * event the poll misses finds the new mask in evp_wake().
	 */
	evp_queue_if_ready(evp, item);
	return 0;
}

/*
 * An epoll instance?  fs/eventpoll.c's is_file_epoll() compares f_op,
 * which is not exported: an epoll file is an anonymous inode (its
 * superblock is anon_inodefs) named "[eventpoll]".  The name alone would
 * also match a FIFO or a file anyone can create with that name.
 */
static bool evp_file_is_epoll(const struct file *file)
{
	return file_inode(file)->i_sb->s_magic == ANON_INODE_FS_MAGIC &&
	       !strcmp(file->f_path.dentry->d_name.name, "[eventpoll]");
}

/**
 * evp_ctl - add, modify or remove a watched fd (epoll_ctl(2))
 * @evp:	the instance
 * @op:		EVPOLL_CTL_ADD, _MOD or _DEL; with @v2 also _DISABLE,
 *		_ENABLE, _DEL_NOTIFY
 * @fd:		the fd to watch, in the caller's fd table (with @v2, a user
 *		event id >= EVPOLL_USER_ID_BASE for the ops other than ADD/MOD)
 * @events:	EPOLL* mask and input flags (ADD/MOD)
 * @data:	user data (ADD/MOD)
 * @v2:		from EVPOLL_IOC_SUBMIT: the version 2 ops and flags apply
 *
 * Checks are made in epoll's order, so that a call epoll would reject gets
 * epoll's errno.
 *
 * Return: 0 or -EBADF, -EPERM, -EINVAL, -EEXIST, -ENOENT, -ENOSPC, -ENOMEM.
 */
static int evp_ctl(struct evpoll *evp, u32 op, int fd, __poll_t events,
		   u64 data, bool v2)
{
	struct evpoll_item *item;
	struct evp_slot slot;
	struct file *tfile;
	struct fd f;
	int err;

	/* Version 2: only EVPOLL_IOC_SUBMIT passes the new ops and flags. */
	events &= v2 ? ~EVPOLL_IDISABLED : ~EVPOLL_V2_BITS;
	if (v2 && fd >= EVPOLL_USER_ID_BASE && op != EVPOLL_CTL_ADD &&
	    op != EVPOLL_CTL_MOD)
		return evpoll_uev_ctl(evpoll_core_uevs(evp, false), op, fd);

	/*
	 * As epoll_ctl(): no reference of our own unless the fd table is
	 * shared (fdget()); an item that keeps the file takes one through
	 * its fref (evp_insert()).
	 */
	f = fdget(fd);
	tfile = fd_file(f);
	if (!tfile)
		return -EBADF;
	err = -EPERM;
	if (!file_can_poll(tfile))
		goto out_fput;

	if (op != EVPOLL_CTL_DEL && (events & EPOLLWAKEUP) &&
	    (!IS_ENABLED(CONFIG_PM_SLEEP) || !capable(CAP_BLOCK_SUSPEND)))
		events &= ~EPOLLWAKEUP;	/* silently, as epoll */

	err = -EINVAL;
	if (tfile == evp->file)
		goto out_fput;
	/*
	 * An epoll instance may watch an evpoll instance, and evpoll
	 * instances may nest (loop-checked in evp_nest_link()), but evpoll
	 * does not watch epoll: a cycle through both could be seen by
	 * neither loop check (epoll does not look inside evpoll files, and
	 * epoll's private structures are not visible to a module).
	 */
	if (evp_file_is_epoll(tfile))
		goto out_fput;
	if (op != EVPOLL_CTL_DEL && (events & EPOLLEXCLUSIVE)) {
		if (op == EVPOLL_CTL_MOD)
			goto out_fput;
		if (op == EVPOLL_CTL_ADD &&
		    (evpoll_file_is_instance(tfile) ||
		     (events & ~EVPOLL_EXCLUSIVE_OK)))
			goto out_fput;
	}
	if (op != EVPOLL_CTL_ADD && op != EVPOLL_CTL_MOD &&
	    op != EVPOLL_CTL_DEL &&
	    !(v2 && (op == EVPOLL_CTL_DISABLE || op == EVPOLL_CTL_ENABLE ||
		     op == EVPOLL_CTL_DEL_NOTIFY)))
		goto out_fput;

	mutex_lock(&evp->mtx);
	item = evp_find_slot(evp, tfile, fd, &slot);
	switch (op) {
	case EVPOLL_CTL_ADD:
		if (item)
			err = -EEXIST;
		else
			err = evp_insert(evp, tfile, fd,
					 events | EPOLLERR | EPOLLHUP, data,
					 &slot);
		break;
	case EVPOLL_CTL_DEL:
		if (item) {
			evp_remove(evp, item);
			err = 0;
		} else {
			err = -ENOENT;
		}
		break;
	case EVPOLL_CTL_MOD:
		if (!item)
			err = -ENOENT;
		else if (item->events & EPOLLEXCLUSIVE)
			err = -EINVAL;
		else
			err = evp_modify(evp, item,
					 events | EPOLLERR | EPOLLHUP, data);
		break;
	default:	/* EVPOLL_CTL_DISABLE, _ENABLE, _DEL_NOTIFY */
		err = item ? evp_v2_item_ctl(evp, item, op) : -ENOENT;
		break;
	}
	if (!err && (op == EVPOLL_CTL_ADD || op == EVPOLL_CTL_MOD) &&
	    evp_v2_wanted(evp, events))
		err = evp_v2_attach(evp, tfile, fd, op);
	evp_reap_if_wanted(evp);
	mutex_unlock(&evp->mtx);
out_fput:
	fdput(f);
	return err;
}

/* EVPOLL_IOC_CTL: epoll_ctl(2) exactly (evp_ctl()). */
int evpoll_core_ctl(struct evpoll *evp, u32 op, int fd, __poll_t events,
		    u64 data)
{
	return evp_ctl(evp, op, fd, events, data, false);
}

/* One change of EVPOLL_IOC_SUBMIT (evp_ctl() with the version 2 ops). */
int evpoll_core_ctl_v2(struct evpoll *evp, u32 op, int fd, __poll_t events,
		       u64 data)
{
	return evp_ctl(evp, op, fd, events, data, true);
}

static int evp_put_event(struct evpoll_event __user *uevent, __poll_t revents,
			 u64 data)
{
	if (__put_user(revents, &uevent->events) ||
	    __put_user(data, &uevent->data))
		return -EFAULT;
#ifndef EVPOLL_EVENT_NOPAD
	if (__put_user(0, &uevent->__pad))
		return -EFAULT;
#endif
	return 0;
}

/*
 * After @item's event was copied out (ready lock held): disable a one-shot
 * or dispatch item, put a level-triggered one back at the tail of the
 * ready list (or on @held, where a min-wait keeps them until it returns).
 */
static void evp_delivered_locked(struct evpoll *evp, struct evpoll_item *item,
				 struct list_head *held)
{
	lockdep_assert_held(&evp->wq.lock);
	if (item->events & EPOLLONESHOT) {
		item->events &= EVPOLL_PRIVATE_BITS;
	} else if (item->events & EVPOLLDISPATCH) {
		item->events |= EVPOLL_IDISABLED;
	} else if (!(item->events & EPOLLET) && !evpi_is_linked(item)) {
		list_add_tail(&item->rdllink, held ? held : &evp->rdllist);
		if (item->ws)
			__pm_stay_awake(item->ws);
	}
}

/*
 * Take the next item off a delivery's or re-check's private list, before
 * it is re-polled: a wake-up from then on queues it on the ready list
 * again.  Items whose file is orphaned are removed on the way (closed
 * without DEL: never reported again).  NULL when the list is empty.
 * @done (delivery only) is the item delivered just before: its
 * evp_delivered_locked() is done in the same hold of the ready lock, so
 * a delivered event costs one lock pair, not two.
 */
static struct evpoll_item *evp_scan_next(struct evpoll *evp,
					 struct list_head *txlist,
					 struct evpoll_item *done,
					 struct list_head *held)
{
	struct evpoll_item *item;

	lockdep_assert_held(&evp->mtx);
	for (;;) {
		spin_lock_irq(&evp->wq.lock);
		if (done) {
			evp_delivered_locked(evp, done, held);
			done = NULL;
		}
		item = list_first_entry_or_null(txlist, struct evpoll_item,
						rdllink);
		if (item) {
			list_del_init(&item->rdllink);
			if (item->ws)
				__pm_relax(item->ws);
		}
		spin_unlock_irq(&evp->wq.lock);
		if (!item || !evpoll_fref_orphaned(item->fref))
			return item;
		evp_drop_orphan(evp, item);	/* closed without DEL */
	}
}

/*
 * Deliver up to @maxevents events.  Takes the whole ready list private
 * (txlist) so that level-triggered items re-queued at the tail are not seen
 * again in this call, then re-polls each item before reporting it.  With
 * @held (a min-wait, which makes several passes), level-triggered items
 * go there instead, and back to the ready list when the call returns.
 * @self enters evp->inflight with the first hold of the ready lock; a
 * call without @held that delivered something, with no user event or
 * tombstone queued, leaves it with the last (it returns: evp_send_v2()
 * and evp_inflight_end() then have nothing to do).
 */
static int evp_send_events(struct evpoll *evp,
			   struct evpoll_event __user *events, int maxevents,
			   struct list_head *held, struct evp_inflight *self)
{
	struct evpoll_item *item, *done = NULL;
	bool pwake = false, kick = false;
	LIST_HEAD(txlist);
	__poll_t revents;
	int res = 0;

	mutex_lock(&evp->mtx);
	evp_start_scan(evp, &txlist, self);

	while (res < maxevents) {
		/*
		 * Only this task, under evp->mtx, takes items off txlist
		 * (evp_wake() leaves linked items alone): an empty one
		 * needs no lock to be seen empty.  @done is then finished
		 * in the final hold below.
		 */
		if (list_empty(&txlist))
			break;
		item = evp_scan_next(evp, &txlist, done, held);
		done = NULL;
		if (!item)
			break;
		revents = evpi_repoll(item, 0);
		if (!revents) {
			evp->nr_stale++;
			evpi_count(item, false);
			continue;
		}
		if (evp_put_event(&events[res], revents, item->data)) {
			spin_lock_irq(&evp->wq.lock);
			if (!evpi_is_linked(item))
				list_add(&item->rdllink, &txlist);
			spin_unlock_irq(&evp->wq.lock);
			if (!res)
				res = -EFAULT;
			break;
		}
		res++;
		evpi_count(item, true);
		done = item;	/* finished under the next hold of the lock */
	}
	if (res > 0)
		evp->nr_delivered += res;

	spin_lock_irq(&evp->wq.lock);
	if (done)
		evp_delivered_locked(evp, done, held);
	/* What was not reached goes back first, in order. */
	list_splice(&txlist, &evp->rdllist);
	WRITE_ONCE(evp->scanning, false);
	/*
	 * Leave now only if evp_send_v2() has nothing to report: it would
	 * otherwise write to user memory (and may fault and sleep) while
	 * this call holds events not yet returned.  The caller skips
	 * evp_send_v2() once @self has left (self->seq == 0).
	 */
	if (self && !held && res > 0 && !evp_v2_available(evp))
		kick = evp_inflight_leave_locked(evp, self);
	if (kick || !list_empty(&evp->rdllist)) {
		/*
		 * Pass the rest on to another sleeper, as ep_done_scan();
		 * sleepers queue under wq.lock, which is held.
		 */
		if (waitqueue_active(&evp->wq))
			wake_up_locked(&evp->wq);
		/* poll_wait() sleepers re-check in evpoll_core_poll(). */
		pwake = waitqueue_active(&evp->poll_wait);
	}
	spin_unlock_irq(&evp->wq.lock);
	evp_reap_if_wanted(evp);
	mutex_unlock(&evp->mtx);

	if (pwake)
		evp_wake_pollers(evp, NULL, 0);
	return res;
}

/* A waiter's record in evp->inflight (tombstone ordering, see below). */
struct evp_inflight {
	struct list_head link;
	u64 seq;
};

/* A sleeping WAIT: woken when @need ready items are queued. */
struct evp_waiter {
	wait_queue_entry_t wait;
	struct evpoll *evp;
	const struct evp_inflight *self;
	unsigned int need;
};

/*
 * Are at least @need items queued (or a user event or tombstone)?  Walks
 * at most @need entries of the ready list: the min-wait's price, paid in
 * the wake-up instead of a task wake-up per event.
 */
static bool evp_ready_atleast(struct evpoll *evp, unsigned int need,
			      const struct evp_inflight *self)
{
	struct list_head *pos;
	unsigned int n = 0;

	lockdep_assert_held(&evp->wq.lock);
	if (evp_v2_ready_locked(evp, self))
		return true;
	list_for_each(pos, &evp->rdllist)
		if (++n >= need)
			return true;
	return false;
}

/*
 * Wake function of a WAIT sleeper (always called under wq.lock).  With a
 * min-wait in progress, wake-ups that do not complete the batch leave the
 * task asleep and return 0, so an exclusive wake-up walks on to another
 * sleeper.  Once woken, the waiter is always dequeued: an entry left on
 * the queue would swallow the next exclusive wake-up meant for another
 * sleeper (ep_autoremove_wake_function() does the same).
 */
static int evp_autoremove_wake(wait_queue_entry_t *wait, unsigned int mode,
			       int sync, void *key)
{
	struct evp_waiter *w = container_of(wait, struct evp_waiter, wait);
	int ret;

	if (w->need > 1 && !evp_ready_atleast(w->evp, w->need, w->self))
		return 0;
	ret = default_wake_function(wait, mode, sync, key);
	list_del_init_careful(&wait->entry);
	return ret;
}

/* Timer slack as select/poll/epoll compute it (fs/select.c). */
static u64 evp_timer_slack(ktime_t expires)
{
	const u64 max_slack = 100 * NSEC_PER_MSEC;
	s64 left = ktime_to_ns(ktime_sub(expires, ktime_get()));
	u64 slack;

	if (evpoll_task_no_slack(current))
		return 0;
	if (left < 0)
		return current->timer_slack_ns;
	slack = div_u64(left, task_nice(current) > 0 ? 200 : 1000);
	slack = min(slack, max_slack);
	return max_t(u64, slack, current->timer_slack_ns);
}

static void evp_inflight_end(struct evpoll *evp, struct evp_inflight *self,
			     struct list_head *held);
static int evp_send_v2(struct evpoll *evp, struct evpoll_event __user *events,
		       int maxevents, const struct evp_inflight *self);

/* Most ready items a min-wait counts (larger min_events are taken as it). */
#define EVPOLL_MIN_EVENTS_MAX	1024

/**
 * evp_wait - wait for events and copy them out
 * @evp:	the instance
 * @events:	user array, already checked with access_ok()
 * @maxevents:	its capacity, already checked
 * @end:	absolute CLOCK_MONOTONIC deadline, or with @rel the timeout
 *		relative to now; NULL waits forever; 0 does not block
 * @rel:	@end is relative: the deadline (and the timer slack) is only
 *		computed when the call is about to sleep, so a WAIT that
 *		finds events never reads the clock (epoll_wait() reads it
 *		twice on entry); the timeout then runs from that moment,
 *		later by the length of the first delivery pass
 * @min_events:	return once this many events were stored (0 and 1: the
 *		first); more than @maxevents (or EVPOLL_MIN_EVENTS_MAX) is
 *		taken as that
 * @min_wait:	ns, with @min_events > 1: once the first event is stored,
 *		wait at most this long for the rest (0: until @end)
 *
 * Events already available win over a pending signal, as in ep_poll().
 * With @min_events <= 1 this is epoll_pwait2(): one delivery pass that
 * stores at least one event returns.  With more, delivery passes
 * accumulate into @events until @min_events are stored, the min-wait
 * after the first one expires, or @end passes; while the waiter sleeps
 * for more, a wake-up only wakes it when enough items are queued (see
 * evp_autoremove_wake()).  Level-triggered items delivered by an earlier
 * pass are held aside until the call returns, so no item is reported
 * twice by one call.
 *
 * Return: number of events, 0 on timeout, -EINTR, -EFAULT.
 */
static int evp_wait(struct evpoll *evp, struct evpoll_event __user *events,
		    int maxevents, ktime_t *end, bool rel,
		    unsigned int min_events, s64 min_wait)
{
	ktime_t expires, *to = NULL;
	struct evp_inflight self;
	bool timed_out = false;
	bool rechecked = false;
	bool mw_armed = false;
	bool slack_known = false;
	struct evp_waiter w;
	LIST_HEAD(held);
	bool eavail;
	u64 slack = 0;
	int res = 0, n;

	lockdep_assert_irqs_enabled();
	min_events = clamp_t(unsigned int, min_events, 1,
			     min_t(unsigned int, maxevents,
				   EVPOLL_MIN_EVENTS_MAX));
	if (end && *end) {
		expires = *end;
		to = &expires;
	} else if (end) {
		timed_out = true;	/* non-blocking: one pass */
	}

	self.seq = 0;
	eavail = evp_events_available(evp) || evp_v2_available(evp);
	for (;;) {
		if (eavail) {
			n = evp_send_events(evp, events + res, maxevents - res,
					    min_events > 1 ? &held : NULL,
					    &self);
			if (n >= 0 && res + n < maxevents && self.seq) {
				int m = evp_send_v2(evp, events + res + n,
						    maxevents - res - n, &self);

				n = m < 0 ? (n ? n : m) : n + m;
			}
			if (n < 0) {
				if (!res)
					res = n;
				break;
			}
			res += n;
			if (!res)	/* reported nothing: block no tombstone */
				evp_inflight_end(evp, &self, &held);
		}
		if (res >= min_events)
			break;
		if (res && !mw_armed && min_wait > 0) {
			ktime_t now = ktime_get();
			ktime_t mw_end = ktime_add_safe(now,
							ns_to_ktime(min_wait));

			mw_armed = true;
			if (to && rel) {
				expires = ktime_add_safe(now, expires);
				rel = false;
			}
			if (!to || ktime_before(mw_end, *to)) {
				expires = mw_end;
				to = &expires;
				slack_known = false;
			}
		}
		if (timed_out) {
			/*
			 * Nothing reported and the lockless peek said so: ask
			 * again under the ready lock before giving up.  The
			 * peek reads the list, then "a scan is in progress":
			 * a delivery ending in between (it puts level-triggered
			 * items back and clears the flag in one hold) reads as
			 * neither.  A blocking wait makes the same locked test
			 * before it sleeps.
			 */
			if (!res && !eavail && !rechecked) {
				rechecked = true;
				spin_lock_irq(&evp->wq.lock);
				eavail = evp_events_available(evp) ||
					 evp_v2_ready_locked(evp, &self);
				spin_unlock_irq(&evp->wq.lock);
				if (eavail)
					continue;
			}
			break;
		}
		if (signal_pending(current)) {
			if (!res)
				res = -EINTR;
			break;
		}
		/* About to sleep: now the deadline and its slack are needed. */
		if (to && !slack_known) {
			if (rel) {
				expires = ktime_add_safe(ktime_get(), expires);
				rel = false;
			}
			slack = evp_timer_slack(expires);
			slack_known = true;
		}

		init_wait(&w.wait);
		w.wait.func = evp_autoremove_wake;
		w.evp = evp;
		w.self = &self;
		w.need = res ? min_events - res : 1;
		spin_lock_irq(&evp->wq.lock);
		/*
		 * No barrier needed: evp_wake() queues the item and checks
		 * waitqueue_active() under this same lock.
		 */
		__set_current_state(TASK_INTERRUPTIBLE);
		if (w.need > 1)
			eavail = evp_ready_atleast(evp, w.need, &self);
		else
			eavail = evp_events_available(evp) ||
				 evp_v2_ready_locked(evp, &self);
		if (!eavail)
			__add_wait_queue_exclusive(&evp->wq, &w.wait);
		spin_unlock_irq(&evp->wq.lock);

		if (!eavail)
			timed_out = !schedule_hrtimeout_range(to, slack,
							      HRTIMER_MODE_ABS);
		__set_current_state(TASK_RUNNING);

		/*
		 * Woken (or raced): try to deliver; timed out: only if woken,
		 * or to collect what a min-wait was waiting on.
		 */
		eavail = true;
		if (!list_empty_careful(&w.wait.entry)) {
			spin_lock_irq(&evp->wq.lock);
			if (timed_out && !res)
				eavail = list_empty(&w.wait.entry);
			__remove_wait_queue(&evp->wq, &w.wait);
			spin_unlock_irq(&evp->wq.lock);
		}
	}
	evp_inflight_end(evp, &self, &held);
	return res;
}

/* evp_wait() with an absolute deadline (EVPOLL_IOC_SUBMIT). */
int evpoll_core_wait_min(struct evpoll *evp,
			 struct evpoll_event __user *events, int maxevents,
			 ktime_t *end, unsigned int min_events, s64 min_wait)
{
	return evp_wait(evp, events, maxevents, end, false, min_events,
			min_wait);
}

/**
 * evpoll_core_wait - wait for events and copy them out (epoll_pwait2(2))
 * @evp:	the instance
 * @events:	user array, already checked with access_ok()
 * @maxevents:	its capacity, already checked
 * @timeout:	relative timeout; NULL waits forever; 0 does not block
 *
 * Return: number of events, 0 on timeout, -EINTR, -EFAULT.
 */
int evpoll_core_wait(struct evpoll *evp, struct evpoll_event __user *events,
		     int maxevents, ktime_t *timeout)
{
	return evp_wait(evp, events, maxevents, timeout, true, 1, 0);
}

/*
 * Does at least one ready item really have events?  Not-ready items are
 * dropped from the ready list (their next wake-up queues them again), and
 * items whose file is orphaned are removed, as at delivery.
 * @depth is this instance's nesting level below the caller (0 when called
 * through ->poll()), used as the lockdep subclass of its mtx.
 */
static __poll_t evp_check_ready(struct evpoll *evp, int depth)
{
	struct evpoll_item *item;
	LIST_HEAD(txlist);
	__poll_t res = 0;
	bool avail;

	/*
	 * Under the ready lock, not a lockless peek: ->poll() queued the
	 * caller on evp->poll_wait just before, and a waker reads that queue
	 * under this lock after queueing an item (evp_make_ready()), so one
	 * of the two sees the other.  A lockless test could also read the
	 * list empty and the scan over while another re-check puts the items
	 * back (issue 10, item 6).
	 */
	spin_lock_irq(&evp->wq.lock);
	avail = !list_empty(&evp->rdllist) || evp->scanning;
	/* Entries in the event ring make it readable (ring.c). */
	if (unlikely(evp->ring) && !evpoll_ring_empty(evp->ring))
		res = EPOLLIN | EPOLLRDNORM;
	spin_unlock_irq(&evp->wq.lock);
	if (res || !avail)
		return res;

	mutex_lock_nested(&evp->mtx, depth);
	evp_start_scan(evp, &txlist, NULL);

	/*
	 * Each item is unlinked before its re-poll, as in evp_send_events():
	 * a wake-up from then on queues it again instead of finding it
	 * linked (issue 10, item 5).  Orphans are removed, as at delivery:
	 * a closed fd never makes the instance look readable (item 9).
	 */
	while ((item = evp_scan_next(evp, &txlist, NULL, NULL))) {
		if (evpi_repoll(item, depth)) {
			res = EPOLLIN | EPOLLRDNORM;
			spin_lock_irq(&evp->wq.lock);
			if (!evpi_is_linked(item)) {
				list_add(&item->rdllink, &txlist);
				if (item->ws)
					__pm_stay_awake(item->ws);
			}
			spin_unlock_irq(&evp->wq.lock);
			break;
		}
	}

	spin_lock_irq(&evp->wq.lock);
	list_splice(&txlist, &evp->rdllist);
	WRITE_ONCE(evp->scanning, false);
	spin_unlock_irq(&evp->wq.lock);
	mutex_unlock(&evp->mtx);
	return res;
}

/**
 * evpoll_core_poll - ->poll() of the instance file
 * @evp:	the instance
 * @file:	its file
 * @wait:	the caller's poll table
 *
 * Readable when at least one ready item really has events: the ready list
 * is re-checked, so a drained level-triggered item does not make the
 * instance look readable.
 *
 * Return: EPOLLIN | EPOLLRDNORM or 0.
 */
__poll_t evpoll_core_poll(struct evpoll *evp, struct file *file,
			  poll_table *wait)
{
	poll_wait(file, &evp->poll_wait, wait);
	return evp_check_ready(evp, 0) ?: evp_v2_poll(evp);
}

/**
 * evpoll_core_show_fdinfo - /proc/PID/fdinfo/FD of an instance
 * @evp:	the instance
 * @m:		the seq_file
 *
 * One line per item in epoll's format (ep_show_fdinfo()), in key order,
 * then evpoll's counters.
 */
void evpoll_core_show_fdinfo(struct evpoll *evp, struct seq_file *m)
{
	struct evpoll_item *item;
	struct rb_node *rbn;
	unsigned int ready = 0;
	u64 wakeups;

	mutex_lock(&evp->mtx);
	for (rbn = rb_first(&evp->items); rbn; rbn = rb_next(rbn)) {
		struct inode *inode;

		item = rb_entry(rbn, struct evpoll_item, rbn);
		inode = file_inode(evpi_file(item));
		seq_printf(m, "tfd: %8d events: %8x data: %16llx  pos:%lli ino:%lx sdev:%x\n",
			   item->fd, item->events, (long long)item->data,
			   (long long)evpi_file(item)->f_pos, inode->i_ino,
			   inode->i_sb->s_dev);
		evp_v2_show_item(item, m);
		if (seq_has_overflowed(m))
			break;
	}
	spin_lock_irq(&evp->wq.lock);
	list_for_each_entry(item, &evp->rdllist, rdllink)
		ready++;
	wakeups = evp->nr_wakeups;
	spin_unlock_irq(&evp->wq.lock);
	seq_printf(m, "evpoll-items: %lu\n", evp->nr_items);
	seq_printf(m, "evpoll-ready: %u\n", ready);
	seq_printf(m, "evpoll-wakeups: %llu\n", wakeups);
	seq_printf(m, "evpoll-delivered: %llu\n", evp->nr_delivered);
	seq_printf(m, "evpoll-stale: %llu\n", evp->nr_stale);
	seq_printf(m, "evpoll-reaped: %llu\n", evp->nr_reaped);
	seq_printf(m, "evpoll-user-watches: %ld\n",
		   evpoll_user_watches(evp->user));
	mutex_unlock(&evp->mtx);
}

/*
 * Version 2
 * ---------
 * What epoll lacks, reached through EVPOLL_IOC_SUBMIT (submit.c) and the
 * user-event ioctls (user.c); EVPOLL_IOC_CTL strips the new flags and
 * refuses the new ops, so the plain path stays epoll.
 *
 * Disable/enable/dispatch: EVPOLL_IDISABLED in an item's mask (written
 * with mtx and wq.lock, as the mask) keeps the item hooked and its mask
 * intact, but evp_wake() ignores it and evpi_poll() reports nothing.
 * EVPOLL_CTL_ENABLE clears it and re-polls, so readiness already present
 * is queued at once.  A delivery of an EVPOLLDISPATCH item sets it.
 *
 * Tombstones: EVPOLL_CTL_DEL_NOTIFY (and the reaper, for items added with
 * EVPOLLREMOVED) removes the item, then queues a struct evpoll_tomb with its
 * data on evp->tombs.  The promise is that once the tombstone has been
 * reported, no event with that data is reported again, even by a
 * concurrent WAIT that copied an event of the item before the removal but
 * has not returned to user space yet.  So every WAIT, before its first
 * delivery pass, takes a sequence number and enters evp->inflight (both
 * under wq.lock, in increasing order); a tombstone takes a number when
 * queued.  A tombstone may be reported only when no other WAIT with a
 * smaller number is still in flight: a WAIT that delivered an event of
 * the item did so before the removal (both are under mtx), hence entered
 * the list before the tombstone was numbered.  A WAIT leaves the list
 * when it returns, or when a pass delivered nothing and it goes to sleep
 * (it has reported nothing yet); leaving with tombstones queued wakes a
 * waiter to report them.
 *
 * Per-item counters and the preallocated tombstone of an EVPOLLREMOVED
 * item live in a struct evpoll_item_ext, allocated only for such items or
 * when the item_counters parameter is on, and pointed to by
 * hook0.wait.private (which our wake function never uses): the item
 * itself does not grow.
 */
static bool item_counters;
module_param(item_counters, bool, 0644);
MODULE_PARM_DESC(item_counters,
		 "count wake-ups, deliveries, stale re-polls and coalesced wake-ups per item, shown in fdinfo (items added while set; default off)");

struct evpoll_tomb {
	struct list_head link;		/* in evp->tombs; wq.lock */
	u64 data;
	u64 seq;
};

struct evpoll_item_ext {
	struct evpoll_tomb *tomb;		/* preallocated (EVPOLLREMOVED); mtx */
	u64 wakeups;			/* callbacks that queued it; wq.lock */
	u64 coalesced;			/* ... while already queued; wq.lock */
	u64 delivered;			/* events reported; mtx */
	u64 stale;			/* re-polls that found nothing; mtx */
	struct evpoll_ring_istate ring;	/* last ring post; wq.lock */
};

static inline struct evpoll_item_ext *evpi_ext(const struct evpoll_item *item)
{
	return item->hook0.wait.private;
}

static void evpi_count_wake(struct evpoll_item *item)
{
	struct evpoll_item_ext *ext = evpi_ext(item);

	lockdep_assert_held(&item->evp->wq.lock);
	if (!ext)
		return;
	ext->wakeups++;
	if (evpi_is_linked(item))
		ext->coalesced++;
}

static void evpi_count(struct evpoll_item *item, bool delivered)
{
	struct evpoll_item_ext *ext = evpi_ext(item);

	lockdep_assert_held(&item->evp->mtx);
	if (!ext)
		return;
	if (delivered)
		ext->delivered++;
	else
		ext->stale++;
}

/* At removal: after the unhook, no callback can see the extension. */
static void evpi_ext_free(struct evpoll_item *item)
{
	struct evpoll_item_ext *ext = evpi_ext(item);

	lockdep_assert_held(&item->evp->mtx);
	if (!ext)
		return;
	kfree(ext->tomb);
	kfree(ext);
	item->hook0.wait.private = NULL;
}

/*
 * Can an ADD or MOD with @events need evp_v2_attach()?  Without a
 * tombstone, with counters off and no event ring (whose posts need every
 * item's extension) it does nothing: the plain path skips its second
 * lookup of the item.
 */
static bool evp_v2_wanted(struct evpoll *evp, __poll_t events)
{
	lockdep_assert_held(&evp->mtx);	/* evp->ring is set under it */
	return (events & EVPOLLREMOVED) || READ_ONCE(item_counters) ||
	       evp->ring;
}

/*
 * After a successful ADD or MOD: give the item its extension if it wants
 * a tombstone or counters.  On failure an ADD is undone, and a MOD drops
 * EVPOLLREMOVED (the new mask is otherwise in force).
 */
static int evp_v2_attach(struct evpoll *evp, struct file *tfile, int fd,
			 u32 op)
{
	struct evpoll_item *item = evp_find(evp, tfile, fd);
	struct evpoll_item_ext *ext;
	bool tomb;

	lockdep_assert_held(&evp->mtx);
	tomb = item->events & EVPOLLREMOVED;
	ext = evpi_ext(item);
	if (!tomb && (ext || !(READ_ONCE(item_counters) || evp->ring)))
		return 0;
	if (!ext) {
		ext = kzalloc(sizeof(*ext), GFP_KERNEL_ACCOUNT);
		if (!ext)
			goto nomem;
		spin_lock_irq(&evp->wq.lock);
		item->hook0.wait.private = ext;
		spin_unlock_irq(&evp->wq.lock);
	}
	if (tomb && !ext->tomb) {
		ext->tomb = kmalloc(sizeof(*ext->tomb), GFP_KERNEL_ACCOUNT);
		if (!ext->tomb)
			goto nomem;
	}
	return 0;

nomem:
	if (op == EVPOLL_CTL_ADD) {
		evp_remove(evp, item);
	} else {
		spin_lock_irq(&evp->wq.lock);
		item->events &= ~EVPOLLREMOVED;
		spin_unlock_irq(&evp->wq.lock);
	}
	return -ENOMEM;
}

/* Wake one WAIT sleeper; true if poll()ers should be woken (unlocked). */
static bool evp_kick_locked(struct evpoll *evp)
{
	lockdep_assert_held(&evp->wq.lock);
	if (unlikely(evp->ring))	/* reported by RING_ENTER */
		evpoll_ring_flag_enter(evp->ring);
	/* Sleepers queue under wq.lock, held: none can be missed. */
	if (waitqueue_active(&evp->wq))
		wake_up_locked(&evp->wq);
	/* poll_wait() sleepers re-check in evpoll_core_poll(). */
	return waitqueue_active(&evp->poll_wait);
}

/**
 * evpoll_core_kick - something besides the ready list has events
 * @evp: the instance (a user event was triggered, user.c)
 */
void evpoll_core_kick(struct evpoll *evp)
{
	bool pwake;

	spin_lock_irq(&evp->wq.lock);
	pwake = evp_kick_locked(evp);
	spin_unlock_irq(&evp->wq.lock);
	if (pwake)
		evp_wake_pollers(evp, NULL, 0);
}

static void evp_tomb_post(struct evpoll *evp, struct evpoll_tomb *tomb,
			  u64 data)
{
	bool pwake;

	tomb->data = data;
	spin_lock_irq(&evp->wq.lock);
	tomb->seq = ++evp->v2_seq;
	list_add_tail(&tomb->link, &evp->tombs);
	pwake = evp_kick_locked(evp);
	spin_unlock_irq(&evp->wq.lock);
	if (pwake)
		evp_wake_pollers(evp, NULL, 0);
}

/* A tombstone for evpoll_core_tomb_post(), or NULL (out of memory). */
struct evpoll_tomb *evpoll_core_tomb_alloc(void)
{
	return kmalloc(sizeof(struct evpoll_tomb), GFP_KERNEL_ACCOUNT);
}

/**
 * evpoll_core_tomb_post - queue a tombstone (a user event's DEL_NOTIFY)
 * @evp:	the instance
 * @tomb:	from evpoll_core_tomb_alloc(), now the instance's
 * @data:	the removed event's data
 */
void evpoll_core_tomb_post(struct evpoll *evp, struct evpoll_tomb *tomb,
			   u64 data)
{
	evp_tomb_post(evp, tomb, data);
}

/*
 * Drop an item whose file is (about to be) closed: remove it, post its
 * tombstone if it asked for one.  If evpoll held the file's last
 * reference, the release runs in fref.c's work, never when this task
 * returns to user space: a WAIT that drops an orphan and then sleeps
 * must not sit on the release it caused (the peer's HUP it may wait for).
 */
static void evp_drop_closed(struct evpoll *evp, struct evpoll_item *item)
{
	struct evpoll_item_ext *ext = evpi_ext(item);
	struct evpoll_fref *fref = item->fref;
	struct evpoll_tomb *tomb = NULL;
	u64 data = item->data;

	lockdep_assert_held(&evp->mtx);
	if (ext && (item->events & EVPOLLREMOVED)) {
		tomb = ext->tomb;
		ext->tomb = NULL;
	}
	evpoll_fref_hold(fref);		/* evp_remove()'s put is not final */
	evp_remove(evp, item);
	evpoll_fref_put_async(fref);
	if (tomb)
		evp_tomb_post(evp, tomb, data);
}

/* An item whose file was closed without DEL (found by looking). */
static void evp_drop_orphan(struct evpoll *evp, struct evpoll_item *item)
{
	evp_drop_closed(evp, item);
	evp->nr_reaped++;
	evp_reap_found(evp);
}

/**
 * evpoll_core_forget_file - EVPOLL_IOC_FORGET: an fd of @tfile is about
 *	to be closed
 * @evp:	the instance
 * @tfile:	the file of that fd, from the caller's fget() (main.c)
 *
 * If, once the fd is closed, nobody but evpoll would hold its file (the
 * file's references are then exactly the fd's, evpoll's pin and the
 * caller's), drops at once this instance's items for the file: the one
 * keyed (file, fd), and those keyed by other fds of the same file that
 * were closed before (a dup()'s item outlives the close of its fd, as in
 * epoll, until the file goes).  Anything else holding the file (another
 * fd, a fork, an SCM_RIGHTS message in flight, a syscall in progress on
 * another thread) keeps them, as epoll keeps items until the file's last
 * close; the reaper or a later FORGET drops them.  The caller's fput() is
 * the file's last only if another thread closed the fd meanwhile (it is
 * then queued as task_work, no lock held); otherwise the close() that
 * follows (or EVPOLL_FORGET_CLOSE's) releases it.  The items' files
 * sort together in the tree (by file, then fd), so this is one lookup and
 * a short walk.
 *
 * Return: 1 dropped, 0 kept, -ENOENT (no item for the file).
 */
int evpoll_core_forget_file(struct evpoll *evp, struct file *tfile)
{
	struct evpoll_item *item;
	struct rb_node *rbn;
	int ret = -ENOENT;

	mutex_lock(&evp->mtx);
	for (rbn = evp_next_after(evp, tfile, -1); rbn; ) {
		item = rb_entry(rbn, struct evpoll_item, rbn);
		if (evpi_file(item) != tfile)
			break;
		if (evpoll_file_refs(tfile) > 3) {
			ret = 0;
			break;
		}
		rbn = rb_next(rbn);
		evp_drop_closed(evp, item);
		ret = 1;
	}
	evp_reap_if_wanted(evp);
	mutex_unlock(&evp->mtx);
	return ret;
}

/* EVPOLL_CTL_DISABLE, _ENABLE, _DEL_NOTIFY on a watched item. */
static int evp_v2_item_ctl(struct evpoll *evp, struct evpoll_item *item,
			   u32 op)
{
	struct evpoll_item_ext *ext = evpi_ext(item);
	struct evpoll_tomb *tomb;
	u64 data;

	lockdep_assert_held(&evp->mtx);
	switch (op) {
	case EVPOLL_CTL_DISABLE:
		spin_lock_irq(&evp->wq.lock);
		item->events |= EVPOLL_IDISABLED;
		if (evpi_is_linked(item)) {
			list_del_init(&item->rdllink);
			if (item->ws)
				__pm_relax(item->ws);
		}
		spin_unlock_irq(&evp->wq.lock);
		return 0;
	case EVPOLL_CTL_ENABLE:
		spin_lock_irq(&evp->wq.lock);
		item->events &= ~EVPOLL_IDISABLED;
		spin_unlock_irq(&evp->wq.lock);
		/* Ordered as in evp_modify(): a missed event finds it enabled. */
		evp_queue_if_ready(evp, item);
		return 0;
	default:	/* EVPOLL_CTL_DEL_NOTIFY */
		if (ext && ext->tomb) {
			tomb = ext->tomb;
			ext->tomb = NULL;
		} else {
			tomb = kmalloc(sizeof(*tomb), GFP_KERNEL_ACCOUNT);
			if (!tomb)
				return -ENOMEM;
		}
		data = item->data;
		evp_remove(evp, item);
		evp_tomb_post(evp, tomb, data);
		return 0;
	}
}

/* May @self (NULL: an outsider) report the oldest tombstone now? */
static bool evp_tomb_ready_locked(struct evpoll *evp,
				  const struct evp_inflight *self)
{
	struct evpoll_tomb *tomb;
	struct evp_inflight *w;

	lockdep_assert_held(&evp->wq.lock);
	tomb = list_first_entry_or_null(&evp->tombs, struct evpoll_tomb, link);
	if (!tomb)
		return false;
	/* Not before the ring's events, which may be the item's (ring.c). */
	if (unlikely(evp->ring) && !evpoll_ring_empty(evp->ring))
		return false;
	list_for_each_entry(w, &evp->inflight, link) {
		if (w != self)
			return w->seq > tomb->seq;
	}
	return true;
}

/* The user events, or NULL: set once, never cleared while in use. */
static inline struct evpoll_uevs *evp_uevs(struct evpoll *evp)
{
	/* Pairs with smp_store_release() in evpoll_core_uevs(). */
	return smp_load_acquire(&evp->uevs);
}

/* User events or tombstones queued (lockless peek, may be stale). */
static bool evp_v2_available(struct evpoll *evp)
{
	struct evpoll_uevs *uevs = evp_uevs(evp);

	return !list_empty_careful(&evp->tombs) ||
	       (uevs && evpoll_uevs_pending(uevs));
}

/* Something @self may report now besides the ready list. */
static bool evp_v2_ready_locked(struct evpoll *evp,
				const struct evp_inflight *self)
{
	struct evpoll_uevs *uevs = evp_uevs(evp);

	lockdep_assert_held(&evp->wq.lock);
	if (uevs && evpoll_uevs_pending(uevs))
		return true;
	return evp_tomb_ready_locked(evp, self);
}

/* Before a delivery pass: enter evp->inflight (once per call). */
static void evp_inflight_enter_locked(struct evpoll *evp,
				      struct evp_inflight *self)
{
	lockdep_assert_held(&evp->wq.lock);
	if (self->seq)
		return;
	self->seq = ++evp->v2_seq;
	list_add_tail(&self->link, &evp->inflight);
}

/*
 * Leave evp->inflight; true if a waiter must be kicked (tombstones wait
 * and @self was the oldest in flight).
 */
static bool evp_inflight_leave_locked(struct evpoll *evp,
				      struct evp_inflight *self)
{
	bool kick;

	lockdep_assert_held(&evp->wq.lock);
	if (!self->seq)
		return false;
	kick = !list_empty(&evp->tombs) &&
	       list_first_entry(&evp->inflight, struct evp_inflight,
				link) == self;
	list_del(&self->link);
	self->seq = 0;
	return kick;
}

/*
 * Leave evp->inflight (the call returns, or has reported nothing yet and
 * sleeps) and give back the level-triggered items a min-wait held.
 */
static void evp_inflight_end(struct evpoll *evp, struct evp_inflight *self,
			     struct list_head *held)
{
	bool kick = false, pwake = false;

	if (!self->seq && list_empty(held))
		return;
	spin_lock_irq(&evp->wq.lock);
	kick = evp_inflight_leave_locked(evp, self);
	if (!list_empty(held)) {
		list_splice_tail_init(held, &evp->rdllist);
		kick = true;
	}
	if (kick)
		pwake = evp_kick_locked(evp);
	spin_unlock_irq(&evp->wq.lock);
	if (pwake)
		evp_wake_pollers(evp, NULL, 0);
}

/*
 * Report user events, then the tombstones @self may report, into
 * @events[0..maxevents).  Return: how many, or -EFAULT if none.
 */
static int evp_send_v2(struct evpoll *evp, struct evpoll_event __user *events,
		       int maxevents, const struct evp_inflight *self)
{
	struct evpoll_uevs *uevs = evp_uevs(evp);
	struct evpoll_tomb *tomb;
	int n = 0;

	if (uevs && evpoll_uevs_pending(uevs)) {
		n = evpoll_uevs_deliver(uevs, events, maxevents);
		if (n < 0)
			return n;
	}
	while (n < maxevents && !list_empty_careful(&evp->tombs)) {
		spin_lock_irq(&evp->wq.lock);
		tomb = NULL;
		if (evp_tomb_ready_locked(evp, self)) {
			tomb = list_first_entry(&evp->tombs, struct evpoll_tomb,
						link);
			list_del(&tomb->link);
		}
		spin_unlock_irq(&evp->wq.lock);
		if (!tomb)
			break;
		if (evp_put_event(&events[n], EVPOLLREMOVED, tomb->data)) {
			spin_lock_irq(&evp->wq.lock);
			list_add(&tomb->link, &evp->tombs);
			spin_unlock_irq(&evp->wq.lock);
			return n ? n : -EFAULT;
		}
		kfree(tomb);
		n++;
	}
	return n;
}

/* ->poll(): user events and reportable tombstones make it readable. */
static __poll_t evp_v2_poll(struct evpoll *evp)
{
	bool ready;

	if (!evp_v2_available(evp))
		return 0;
	spin_lock_irq(&evp->wq.lock);
	ready = evp_v2_ready_locked(evp, NULL);
	spin_unlock_irq(&evp->wq.lock);
	return ready ? EPOLLIN | EPOLLRDNORM : 0;
}

/**
 * evpoll_core_uevs - the instance's user events
 * @evp:	the instance
 * @create:	create them if there are none yet
 *
 * Return: the user events, NULL if none (or out of memory with @create).
 */
struct evpoll_uevs *evpoll_core_uevs(struct evpoll *evp, bool create)
{
	struct evpoll_uevs *uevs = evp_uevs(evp);

	if (uevs || !create)
		return uevs;
	mutex_lock(&evp->mtx);
	uevs = evp->uevs;
	if (!uevs) {
		uevs = evpoll_uevs_create(evp);
		if (uevs)	/* Pairs with smp_load_acquire() above. */
			smp_store_release(&evp->uevs, uevs);
	}
	mutex_unlock(&evp->mtx);
	return uevs;
}

/**
 * evpoll_core_put_event - store one event (user.c's user events)
 * @uevent:	where, in an array already checked with access_ok()
 * @events:	its event bits
 * @data:	its data
 *
 * Return: 0 or -EFAULT.
 */
int evpoll_core_put_event(struct evpoll_event __user *uevent, u32 events,
			  u64 data)
{
	return evp_put_event(uevent, (__force __poll_t)events, data);
}

/* The user the instance is charged to (user events count as watches). */
struct evpoll_user *evpoll_core_user(struct evpoll *evp)
{
	return evp->user;
}

/* fdinfo: the item's counters, on a line after its "tfd:" line. */
static void evp_v2_show_item(struct evpoll_item *item, struct seq_file *m)
{
	struct evpoll_item_ext *ext = evpi_ext(item);
	u64 wakeups, coalesced;

	lockdep_assert_held(&item->evp->mtx);
	if (!ext)
		return;
	spin_lock_irq(&item->evp->wq.lock);
	wakeups = ext->wakeups;
	coalesced = ext->coalesced;
	spin_unlock_irq(&item->evp->wq.lock);
	seq_printf(m, "tfd-counters: %8d wakeups: %llu delivered: %llu stale: %llu coalesced: %llu\n",
		   item->fd, wakeups, ext->delivered, ext->stale, coalesced);
}

/* Free what version 2 holds; the file is being released. */
static void evp_v2_destroy(struct evpoll *evp)
{
	struct evpoll_tomb *tomb, *tmp;

	if (evp->uevs)
		evpoll_uevs_destroy(evp->uevs);
	list_for_each_entry_safe(tomb, tmp, &evp->tombs, link)
		kfree(tomb);
}

/*
 * Event ring
 * ----------
 * ring.c owns the ring, its pages and its memory ordering.  Here, in the
 * wake callback, a wake-up is either posted to the ring or queued on the
 * ready list, from where EVPOLL_IOC_RING_ENTER's delivery pass (the WAIT
 * code above) reports it into the caller's array.  Posted: items that are
 * neither one-shot nor dispatch, not already on the ready list, whose
 * wake-up key carries events they asked for, and that have their extension
 * (allocated for every item once a ring exists: it holds the item's last
 * post, for coalescing).  A level-triggered item posted is also put on the
 * ready list, without EVPOLL_RING_F_ENTER: the next RING_ENTER re-polls it
 * and reports it again if it is still ready, as the next WAIT would.
 * Everything else (one-shot, dispatch, a key without events, a full ring,
 * ADD/MOD/ENABLE finding the file ready, user events, tombstones) sets
 * EVPOLL_RING_F_ENTER (evp_make_ready(), evp_kick_locked()).
 */
static bool evp_ring_wake(struct evpoll *evp, struct evpoll_item *item,
			  __poll_t pollflags, int sync)
{
	struct evpoll_item_ext *ext = evpi_ext(item);
	__poll_t revents = pollflags & item->events & ~EVPOLL_PRIVATE_BITS;

	lockdep_assert_held(&evp->wq.lock);
	if (!ext || !revents || evpi_is_linked(item) ||
	    (item->events & (EPOLLONESHOT | EVPOLLDISPATCH)) ||
	    !evpoll_ring_post(evp->ring, &ext->ring, item->events, revents,
			      item->data))
		return evp_make_ready(evp, item, sync);
	if (!(item->events & EPOLLET)) {
		list_add_tail(&item->rdllink, &evp->rdllist);
		if (item->ws)
			__pm_stay_awake(item->ws);
	}
	/* Sleepers in RING_ENTER queue under wq.lock (held). */
	evp_wake_waiters_locked(evp, sync);
	/* poll() sleepers re-check in evpoll_core_poll() (ring not empty). */
	return waitqueue_active(&evp->poll_wait);
}

/* The instance's ring, or NULL (pairs with evpoll_core_ring_attach()). */
struct evpoll_kring *evpoll_core_ring(struct evpoll *evp)
{
	/* The ring's setup before the pointer: see the attach. */
	return smp_load_acquire(&evp->ring);
}

/**
 * evpoll_core_ring_attach - give the instance its ring
 * @evp:	the instance
 * @kring:	a new ring, initialised
 *
 * Every item gets its extension first (a wake-up of an item without one
 * is queued on the ready list, never lost).
 *
 * Return: @kring; the ring already attached (a concurrent setup won); or
 * ERR_PTR(-ENOMEM).
 */
struct evpoll_kring *evpoll_core_ring_attach(struct evpoll *evp,
					     struct evpoll_kring *kring)
{
	struct evpoll_kring *cur;
	struct rb_node *rbn;

	mutex_lock(&evp->mtx);
	cur = evp->ring;
	if (cur)
		goto out;
	for (rbn = rb_first(&evp->items); rbn; rbn = rb_next(rbn)) {
		struct evpoll_item *item = rb_entry(rbn, struct evpoll_item,
						    rbn);
		struct evpoll_item_ext *ext;

		if (evpi_ext(item))
			continue;
		ext = kzalloc(sizeof(*ext), GFP_KERNEL_ACCOUNT);
		if (!ext) {
			cur = ERR_PTR(-ENOMEM);
			goto out;
		}
		spin_lock_irq(&evp->wq.lock);
		item->hook0.wait.private = ext;
		spin_unlock_irq(&evp->wq.lock);
	}
	spin_lock_irq(&evp->wq.lock);
	/* Pairs with smp_load_acquire() in evpoll_core_ring(). */
	smp_store_release(&evp->ring, kring);
	spin_unlock_irq(&evp->wq.lock);
	cur = kring;
out:
	mutex_unlock(&evp->mtx);
	return cur;
}

/* The wait queue RING_ENTER sleeps on (its lock is the ready lock). */
wait_queue_head_t *evpoll_core_waitq(struct evpoll *evp)
{
	return &evp->wq;
}

/* Anything for a delivery pass: ready items, user events, tombstones? */
bool evpoll_core_pending_locked(struct evpoll *evp)
{
	lockdep_assert_held(&evp->wq.lock);
	return !list_empty(&evp->rdllist) || evp->scanning ||
	       evp_v2_ready_locked(evp, NULL);
}

/**
 * evpoll_core_create - a new, empty instance for @file
 * @file: the /dev/evpoll file being opened
 *
 * Return: the instance or ERR_PTR(-ENOMEM).
 */
struct evpoll *evpoll_core_create(struct file *file)
{
	struct evpoll *evp;

	evp = kzalloc(sizeof(*evp), GFP_KERNEL_ACCOUNT);
	if (!evp)
		return ERR_PTR(-ENOMEM);
	evp->user = evpoll_user_get();
	if (!evp->user) {
		kfree(evp);
		return ERR_PTR(-ENOMEM);
	}
	mutex_init(&evp->mtx);
	init_waitqueue_head(&evp->wq);
	init_waitqueue_head(&evp->poll_wait);
	INIT_LIST_HEAD(&evp->rdllist);
	evp->items = RB_ROOT;
	evp->file = file;
	INIT_LIST_HEAD(&evp->children);
	INIT_LIST_HEAD(&evp->parents);
	INIT_LIST_HEAD(&evp->tombs);
	INIT_LIST_HEAD(&evp->inflight);
	spin_lock(&evpoll_instances_lock);
	list_add(&evp->instance_link, &evpoll_instances);
	spin_unlock(&evpoll_instances_lock);
	return evp;
}

/**
 * evpoll_core_destroy - free an instance and everything it holds
 * @evp: the instance; its file is being released, so no ioctl or poll can
 *	 run on it any more
 */
void evpoll_core_destroy(struct evpoll *evp)
{
	struct rb_node *rbn;

	/*
	 * Off the reaper's list: the reaper pins the instances it walks by
	 * their file, so it is not using this one (whose file is released).
	 */
	spin_lock(&evpoll_instances_lock);
	list_del(&evp->instance_link);
	spin_unlock(&evpoll_instances_lock);
	mutex_lock(&evp->mtx);
	while ((rbn = rb_first(&evp->items)))
		evp_remove(evp, rb_entry(rbn, struct evpoll_item, rbn));
	mutex_unlock(&evp->mtx);
	evp_v2_destroy(evp);
	evpoll_ring_destroy(evp->ring);
	evpoll_fref_free_spare(evp->fref_spare);
	evpoll_user_put(evp->user);
	mutex_destroy(&evp->mtx);
	kfree(evp);
}

int evpoll_core_init(void)
{
	/*
	 * An item with its first wait-queue hook, plus the file's share of
	 * an fref, must not cost more than epoll's epitem (128) and
	 * eppoll_entry (64): objects are packed, not cache-line aligned.
	 */
	BUILD_BUG_ON(sizeof(void *) <= 8 && sizeof(struct evpoll_item) > 152);

	item_cache = KMEM_CACHE(evpoll_item, SLAB_ACCOUNT);
	if (!item_cache)
		return -ENOMEM;
	hook_cache = KMEM_CACHE(evpoll_hook, SLAB_ACCOUNT);
	if (!hook_cache) {
		kmem_cache_destroy(item_cache);
		return -ENOMEM;
	}
	return 0;
}

void evpoll_core_exit(void)
{
	/* Every instance is gone: a pending run would find nothing. */
	cancel_delayed_work_sync(&evp_reaper);
	kmem_cache_destroy(hook_cache);
	kmem_cache_destroy(item_cache);
}
