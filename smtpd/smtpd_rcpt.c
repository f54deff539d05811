/*
 * smtpd_rcpt: RCPT TO.  Decides local versus relay on the final domain the
 * parser extracted (source routes are dropped, '%', '!' and quoted '@' are
 * never interpreted), checks local recipients against the mailboxes and
 * aliases maps, and keeps the envelope small enough for one IPC record.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "smtpd_rcpt.h"
#include "smtpd_session.h"

#define ADDR_TRICKS	(SMTP_ADDR_PERCENT | SMTP_ADDR_BANG | SMTP_ADDR_AT)

/* 1 if key is in the mailboxes or aliases map, 0 if not, -1 on error. */
static int
smtpd_rcpt_known(struct smtpd *s, const char *key)
{
	struct buf val = BUF_INIT(65536);
	int r;

	r = map_lookup(&s->mailboxes, key, &val);
	if (r == 0)
		r = map_lookup(&s->aliases, key, &val);
	buf_free(&val);
	return r;
}

/* Look a local address up as given, then without its extension
 * (local.recipient_delimiter, as local delivery does). */
static enum smtpd_rcpt_verdict
smtpd_rcpt_lookup(struct smtpd *s, const struct smtp_addr *a)
{
	const char *delim = s->cf->local_recipient_delimiter;
	char key[SMTP_ADDR_MAX + 1];
	const char *plus;
	int r;

	r = smtpd_rcpt_known(s, a->addr);
	if (r == 0 && !(a->flags & SMTP_ADDR_QUOTED) && delim[0] != '\0' &&
	    (plus = strchr(a->local, delim[0])) != NULL && plus != a->local) {
		if (str_format(key, sizeof(key), "%.*s@%s", (int)(plus - a->local), a->local,
		    a->domain) == -1)
			return SMTPD_RCPT_UNKNOWN;
		r = smtpd_rcpt_known(s, key);
	}
	if (r == -1) {
		log_warn("map lookup failed for recipient %s", a->addr);
		return SMTPD_RCPT_TEMPFAIL;
	}
	return r == 1 ? SMTPD_RCPT_LOCAL : SMTPD_RCPT_UNKNOWN;
}

enum smtpd_rcpt_verdict
smtpd_rcpt_check(struct smtpd *s, const struct smtp_rcpt *r)
{
	const struct smtp_addr *a = &r->to;

	if (r->postmaster)
		return SMTPD_RCPT_LOCAL;	/* RFC 5321 4.5.1: always accepted */
	if (!(a->flags & SMTP_ADDR_LITERAL) && config_is_local_domain(s->cf, a->domain)) {
		/* our domain: a local part with relay syntax is never ours */
		if (a->flags & ADDR_TRICKS)
			return SMTPD_RCPT_UNKNOWN;
		if (!(a->flags & SMTP_ADDR_QUOTED) && strcasecmp(a->local, "postmaster") == 0)
			return SMTPD_RCPT_LOCAL;
		return smtpd_rcpt_lookup(s, a);
	}
	if (!s->authenticated && !s->trusted)
		return SMTPD_RCPT_DENIED;
	/* even for trusted senders, never pass a relay hack on */
	if (a->flags & ADDR_TRICKS)
		return SMTPD_RCPT_DENIED;
	return SMTPD_RCPT_RELAY;
}

static void
smtpd_rcpt_error(struct smtpd *s, enum smtp_perr e)
{
	const char *what;

	switch (e) {
	case SMTP_P_BADADDR:
		what = "bad recipient address syntax";
		break;
	case SMTP_P_UTF8:
		what = "non-ASCII recipient address needs SMTPUTF8";
		break;
	case SMTP_P_PARAM:
		what = "parameter not supported";
		break;
	case SMTP_P_PARAMVAL:
		what = "bad parameter value";
		break;
	default:
		what = "syntax: RCPT TO:<address> [parameters]";
		break;
	}
	smtpd_reply(s, smtp_perr_code(e), smtp_perr_enhanced(e, 0), "Error: %s", what);
}

/* Drop the last recipient again (it made the envelope too big). */
static void
smtpd_rcpt_pop(struct envelope *e)
{
	struct envelope_rcpt *r = &e->rcpt[--e->nrcpt];

	free(r->addr);
	free(r->orcpt);
	free(r->status);
	memset(r, 0, sizeof(*r));
}

