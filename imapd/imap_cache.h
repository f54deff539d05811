/*
 * imap_cache: the per-folder cache of what FETCH RFC822.SIZE, ENVELOPE,
 * BODY and BODYSTRUCTURE send, so a FETCH over a big folder does not parse
 * every file again.  Used by the imap mail process (as the mailbox owner,
 * chrooted in the Maildir).  An accelerator, never the source of truth
 * (DESIGN.md): it trusts nothing in its file, and on any doubt the caller
 * parses the message as if there were no cache.
 *
 * File "postern-cache" in the folder directory, all integers little-endian:
 *
 *   header (32 octets): "PSTNCACH" u32 version (2), u32 UIDVALIDITY,
 *       u64 nonce (random per file written), u64 checksum of the 24 before
 *   records, appended one after the other:
 *       u32 magic "PCR2", u32 total octets of the record (this prefix and
 *       the checksum included), u32 uid, u32 unique-name length,
 *       u64 file size (the key: see below), u64 wire size (RFC822.SIZE),
 *       u32 parts, u32 envelope, body, bodystructure, fields lengths, the
 *       unique name, the four strings, u64 checksum of everything before
 *       (FNV-1a 64, seeded with the UIDVALIDITY).
 *   A version-1 file is discarded as a bad header and rebuilt.
 *
 * Parts: a record may hold only some of what a message has.  Its wire
 * size is always there.  IMAP_CACHE_STRUCT: envelope, body and
 * bodystructure are there (written by FETCH, which parses the message;
 * else their lengths are 0).  IMAP_CACHE_HEADER: the header fields part
 * was computed (by FETCH or by a SEARCH that had to read the file); the
 * low bits (IMAP_CACHE_FIELD_BITS) then say which fields it holds (bit i:
 * imap_match.h's field i) and "fields" is a small header made of every
 * occurrence of those fields, copied raw (folding, encoded words and line
 * ends as in the file) in the file's order, so that matching it gives
 * what matching the file gives (imap_match_fields_make).  A field is left
 * out (its bit clear: SEARCH reads the file for it) when its occurrences
 * exceed IMAP_MATCH_FIELD_MAX octets, would take the part over
 * IMAP_MATCH_FIELDS_MAX, are too many (IMAP_MATCH_FIELDS_SEEN), or when
 * its last line has no line end.  A writer that has only some parts
 * merges those of the record it replaces (same uid, name and size).
 *
 * Key size: the ",S=" of the file name when it has one (checked against
 * the file when the record is written: a name that lies is never cached),
 * else the file's size.  So FETCH and SEARCH find a named-size message's
 * record with no system call; Maildir files are never rewritten in place.
 *
 * Reading stops at the first record that is short, too long, inconsistent
 * or fails its checksum: a torn or corrupt tail is ignored.  A header
 * that is bad or names another UIDVALIDITY discards the whole file.  A
 * later record for a uid replaces an earlier one.  An entry is used only
 * when uid, unique name (file name up to ':') and file size all match.
 *
 * Writers take flock(LOCK_EX) on "postern-cache.lock" (never replaced),
 * reopen the cache file if the name leads to another file than theirs (a
 * compaction replaced it), read what other sessions appended meanwhile,
 * cut a torn tail left by a crash, and append (a FETCH's or SEARCH's
 * records together: one lock, one write).  Appends are not fsynced (the
 * cache is rebuildable).  A file with a bad header, and compaction, are replaced
 * atomically (temp file, fsync, rename, fsync dir).  Readers load without
 * the lock: a record being written is a torn tail to them.
 *
 * Memory: the valid part of the file is held in memory (one read at open)
 * with a hash index uid -> record; the file is capped at
 * IMAP_CACHE_FILE_MAX octets (no more adds), a record at
 * IMAP_CACHE_RECORD_MAX (not cached).
 */
#ifndef POSTERN_IMAP_CACHE_H
#define POSTERN_IMAP_CACHE_H
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "imap_store.h"

