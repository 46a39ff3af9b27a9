// SPDX-License-Identifier: GPL-2.0
/*
 * ring.c - the event ring: events posted from the wake callback into pages
 * shared with the program, which harvests them without a system call.
 *
 * Setup and memory
 * ----------------
 * EVPOLL_IOC_RING_SETUP allocates one zeroed, physically contiguous block
 * (alloc_pages_exact(), GFP_KERNEL_ACCOUNT: charged to the caller's memory
 * cgroup) of PAGE_ALIGN(128 + 16 * entries) bytes: struct
 * evpoll_ring_header, then the entries.  entries is a power of two,
 * 1 .. EVPOLL_RING_MAX_ENTRIES (32768: 512 KiB + one page at most, one
 * ring per instance).  RLIMIT_MEMLOCK is not charged: io_uring stopped
 * charging it for its rings when it charged them to the memory cgroup
 * (Linux 5.12), and the ring's size is bounded per instance as an
 * instance's items are.  mmap() of the instance at offset 0, MAP_SHARED,
 * without PROT_EXEC, of at most that length, maps it (remap_pfn_range():
 * VM_DONTEXPAND, so mremap() may move the mapping but not grow it).  The
 * mapping holds the instance's file: closing the fd while mapped keeps the
 * instance (and the ring) alive until the last munmap.  fork() shares the
 * mapping (MAP_SHARED); exec drops it; a second setup with the same
 * entries returns the same ring, so it can be mapped again.  The ring is
 * freed with the instance.  The kernel only ever touches the ring through
 * its own (direct-map) address, so posting never faults and never sleeps,
 * and munmap() while a task waits in RING_ENTER changes nothing for it.
 *
 * Memory ordering (head/tail ownership)
 * -------------------------------------
 * The kernel is the only producer; it owns tail and the entries between
 * head and tail.  The program is the consumer; it owns head and the free
 * entries.  Both indexes are free-running u32, the slot is index & mask.
 *
 *   producer (kernel, evpoll_ring_post(), under the instance's ready lock,
 *   so posts of one ring are serialised; any context):
 *     head = smp_load_acquire(&hdr->head);     (A) pairs with (D)
 *     if tail - head >= entries: full, not posted (overflow, below)
 *     entry[tail & mask] = { events, data };
 *     smp_store_release(&hdr->tail, tail + 1); (B) pairs with (C)
 *
 *   consumer (the program, lib/ring.c):
 *     tail = load_acquire(&hdr->tail);         (C) entries before tail
 *     read entry[head & mask] .. entry[(tail - 1) & mask];
 *     store_release(&hdr->head, new head);     (D) reads done before
 *
 * (A)/(D): the kernel overwrites an entry only after the program's reads
 * of it completed.  (B)/(C): the program reads an entry only after the
 * kernel's writes of it are visible.  The kernel keeps its own tail (the
 * shared one is only written); a head further than entries from the tail
 * (a program bug) reads as a full ring.  hdr->flags and hdr->overflow are
 * written by the kernel under the ready lock with WRITE_ONCE, read by the
 * program with plain loads after (C): a hint, never needed for safety.
 *
 * One consumer at a time: the library serialises its harvests with a
 * lock of its own (lib/ring.c); processes sharing the ring after fork
 * must not harvest at the same time.
 *
 * Coalescing, overflow, the ready list
 * ------------------------------------
 * Each item remembers its last post (struct evpoll_ring_istate, in the
 * item's extension, under the ready lock).  A wake-up with no new event
 * bits for the same data, while that entry is not yet consumed (its
 * position is still at or after head), is not posted again: the program
 * has not read the entry yet, so it will act on the file's current
 * state.  A full ring does not post: the item goes on the ready list,
 * EVPOLL_RING_F_ENTER is set, hdr->overflow counts it, and no further
 * event is posted until a RING_ENTER found the ring empty (so everything
 * in the ring was posted before anything waiting in the kernel).
 *
 * RING_ENTER
 * ----------
 * If the ring has entries, returns 0 at once: the program harvests them
 * first (on an EVPOLL_RING_LT_STRICT ring with F_ENTER set, after the
 * delivery pass below).  Otherwise clears F_ENTER and the overflow state
 * and, if the ready list, user events or tombstones have anything, runs
 * one non-blocking delivery pass of WAIT (evpoll_core_wait_min()) into the
 * caller's array: level-triggered items still ready, one-shot and dispatch
 * items, overflowed ones, user events and tombstones are reported there,
 * exactly as WAIT reports them; what the pass leaves on the ready list
 * sets F_ENTER again.  If that gave nothing, sleeps on the instance's wait
 * queue until the ring or the ready list has something, the timeout
 * (-ETIME) or a signal (-EINTR).
 *
 * Level-triggered items: by default posted when they become ready and
 * kept on the ready list, so each RING_ENTER reports them again while
 * ready (the ring's rule: "again at the next system call").  With
 * EVPOLL_RING_LT_STRICT they are never posted: they stay on the ready list
 * with F_ENTER set, and the program enters the kernel at each wait while
 * one is ready (epoll's rule to the letter; the poller's evpoll-ring
 * backend uses it).
 *
 * Locking: the ring's mutable kernel state (kring->tail, seq, overflowed,
 * hdr->tail, hdr->flags, hdr->overflow) is under the instance's ready
 * lock (evpoll_core_waitq(evp)->lock, IRQ-safe), which every poster
 * holds; the rest of struct evpoll_kring is immutable after setup.
 */
