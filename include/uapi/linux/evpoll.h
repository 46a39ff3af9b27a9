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
#define EVPOLL_IOC_FEATURES		(EVPOLL_IOC_FEAT_COMPAT32 | \
					 EVPOLL_IOC_FEATURES_V2 | \
					 EVPOLL_IOC_FEAT_RING | \
					 EVPOLL_IOC_FEAT_FORGET | \
					 EVPOLL_IOC_FEAT_FORGET_CLOSE)

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

/*
 * Version 2: batched changes, change-and-wait, min-wait, disable/enable/
 * dispatch, tombstones, user events (Documentation/abi.rst, "Version 2").
 * ioctl numbers 16 and up, so that version-1 additions keep 3..15.
 */

/* Operations of EVPOLL_IOC_SUBMIT only (EVPOLL_IOC_CTL says EINVAL). */
#define EVPOLL_CTL_DISABLE	16	/* keep the item, stop reporting */
#define EVPOLL_CTL_ENABLE	17	/* re-arm with its mask, report now */
#define EVPOLL_CTL_DEL_NOTIFY	18	/* DEL, then one EVPOLLREMOVED event */

/*
 * Event flags of EVPOLL_IOC_SUBMIT (EVPOLL_IOC_CTL ignores them, as epoll
 * ignores unknown bits).  Bits 24 and 25 are unused by epoll.
 */
#define EVPOLLDISPATCH		(1U << 24)  /* disable after each delivery */
/* EVPOLLREMOVED: a tombstone; at ADD: post one when the file is closed */
#define EVPOLLREMOVED		(1U << 25)

/* User events (no fd): ids are >= EVPOLL_USER_ID_BASE, never an fd. */
#define EVPOLL_USER_ID_BASE	0x40000000

/**
 * struct evpoll_submit_change - one change of EVPOLL_IOC_SUBMIT
 * @op:		EVPOLL_CTL_ADD, _MOD, _DEL, _DISABLE, _ENABLE, _DEL_NOTIFY
 * @fd:		the target fd, or a user event id (>= EVPOLL_USER_ID_BASE)
 * @events:	EPOLL* mask and flags, EVPOLLDISPATCH, EVPOLLREMOVED (ADD, MOD)
 * @data:	user data (ADD, MOD)
 * @result:	out: 0 or -errno, as EVPOLL_IOC_CTL would fail; written
 *		before the change is applied (see abi.rst), so a result the
 *		caller preset to a positive value was never attempted
 *
 * Packed, 4-byte aligned, 24 bytes on every ABI: the same layout as the
 * library's struct evpoll_change ({int, int, struct epoll_event, int} on
 * x86-64 and i386), so an array of those is handed to the kernel as is.
 */
struct evpoll_submit_change {
	__u32 op;
	__s32 fd;
	__u32 events;
	__u64 data;
	__s32 result;
} __attribute__((packed, aligned(4)));

/* Most changes one EVPOLL_IOC_SUBMIT applies (EINVAL above). */
#define EVPOLL_SUBMIT_MAX	1024

/* evpoll_submit.flags */
#define EVPOLL_SUBMIT_WAIT	(1U << 0)  /* wait after the changes */
/* With WAIT: if a change failed, the wait does not block (kevent()'s rule) */
#define EVPOLL_SUBMIT_ERR_NOWAIT (1U << 1)
#define EVPOLL_SUBMIT_FLAGS	(EVPOLL_SUBMIT_WAIT | EVPOLL_SUBMIT_ERR_NOWAIT)

