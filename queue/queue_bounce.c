/*
 * queue_bounce: builds RFC 3464 delivery status notifications in memory.
 * Used by the queue's scheduler; pure apart from pread(2) on the message.
 * The original message and the status texts are untrusted: every byte that
 * reaches the report is sanitised, lines are kept to 998 octets and CRLF.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* memmem, memrchr */
#endif
#include <bsd/stdlib.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "queue_bounce.h"

#define HDR_MAX		(100 * 1024)	/* octets of original header returned */
#define LINE_MAX_OCT	998		/* RFC 5322 2.1.1, without CRLF */
#define FOLD_AT		78		/* preferred line length */
#define CHUNK		65536

/* Output with a sticky error, so that long sequences of appends read
 * plainly; the first failure is kept and checked once at the end. */
struct w {
	struct buf b;
	int err;
};

static void
w_append(struct w *w, const void *p, size_t n)
{
	if (!w->err && buf_append(&w->b, p, n) == -1)
		w->err = 1;
}

static void
w_puts(struct w *w, const char *s)
{
	w_append(w, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
w_printf(struct w *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (!w->err && buf_vprintf(&w->b, fmt, ap) == -1)
		w->err = 1;
	va_end(ap);
}

/* ---- small text helpers ---------------------------------------------- */

static int
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* RFC 5322 date in UTC: "Fri, 04 Dec 2026 14:28:46 +0000". */
static void
rfc5322_date(int64_t t, char out[40])
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)(t < 0 ? 0 : t);
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 ||
	    tm.tm_mon < 0 || tm.tm_mon > 11 ||
	    str_format(out, 40, "%s, %02d %s %d %02d:%02d:%02d +0000", days[tm.tm_wday],
	    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec) == -1) {
		if (str_copy(out, 40, "Thu, 01 Jan 1970 00:00:00 +0000") == -1)
			out[0] = '\0';
	}
}

/*
 * Copy s into b as one line of text for a header field or the human part:
 * control characters become spaces; non-ASCII is kept where utf8 is set
 * and it is well-formed UTF-8, else each octet becomes '?'.
 */
static void
clean_text(struct w *b, const char *s, int utf8)
{
	size_t n = strlen(s), i = 0, k;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f) {
			w_append(b, " ", 1);
			i++;
		} else if (c < 0x80) {
			w_append(b, &s[i], 1);
			i++;
		} else if (utf8 && (k = smtp_utf8_seq(&s[i], n - i)) > 0) {
			w_append(b, &s[i], k);
			i += k;
		} else {
			w_append(b, "?", 1);
			i++;
		}
	}
}

/* Start of the character that contains p[i] (never before p[1]). */
static size_t
char_start(const char *p, size_t i)
{
	while (i > 1 && ((unsigned char)p[i] & 0xc0) == 0x80)
		i--;
	return i;
}

/*
 * Emit "prefix" + v[0..n) (no CR/LF in it) as a header field folded at
 * white space near fold_at octets; a run without white space longer than
 * a line allows is cut and continued after CRLF SP.  Lines <= 998.
 */
static void
put_folded(struct w *w, const char *prefix, const char *v, size_t n, size_t fold_at)
{
	size_t col = strlen(prefix), i, brk;

	w_puts(w, prefix);
	while (col + n > fold_at) {
		size_t room = fold_at > col ? fold_at - col : 0;
		brk = 0;
		for (i = 1; i < n && i <= room; i++)	/* last WSP in room */
			if (v[i] == ' ' || v[i] == '\t')
				brk = i;
		for (i = room + 1; brk == 0 && i < n && col + i <= LINE_MAX_OCT; i++)
			if (v[i] == ' ' || v[i] == '\t')	/* or the first after */
				brk = i;
		if (brk == 0 && col + n <= LINE_MAX_OCT)
			break;	/* no white space left, but it fits */
		if (brk == 0) {	/* hard cut */
			brk = char_start(v, LINE_MAX_OCT - col - 1);
			w_append(w, v, brk);
			w_puts(w, "\r\n ");
			col = 1;
		} else {
			w_append(w, v, brk);
			w_puts(w, "\r\n");
			col = 0;
		}
		v += brk;
		n -= brk;
	}
	w_append(w, v, n);
	w_puts(w, "\r\n");
}

