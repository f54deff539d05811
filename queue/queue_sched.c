/*
 * queue_sched: the queue's in-memory index and the choice of jobs under the
 * limits.  Runs in the queue process; pure (no I/O, no clock): the caller
 * passes the time and does everything durable (queue_result.c).
 */
#include <ctype.h>
#include <string.h>

#include "log.h"
#include "queue_sched.h"
#include "util.h"
#include "xmalloc.h"

void
sched_init(struct sched *s, const struct sched_limits *lim,
    char *const *domains, size_t ndomains)
{
	memset(s, 0, sizeof(*s));
	s->lim = *lim;
	s->domains = domains;
	s->ndomains = ndomains;
}

static void
msg_free(struct sched_msg *m)
{
	envelope_free(&m->env);
	free(m->busy);
	free(m->transport);
	free(m->report);
	free(m);
}

void
sched_free(struct sched *s)
{
	struct sched_msg *m, *next;

	for (m = s->head; m != NULL; m = next) {
		next = m->next;
		msg_free(m);
	}
	free(s->doms);
	free(s->dead);
	s->head = s->tail = NULL;
	s->doms = NULL;
	s->dead = NULL;
	s->nmsg = s->ndoms = s->domcap = s->ndead = s->deadcap = 0;
}

void
sched_domain_of(const char *addr, char out[SMTP_DOMAIN_MAX + 1])
{
	const char *at = strrchr(addr, '@');
	size_t i;

	out[0] = '\0';
	if (at == NULL)
		return;
	for (i = 0, at++; at[i] != '\0' && i < SMTP_DOMAIN_MAX; i++)
		out[i] = (char)tolower((unsigned char)at[i]);
	out[i] = '\0';
}

enum sched_transport
sched_route(const struct sched *s, const char *addr)
{
	char dom[SMTP_DOMAIN_MAX + 1];
	size_t i;

	sched_domain_of(addr, dom);
	if (dom[0] == '\0')
		return SCHED_LOCAL;	/* bare "postmaster" */
	for (i = 0; i < s->ndomains; i++)
		if (strcasecmp(s->domains[i], dom) == 0)
			return SCHED_LOCAL;
	return SCHED_REMOTE;
}

struct sched_msg *
sched_add(struct sched *s, struct envelope *e, uint64_t size)
{
	struct sched_msg *m = xcalloc(1, sizeof(*m));
	size_t i, n = e->nrcpt ? e->nrcpt : 1;

	m->env = *e;
	envelope_init(e);
	m->size = size;
	m->busy = xcalloc(n, 1);
	m->transport = xcalloc(n, 1);
	m->report = xcalloc(n, 1);
	for (i = 0; i < m->env.nrcpt; i++)
		m->transport[i] = (unsigned char)sched_route(s, m->env.rcpt[i].addr);
	m->prev = s->tail;
	if (s->tail != NULL)
		s->tail->next = m;
	else
		s->head = m;
	s->tail = m;
	s->nmsg++;
	return m;
}

void
sched_remove(struct sched *s, struct sched_msg *m)
{
	PANIC_UNLESS(m->injobs == 0);
	if (m->prev != NULL)
		m->prev->next = m->next;
	else
		s->head = m->next;
	if (m->next != NULL)
		m->next->prev = m->prev;
	else
		s->tail = m->prev;
	s->nmsg--;
	msg_free(m);
}

struct sched_msg *
sched_find(const struct sched *s, const char *id)
{
	struct sched_msg *m;

	for (m = s->head; m != NULL; m = m->next)
		if (strcmp(m->env.id, id) == 0)
			return m;
	return NULL;
}

int64_t
sched_backoff(const struct sched_limits *lim, unsigned attempts)
{
	int64_t d = lim->retry_min > 0 ? (int64_t)lim->retry_min : 1;
	int64_t max = lim->retry_max > 0 ? (int64_t)lim->retry_max : 1;
	unsigned i;

	for (i = 1; i < attempts && d < max; i++)
		d *= 2;		/* d < max <= 365 days: no overflow */
	return d < max ? d : max;
}

int
sched_rcpt_open(const struct sched_msg *m, size_t i)
{
	enum envelope_state st = m->env.rcpt[i].state;

	return st == ENV_RCPT_PENDING || st == ENV_RCPT_DEFERRED;
}

