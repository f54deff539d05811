/*
 * queue_result: the durable half of the scheduler (docs/queue.md,
 * "Scheduling").  Order is what makes it crash-safe: a bounce, a delivery
 * report or a re-injected message is committed before the envelope records
 * the result that caused it, and a result is written before anything else
 * depends on it.  A crash in between repeats work (a second bounce, a
 * second delivery), never loses a recipient.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "queue_bounce.h"
#include "queue_result.h"
#include "queue_spool.h"
#include "util.h"
#include "xmalloc.h"

#define ATTEMPTS_CAP	1000000u
#define REPORT_FAIL	0x01	/* failed; its report is not committed yet */
#define REPORT_OK	0x02	/* sent with NOTIFY=SUCCESS; report not sent yet */
#define COPY_CHUNK	65536

void
result_init(struct result_ctx *x, const struct config *c)
{
	struct sched_limits lim;

	memset(x, 0, sizeof(*x));
	lim.concurrency = c->queue_concurrency;
	lim.domain_concurrency = c->queue_domain_concurrency;
	lim.transport[SCHED_LOCAL] = c->local_concurrency;
	lim.transport[SCHED_REMOTE] = c->remote_concurrency;
	lim.retry_min = c->retry_min;
	lim.retry_max = c->retry_max;
	lim.lifetime = c->lifetime;
	lim.warn_after = c->warn_after;
	sched_init(&x->sched, &lim, c->domains, c->ndomains);
	if (str_copy(x->hostname, sizeof(x->hostname), c->hostname) == -1)
		log_fatal("hostname too long");
	if (c->queue_postmaster != NULL && c->queue_postmaster[0] != '\0') {
		if (str_copy(x->postmaster, sizeof(x->postmaster), c->queue_postmaster) == -1)
			log_fatal("queue.postmaster too long");
	} else if (str_format(x->postmaster, sizeof(x->postmaster), "postmaster@%s",
	    c->ndomains > 0 ? c->domains[0] : c->hostname) == -1)
		log_fatal("postmaster address too long");
	x->max_full = c->message_size;
}

static int
load_one(struct envelope *e, uint64_t size, void *arg)
{
	struct result_ctx *x = arg;

	sched_add(&x->sched, e, size);
	return 0;
}

int
result_load(struct result_ctx *x)
{
	return spool_load_each(load_one, x);
}

void
result_committed(struct result_ctx *x, struct envelope *e, uint64_t size)
{
	sched_add(&x->sched, e, size);
}

/* ---- new messages made by the queue ------------------------------------- */

/* Append fd's bytes from offset 0 to the message in progress.  0/-1. */
static int
copy_msg(struct spool_msg *sm, int fd)
{
	char *chunk = xmalloc(COPY_CHUNK);
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, chunk, COPY_CHUNK, off)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		spool_write(sm, chunk, (size_t)n);
		off += n;
	}
	free(chunk);
	return n == 0 ? 0 : -1;
}

/* Commit sm with e (id and arrival are set here) and schedule it; the
 * log lines go back to the id of parent (the message it came from).
 * 0, or -1 (nothing left behind). */
static int
commit_new(struct result_ctx *x, struct spool_msg *sm, struct envelope *e,
    const char *parent)
{
	const char *err = NULL;
	uint64_t size = sm->size;
	char id[QUEUE_ID_LEN + 1];

	if (str_copy(e->id, sizeof(e->id), sm->id) == -1 ||
	    str_copy(id, sizeof(id), sm->id) == -1)
		log_panic("queue id length");
	e->arrival = (int64_t)time(NULL);
	if (!envelope_check(e, &err)) {
		log_warn("%s: new message refused: %s", id, err);
		spool_discard(sm);
		return -1;
	}
	if (spool_commit(sm, e, &err) != 1) {
		log_warn("%s: new message not queued: %s", id, err);
		return -1;
	}
	log_set_qid(id);
	log_info("from=<%s>, size=%llu, nrcpt=%zu, %s of %s", e->sender,
	    (unsigned long long)size, e->nrcpt, e->kind == ENV_KIND_MAIL ?
	    "forwarded copy" : "report", parent);
	log_set_qid(parent);
	sched_add(&x->sched, e, size);
	return 0;
}

