/*
 * sendmail_msg: header rewriting and address extraction for the sendmail
 * command.  Pure: (pointer, length) in, buffers out.  The invoking user's
 * bytes are checked (NUL, line length, address syntax), never trusted.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "sendmail_msg.h"
#include "smtp_parse.h"
#include "xmalloc.h"

#define HDR_MAX		(256u * 1024)	/* an unfolded header field */

void
sm_list_free(struct sm_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void
sm_list_add(struct sm_list *l, char *addr)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], addr) == 0) {
			free(addr);
			return;
		}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = addr;
}

int
sm_addr_fix(const char *a, size_t n, const char *hostname, char **out)
{
	struct buf b = BUF_INIT(SMTP_ADDR_MAX);
	struct smtp_addr sa;
	const char *at = n ? memrchr(a, '@', n) : NULL;
	int ok;

	if (buf_append(&b, a, n) == -1 ||
	    ((at == NULL || a[n - 1] == '"') &&
	    (buf_putc(&b, '@') == -1 || buf_puts(&b, hostname) == -1))) {
		buf_free(&b);
		return 0;
	}
	ok = n > 0 && memchr(a, '\0', n) == NULL &&
	    smtp_mailbox_parse(b.data, b.len, SMTP_PARSE_UTF8, &sa) == SMTP_P_OK;
	buf_free(&b);
	if (ok)
		*out = xstrdup(sa.addr);
	return ok;
}

/* The address-list scanner's state. */
struct alist {
	struct buf item, angle;	/* text outside / inside <...> */
	int have_angle, in_angle;
};

/* End of one list element: add its mailbox (an empty element is skipped). */
static int
alist_flush(struct alist *s, const char *hostname, struct sm_list *l)
{
	struct buf *b = s->have_angle ? &s->angle : &s->item;
	const char *p = buf_cstr(b), *colon;
	size_t n = b->len;
	char *addr;
	int ok = 1;

	if (s->have_angle && n > 0 && p[0] == '@') {	/* <@route,@route:mbox> */
		if ((colon = memchr(p, ':', n)) == NULL)
			ok = 0;
		else {
			n -= (size_t)(colon + 1 - p);
			p = colon + 1;
		}
	}
	if (ok && n > 0) {
		if (sm_addr_fix(p, n, hostname, &addr))
			sm_list_add(l, addr);
		else
			ok = 0;
	}
	buf_reset(&s->item);
	buf_reset(&s->angle);
	s->have_angle = 0;
	return ok;
}

/* One character outside quotes and comments.  1 go on, 0 bad. */
static int
alist_char(struct alist *s, char c, const char *hostname, struct sm_list *l)
{
	struct buf *b = s->in_angle ? &s->angle : &s->item;

	switch (c) {
	case '<':
		if (s->in_angle || s->have_angle)
			return 0;
		s->in_angle = s->have_angle = 1;
		return 1;
	case '>':
		if (!s->in_angle)
			return 0;
		s->in_angle = 0;
		return 1;
	case ':':
		if (s->in_angle)
			return buf_putc(b, c) == 0;
		buf_reset(&s->item);	/* "group name:" */
		return !s->have_angle;
	case ',':
	case ';':
		if (s->in_angle)
			return buf_putc(b, c) == 0;
		return alist_flush(s, hostname, l);
	case ' ': case '\t': case '\r': case '\n':
		return 1;	/* unquoted white space is not part of an address */
	default:
		return buf_putc(b, c) == 0;
	}
}

