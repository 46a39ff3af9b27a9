// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - the /dev/evpoll misc device: module init/exit, file operations,
 * and ioctl decoding.
 *
 * Every ioctl argument is validated here before core.c sees it: the
 * structure is copied in whole (EFAULT), every flags and reserved field is
 * checked (EINVAL), then the checks epoll's syscalls make happen in epoll's
 * order (see Documentation/abi.rst).  No lock is taken in this file; the
 * instance's locks are core.c's (its LOCKING banner).
 */
#include <linux/device.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/signal.h>
#include <linux/time64.h>
#include <linux/uaccess.h>

#include <uapi/linux/evpoll.h>
#include "evpoll_int.h"

static const struct file_operations evpoll_fops;

/* Statistics shown in /sys/class/misc/evpoll/ (atomic, no lock). */
static atomic_long_t evpoll_nr_open = ATOMIC_LONG_INIT(0);
static atomic_long_t evpoll_nr_created = ATOMIC_LONG_INIT(0);

bool evpoll_file_is_instance(const struct file *file)
{
	return file->f_op == &evpoll_fops;
}

static int evpoll_open(struct inode *inode, struct file *file)
{
	struct evpoll *evp;

	evp = evpoll_core_create(file);
	if (IS_ERR(evp))
		return PTR_ERR(evp);
	file->private_data = evp;
	atomic_long_inc(&evpoll_nr_open);
	atomic_long_inc(&evpoll_nr_created);
	return nonseekable_open(inode, file);
}

static int evpoll_release(struct inode *inode, struct file *file)
{
	evpoll_core_destroy(file->private_data);
	atomic_long_dec(&evpoll_nr_open);
	return 0;
}

static __poll_t evpoll_fop_poll(struct file *file, poll_table *wait)
{
	return evpoll_core_poll(file->private_data, file, wait);
}

static int evpoll_fop_mmap(struct file *file, struct vm_area_struct *vma)
{
	return evpoll_ring_mmap(file->private_data, vma);
}

static void evpoll_fop_show_fdinfo(struct seq_file *m, struct file *file)
{
	evpoll_core_show_fdinfo(file->private_data, m);
}

/*
 * CTL and WAIT read their argument field by field inside one user access
 * window: the same EFAULT as copy_from_user() of the whole structure
 * (any field unreadable), without a call into the generic copy for a few
 * words, on the two ioctls every event and every change goes through.
 */
static long evpoll_ioctl_ctl(struct evpoll *evp, struct evpoll_ctl __user *uc)
{
	struct evpoll_ctl c;

	if (!user_access_begin(uc, sizeof(*uc)))
		return -EFAULT;
	unsafe_get_user(c.op, &uc->op, efault);
	unsafe_get_user(c.fd, &uc->fd, efault);
	unsafe_get_user(c.events, &uc->events, efault);
	unsafe_get_user(c.flags, &uc->flags, efault);
	unsafe_get_user(c.data, &uc->data, efault);
	user_access_end();
	if (c.flags)
		return -EINVAL;
	return evpoll_core_ctl(evp, c.op, c.fd, (__force __poll_t)c.events,
			       c.data);

efault:
	user_access_end();
	return -EFAULT;
}

static int evpoll_get_wait(struct evpoll_wait *w,
			   const struct evpoll_wait __user *uw)
{
	if (!user_access_begin(uw, sizeof(*uw)))
		return -EFAULT;
	unsafe_get_user(w->events, &uw->events, efault);
	unsafe_get_user(w->timeout, &uw->timeout, efault);
	unsafe_get_user(w->sigmask, &uw->sigmask, efault);
	unsafe_get_user(w->sigsetsize, &uw->sigsetsize, efault);
	unsafe_get_user(w->maxevents, &uw->maxevents, efault);
	unsafe_get_user(w->flags, &uw->flags, efault);
	unsafe_get_user(w->__reserved, &uw->__reserved, efault);
	user_access_end();
	return 0;

efault:
	user_access_end();
	return -EFAULT;
}

