/*
 * smtpd_auth: AUTH PLAIN and LOGIN (RFC 4954, 4616), offered only inside
 * TLS.  smtpd never sees a password hash: the decoded credentials go to the
 * auth service over auth.sock and are wiped here right after.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "ipc.h"
#include "log.h"
#include "smtpd_auth.h"
#include "smtpd_session.h"

#define AUTH_USER_MAX	255
#define AUTH_PASS_MAX	1024
#define AUTH_TIMEOUT_MS	60000	/* > the longest auth.fail_delay (30s) */

/* Decode base64 text; 1 ok, 0 after a 501 reply. */
static int
smtpd_auth_decode(struct smtpd *s, const char *p, size_t n, struct buf *out)
{
	buf_reset(out);
	if (base64_decode(p, n, out) == -1) {
		smtpd_reply(s, 501, "5.5.2", "Error: cannot decode the response");
		return 0;
	}
	return 1;
}

/* Send a 334 challenge and read the client's answer, decoded, into out.
 * 1 ok, 0 refused (reply sent), -1 the session ends. */
static int
smtpd_auth_ask(struct smtpd *s, const char *challenge, struct buf *out)
{
	int r;

	smtpd_reply_raw(s, "334 %s", challenge);
	r = smtpd_read_line(s, SMTPD_AUTH_LINE_MAX);
	if (r != 1)
		return r;
	if (s->line.len == 1 && s->line.data[0] == '*') {
		smtpd_reply(s, 501, "5.7.0", "Authentication cancelled");
		return 0;
	}
	r = smtpd_auth_decode(s, s->line.data != NULL ? s->line.data : "", s->line.len, out);
	if (s->line.data != NULL)
		explicit_bzero(s->line.data, s->line.len);
	return r;
}

/* Text fit for a login name: UTF-8, no controls, no NUL. */
static int
smtpd_auth_name_ok(const char *p, size_t n)
{
	return n > 0 && n <= AUTH_USER_MAX && smtp_text_valid(p, n);
}

/* Ask auth: 1 verified (identity in s->auth_user), 0 wrong credentials,
 * -1 temporary failure.  ulen <= AUTH_USER_MAX. */
static int
smtpd_auth_verify(struct smtpd *s, const char *user, size_t ulen, const char *pass,
    size_t plen)
{
	struct ipc_msg req, ans;
	const char *canon;
	int r, v = -1;

	if (s->auth_fd == -1) {
		log_warn("auth service unavailable");
		return -1;
	}
	ipc_msg_init(&req, IPC_AUTH_VERIFY);
	if (ipc_put(&req, "user", user, ulen) == -1 || ipc_put(&req, "pass", pass, plen) == -1 ||
	    ipc_put_str(&req, "service", "smtp") == -1 ||
	    ipc_put_str(&req, "client", s->client_addr) == -1)
		log_panic("auth request too large");
	r = ipc_call(s->auth_fd, &req, &ans, AUTH_TIMEOUT_MS);
	explicit_bzero(req.body.data, req.body.len);
	ipc_msg_free(&req);
	if (r != 1) {
		log_warn("auth service: %s", r == 0 ? "connection closed" : strerror(errno));
		close(s->auth_fd);
		s->auth_fd = -1;
	} else if (ans.type == IPC_OK) {
		v = 1;
		/* prefer the canonical identity auth found (e.g. lower-cased) */
		canon = ipc_get_str(&ans, "user", sizeof(s->auth_user) - 1);
		if (canon != NULL && smtpd_auth_name_ok(canon, strlen(canon)))
			memcpy(s->auth_user, canon, strlen(canon) + 1);
		else {
			memcpy(s->auth_user, user, ulen);
			s->auth_user[ulen] = '\0';
		}
	}
	else if (ans.type == IPC_AUTH_FAIL)
		v = 0;
	else
		log_warn("auth service: unexpected answer type %u", ans.type);
	ipc_msg_free(&ans);
	return v;
}

