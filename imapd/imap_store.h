/*
 * imap_store: the imap mail process's storage layer on a Maildir++ (folder
 * names, folder operations, per-folder UID lists, flags, append, copy,
 * expunge).  Runs as the mailbox owner, usually chrooted in the Maildir
 * root (root "."); trusts nothing found in the directories or list files.
 *
 * On disk (root = the user's Maildir, also INBOX):
 *
 *   cur/ new/ tmp/           INBOX messages
 *   .NAME/                   folder NAME (Maildir++, flat): NAME is the IMAP
 *                            name in modified UTF-7 exactly as the client
 *                            sent it, hierarchy delimiter "."; ".a.b/" is
 *                            "a.b", the child of "a".  Holds cur/ new/ tmp/
 *                            and the empty file "maildirfolder".
 *   subscriptions            subscribed names (mUTF-7), one per line;
 *                            replaced atomically under subscriptions.lock
 *   postern-uidvalidity      last UIDVALIDITY handed out in this Maildir
 *                            (decimal), under flock of the file itself
 *   postern-specialuse       marker: special-use folders were created once
 *   ..postern-deleted.*      a folder being deleted (hidden; swept at login)
 *
 *   in every folder dir (root included):
 *   postern-uidlist          the UID list (below): appended to, or
 *                            replaced by rename
 *   postern-uidlist.lock     never replaced; flock(LOCK_EX) on it guards
 *                            the list and every rename/unlink this layer
 *                            does in the folder
 *
 * Names.  "INBOX" in any case is the root.  A name whose first level is
 * "INBOX" in any case is a child of INBOX: the level is written "INBOX" and
 * the folder is ".INBOX.x/" (Dovecot's Maildir++ layout, namespace prefix
 * "").  Any other name must: decode with imap_mutf7_decode; be 1..
 * MAILDIR_FOLDER_MAX octets; have no empty level (no leading/trailing "."
 * and no ".."), no "/", no "*" or "%", no control octets.  Because every
 * folder dir starts with ".", no name maps onto cur/ new/ tmp/ or a file of
 * this layer.  Folder dirs found on disk with other names (or ".inbox...")
 * are not listed.
 *
 * UID list, text, one record per line, every field checked on reading:
 *
 *   postern-uidlist 1 UIDVALIDITY UIDNEXT HIGHESTMODSEQ
 *   k LETTER KEYWORD          keyword for the file-name flag letter a..z
 *   UID MODSEQ DIR/FILENAME   DIR "new" or "cur"; one line per message,
 *                             UIDs strictly ascending and < UIDNEXT
 *
 * After these lines the file may hold a change log: batches appended by
 * the writers (under the lock) instead of rewriting the whole file, each
 * one write() and fdatasync():
 *
 *   U UID MODSEQ DIR/FILENAME  message UID (listed) renamed; its modseq
 *   A UID MODSEQ DIR/FILENAME  new message, UID above every listed one
 *   X UID                      message UID expunged (listed)
 *   K LETTER KEYWORD           keyword added (letter free, name new)
 *   C UIDNEXT HIGHESTMODSEQ LEN HASH   commit: ends the batch; LEN octets
 *                              of records before it, HASH their FNV-1a 64
 *                              (16 hex digits); UIDNEXT and HIGHESTMODSEQ
 *                              never go down and cover the batch
 *
 * Readers apply the batches in order.  A batch without its commit line,
 * or whose LEN or HASH do not match, is a torn tail (a write cut short by
 * a crash, or data the disk never got): it and everything after it are
 * ignored, and the next writer replaces the file instead of appending.
 * This is safe because a writer reports nothing before its fdatasync()
 * returned, and it renamed or unlinked the message files before writing
 * the batch: after the crash the scan finds those files and the merge
 * gives them fresh modseqs above the last durable HIGHESTMODSEQ, new files
 * fresh UIDs above the last durable UIDNEXT.  A reader that applied any
 * batch also fdatasync()s the file first, so that what it reports is on
 * disk even if the writer died between write() and fdatasync().  A
 * complete batch whose records do not fit the list (unknown UID, UID
 * going down, modseq above HIGHESTMODSEQ...) makes the whole list invalid
 * (rebuild, below).  A full sync logs what it found too (new UIDs,
 * others' renames and removals).  The file is rewritten instead (tmp,
 * fsync, rename, fsync dir) when the log would outgrow half the base
 * part (and 8 KiB), when its tail is torn, when it is not the file the
 * writer last read, and on a rebuild.
 *
 * What is durable when: a STORE, EXPUNGE, APPEND, COPY or MOVE answered
 * OK has (1) its message files renamed, unlinked or written (file
 * fsynced) and their directories fsynced, then (2) its batch (or a new
 * list) on disk.  A crash between (1) and (2) loses no message and
 * reuses no UID or modseq reported before: the numbers (2) held were
 * never reported, and the next sync gives (1)'s files numbers above the
 * last durable UIDNEXT and HIGHESTMODSEQ.  Numbers a sync reports (a
 * delivery's UID, another program's rename) are durable the same way
 * before the sync returns.
 *
 * A message is known by its unique name (FILENAME before ":2,"); a changed
 * FILENAME (flags changed by anyone, new/ -> cur/) bumps its MODSEQ.  A
 * missing, unreadable or invalid list (garbage, duplicates, huge numbers,
 * a name with "/" or "..") is rebuilt with a NEW UIDVALIDITY: UIDs are
 * never reused under one UIDVALIDITY.  New files get UIDs ordered by the
 * time in their name (seconds, then ".M<usec>"), then by name.  If two
 * files share a unique name (a crash between link and unlink, or mischief)
 * only one (cur/ first, then the smaller name) gets a UID.
 *
 * Flags: the Maildir info ":2,LETTERS": D \Draft, F \Flagged, R \Answered,
 * S \Seen, T \Deleted; other capitals (P) are kept untouched; a..z are the
 * folder's keywords (at most 26 per folder).  \Recent is per session: the
 * sync that moves a file from new/ to cur/ marks it recent for its caller.
 *
 * Durability: every function that reports success for a change has
 * fsynced the files and directories it changed (DESIGN.md principle 3).
 * Lock order: a folder's list lock, then postern-uidvalidity; two folder
 * locks are never held at once.
 */