/* A header field "Name: value" with value sanitised (see clean_text). */
static void
put_field(struct w *w, const char *name, const char *value, int utf8)
{
	struct w t = { BUF_INIT(BUF_NOLIMIT), 0 };
	char prefix[64];

	clean_text(&t, value, utf8);
	if (str_format(prefix, sizeof(prefix), "%s: ", name) == -1)
		w->err = 1;
	else if (t.err)
		w->err = 1;
	else
		put_folded(w, prefix, buf_cstr(&t.b), t.b.len, FOLD_AT);
	buf_free(&t.b);
}

/*
 * Human-readable text: s (sanitised) wrapped at spaces to about 76
 * columns, continuation lines indented by `indent` spaces.
 */
static void
put_wrapped(struct w *w, const char *s, int utf8, size_t indent)
{
	struct w t = { BUF_INIT(BUF_NOLIMIT), 0 };
	const char *p;
	size_t n, brk, i, width = 76 - indent;

	clean_text(&t, s, utf8);
	p = t.b.data != NULL ? t.b.data : "";
	n = t.b.len;
	if (t.err)
		w->err = 1;
	for (int first = 1; n > 0 || first; first = 0) {
		if (!first)
			w_printf(w, "%*s", (int)indent, "");
		if (n <= width) {
			w_append(w, p, n);
			w_puts(w, "\r\n");
			break;
		}
		for (brk = 0, i = 1; i <= width; i++)
			if (p[i] == ' ')
				brk = i;
		if (brk == 0)
			brk = char_start(p, width);
		w_append(w, p, brk);
		w_puts(w, "\r\n");
		p += brk;
		n -= brk;
		while (n > 0 && *p == ' ')
			p++, n--;
	}
	buf_free(&t.b);
}

/* ---- status texts ---------------------------------------------------- */

static char
action_class(enum dsn_action a)
{
	return a == DSN_FAILED ? '5' : a == DSN_DELAYED ? '4' : '2';
}

static const char *
action_name(enum dsn_action a)
{
	return a == DSN_FAILED ? "failed" : a == DSN_DELAYED ? "delayed" : "delivered";
}

/* Length (1..3) of the digit run at s, 0 if none or longer. */
static size_t
digits(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n <= 3 ? n : 0;
}

/*
 * Split "X.Y.Z text" into code and text.  A class that does not match the
 * action gives "X.0.0" (X the action's class), except that a 4.Y.Z which
 * became final (expiry) is reported as 5.Y.Z.  Missing or malformed: code
 * "X.0.0" and the whole string as text.
 */
static void
status_split(const char *s, enum dsn_action a, char code[16], const char **text)
{
	size_t sub, det;

	*text = s != NULL ? s : "";
	if (str_format(code, 16, "%c.0.0", action_class(a)) == -1)
		return;
	if (s == NULL || s[0] == '\0' || !strchr("245", s[0]) || s[1] != '.' ||
	    (sub = digits(s + 2)) == 0 || s[2 + sub] != '.' ||
	    (det = digits(s + 3 + sub)) == 0 ||
	    (s[3 + sub + det] != '\0' && s[3 + sub + det] != ' '))
		return;
	*text = s + 3 + sub + det;
	while (**text == ' ')
		(*text)++;
	if (s[0] != action_class(a) && !(s[0] == '4' && a == DSN_FAILED))
		return;
	code[0] = action_class(a);	/* 1 + 1 + 3 + 1 + 3 < 16 */
	memcpy(code + 1, s + 1, 2 + sub + det);
	code[3 + sub + det] = '\0';
}

/* The remote SMTP reply inside an agent's text ("host H[A] said: 550 ..."),
 * or NULL. */
static const char *
smtp_reply(const char *text)
{
	const char *p = strstr(text, " said: ");

	if (p == NULL)
		return NULL;
	p += 7;
	if (p[0] == '\0' || !strchr("2345", p[0]) || digits(p) != 3 ||
	    (p[3] != ' ' && p[3] != '-' && p[3] != '\0'))
		return NULL;
	return p;
}

