/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - every difference between the kernels evpoll builds against
 * (Debian's 6.1 and 6.12), force-included into each kmod/ file by Kbuild so
 * the .c files are written against one API.  Probe features, not versions,
 * where a header tells.
 */
#ifndef _EVPOLL_COMPAT_H
#define _EVPOLL_COMPAT_H

/*
 * Linux 6.13 replaced file->f_count (atomic_long_t) by file_ref_t; 6.1 and
 * 6.12 both have file_count().  Keep the one use behind a name of our own.
 */
#include <linux/fs.h>
#define evpoll_file_refs(f)	file_count(f)
/*
 * Drop one reference unless it is the last (true if dropped), and take
 * one unless none is left (true if taken): the f_count forms of
 * fput()'s fast path and of get_file_rcu() (whose 6.12 form takes a
 * pointer to an RCU-protected file pointer instead).
 */
#define evpoll_file_put_unless_last(f) \
	atomic_long_add_unless(&(f)->f_count, -1, 1)
#define evpoll_file_tryget(f)	atomic_long_inc_not_zero(&(f)->f_count)

/*
 * Tasks that get no timer slack on a timed wait, as select/poll/epoll
 * decide it in select_estimate_accuracy() (fs/select.c).  On 6.1 that is
 * rt_task(), a priority test that covers SCHED_DEADLINE too; on 6.12
 * rt_task() means the RT class only and fs/select.c tests the policy
 * (rt_or_dl_task_policy()), so DL tasks must be named: rt_task() ||
 * dl_task() is 6.1's test exactly and 6.12's but for a normal task
 * PI-boosted at the moment it waits (no slack here, slack in epoll).  No
 * header macro tells the two apart, and a version test is what
 * checkpatch forbids.
 */
#include <linux/sched/rt.h>
#include <linux/sched/deadline.h>
static inline bool evpoll_task_no_slack(struct task_struct *t)
{
	return rt_task(t) || dl_task(t);
}

#endif /* _EVPOLL_COMPAT_H */
