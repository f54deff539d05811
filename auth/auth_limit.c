/*
 * auth_limit: failures per client address (see auth_limit.h).  A linear
 * table: a few thousand entries, touched once per failed login.
 */
#include <stdlib.h>
#include <string.h>

#include "auth_limit.h"
#include "buf.h"
#include "xmalloc.h"

void
auth_limit_init(struct auth_limit *l, uint64_t max, int64_t window_ms)
{
	l->max = max;
	l->window_ms = window_ms;
	l->v = xcalloc(AUTH_LIMIT_SLOTS, sizeof(*l->v));
	l->n = 0;
}

void
auth_limit_free(struct auth_limit *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static struct auth_limit_entry *
find(struct auth_limit *l, const char *addr)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].addr, addr) == 0)
			return &l->v[i];
	return NULL;
}

static int
expired(const struct auth_limit *l, const struct auth_limit_entry *e, int64_t now)
{
	return now - e->since >= l->window_ms;
}

int
auth_limit_blocked(struct auth_limit *l, const char *addr, int64_t now)
{
	struct auth_limit_entry *e = find(l, addr);

	return e != NULL && !expired(l, e, now) && e->failures >= l->max;
}

/* A slot for a new address: a free one, an expired one, or the oldest. */
static struct auth_limit_entry *
slot(struct auth_limit *l, int64_t now)
{
	size_t i, old = 0;

	if (l->n < AUTH_LIMIT_SLOTS)
		return &l->v[l->n++];
	for (i = 0; i < l->n; i++) {
		if (expired(l, &l->v[i], now))
			return &l->v[i];
		if (l->v[i].since < l->v[old].since)
			old = i;
	}
	return &l->v[old];
}

void
auth_limit_fail(struct auth_limit *l, const char *addr, int64_t now)
{
	struct auth_limit_entry *e = find(l, addr);

	if (e != NULL && !expired(l, e, now)) {
		if (e->failures < UINT64_MAX)
			e->failures++;
		return;
	}
	if (e == NULL) {
		e = slot(l, now);
		if (str_copy(e->addr, sizeof(e->addr), addr) == -1)
			e->addr[0] = '\0';	/* cannot happen: auth checks lengths */
	}
	e->failures = 1;
	e->since = now;
}