int
sched_msg_done(const struct sched_msg *m)
{
	size_t i;

	for (i = 0; i < m->env.nrcpt; i++)
		if (sched_rcpt_open(m, i))
			return 0;
	return 1;
}

int
sched_rcpt_expired(const struct sched *s, const struct sched_msg *m,
    size_t i, int64_t now)
{
	return sched_rcpt_open(m, i) &&
	    now - m->env.arrival >= (int64_t)s->lim.lifetime;
}

/* ---- limits -------------------------------------------------------------- */

static struct sched_domain *
dom_find(struct sched *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->ndoms; i++)
		if (strcmp(s->doms[i].name, name) == 0)
			return &s->doms[i];
	return NULL;
}

static uint64_t
dom_count(struct sched *s, const char *name)
{
	struct sched_domain *d = dom_find(s, name);

	return d != NULL ? d->n : 0;
}

static void
dom_add(struct sched *s, const char *name, int delta)
{
	struct sched_domain *d = dom_find(s, name);

	if (d == NULL) {
		PANIC_UNLESS(delta > 0);
		if (s->ndoms == s->domcap) {
			s->domcap = s->domcap ? s->domcap * 2 : 16;
			s->doms = xreallocarray(s->doms, s->domcap, sizeof(*s->doms));
		}
		d = &s->doms[s->ndoms++];
		if (str_copy(d->name, sizeof(d->name), name) == -1)
			log_panic("domain length");
		d->n = 0;
	}
	PANIC_UNLESS(delta > 0 || d->n > 0);
	d->n = delta > 0 ? d->n + 1 : d->n - 1;
	if (d->n == 0)
		*d = s->doms[--s->ndoms];
}

/* Can one more job of transport t start? */
static int
transport_free(const struct sched *s, enum sched_transport t)
{
	uint64_t cap = s->slots[t] < s->lim.transport[t] ? s->slots[t] :
	    s->lim.transport[t];

	return s->tr_inflight[t] < cap;
}

/* Is recipient i of m ready to go now (limits aside)? */
static int
rcpt_due(const struct sched *s, const struct sched_msg *m, size_t i, int64_t now)
{
	return sched_rcpt_open(m, i) && !m->busy[i] &&
	    m->env.rcpt[i].next_attempt <= now && !sched_rcpt_expired(s, m, i, now);
}

/* ---- dead destinations -------------------------------------------------- */

