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

struct evpoll;
struct evpoll_event;
struct evpoll_fref;
struct evpoll_user;
struct seq_file;

/* Event bits that are input flags rather than poll(2) events. */
#define EVPOLL_PRIVATE_BITS	(EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | \
				 EPOLLEXCLUSIVE)
/* Events EPOLLEXCLUSIVE may be combined with (as fs/eventpoll.c). */
#define EVPOLL_EXCLUSIVE_OK	(EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | \
				 EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)
/* Longest chain of nested instances, in edges (epoll's EP_MAX_NESTS). */
#define EVPOLL_MAX_NESTS	4
/* Largest maxevents, as epoll's EP_MAX_EVENTS. */
#define EVPOLL_MAX_EVENTS	(INT_MAX / sizeof(struct epoll_event))

/* core.c: instances */
struct evpoll *evpoll_core_create(struct file *file);
void evpoll_core_destroy(struct evpoll *evp);
int evpoll_core_ctl(struct evpoll *evp, u32 op, int fd, __poll_t events,
		    u64 data);
int evpoll_core_wait(struct evpoll *evp, struct evpoll_event __user *events,
		     int maxevents, ktime_t *end);
__poll_t evpoll_core_poll(struct evpoll *evp, struct file *file,
			  poll_table *wait);
void evpoll_core_show_fdinfo(struct evpoll *evp, struct seq_file *m);
int evpoll_core_init(void);
void evpoll_core_exit(void);

/* fref.c: pinned target files, and when an item's file is orphaned */
struct evpoll_fref *evpoll_fref_get(struct file *file);
void evpoll_fref_put(struct evpoll_fref *fref);
struct file *evpoll_fref_file(const struct evpoll_fref *fref);
bool evpoll_fref_orphaned(const struct evpoll_fref *fref);
int evpoll_fref_init(void);
void evpoll_fref_exit(void);

/* limits.c: the per-user watch limit */
struct evpoll_user *evpoll_user_get(void);
void evpoll_user_put(struct evpoll_user *user);
bool evpoll_user_charge(struct evpoll_user *user);
void evpoll_user_uncharge(struct evpoll_user *user);
long evpoll_user_watches(const struct evpoll_user *user);
int evpoll_limits_init(void);

/* main.c */
bool evpoll_file_is_instance(const struct file *file);

#endif /* _EVPOLL_INT_H */
