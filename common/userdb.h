/*
 * userdb: the users text source (paths.maps/users) and the two maps built
 * from it: users.cdb (address -> "hash quota", read only by auth) and
 * mailboxes.cdb (address -> quota, no hashes, for smtpd and delivery).
 * Used by `postern user`; the source is admin-written, so it is validated.
 */
#ifndef POSTERN_USERDB_H
#define POSTERN_USERDB_H
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"

#define USERDB_ADDR_MAX		254	/* local@domain, without the NUL */
#define USERDB_LOCAL_MAX	64
#define USERDB_DOMAIN_MAX	253
#define USERDB_HASH_MAX		512
#define USERDB_SOURCE_MAX	(64u << 20)	/* a users file larger is refused */

/* One line of the source: an entry (address != NULL) or a comment or blank
 * line kept verbatim (raw != NULL) so a rewrite preserves the admin's notes. */
struct userdb_line {
	char *raw;
	char *address;		/* normalized */
	char *hash;		/* crypt(3) form */
	uint64_t quota;		/* bytes; 0 = none */
};

struct userdb {
	struct userdb_line *lines;
	size_t n;
};

/* Check and normalize an address (pure): local@domain, both lower-cased,
 * dot-atom local part without '/', LDH domain labels.  1 and out (of
 * outsize >= USERDB_ADDR_MAX + 1 bytes) filled, or 0 and *error_r. */
int userdb_address_normalize(const char *in, size_t len, char *out, size_t outsize,
    const char **error_r) WUR;
/* A hash as stored: 1..USERDB_HASH_MAX printable ASCII bytes, no spaces.
 * 1 valid, 0 not. */
int userdb_hash_valid(const char *h, size_t len) WUR;

/* Parse the source text (pure) into db (initialised by the call).  0, or
 * -1 with "name:line: message\n" lines appended to errors (db then holds
 * the lines that were good).  Duplicate addresses are errors. */
int userdb_parse(const char *name, const char *text, size_t len, struct userdb *db,
    struct buf *errors) WUR;
/* Read and parse path; a missing file is an empty db.  0/-1 as above. */
int userdb_load(const char *path, struct userdb *db, struct buf *errors) WUR;
/* Rewrite path from db atomically, mode 0640.  0/-1 (errno). */
int userdb_save(const char *path, const struct userdb *db) WUR;
/* Append the source text of db to out.  0/-1. */
int userdb_format(const struct userdb *db, struct buf *out) WUR;
void userdb_free(struct userdb *db);

/* The entry for a normalized address, or NULL.  Owned by db. */
struct userdb_line *userdb_find(const struct userdb *db, const char *address);
/* Edits on normalized addresses: 1 done, 0 (add) exists / (del, set) not found. */
int userdb_add(struct userdb *db, const char *address, const char *hash, uint64_t quota) WUR;
int userdb_del(struct userdb *db, const char *address) WUR;
int userdb_set_hash(struct userdb *db, const char *address, const char *hash) WUR;

/* Compile paths.maps/users into users.cdb (0640, root:PREFIXauth when run
 * as root) and mailboxes.cdb (0644), each replaced atomically.  0, or -1
 * with messages appended to errors. */
int userdb_build_maps(const struct config *c, struct buf *errors) WUR;
/* Same from a db already in memory, into directory dir; auth_gid is the
 * group of users.cdb, or -1 to leave it alone.  0/-1 as above. */
int userdb_write_maps(const struct userdb *db, const char *dir, long auth_gid,
    struct buf *errors) WUR;
#endif