/* Commit a DSN about recipients idx[0..n) of m to `to`.  0/-1. */
static int
report_commit(struct result_ctx *x, struct sched_msg *m, const size_t *idx,
    size_t n, enum dsn_action action, const char *to)
{
	struct bounce_output out;
	struct bounce_input in;
	struct spool_msg sm;
	int fd, r = -1;

	if ((fd = spool_open_msg(m->env.id)) == -1) {
		log_warn("cannot open the message: %s", strerror(errno));
		return -1;
	}
	if (spool_begin(&sm, UINT64_MAX) == -1) {
		close(fd);
		return -1;
	}
	buf_init(&out.msg, BUF_NOLIMIT);
	envelope_init(&out.env);
	memset(&in, 0, sizeof(in));
	in.orig = &m->env;
	in.rcpt = idx;
	in.nrcpt = n;
	in.action = action;
	in.msgfd = fd;
	in.hostname = x->hostname;
	in.to = to;
	in.now = (int64_t)time(NULL);
	in.id = sm.id;
	if (action == DSN_DELAYED)
		in.retry_until = m->env.arrival + (int64_t)x->sched.lim.lifetime;
	if (bounce_build(&in, x->max_full, &out) == -1) {
		log_warn("cannot build the report");
		spool_discard(&sm);
	} else {
		log_info("%s notification to <%s>: %s", action == DSN_FAILED ?
		    "non-delivery" : action == DSN_DELAYED ? "delay" : "delivery",
		    to, sm.id);
		spool_write(&sm, out.msg.data, out.msg.len);
		r = commit_new(x, &sm, &out.env, m->env.id);
	}
	close(fd);
	buf_free(&out.msg);
	envelope_free(&out.env);
	return r;
}

/* The report for failures idx[0..n) of m (one per message per pass).
 * 0 done (or nothing to send), -1 could not be committed. */
static int
report_failures(struct result_ctx *x, struct sched_msg *m, const size_t *idx,
    size_t n)
{
	size_t *want, nwant = 0, i;
	int r;

	if (m->env.kind == ENV_KIND_DOUBLE_BOUNCE) {
		for (i = 0; i < n; i++)
			log_warn("double bounce to <%s> failed; dropped",
			    m->env.rcpt[idx[i]].addr);
		return 0;
	}
	if (m->env.sender[0] == '\0' || m->env.kind != ENV_KIND_MAIL)
		return report_commit(x, m, idx, n, DSN_FAILED, x->postmaster);
	want = xreallocarray(NULL, n, sizeof(*want));
	for (i = 0; i < n; i++)
		if (bounce_wanted(&m->env.rcpt[idx[i]], DSN_FAILED))
			want[nwant++] = idx[i];
	r = nwant == 0 ? 0 : report_commit(x, m, want, nwant, DSN_FAILED,
	    m->env.sender);
	free(want);
	return r;
}

/* Re-inject m for the forward targets of recipient i: a new message
 * "Delivered-To: ADDR" + m's bytes.  0/-1. */
static int
reinject(struct result_ctx *x, struct sched_msg *m, size_t i,
    const struct sched_result *res)
{
	const struct envelope_rcpt *o = &m->env.rcpt[i];
	struct buf head = BUF_INIT(SMTP_ADDR_MAX + 64), orcpt = BUF_INIT(1100);
	struct envelope e;
	struct spool_msg sm;
	size_t k;
	int fd, r = -1;

	envelope_init(&e);
	envelope_set(&e.sender, m->env.sender);
	envelope_set(&e.envid, m->env.envid);
	e.ret = m->env.ret;
	e.body = m->env.body;
	e.smtputf8 = m->env.smtputf8;
	e.kind = m->env.kind;
	envelope_set(&e.protocol, "local");
	envelope_set(&e.client_addr, "local");
	if (o->orcpt != NULL ? buf_puts(&orcpt, o->orcpt) == -1 :
	    buf_printf(&orcpt, "rfc822;%s", o->addr) == -1)
		log_panic("orcpt length");
	for (k = 0; k < res->nfwd; k++)
		envelope_add_rcpt(&e, res->fwd[k], buf_cstr(&orcpt), o->notify);
	if (buf_printf(&head, "Delivered-To: %s\r\n", o->addr) == -1)
		log_panic("Delivered-To length");
	if ((fd = spool_open_msg(m->env.id)) != -1 && spool_begin(&sm, UINT64_MAX) == 0) {
		spool_write(&sm, head.data, head.len);
		if (copy_msg(&sm, fd) == -1)
			spool_discard(&sm);
		else
			r = commit_new(x, &sm, &e, m->env.id);
	}
	if (fd != -1)
		close(fd);
	if (r == -1)
		log_warn("to=<%s>: cannot re-inject for %zu forward addresses",
		    o->addr, res->nfwd);
	envelope_free(&e);
	buf_free(&head);
	buf_free(&orcpt);
	return r;
}

