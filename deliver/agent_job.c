/*
 * agent_job: validation of delivery job records (see agent_job.h).  Pure
 * apart from the allocation of the recipients.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "agent_job.h"
#include "buf.h"
#include "xmalloc.h"

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

enum { F_JOB, F_ID, F_SENDER, F_ENVID, F_RET, F_BODY, F_SMTPUTF8, F_ARRIVAL,
	F_COUNT };
static const char *const job_names[F_COUNT] = { "job", "id", "sender", "envid",
	"ret", "body", "smtputf8", "arrival" };
#define F_REQUIRED ((1u << F_JOB) | (1u << F_ID) | (1u << F_SENDER) | (1u << F_ARRIVAL))

/* Printable UTF-8 (no controls) of at most max octets. */
static int
text_ok(const char *s, size_t n, size_t max)
{
	return n <= max && smtp_text_valid(s, n);
}

static int
digits(const char *s, size_t n, size_t max)
{
	return n >= 1 && n <= max && strspn(s, "0123456789") == n;
}

static int
job_id(struct agent_job *j, const char *v, size_t n)
{
	return n > 0 && n <= ENVELOPE_ID_MAX && v[0] != '.' &&
	    strspn(v, ALNUM "_.-") == n && str_copy(j->id, sizeof(j->id), v) == 0;
}

static int
job_sender(struct agent_job *j, const char *v, size_t n)
{
	struct smtp_addr a;

	if (n == 0)
		return 1;
	return smtp_mailbox_parse(v, n, SMTP_PARSE_UTF8, &a) == SMTP_P_OK &&
	    a.domain[0] != '\0' && str_copy(j->sender, sizeof(j->sender), a.addr) == 0;
}

static int
job_body(struct agent_job *j, const char *v)
{
	static const char *const names[] = { "7bit", "8bitmime", "binarymime" };
	static const enum smtp_body bodies[] = { SMTP_BODY_7BIT, SMTP_BODY_8BITMIME,
	    SMTP_BODY_BINARYMIME };

	for (size_t i = 0; i < 3; i++)
		if (strcmp(v, names[i]) == 0) {
			j->body = bodies[i];
			return 1;
		}
	return 0;
}

/* One envelope-level field, each at most once. */
static int
job_field(struct agent_job *j, const char *k, const char *v, size_t n, unsigned *seen,
    const char **error_r)
{
	uint64_t t = 0;
	unsigned i;

	for (i = 0; i < F_COUNT && strcmp(k, job_names[i]) != 0; i++)
		continue;
	if (i == F_COUNT)
		return *error_r = "unknown field", 0;
	if (*seen & (1u << i))
		return *error_r = "field given twice", 0;
	*seen |= 1u << i;
	switch (i) {
	case F_JOB:
		if (!digits(v, n, 20) || str_copy(j->tag, sizeof(j->tag), v) == -1)
			return *error_r = "bad job tag", 0;
		return 1;
	case F_ID:
		return job_id(j, v, n) ? 1 : (*error_r = "bad queue id", 0);
	case F_SENDER:
		return job_sender(j, v, n) ? 1 : (*error_r = "bad sender", 0);
	case F_ENVID:
		if (!text_ok(v, n, SMTP_ENVID_MAX) || str_copy(j->envid, sizeof(j->envid), v) == -1)
			return *error_r = "bad envid", 0;
		return 1;
	case F_RET:
		if (strcmp(v, "full") != 0 && strcmp(v, "hdrs") != 0)
			return *error_r = "bad ret", 0;
		j->ret = v[0] == 'f' ? SMTP_RET_FULL : SMTP_RET_HDRS;
		return 1;
	case F_BODY:
		return job_body(j, v) ? 1 : (*error_r = "bad body", 0);
	case F_SMTPUTF8:
		if (strcmp(v, "1") != 0)
			return *error_r = "bad smtputf8", 0;
		j->smtputf8 = 1;
		return 1;
	default:
		if (!digits(v, n, 18))
			return *error_r = "bad arrival", 0;
		for (size_t d = 0; d < n; d++)
			t = t * 10 + (uint64_t)(v[d] - '0');
		j->arrival = (int64_t)t;
		return 1;
	}
}