/* Check the credentials and reply 235, 535 or 454. */
static void
smtpd_auth_finish(struct smtpd *s, const char *mech, const char *user, size_t ulen,
    const char *pass, size_t plen)
{
	int v;

	if (!smtpd_auth_name_ok(user, ulen) || plen == 0 || plen > AUTH_PASS_MAX ||
	    memchr(pass, '\0', plen) != NULL)
		v = 0;
	else
		v = smtpd_auth_verify(s, user, ulen, pass, plen);
	if (v == 1) {
		s->authenticated = 1;
		log_info("client=%s, sasl_method=%s, sasl_username=%s", s->client_addr, mech,
		    s->auth_user);
		smtpd_reply(s, 235, "2.7.0", "Authentication successful");
	} else if (v == 0) {
		log_info("client=%s: %s authentication failed", s->client_addr, mech);
		smtpd_reply(s, 535, "5.7.8", "Error: authentication failed");
	} else
		smtpd_reply(s, 454, "4.7.0", "Temporary authentication failure");
}

/* RFC 4616: [authzid] NUL authcid NUL passwd; we accept no proxy authzid. */
static void
smtpd_auth_plain(struct smtpd *s, const struct smtp_auth *a, struct buf *resp)
{
	const char *p, *n1, *n2, *end;

	if (a->has_initial) {
		if (!smtpd_auth_decode(s, a->initial, a->initial_len, resp))
			return;
	} else if (smtpd_auth_ask(s, "", resp) != 1)
		return;
	p = resp->data != NULL ? resp->data : "";
	end = p + resp->len;
	if ((n1 = memchr(p, '\0', resp->len)) == NULL ||
	    (n2 = memchr(n1 + 1, '\0', (size_t)(end - n1 - 1))) == NULL) {
		smtpd_reply(s, 501, "5.5.2", "Error: malformed PLAIN response");
		return;
	}
	if (n1 != p && ((size_t)(n1 - p) != (size_t)(n2 - n1 - 1) ||
	    memcmp(p, n1 + 1, (size_t)(n1 - p)) != 0)) {
		smtpd_reply(s, 535, "5.7.8", "Error: authentication failed");
		return;
	}
	smtpd_auth_finish(s, "PLAIN", n1 + 1, (size_t)(n2 - n1 - 1), n2 + 1,
	    (size_t)(end - n2 - 1));
}

static void
smtpd_auth_login(struct smtpd *s, const struct smtp_auth *a, struct buf *resp)
{
	struct buf user = BUF_INIT(SMTPD_AUTH_LINE_MAX);

	if (a->has_initial) {
		if (!smtpd_auth_decode(s, a->initial, a->initial_len, &user))
			goto out;
	} else if (smtpd_auth_ask(s, "VXNlcm5hbWU6", &user) != 1)	/* "Username:" */
		goto out;
	if (smtpd_auth_ask(s, "UGFzc3dvcmQ6", resp) != 1)	/* "Password:" */
		goto out;
	smtpd_auth_finish(s, "LOGIN", user.data != NULL ? user.data : "", user.len,
	    resp->data != NULL ? resp->data : "", resp->len);
out:
	buf_free_secret(&user);
}

void
smtpd_cmd_auth(struct smtpd *s, const struct smtp_cmd *c)
{
	struct buf resp = BUF_INIT(SMTPD_AUTH_LINE_MAX);
	struct smtp_auth a;

	if (!s->esmtp)
		smtpd_reply(s, 503, "5.5.1", "Error: send EHLO first");
	else if (s->authenticated)
		smtpd_reply(s, 503, "5.5.1", "Error: already authenticated");
	else if (!s->in_tls)
		smtpd_reply(s, 538, "5.7.11", "Encryption required for requested "
		    "authentication mechanism");
	else if (smtp_auth_parse(c->arg != NULL ? c->arg : "", c->arglen, &a) != SMTP_P_OK)
		smtpd_reply(s, 501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
	else if (strcmp(a.mech, "PLAIN") == 0)
		smtpd_auth_plain(s, &a, &resp);
	else if (strcmp(a.mech, "LOGIN") == 0)
		smtpd_auth_login(s, &a, &resp);
	else
		smtpd_reply(s, 504, "5.5.4", "Error: unsupported authentication mechanism");
	buf_free_secret(&resp);
	if (s->line.data != NULL)
		explicit_bzero(s->line.data, s->line.len);
}