/* Add a recipient unless it is a duplicate.  0 ok, -1 if the envelope would
 * no longer fit one IPC record, -2 if the queue would refuse the address. */
static int
smtpd_rcpt_add(struct smtpd *s, const char *addr, const char *orcpt, unsigned notify)
{
	struct buf b = BUF_INIT(SMTPD_ENVELOPE_MAX);
	struct smtp_addr check;
	size_t i, est;

	if (smtp_mailbox_parse(addr, strlen(addr), s->smtputf8 ? SMTP_PARSE_UTF8 : 0,
	    &check) != SMTP_P_OK)
		return -2;
	for (i = 0; i < s->env.nrcpt; i++)
		if (strcmp(s->env.rcpt[i].addr, addr) == 0)
			return 0;
	est = 3 * strlen(addr) + (orcpt != NULL ? 3 * strlen(orcpt) : 0) + 96;
	(void)envelope_add_rcpt(&s->env, addr, orcpt, notify);
	if (s->env_estimate + est <= SMTPD_ENVELOPE_MAX) {
		s->env_estimate += est;
		return 0;
	}
	/* the estimate is an upper bound: near the limit, measure exactly */
	if (envelope_serialize(&s->env, &b) == -1) {
		smtpd_rcpt_pop(&s->env);
		buf_free(&b);
		return -1;
	}
	s->env_estimate = b.len;
	buf_free(&b);
	return 0;
}

void
smtpd_cmd_rcpt(struct smtpd *s, const struct smtp_cmd *c)
{
	struct smtp_rcpt r;
	enum smtp_perr e;
	char addr[SMTP_ADDR_MAX + 1], orcpt[sizeof(r.orcpt_type) + SMTP_ORCPT_MAX + 2];
	const char *dom;

	e = smtp_rcpt_parse(c->arg != NULL ? c->arg : "", c->arglen, smtpd_extensions(s),
	    s->smtputf8 ? SMTP_PARSE_UTF8 : 0, &r);
	if (e != SMTP_P_OK) {
		smtpd_rcpt_error(s, e);
		return;
	}
	if (s->env.nrcpt >= s->cf->recipients) {
		smtpd_reply(s, 452, "4.5.3", "Error: too many recipients");
		return;
	}
	switch (smtpd_rcpt_check(s, &r)) {
	case SMTPD_RCPT_UNKNOWN:
		smtpd_reply(s, 550, "5.1.1", "<%s>: Recipient address rejected: "
		    "user unknown", r.to.addr);
		return;
	case SMTPD_RCPT_DENIED:
		smtpd_reply(s, 554, "5.7.1", "<%s>: Relay access denied", r.to.addr);
		return;
	case SMTPD_RCPT_TEMPFAIL:
		smtpd_reply(s, 451, "4.3.0", "<%s>: Temporary lookup failure", r.to.addr);
		return;
	case SMTPD_RCPT_LOCAL:
	case SMTPD_RCPT_RELAY:
		break;
	}
	dom = s->cf->ndomains > 0 ? s->cf->domains[0] : s->cf->hostname;
	if (r.postmaster ? str_format(addr, sizeof(addr), "postmaster@%s", dom) == -1 :
	    str_copy(addr, sizeof(addr), r.to.addr) == -1) {
		smtpd_reply(s, 451, "4.3.0", "Error: cannot store recipient");
		return;
	}
	if (r.has_orcpt && str_format(orcpt, sizeof(orcpt), "%s;%s", r.orcpt_type,
	    r.orcpt) == -1) {
		smtpd_reply(s, 501, "5.5.4", "Error: ORCPT too long");
		return;
	}
	switch (smtpd_rcpt_add(s, addr, r.has_orcpt ? orcpt : NULL, r.notify)) {
	case -1:
		smtpd_reply(s, 452, "4.5.3", "Error: too many recipients");
		return;
	case -2:
		smtpd_reply(s, 553, "5.1.3", "<%s>: Error: bad recipient address", addr);
		return;
	}
	s->state = SMTPD_S_RCPT;
	smtpd_reply(s, 250, "2.1.5", "Ok");
}