#ifndef POSTERN_IMAP_STORE_H
#define POSTERN_IMAP_STORE_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"

#define IMAP_STORE_DELIM	'.'
#define IMAP_STORE_KEYWORDS	26	/* file-name letters a..z */
#define IMAP_STORE_KEYWORD_MAX	64	/* octets of one keyword name */
#define IMAP_STORE_LIST_MAX	(256u << 20)	/* octets of a UID list file */

/* System flags as bits of imap_msg.sys: bit (LETTER - 'A'). */
#define IMAP_FLAG(letter)	(1u << ((letter) - 'A'))
#define IMAP_F_DRAFT		IMAP_FLAG('D')
#define IMAP_F_FLAGGED		IMAP_FLAG('F')
#define IMAP_F_ANSWERED		IMAP_FLAG('R')
#define IMAP_F_SEEN		IMAP_FLAG('S')
#define IMAP_F_DELETED		IMAP_FLAG('T')
#define IMAP_F_IMAP	(IMAP_F_DRAFT | IMAP_F_FLAGGED | IMAP_F_ANSWERED | \
			 IMAP_F_SEEN | IMAP_F_DELETED)

/* Results: each maps onto one IMAP response (code). */
enum imap_store_err {
	IMAP_STORE_OK = 0,
	IMAP_STORE_BADNAME,	/* NO [CANNOT]: name refused */
	IMAP_STORE_NONEXISTENT,	/* NO [NONEXISTENT] */
	IMAP_STORE_EXISTS,	/* NO [ALREADYEXISTS] */
	IMAP_STORE_HASCHILDREN,	/* NO [INUSE]/[CANNOT]: delete children first */
	IMAP_STORE_INBOX,	/* NO [CANNOT]: not allowed on INBOX */
	IMAP_STORE_TOOBIG,	/* NO [TOOBIG]: append over the size limit */
	IMAP_STORE_LIMIT,	/* NO [LIMIT]: no keyword letter left */
	IMAP_STORE_IO,		/* NO [SERVERBUG]: errno says why; logged */
};
/* Short English text for an error kind. */
const char *imap_store_strerror(enum imap_store_err e);

/* One Maildir++ (the session's user).  Strings owned by the struct. */
struct imap_folder;
struct imap_store {
	char *root;		/* "." when chrooted, else a path */
	char *host;		/* for unique message names */
	struct imap_folder *sel;	/* the session's watched view (not
					   owned): APPEND and COPY into that
					   folder go through it */
};