/* "host NAME[..." at the start of text: NAME into out (Remote-MTA). */
static int
remote_mta(const char *text, char *out, size_t outsize)
{
	size_t n;

	if (strncmp(text, "host ", 5) != 0 || smtp_reply(text) == NULL)
		return 0;
	text += 5;
	n = strcspn(text, "[ ");
	if (n == 0 || n >= outsize || strspn(text, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") < n)
		return 0;
	memcpy(out, text, n);
	out[n] = '\0';
	return 1;
}

/* ---- per-recipient fields ------------------------------------------ */

/*
 * An address as RFC 6533 utf-8-addr-xtext (global = 0: every octet that
 * is not a QCHAR, and every non-ASCII character, as \x{HEX}) or
 * utf-8-addr-unitext (global = 1: UTF-8 kept).
 */
static void
put_utf8_addr(struct w *w, const char *s, int global)
{
	size_t n = strlen(s), i = 0, k;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c > 0x20 && c < 0x7f && c != '+' && c != '=' && c != '\\') {
			w_append(w, &s[i++], 1);
		} else if (c < 0x80) {
			w_printf(w, "\\x{%X}", c);
			i++;
		} else if ((k = smtp_utf8_seq(&s[i], n - i)) == 0) {
			w_puts(w, "\\x{FFFD}");
			i++;
		} else if (global) {
			w_append(w, &s[i], k);
			i += k;
		} else {
			unsigned cp = c & (k == 2 ? 0x1f : k == 3 ? 0x0f : 0x07);
			for (size_t j = 1; j < k; j++)
				cp = (cp << 6) | ((unsigned char)s[i + j] & 0x3f);
			w_printf(w, "\\x{%X}", cp);
			i += k;
		}
	}
}

/* "TYPE; ADDR" for Original-/Final-Recipient. */
static void
put_recipient(struct w *w, const char *name, const char *type, const char *addr,
    int global)
{
	struct w t = { BUF_INIT(BUF_NOLIMIT), 0 };

	if (strcmp(type, "utf-8") == 0 || (!is_ascii(addr) && strcmp(type, "rfc822") == 0)) {
		w_puts(&t, "utf-8; ");
		put_utf8_addr(&t, addr, global);
	} else {
		clean_text(&t, type, 0);
		w_puts(&t, "; ");
		clean_text(&t, addr, 0);
	}
	if (t.err)
		w->err = 1;
	else
		put_field(w, name, buf_cstr(&t.b), global);
	buf_free(&t.b);
}

/* put_field with value = v1 v2. */
static void
put_field2(struct w *w, const char *name, const char *v1, const char *v2, int utf8)
{
	struct w t = { BUF_INIT(BUF_NOLIMIT), 0 };

	w_puts(&t, v1);
	w_puts(&t, v2);
	if (t.err)
		w->err = 1;
	else
		put_field(w, name, buf_cstr(&t.b), utf8);
	buf_free(&t.b);
}

static void
put_rcpt_dsn(struct w *w, const struct bounce_input *in,
    const struct envelope_rcpt *r, int global)
{
	char code[16], date[40], mta[256], type[32];
	const char *text, *reply, *semi;

	w_puts(w, "\r\n");
	if (r->orcpt != NULL && (semi = strchr(r->orcpt, ';')) != NULL &&
	    semi > r->orcpt && (size_t)(semi - r->orcpt) < sizeof(type)) {
		memcpy(type, r->orcpt, (size_t)(semi - r->orcpt));
		type[semi - r->orcpt] = '\0';
		put_recipient(w, "Original-Recipient", type, semi + 1, global);
	}
	put_recipient(w, "Final-Recipient", "rfc822", r->addr, global);
	w_printf(w, "Action: %s\r\n", action_name(in->action));
	status_split(r->status, in->action, code, &text);
	w_printf(w, "Status: %s\r\n", code);
	if (remote_mta(text, mta, sizeof(mta)))
		w_printf(w, "Remote-MTA: dns; %s\r\n", mta);
	if ((reply = smtp_reply(text)) != NULL)
		put_field2(w, "Diagnostic-Code", "smtp; ", reply, global);
	else if (*text != '\0')
		put_field2(w, "Diagnostic-Code", "X-Postern; ", text, global);
	rfc5322_date(in->now, date);
	w_printf(w, "Last-Attempt-Date: %s\r\n", date);
	if (in->action == DSN_DELAYED && in->retry_until > 0) {
		rfc5322_date(in->retry_until, date);
		w_printf(w, "Will-Retry-Until: %s\r\n", date);
	}
}

