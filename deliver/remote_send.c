/*
 * remote_send: one SMTP transaction on an open session (remote_sess.h):
 * MAIL and RCPT (in one write with PIPELINING), then the message with
 * DATA (dot-stuffed) or, when the peer offers CHUNKING, BDAT chunks
 * (BODY=BINARYMIME messages raw).  SMTPUTF8 messages only go to peers
 * that offer it (RFC 6531 3.4); 8-bit ones go anyway, logged.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "remote_sess.h"

/* The reply to the RCPT of recipient i: accepted, or its result.  1
 * accepted, 0 refused, -1 (s->ce). */
static int
rcpt_reply(struct sess *s, size_t i)
{
	if (remote_read_reply(s, s->x->t_command) == -1)
		return -1;
	if (s->r.code / 100 == 2)
		return s->accepted[i] = 1;
	remote_result_reply(&s->r, s->c->host, s->c->addr, "RCPT TO", &s->res[i]);
	s->done[i] = 1;
	return 0;
}

/* PIPELINING: MAIL and the RCPTs in s->cmd went in one write; read the
 * replies in order.  Number of accepted recipients, or -1 (s->ce). */
static int
pipelined_replies(struct sess *s, const int *sent)
{
	int mail_ok, nacc = 0, r;

	if (remote_send_cmd(s, s->x->t_command) == -1 ||
	    remote_read_reply(s, s->x->t_command) == -1)
		return -1;
	if (!(mail_ok = s->r.code / 100 == 2))
		remote_set_rest_reply(s, "MAIL FROM", 0);
	for (size_t i = 0; i < s->j->nrcpt; i++) {
		if (!sent[i])
			continue;
		if (!mail_ok) {		/* the replies still come; ignore them */
			if (remote_read_reply(s, s->x->t_command) == -1)
				return -1;
		} else if ((r = rcpt_reply(s, i)) == -1)
			return -1;
		else
			nacc += r;
	}
	return nacc;
}

/* MAIL and RCPTs (in one write when PIPELINING is offered).  Number of
 * accepted recipients, or -1 (s->ce). */
static int
envelope(struct sess *s)
{
	const struct remote_caps *caps = &s->c->caps;
	int pipe = (caps->ext & REMOTE_EXT_PIPELINING) != 0, utf8, nacc = 0, r;
	int sent[AGENT_JOB_RCPTS] = { 0 };
	const char *err;
	size_t i;

	utf8 = s->m->smtputf8 && (caps->ext & REMOTE_EXT_SMTPUTF8);
	if (remote_cmd_mail(s->m, caps, &s->cmd, &err) == -1) {
		remote_set_rest(s, REMOTE_FAIL, "5.6.7", err);
		return 0;
	}
	if (!pipe && (remote_send_cmd(s, s->x->t_command) == -1 ||
	    remote_read_reply(s, s->x->t_command) == -1))
		return -1;
	if (!pipe && s->r.code / 100 != 2) {
		remote_set_rest_reply(s, "MAIL FROM", 0);
		return 0;
	}
	for (i = 0; i < s->j->nrcpt; i++) {
		const struct agent_rcpt *rc = &s->j->rcpt[i];

		if (remote_cmd_rcpt(rc->a.addr, rc->notify, rc->orcpt[0] ? rc->orcpt : NULL,
		    utf8, caps, &s->cmd, &err) == -1) {
			remote_set(&s->res[i], REMOTE_FAIL, "5.1.3", s->c->host, s->c->addr, err);
			s->done[i] = 1;
			continue;
		}
		sent[i] = 1;
		if (pipe)
			continue;
		if (remote_send_cmd(s, s->x->t_command) == -1 || (r = rcpt_reply(s, i)) == -1)
			return -1;
		nacc += r;
	}
	return pipe ? pipelined_replies(s, sent) : nacc;
}

/* The next piece of the message at *off into chunk.  Octets (0 at the
 * end), or -1. */
static ssize_t
read_chunk(struct sess *s, char *chunk, off_t *off)
{
	ssize_t n;

	while ((n = pread(s->j->fd, chunk, REMOTE_CHUNK, *off)) == -1 && errno == EINTR)
		continue;
	if (n == -1) {
		log_warn("cannot read the message: %s", strerror(errno));
		s->ce = REMOTE_CONN_LOST;
	} else
		*off += n;
	return n;
}

/* DATA: stream the message through the dot-stuffing encoder and the final
 * dot.  0, or -1 (s->ce). */
static int
send_data(struct sess *s, char *chunk)
{
	struct remote_enc e;
	off_t off = 0;
	ssize_t n;

	remote_enc_init(&e, 1);
	while ((n = read_chunk(s, chunk, &off)) > 0) {
		buf_reset(&s->cmd);
		if (remote_enc_feed(&e, chunk, (size_t)n, &s->cmd) == -1 ||
		    remote_send_cmd(s, s->x->t_block) == -1)
			return -1;
	}
	buf_reset(&s->cmd);
	if (n == -1 || remote_enc_finish(&e, &s->cmd) == -1 ||
	    remote_send_cmd(s, s->x->t_block) == -1)
		return -1;
	return 0;
}

/* One BDAT command with s->cmd as its data.  0 (a reply in s->r), -1. */
static int
bdat(struct sess *s, struct buf *hdr, int last)
{
	int timeout = last ? s->x->t_dot : s->x->t_block;

	buf_reset(hdr);
	if (remote_cmd_bdat(s->cmd.len, last, hdr) == -1 ||
	    remote_send(s, hdr->data, hdr->len, s->x->t_block) == -1 ||
	    remote_send_cmd(s, s->x->t_block) == -1)
		return -1;
	return remote_read_reply(s, timeout);
}