/**
 * struct evpoll_submit - EVPOLL_IOC_SUBMIT argument
 * @size:	sizeof(struct evpoll_submit) as the caller knows it; larger
 *		than the kernel's: the extra bytes must be zero (E2BIG)
 * @flags:	EVPOLL_SUBMIT_*
 * @changes:	user pointer to @nchanges struct evpoll_submit_change
 * @nchanges:	0 .. EVPOLL_SUBMIT_MAX
 * @nchanged:	out: changes attempted (their @result written); equals
 *		@nchanges unless the call failed with EFAULT in the array
 * @events:	user pointer to @maxevents struct evpoll_event (WAIT)
 * @maxevents:	with EVPOLL_SUBMIT_WAIT: 1 .. INT_MAX/12; else 0
 * @min_events:	return once this many events are ready (0, 1: the first)
 * @timeout:	ns; < 0 block, 0 do not block (WAIT)
 * @min_wait:	ns, with @min_events > 1: wait at most this long after the
 *		first event for more (0: until @min_events or @timeout)
 * @sigmask:	user pointer to a sigset_t for the wait, or 0
 * @sigsetsize:	8 when @sigmask is set
 * @__reserved:	must be 0
 *
 * Returns the number of events stored (0 without EVPOLL_SUBMIT_WAIT or on
 * timeout).
 */
struct evpoll_submit {
	__u32 size;
	__u32 flags;
	__u64 changes;
	__u32 nchanges;
	__u32 nchanged;
	__u64 events;
	__s32 maxevents;
	__u32 min_events;
	__s64 timeout;
	__s64 min_wait;
	__u64 sigmask;
	__u32 sigsetsize;
	__u32 __reserved;
};

#define EVPOLL_SUBMIT_SIZE_VER0	72

/**
 * struct evpoll_user_ctl - EVPOLL_IOC_USER_* argument
 * @id:		USER_ADD: out, the new id; TRIGGER, DEL: the id
 * @events:	USER_ADD: EPOLLIN, optionally EPOLLONESHOT or EVPOLLDISPATCH
 *		(EPOLLET accepted, changes nothing); else must be 0
 * @data:	USER_ADD: returned with the event; else must be 0
 * @flags:	must be 0
 * @__reserved:	must be 0
 */
struct evpoll_user_ctl {
	__s32 id;
	__u32 events;
	__u64 data;
	__u32 flags;
	__u32 __reserved;
};

/*
 * EVPOLL_IOC_VERSION feature bits of version 2 (EVPOLL_IOC_FEAT_COMPAT32 is
 * bit 0); the library maps them to its EVPOLL_FEAT_* (evpoll_features()).
 */
#define EVPOLL_IOC_FEAT_SUBMIT		(1ULL << 1) /* SUBMIT: batch + wait */
#define EVPOLL_IOC_FEAT_MIN_WAIT	(1ULL << 2) /* min_events, min_wait */
#define EVPOLL_IOC_FEAT_DISPATCH	(1ULL << 3) /* DISABLE/ENABLE/DISPATCH */
#define EVPOLL_IOC_FEAT_TOMBSTONE	(1ULL << 4) /* DEL_NOTIFY, REMOVED */
#define EVPOLL_IOC_FEAT_USER		(1ULL << 5) /* user events */
#define EVPOLL_IOC_FEAT_COUNTERS	(1ULL << 6) /* item_counters in fdinfo */
#define EVPOLL_IOC_FEATURES_V2	(EVPOLL_IOC_FEAT_SUBMIT | \
				 EVPOLL_IOC_FEAT_MIN_WAIT | \
				 EVPOLL_IOC_FEAT_DISPATCH | \
				 EVPOLL_IOC_FEAT_TOMBSTONE | \
				 EVPOLL_IOC_FEAT_USER | \
				 EVPOLL_IOC_FEAT_COUNTERS)

#define EVPOLL_IOC_SUBMIT	_IOWR(EVPOLL_IOC_MAGIC, 16, struct evpoll_submit)
#define EVPOLL_IOC_USER_ADD	_IOWR(EVPOLL_IOC_MAGIC, 17, struct evpoll_user_ctl)
#define EVPOLL_IOC_USER_TRIGGER	_IOW(EVPOLL_IOC_MAGIC, 18, struct evpoll_user_ctl)
#define EVPOLL_IOC_USER_DEL	_IOW(EVPOLL_IOC_MAGIC, 19, struct evpoll_user_ctl)