/*
 * Apply the caller's signal mask for the wait, as set_user_sigmask() does
 * for epoll_pwait() (that helper is not exported to modules).  SIGKILL and
 * SIGSTOP can never be blocked.
 */
int evpoll_set_sigmask(u64 umask, u32 sigsetsize)
{
	sigset_t kmask;

	if (!umask)
		return 0;
	if (sigsetsize != sizeof(sigset_t))
		return -EINVAL;
	if (copy_from_user(&kmask, u64_to_user_ptr(umask), sizeof(kmask)))
		return -EFAULT;
	sigdelsetmask(&kmask, sigmask(SIGKILL) | sigmask(SIGSTOP));
	set_restore_sigmask();
	current->saved_sigmask = current->blocked;
	return sigprocmask(SIG_SETMASK, &kmask, NULL);
}

/*
 * Undo evpoll_set_sigmask() unless the wait was interrupted: then the
 * saved mask stays pending restore until the signal has been delivered
 * with the wait's mask in force (restore_saved_sigmask_unless()).
 */
void evpoll_restore_sigmask(bool interrupted)
{
	if (interrupted)
		return;
	if (test_and_clear_restore_sigmask())
		sigprocmask(SIG_SETMASK, &current->saved_sigmask, NULL);
}

static long evpoll_ioctl_wait(struct evpoll *evp,
			      struct evpoll_wait __user *uw)
{
	struct evpoll_event __user *events;
	ktime_t end, *endp = NULL;
	struct evpoll_wait w;
	long ret;

	if (evpoll_get_wait(&w, uw))
		return -EFAULT;
	if ((w.flags & ~EVPOLL_WAIT_FLAGS) || w.__reserved)
		return -EINVAL;

	/*
	 * The timeout, relative: 0 for "do not block", NULL for forever.
	 * core.c turns it into a deadline only if the call is to sleep.
	 */
	if (w.flags & EVPOLL_WAIT_TIMESPEC) {
		/* epoll_pwait2(): a timespec, NULL meaning forever. */
		if (w.timeout) {
			struct timespec64 ts;

			if (get_timespec64(&ts,
					   u64_to_user_ptr((u64)w.timeout)))
				return -EFAULT;
			if (!timespec64_valid(&ts))
				return -EINVAL;
			end = timespec64_to_ktime(ts);
			endp = &end;
		}
	} else if (w.timeout >= 0) {
		end = ns_to_ktime(w.timeout);
		endp = &end;
	}

	ret = evpoll_set_sigmask(w.sigmask, w.sigsetsize);
	if (ret)
		return ret;

	events = u64_to_user_ptr(w.events);
	if (w.maxevents <= 0 || w.maxevents > EVPOLL_MAX_EVENTS)
		ret = -EINVAL;
	else if (!access_ok(events, w.maxevents * sizeof(*events)))
		ret = -EFAULT;
	else
		ret = evpoll_core_wait(evp, events, w.maxevents, endp);

	if (w.sigmask)
		evpoll_restore_sigmask(ret == -EINTR);
	return ret;
}

/*
 * EVPOLL_IOC_FORGET: the fd is about to be closed
 * (evpoll_core_forget_file()).  EFAULT, then EINVAL (unknown flags,
 * reserved), then EBADF, then with EVPOLL_FORGET_CLOSE EINVAL for an fd of
 * this instance's own file (nothing closed); without the flag, ENOENT
 * when there is no item.
 *
 * EVPOLL_FORGET_CLOSE closes the fd after the forget step, in this call,
 * as close(2) does: close_fd() with no lock held and fget()'s reference
 * already dropped, so that the file's last fput() is close_fd()'s; from a
 * user task that queues __fput() as task_work, which runs before the
 * ioctl returns to user space (a peer sees EOF/HUP by then).  The fd is
 * gone whatever close_fd() returns, so, as the close syscall does
 * (fs/open.c), a restart code becomes EINTR.  And an error that would
 * read as "nothing closed" (EBADF: another thread closed the fd first;
 * EINVAL, EFAULT, ENOTTY: what a file's ->flush() may answer, a FUSE
 * server's any errno) becomes EIO: a caller that closes the fd itself
 * after those would close a number another thread may already reuse.
 * Return: close's error, else 1 if the items were dropped, 0 if kept, 2
 * if there was none.
 */
