// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * registry.c - the rule, shared by the poller and the completion API, by
 * which a backend is named and chosen (registry.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

int evpoll__registry_by_name(const struct evpoll__registry *r,
			     const char *name)
{
	int b;

	if (!name)
		return -EINVAL;
	if (!strcmp(name, "default"))
		return 0;
	for (b = 0; r->aliases && r->aliases[b][0]; b++)
		if (!strcmp(name, r->aliases[b][0])) {
			name = r->aliases[b][1];
			break;
		}
	for (b = 1; b < r->nr; b++)
		if (!strcmp(name, r->name(b)))
			return b;
	return -EINVAL;
}

int evpoll__registry_next(const struct evpoll__registry *r, int b)
{
	for (b++; b < r->nr; b++)
		if (r->probe(b) == 0)
			break;
	return b;
}

int evpoll__registry_default(const struct evpoll__registry *r)
{
	const char *env = getenv(r->env);
	int b, ret;

	if (env && *env) {
		b = evpoll__registry_by_name(r, env);
		if (b <= 0)
			return -EINVAL;
		ret = r->probe(b);
		return ret < 0 ? ret : b;
	}
	b = evpoll__registry_next(r, 0);
	return b < r->nr ? b : -ENODEV;
}
