/*
 * auth_limit: failed logins counted per client address, so a client that
 * guesses passwords over many connections (and services) is stopped: once
 * an address has max failures within the window, auth refuses it without
 * looking at the password until the window (counted from the first of
 * those failures) is over.  Pure: time comes from the caller.
 */
#ifndef POSTERN_AUTH_LIMIT_H
#define POSTERN_AUTH_LIMIT_H
#include <stddef.h>
#include <stdint.h>

#define AUTH_LIMIT_SLOTS	4096	/* addresses remembered; the oldest go */
#define AUTH_LIMIT_ADDR		64

struct auth_limit_entry {
	char addr[AUTH_LIMIT_ADDR];
	uint64_t failures;
	int64_t since;		/* ms of the first failure in the window */
};

struct auth_limit {
	uint64_t max;		/* auth.max_failures */
	int64_t window_ms;	/* auth.failure_window */
	struct auth_limit_entry *v;	/* AUTH_LIMIT_SLOTS, allocated at init */
	size_t n;
};

void auth_limit_init(struct auth_limit *l, uint64_t max, int64_t window_ms);
void auth_limit_free(struct auth_limit *l);
/* 1 if addr has had max failures in its current window at time now. */
int auth_limit_blocked(struct auth_limit *l, const char *addr, int64_t now);
/* Count one failure of addr at time now. */
void auth_limit_fail(struct auth_limit *l, const char *addr, int64_t now);
#endif
