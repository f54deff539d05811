/*
 * imap_store_int: what the imap_store_*.c files share and nobody else
 * uses (paths, the folder lock, the UID list file, the locked sync).
 */
#ifndef POSTERN_IMAP_STORE_INT_H
#define POSTERN_IMAP_STORE_INT_H
#include "imap_store.h"
#include "maildir.h"

#define STORE_NAME_SIZE		(MAILDIR_FOLDER_MAX + 16)
#define STORE_LIST_FILE		"postern-uidlist"
#define STORE_LOCK_FILE		"postern-uidlist.lock"
#define STORE_UV_FILE		"postern-uidvalidity"
#define STORE_SUBS_FILE		"subscriptions"
#define STORE_MARKER_FILE	"postern-specialuse"
#define STORE_DELETED_PREFIX	"..postern-deleted."

/* Log "what path: strerror(errno)" as a warning; IMAP_STORE_IO. */
enum imap_store_err store_io(const char *what, const char *path);
/* Validate name and give its canonical form and the folder's directory
 * path (root/.NAME or root) in canon[STORE_NAME_SIZE], path[PATH_MAX]. */
enum imap_store_err store_resolve(struct imap_store *s, const char *name,
    char *canon, char *path) WUR;

/* flock(LOCK_EX) on the file path (created 0600 if missing, never a
 * symlink): the fd, or -1 (errno). */
int store_lock_file(const char *path) WUR;
/* The same on the folder fpath's lock file. */
int store_lock(const char *fpath) WUR;
void store_unlock(int fd);

/* UID list file <-> f (uidvalidity, uidnext, highestmodseq, keywords,
 * msgs with names; flags parsed).  read: 1 valid, 0 missing or invalid
 * (f's list fields then empty), -1 I/O error. */
int store_list_read(struct imap_folder *f) WUR;
int store_list_write(struct imap_folder *f) WUR;
/* Log records of a change (format in imap_store.h), collected in a buf
 * (BUF_INIT(IMAP_STORE_LIST_MAX)) while the change is made under the
 * lock: kind 'U' (renamed), 'A' (added), 'X' (expunged) for m.  0/-1. */
int store_log_put(struct buf *log, char kind, const struct imap_msg *m) WUR;
/* 'K' records for the keywords of f that had[] (f's table before) lacks. */
int store_log_keywords(const struct imap_folder *f, char *const *had,
    struct buf *log) WUR;
/* Make the change of log durable, lock held, f's view current and
 * changed: the batch appended (one write, fdatasync) or, when the log is
 * long, its tail torn or the file not what f last saw, the whole list
 * rewritten.  Frees log.  0/-1. */
int store_log_write(struct imap_folder *f, struct buf *log) WUR;
/* FNV-1a 64 of n octets (the log's torn-write check, not security). */
uint64_t store_log_hash(const void *p, size_t n);

/* ---- the inotify proof that a view is current (imap_store_watch.c) ----
 * Names are "cur/FILE" or "new/FILE" as in imap_msg. */
#define STORE_EV_FROM	1	/* renamed away (IN_MOVED_FROM) */
#define STORE_EV_TO	2	/* renamed or linked here (IN_MOVED_TO) */
#define STORE_EV_GONE	3	/* unlinked (IN_DELETE) */
/* Start watching f's cur/ and new/ (before its first full scan).  0, or
 * -1 (no watch: f works on mtimes as before). */
int store_watch_start(struct imap_folder *f);
void store_watch_free(struct imap_folder *f);
/* Note an event this process just caused in f's folder. */
void store_watch_expect(struct imap_folder *f, int ev, const char *name);
/* The view can no longer be proved current (an error part way). */
void store_watch_dirty(struct imap_folder *f);
/* 1 if f's view (or, released, the list it was read from) is proved to
 * match the folder: every event queued since the last full scan was one
 * this process announced, and the list file is the one f last read or
 * wrote.  0 otherwise (a full sync is due). */
int store_watch_current(struct imap_folder *f);
/* Around a full scan (lock held): before, forget queued events; after,
 * the view is current unless events nobody announced came meanwhile. */
void store_watch_scan_begin(struct imap_folder *f);
void store_watch_scan_end(struct imap_folder *f);
/* Record the list file's identity after f read or wrote it (lock held). */
void store_watch_list_seen(struct imap_folder *f);
/* A fresh UIDVALIDITY for this Maildir, > every earlier one and >= min
 * (0: none).  0/-1. */
int store_uidvalidity_next(struct imap_store *s, uint32_t min, uint32_t *v) WUR;

/* Parse the flags of m->name into m->sys and m->kw. */
void store_msg_flags(struct imap_msg *m);
/* The file name of "cur/X" (after the dir) and the length of its unique
 * part (before ':'). */
const char *store_msg_file(const char *name, size_t *baselen);
/* "cur/" + base + ":2," + letters of sys and kw, into out[size].  0/-1. */
int store_flag_name(char *out, size_t size, const char *base, size_t baselen,
    uint32_t sys, uint32_t kw) WUR;
/* The current name ("cur/..." or "new/...") of the message whose unique
 * part is base[baselen] in folder fpath, by reading the directories.
 * 1 found, 0 not, -1 error. */
int store_find_base(const char *fpath, const char *base, size_t baselen,
    char *out, size_t size) WUR;
/* The letter index (0..25) of keyword kw in f, adding it if create;
 * -1 if unknown (create 0) or no letter is left.  *added set to 1 when
 * the table changed. */
int store_keyword(struct imap_folder *f, const char *kw, int create, int *added);
/* 1 if kw is a valid keyword atom. */
int store_keyword_valid(const char *kw);

/* The \Recent UIDs of f's view and of its released view (those are
 * forgotten), malloc'd, *n of them. */
uint32_t *store_recent_uids(struct imap_folder *f, size_t *n);
/* The released view of f back from the list alone (lock held; the watch
 * proved that nothing but the list could have changed meanwhile and the
 * list file is the one f last saw): 1 done, else 0 (a full sync is due). */
int store_reload(struct imap_folder *f) WUR;
/* Free the messages and keywords of f (not name/path). */
void store_view_clear(struct imap_folder *f);
/* With the lock held: read the list, scan the folder, reconcile, write
 * the list if it changed. */
enum imap_store_err store_sync_locked(struct imap_folder *f) WUR;
/* Drop the messages whose uid was set to 0. */
void store_compact(struct imap_folder *f);
/* Append a message named name (in the folder now) to the view with the
 * next UID and modseq (lock held, view just synced): its UID, or 0 if
 * UIDs are exhausted.  The list still has to be written. */
uint32_t store_add_msg(struct imap_folder *f, const char *name);
/* Open folder name into f (validated, must exist), lock it and sync.
 * *lockfd is the held lock (caller unlocks), or -1 if lock is 0. */
enum imap_store_err store_folder_begin(struct imap_store *s, const char *name,
    int readonly, int lock, struct imap_folder *f, int *lockfd) WUR;
/* unique counter for names made by this process */
unsigned long store_next_count(void);
#endif