#include <linux/gfp.h>
#include <linux/hrtimer.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include <uapi/linux/evpoll.h>
#include "evpoll_int.h"

#define EVPOLL_RING_OFF_ENTRIES	sizeof(struct evpoll_ring_header)

struct evpoll_kring {
	struct evpoll_ring_header *hdr;		/* kernel address of the block */
	struct evpoll_ring_entry *entries;
	size_t size;				/* bytes, page aligned */
	u32 mask;
	u32 tail;		/* ready lock; the kernel's own tail */
	u64 seq;		/* ready lock; posts so far (64-bit tail) */
	bool overflowed;	/* ready lock; post nothing until ENTER */
	bool lt_strict;		/* EVPOLL_RING_LT_STRICT */
};

/* Entries in the ring, as the kernel sees them (the head is the user's). */
static u32 evpoll_ring_used(struct evpoll_kring *kring)
{
	/* (A): pairs with the program's store-release of head (D). */
	u32 used = kring->tail - smp_load_acquire(&kring->hdr->head);

	return min(used, kring->mask + 1);
}

/**
 * evpoll_ring_post - post one event (the wake callback)
 * @kring:	the ring
 * @st:		the item's last post
 * @mask:	the item's mask and flags
 * @revents:	the events (non-zero)
 * @data:	the item's data
 *
 * Any context, under the instance's ready lock.
 *
 * Return: true if posted, or coalesced with the item's unread entry;
 * false if the ring is full (or still draining an overflow), or the item
 * is level-triggered on an EVPOLL_RING_LT_STRICT ring: the caller queues
 * the item on the ready list.
 */
bool evpoll_ring_post(struct evpoll_kring *kring,
		      struct evpoll_ring_istate *st, __poll_t mask,
		      __poll_t revents, u64 data)
{
	struct evpoll_ring_entry *e;
	u32 used;

	if (kring->lt_strict && !(mask & EPOLLET))
		return false;
	used = evpoll_ring_used(kring);

	/* The item's entry is at or after head: not read yet. */
	if (st->events && st->data == data && !(revents & ~st->events) &&
	    st->seq >= kring->seq - used && st->seq < kring->seq)
		return true;
	if (unlikely(kring->overflowed || used > kring->mask)) {
		kring->overflowed = true;
		WRITE_ONCE(kring->hdr->overflow, kring->hdr->overflow + 1);
		return false;
	}
	e = &kring->entries[kring->tail & kring->mask];
	WRITE_ONCE(e->events, (__force u32)revents);
	WRITE_ONCE(e->__pad, 0);
	WRITE_ONCE(e->data, data);
	st->seq = kring->seq++;
	st->data = data;
	st->events = revents;
	WRITE_ONCE(kring->tail, kring->tail + 1);
	/* (B): the entry before the tail; pairs with the program's (C). */
	smp_store_release(&kring->hdr->tail, kring->tail);
	return true;
}

/* Events wait in the kernel: tell the program (under the ready lock). */
void evpoll_ring_flag_enter(struct evpoll_kring *kring)
{
	u32 flags = READ_ONCE(kring->hdr->flags);

	if (!(flags & EVPOLL_RING_F_ENTER))
		WRITE_ONCE(kring->hdr->flags, flags | EVPOLL_RING_F_ENTER);
}

/* Has the program read every entry?  Exact under the ready lock. */
bool evpoll_ring_empty(struct evpoll_kring *kring)
{
	return READ_ONCE(kring->tail) == READ_ONCE(kring->hdr->head);
}