/* ---- the original message -------------------------------------------- */

/* pread up to cap octets from offset 0 into b; *more = 1 when the file
 * holds more than that.  0, or -1 (read error). */
static int
read_original(int fd, size_t cap, struct buf *b, int *more)
{
	char chunk[CHUNK];
	off_t off = 0;
	ssize_t r;

	*more = 0;
	for (;;) {
		size_t want = cap - b->len < sizeof(chunk) ? cap - b->len + 1 : sizeof(chunk);
		r = pread(fd, chunk, want, off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			return 0;
		if ((size_t)r > cap - b->len) {
			*more = 1;
			r = (ssize_t)(cap - b->len);
		}
		if (buf_append(b, chunk, (size_t)r) == -1)
			return -1;
		off += r;
		if (*more)
			return 0;
	}
}

/* Offset of the empty line that ends the header (n when there is none). */
static size_t
header_end(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const char *lf = memchr(p + i, '\n', n - i);
		size_t len = lf != NULL ? (size_t)(lf - (p + i)) : n - i;
		if (len == 0 || (len == 1 && p[i] == '\r'))
			return i;
		if (lf == NULL)
			break;
		i += len + 1;
	}
	return n;
}

/*
 * 1 if p[0..n) can go out as message/rfc822 (or message/global) with
 * 7bit/8bit encoding: CRLF line ends only (a missing final CRLF is
 * tolerated, the caller adds it), no NUL, lines <= 998 octets.
 */
static int
full_ok(const char *p, size_t n)
{
	size_t col = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\0')
			return 0;
		if (p[i] == '\r') {
			if (i + 1 >= n || p[i + 1] != '\n')
				return 0;
			i++;
			col = 0;
		} else if (p[i] == '\n') {
			return 0;
		} else if (++col > LINE_MAX_OCT) {
			return 0;
		}
	}
	return 1;
}

/*
 * The header section p[0..n) for text/rfc822-headers (message/global-
 * headers when global): split at LF, control octets but HTAB become '?',
 * invalid UTF-8 becomes '?' when global, empty lines dropped, lines longer
 * than 998 octets folded.
 */
static void
put_headers(struct w *w, const char *p, size_t n, int global)
{
	struct w line = { BUF_INIT(BUF_NOLIMIT), 0 };
	size_t i = 0;

	while (i < n && !w->err) {
		const char *lf = memchr(p + i, '\n', n - i);
		size_t len = lf != NULL ? (size_t)(lf - (p + i)) : n - i, k;
		const char *s = p + i;

		buf_reset(&line.b);
		for (size_t j = 0; j < len; j++) {
			unsigned char c = (unsigned char)s[j];
			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				if (!(c == '\r' && j + 1 == len))
					w_append(&line, "?", 1);
			} else if (c >= 0x80 && global &&
			    (k = smtp_utf8_seq(&s[j], len - j)) > 0) {
				w_append(&line, &s[j], k);
				j += k - 1;
			} else {
				w_append(&line, c >= 0x80 && global ? "?" : &s[j], 1);
			}
		}
		if (line.err)
			w->err = 1;
		else if (line.b.len > 0)
			put_folded(w, "", line.b.data, line.b.len, LINE_MAX_OCT);
		i += len + 1;
	}
	buf_free(&line.b);
}

/* ---- the parts ------------------------------------------------------- */

enum returned { RET_FULL, RET_HEADERS, RET_TOO_BIG, RET_MALFORMED };

