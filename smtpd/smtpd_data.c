/*
 * smtpd_data: DATA and BDAT.  Each message line (from the client, so
 * untrusted) is classified by smtp_data_line: bare CR/LF refuses the whole
 * message (SMTP smuggling), so do over-long lines, excess size and mail
 * loops.  The message goes to the queue as stored: our Received: header,
 * then the lines unstuffed with their CRLFs; it is committed only if every
 * check passed, otherwise aborted.
 */
#include <bsd/stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "smtpd_cmds.h"
#include "smtpd_data.h"
#include "smtpd_session.h"
#include "xmalloc.h"

/* More Received: headers than this means a mail loop (RFC 5321 6.3). */
#define SMTPD_MAX_HOPS	50

struct smtpd_msg {
	int headers;		/* still inside the header block */
	int add_missing;	/* submission: add Date:/Message-ID: if absent */
	int have_date, have_msgid;
	unsigned hops;		/* Received: headers seen */
	uint64_t size;		/* octets of the message as stored, ours excluded */
	uint64_t received;	/* BDAT: octets announced so far */
	int bad_eol, toolong, oversize, loop;
	struct buf part;	/* BDAT: the line being assembled */
	int skipping;		/* BDAT: dropping the rest of an over-long line */
};

static int
smtpd_msg_doomed(const struct smtpd_msg *m)
{
	return m->bad_eol || m->toolong || m->oversize || m->loop;
}

