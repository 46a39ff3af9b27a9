/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * registry.h - choosing a backend from a table: shared by the poller
 * (poller.c, enum evpoll_backend, $EVPOLL_BACKEND) and the completion API
 * (aio.c, enum evpoll_aio_backend, $EVPOLL_AIO_BACKEND), which follow one
 * rule: a backend is named by its name or an alias, "default" is 0, and
 * the default is the backend the environment names (not replaced when it
 * cannot be used), else the first one, in table order, whose probe
 * succeeds.
 */
#ifndef _EVPOLL_REGISTRY_H
#define _EVPOLL_REGISTRY_H

/**
 * struct evpoll__registry - a backend table
 * @env:	the environment variable naming the default backend
 * @nr:		one past the last backend (backends are 1 .. @nr - 1)
 * @name:	the name of backend @b
 * @probe:	0 if backend @b can be used here, else -errno
 * @aliases:	{ alias, name } pairs, ended by a NULL alias
 */
struct evpoll__registry {
	const char *env;
	int nr;
	const char *(*name)(int b);
	int (*probe)(int b);
	const char *const (*aliases)[2];
};

/* The backend of @name (0 for "default"), or -EINVAL (@name NULL too). */
int evpoll__registry_by_name(const struct evpoll__registry *r,
			     const char *name);
/* The first usable backend after @b, or @r->nr if none. */
int evpoll__registry_next(const struct evpoll__registry *r, int b);
/*
 * The default backend: @r->env's (-EINVAL if it names none, the probe's
 * error if it cannot be used), else the first usable one (-ENODEV).
 */
int evpoll__registry_default(const struct evpoll__registry *r);

#endif /* _EVPOLL_REGISTRY_H */