/* One message of a folder's view. */
struct imap_msg {
	uint32_t uid;
	uint64_t modseq;
	char *name;		/* "new/NAME" or "cur/NAME:2,FLAGS" (owned) */
	uint32_t sys;		/* capital flag letters, IMAP_FLAG() bits */
	uint32_t kw;		/* keyword letters: bit (letter - 'a') */
	unsigned recent : 1;	/* \Recent for this session */
};

/* What the last full sync of a view saw (the store's own use). */
struct imap_stamp {
	struct timespec cur, new_;	/* mtimes of cur/ and new/ */
	struct timespec list_mtime, list_ctime;
	ino_t list_ino;
	off_t list_size;
	int valid;			/* dirs older than a second then */
};

/* A selected (or examined) folder: the view after the last sync, messages
 * in ascending UID order.  Everything owned by the struct. */
struct imap_folder {
	struct imap_store *store;
	char *name;		/* IMAP name (mUTF-7), "INBOX" for the root */
	char *path;		/* the folder's directory */
	int readonly;		/* EXAMINE: nothing moved from new/ */
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	char *keywords[IMAP_STORE_KEYWORDS];	/* a..z -> name, or NULL */
	struct imap_msg *msgs;
	size_t n;
	struct imap_stamp stamp;	/* imap_folder_sync's shortcut */
	struct store_watch *watch;	/* inotify proof of "nothing changed"
					   (imap_store_watch.c), or NULL */
	off_t list_base, list_end;	/* the list file: end of the base
					   part, end of the valid log */
	int list_torn;			/* a torn tail follows list_end */
	uint32_t *held_recent;		/* released view: its \Recent UIDs */
	size_t nheld;
	int released;			/* msgs freed by imap_folder_release */
};

/* ---- store and names (imap_store_name.c) ---- */

/* Set up s on the Maildir root (copied).  host NULL: gethostname().  0/-1. */
int imap_store_init(struct imap_store *s, const char *root, const char *host) WUR;
void imap_store_free(struct imap_store *s);
/* Check an IMAP mailbox name (mUTF-7, len octets) and give its canonical
 * form in canon ("INBOX" for any spelling of INBOX, "INBOX.x" for
 * "inbox.x") and the folder directory relative to the root in dir ("."
 * or ".NAME"), each of size >= MAILDIR_FOLDER_MAX + 8.  1 valid, 0 not. */
int imap_store_name(const char *name, size_t len, char *canon, char *dir,
    size_t size) WUR;
/* 1 if name (canonical) is INBOX. */
int imap_store_is_inbox(const char *name);
/* RFC 3501 6.3.8 LIST matching of name against pattern ("*" any octets,
 * "%" any octets but the delimiter), INBOX case-insensitive.  Pure,
 * O(len(pattern) * len(name)).  1 match, 0 not. */
int imap_store_match(const char *pattern, const char *name);
/* RFC 6154 attribute of a folder name ("\\Sent", ...) or NULL. */
const char *imap_store_special_use(const char *name);

/* ---- folders (imap_store_folder.c) ---- */

#define IMAP_LIST_HASCHILDREN	0x01
#define IMAP_LIST_NONEXISTENT	0x02	/* only a parent of real folders */
#define IMAP_LIST_SUBSCRIBED	0x04

struct imap_list_entry {
	char *name;		/* canonical IMAP name, mUTF-7 (owned) */
	unsigned flags;		/* IMAP_LIST_* */
	const char *special;	/* imap_store_special_use(), or NULL */
};
struct imap_list {
	struct imap_list_entry *e;	/* sorted by name, INBOX first */
	size_t n;
};
/* Every folder, INBOX included, plus parents that exist only as a level
 * of a child's name (IMAP_LIST_NONEXISTENT: "\NonExistent \Noselect"),
 * with children and subscription marks.  Caller filters with
 * imap_store_match and frees with imap_list_free. */
enum imap_store_err imap_store_list(struct imap_store *s, struct imap_list *l) WUR;
void imap_list_free(struct imap_list *l);

/* CREATE name (and missing parent levels).  A trailing delimiter is
 * allowed (RFC 3501 6.3.3).  EXISTS if the folder is there already. */
enum imap_store_err imap_store_create(struct imap_store *s, const char *name) WUR;
/* DELETE: refuses INBOX and a folder with children.  The directory is
 * renamed away (hidden at once), then removed. */
