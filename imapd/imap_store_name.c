/*
 * imap_store_name: mailbox names -> folder directories (see imap_store.h),
 * LIST pattern matching, special-use names.  Names are untrusted client
 * text; nothing here touches the disk except the root path join.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "imap_mutf7.h"
#include "imap_store_int.h"
#include "log.h"
#include "xmalloc.h"

static const char *const store_errs[] = {
	[IMAP_STORE_OK] = "OK",
	[IMAP_STORE_BADNAME] = "Invalid mailbox name",
	[IMAP_STORE_NONEXISTENT] = "Mailbox does not exist",
	[IMAP_STORE_EXISTS] = "Mailbox already exists",
	[IMAP_STORE_HASCHILDREN] = "Mailbox has children, delete them first",
	[IMAP_STORE_INBOX] = "Not allowed on INBOX",
	[IMAP_STORE_TOOBIG] = "Message too large",
	[IMAP_STORE_LIMIT] = "Too many keywords in this mailbox",
	[IMAP_STORE_IO] = "Internal error, try again later",
};

const char *
imap_store_strerror(enum imap_store_err e)
{
	if ((size_t)e >= sizeof(store_errs) / sizeof(store_errs[0]))
		return "Unknown error";
	return store_errs[e];
}

enum imap_store_err
store_io(const char *what, const char *path)
{
	log_warn("imap store: %s %s: %s", what, path, strerror(errno));
	return IMAP_STORE_IO;
}

int
imap_store_init(struct imap_store *s, const char *root, const char *host)
{
	char h[256];

	memset(s, 0, sizeof(*s));
	if (host == NULL) {
		if (gethostname(h, sizeof(h)) == -1)
			return -1;
		h[sizeof(h) - 1] = '\0';
		host = h;
	}
	s->root = xstrdup(root);
	s->host = xstrdup(host);
	return 0;
}

void
imap_store_free(struct imap_store *s)
{
	free(s->root);
	free(s->host);
	memset(s, 0, sizeof(*s));
}

int
imap_store_is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

/* 1 if the first level of name[len] is INBOX in some spelling. */
static int
first_is_inbox(const char *name, size_t len)
{
	return len >= 5 && strncasecmp(name, "INBOX", 5) == 0 &&
	    (len == 5 || name[5] == IMAP_STORE_DELIM);
}

/* The octets a folder name may hold (before decoding): printable ASCII
 * but "/" (a path) and the LIST wildcards. */
static int
name_octets_ok(const char *name, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c > 0x7e || c == '/' || c == '*' || c == '%')
			return 0;
		if (c == '.' && (i == 0 || i + 1 == len || name[i + 1] == '.'))
			return 0;
	}
	return 1;
}

int
imap_store_name(const char *name, size_t len, char *canon, char *dir, size_t size)
{
	struct buf utf8 = BUF_INIT(4 * MAILDIR_FOLDER_MAX);
	int ok;

	if (len == 0 || len > MAILDIR_FOLDER_MAX || memchr(name, '\0', len) != NULL ||
	    size < MAILDIR_FOLDER_MAX + 8)
		return 0;
	if (len == 5 && first_is_inbox(name, len)) {
		return str_copy(canon, size, "INBOX") == 0 &&
		    str_copy(dir, size, ".") == 0;
	}
	if (!name_octets_ok(name, len))
		return 0;
	/* one spelling per name: strict mUTF-7, and no C1 controls (the
	 * decoder refuses shifted characters below U+00A0) */
	ok = imap_mutf7_decode(name, len, &utf8);
	buf_free(&utf8);
	if (!ok)
		return 0;
	memcpy(canon, name, len);
	canon[len] = '\0';
	if (first_is_inbox(name, len))
		memcpy(canon, "INBOX", 5);
	dir[0] = '.';
	memcpy(dir + 1, canon, len + 1);
	return 1;
}

enum imap_store_err
store_resolve(struct imap_store *s, const char *name, char *canon, char *path)
{
	char dir[STORE_NAME_SIZE];

	if (!imap_store_name(name, strlen(name), canon, dir, STORE_NAME_SIZE))
		return IMAP_STORE_BADNAME;
	if (strcmp(dir, ".") == 0)
		return str_copy(path, PATH_MAX, s->root) == 0 ? IMAP_STORE_OK :
		    IMAP_STORE_BADNAME;
	if (str_format(path, PATH_MAX, "%s/%s", s->root, dir) == -1)
		return IMAP_STORE_BADNAME;
	return IMAP_STORE_OK;
}

/* Pattern octet pc (not a wildcard) against name octet nc at name offset
 * ni: INBOX's first level compares case-insensitively. */
static int
octet_eq(char pc, char nc, size_t ni, int inbox)
{
	if (inbox && ni < 5)
		return (pc & ~0x20) == (nc & ~0x20) && pc != '\0';
	return pc == nc;
}

int
imap_store_match(const char *pattern, const char *name)
{
	size_t pl = strlen(pattern), nl = strlen(name), i, j;
	int inbox = first_is_inbox(name, nl) && strncmp(name, "INBOX", 5) == 0;
	unsigned char *row, *next;
	int r;

	/* row[j]: pattern[i..] matches name[j..], computed for i from the
	 * end of the pattern backwards */
	row = xcalloc(nl + 1, 1);
	next = xcalloc(nl + 1, 1);
	row[nl] = 1;
	for (i = pl; i-- > 0;) {
		char pc = pattern[i];

		next[nl] = (pc == '*' || pc == '%') ? row[nl] : 0;
		for (j = nl; j-- > 0;) {
			if (pc == '*')
				next[j] = row[j] || next[j + 1];
			else if (pc == '%')
				next[j] = row[j] || (name[j] != IMAP_STORE_DELIM && next[j + 1]);
			else
				next[j] = octet_eq(pc, name[j], j, inbox) && row[j + 1];
		}
		memcpy(row, next, nl + 1);
	}
	r = row[0];
	free(row);
	free(next);
	return r;
}

const char *
imap_store_special_use(const char *name)
{
	static const char *const su[][2] = {
		{ "Sent", "\\Sent" }, { "Drafts", "\\Drafts" },
		{ "Trash", "\\Trash" }, { "Junk", "\\Junk" },
		{ "Archive", "\\Archive" },
	};

	for (size_t i = 0; i < sizeof(su) / sizeof(su[0]); i++)
		if (strcmp(name, su[i][0]) == 0)
			return su[i][1];
	return NULL;
}
