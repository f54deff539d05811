/*
 * auth_token: one-time handoff tokens (see auth_token.h).
 */
#include <stdlib.h>
#include <string.h>

#include "auth_token.h"
#include "buf.h"

struct token {
	char token[LOGIN_TOKEN_LEN + 1];	/* "" = free */
	char user[USERDB_ADDR_MAX + 1];
	char service[AUTH_SERVICE_MAX + 1];
	int64_t expires;
};

static struct token tokens[AUTH_TOKENS_MAX];

static void
forget(struct token *t)
{
	explicit_bzero(t, sizeof(*t));
}

int
auth_token_issue(const char *user, const char *service, int64_t now, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[LOGIN_TOKEN_LEN / 2];
	struct token *t = NULL;
	size_t i;

	for (i = 0; i < AUTH_TOKENS_MAX; i++) {
		if (tokens[i].token[0] != '\0' && tokens[i].expires <= now)
			forget(&tokens[i]);
		if (tokens[i].token[0] == '\0' && t == NULL)
			t = &tokens[i];
	}
	if (t == NULL || str_copy(t->service, sizeof(t->service), service) == -1 ||
	    str_copy(t->user, sizeof(t->user), user) == -1) {
		if (t != NULL)
			forget(t);
		return -1;
	}
	arc4random_buf(raw, sizeof(raw));
	for (i = 0; i < sizeof(raw); i++) {
		t->token[2 * i] = hex[raw[i] >> 4];
		t->token[2 * i + 1] = hex[raw[i] & 15];
	}
	t->token[LOGIN_TOKEN_LEN] = '\0';
	t->expires = now + AUTH_TOKEN_TTL_MS;
	explicit_bzero(raw, sizeof(raw));
	memcpy(out, t->token, LOGIN_TOKEN_LEN + 1);
	return 0;
}

int
auth_token_redeem(const char *token, const char *service, int64_t now, char *user)
{
	size_t i;

	if (strlen(token) != LOGIN_TOKEN_LEN)
		return 0;
	for (i = 0; i < AUTH_TOKENS_MAX; i++) {
		struct token *t = &tokens[i];

		if (t->token[0] == '\0' || strcmp(t->token, token) != 0)
			continue;
		if (t->expires <= now || strcmp(t->service, service) != 0) {
			forget(t);	/* a wrong service burns it too */
			return 0;
		}
		memcpy(user, t->user, sizeof(t->user));
		forget(t);
		return 1;
	}
	return 0;
}
