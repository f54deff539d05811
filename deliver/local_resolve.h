/*
 * local_resolve: who receives a local recipient.  Exact address in the
 * mailboxes map (virtual user), then the aliases map (expanded recursively
 * here), then the address without its extension, then (if enabled) a system
 * account.  Pure: the maps and the passwd database are reached through the
 * callbacks in struct local_lookup, so it is unit-tested with tables.  Runs
 * in the root parent; reads only admin data (cdb maps, passwd).
 */
#ifndef POSTERN_LOCAL_RESOLVE_H
#define POSTERN_LOCAL_RESOLVE_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "maildir.h"
#include "smtp_parse.h"

#define LOCAL_ALIAS_DEPTH	20	/* nesting of aliases */
#define LOCAL_ALIAS_SEEN	2000	/* addresses looked at in one expansion */
#define LOCAL_FORWARD_MAX	1000	/* final addresses (docs/queue.md) */
#define LOCAL_STATUS_MAX	500	/* status text octets (docs/queue.md) */
#define LOCAL_HOME_MAX		1024

enum local_map_id { LOCAL_MAP_MAILBOXES, LOCAL_MAP_ALIASES };

struct local_pw {
	char name[64];
	uid_t uid;
	gid_t gid;
	char home[LOCAL_HOME_MAX];
};

struct local_lookup {
	/* 1 found (value in val), 0 not found, -1 error. */
	int (*map)(void *ctx, enum local_map_id which, const char *key, struct buf *val);
	/* 1 and pw for a system account that may receive mail (uid >= 1000,
	 * not root), 0 none, -1 error. */
	int (*passwd)(void *ctx, const char *name, struct local_pw *pw);
	void *ctx;
};

struct local_params {
	const char *delimiter;	/* local.recipient_delimiter; "" = off */
	int extension_folders;
	int system_users;
};

enum local_kind {
	LOCAL_NONE,		/* no mailbox */
	LOCAL_VIRTUAL,		/* paths.mail/DOMAIN/LOCAL as PREFIXvmail */
	LOCAL_SYSTEM,		/* ~/Maildir as the user, after ~/.forward */
};

struct local_target {
	/* Where the message is stored (LOCAL_NONE for a pure alias). */
	enum local_kind kind;
	char addr[SMTP_ADDR_MAX + 1];	/* the mailbox's address, lower case */
	char local[SMTP_LOCAL_MAX + 1];	/* its parts */
	char domain[SMTP_DOMAIN_MAX + 1];
	char folder[MAILDIR_FOLDER_MAX + 1];	/* "" = inbox, else try ".folder/" */
	uint64_t quota;			/* bytes, 0 = none (virtual users) */
	struct local_pw pw;		/* LOCAL_SYSTEM */
	/* An alias: the de-duplicated final addresses the queue re-injects
	 * (owned: free with local_target_free).  kind may also be set when the
	 * alias includes its own address and that has a mailbox. */
	int alias;
	char **forward;
	size_t nforward;
	/* A final answer without delivery ("fail 5.1.1 user unknown"); "" if
	 * the target is to be delivered. */
	char status[LOCAL_STATUS_MAX + 16];
};

/* Resolve rcpt (parsed; its domain is ours) into t.  Always fills t: a
 * delivery target, or t->status.  Free with local_target_free. */
void local_resolve(const struct local_lookup *lk, const struct local_params *p,
    const struct smtp_addr *rcpt, struct local_target *t);
void local_target_free(struct local_target *t);

/* Split an alias value (addresses separated by commas and/or blanks) and
 * check each target (pure).  Bare names get "@domain".  1 and the
 * normalized addresses appended to out (*nout, freed by the caller), or 0
 * and *why (static text) for a file, program or malformed target. */
int local_alias_targets(const char *val, size_t len, const char *domain,
    char ***out, size_t *nout, const char **why) WUR;
#endif