enum imap_store_err imap_store_delete(struct imap_store *s, const char *name) WUR;
/* RENAME from to, children included (UIDVALIDITY and UIDs kept; missing
 * parents of to are created; subscriptions are left as they are).  from
 * INBOX: a new folder to gets every INBOX message, INBOX stays, empty;
 * INBOX's children are not moved.  Not atomic across children: an I/O
 * error part way leaves some renamed (logged). */
enum imap_store_err imap_store_rename(struct imap_store *s, const char *from,
    const char *to) WUR;
/* SUBSCRIBE (on = 1) / UNSUBSCRIBE (on = 0) name; the folder need not
 * exist.  The subscriptions file is replaced durably. */
enum imap_store_err imap_store_subscribe(struct imap_store *s, const char *name,
    int on) WUR;
/* The subscribed names, canonical, sorted (caller frees with
 * imap_list_free; flags are IMAP_LIST_SUBSCRIBED, plus NONEXISTENT for
 * names with no folder). */
enum imap_store_err imap_store_lsub(struct imap_store *s, struct imap_list *l) WUR;
/* Call once per login: the first time ever (no postern-specialuse marker)
 * creates and subscribes Sent, Drafts, Trash, Junk, Archive, then writes
 * the marker, so folders the user deletes later do not come back.  Also
 * removes folders left half-deleted by a crash and files older than 36
 * hours in every tmp/. */
enum imap_store_err imap_store_login(struct imap_store *s) WUR;

/* ---- folder view and sync (imap_store_view.c, imap_store_sync.c, and
 *      imap_store_watch.c for the inotify proof) ---- */

/* SELECT (readonly 0) or EXAMINE (readonly 1) name: f gets the view after
 * a first sync, and an inotify watch on cur/ and new/ when the system
 * grants one (s->sel is then f until imap_folder_close).  NONEXISTENT if
 * no such folder.  imap_folder_close frees. */
enum imap_store_err imap_folder_open(struct imap_store *s, const char *name,
    int readonly, struct imap_folder *f) WUR;
void imap_folder_close(struct imap_folder *f);
/* Bring the view up to date with the disk, under the folder lock: new
 * files get UIDs, vanished ones are dropped, renamed ones (flags changed
 * elsewhere) get a new modseq; unless read-only, files in new/ move to
 * cur/ and become \Recent for this view (recent marks of messages still
 * present are kept).  The list is written (durably) only if something
 * changed.  Nothing is read while the list file's identity (inode, size,
 * times) is the one this view last read or wrote and either (a) the
 * view's inotify watch on cur/ and new/ reported only the renames,
 * unlinks and links this view made itself since its last full scan
 * (imap_store_watch.c: the proof that nobody else, locked or not --
 * POP3, a local MUA, a delivery -- touched the folder), or (b) without a
 * watch, the mtimes of cur/ and new/ are those of the last full sync and
 * were then over a second old (file times are coarse).  The caller diffs
 * the old and new msgs by UID for EXISTS,
 * EXPUNGE and FETCH responses (a message whose modseq grew changed
 * flags).  If uidvalidity changed, the folder was rebuilt or replaced
 * (deleted and created again): the session must end the selection.
 * NONEXISTENT if the folder was deleted or renamed away. */
enum imap_store_err imap_folder_sync(struct imap_folder *f) WUR;
/* While the session only waits (IDLE): free the messages of the view,
 * keeping UIDVALIDITY, UIDNEXT, keywords and the \Recent marks; the next
 * imap_folder_sync reloads the view from the list and the folder (it
 * costs what a sync after any outside change costs). */
void imap_folder_release(struct imap_folder *f);
/* The inotify descriptor (readable when the folder may have changed) of a
 * view opened by imap_folder_open, or -1. */
int imap_folder_watch_fd(const struct imap_folder *f);
/* The view's message with this uid, or NULL.  Binary search. */
struct imap_msg *imap_folder_find(const struct imap_folder *f, uint32_t uid);
/* Open message uid read-only into *fd (the caller closes it); a file
 * renamed meanwhile is found again by its unique name.  NONEXISTENT if
 * the message is gone. */
enum imap_store_err imap_folder_open_msg(struct imap_folder *f, uint32_t uid,
    int *fd) WUR;