/* With the instance: no poster is left (the items are gone). */
void evpoll_ring_destroy(struct evpoll_kring *kring)
{
	if (!kring)
		return;
	free_pages_exact(kring->hdr, kring->size);
	kfree(kring);
}

static long evpoll_ring_setup(struct evpoll *evp,
			      struct evpoll_ring_setup __user *us)
{
	struct evpoll_kring *kring, *cur;
	struct evpoll_ring_setup s;

	if (copy_from_user(&s, us, sizeof(s)))
		return -EFAULT;
	if ((s.flags & ~EVPOLL_RING_SETUP_FLAGS) || s.__reserved0 ||
	    s.__reserved[0] || s.__reserved[1] ||
	    !s.entries || s.entries > EVPOLL_RING_MAX_ENTRIES ||
	    !is_power_of_2(s.entries))
		return -EINVAL;

	cur = evpoll_core_ring(evp);
	if (!cur) {
		kring = kzalloc(sizeof(*kring), GFP_KERNEL_ACCOUNT);
		if (!kring)
			return -ENOMEM;
		kring->size = PAGE_ALIGN(EVPOLL_RING_OFF_ENTRIES +
					 (size_t)s.entries *
					 sizeof(struct evpoll_ring_entry));
		kring->hdr = alloc_pages_exact(kring->size, GFP_KERNEL_ACCOUNT |
					       __GFP_ZERO | __GFP_NOWARN);
		if (!kring->hdr) {
			kfree(kring);
			return -ENOMEM;
		}
		kring->entries = (void *)kring->hdr + EVPOLL_RING_OFF_ENTRIES;
		kring->mask = s.entries - 1;
		kring->lt_strict = s.flags & EVPOLL_RING_LT_STRICT;
		kring->hdr->mask = kring->mask;
		kring->hdr->entries = s.entries;
		cur = evpoll_core_ring_attach(evp, kring);
		if (cur != kring)	/* out of memory, or a racing setup */
			evpoll_ring_destroy(kring);
		if (IS_ERR(cur))
			return PTR_ERR(cur);
	}
	if (cur->mask + 1 != s.entries ||
	    cur->lt_strict != !!(s.flags & EVPOLL_RING_LT_STRICT))
		return -EBUSY;
	s.mmap_size = cur->size;
	s.off_entries = EVPOLL_RING_OFF_ENTRIES;
	if (copy_to_user(us, &s, sizeof(s)))
		return -EFAULT;
	return 0;
}

/**
 * evpoll_ring_mmap - mmap() of an instance: its ring
 * @evp:	the instance
 * @vma:	offset 0, at most the ring's size, MAP_SHARED, no PROT_EXEC
 *
 * Return: 0, -ENODEV (no ring set up), -EINVAL (offset, length, private
 * mapping), -EPERM (PROT_EXEC), -EAGAIN/-ENOMEM (remap_pfn_range()).
 */