/* RFC 5322 date-time, in UTC so no zone file is needed in the chroot. */
static void
smtpd_date(char *out, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(out, size, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		log_panic("cannot format the date");
}

static void
smtpd_msg_out(struct smtpd *s, const char *p, size_t n)
{
	if (!smtpd_msg_doomed(s->msg))
		smtpd_queue_write(&s->queue, p, n);
}

/* Our trace header (RFC 5321 4.4).  The TLS use is a comment; an
 * authenticated session shows only in the protocol (ESMTPA, RFC 3848),
 * never with the login name. */
static void
smtpd_received(struct smtpd *s)
{
	struct buf b = BUF_INIT(8192);
	char date[64];
	int r;

	smtpd_date(date, sizeof(date));
	r = buf_printf(&b, "Received: from %s (%s%s%s)\r\n", s->helo[0] ? s->helo : "unknown",
	    strcmp(s->client_addr, "unknown") == 0 ? "" : (s->client_v6 ? "[IPv6:" : "["),
	    s->client_addr, strcmp(s->client_addr, "unknown") == 0 ? "" : "]");
	if (r == 0 && s->in_tls)
		r = buf_printf(&b, "\t(using %s)\r\n", s->tls_info);
	if (r == 0)
		r = buf_printf(&b, "\tby %s (postern) with %s id %s", s->cf->hostname,
		    smtpd_protocol_name(s), s->queue.id);
	if (r == 0 && s->env.nrcpt == 1)
		r = buf_printf(&b, "\r\n\tfor <%s>", s->env.rcpt[0].addr);
	if (r == 0)
		r = buf_printf(&b, "; %s\r\n", date);
	if (r == -1)
		log_panic("Received: header too long");
	smtpd_msg_out(s, b.data, b.len);
	buf_free(&b);
}

/* Submission: add what a mail user agent forgot (RFC 6409 8.2, 8.3). */
static void
smtpd_msg_add_missing(struct smtpd *s)
{
	struct smtpd_msg *m = s->msg;
	struct buf b = BUF_INIT(1024);
	char date[64];

	if (!m->add_missing)
		return;
	m->add_missing = 0;
	if (!m->have_date) {
		smtpd_date(date, sizeof(date));
		if (buf_printf(&b, "Date: %s\r\n", date) == -1)
			log_panic("Date: header");
	}
	if (!m->have_msgid && buf_printf(&b, "Message-ID: <%lld.%08x%08x@%s>\r\n",
	    (long long)time(NULL), arc4random(), arc4random(), s->cf->hostname) == -1)
		log_panic("Message-ID: header");
	smtpd_msg_out(s, b.data, b.len);
	buf_free(&b);
}

/* Watch the header block: the fields we may add, and the hop count. */
static void
smtpd_msg_header(struct smtpd *s, const char *p, size_t n)
{
	struct smtpd_msg *m = s->msg;
	size_t i = 0, name;

	if (n > 0 && (p[0] == ' ' || p[0] == '\t'))
		return;		/* continuation line */
	while (i < n && p[i] > ' ' && p[i] < 0x7f && p[i] != ':')
		i++;
	name = i;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (name == 0 || i == n || p[i] != ':') {
		/* the empty line, or a body without one: the header ends here */
		smtpd_msg_add_missing(s);
		m->headers = 0;
		return;
	}
	if (name == 4 && strncasecmp(p, "date", 4) == 0)
		m->have_date = 1;
	else if (name == 10 && strncasecmp(p, "message-id", 10) == 0)
		m->have_msgid = 1;
	else if (name == 8 && strncasecmp(p, "received", 8) == 0 &&
	    ++m->hops > SMTPD_MAX_HOPS)
		m->loop = 1;
}

/* One complete message line (unstuffed, terminator included). */
static void
smtpd_msg_line(struct smtpd *s, const char *p, size_t n)
{
	struct smtpd_msg *m = s->msg;

	m->size += n;
	if (m->size > s->cf->message_size)
		m->oversize = 1;
	if (m->headers)
		smtpd_msg_header(s, p, n);
	smtpd_msg_out(s, p, n);
}

/* Start a message: the queue gives the id, then our Received: header.
 * 0, or -1 after a 451 reply (the transaction is reset). */
static int
smtpd_msg_begin(struct smtpd *s)
{
	struct smtpd_msg *m;

	if (smtpd_queue_begin(&s->queue, &s->env) == -1) {
		smtpd_reply(s, 451, "4.3.0", "Error: queue unavailable, try again later");
		smtpd_reset_transaction(s);
		return -1;
	}
	log_set_qid(s->queue.id);
	m = xcalloc(1, sizeof(*m));
	m->headers = 1;
	m->add_missing = s->listener != SMTPD_SMTP;
	buf_init(&m->part, SMTPD_LINE_MAX + 2);
	s->msg = m;
	smtpd_received(s);
	return 0;
}

void
smtpd_msg_discard(struct smtpd *s)
{
	if (s->msg == NULL)
		return;
	smtpd_queue_abort(&s->queue);
	buf_free(&s->msg->part);
	free(s->msg);
	s->msg = NULL;
}

/* The end of a message: refuse it, or commit it and say 250 only then. */
static void
smtpd_msg_finish(struct smtpd *s)
{
	struct smtpd_msg *m = s->msg;
	const char *why = NULL;

	if (m->headers)
		smtpd_msg_add_missing(s);
	if (m->bad_eol) {
		why = "bare CR or LF";
		smtpd_reply(s, 554, "5.6.0", "Error: bare CR or LF in message; "
		    "lines must end with CRLF");
	} else if (m->toolong) {
		why = "line too long";
		smtpd_reply(s, 552, "5.3.4", "Error: message line too long (limit 1000 "
		    "octets with CRLF)");
	} else if (m->oversize) {
		why = "message too big";
		smtpd_reply(s, 552, "5.3.4", "Error: message size exceeds fixed limit");
	} else if (m->loop) {
		why = "too many Received: headers";
		smtpd_reply(s, 554, "5.4.6", "Error: too many hops (mail loop?)");
	} else if (smtpd_queue_end(&s->queue) == -1) {
		smtpd_reply(s, 451, "4.3.0", "Error: could not queue the message, "
		    "try again later");
	} else {
		log_info("from=<%s>, size=%llu, nrcpt=%zu, proto=%s, client=%s",
		    s->env.sender, (unsigned long long)m->size, s->env.nrcpt,
		    smtpd_protocol_name(s), s->client_addr);
		smtpd_reply(s, 250, "2.0.0", "Ok: queued as %s", s->queue.id);
	}
	if (why != NULL)
		log_info("message from %s refused: %s", s->client_addr, why);
	smtpd_reset_transaction(s);
}

/* The rest of an over-long DATA line; 1 if it ended with CRLF, -1 if the
 * session ends. */
static int
smtpd_data_skip(struct smtpd *s)
{
	char last = s->line.len > 0 ? s->line.data[s->line.len - 1] : 0;
	int r;

	for (;;) {
		r = smtpd_read_raw(s, SMTPD_LINE_MAX);
		if (r == -1)
			return -1;
		if (r == LINEIO_OK)
			break;
		last = s->line.data[s->line.len - 1];
	}
	if (s->line.len >= 2)
		return s->line.data[s->line.len - 2] == '\r';
	return last == '\r';
}

/* Read the message up to the real end "<CRLF>.<CRLF>".  0, or -1 if the
 * session ends first. */
static int
smtpd_data_read(struct smtpd *s)
{
	int after_crlf = 1, r;
	unsigned f;
	const char *p;
	size_t n;

	for (;;) {
		r = smtpd_read_raw(s, SMTPD_LINE_MAX);
		if (r == -1)
			return -1;
		if (r == LINEIO_TOOLONG) {
			s->msg->toolong = 1;
			if ((after_crlf = smtpd_data_skip(s)) == -1)
				return -1;
			continue;
		}
		f = smtp_data_line(s->line.data, s->line.len, after_crlf);
		if (f & SMTP_LINE_END)
			return 0;
		if (f & SMTP_LINE_BAD)
			s->msg->bad_eol = 1;
		after_crlf = (f & SMTP_LINE_CRLF) != 0;
		smtp_data_unstuff(s->line.data, s->line.len, &p, &n);
		smtpd_msg_line(s, p, n);
	}
}

void
smtpd_cmd_data(struct smtpd *s, const struct smtp_cmd *c)
{
	if (smtpd_msg_begin(s) == -1)
		return;
	smtpd_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
	if (smtpd_data_read(s) == -1) {
		smtpd_reset_transaction(s);	/* aborts: nothing is queued */
		return;
	}
	smtpd_msg_finish(s);
}

/* ---- BDAT (RFC 3030) ----------------------------------------------- */

static void
smtpd_bdat_line(struct smtpd *s, const char *p, size_t n)
{
	/* after_crlf 0: a chunked message has no end-of-data line, and a
	 * leading dot is data, not stuffing */
	if (smtp_data_line(p, n, 0) & SMTP_LINE_BAD)
		s->msg->bad_eol = 1;
	smtpd_msg_line(s, p, n);
}

/* Split chunk bytes into lines (lines may span chunks). */
static void
smtpd_bdat_bytes(struct smtpd *s, const char *p, size_t n)
{
	struct smtpd_msg *m = s->msg;
	const char *nl;
	size_t take;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		take = nl != NULL ? (size_t)(nl - p) + 1 : n;
		if (m->skipping || m->part.len + take > SMTPD_LINE_MAX) {
			m->toolong = 1;
			buf_reset(&m->part);
			m->skipping = nl == NULL;
		} else {
			if (buf_append(&m->part, p, take) == -1)
				log_panic("bdat line buffer");
			if (nl != NULL) {
				smtpd_bdat_line(s, m->part.data, m->part.len);
				buf_reset(&m->part);
			}
		}
		p += take;
		n -= take;
	}
}