static ssize_t
dead_find(const struct sched *s, const char *name)
{
	for (size_t i = 0; i < s->ndead; i++)
		if (strcmp(s->dead[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

int64_t
sched_dest_until(const struct sched *s, const char *domain)
{
	ssize_t k = s->ndead > 0 ? dead_find(s, domain) : -1;

	return k == -1 ? 0 : s->dead[k].until;
}

void
sched_dest_result(struct sched *s, const char *domain, int conn_failed, int64_t now)
{
	ssize_t k = dead_find(s, domain);
	struct sched_dead *d;

	if (!conn_failed) {
		if (k != -1)
			s->dead[k] = s->dead[--s->ndead];
		return;
	}
	if (k == -1) {
		if (s->ndead == SCHED_DEAD_MAX) {	/* drop the one ending first */
			size_t o = 0;

			for (size_t i = 1; i < s->ndead; i++)
				if (s->dead[i].until < s->dead[o].until)
					o = i;
			s->dead[o] = s->dead[--s->ndead];
		}
		if (s->ndead == s->deadcap) {
			s->deadcap = s->deadcap ? s->deadcap * 2 : 16;
			s->dead = xreallocarray(s->dead, s->deadcap, sizeof(*s->dead));
		}
		k = (ssize_t)s->ndead++;
		memset(&s->dead[k], 0, sizeof(s->dead[k]));
		if (str_copy(s->dead[k].name, sizeof(s->dead[k].name), domain) == -1)
			log_panic("domain length");
	}
	d = &s->dead[k];
	if (d->fails < 64)
		d->fails++;
	d->until = now + sched_backoff(&s->lim, d->fails);
}

void
sched_dest_clear(struct sched *s)
{
	s->ndead = 0;
}

/* Is recipient i of m (remote) held back by a dead destination at now? */
static int
rcpt_dest_dead(const struct sched *s, const struct sched_msg *m, size_t i, int64_t now)
{
	char dom[SMTP_DOMAIN_MAX + 1];

	if (s->ndead == 0 || m->transport[i] != SCHED_REMOTE)
		return 0;
	sched_domain_of(m->env.rcpt[i].addr, dom);
	return sched_dest_until(s, dom) > now;
}

/* ---- choosing jobs ------------------------------------------------------- */

/* A job starts: count it against the limits. */
static void
job_count(struct sched *s, const struct sched_job *job)
{
	job->msg->injobs++;
	s->inflight++;
	s->tr_inflight[job->transport]++;
	dom_add(s, job->domain, 1);
}

/* Fill job with recipient i of m (and, for remote, its due siblings). */
static void
job_fill(struct sched *s, struct sched_msg *m, size_t i, int64_t now,
    struct sched_job *job)
{
	char dom[SMTP_DOMAIN_MAX + 1];
	size_t k;

	memset(job, 0, sizeof(*job));
	job->msg = m;
	job->transport = (enum sched_transport)m->transport[i];
	job->agent = -1;
	sched_domain_of(m->env.rcpt[i].addr, job->domain);
	job->rcpt[job->n++] = i;
	m->busy[i] = 1;
	for (k = i + 1; job->transport == SCHED_REMOTE && k < m->env.nrcpt &&
	    job->n < SCHED_JOB_RCPT; k++) {
		if (m->transport[k] != SCHED_REMOTE || !rcpt_due(s, m, k, now))
			continue;
		sched_domain_of(m->env.rcpt[k].addr, dom);
		if (strcmp(dom, job->domain) != 0)
			continue;
		job->rcpt[job->n++] = k;
		m->busy[k] = 1;
	}
	job_count(s, job);
}

int
sched_next_job(struct sched *s, int64_t now, struct sched_cursor *c,
    struct sched_job *job)
{
	char dom[SMTP_DOMAIN_MAX + 1];
	struct sched_msg *m;
	size_t i;

	if (!c->started) {
		c->msg = s->head;
		c->rcpt = 0;
		c->started = 1;
	}
	for (m = c->msg; m != NULL; m = m->next, c->rcpt = 0) {
		c->msg = m;
		if (m->env.hold || m->deleted)
			continue;
		for (i = c->rcpt; i < m->env.nrcpt; i++) {
			if (s->inflight >= s->lim.concurrency)
				return 0;
			if (!rcpt_due(s, m, i, now) || !transport_free(s, m->transport[i]) ||
			    rcpt_dest_dead(s, m, i, now))
				continue;
			sched_domain_of(m->env.rcpt[i].addr, dom);
			if (dom_count(s, dom) >= s->lim.domain_concurrency)
				continue;
			job_fill(s, m, i, now, job);
			c->rcpt = i + 1;
			return 1;
		}
	}
	c->msg = NULL;
	return 0;
}

void
sched_job_end(struct sched *s, const struct sched_job *job)
{
	size_t i;

	for (i = 0; i < job->n; i++)
		job->msg->busy[job->rcpt[i]] = 0;
	PANIC_UNLESS(job->msg->injobs > 0 && s->inflight > 0 &&
	    s->tr_inflight[job->transport] > 0);
	job->msg->injobs--;
	s->inflight--;
	s->tr_inflight[job->transport]--;
	dom_add(s, job->domain, -1);
}

/* Earliest of *best and t, for t > now. */
static void
earliest(int64_t *best, int64_t t, int64_t now)
{
	if (t > now && (*best == -1 || t < *best))
		*best = t;
}

int64_t
sched_wake(const struct sched *s, int64_t now)
{
	const struct sched_msg *m;
	int64_t best = -1, expiry, next;
	size_t i;
	int open;

	for (m = s->head; m != NULL; m = m->next) {
		if (m->env.hold || m->deleted)
			continue;
		expiry = m->env.arrival + (int64_t)s->lim.lifetime;
		for (i = 0, open = 0; i < m->env.nrcpt; i++) {
			if (!sched_rcpt_open(m, i) || m->busy[i])
				continue;
			open = 1;
			next = m->env.rcpt[i].next_attempt;
			if (rcpt_dest_dead(s, m, i, now)) {
				char dom[SMTP_DOMAIN_MAX + 1];

				sched_domain_of(m->env.rcpt[i].addr, dom);
				if (sched_dest_until(s, dom) > next)
					next = sched_dest_until(s, dom);
			}
			if (s->slots[m->transport[i]] > 0)
				earliest(&best, next, now);
			/* expiry waits for a retry time already set */
			earliest(&best, next > expiry ? next : expiry, now);
		}
		if (open && s->lim.warn_after > 0 && !m->env.warned &&
		    m->env.kind == ENV_KIND_MAIL && m->env.sender[0] != '\0')
			earliest(&best, m->env.arrival + (int64_t)s->lim.warn_after, now);
	}
	return best;
}

/* ---- results from delivery agents ---------------------------------------- */

static int
digits(const char *p, size_t len, size_t *pos, size_t min, size_t max)
{
	size_t start = *pos;

	while (*pos < len && *pos - start < max + 1 && p[*pos] >= '0' && p[*pos] <= '9')
		(*pos)++;
	return *pos - start >= min && *pos - start <= max;
}


int
sched_status_parse(const char *p, size_t len, struct sched_status *out)
{
	static const struct { const char *word; char cls; } verbs[] = {
		{ "sent ", '2' }, { "defer ", '4' }, { "fail ", '5' } };
	size_t v, w, pos;

	for (v = 0; v < 3; v++) {
		w = strlen(verbs[v].word);
		if (len > w && memcmp(p, verbs[v].word, w) == 0)
			break;
	}
	if (v == 3 || p[w] != verbs[v].cls || w + 1 >= len || p[w + 1] != '.')
		return 0;
	pos = w + 2;
	if (!digits(p, len, &pos, 1, 3) || pos >= len || p[pos] != '.')
		return 0;
	pos++;
	if (!digits(p, len, &pos, 1, 3))
		return 0;
	if (pos < len && (p[pos] != ' ' || len - pos - 1 > SCHED_TEXT_MAX ||
	    !smtp_text_valid(p + pos + 1, len - pos - 1)))
		return 0;
	out->verb = (enum sched_verb)v;
	memcpy(out->text, p + w, len - w);
	out->text[len - w] = '\0';
	return 1;
}

/* relay: host names, address literals and a port; nothing else. */
static int
relay_ok(const char *p, size_t len)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]";
	size_t i;

	if (len == 0 || len > SCHED_RELAY_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (strchr(allowed, p[i]) == NULL || p[i] == '\0')
			return 0;
	return 1;
}

/* A decimal u64 without sign: 1..20 digits.  1 ok. */
static int
tag_parse(const char *val, size_t len, uint64_t *out)
{
	return len > 0 && len <= 20 && strspn(val, "0123456789") == len &&
	    parse_uint(val, 0, UINT64_MAX, out) == 0;
}

/* One field of a RESULT.  1 ok, 0 invalid (*err set). */
static int
result_field(struct sched_result *r, const char *key, const char *val,
    size_t len, int *seen_job, const char **err)
{
	struct smtp_addr a;
	uint64_t job;

	if (strcmp(key, "job") == 0) {
		if (*seen_job || !tag_parse(val, len, &job))
			return *err = "bad job field", 0;
		r->job = job;
		*seen_job = 1;
	} else if (strcmp(key, "status") == 0) {
		if (r->n == SCHED_JOB_RCPT || !sched_status_parse(val, len, &r->st[r->n]))
			return *err = "bad status field", 0;
		r->n++;
	} else if (strcmp(key, "relay") == 0) {
		if (r->relay[0] != '\0' || !relay_ok(val, len))
			return *err = "bad relay field", 0;
		memcpy(r->relay, val, len);
		r->relay[len] = '\0';
	} else if (strcmp(key, "forward") == 0) {
		if (r->nfwd == SCHED_FORWARD_MAX ||
		    smtp_mailbox_parse(val, len, SMTP_PARSE_UTF8, &a) != SMTP_P_OK ||
		    a.domain[0] == '\0')
			return *err = "bad forward field", 0;
		memcpy(r->fwd[r->nfwd++], a.addr, sizeof(a.addr));
	} else
		return *err = "unknown field", 0;
	return 1;
}

int
sched_result_parse(const struct ipc_msg *m, struct sched_result *r,
    const char **err)
{
	const char *key, *val;
	size_t pos = 0, len;
	int seen_job = 0;

	r->job = 0;
	r->n = r->nfwd = 0;
	r->relay[0] = '\0';
	while (ipc_next(m, &pos, &key, &val, &len) == 1) {
		if (memchr(val, '\0', len) != NULL)
			return *err = "NUL in a field", 0;
		if (!result_field(r, key, val, len, &seen_job, err))
			return 0;
	}
	if (pos != m->body.len)
		return *err = "malformed record", 0;
	if (!seen_job || r->n == 0)
		return *err = "job or status missing", 0;
	if (r->nfwd > 0 && (r->n != 1 || r->st[0].verb != SCHED_SENT))
		return *err = "forward needs exactly one sent status", 0;
	return 1;
}

/* ---- orphans --------------------------------------------------------------- */

/* One field of an ORPHAN.  1 ok, 0 invalid (*err set). */
static int
orphan_field(struct sched_orphan *o, const char *key, const char *val,
    size_t len, unsigned *seen, const char **err)
{
	struct smtp_addr a;

	if (strcmp(key, "job") == 0) {
		if ((*seen & 1) || !tag_parse(val, len, &o->job))
			return *err = "bad job field", 0;
		*seen |= 1;
	} else if (strcmp(key, "id") == 0) {
		if ((*seen & 2) || len != QUEUE_ID_LEN ||
		    strspn(val, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != len)
			return *err = "bad id field", 0;
		memcpy(o->id, val, len);
		o->id[len] = '\0';
		*seen |= 2;
	} else if (strcmp(key, "rcpt") == 0) {
		if (o->n == SCHED_JOB_RCPT ||
		    smtp_mailbox_parse(val, len, SMTP_PARSE_UTF8, &a) != SMTP_P_OK ||
		    a.domain[0] == '\0')
			return *err = "bad rcpt field", 0;
		memcpy(o->rcpt[o->n++], a.addr, sizeof(a.addr));
		*seen |= 4;
	} else
		return *err = "unknown field", 0;
	return 1;
}

int
sched_orphan_parse(const struct ipc_msg *m, struct sched_orphan *o,
    const char **err)
{
	const char *key, *val;
	size_t pos = 0, len;
	unsigned seen = 0;

	memset(o, 0, sizeof(*o));
	while (ipc_next(m, &pos, &key, &val, &len) == 1) {
		if (memchr(val, '\0', len) != NULL)
			return *err = "NUL in a field", 0;
		if (!orphan_field(o, key, val, len, &seen, err))
			return 0;
	}
	if (pos != m->body.len)
		return *err = "malformed record", 0;
	if (seen != 7)
		return *err = "job, id or rcpt missing", 0;
	return 1;
}

/* Is recipient address addr (as stored) the normalized address want? */
static int
rcpt_is(const char *addr, const char *want)
{
	struct smtp_addr a;

	if (strcmp(addr, want) == 0)
		return 1;
	return smtp_mailbox_parse(addr, strlen(addr), SMTP_PARSE_UTF8, &a) ==
	    SMTP_P_OK && strcmp(a.addr, want) == 0;
}

static int
in_job(const struct sched_job *job, size_t i)
{
	for (size_t k = 0; k < job->n; k++)
		if (job->rcpt[k] == i)
			return 1;
	return 0;
}

int
sched_orphan_adopt(struct sched *s, const struct sched_orphan *o,
    enum sched_transport t, struct sched_job *job)
{
	struct sched_msg *m = sched_find(s, o->id);
	size_t i, k;

	if (m == NULL || m->deleted)
		return 0;
	memset(job, 0, sizeof(*job));
	for (k = 0; k < o->n; k++) {
		for (i = 0; i < m->env.nrcpt; i++)
			if (sched_rcpt_open(m, i) && !m->busy[i] && m->transport[i] == t &&
			    !in_job(job, i) && rcpt_is(m->env.rcpt[i].addr, o->rcpt[k]))
				break;
		if (i == m->env.nrcpt)
			return 0;
		job->rcpt[job->n++] = i;
	}
	job->msg = m;
	job->transport = t;
	job->agent = -1;
	job->tag = o->job;
	sched_domain_of(m->env.rcpt[job->rcpt[0]].addr, job->domain);
	for (k = 0; k < job->n; k++)
		m->busy[job->rcpt[k]] = 1;
	job_count(s, job);
	return 1;
}

void
sched_reserve(struct sched *s, enum sched_transport t, int delta)
{
	if (delta > 0) {
		s->inflight++;
		s->tr_inflight[t]++;
		return;
	}
	PANIC_UNLESS(s->inflight > 0 && s->tr_inflight[t] > 0);
	s->inflight--;
	s->tr_inflight[t]--;
}
