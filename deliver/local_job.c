/*
 * local_job: validation of delivery jobs from the queue and the loop check
 * on the message header (see local_job.h).  Pure; runs in the root parent
 * (job records) and in the unprivileged child (the message header).
 */
#include <strings.h>

#include "local_job.h"

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

enum job_field { F_JOB, F_ID, F_SENDER, F_ENVID, F_RET, F_BODY, F_SMTPUTF8,
	F_ARRIVAL, F_RCPT, F_ORCPT, F_COUNT };

static const struct {
	const char *name;
	int required;
} job_fields[F_COUNT] = {
	[F_JOB] = { "job", 1 }, [F_ID] = { "id", 1 }, [F_SENDER] = { "sender", 1 },
	[F_ENVID] = { "envid", 0 }, [F_RET] = { "ret", 0 }, [F_BODY] = { "body", 0 },
	[F_SMTPUTF8] = { "smtputf8", 0 }, [F_ARRIVAL] = { "arrival", 1 },
	[F_RCPT] = { "rcpt", 1 }, [F_ORCPT] = { "orcpt", 1 },
};

/* Printable UTF-8 (no controls) of at most max octets. */
static int
job_text_ok(const char *s, size_t n, size_t max)
{
	if (n > max || !smtp_utf8_valid(s, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int
job_digits(const char *s, size_t n, size_t max)
{
	return n >= 1 && n <= max && strspn(s, "0123456789") == n;
}

/* Collect each known field once; 0 and *error_r on anything else. */
static int
job_collect(const struct ipc_msg *m, const char **val, size_t *len, const char **error_r)
{
	const char *key, *v;
	size_t pos = 0, n, i;

	for (i = 0; i < F_COUNT; i++)
		val[i] = NULL;
	while (ipc_next(m, &pos, &key, &v, &n) == 1) {
		for (i = 0; i < F_COUNT && strcmp(key, job_fields[i].name) != 0; i++)
			continue;
		if (i == F_COUNT)
			return *error_r = "unknown field", 0;
		if (val[i] != NULL)
			return *error_r = i == F_RCPT ? "more than one recipient" :
			    "field given twice", 0;
		if (memchr(v, '\0', n) != NULL)
			return *error_r = "NUL byte in a field", 0;
		val[i] = v;
		len[i] = n;
	}
	if (pos != m->body.len)
		return *error_r = "malformed record", 0;
	for (i = 0; i < F_COUNT; i++)
		if (job_fields[i].required && val[i] == NULL)
			return *error_r = i == F_RCPT ? "no recipient" : "missing field", 0;
	return 1;
}

/* The envelope-level fields: job, id, sender, arrival and the options. */
static int
job_envelope(const char **val, const size_t *len, struct local_job *j,
    const char **error_r)
{
	struct smtp_addr a;
	uint64_t t = 0;

	if (!job_digits(val[F_JOB], len[F_JOB], 20) ||
	    str_copy(j->tag, sizeof(j->tag), val[F_JOB]) == -1)
		return *error_r = "bad job tag", 0;
	if (len[F_ID] == 0 || len[F_ID] > ENVELOPE_ID_MAX || val[F_ID][0] == '.' ||
	    strspn(val[F_ID], ALNUM "_.-") != len[F_ID] ||
	    str_copy(j->id, sizeof(j->id), val[F_ID]) == -1)
		return *error_r = "bad queue id", 0;
	if (len[F_SENDER] != 0 && (smtp_mailbox_parse(val[F_SENDER], len[F_SENDER],
	    SMTP_PARSE_UTF8, &a) != SMTP_P_OK || a.domain[0] == '\0'))
		return *error_r = "bad sender", 0;
	if (str_copy(j->sender, sizeof(j->sender), len[F_SENDER] ? a.addr : "") == -1)
		return *error_r = "bad sender", 0;
	if (!job_digits(val[F_ARRIVAL], len[F_ARRIVAL], 18))
		return *error_r = "bad arrival", 0;
	for (size_t i = 0; i < len[F_ARRIVAL]; i++)
		t = t * 10 + (uint64_t)(val[F_ARRIVAL][i] - '0');
	j->arrival = (int64_t)t;
	if (val[F_RET] != NULL && strcmp(val[F_RET], "full") != 0 &&
	    strcmp(val[F_RET], "hdrs") != 0)
		return *error_r = "bad ret", 0;
	if (val[F_BODY] != NULL && strcmp(val[F_BODY], "7bit") != 0 &&
	    strcmp(val[F_BODY], "8bitmime") != 0 && strcmp(val[F_BODY], "binarymime") != 0)
		return *error_r = "bad body", 0;
	if (val[F_SMTPUTF8] != NULL && strcmp(val[F_SMTPUTF8], "1") != 0)
		return *error_r = "bad smtputf8", 0;
	if (val[F_ENVID] != NULL && !job_text_ok(val[F_ENVID], len[F_ENVID], SMTP_ENVID_MAX))
		return *error_r = "bad envid", 0;
	return 1;
}

int
local_job_parse(const struct ipc_msg *m, struct local_job *j, const char **error_r)
{
	const char *val[F_COUNT];
	size_t len[F_COUNT];

	memset(j, 0, sizeof(*j));
	if (m->type != IPC_DELIVER_JOB)
		return *error_r = "not a job record", 0;
	if (m->nfds != 1 || m->fds[0] < 0)
		return *error_r = "not exactly one message descriptor", 0;
	if (!job_collect(m, val, len, error_r) || !job_envelope(val, len, j, error_r))
		return 0;
	if (smtp_mailbox_parse(val[F_RCPT], len[F_RCPT], SMTP_PARSE_UTF8, &j->rcpt) !=
	    SMTP_P_OK)
		return *error_r = "bad recipient", 0;
	if (j->rcpt.domain[0] == '\0' || (j->rcpt.flags & SMTP_ADDR_LITERAL))
		return *error_r = "recipient without a domain name", 0;
	if (len[F_ORCPT] != 0 && (!job_text_ok(val[F_ORCPT], len[F_ORCPT], LOCAL_ORCPT_MAX) ||
	    val[F_ORCPT][0] == ';' || strchr(val[F_ORCPT], ';') == NULL))
		return *error_r = "bad orcpt", 0;
	if (str_copy(j->orcpt, sizeof(j->orcpt), val[F_ORCPT]) == -1)
		return *error_r = "bad orcpt", 0;
	return 1;
}

unsigned
local_count_delivered_to(const char *msg, size_t len)
{
	static const char name[] = "delivered-to:";
	size_t pos = 0, n = sizeof(name) - 1;
	unsigned count = 0;

	while (pos < len && count < LOCAL_LOOP_MAX) {
		const char *p = msg + pos, *nl = memchr(p, '\n', len - pos);
		size_t linelen = nl != NULL ? (size_t)(nl - p) : len - pos;

		if (linelen == 0 || (linelen == 1 && p[0] == '\r'))
			break;	/* end of the header */
		if (linelen >= n && strncasecmp(p, name, n) == 0)
			count++;
		if (nl == NULL)
			break;
		pos += linelen + 1;
	}
	return count;
}