static long evpoll_ioctl_forget(struct file *file, struct evpoll *evp,
				struct evpoll_forget __user *uf)
{
	struct evpoll_forget f;
	struct file *tfile;
	int ret, err;

	if (copy_from_user(&f, uf, sizeof(f)))
		return -EFAULT;
	/* Two words: or'ed, not memchr_inv() (90 instructions here). */
	BUILD_BUG_ON(sizeof(f.__reserved) != 2 * sizeof(f.__reserved[0]));
	if ((f.flags & ~EVPOLL_FORGET_FLAGS) ||
	    (f.__reserved[0] | f.__reserved[1]))
		return -EINVAL;
	tfile = fget(f.fd);
	if (!tfile)
		return -EBADF;
	/* With the flag, the ioctl would close its own file. */
	if ((f.flags & EVPOLL_FORGET_CLOSE) && tfile == file) {
		fput(tfile);
		return -EINVAL;
	}
	ret = evpoll_core_forget_file(evp, tfile);
	/* The last reference only if f.fd was closed meanwhile. */
	fput(tfile);
	if (!(f.flags & EVPOLL_FORGET_CLOSE))
		return ret;
	err = close_fd(f.fd);
	if (unlikely(err)) {
		if (err == -ERESTARTSYS || err == -ERESTARTNOINTR ||
		    err == -ERESTARTNOHAND || err == -ERESTART_RESTARTBLOCK)
			err = -EINTR;
		else if (err == -EBADF || err == -EINVAL || err == -EFAULT ||
			 err == -ENOTTY)
			err = -EIO;
		return err;
	}
	return ret == -ENOENT ? 2 : ret;
}

/* The feature bits this build of the module supports. */
static u64 evpoll_features(void)
{
	u64 feat = EVPOLL_IOC_FEATURES_V2 | EVPOLL_IOC_FEAT_FORGET |
		  EVPOLL_IOC_FEAT_FORGET_CLOSE | EVPOLL_IOC_FEAT_RING;

	if (IS_ENABLED(CONFIG_COMPAT))
		feat |= EVPOLL_IOC_FEAT_COMPAT32;
	return feat;
}

/*
 * EVPOLL_IOC_VERSION: the feature probe.  Input: size (exactly V1's),
 * flags and every reserved field zero, else EINVAL.  The answer is written
 * over the whole structure.
 */
static long evpoll_ioctl_version(struct evpoll_version __user *uv)
{
	struct evpoll_version v;

	if (copy_from_user(&v, uv, sizeof(v)))
		return -EFAULT;
	if (v.size != EVPOLL_VERSION_SIZE_V1 || v.flags || v.__reserved0 ||
	    memchr_inv(v.__reserved, 0, sizeof(v.__reserved)))
		return -EINVAL;
	memset(&v, 0, sizeof(v));
	v.size = sizeof(v);
	v.abi_version = EVPOLL_ABI_VERSION;
	v.features = evpoll_features();
	if (copy_to_user(uv, &v, sizeof(v)))
		return -EFAULT;
	return 0;
}