int evpoll_ring_mmap(struct evpoll *evp, struct vm_area_struct *vma)
{
	struct evpoll_kring *kring = evpoll_core_ring(evp);
	unsigned long len = vma->vm_end - vma->vm_start;

	if (!kring)
		return -ENODEV;
	if (vma->vm_pgoff || len > kring->size ||
	    !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	return remap_pfn_range(vma, vma->vm_start,
			       page_to_pfn(virt_to_page(kring->hdr)), len,
			       vma->vm_page_prot);
}

/*
 * Before a delivery pass: with the ring empty, end the overflow state; with
 * the ring empty, or F_ENTER set on an LT_STRICT ring, drop F_ENTER and
 * say whether a pass has anything to do (@pending).  Returns whether the
 * ring is empty.
 */
static bool evpoll_ring_check(struct evpoll *evp, struct evpoll_kring *kring,
			      bool *pending)
{
	wait_queue_head_t *wq = evpoll_core_waitq(evp);
	u32 flags;
	bool empty;

	*pending = false;
	spin_lock_irq(&wq->lock);
	empty = evpoll_ring_empty(kring);
	flags = READ_ONCE(kring->hdr->flags);
	if (empty)
		kring->overflowed = false;
	if (empty || (kring->lt_strict && (flags & EVPOLL_RING_F_ENTER))) {
		WRITE_ONCE(kring->hdr->flags, flags & ~EVPOLL_RING_F_ENTER);
		*pending = evpoll_core_pending_locked(evp);
	}
	spin_unlock_irq(&wq->lock);
	return empty;
}

/*
 * After a delivery pass: whatever it left on the ready list (items beyond
 * maxevents, level-triggered items still ready) is for the next ENTER.
 */
static void evpoll_ring_after_pass(struct evpoll *evp,
				   struct evpoll_kring *kring)
{
	wait_queue_head_t *wq = evpoll_core_waitq(evp);

	spin_lock_irq(&wq->lock);
	if (evpoll_core_pending_locked(evp))
		evpoll_ring_flag_enter(kring);
	spin_unlock_irq(&wq->lock);
}

static long evpoll_ring_wait(struct evpoll *evp, struct evpoll_kring *kring,
			     struct evpoll_event __user *events,
			     int maxevents, ktime_t *to, bool timed_out)
{
	wait_queue_head_t *wq = evpoll_core_waitq(evp);
	u64 slack = evpoll_task_no_slack(current) ? 0 :
		    current->timer_slack_ns;
	wait_queue_entry_t wait;
	ktime_t zero = 0;
	bool pending, avail, empty;
	int n;

	for (;;) {
		empty = evpoll_ring_check(evp, kring, &pending);
		if (pending) {
			n = evpoll_core_wait_min(evp, events, maxevents, &zero,
						 1, 0);
			evpoll_ring_after_pass(evp, kring);
			if (n)
				return n;
		}
		if (!empty)
			return 0;
		if (timed_out)
			return -ETIME;
		if (signal_pending(current))
			return -EINTR;

		init_wait(&wait);
		spin_lock_irq(&wq->lock);
		/* Posters queue and test waitqueue_active() under it. */
		__set_current_state(TASK_INTERRUPTIBLE);
		avail = !evpoll_ring_empty(kring) ||
			evpoll_core_pending_locked(evp);
		if (!avail)
			__add_wait_queue_exclusive(wq, &wait);
		spin_unlock_irq(&wq->lock);
		if (!avail)
			timed_out = !schedule_hrtimeout_range(to, slack,
							      HRTIMER_MODE_ABS);
		__set_current_state(TASK_RUNNING);
		if (!list_empty_careful(&wait.entry)) {
			spin_lock_irq(&wq->lock);
			__remove_wait_queue(wq, &wait);
			spin_unlock_irq(&wq->lock);
		}
	}
}

static long evpoll_ring_enter(struct evpoll *evp,
			      struct evpoll_ring_enter __user *ue)
{
	struct evpoll_kring *kring = evpoll_core_ring(evp);
	struct evpoll_event __user *events;
	struct evpoll_ring_enter e;
	ktime_t end, *to = NULL;
	bool nonblock = false;
	long ret;

	if (copy_from_user(&e, ue, sizeof(e)))
		return -EFAULT;
	if ((e.flags & ~EVPOLL_ENTER_FLAGS) || e.__reserved)
		return -EINVAL;
	if (e.maxevents <= 0 || e.maxevents > EVPOLL_MAX_EVENTS)
		return -EINVAL;
	if (!kring)
		return -ENODEV;
	events = u64_to_user_ptr(e.events);
	if (!access_ok(events, e.maxevents * sizeof(*events)))
		return -EFAULT;
	if (e.flags & EVPOLL_ENTER_ABSTIME) {
		nonblock = e.timeout <= 0;
		end = ns_to_ktime(e.timeout);
		to = &end;
	} else if (e.timeout >= 0) {
		nonblock = !e.timeout;
		end = ktime_add_safe(ktime_get(), ns_to_ktime(e.timeout));
		to = &end;
	}

	ret = evpoll_set_sigmask(e.sigmask, e.sigsetsize);
	if (ret)
		return ret;
	ret = evpoll_ring_wait(evp, kring, events, e.maxevents, to, nonblock);
	evpoll_restore_sigmask(ret == -EINTR);
	return ret;
}

/**
 * evpoll_ring_ioctl - EVPOLL_IOC_RING_SETUP and EVPOLL_IOC_RING_ENTER
 * @evp:	the instance
 * @cmd:	the ioctl
 * @uarg:	its argument
 *
 * Return: see Documentation/abi.rst, "The event ring".
 */
long evpoll_ring_ioctl(struct evpoll *evp, unsigned int cmd,
		       void __user *uarg)
{
	if (cmd == EVPOLL_IOC_RING_SETUP)
		return evpoll_ring_setup(evp, uarg);
	return evpoll_ring_enter(evp, uarg);
}
