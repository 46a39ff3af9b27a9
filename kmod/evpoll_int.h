/* SPDX-License-Identifier: GPL-2.0 */
/*
 * evpoll_int.h - the few declarations shared between kmod/ files.  Struct
 * bodies stay private to the file that owns their locks.
 */
#ifndef _EVPOLL_INT_H
#define _EVPOLL_INT_H

#include <linux/types.h>
#include <linux/poll.h>
#include <linux/ktime.h>
#include <linux/eventpoll.h>
#include <linux/refcount.h>
#include <linux/llist.h>
#include <linux/rhashtable-types.h>
#include <uapi/linux/evpoll.h>

struct evpoll;
struct evpoll_event;
struct evpoll_fref;
struct evpoll_user;
struct evpoll_uevs;
struct evpoll_tomb;
struct seq_file;

/* Event bits that are input flags rather than poll(2) events. */
#define EVPOLL_PRIVATE_BITS	(EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | \
				 EPOLLEXCLUSIVE | EVPOLL_V2_BITS)
/*
 * Version 2 flags in an item's mask: EVPOLLDISPATCH, EVPOLLREMOVED, and
 * EVPOLL_IDISABLED (internal, never from user space: the item was
 * disabled by EVPOLL_CTL_DISABLE or by a DISPATCH delivery; its mask is
 * kept for EVPOLL_CTL_ENABLE).  EVPOLL_IOC_CTL strips all three.
 */
#define EVPOLL_IDISABLED	BIT(23)
#define EVPOLL_V2_BITS		(EVPOLLDISPATCH | EVPOLLREMOVED | \
				 EVPOLL_IDISABLED)

/* Events EPOLLEXCLUSIVE may be combined with (as fs/eventpoll.c). */
#define EVPOLL_EXCLUSIVE_OK	(EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | \
				 EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)
/* Longest chain of nested instances, in edges (epoll's EP_MAX_NESTS). */
#define EVPOLL_MAX_NESTS	4
/* Largest maxevents, as epoll's EP_MAX_EVENTS. */
#define EVPOLL_MAX_EVENTS	(INT_MAX / sizeof(struct epoll_event))

/* core.c: instances */
int evpoll_core_forget_file(struct evpoll *evp, struct file *tfile);
unsigned long evpoll_core_reaper_runs(void);
unsigned long evpoll_core_reaper_passes(void);
struct evpoll *evpoll_core_create(struct file *file);
void evpoll_core_destroy(struct evpoll *evp);
int evpoll_core_ctl(struct evpoll *evp, u32 op, int fd, __poll_t events,
		    u64 data);
int evpoll_core_wait(struct evpoll *evp, struct evpoll_event __user *events,
		     int maxevents, ktime_t *timeout);
__poll_t evpoll_core_poll(struct evpoll *evp, struct file *file,
			  poll_table *wait);
void evpoll_core_show_fdinfo(struct evpoll *evp, struct seq_file *m);
int evpoll_core_init(void);
void evpoll_core_exit(void);

/*
 * fref.c: pinned target files, and when an item's file is orphaned.  The
 * body is here only so that the two helpers below, called once per
 * delivered event and per rbtree level, are inline (fref.c has no lock:
 * its banner says what protects each field); only fref.c writes it.
 */
struct evpoll_fref {
	struct rhash_head node;	/* in evpoll_frefs, keyed by file */
	struct file *file;	/* the file, pinned by one reference */
	refcount_t nr;		/* items watching it, all instances */
	union {
		struct rcu_head rcu;	/* freed after a grace period */
		struct llist_node release; /* on fref_release_list */
	};
};

struct evpoll_fref *evpoll_fref_get(struct file *file,
				    struct evpoll_fref **spare);
void evpoll_fref_free_spare(struct evpoll_fref *spare);
void evpoll_fref_put(struct evpoll_fref *fref);
void evpoll_fref_hold(struct evpoll_fref *fref);
void evpoll_fref_put_async(struct evpoll_fref *fref);
int evpoll_fref_init(void);
void evpoll_fref_exit(void);