#define IMAP_CACHE_FILE		"postern-cache"
#define IMAP_CACHE_LOCK		"postern-cache.lock"
#define IMAP_CACHE_RECORD_MAX	(1u << 20)	/* octets of one record */
#define IMAP_CACHE_FILE_MAX	(64u << 20)	/* octets of the file */
#define IMAP_CACHE_UNIQUE_MAX	255		/* octets of a unique name */
#define IMAP_CACHE_COMPACT_MIN	64		/* dead records worth a rewrite */
#define IMAP_CACHE_PENDING_MAX	(1u << 20)	/* octets kept by add_later */

struct imap_cache;

/* What FETCH sends for one message.  The strings are not NUL-terminated
 * and point into the cache: valid until the next imap_cache_add,
 * imap_cache_compact or imap_cache_close on it. */
#define IMAP_CACHE_STRUCT	0x80000000u	/* envelope, body, bodystructure */
#define IMAP_CACHE_HEADER	0x40000000u	/* fields part computed */
#define IMAP_CACHE_FIELD_BITS	0x0000ffffu	/* which fields it holds */

struct imap_cache_entry {
	uint64_t wire_size;		/* RFC822.SIZE */
	uint32_t parts;			/* IMAP_CACHE_* */
	const char *envelope;		/* imap_put_envelope() output */
	const char *body;		/* imap_put_body(ext = 0) */
	const char *bodystructure;	/* imap_put_body(ext = 1) */
	const char *fields;		/* imap_match_fields_make() output */
	size_t envelope_len, body_len, bodystructure_len, fields_len;
};

/* The cache of the folder directory dir (struct imap_folder.path) under
 * uidvalidity, loaded with one read.  Never fails: a missing, unreadable
 * or invalid file gives an empty cache (a file that cannot be opened, or
 * is not a regular file, disables the cache for this session: every
 * lookup misses, adds do nothing).  Free with imap_cache_close. */
struct imap_cache *imap_cache_open(const char *dir, uint32_t uidvalidity);
void imap_cache_close(struct imap_cache *c);

/* The unique part of a message file name ("cur/UNIQUE:2,FS", "new/UNIQUE"
 * or "UNIQUE"): a pointer into name and its length in *len. */
const char *imap_cache_unique(const char *name, size_t *len);

/* Entry of message uid whose file name (as imap_msg.name) is name and
 * whose key size is file_size.  1 hit (*e filled: check e->parts for
 * what it holds), 0 miss. */
int imap_cache_lookup(struct imap_cache *c, uint32_t uid, const char *name,
    uint64_t file_size, struct imap_cache_entry *e) WUR;

/* Store the entry *e for message uid (name, file_size as for lookup):
 * appended to the file under its lock.  1 stored (or already there), 0
 * not stored (record or file over its cap, parts inconsistent with the
 * lengths, cache disabled), -1 I/O error
 * (logged; the cache is then disabled for this session). */
int imap_cache_add(struct imap_cache *c, uint32_t uid, const char *name,
    uint64_t file_size, const struct imap_cache_entry *e);

/* As imap_cache_add, but the record is kept in memory (not found by
 * lookups yet) and written with the others by imap_cache_flush (or when
 * IMAP_CACHE_PENDING_MAX octets wait, or at imap_cache_close): a command
 * that caches many messages takes the lock once, not once per message,
 * and never holds it while it writes to the client.  1 kept, 0 not (as
 * for add), -1 a write it had to do failed. */
int imap_cache_add_later(struct imap_cache *c, uint32_t uid, const char *name,
    uint64_t file_size, const struct imap_cache_entry *e);
/* Write the kept records (one lock): 1 done (or none), 0 some over the
 * file's cap, -1 I/O error (logged; the cache is then disabled). */
int imap_cache_flush(struct imap_cache *c);

/* Rewrite the file atomically without the records of messages not among
 * the folder's msgs[n] (ascending uid, as in struct imap_folder, unique
 * names compared) and without replaced records, when those dead records
 * outnumber the live ones (and are at least IMAP_CACHE_COMPACT_MIN), or
 * when the file has a bad header.  Cheap when there is nothing to do:
 * call it after a sync.  1 rewritten, 0 nothing to do, -1 I/O error
 * (logged). */
int imap_cache_compact(struct imap_cache *c, const struct imap_msg *msgs,
    size_t n);
#endif