int
sm_addr_list(const char *p, size_t n, const char *hostname, struct sm_list *l,
    const char **err)
{
	struct alist s = { BUF_INIT(SMTP_ADDR_MAX), BUF_INIT(SMTP_ADDR_MAX), 0, 0 };
	int quote = 0, depth = 0, ok = 1;
	size_t i;

	for (i = 0; ok && i < n; i++) {
		char c = p[i];
		struct buf *b = s.in_angle ? &s.angle : &s.item;

		if (quote) {
			ok = buf_putc(b, c) == 0;
			if (c == '\\' && i + 1 < n)
				ok = ok && buf_putc(b, p[++i]) == 0;
			else if (c == '"')
				quote = 0;
		} else if (depth > 0) {
			if (c == '\\')
				i++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
		} else if (c == '"') {
			quote = 1;
			ok = buf_putc(b, c) == 0;
		} else if (c == '(')
			depth = 1;
		else
			ok = alist_char(&s, c, hostname, l);
	}
	if (ok && (quote || depth || s.in_angle))
		ok = 0;
	if (ok)
		ok = alist_flush(&s, hostname, l);
	buf_free(&s.item);
	buf_free(&s.angle);
	if (!ok)
		*err = "bad address";
	return ok;
}

/* ---- the message ------------------------------------------------------ */

/* One input line: [*line, *line + *len) without its line end (LF, CRLF,
 * or a bare CR, which is taken as a line end); *pos moves past it. */
static int
next_line(const char *p, size_t n, size_t *pos, const char **line, size_t *len)
{
	size_t i = *pos;

	if (i >= n)
		return 0;
	*line = p + i;
	while (i < n && p[i] != '\n' && p[i] != '\r')
		i++;
	*len = (size_t)(p + i - *line);
	if (i < n && p[i] == '\r') {
		i++;
		if (i < n && p[i] == '\n')
			i++;
	} else if (i < n)
		i++;
	*pos = i;
	return 1;
}

/* "Name:" header field start?  Sets *name_len. */
static int
header_start(const char *l, size_t len, size_t *name_len)
{
	size_t i;

	for (i = 0; i < len && l[i] > ' ' && l[i] < 0x7f && l[i] != ':'; i++)
		;
	*name_len = i;
	return i > 0 && i < len && l[i] == ':';
}

static int
name_is(const char *l, size_t nlen, const char *name)
{
	return strlen(name) == nlen && strncasecmp(l, name, nlen) == 0;
}

/* Append "line\r\n", checking length and NUL. */
static int
put_line(struct buf *out, const char *l, size_t len, const char **err)
{
	if (len > SM_LINE_MAX)
		return *err = "line longer than 998 octets", 0;
	if (memchr(l, '\0', len) != NULL)
		return *err = "message contains a NUL octet", 0;
	if (buf_append(out, l, len) == -1 || buf_puts(out, "\r\n") == -1)
		return *err = "message too big", 0;
	return 1;
}

/* Header state while scanning. */
struct hdrs {
	int have_from, have_date, have_msgid;
	int cur_bcc, cur_rcpt;	/* the field being read is Bcc / To, Cc, Bcc */
	struct buf value;	/* unfolded value of a To/Cc/Bcc field */
};

/* The current recipient field is complete: extract its addresses. */
static int
hdr_done(struct hdrs *h, const struct sm_opts *o, struct sm_list *rcpts,
    const char **err)
{
	int ok = 1;

	if (h->cur_rcpt && o->extract)
		ok = sm_addr_list(h->value.data ? h->value.data : "", h->value.len,
		    o->hostname, rcpts, err);
	h->cur_rcpt = h->cur_bcc = 0;
	buf_reset(&h->value);
	return ok;
}

/* One header line (field start or continuation). */
static int
hdr_line(struct hdrs *h, const char *l, size_t len, const struct sm_opts *o,
    struct sm_list *rcpts, const char **err)
{
	size_t nlen;

	if (l[0] != ' ' && l[0] != '\t') {
		if (!hdr_done(h, o, rcpts, err) || !header_start(l, len, &nlen))
			return 0;
		h->have_from |= name_is(l, nlen, "From");
		h->have_date |= name_is(l, nlen, "Date");
		h->have_msgid |= name_is(l, nlen, "Message-ID");
		h->cur_bcc = name_is(l, nlen, "Bcc");
		h->cur_rcpt = h->cur_bcc || name_is(l, nlen, "To") || name_is(l, nlen, "Cc");
		l += nlen + 1;
		len -= nlen + 1;
	}
	if (h->cur_rcpt && (buf_append(&h->value, l, len) == -1 ||
	    buf_putc(&h->value, ' ') == -1))
		return *err = "header too long", 0;
	return 1;
}

