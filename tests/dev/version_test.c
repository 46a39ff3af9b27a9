// SPDX-License-Identifier: GPL-2.0
/*
 * version_test - EVPOLL_IOC_VERSION, the feature probe: the ABI version and
 * feature mask, every input check (size, flags, reserved fields: EINVAL;
 * pointers: EFAULT), and the event layout a 32-bit build shares with the
 * C library (this file is also built with -m32: tests/dev32).
 */
#include <stddef.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "evp.h"
#include "kselftest_harness.h"

/* The event the kernel writes is the C library's, in 32-bit tasks too. */
_Static_assert(sizeof(struct evpoll_event) == sizeof(struct epoll_event),
	       "struct evpoll_event differs from struct epoll_event");
_Static_assert(offsetof(struct evpoll_event, data) ==
	       offsetof(struct epoll_event, data),
	       "evpoll_event.data is not where epoll_event.data is");
#if defined(__x86_64__) || defined(__i386__)
_Static_assert(sizeof(struct evpoll_event) == 12, "x86: a packed event");
#endif
_Static_assert(sizeof(struct evpoll_version) == EVPOLL_VERSION_SIZE_V1,
	       "struct evpoll_version size");

static int version(int evfd, struct evpoll_version *v)
{
	return ioctl(evfd, EVPOLL_IOC_VERSION, v) ? -errno : 0;
}

static void version_init(struct evpoll_version *v)
{
	memset(v, 0, sizeof(*v));
	v->size = sizeof(*v);
}

FIXTURE(version) {
	int evfd;
};

FIXTURE_SETUP(version)
{
	self->evfd = evp_open();
	ASSERT_GE(self->evfd, 0);
}

FIXTURE_TEARDOWN(version)
{
	close(self->evfd);
}

/* ABI 1, every reserved field zeroed on the way out, compat reported. */
TEST_F(version, reports_abi_and_features)
{
	struct evpoll_version v;
	unsigned int i;

	memset(&v, 0xa5, sizeof(v));
	version_init(&v);
	ASSERT_EQ(version(self->evfd, &v), 0);
	EXPECT_EQ(v.size, EVPOLL_VERSION_SIZE_V1);
	EXPECT_EQ(v.flags, 0);
	EXPECT_EQ(v.abi_version, EVPOLL_ABI_VERSION);
	EXPECT_EQ(v.__reserved0, 0);
	for (i = 0; i < sizeof(v.__reserved) / sizeof(v.__reserved[0]); i++)
		EXPECT_EQ(v.__reserved[i], 0);
	/*
	 * No bit the header does not define (EVPOLL_IOC_FEATURES predates
	 * the close-safety bits defined after it).
	 */
	EXPECT_EQ(v.features & ~(EVPOLL_IOC_FEATURES | EVPOLL_IOC_FEAT_FORGET |
				 EVPOLL_IOC_FEAT_RING), 0);
	/* Debian's x86-64 kernels have CONFIG_COMPAT (IA32 emulation). */
	EXPECT_NE(v.features & EVPOLL_IOC_FEAT_COMPAT32, 0);
	TH_LOG("abi_version %u features %#llx", v.abi_version,
	       (unsigned long long)v.features);
}

/* The answer does not depend on what the instance holds. */
TEST_F(version, same_answer_with_items)
{
	struct evpoll_version a, b;
	int efd = eventfd(1, 0);

	ASSERT_GE(efd, 0);
	version_init(&a);
	ASSERT_EQ(version(self->evfd, &a), 0);
	ASSERT_EQ(evp_ctl(self->evfd, EVPOLL_CTL_ADD, efd, EPOLLIN, 1), 0);
	version_init(&b);
	ASSERT_EQ(version(self->evfd, &b), 0);
	EXPECT_EQ(memcmp(&a, &b, sizeof(a)), 0);
	/* ... and the items are untouched by the probe. */
	EXPECT_EQ(evp_counter(self->evfd, "evpoll-items"), 1);
	close(efd);
}

