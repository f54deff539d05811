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
 *   header (32 octets): "PSTNCACH" u32 version, u32 UIDVALIDITY,
 *       u64 nonce (random per file written), u64 checksum of the 24 before
 *   records, appended one after the other:
 *       u32 magic "PCR1", u32 total octets of the record (this prefix and
 *       the checksum included), u32 uid, u32 unique-name length,
 *       u64 file size (octets of the message file), u64 wire size
 *       (RFC822.SIZE), u32 envelope, body, bodystructure lengths, the
 *       unique name, the three strings, u64 checksum of everything before
 *       (FNV-1a 64, seeded with the UIDVALIDITY).
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
 * cut a torn tail left by a crash, and append.  Appends are not fsynced (the cache is
 * rebuildable).  A file with a bad header, and compaction, are replaced
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

struct imap_cache;

/* What FETCH sends for one message.  The strings are not NUL-terminated
 * and point into the cache: valid until the next imap_cache_add,
 * imap_cache_compact or imap_cache_close on it. */
struct imap_cache_entry {
	uint64_t wire_size;		/* RFC822.SIZE */
	const char *envelope;		/* imap_put_envelope() output */
	const char *body;		/* imap_put_body(ext = 0) */
	const char *bodystructure;	/* imap_put_body(ext = 1) */
	size_t envelope_len, body_len, bodystructure_len;
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
 * whose file holds file_size octets.  1 hit (*e filled), 0 miss. */
int imap_cache_lookup(struct imap_cache *c, uint32_t uid, const char *name,
    uint64_t file_size, struct imap_cache_entry *e) WUR;

/* Store the entry *e for message uid (name, file_size as for lookup):
 * appended to the file under its lock.  1 stored (or already there), 0
 * not stored (record or file over its cap, cache disabled), -1 I/O error
 * (logged; the cache is then disabled for this session). */
int imap_cache_add(struct imap_cache *c, uint32_t uid, const char *name,
    uint64_t file_size, const struct imap_cache_entry *e);

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
