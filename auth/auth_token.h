/*
 * auth_token: one-time tokens for the login handoff (docs/login.md).  When
 * a login process's verify succeeds with "handoff", auth issues a random
 * token bound to the user and the service; the mail process (as root)
 * redeems it once, within AUTH_TOKEN_TTL_MS, to learn who logged in.  So
 * no process has to believe a login process about the identity.
 * Time comes from the caller.
 */
#ifndef POSTERN_AUTH_TOKEN_H
#define POSTERN_AUTH_TOKEN_H
#include <stdint.h>

#include "login.h"
#include "userdb.h"

#define AUTH_TOKENS_MAX		1024
#define AUTH_TOKEN_TTL_MS	60000
#define AUTH_SERVICE_MAX	16

/* A new token for user and service in out[LOGIN_TOKEN_LEN + 1] (lower-case
 * hex of 32 random bytes).  0, or -1 when AUTH_TOKENS_MAX unexpired tokens
 * are outstanding or the service name is too long. */
int auth_token_issue(const char *user, const char *service, int64_t now, char *out) WUR;
/* 1 and the user in user[USERDB_ADDR_MAX + 1] if token was issued for
 * service, not redeemed and not expired (it is then used up); 0 if not. */
int auth_token_redeem(const char *token, const char *service, int64_t now, char *user) WUR;
#endif
