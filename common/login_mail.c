/*
 * login_mail: the mail process's side of the login handoff (login.h,
 * docs/login.md): the session record from master, the token redeemed with
 * auth, the per-user session slot, the Maildir.  Kept apart from login.c
 * (the login processes' side, with the TLS proxy) so a mail process that
 * never speaks TLS links no OpenSSL.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "login.h"
#include "util.h"

#define HANDOFF_TIMEOUT_MS	10000
#define REDEEM_TIMEOUT_MS	10000

int
login_token_valid(const char *s, size_t len)
{
	size_t i;

	if (s == NULL || len != LOGIN_TOKEN_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int
login_tag_valid(const char *s, size_t len)
{
	size_t i;

	if (s == NULL || len == 0 || len > LOGIN_TAG_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || strchr("(){%*\"\\+", s[i]) != NULL)
			return 0;
	return 1;
}

/* An address auth gave back: normalized already, or refused. */
int
login_user_valid(const char *u, char *out)
{
	const char *err;

	return u != NULL &&
	    userdb_address_normalize(u, strlen(u), out, USERDB_ADDR_MAX + 1, &err) == 1 &&
	    strcmp(out, u) == 0;
}

/* Copy a text field of at most max bytes (no NUL) into out[max + 1]. */
static int
copy_field(const struct ipc_msg *m, const char *key, char *out, size_t max)
{
	const char *v = ipc_get_str(m, key, max);

	return v != NULL && str_copy(out, max + 1, v) == 0 ? 0 : -1;
}

/* Ask auth who the token belongs to.  0 and s->user, or -1. */
static int
redeem(const struct config *c, const char *token, const char *service,
    struct login_session *s, const char **err)
{
	struct ipc_msg req, ans;
	char path[4096];
	int fd, r, v = -1;

	*err = "the auth service is not available";
	if (str_format(path, sizeof(path), "%s/auth.sock", c->paths_runtime) == -1 ||
	    (fd = ipc_connect(path)) == -1)
		return -1;
	ipc_msg_init(&req, IPC_AUTH_REDEEM);
	if (ipc_put_str(&req, "token", token) == -1 ||
	    ipc_put_str(&req, "service", service) == -1)
		log_panic("login: redeem record");
	r = ipc_call(fd, &req, &ans, REDEEM_TIMEOUT_MS);
	ipc_msg_free(&req);
	close(fd);
	if (r == 1 && ans.type == IPC_OK) {
		if (login_user_valid(ipc_get_str(&ans, "user", USERDB_ADDR_MAX), s->user))
			v = 0;
		else
			*err = "malformed answer from the auth service";
	} else if (r == 1 && ans.type == IPC_AUTH_FAIL)
		*err = "the login token was refused";
	ipc_msg_free(&ans);
	return v;
}

int
login_session_receive(const struct config *c, const char *service,
    struct login_session *s, const char **err)
{
	struct ipc_msg m;
	struct pollfd p = { LOGIN_CHANNEL_FD, POLLIN, 0 };
	const char *token, *input, *tls, *tag;
	const char *svc;
	size_t tlen, ilen, glen = 0;
	int r;

	memset(s, 0, sizeof(*s));
	buf_init(&s->input, LOGIN_INPUT_MAX);
	*err = "no session record from master";
	if (poll(&p, 1, HANDOFF_TIMEOUT_MS) != 1 || ipc_recv(LOGIN_CHANNEL_FD, &m) != 1)
		return -1;
	close(LOGIN_CHANNEL_FD);
	*err = "malformed session record from master";
	token = ipc_get(&m, "token", &tlen);
	input = ipc_get(&m, "input", &ilen);
	tls = ipc_get_str(&m, "tls", 1);
	tag = ipc_get(&m, "tag", &glen);
	r = -1;
	if (m.type == IPC_LOGIN_SESSION && m.nfds == 0 && login_token_valid(token, tlen) &&
	    input != NULL && ilen <= LOGIN_INPUT_MAX && tls != NULL &&
	    (tls[0] == '0' || tls[0] == '1') &&
	    (tag == NULL || login_tag_valid(tag, glen)) &&
	    (svc = ipc_get_str(&m, "service", 32)) != NULL && strcmp(svc, service) == 0 &&
	    copy_field(&m, "client", s->client, sizeof(s->client) - 1) == 0 &&
	    copy_field(&m, "listener", s->listener, sizeof(s->listener) - 1) == 0 &&
	    buf_append(&s->input, input, ilen) == 0) {
		s->tls = tls[0] == '1';
		if (tag != NULL) {
			memcpy(s->tag, tag, glen);
			s->tag[glen] = '\0';
		}
		r = redeem(c, token, service, s, err);
	}
	ipc_msg_free(&m);
	return r;
}

void
login_session_free(struct login_session *s)
{
	buf_free(&s->input);
}

int
login_user_slot(const char *dir, unsigned max, int *fd_out, const char **err)
{
	char path[4096];
	unsigned i;
	int fd;

	*fd_out = -1;
	for (i = 0; i < max; i++) {
		*err = "cannot open a session slot";
		if (str_format(path, sizeof(path), "%s/" LOGIN_SLOT_FILE ".%u", dir, i) == -1 ||
		    (fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1)
			return -1;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			*fd_out = fd;
			return 1;
		}
		close(fd);
		if (errno != EWOULDBLOCK && errno != EINTR) {
			*err = "cannot lock a session slot";
			return -1;
		}
	}
	*err = "too many sessions for this user";
	return 0;
}

int
login_mailbox(const struct config *c, const char *user, char *dir, size_t dirsize,
    struct priv_account *owner, const char **err)
{
	const char *at = strrchr(user, '@');

	*err = "bad mailbox name";
	if (at == NULL || at == user || at[1] == '\0' || strchr(user, '/') != NULL ||
	    str_format(dir, dirsize, "%s/%s/%.*s", c->paths_mail, at + 1,
	    (int)(at - user), user) == -1)
		return -1;
	*err = "the mail account does not exist";
	return priv_role_account(c, "vmail", owner);
}
