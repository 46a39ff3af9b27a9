// SPDX-License-Identifier: GPL-2.0
/*
 * version_test.c - the runtime version query: evpoll_version() and its
 * parts agree with the header the program was built with, and the shared
 * library's real name is libevpoll.so.<evpoll_version()>.
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "evpoll.h"

TEST(version_matches_header)
{
	const char *v = evpoll_version();
	char want[64];

	ASSERT_NE(NULL, v);
	EXPECT_EQ(EVPOLL_VERSION_MAJOR, evpoll_version_major());
	EXPECT_EQ(EVPOLL_VERSION_MINOR, evpoll_version_minor());
	EXPECT_LE(0, evpoll_version_patch());
	snprintf(want, sizeof(want), "%d.%d.%d", evpoll_version_major(),
		 evpoll_version_minor(), evpoll_version_patch());
	EXPECT_EQ(0, strncmp(v, want, strlen(want)))
		TH_LOG("evpoll_version() \"%s\", parts %s", v, want);
	EXPECT_TRUE(v[strlen(want)] == '\0' || v[strlen(want)] == '+');
}

/* The build tree's libevpoll.so.0 is libevpoll.so.VERSION, as it says. */
TEST(shared_library_real_name)
{
	char exe[PATH_MAX], lib[PATH_MAX + 32], real[PATH_MAX], want[128];
	const char *(*version)(void);
	const char *base;
	ssize_t n;
	void *h;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ASSERT_LT(0, n);
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	snprintf(lib, sizeof(lib), "%s/../../lib/libevpoll.so.0", exe);
	if (access(lib, R_OK))
		SKIP(return, "no libevpoll.so.0 in the build tree");
	ASSERT_NE(NULL, realpath(lib, real));
	h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	ASSERT_NE(NULL, h) TH_LOG("dlopen: %s", dlerror());
	version = (const char *(*)(void))dlsym(h, "evpoll_version");
	ASSERT_TRUE(version != NULL);
	snprintf(want, sizeof(want), "libevpoll.so.%s", version());
	base = strrchr(real, '/') + 1;
	EXPECT_STREQ(want, base);
	EXPECT_STREQ(evpoll_version(), version());
	dlclose(h);
}

TEST_HARNESS_MAIN
