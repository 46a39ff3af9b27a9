/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * forget.h - the one rule of EVPOLL_FORGET_CLOSE's failures, for
 * evpoll_close() (evpoll.c) and the preload shim's close() (preload.c).
 */
#ifndef _EVPOLL_FORGET_H
#define _EVPOLL_FORGET_H

#include <errno.h>
#include <stdbool.h>

/*
 * Did EVPOLL_IOC_FORGET with EVPOLL_FORGET_CLOSE, failing with @err, leave
 * the fd open?  Only its checks before the close fail so (abi.rst):
 * EFAULT, EINVAL, EBADF, ENOTTY; the module answers any error of the
 * close itself otherwise (EIO for those four), the fd closed.  The caller
 * closes the fd itself only then: a second close() of a closed number
 * could close another thread's new file.
 */
static inline bool evpoll__forget_close_left_open(int err)
{
	return err == EBADF || err == EINVAL || err == ENOTTY ||
	       err == EFAULT;
}

#endif /* _EVPOLL_FORGET_H */