/* BDAT (RFC 3030): a chunk per read, CRLF-normalised unless the body is
 * BINARYMIME and the peer takes it; the last one marked LAST (at the end
 * of the file as fstat saw it, else an empty "BDAT 0 LAST").  0 (the
 * reply to the last chunk sent is in s->r), -1 (s->ce). */
static int
send_bdat(struct sess *s, char *chunk)
{
	int raw = s->m->body == SMTP_BODY_BINARYMIME &&
	    (s->c->caps.ext & REMOTE_EXT_BINARYMIME);
	struct buf hdr = BUF_INIT(64);
	struct remote_enc e;
	off_t off = 0;
	ssize_t n;
	int last = 0, refused = 0, rc = -1;

	remote_enc_init(&e, 0);
	while (!last && !refused) {
		if ((n = read_chunk(s, chunk, &off)) == -1)
			goto out;
		last = n == 0 || (s->m->size > 0 && (uint64_t)off >= s->m->size);
		buf_reset(&s->cmd);
		if ((raw ? buf_append(&s->cmd, chunk, (size_t)n) :
		    remote_enc_feed(&e, chunk, (size_t)n, &s->cmd)) == -1 ||
		    (last && !raw && remote_enc_finish(&e, &s->cmd) == -1))
			goto out;
		if (bdat(s, &hdr, last) == -1)
			goto out;
		refused = s->r.code / 100 != 2;
	}
	if (!last)		/* a chunk refused: the state is unclear, do not reuse */
		s->closing = 1;
	rc = 0;
out:
	buf_free(&hdr);
	return rc;
}

/* The message after the envelope.  0 (results set), -1 (s->ce). */
static int
message(struct sess *s)
{
	int chunking = (s->c->caps.ext & REMOTE_EXT_CHUNKING) != 0, r;
	char *chunk;

	if ((chunk = malloc(REMOTE_CHUNK)) == NULL) {
		s->ce = REMOTE_CONN_LOST;
		s->broken = 1;
		return -1;
	}
	if (!chunking) {
		if (remote_command(s, "DATA\r\n", s->x->t_data) == -1)
			goto fail;
		if (s->r.code / 100 == 2 || (s->r.code / 100 == 3 && s->r.code != 354)) {
			/* the peer claims the message before it saw it */
			log_warn("%s[%s]: %d in reply to DATA; dropping the connection",
			    s->c->host, s->c->addr, s->r.code);
			s->ce = REMOTE_CONN_PROTO;
			goto fail;
		}
		if (s->r.code != 354) {
			remote_set_rest_reply(s, "DATA", 1);
			free(chunk);
			return 0;
		}
	}
	s->stage = "while sending the message";
	r = chunking ? send_bdat(s, chunk) :
	    send_data(s, chunk) == 0 ? remote_read_reply(s, s->x->t_dot) : -1;
	if (r == -1)
		goto fail;
	free(chunk);
	remote_set_rest_reply(s, chunking ? "BDAT" : "end of data", 1);
	return 0;
fail:
	free(chunk);
	s->broken = 1;
	return -1;
}

void
remote_transaction(struct sess *s)
{
	int nacc;

	s->stage = NULL;
	if (s->m->smtputf8 && !(s->c->caps.ext & REMOTE_EXT_SMTPUTF8)) {
		remote_set_rest(s, REMOTE_FAIL, "5.6.7", "the message needs SMTPUTF8, "
		    "which the host does not offer (RFC 6531 3.4)");
		s->keep = 1;
		return;
	}
	if ((nacc = envelope(s)) == -1)
		goto fail;
	if (nacc > 0) {
		if ((s->m->body == SMTP_BODY_8BITMIME || s->m->body == SMTP_BODY_BINARYMIME) &&
		    !(s->c->caps.ext & REMOTE_EXT_8BITMIME))
			log_info("%s[%s]: 8-bit message to a peer without 8BITMIME; sent as is",
			    s->c->host, s->c->addr);
		if (message(s) == -1)
			goto fail;
	}
	s->keep = 1;
	return;
fail:
	for (size_t i = 0; i < s->j->nrcpt; i++)
		if (!s->done[i])
			remote_result_conn(s->ce, s->c->host, s->c->addr, s->stage, &s->res[i]);
}

void
remote_mail_params(const struct agent_job *j, struct remote_mail *m)
{
	char buf[REMOTE_CHUNK];
	struct stat st;
	off_t off = 0;
	ssize_t n;

	memset(m, 0, sizeof(*m));
	m->sender = j->sender;
	m->body = j->body;
	m->smtputf8 = j->smtputf8;
	m->ret = j->ret;
	m->envid = j->envid[0] ? j->envid : NULL;
	if (fstat(j->fd, &st) == 0 && st.st_size > 0)
		m->size = (uint64_t)st.st_size;
	if (m->body != SMTP_BODY_NONE && m->body != SMTP_BODY_7BIT)
		return;
	while ((n = pread(j->fd, buf, sizeof(buf), off)) > 0) {
		if (remote_is_8bit(buf, (size_t)n)) {
			m->body = SMTP_BODY_8BITMIME;
			return;
		}
		off += n;
	}
}