struct imap_status {
	uint32_t messages, recent, unseen, uidnext, uidvalidity;
	uint64_t highestmodseq;
};
/* STATUS name: counts after a read-only sync (UIDs are assigned, nothing
 * moves; RECENT = files in new/). */
enum imap_store_err imap_store_status(struct imap_store *s, const char *name,
    struct imap_status *st) WUR;

/* ---- changes (imap_store_change.c) ---- */

enum imap_flag_op { IMAP_FLAGS_SET, IMAP_FLAGS_ADD, IMAP_FLAGS_REMOVE };

struct imap_flag_change {
	enum imap_flag_op op;
	uint32_t sys;			/* IMAP_F_* bits (others ignored) */
	const char *const *keywords;	/* names (atoms), case-insensitive */
	size_t nkeywords;
	uint64_t unchangedsince;	/* CONDSTORE; 0: unconditional */
};
/* Per-uid outcome of a batch. */
enum imap_change_res {
	IMAP_CHANGE_DONE,	/* changed or already so: new modseq in the view */
	IMAP_CHANGE_GONE,	/* no such message (any more) */
	IMAP_CHANGE_MODIFIED,	/* modseq > unchangedsince: left alone */
};
/* STORE: apply ch to the n uids, under one lock (after a sync, so the view
 * is up to date on return), res[i] for uids[i].  A message whose flags do
 * not change keeps its modseq.  LIMIT if a new keyword needs a 27th
 * letter, BADNAME for a keyword that is not an atom (nothing changed
 * then; res is filled only on OK).  Refusing STORE and EXPUNGE on an
 * EXAMINEd folder is the caller's job. */
enum imap_store_err imap_folder_store(struct imap_folder *f, const uint32_t *uids,
    size_t n, const struct imap_flag_change *ch, enum imap_change_res *res) WUR;
/* 1 if a message of modseq m may be changed under UNCHANGEDSINCE u (u 0:
 * no condition).  RFC 7162 3.2. */
int imap_modseq_ok(uint64_t m, uint64_t u);

/* Expunge the n uids (each unlinked; missing ones are skipped), dirs
 * fsynced before returning, view synced (MOVE uses this). */
enum imap_store_err imap_folder_expunge(struct imap_folder *f, const uint32_t *uids,
    size_t n) WUR;
/* EXPUNGE, CLOSE (uids NULL: the whole folder) and UID EXPUNGE (uids[n]):
 * only messages that have \Deleted at that moment, under the lock, so a
 * flag another session just cleared is respected.  Which UIDs went: diff
 * the view. */
enum imap_store_err imap_folder_expunge_deleted(struct imap_folder *f,
    const uint32_t *uids, size_t n) WUR;

struct imap_append {
	int fd;			/* read from here if >= 0 (to EOF) ... */
	const void *data;	/* ... else these len octets */
	size_t len;
	uint64_t limit;		/* TOOBIG above this many octets; 0 none */
	uint32_t sys;		/* IMAP_F_* */
	const char *const *keywords;
	size_t nkeywords;
	time_t internaldate;	/* 0: now */
};
/* APPEND to folder name: tmp/, fsync, into cur/ with the flags, mtime =
 * internal date; the UID is assigned under the lock before returning
 * (*uidvalidity, *uid for APPENDUID). */
enum imap_store_err imap_store_append(struct imap_store *s, const char *name,
    const struct imap_append *a, uint32_t *uidvalidity, uint32_t *uid) WUR;

/* COPY the n uids of f (in that order) to folder dest: hard links where
 * possible, else copies (internal date kept); flags and keywords kept
 * (keywords re-mapped to dest's letters).  New UIDs ascending in source
 * order: src_uids[k] -> dst_uids[k], *nout of them (messages gone
 * meanwhile are left out), both arrays n long and caller-owned.  dest ==
 * f's folder is allowed. */
enum imap_store_err imap_folder_copy(struct imap_folder *f, const uint32_t *uids,
    size_t n, const char *dest, uint32_t *uidvalidity, uint32_t *src_uids,
    uint32_t *dst_uids, size_t *nout) WUR;
/* MOVE: copy, then expunge the copied uids from f. */
enum imap_store_err imap_folder_move(struct imap_folder *f, const uint32_t *uids,
    size_t n, const char *dest, uint32_t *uidvalidity, uint32_t *src_uids,
    uint32_t *dst_uids, size_t *nout) WUR;
#endif