/* ---- recording one recipient's result ----------------------------------- */

static double
delay_since(int64_t arrival)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return 0;
	return (double)(ts.tv_sec - arrival) + ts.tv_nsec / 1e9;
}

/* The Postfix-style line: "ID: to=<a>, orig_to=<o>, relay=r, delay=1.2,
 * dsn=2.0.0, status=sent (text)". */
static void
log_result(const struct sched_msg *m, size_t i, const char *relay,
    const char *word, const char *status)
{
	const struct envelope_rcpt *r = &m->env.rcpt[i];
	const char *orig = r->orcpt != NULL ? strchr(r->orcpt, ';') + 1 : NULL;
	const char *sp = strchr(status, ' ');
	int codelen = sp != NULL ? (int)(sp - status) : (int)strlen(status);

	log_info("to=<%s>%s%s%s, relay=%s, delay=%.1f, dsn=%.*s, status=%s (%s)",
	    r->addr, orig ? ", orig_to=<" : "", orig ? orig : "", orig ? ">" : "",
	    relay, delay_since(m->env.arrival), codelen, status, word,
	    sp != NULL ? sp + 1 : "");
}

/* Store "5.4.7 delivery time expired (last: ...)" as i's status. */
static void
expire_status(struct envelope_rcpt *r)
{
	struct buf b = BUF_INIT(ENVELOPE_TEXT_MAX);
	const char *last = r->status;

	if (buf_puts(&b, "5.4.7 delivery time expired") == -1 ||
	    (last != NULL && buf_printf(&b, " (last: %.*s)", 400, last) == -1))
		log_panic("status length");
	envelope_set(&r->status, buf_cstr(&b));
	buf_free(&b);
}

/* Apply st to recipient i (in memory).  Returns the final verb: a defer
 * past the lifetime becomes a failure. */
static enum sched_verb
record(struct result_ctx *x, struct sched_msg *m, size_t i,
    const struct sched_status *st, const char *relay, int64_t now)
{
	struct envelope_rcpt *r = &m->env.rcpt[i];

	if (r->attempts < ATTEMPTS_CAP)
		r->attempts++;
	envelope_set(&r->status, st->text);
	m->dirty = 1;
	switch (st->verb) {
	case SCHED_SENT:
		r->state = ENV_RCPT_SENT;
		log_result(m, i, relay, "sent", r->status);
		return SCHED_SENT;
	case SCHED_FAIL:
		r->state = ENV_RCPT_FAILED;
		log_result(m, i, relay, "bounced", r->status);
		return SCHED_FAIL;
	case SCHED_DEFER:
		break;
	}
	if (sched_rcpt_expired(&x->sched, m, i, now)) {
		log_result(m, i, relay, "deferred", r->status);
		expire_status(r);
		r->state = ENV_RCPT_FAILED;
		log_result(m, i, "none", "expired", r->status);
		return SCHED_FAIL;
	}
	r->state = ENV_RCPT_DEFERRED;
	r->next_attempt = now + sched_backoff(&x->sched.lim, r->attempts);
	log_result(m, i, relay, "deferred", r->status);
	return SCHED_DEFER;
}

/* A bounce could not be committed: the failures are not recorded; they
 * wait as deferred and fail again later (then with a bounce). */
static void
unfail(struct result_ctx *x, struct sched_msg *m, const size_t *idx, size_t n,
    int64_t now)
{
	size_t i;

	log_warn("bounce not queued; %zu failed recipients kept for a retry", n);
	for (i = 0; i < n; i++) {
		m->env.rcpt[idx[i]].state = ENV_RCPT_DEFERRED;
		m->env.rcpt[idx[i]].next_attempt = now + (int64_t)x->sched.lim.retry_min;
	}
}

