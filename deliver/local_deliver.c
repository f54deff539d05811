/*
 * local_deliver: the delivery child (see local_deliver.h).  It becomes the
 * mailbox owner before it reads a byte of the message; it trusts the
 * parent's resolution and nothing in the message or the mailbox.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local_deliver.h"
#include "log.h"
#include "maildir.h"
#include "util.h"
#include "xmalloc.h"

void
local_result_set(struct local_result *r, const char *fmt, ...)
{
	va_list ap;
	int rc;

	buf_reset(&r->status);
	va_start(ap, fmt);
	rc = buf_vprintf(&r->status, fmt, ap);
	va_end(ap);
	if (rc == -1) {
		buf_reset(&r->status);
		if (buf_puts(&r->status, "defer 4.3.0 status text too long") == -1)
			log_panic("local_result_set: buffer");
	}
}

/* Become the owner of the target's mailbox (root mode only). */
static void
become_owner(const struct local_child *lc)
{
	struct priv_account a;

	if (lc->vmail == NULL)
		return;		/* dev mode: deliver as the invoking user */
	if (lc->t->kind == LOCAL_SYSTEM) {
		if (str_copy(a.name, sizeof(a.name), lc->t->pw.name) == -1)
			log_fatal("account name too long");
		a.uid = lc->t->pw.uid;
		a.gid = lc->t->pw.gid;
	} else
		a = *lc->vmail;
	priv_drop(&a, NULL);
}