static inline struct file *evpoll_fref_file(const struct evpoll_fref *fref)
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
static inline bool evpoll_fref_orphaned(const struct evpoll_fref *fref)
{
	return evpoll_file_refs(fref->file) == 1;
}

/* limits.c: the per-user watch limit */
struct evpoll_user *evpoll_user_get(void);
void evpoll_user_put(struct evpoll_user *user);
bool evpoll_user_charge(struct evpoll_user *user);
void evpoll_user_uncharge(struct evpoll_user *user);
long evpoll_user_watches(const struct evpoll_user *user);
int evpoll_limits_init(void);

/* core.c: version 2 (min-wait, disable/enable, tombstones, user events) */
int evpoll_core_ctl_v2(struct evpoll *evp, u32 op, int fd, __poll_t events,
		       u64 data);
int evpoll_core_wait_min(struct evpoll *evp,
			 struct evpoll_event __user *events, int maxevents,
			 ktime_t *end, unsigned int min_events, s64 min_wait);
void evpoll_core_kick(struct evpoll *evp);
struct evpoll_tomb *evpoll_core_tomb_alloc(void);
void evpoll_core_tomb_post(struct evpoll *evp, struct evpoll_tomb *tomb,
			   u64 data);
struct evpoll_uevs *evpoll_core_uevs(struct evpoll *evp, bool create);
struct evpoll_user *evpoll_core_user(struct evpoll *evp);
int evpoll_core_put_event(struct evpoll_event __user *uevent, u32 events,
			  u64 data);

/* user.c: user events (kqueue's EVFILT_USER) */
struct evpoll_uevs *evpoll_uevs_create(struct evpoll *evp);
void evpoll_uevs_destroy(struct evpoll_uevs *uevs);
bool evpoll_uevs_pending(struct evpoll_uevs *uevs);
int evpoll_uevs_deliver(struct evpoll_uevs *uevs,
			struct evpoll_event __user *events, int maxevents);
int evpoll_uev_add(struct evpoll_uevs *uevs, u32 events, u64 data);
int evpoll_uev_trigger(struct evpoll_uevs *uevs, int id);
int evpoll_uev_ctl(struct evpoll_uevs *uevs, u32 op, int id);

/* submit.c: the version 2 ioctls */
long evpoll_v2_ioctl(struct evpoll *evp, unsigned int cmd,
		     void __user *uarg);

/* main.c */
bool evpoll_file_is_instance(const struct file *file);
int evpoll_set_sigmask(u64 umask, u32 sigsetsize);
void evpoll_restore_sigmask(bool interrupted);

/* ring.c: the event ring */
struct evpoll_kring;
struct vm_area_struct;
/* One item's last post (core.c keeps it in the item's extension). */
struct evpoll_ring_istate {
	u64 seq;		/* ring position of the post */
	u64 data;		/* the data posted */
	__poll_t events;	/* the events posted; 0: none */
};

bool evpoll_ring_post(struct evpoll_kring *kring,
		      struct evpoll_ring_istate *st, __poll_t mask,
		      __poll_t revents, u64 data);
void evpoll_ring_flag_enter(struct evpoll_kring *kring);
bool evpoll_ring_empty(struct evpoll_kring *kring);
void evpoll_ring_destroy(struct evpoll_kring *kring);
long evpoll_ring_ioctl(struct evpoll *evp, unsigned int cmd,
		       void __user *uarg);
int evpoll_ring_mmap(struct evpoll *evp, struct vm_area_struct *vma);

/* core.c: for ring.c */
struct evpoll_kring *evpoll_core_ring(struct evpoll *evp);
struct evpoll_kring *evpoll_core_ring_attach(struct evpoll *evp,
					     struct evpoll_kring *kring);
wait_queue_head_t *evpoll_core_waitq(struct evpoll *evp);
bool evpoll_core_pending_locked(struct evpoll *evp);

#endif /* _EVPOLL_INT_H */