/* Write m's envelope.  A failure whose report is not committed yet is
 * written as deferred (its status and attempts kept): a crash before the
 * report then retries the recipient instead of losing the report. */
int
result_rewrite(struct sched_msg *m)
{
	size_t i;
	int r;

	for (i = 0; i < m->env.nrcpt; i++)
		if (m->report[i] & REPORT_FAIL)
			m->env.rcpt[i].state = ENV_RCPT_DEFERRED;
	r = spool_env_rewrite(&m->env);
	for (i = 0; i < m->env.nrcpt; i++)
		if (m->report[i] & REPORT_FAIL)
			m->env.rcpt[i].state = ENV_RCPT_FAILED;
	return r;
}

void
result_finish(struct result_ctx *x, struct sched_msg *m)
{
	if (m->injobs > 0 && (m->deleted || !m->dirty))
		return;
	if (m->deleted || (m->injobs == 0 && sched_msg_done(m))) {
		if (spool_remove(m->env.id) == 0) {
			log_set_qid(m->env.id);
			log_info("removed%s", m->deleted ? " (deleted)" : "");
			log_set_qid(NULL);
			sched_remove(&x->sched, m);
			return;
		}
		m->deleted = 0;		/* keep it; the state is written below */
	}
	if (m->dirty && result_rewrite(m) == 0)
		m->dirty = 0;
}

/* The reports of one pass over m (every job of it ended): one failure
 * report, one delivery report. */
static void
send_reports(struct result_ctx *x, struct sched_msg *m, int64_t now)
{
	size_t *failed = xreallocarray(NULL, m->env.nrcpt, sizeof(*failed));
	size_t *ok = xreallocarray(NULL, m->env.nrcpt, sizeof(*ok));
	size_t nfailed = 0, nok = 0, i;

	for (i = 0; i < m->env.nrcpt; i++) {
		if (m->report[i] & REPORT_FAIL)
			failed[nfailed++] = i;
		if (m->report[i] & REPORT_OK)
			ok[nok++] = i;
		m->report[i] = 0;
	}
	if (nfailed > 0 && report_failures(x, m, failed, nfailed) == -1)
		unfail(x, m, failed, nfailed, now);
	if (nok > 0 && m->env.kind == ENV_KIND_MAIL && m->env.sender[0] != '\0' &&
	    report_commit(x, m, ok, nok, DSN_DELIVERED, m->env.sender) == -1)
		log_warn("delivery report not queued");
	free(failed);
	free(ok);
}

void
result_settle(struct result_ctx *x, struct sched_msg *m, int64_t now)
{
	size_t i;

	for (i = 0; i < m->env.nrcpt && m->injobs == 0 && !m->deleted; i++)
		if (m->report[i] != 0) {
			send_reports(x, m, now);
			break;
		}
	result_finish(x, m);
}

/* A remote job's outcome for its destination: all deferred with 4.4.X
 * (no connection, connection lost, routing) suspends the domain. */
static void
dest_outcome(struct result_ctx *x, const struct sched_job *job,
    const struct sched_result *res, int64_t now)
{
	int dead = 1;

	for (size_t k = 0; k < res->n && dead; k++)
		dead = res->st[k].verb == SCHED_DEFER && strncmp(res->st[k].text, "4.4.", 4) == 0;
	sched_dest_result(&x->sched, job->domain, dead, now);
	if (dead)
		log_info("destination %s suspended for %lld s after a connection failure",
		    job->domain, (long long)(sched_dest_until(&x->sched, job->domain) - now));
}