/* Delivered-To: count of the message header.  1 loop, 0 fine, -1 error. */
static int
mail_loop(const struct local_child *lc)
{
	size_t want = lc->msglen < LOCAL_HEADER_MAX ? (size_t)lc->msglen : LOCAL_HEADER_MAX;
	char *h = xmalloc(want + 1);
	size_t got = 0;
	ssize_t n;
	int r;

	while (got < want) {
		n = pread(lc->msgfd, h + got, want - got, (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	r = got < want ? -1 : local_count_delivered_to(h, got) >= LOCAL_LOOP_MAX;
	free(h);
	return r;
}

/* The Maildir of the target: paths.mail/DOMAIN/LOCAL or ~/Maildir, made
 * on first delivery.  0 and dir filled, -1 with r->status set. */
static int
mailbox_dir(const struct local_child *lc, char *dir, size_t dirsize,
    struct local_result *r)
{
	const struct local_target *t = lc->t;
	char domdir[4096];
	int e;

	if (t->kind == LOCAL_SYSTEM) {
		if (str_format(dir, dirsize, "%s/Maildir", t->pw.home) == -1)
			return local_result_set(r, "defer 4.3.0 home directory path too long"), -1;
	} else if (str_format(domdir, sizeof(domdir), "%s/%s", lc->c->paths_mail,
	    t->domain) == -1 ||
	    str_format(dir, dirsize, "%s/%s", domdir, t->local) == -1)
		return local_result_set(r, "defer 4.3.0 mailbox path too long"), -1;
	if ((e = maildir_exists(dir)) == 1)
		return 0;
	if (e == -1 || (t->kind == LOCAL_VIRTUAL ? maildir_make_virtual(dir) :
	    maildir_make(dir, 0)) == -1) {
		log_warn("cannot create the Maildir %s: %s", dir, strerror(errno));
		local_result_set(r, "defer 4.3.0 cannot create the mailbox: %s",
		    strerror(errno));
		return -1;
	}
	log_info("created the Maildir %s", dir);
	return 0;
}

/* Write prefix and the message into dir; 1 ok, 0 with r->status set. */
static int
store(const struct local_child *lc, const char *dir, const struct buf *prefix,
    struct local_result *r)
{
	char name[MAILDIR_NAME_MAX + 1];
	int rc, e;

	rc = maildir_deliver(dir, lc->c->hostname, prefix->data, prefix->len, lc->msgfd,
	    lc->msglen, name, sizeof(name));
	e = errno;
	if (rc == 0) {
		log_info("to=<%s>: stored as %s/new/%s", lc->rcpt->addr, dir, name);
		return 1;
	}
	log_warn("to=<%s>: cannot write to %s: %s", lc->rcpt->addr, dir, strerror(e));
	if (e == EDQUOT)
		local_result_set(r, "defer 4.2.2 mailbox full (disk quota exceeded)");
	else if (e == ENOSPC)
		local_result_set(r, "defer 4.3.0 mail system full (no space left on device)");
	else
		local_result_set(r, "defer 4.3.0 cannot write to the mailbox: %s", strerror(e));
	return 0;
}

/* Over the virtual user's quota with prefix plus the message?  1 yes (or
 * unknown: r->status set), 0 no. */
static int
over_quota(const struct local_child *lc, const char *dir, size_t prefixlen,
    struct local_result *r)
{
	uint64_t size;

	if (lc->t->kind != LOCAL_VIRTUAL || lc->t->quota == 0)
		return 0;
	if (maildir_size(dir, &size) == -1) {
		local_result_set(r, "defer 4.3.0 cannot read the mailbox size: %s",
		    strerror(errno));
		return 1;
	}
	if (!maildir_over_quota(size, lc->msglen + prefixlen, lc->t->quota))
		return 0;
	log_info("to=<%s>: mailbox full (%llu of %llu bytes used, message %llu)",
	    lc->rcpt->addr, (unsigned long long)size, (unsigned long long)lc->t->quota,
	    (unsigned long long)(lc->msglen + prefixlen));
	local_result_set(r, "defer 4.2.2 mailbox full");
	return 1;
}

int
local_deliver_maildir(const struct local_child *lc, struct local_result *r)
{
	struct buf prefix = BUF_INIT(2 * SMTP_ADDR_MAX + 64);
	const struct local_target *t = lc->t;
	char dir[4096], sub[4096];
	const char *folder = NULL;
	int ok = 0;

	if (mailbox_dir(lc, dir, sizeof(dir), r) == -1)
		return 0;
	if (t->folder[0] != '\0' && lc->c->local_extension_folders &&
	    str_format(sub, sizeof(sub), "%s/.%s", dir, t->folder) == 0 &&
	    maildir_exists(sub) == 1)
		folder = t->folder;
	if (buf_printf(&prefix, "Return-Path: <%s>\r\nDelivered-To: %s\r\n",
	    lc->job->sender, lc->rcpt->addr) == -1)
		log_panic("local_deliver_maildir: prefix");
	if (!over_quota(lc, dir, prefix.len, r) &&
	    (ok = store(lc, folder != NULL ? sub : dir, &prefix, r)) == 1) {
		if (folder != NULL)
			local_result_set(r, "sent 2.0.0 delivered to maildir folder %s", folder);
		else
			local_result_set(r, "sent 2.0.0 delivered to maildir");
	}
	buf_free(&prefix);
	return ok;
}

/* The forwarded addresses of an alias reach the queue from the parent;
 * here the alias only needs the loop check (and its own mailbox, if it
 * names itself). */
static void
deliver(const struct local_child *lc, struct local_result *r)
{
	int f = 0;

	if (lc->t->kind == LOCAL_SYSTEM && !lc->t->alias &&
	    (f = local_forward_run(lc, r)) == 1)
		return;
	if (lc->t->kind != LOCAL_NONE && !local_deliver_maildir(lc, r))
		return;
	/* a copy kept here, and addresses (the parent's for an alias) */
	if ((f == 2 && r->forwards.len > 0) || lc->t->alias)
		local_result_set(r, "sent 2.0.0 forwarded");
}

void
local_deliver_child(const struct local_child *lc)
{
	struct local_result r = { BUF_INIT(LOCAL_STATUS_MAX + 16),
	    BUF_INIT(LOCAL_FORWARD_MAX * (SMTP_ADDR_MAX + 10)) };
	int loop;

	log_set_qid(lc->job->id);
	become_owner(lc);
	umask(077);
	if ((loop = mail_loop(lc)) == -1)
		local_result_set(&r, "defer 4.3.0 cannot read the message");
	else if (loop == 1)
		local_result_set(&r, "fail 5.4.6 mail loop: too many Delivered-To headers");
	else
		deliver(lc, &r);
	if (write_all(lc->resultfd, r.status.data, r.status.len) == -1 ||
	    write_all(lc->resultfd, "\n", 1) == -1 ||
	    (r.forwards.len > 0 &&
	    write_all(lc->resultfd, r.forwards.data, r.forwards.len) == -1)) {
		log_warn("cannot report the result: %s", strerror(errno));
		_exit(1);
	}
	_exit(0);
}