/*
 * Close-safety (Documentation/abi.rst, "Forget"): the cooperative close
 * path.  A program (or the preload shim) about to close() fd N tells each
 * instance that watches N; the instance drops its item for (file of N, N)
 * at once when, once N is closed, nobody but evpoll would hold the file
 * (epoll's rule: a dup'ed or inherited file keeps its item).
 */
#define EVPOLL_IOC_FEAT_RING		(1ULL << 7) /* RING_SETUP, RING_ENTER, mmap */
#define EVPOLL_IOC_FEAT_FORGET		(1ULL << 8) /* EVPOLL_IOC_FORGET */
#define EVPOLL_IOC_FEAT_FORGET_CLOSE	(1ULL << 9) /* EVPOLL_FORGET_CLOSE */

/**
 * struct evpoll_forget - EVPOLL_IOC_FORGET argument
 * @fd:		in: the fd about to be closed (still open)
 * @flags:	in: 0 or EVPOLL_FORGET_CLOSE
 * @__reserved:	in: must be 0
 *
 * Without flags, returns 1 if the item was dropped (the close that follows
 * releases the file), 0 if it was kept (other references remain: the
 * reaper or a later FORGET drops them), -1 with ENOENT (no item for this
 * fd), EBADF (fd not open), EINVAL (unknown flags or reserved set),
 * EFAULT.
 *
 * EVPOLL_FORGET_CLOSE (feature EVPOLL_IOC_FEAT_FORGET_CLOSE): after the
 * forget step, close @fd in the same call, as close(2) would; the file's
 * release, if this was its last reference, is done before the ioctl
 * returns to user space.  Returns 1 if the items were dropped, 0 if they
 * were kept, 2 if there was none (where the plain call says ENOENT), each
 * with @fd closed; -1 with EBADF (not open) or EINVAL (flags, reserved,
 * or @fd names this instance's own file), @fd left as it was; -1 with
 * close(2)'s error (EIO, EINTR, ...), @fd closed all the same, as close(2)
 * leaves it on Linux.
 */
#define EVPOLL_FORGET_CLOSE	(1U << 0)
#define EVPOLL_FORGET_FLAGS	EVPOLL_FORGET_CLOSE

struct evpoll_forget {
	__s32 fd;
	__u32 flags;
	__u64 __reserved[2];
};

#define EVPOLL_IOC_FORGET	_IOW(EVPOLL_IOC_MAGIC, 4, struct evpoll_forget)

/*
 * The event ring (Documentation/abi.rst, "The event ring"): EVPOLL_IOC_RING_SETUP
 * allocates a ring of entries in kernel pages, which mmap() of the instance
 * fd (offset 0, MAP_SHARED) maps into the program.  The kernel posts events
 * at tail; the program reads entries from head to tail with plain loads and
 * stores, then stores head (single consumer, see abi.rst).
 */
#define EVPOLL_RING_MAX_ENTRIES	32768	/* a power of two, 1 .. this */

/**
 * struct evpoll_ring_header - the shared header, at offset 0 of the mapping
 * @head:	written by the program: the next entry it will read (free
 *		running; the slot is head & mask).  Store-release after the
 *		entries were read.
 * @__pad0:	head and tail sit in different cache lines
 * @tail:	written by the kernel: one past the last posted entry.  Load
 *		it with acquire before reading the entries.
 * @mask:	entries - 1 (read-only)
 * @entries:	number of entries (read-only)
 * @flags:	EVPOLL_RING_F_* written by the kernel (read with a plain load)
 * @overflow:	events that did not fit in the ring so far (kernel-written,
 *		informational: they were not lost, see EVPOLL_RING_F_ENTER)
 * @__pad1:	zero
 */
struct evpoll_ring_header {
	__u32 head;
	__u32 __pad0[15];
	__u32 tail;
	__u32 mask;
	__u32 entries;
	__u32 flags;
	__u64 overflow;
	__u32 __pad1[10];
};