/* rcpt: a new recipient; the first fixes the job's domain. */
static int
job_rcpt(struct agent_job *j, size_t max, const char *v, size_t n, const char **error_r)
{
	struct agent_rcpt *r;

	if (j->nrcpt == max)
		return *error_r = max == 1 ? "more than one recipient" :
		    "too many recipients", 0;
	j->rcpt = xreallocarray(j->rcpt, j->nrcpt + 1, sizeof(*j->rcpt));
	r = &j->rcpt[j->nrcpt];
	memset(r, 0, sizeof(*r));
	if (smtp_mailbox_parse(v, n, SMTP_PARSE_UTF8, &r->a) != SMTP_P_OK)
		return *error_r = "bad recipient", 0;
	if (r->a.domain[0] == '\0' || (r->a.flags & SMTP_ADDR_LITERAL))
		return *error_r = "recipient without a domain name", 0;
	if (j->nrcpt == 0) {
		if (str_copy(j->domain, sizeof(j->domain), r->a.domain) == -1)
			return *error_r = "bad recipient", 0;
		for (char *p = j->domain; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	} else if (strcasecmp(j->domain, r->a.domain) != 0)
		return *error_r = "recipients of more than one domain", 0;
	j->nrcpt++;
	return 1;
}

static int
job_orcpt(struct agent_rcpt *r, const char *v, size_t n)
{
	if (n != 0 && (!text_ok(v, n, AGENT_ORCPT_MAX) || v[0] == ';' ||
	    memchr(v, ';', n) == NULL))
		return 0;
	return str_copy(r->orcpt, sizeof(r->orcpt), v) == 0;
}

static int
job_notify(struct agent_rcpt *r, const char *v, size_t n)
{
	unsigned x;

	if (!digits(v, n, 2))
		return 0;
	x = (unsigned)strtoul(v, NULL, 10);
	if (x > 15 || ((x & SMTP_NOTIFY_NEVER) && x != SMTP_NOTIFY_NEVER))
		return 0;
	r->notify = x;
	return 1;
}

/* The per-recipient fields: rcpt, orcpt, notify, in that order. */
static int
job_rcpt_field(struct agent_job *j, size_t max, int *step, const char *k, const char *v,
    size_t n, const char **error_r)
{
	static const char *const order[] = { "rcpt", "orcpt", "notify" };
	int i;

	for (i = 0; i < 3 && strcmp(k, order[i]) != 0; i++)
		continue;
	if (i != *step)
		return *error_r = "recipient fields out of order", 0;
	*step = (*step + 1) % 3;
	if (i == 0)
		return job_rcpt(j, max, v, n, error_r);
	if (i == 1)
		return job_orcpt(&j->rcpt[j->nrcpt - 1], v, n) ? 1 :
		    (*error_r = "bad orcpt", 0);
	return job_notify(&j->rcpt[j->nrcpt - 1], v, n) ? 1 : (*error_r = "bad notify", 0);
}

int
agent_job_parse(struct ipc_msg *m, size_t max_rcpt, struct agent_job *j,
    const char **error_r)
{
	const char *k, *v;
	size_t pos = 0, n;
	unsigned seen = 0;
	int step = 0, ok;

	memset(j, 0, sizeof(*j));
	j->fd = -1;
	if (max_rcpt < 1 || max_rcpt > AGENT_JOB_RCPTS)
		max_rcpt = AGENT_JOB_RCPTS;
	if (m->type != IPC_DELIVER_JOB)
		return *error_r = "not a job record", 0;
	if (m->nfds != 1 || m->fds[0] < 0)
		return *error_r = "not exactly one message descriptor", 0;
	while (ipc_next(m, &pos, &k, &v, &n) == 1) {
		if (memchr(v, '\0', n) != NULL)
			return *error_r = "NUL byte in a field", 0;
		if (strcmp(k, "rcpt") == 0 || strcmp(k, "orcpt") == 0 ||
		    strcmp(k, "notify") == 0)
			ok = job_rcpt_field(j, max_rcpt, &step, k, v, n, error_r);
		else
			ok = j->nrcpt == 0 ? job_field(j, k, v, n, &seen, error_r) :
			    (*error_r = "envelope field after a recipient", 0);
		if (!ok)
			return 0;
	}
	if (pos != m->body.len)
		return *error_r = "malformed record", 0;
	if ((seen & F_REQUIRED) != F_REQUIRED)
		return *error_r = "missing field", 0;
	if (j->nrcpt == 0)
		return *error_r = "no recipient", 0;
	if (step != 0)
		return *error_r = "recipient fields incomplete", 0;
	j->fd = ipc_take_fd(m, 0);
	return 1;
}

void
agent_job_free(struct agent_job *j)
{
	free(j->rcpt);
	j->rcpt = NULL;
	j->nrcpt = 0;
	if (j->fd != -1)
		close(j->fd);
	j->fd = -1;
}