/* Read and drop n octets (a chunk we refuse still has to be consumed).
 * 0, or -1 if the session ends. */
static int
smtpd_bdat_consume(struct smtpd *s, uint64_t n, int keep)
{
	char chunk[LINEIO_BUFSIZE];
	long r;

	while (n > 0) {
		r = smtpd_read_bytes(s, chunk, n < sizeof(chunk) ? (size_t)n : sizeof(chunk));
		if (r < 0)
			return -1;
		if (keep && !smtpd_msg_doomed(s->msg))
			smtpd_bdat_bytes(s, chunk, (size_t)r);
		n -= (uint64_t)r;
	}
	return 0;
}

/* BDAT outside a transaction: consume the chunk, then say why not. */
static void
smtpd_bdat_refuse(struct smtpd *s, uint64_t size)
{
	if (smtpd_bdat_consume(s, size, 0) == -1)
		return;
	if (s->state == SMTPD_S_CONNECT)
		smtpd_reply(s, 503, "5.5.1", "Error: send EHLO/HELO first");
	else if (s->state == SMTPD_S_GREETED)
		smtpd_reply(s, 503, "5.5.1", "Error: need MAIL command");
	else
		smtpd_reply(s, 554, "5.5.1", "Error: no valid recipients");
}

void
smtpd_cmd_bdat(struct smtpd *s, const struct smtp_cmd *c)
{
	struct smtpd_msg *m;
	uint64_t size;
	int last;

	if (smtp_bdat_parse(c->arg != NULL ? c->arg : "", c->arglen, &size, &last) !=
	    SMTP_P_OK) {
		smtpd_reply(s, 501, "5.5.4", "Syntax: BDAT chunk-size [LAST]");
		return;
	}
	if (!(s->state & (SMTPD_S_RCPT | SMTPD_S_BDAT))) {
		smtpd_bdat_refuse(s, size);
		return;
	}
	if (s->state == SMTPD_S_RCPT) {
		if (smtpd_msg_begin(s) == -1) {
			if (smtpd_bdat_consume(s, size, 0) == -1) {
				/* the session ends */
			}
			return;
		}
		s->state = SMTPD_S_BDAT;
		s->bdat_used = 1;
	}
	m = s->msg;
	if (size > s->cf->message_size || m->received + size > s->cf->message_size)
		m->oversize = 1;
	else
		m->received += size;
	if (smtpd_bdat_consume(s, size, 1) == -1)
		return;		/* the session ends; the loop resets it */
	if (last && !smtpd_msg_doomed(m) && m->part.len > 0) {
		/* a final line without CRLF gets one (a lone CR stays bare) */
		if (buf_append(&m->part, "\r\n", 2) == -1)
			log_panic("bdat line buffer");
		smtpd_bdat_line(s, m->part.data, m->part.len);
	}
	if (last || smtpd_msg_doomed(m))
		smtpd_msg_finish(s);
	else
		smtpd_reply(s, 250, "2.0.0", "%llu octets received", (unsigned long long)size);
}
