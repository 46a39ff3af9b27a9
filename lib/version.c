// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * version.c - the library's version, at run time.
 *
 * EVPOLL_LIB_VERSION is the project's one version (tools/version.sh: the
 * VERSION file, or `git describe` of a release tag), passed by lib/Makefile
 * with -D; it is also the library's real name, libevpoll.so.VERSION.  The
 * header's EVPOLL_VERSION_MAJOR and _MINOR are what a program was compiled
 * against; these functions say what it runs with.
 */
#include "evpoll.h"

_Static_assert(EVPOLL_BACKEND_COUNT <= EVPOLL_BACKEND_MAX,
	       "a backend above the public bound EVPOLL_BACKEND_MAX");

#ifndef EVPOLL_LIB_VERSION
#error "EVPOLL_LIB_VERSION is not set (lib/Makefile passes it)"
#endif

/* The number at the start of @s ("0.1.0": 0); @s moves past it and a dot. */
static int version_field(const char **s)
{
	int n = 0;

	while (**s >= '0' && **s <= '9' && n < 100000)
		n = n * 10 + (*(*s)++ - '0');
	if (**s == '.')
		(*s)++;
	return n;
}

/* Field @i (0 major, 1 minor, 2 patch) of EVPOLL_LIB_VERSION. */
static int version_part(int i)
{
	const char *s = EVPOLL_LIB_VERSION;
	int n = 0;

	for (; i >= 0; i--)
		n = version_field(&s);
	return n;
}

/**
 * evpoll_version() - the version of the running library
 *
 * Return: a static string "MAJOR.MINOR.PATCH", possibly followed by
 * "+N.gHASH" for a build N commits after a release tag.
 */
const char *evpoll_version(void)
{
	return EVPOLL_LIB_VERSION;
}

/**
 * evpoll_version_major() - major version of the running library
 *
 * Return: MAJOR of evpoll_version(); the soname is libevpoll.so.MAJOR.
 */
int evpoll_version_major(void)
{
	return version_part(0);
}

/**
 * evpoll_version_minor() - minor version of the running library
 *
 * Return: MINOR of evpoll_version().
 */
int evpoll_version_minor(void)
{
	return version_part(1);
}

/**
 * evpoll_version_patch() - patch level of the running library
 *
 * Return: PATCH of evpoll_version().
 */
int evpoll_version_patch(void)
{
	return version_part(2);
}
