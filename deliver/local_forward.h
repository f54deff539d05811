/*
 * local_forward: the pure parser of a system user's ~/.forward (one target
 * a line, '#' comments) and of a "|program args" line into an argv.  The
 * file is the user's and is read as the user; its targets are still
 * re-validated by the root parent before they are reported to the queue.
 */
#ifndef POSTERN_LOCAL_FORWARD_H
#define POSTERN_LOCAL_FORWARD_H
#include <stddef.h>

#include "buf.h"
#include "smtp_parse.h"

#define FORWARD_FILE_MAX	65536	/* a larger .forward is refused */
#define FORWARD_LINE_MAX	1000	/* octets of one line, without its end */
#define FORWARD_ENTRIES_MAX	100
#define FORWARD_ARGV_MAX	64	/* words of a program line */

enum forward_kind {
	FORWARD_ADDR,		/* text: a normalized address (bare names qualified) */
	FORWARD_PIPE,		/* text: the command after '|', trimmed */
	FORWARD_FILE,		/* text: a path; never delivered to (refused) */
	FORWARD_SELF,		/* "\name": keep a copy in the user's own Maildir */
};

struct forward_entry {
	enum forward_kind kind;
	char *text;		/* owned by the struct forward */
};

struct forward {
	struct forward_entry *v;
	size_t n;
};

/* Parse len octets of a .forward (pure).  Bare names ("bob") get "@domain".
 * 1 and f filled (free with forward_free), or 0 with f empty and a message
 * ("line 3: bad address") in err[errsize]. */
int forward_parse(const char *text, size_t len, const char *domain, struct forward *f,
    char *err, size_t errsize) WUR;
void forward_free(struct forward *f);

/* A program line split on blanks (no shell, no quoting): argv[0] must be an
 * absolute path.  mem holds the words; argv points into it. */
struct forward_argv {
	char mem[FORWARD_LINE_MAX + 1];
	char *argv[FORWARD_ARGV_MAX + 1];
	size_t argc;
};
/* 1 and a filled, or 0 (empty, too many words, relative program, too long). */
int forward_split_argv(const char *cmd, struct forward_argv *a) WUR;
#endif
