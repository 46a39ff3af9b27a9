/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * evpoll: an epoll-like readiness notification device (/dev/evpoll).
 *
 * Each open() of /dev/evpoll is an instance (an "epoll fd").  The instance is
 * driven with the ioctls below.  Event bits and ctl flags are epoll's
 * (EPOLLIN, EPOLLET, ...): this header only adds what epoll's syscalls pass
 * as separate arguments.  See Documentation/abi.rst and evpoll(4).
 *
 * Rules for every structure here: fixed-width fields, no implicit padding,
 * and every field named "flags" or "__reserved*" must be zero (EINVAL
 * otherwise), so the ABI can grow without new ioctl numbers breaking old
 * binaries.
 */
#ifndef _UAPI_LINUX_EVPOLL_H
#define _UAPI_LINUX_EVPOLL_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define EVPOLL_DEVICE		"/dev/evpoll"

/* Operations, numerically equal to EPOLL_CTL_ADD / _DEL / _MOD. */
#define EVPOLL_CTL_ADD		1
#define EVPOLL_CTL_DEL		2
#define EVPOLL_CTL_MOD		3

/*
 * One event as WAIT returns it.  Layout-identical to the C library's
 * struct epoll_event, so a struct epoll_event array is handed to the kernel
 * as is: packed (12 bytes) on x86-64 and i386, as glibc's and the kernel's
 * are on x86 (a 32-bit task on an x86-64 kernel therefore shares the
 * 64-bit layout, and the compat ioctl needs no translation); explicit
 * padding (16 bytes, written as zero) elsewhere, where the kernel's own
 * struct epoll_event is not packed.
 */
#ifdef __x86_64__
#define EVPOLL_EVENT_X86
#endif
/*
 * __i386 is GCC's and clang's other name of __i386__, which checkpatch
 * rejects as an architecture test in kernel code; a uapi header has to
 * name the user ABI it describes.
 */
#ifdef __i386
#define EVPOLL_EVENT_X86
#endif

#ifdef EVPOLL_EVENT_X86
#define EVPOLL_EVENT_PACKED __attribute__((packed))
#define EVPOLL_EVENT_NOPAD
#else
#define EVPOLL_EVENT_PACKED
#endif

struct evpoll_event {
	__u32 events;
#ifndef EVPOLL_EVENT_NOPAD
	__u32 __pad;		/* written as 0 by the kernel */
#endif
	__u64 data;
} EVPOLL_EVENT_PACKED;

/**
 * struct evpoll_ctl - EVPOLL_IOC_CTL argument: epoll_ctl(2) in one struct
 * @op:		EVPOLL_CTL_ADD, EVPOLL_CTL_MOD or EVPOLL_CTL_DEL
 * @fd:		the file descriptor to watch
 * @events:	EPOLL* event bits and input flags (ignored for DEL)
 * @flags:	must be 0
 * @data:	user data returned with each event (ignored for DEL)
 */
struct evpoll_ctl {
	__u32 op;
	__s32 fd;
	__u32 events;
	__u32 flags;
	__u64 data;
};

/* evpoll_wait.flags */
#define EVPOLL_WAIT_TIMESPEC	(1U << 0)  /* timeout is a timespec pointer */
#define EVPOLL_WAIT_FLAGS	(EVPOLL_WAIT_TIMESPEC)

/**
 * struct evpoll_wait - EVPOLL_IOC_WAIT argument: epoll_pwait2(2) in one struct
 * @events:	user pointer to an array of @maxevents struct evpoll_event
 * @timeout:	without EVPOLL_WAIT_TIMESPEC: timeout in nanoseconds, < 0
 *		blocks until an event or a signal, 0 does not block.  With
 *		EVPOLL_WAIT_TIMESPEC: user pointer to a struct __kernel_timespec
 *		(0 = block), validated as epoll_pwait2() does.
 * @sigmask:	user pointer to a sigset_t applied for the duration of the
 *		wait (0 = leave the signal mask alone), as epoll_pwait()
 * @sigsetsize:	size of *@sigmask, must be sizeof(kernel sigset_t) (8)
 * @maxevents:	capacity of @events, 1 .. INT_MAX / sizeof(struct evpoll_event)
 * @flags:	EVPOLL_WAIT_* flags
 * @__reserved:	must be 0
 *
 * The ioctl returns the number of events stored, 0 on timeout.
 */
struct evpoll_wait {
	__u64 events;
	__s64 timeout;
	__u64 sigmask;
	__u32 sigsetsize;
	__s32 maxevents;
	__u32 flags;
	__u32 __reserved;
};

/*
 * The ABI version EVPOLL_IOC_VERSION reports: 1 is CTL and WAIT as
 * described above.  A module that adds ioctls or fields raises it; what
 * else a module supports is the feature mask.
 */
#define EVPOLL_ABI_VERSION	1

/*
 * evpoll_version.features: what the module supports beyond ABI version 1.
 * Bits are only ever added; a library tests each one before use.
 */
#define EVPOLL_IOC_FEAT_COMPAT32	(1ULL << 0) /* 32-bit tasks (compat_ioctl) */
#define EVPOLL_IOC_FEATURES		(EVPOLL_IOC_FEAT_COMPAT32)

/**
 * struct evpoll_version - EVPOLL_IOC_VERSION argument: the feature probe
 * @size:	in: sizeof(struct evpoll_version) (EVPOLL_VERSION_SIZE_V1);
 *		out: the number of bytes the module filled in
 * @flags:	in: must be 0
 * @abi_version: out: EVPOLL_ABI_VERSION of the module
 * @__reserved0: in: must be 0; out: 0
 * @features:	out: EVPOLL_IOC_FEAT_* bits
 * @__reserved:	in: must be 0; out: 0 (later versions report more here)
 *
 * Any instance answers (open /dev/evpoll, ask, close).  The ioctl returns 0.
 */
struct evpoll_version {
	__u32 size;
	__u32 flags;
	__u32 abi_version;
	__u32 __reserved0;
	__u64 features;
	__u64 __reserved[3];
};

#define EVPOLL_VERSION_SIZE_V1	48

#define EVPOLL_IOC_MAGIC	0xE7

#define EVPOLL_IOC_CTL		_IOW(EVPOLL_IOC_MAGIC, 1, struct evpoll_ctl)
#define EVPOLL_IOC_WAIT		_IOW(EVPOLL_IOC_MAGIC, 2, struct evpoll_wait)
#define EVPOLL_IOC_VERSION	_IOWR(EVPOLL_IOC_MAGIC, 3, struct evpoll_version)

#endif /* _UAPI_LINUX_EVPOLL_H */