static long evpoll_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct evpoll *evp = file->private_data;
	void __user *uarg = (void __user *)arg;

	/* The two of the plain path first: one compare each. */
	if (likely(cmd == EVPOLL_IOC_WAIT))
		return evpoll_ioctl_wait(evp, uarg);
	if (likely(cmd == EVPOLL_IOC_CTL))
		return evpoll_ioctl_ctl(evp, uarg);

	/* The event ring (ring.c): numbers 20 and 21. */
	if (cmd == EVPOLL_IOC_RING_SETUP || cmd == EVPOLL_IOC_RING_ENTER)
		return evpoll_ring_ioctl(evp, cmd, uarg);
	/* Version 2 (submit.c): numbers 16 and up. */
	if (_IOC_TYPE(cmd) == EVPOLL_IOC_MAGIC && _IOC_NR(cmd) >= 16)
		return evpoll_v2_ioctl(evp, cmd, uarg);

	switch (cmd) {
	case EVPOLL_IOC_VERSION:
		return evpoll_ioctl_version(uarg);
	case EVPOLL_IOC_FORGET:
		return evpoll_ioctl_forget(file, evp, uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations evpoll_fops = {
	.owner		= THIS_MODULE,
	.open		= evpoll_open,
	.release	= evpoll_release,
	.poll		= evpoll_fop_poll,
	.mmap		= evpoll_fop_mmap,
	.unlocked_ioctl	= evpoll_ioctl,
	/*
	 * Every argument is made of fixed-width fields with the same layout
	 * in 32- and 64-bit tasks (the event is packed on x86 for both), so
	 * a 32-bit task only needs its pointer argument converted.
	 */
	.compat_ioctl	= compat_ptr_ioctl,
	.show_fdinfo	= evpoll_fop_show_fdinfo,
	.llseek		= noop_llseek,
};

/*
 * instances: open now; instances_created: since the module was loaded.
 * Root only (0400): counts of every user's instances would tell an
 * unprivileged user when other users open and close theirs.
 */
static ssize_t instances_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&evpoll_nr_open));
}
static DEVICE_ATTR_ADMIN_RO(instances);

static ssize_t instances_created_show(struct device *dev,
				      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&evpoll_nr_created));
}
static DEVICE_ATTR_ADMIN_RO(instances_created);

/*
 * reaper_runs: runs of the reaper's work; reaper_passes: walks of an
 * instance's set it (or an instance's holder) completed.  Both stay still
 * while no instance watches anything (Documentation/design.rst).
 */
static ssize_t reaper_runs_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n", evpoll_core_reaper_runs());
}
static DEVICE_ATTR_ADMIN_RO(reaper_runs);

static ssize_t reaper_passes_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n", evpoll_core_reaper_passes());
}
static DEVICE_ATTR_ADMIN_RO(reaper_passes);

static struct attribute *evpoll_attrs[] = {
	&dev_attr_instances.attr,
	&dev_attr_instances_created.attr,
	&dev_attr_reaper_runs.attr,
	&dev_attr_reaper_passes.attr,
	NULL,
};
ATTRIBUTE_GROUPS(evpoll);

static struct miscdevice evpoll_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "evpoll",
	.fops	= &evpoll_fops,
	.mode	= 0666,
	.groups	= evpoll_groups,
};

static int __init evpoll_module_init(void)
{
	int err;

	BUILD_BUG_ON(sizeof(struct evpoll_event) != sizeof(struct epoll_event));
	BUILD_BUG_ON(sizeof(struct evpoll_ctl) != 24);
	BUILD_BUG_ON(sizeof(struct evpoll_wait) != 40);
	BUILD_BUG_ON(sizeof(struct evpoll_submit_change) != 24);
	BUILD_BUG_ON(sizeof(struct evpoll_submit) != EVPOLL_SUBMIT_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct evpoll_user_ctl) != 24);
	BUILD_BUG_ON(sizeof(struct evpoll_version) != EVPOLL_VERSION_SIZE_V1);
	BUILD_BUG_ON(sizeof(struct evpoll_forget) != 24);

	err = evpoll_limits_init();
	if (err)
		return err;
	err = evpoll_core_init();
	if (err)
		return err;
	err = evpoll_fref_init();
	if (err)
		goto err_core;
	err = misc_register(&evpoll_misc);
	if (err)
		goto err_fref;
	return 0;

err_fref:
	evpoll_fref_exit();
err_core:
	evpoll_core_exit();
	return err;
}

static void __exit evpoll_module_exit(void)
{
	misc_deregister(&evpoll_misc);
	evpoll_fref_exit();
	evpoll_core_exit();
}

module_init(evpoll_module_init);
module_exit(evpoll_module_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("evpoll developers");
MODULE_DESCRIPTION("evpoll: an epoll-like readiness notification device");
MODULE_VERSION(EVPOLL_VERSION);