/* "Name" as a quoted-string, or RFC 2047 encoded when not ASCII. */
static int
put_name(struct buf *out, const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	int ascii = 1;

	for (; *s != '\0'; s++)
		if (*s >= 0x80)
			ascii = 0;
		else if (*s < 0x20 || *s == 0x7f)
			return 0;	/* control characters: leave the name out */
	if (*name == '\0' || strlen(name) > 200)
		return 0;
	if (!ascii)
		return buf_puts(out, "=?UTF-8?B?") == 0 &&
		    base64_encode(name, strlen(name), out) == 0 &&
		    buf_puts(out, "?= ") == 0;
	if (buf_putc(out, '"') == -1)
		return 0;
	for (s = (const unsigned char *)name; *s != '\0'; s++)
		if ((*s == '"' || *s == '\\') && buf_putc(out, '\\') == -1)
			return 0;
		else if (buf_putc(out, *s) == -1)
			return 0;
	return buf_puts(out, "\" ") == 0;
}

/* Add the From:, Date: and Message-ID: the message lacks. */
static int
add_headers(const struct hdrs *h, const struct sm_opts *o, struct buf *out)
{
	char date[64];
	struct tm tm;
	size_t mark;

	if (localtime_r(&o->now, &tm) == NULL)
		return 0;
	if (!h->have_from) {
		if (buf_puts(out, "From: ") == -1)
			return 0;
		mark = out->len;
		if (o->full_name != NULL && !put_name(out, o->full_name))
			buf_truncate(out, mark);
		if (buf_printf(out, o->full_name && out->len > mark ? "<%s>\r\n" :
		    "%s\r\n", o->from_addr) == -1)
			return 0;
	}
	if (!h->have_date && (strftime(date, sizeof(date),
	    "%a, %d %b %Y %H:%M:%S %z", &tm) == 0 ||
	    buf_printf(out, "Date: %s\r\n", date) == -1))
		return 0;
	if (!h->have_msgid && (strftime(date, sizeof(date), "%Y%m%d%H%M%S", &tm) == 0 ||
	    buf_printf(out, "Message-ID: <%s.%s@%s>\r\n", date, o->unique,
	    o->hostname) == -1))
		return 0;
	return 1;
}

int
sm_msg_build(const char *p, size_t n, const struct sm_opts *o, struct buf *out,
    struct sm_list *rcpts, const char **err)
{
	struct hdrs h;
	const char *l;
	size_t pos = 0, len, nlen, lstart;
	int ok = 1, seen = 0, cont;

	memset(&h, 0, sizeof(h));
	buf_init(&h.value, HDR_MAX);
	if (next_line(p, n, &pos, &l, &len) && !(len >= 5 && memcmp(l, "From ", 5) == 0))
		pos = 0;	/* an mbox "From " line is dropped */
	for (;;) {
		lstart = pos;
		if (!next_line(p, n, &pos, &l, &len) || len == 0)
			break;	/* end of the header; the blank line is re-added */
		cont = l[0] == ' ' || l[0] == '\t';
		if (cont ? !seen : !header_start(l, len, &nlen)) {
			pos = lstart;	/* not a header line: the body starts here */
			break;
		}
		seen = 1;
		if (!hdr_line(&h, l, len, o, rcpts, err) ||
		    (!h.cur_bcc && !put_line(out, l, len, err))) {	/* Bcc: dropped */
			ok = 0;
			break;
		}
	}
	ok = ok && hdr_done(&h, o, rcpts, err);
	if (ok && (!add_headers(&h, o, out) || buf_puts(out, "\r\n") == -1))
		ok = 0, *err = "message too big";
	while (ok && next_line(p, n, &pos, &l, &len))
		ok = put_line(out, l, len, err);
	buf_free(&h.value);
	return ok;
}
