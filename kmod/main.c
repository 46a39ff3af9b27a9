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

static void evpoll_fop_show_fdinfo(struct seq_file *m, struct file *file)
{
	evpoll_core_show_fdinfo(file->private_data, m);
}

static long evpoll_ioctl_ctl(struct evpoll *evp, struct evpoll_ctl __user *uc)
{
	struct evpoll_ctl c;

	if (copy_from_user(&c, uc, sizeof(c)))
		return -EFAULT;
	if (c.flags)
		return -EINVAL;
	return evpoll_core_ctl(evp, c.op, c.fd, (__force __poll_t)c.events,
			       c.data);
}

/*
 * Apply the caller's signal mask for the wait, as set_user_sigmask() does
 * for epoll_pwait() (that helper is not exported to modules).  SIGKILL and
 * SIGSTOP can never be blocked.
 */
static int evpoll_set_sigmask(u64 umask, u32 sigsetsize)
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
static void evpoll_restore_sigmask(bool interrupted)
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

	if (copy_from_user(&w, uw, sizeof(w)))
		return -EFAULT;
	if ((w.flags & ~EVPOLL_WAIT_FLAGS) || w.__reserved)
		return -EINVAL;

	/* The deadline: absolute, 0 for "do not block", NULL for forever. */
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
	if (endp && *endp)
		*endp = ktime_add_safe(ktime_get(), *endp);

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

	evpoll_restore_sigmask(ret == -EINTR);
	return ret;
}

/*
 * EVPOLL_IOC_FORGET: the fd is about to be closed (evpoll_core_forget()).
 * EFAULT, then EINVAL (flags, reserved), then EBADF, ENOENT.
 */
static long evpoll_ioctl_forget(struct evpoll *evp,
				struct evpoll_forget __user *uf)
{
	struct evpoll_forget f;

	if (copy_from_user(&f, uf, sizeof(f)))
		return -EFAULT;
	if (f.flags || memchr_inv(f.__reserved, 0, sizeof(f.__reserved)))
		return -EINVAL;
	return evpoll_core_forget(evp, f.fd);
}

/* The feature bits this build of the module supports. */
static u64 evpoll_features(void)
{
	u64 feat = EVPOLL_IOC_FEATURES_V2 | EVPOLL_IOC_FEAT_FORGET;

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

	/* Version 2 (submit.c): numbers 16 and up. */
	if (_IOC_TYPE(cmd) == EVPOLL_IOC_MAGIC && _IOC_NR(cmd) >= 16)
		return evpoll_v2_ioctl(evp, cmd, uarg);

	switch (cmd) {
	case EVPOLL_IOC_CTL:
		return evpoll_ioctl_ctl(evp, uarg);
	case EVPOLL_IOC_WAIT:
		return evpoll_ioctl_wait(evp, uarg);
	case EVPOLL_IOC_VERSION:
		return evpoll_ioctl_version(uarg);
	case EVPOLL_IOC_FORGET:
		return evpoll_ioctl_forget(evp, uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations evpoll_fops = {
	.owner		= THIS_MODULE,
	.open		= evpoll_open,
	.release	= evpoll_release,
	.poll		= evpoll_fop_poll,
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
