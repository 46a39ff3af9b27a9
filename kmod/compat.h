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

#endif /* _EVPOLL_COMPAT_H */