static void
put_human(struct w *w, const struct bounce_input *in, enum returned what,
    uint64_t max_full, int utf8)
{
	const struct envelope *e = in->orig;
	struct w t = { BUF_INIT(BUF_NOLIMIT), 0 };
	char date[40], code[16];
	const char *text;

	w_puts(w, "This is the mail system at host ");
	clean_text(w, in->hostname, 0);
	w_puts(w, ".\r\n\r\n");
	rfc5322_date(e->arrival, date);
	if (in->action == DSN_FAILED)
		w_printf(&t, "I'm sorry to have to tell you that your message of %s "
		    "could not be delivered to one or more recipients. It failed "
		    "permanently for the recipients listed below, and the mail "
		    "system will not try again.", date);
	else if (in->action == DSN_DELAYED) {
		w_printf(&t, "This is a warning only: you do not need to send your "
		    "message again. Your message of %s has not yet been delivered "
		    "to the recipients listed below. The mail system will keep "
		    "trying", date);
		rfc5322_date(in->retry_until, date);
		if (in->retry_until > 0)
			w_printf(&t, " until %s", date);
		w_puts(&t, ".");
	} else
		w_printf(&t, "Your message of %s was delivered to the recipients "
		    "listed below, as you asked.", date);
	put_wrapped(w, buf_cstr(&t.b), utf8, 0);
	w_puts(w, "\r\n");
	for (size_t i = 0; i < in->nrcpt; i++) {
		const struct envelope_rcpt *r = &e->rcpt[in->rcpt[i]];
		buf_reset(&t.b);
		status_split(r->status, in->action, code, &text);
		w_printf(&t, "<%s>: %s: %s%s(%s)", r->addr, action_name(in->action),
		    text, *text != '\0' ? " " : "", code);
		put_wrapped(w, buf_cstr(&t.b), utf8, 4);
	}
	w_puts(w, "\r\n");
	buf_reset(&t.b);
	if (what == RET_FULL)
		w_puts(&t, "Your message is attached.");
	else if (what == RET_TOO_BIG)
		w_printf(&t, "Your message was larger than %llu octets, so only its "
		    "headers are attached.", (unsigned long long)max_full);
	else if (what == RET_MALFORMED)
		w_puts(&t, "Your message was not a well-formed Internet message "
		    "(binary data, bare line ends or overlong lines), so only its "
		    "headers are attached.");
	else
		w_puts(&t, "The headers of your message are attached.");
	put_wrapped(w, buf_cstr(&t.b), utf8, 0);
	if (t.err)
		w->err = 1;
	buf_free(&t.b);
}

static void
put_dsn(struct w *w, const struct bounce_input *in, int global)
{
	const struct envelope *e = in->orig;
	char date[40];

	w_printf(w, "Reporting-MTA: dns; %s\r\n", in->hostname);
	w_printf(w, "X-Postern-Queue-ID: %s\r\n", e->id);
	if (e->envid != NULL)
		put_field(w, "Original-Envelope-Id", e->envid, 0);
	rfc5322_date(e->arrival, date);
	w_printf(w, "Arrival-Date: %s\r\n", date);
	for (size_t i = 0; i < in->nrcpt; i++)
		put_rcpt_dsn(w, in, &e->rcpt[in->rcpt[i]], global);
}

/* The original, or its header, as the third part's body; *what says which. */
static void
put_original(struct w *w, const char *p, size_t n, int more, const struct
    bounce_input *in, uint64_t max_full, int global, enum returned *what)
{
	size_t hlen = header_end(p, n);
	const char *lf;

	if (in->action != DSN_FAILED || in->orig->ret == SMTP_RET_HDRS)
		*what = RET_HEADERS;
	else if (more || n > max_full)
		*what = RET_TOO_BIG;
	else if (!full_ok(p, n))
		*what = RET_MALFORMED;
	else {
		*what = RET_FULL;
		w_append(w, p, n);
		if (n > 0 && (n < 2 || p[n - 2] != '\r' || p[n - 1] != '\n'))
			w_puts(w, "\r\n");
		return;
	}
	if (hlen > HDR_MAX) {	/* keep whole lines where there are any */
		lf = memrchr(p, '\n', HDR_MAX);
		hlen = lf != NULL ? (size_t)(lf - p) + 1 : HDR_MAX;
	}
	put_headers(w, p, hlen, global);
}