void
result_apply(struct result_ctx *x, const struct sched_job *job,
    const struct sched_result *res)
{
	struct sched_msg *m = job->msg;
	const char *relay = res->relay[0] ? res->relay :
	    job->transport == SCHED_LOCAL ? "local" : "remote";
	struct sched_status st;
	int64_t now = (int64_t)time(NULL);
	size_t k, i;

	sched_job_end(&x->sched, job);
	log_set_qid(m->env.id);
	for (k = 0; k < job->n && !m->deleted; k++) {
		i = job->rcpt[k];
		st = res->st[k];
		if (res->nfwd > 0 && reinject(x, m, i, res) == -1 &&
		    str_copy(st.text, sizeof(st.text), "4.3.0 cannot re-inject forwarded mail") == 0)
			st.verb = SCHED_DEFER;
		switch (record(x, m, i, &st, relay, now)) {
		case SCHED_FAIL:
			m->report[i] |= REPORT_FAIL;
			break;
		case SCHED_SENT:
			if (job->transport == SCHED_LOCAL && res->nfwd == 0 &&
			    bounce_wanted(&m->env.rcpt[i], DSN_DELIVERED))
				m->report[i] |= REPORT_OK;
			break;
		case SCHED_DEFER:
			break;
		}
	}
	if (m->deleted)
		log_info("result ignored: message deleted");
	if (job->transport == SCHED_REMOTE)
		dest_outcome(x, job, res, now);
	result_settle(x, m, now);
	log_set_qid(NULL);
}

void
result_defer_job(struct result_ctx *x, const struct sched_job *job,
    const char *status)
{
	struct sched_result *res = xcalloc(1, sizeof(*res));
	size_t k;

	res->job = job->tag;
	res->n = job->n;
	for (k = 0; k < job->n; k++) {
		res->st[k].verb = SCHED_DEFER;
		if (str_copy(res->st[k].text, sizeof(res->st[k].text), status) == -1)
			log_panic("status length");
	}
	if (str_copy(res->relay, sizeof(res->relay), "none") == -1)
		log_panic("relay");
	result_apply(x, job, res);
	free(res);
}

/* ---- time-driven work ----------------------------------------------------- */

static void
expire(struct result_ctx *x, struct sched_msg *m, int64_t now)
{
	size_t nfailed = 0, i;

	for (i = 0; i < m->env.nrcpt; i++) {
		if (m->busy[i] || !sched_rcpt_expired(&x->sched, m, i, now) ||
		    m->env.rcpt[i].next_attempt > now)
			continue;
		expire_status(&m->env.rcpt[i]);
		m->env.rcpt[i].state = ENV_RCPT_FAILED;
		m->report[i] |= REPORT_FAIL;
		m->dirty = 1;
		log_result(m, i, "none", "expired", m->env.rcpt[i].status);
		nfailed++;
	}
	if (nfailed > 0)
		result_settle(x, m, now);	/* m may be freed */
}

/* The delay warning, once per message (m may be freed). */
static void
warn(struct result_ctx *x, struct sched_msg *m, int64_t now)
{
	size_t *want, nwant = 0, i;

	if (x->sched.lim.warn_after == 0 || m->env.warned ||
	    m->env.kind != ENV_KIND_MAIL || m->env.sender[0] == '\0' ||
	    now - m->env.arrival < (int64_t)x->sched.lim.warn_after ||
	    sched_msg_done(m))
		return;
	want = xreallocarray(NULL, m->env.nrcpt, sizeof(*want));
	for (i = 0; i < m->env.nrcpt; i++)
		if (sched_rcpt_open(m, i) && bounce_wanted(&m->env.rcpt[i], DSN_DELAYED))
			want[nwant++] = i;
	if (nwant == 0 || report_commit(x, m, want, nwant, DSN_DELAYED,
	    m->env.sender) == 0) {
		m->env.warned = 1;
		m->dirty = 1;
		result_finish(x, m);
	}
	free(want);
}

void
result_tick(struct result_ctx *x, int64_t now)
{
	struct sched_msg *m, *next;

	for (m = x->sched.head; m != NULL; m = next) {
		next = m->next;
		if (m->deleted || m->dirty || sched_msg_done(m)) {
			if (m->injobs == 0)
				result_settle(x, m, now);	/* e.g. loaded finished */
			continue;
		}
		if (m->env.hold)
			continue;
		log_set_qid(m->env.id);
		expire(x, m, now);
		log_set_qid(NULL);
	}
	for (m = x->sched.head; m != NULL; m = next) {
		next = m->next;
		if (m->deleted || m->env.hold)
			continue;
		log_set_qid(m->env.id);
		warn(x, m, now);
		log_set_qid(NULL);
	}
}