/*
 * evpoll_ring_header.flags: events wait in the kernel, not in the ring (the
 * ring was full, a wake-up carried no event bits, a one-shot/dispatch item
 * or a user event or tombstone is ready, an ADD/MOD/ENABLE found the file
 * ready): the next EVPOLL_IOC_RING_ENTER delivers them.
 */
#define EVPOLL_RING_F_ENTER	(1U << 0)

/* One entry of the ring: 16 bytes, naturally aligned, on every ABI. */
struct evpoll_ring_entry {
	__u32 events;
	__u32 __pad;		/* 0 */
	__u64 data;
};

/*
 * evpoll_ring_setup.flags: level-triggered items are never posted: each
 * RING_ENTER reports them exactly as WAIT does, and EVPOLL_RING_F_ENTER
 * stays set while any is ready (epoll's level-triggered rule to the
 * letter, at the price of a kernel entry per wait while one is ready).
 * Without it, a level-triggered item is posted when it becomes ready and
 * reported again by the next RING_ENTER while still ready.
 */
#define EVPOLL_RING_LT_STRICT	(1U << 0)
#define EVPOLL_RING_SETUP_FLAGS	(EVPOLL_RING_LT_STRICT)

/**
 * struct evpoll_ring_setup - EVPOLL_IOC_RING_SETUP argument
 * @entries:	in: number of entries, a power of two, 1 ..
 *		EVPOLL_RING_MAX_ENTRIES
 * @flags:	in: EVPOLL_RING_* (EVPOLL_RING_LT_STRICT)
 * @mmap_size:	out: the length to mmap() at offset 0
 * @off_entries: out: offset of the first struct evpoll_ring_entry
 * @__reserved0: must be 0
 * @__reserved:	must be 0
 *
 * A second setup on the same instance with the same @entries and @flags
 * returns the same ring (to map it again, e.g. after exec); others: EBUSY.
 */
struct evpoll_ring_setup {
	__u32 entries;
	__u32 flags;
	__u64 mmap_size;
	__u32 off_entries;
	__u32 __reserved0;
	__u64 __reserved[2];
};

/* evpoll_ring_enter.flags */
#define EVPOLL_ENTER_ABSTIME	(1U << 0)  /* timeout: CLOCK_MONOTONIC ns */
#define EVPOLL_ENTER_FLAGS	(EVPOLL_ENTER_ABSTIME)

/**
 * struct evpoll_ring_enter - EVPOLL_IOC_RING_ENTER argument
 * @events:	user pointer to @maxevents struct evpoll_event: the events
 *		not in the ring (EVPOLL_RING_F_ENTER) are stored there
 * @timeout:	ns, < 0 blocks, 0 does not; an absolute CLOCK_MONOTONIC
 *		time with EVPOLL_ENTER_ABSTIME (then <= 0 does not block)
 * @sigmask:	user pointer to a sigset_t for the wait, or 0
 * @sigsetsize:	8 when @sigmask is set
 * @maxevents:	1 .. INT_MAX / sizeof(struct evpoll_event)
 * @flags:	EVPOLL_ENTER_*
 * @__reserved:	must be 0
 *
 * Returns the number of events stored in @events (> 0); 0 when none were
 * but the ring has entries; -1 with ETIME when the timeout passed, EINTR.
 * The events stored are those waiting in the kernel (EVPOLL_RING_F_ENTER);
 * the kernel only looks for them with the ring empty, or with
 * EVPOLL_RING_LT_STRICT and EVPOLL_RING_F_ENTER set.
 */
struct evpoll_ring_enter {
	__u64 events;
	__s64 timeout;
	__u64 sigmask;
	__u32 sigsetsize;
	__s32 maxevents;
	__u32 flags;
	__u32 __reserved;
};

#define EVPOLL_IOC_RING_SETUP	_IOWR(EVPOLL_IOC_MAGIC, 20, struct evpoll_ring_setup)
#define EVPOLL_IOC_RING_ENTER	_IOW(EVPOLL_IOC_MAGIC, 21, struct evpoll_ring_enter)

#endif /* _UAPI_LINUX_EVPOLL_H */