/* ---- assembly -------------------------------------------------------- */

static int
has_8bit(const struct buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if ((unsigned char)b->data[i] >= 0x80)
			return 1;
	return 0;
}

static int
contains(const struct buf *b, const char *s)
{
	return b->len > 0 && memmem(b->data, b->len, s, strlen(s)) != NULL;
}

/* A boundary that occurs in none of the parts. */
static int
pick_boundary(char out[64], struct w parts[3])
{
	for (int tries = 0; tries < 100; tries++) {
		if (str_format(out, 64, "=_postern_%08x%08x", arc4random(),
		    arc4random()) == -1)
			return -1;
		if (!contains(&parts[0].b, out) && !contains(&parts[1].b, out) &&
		    !contains(&parts[2].b, out))
			return 0;
	}
	return -1;
}

static const char *
subject(const struct bounce_input *in)
{
	if (in->action == DSN_FAILED)
		return "Undelivered Mail Returned to Sender";
	if (in->action == DSN_DELAYED)
		return "Delayed Mail (still being retried)";
	return "Successful Mail Delivery Report";
}

static void
put_top(struct w *w, const struct bounce_input *in, const char *boundary,
    int global, int eight)
{
	char date[40];

	/* hostname and id passed token_ok(); `to` passed smtp_mailbox_parse */
	w_printf(w, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", in->hostname);
	w_puts(w, "To: <");
	clean_text(w, in->to, global);
	w_puts(w, ">\r\n");
	w_printf(w, "Subject: %s\r\n", subject(in));
	rfc5322_date(in->now, date);
	w_printf(w, "Date: %s\r\n", date);
	w_printf(w, "Message-ID: <%s@%s>\r\n", in->id, in->hostname);
	w_puts(w, "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n");
	w_printf(w, "Content-Type: multipart/report; report-type=%s;\r\n"
	    "\tboundary=\"%s\"\r\n", global ? "global-delivery-status" :
	    "delivery-status", boundary);
	if (eight)
		w_puts(w, "Content-Transfer-Encoding: 8bit\r\n");
	w_puts(w, "\r\nThis is a MIME-encapsulated message.\r\n\r\n");
}

static void
put_part(struct w *w, const char *boundary, const char *desc, const char *type,
    const struct buf *body)
{
	w_printf(w, "--%s\r\nContent-Description: %s\r\nContent-Type: %s\r\n",
	    boundary, desc, type);
	if (has_8bit(body))
		w_puts(w, "Content-Transfer-Encoding: 8bit\r\n");
	w_puts(w, "\r\n");
	if (body->len > 0)
		w_append(w, body->data, body->len);
	w_puts(w, "\r\n");
}

/* Host names and ids go into headers raw: printable ASCII, no space. */
static int
token_ok(const char *s, size_t max)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || strchr("<>\"\\()", s[i]) != NULL)
			return 0;
	return 1;
}

static int
input_ok(const struct bounce_input *in)
{
	struct smtp_addr a;

	if (in->orig == NULL || in->rcpt == NULL || in->nrcpt == 0 ||
	    in->to == NULL || (unsigned)in->action > DSN_DELIVERED ||
	    !token_ok(in->hostname, SMTP_DOMAIN_MAX) ||
	    !token_ok(in->id, ENVELOPE_ID_MAX) || !token_ok(in->orig->id, ENVELOPE_ID_MAX) ||
	    smtp_mailbox_parse(in->to, strlen(in->to), SMTP_PARSE_UTF8, &a) != SMTP_P_OK)
		return 0;
	for (size_t i = 0; i < in->nrcpt; i++)
		if (in->rcpt[i] >= in->orig->nrcpt || in->orig->rcpt[in->rcpt[i]].addr == NULL)
			return 0;
	return 1;
}