TEST_F(version, bad_size_einval)
{
	static const unsigned int sizes[] = {
		0, 1, 8, EVPOLL_VERSION_SIZE_V1 - 1, EVPOLL_VERSION_SIZE_V1 + 1,
		64, 4096, 0xffffffffu,
	};
	struct evpoll_version v;
	unsigned int i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		version_init(&v);
		v.size = sizes[i];
		EXPECT_EQ(version(self->evfd, &v), -EINVAL)
			TH_LOG("size %u", sizes[i]);
		/* Nothing written back on failure. */
		EXPECT_EQ(v.size, sizes[i]);
		EXPECT_EQ(v.abi_version, 0);
	}
}

TEST_F(version, flags_and_reserved_einval)
{
	struct evpoll_version v;
	unsigned int bit, i;

	for (bit = 0; bit < 32; bit++) {
		version_init(&v);
		v.flags = 1u << bit;
		EXPECT_EQ(version(self->evfd, &v), -EINVAL) TH_LOG("flag %u", bit);
	}
	version_init(&v);
	v.__reserved0 = 1;
	EXPECT_EQ(version(self->evfd, &v), -EINVAL);
	for (i = 0; i < sizeof(v.__reserved) / sizeof(v.__reserved[0]); i++) {
		version_init(&v);
		v.__reserved[i] = 1ULL << 63;
		EXPECT_EQ(version(self->evfd, &v), -EINVAL) TH_LOG("reserved %u", i);
	}
	/* Output fields given as input are ignored (they are overwritten). */
	version_init(&v);
	v.abi_version = 77;
	v.features = ~0ULL;
	EXPECT_EQ(version(self->evfd, &v), 0);
	EXPECT_EQ(v.abi_version, EVPOLL_ABI_VERSION);
}

TEST_F(version, bad_pointers_efault)
{
	size_t pg = sysconf(_SC_PAGESIZE);
	struct evpoll_version *v;
	char *map;

	EXPECT_EQ(version(self->evfd, NULL), -EFAULT);
	EXPECT_EQ(version(self->evfd, (void *)8), -EFAULT);
	/* Readable, valid, but not writable: the answer cannot be stored. */
	map = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(map, MAP_FAILED);
	v = (struct evpoll_version *)map;
	version_init(v);
	ASSERT_EQ(mprotect(map, pg, PROT_READ), 0);
	EXPECT_EQ(version(self->evfd, v), -EFAULT);
	/* Straddling into an unmapped page. */
	ASSERT_EQ(munmap(map + pg, pg), 0);
	ASSERT_EQ(mprotect(map, pg, PROT_READ | PROT_WRITE), 0);
	v = (struct evpoll_version *)(map + pg - 16);
	EXPECT_EQ(version(self->evfd, v), -EFAULT);
	munmap(map, pg);
}

/* Ioctls the module does not have: ENOTTY, as for any unknown command. */
TEST_F(version, unknown_commands_enotty)
{
	struct evpoll_version v;
	char buf[256] = { 0 };

	version_init(&v);
	EXPECT_EQ(ioctl(self->evfd, _IOWR(EVPOLL_IOC_MAGIC, 4,
					  struct evpoll_version), &v), -1);
	EXPECT_EQ(errno, ENOTTY);
	/* The version number with another size encoded: another command. */
	EXPECT_EQ(ioctl(self->evfd, _IOWR(EVPOLL_IOC_MAGIC, 3, char[64]), buf),
		  -1);
	EXPECT_EQ(errno, ENOTTY);
	EXPECT_EQ(ioctl(self->evfd, _IOR(EVPOLL_IOC_MAGIC, 3,
					 struct evpoll_version), &v), -1);
	EXPECT_EQ(errno, ENOTTY);
}

TEST_HARNESS_MAIN
