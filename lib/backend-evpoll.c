// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * backend-evpoll.c - the /dev/evpoll backend.
 *
 * notes about evpoll:
 *
 * The kernel module (kmod/, evpoll(4)) implements epoll's semantics
 * behind a misc device, so this backend is the epoll backend run through
 * the wrapper of lib/evpoll.c (evpoll_create1/ctl/wait): same
 * capabilities, same costs (ctl O(log n), wait O(ready)), and the code is
 * shared with backend-epoll.c.
 *
 * The probe opens /dev/evpoll: when that fails (module not loaded, no
 * device node) the backend is unavailable with -ENODEV, or with the
 * open(2) error when it is something else (-EACCES...).  The poller is
 * the first choice of EVPOLL_BACKEND_DEFAULT when the device exists:
 * someone loaded the module in order to use it.
 *
 * One difference from epoll stays visible: the module holds a reference
 * to each watched file, and drops the items of files nobody else holds
 * after a bounded delay (Documentation/design.rst), where epoll drops
 * them at the last close.
 */
#include <errno.h>
#include <unistd.h>

#include "backend.h"

static const struct evpoll__epoll_calls evpdev_calls = {
	.create1	= evpoll_create1,
	.ctl		= evpoll_ctl,
	.wait		= evpoll_wait,
};

static int evpdev_errno_to_probe(int err)
{
	if (err == ENOENT || err == ENXIO || err == ENODEV)
		return -ENODEV;
	return -err;
}

static int evpdev_probe(void)
{
	int fd = evpoll_create1(EPOLL_CLOEXEC);

	if (fd < 0)
		return evpdev_errno_to_probe(errno);
	close(fd);
	return 0;
}

static int evpdev_init(struct evpoll_poller *p)
{
	int ret = evpoll__epoll_like_init(p, &evpdev_calls);

	return ret < 0 ? evpdev_errno_to_probe(-ret) : 0;
}

const struct evpoll_backend_ops evpoll__backend_evpoll = {
	.name		= "evpoll",
	.id		= EVPOLL_BACKEND_EVPOLL,
	.caps		= EVPOLL__EPOLL_LIKE_CAPS,
	.flags		= EVPOLL__BACKEND_KERNEL_FILES,
	.probe		= evpdev_probe,
	.init		= evpdev_init,
	.ctl		= evpoll__epoll_like_ctl,
	.wait		= evpoll__epoll_like_wait,
	.destroy	= evpoll__epoll_like_destroy,
	.reinit		= evpoll__epoll_like_reinit,
};