static int
fill_env(const struct bounce_input *in, int utf8, int eight, struct envelope *env)
{
	const struct envelope *e = in->orig;

	if (str_copy(env->id, sizeof(env->id), in->id) == -1)
		return -1;
	envelope_set(&env->sender, "");
	(void)envelope_add_rcpt(env, in->to, NULL, SMTP_NOTIFY_NEVER);
	env->arrival = in->now;
	env->kind = e->sender == NULL || e->sender[0] == '\0' || e->kind != ENV_KIND_MAIL ?
	    ENV_KIND_DOUBLE_BOUNCE : ENV_KIND_BOUNCE;
	env->smtputf8 = utf8;
	env->body = eight ? SMTP_BODY_8BITMIME : SMTP_BODY_NONE;
	return 0;
}

int
bounce_build(const struct bounce_input *in, uint64_t max_full,
    struct bounce_output *out)
{
	struct w parts[3] = { { BUF_INIT(BUF_NOLIMIT), 0 }, { BUF_INIT(BUF_NOLIMIT), 0 },
		{ BUF_INIT(BUF_NOLIMIT), 0 } };
	struct buf orig = BUF_INIT(BUF_NOLIMIT);
	struct w top = { BUF_INIT(BUF_NOLIMIT), 0 };
	enum returned what;
	char boundary[64];
	int global, eight, more = 0, rc = -1;
	uint64_t cap64 = max_full < HDR_MAX ? HDR_MAX : max_full;
	size_t cap = cap64 > BUF_NOLIMIT / 2 ? BUF_NOLIMIT / 2 : (size_t)cap64;

	if (!input_ok(in))
		return -1;
	if (out->msg.max == 0 && out->msg.data == NULL)
		buf_init(&out->msg, BUF_NOLIMIT);
	global = in->orig->smtputf8 || !is_ascii(in->to);
	if (in->action != DSN_FAILED || in->orig->ret == SMTP_RET_HDRS)
		cap = HDR_MAX + 4;
	if (read_original(in->msgfd, cap, &orig, &more) == -1)
		goto done;
	put_original(&parts[2], buf_cstr(&orig), orig.len, more, in, max_full, global,
	    &what);
	put_human(&parts[0], in, what, max_full, global);
	put_dsn(&parts[1], in, global);
	eight = has_8bit(&parts[0].b) || has_8bit(&parts[1].b) || has_8bit(&parts[2].b);
	if (parts[0].err || parts[1].err || parts[2].err ||
	    pick_boundary(boundary, parts) == -1)
		goto done;
	put_top(&top, in, boundary, global, eight);
	put_part(&top, boundary, "Notification", has_8bit(&parts[0].b) ?
	    "text/plain; charset=utf-8" : "text/plain; charset=us-ascii", &parts[0].b);
	put_part(&top, boundary, "Delivery report", global ?
	    "message/global-delivery-status" : "message/delivery-status", &parts[1].b);
	put_part(&top, boundary, what == RET_FULL ? "Message" : "Message headers",
	    what == RET_FULL ? (global ? "message/global" : "message/rfc822") :
	    (global ? "message/global-headers" : "text/rfc822-headers"), &parts[2].b);
	w_printf(&top, "--%s--\r\n", boundary);
	if (top.err || buf_append(&out->msg, top.b.data, top.b.len) == -1)
		goto done;
	rc = fill_env(in, global, eight, &out->env);
done:
	for (int i = 0; i < 3; i++)
		buf_free(&parts[i].b);
	buf_free(&top.b);
	buf_free(&orig);
	return rc;
}

int
bounce_wanted(const struct envelope_rcpt *r, enum dsn_action action)
{
	if (r->notify & SMTP_NOTIFY_NEVER)
		return 0;
	switch (action) {
	case DSN_FAILED:
		return r->notify == 0 || (r->notify & SMTP_NOTIFY_FAILURE) != 0;
	case DSN_DELAYED:
		return r->notify == 0 || (r->notify & SMTP_NOTIFY_DELAY) != 0;
	case DSN_DELIVERED:
		return (r->notify & SMTP_NOTIFY_SUCCESS) != 0;
	}
	return 0;
}
