/*
 * maildir: Maildir++ helpers shared by local delivery (and later POP3/IMAP):
 * unique file names per the Maildir spec with ",S=size", creating a Maildir
 * or a folder, durable delivery (tmp -> fsync -> link into new/ -> fsync),
 * and size accounting for quotas.  Runs as the mailbox owner; trusts only
 * the caller's paths.
 */
#ifndef POSTERN_MAILDIR_H
#define POSTERN_MAILDIR_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

#define MAILDIR_NAME_MAX	255	/* one file name, without the NUL */
#define MAILDIR_FOLDER_MAX	200	/* a folder name ("tag" of ".tag/") */

/* The unique base name for a new message (pure apart from its inputs):
 * "SECS.M<usec>P<pid>Q<count>.HOST,S=<size>", HOST with '/', ':' and ','
 * written as \057, \072 and \054.  0, or -1 if it would not fit out. */
int maildir_name(char *out, size_t outsize, int64_t secs, long usec, long pid,
    unsigned long count, const char *host, uint64_t size) WUR;
/* The ",S=<size>" a name carries (before any ":2," info).  1 and *size,
 * 0 if the name has none (or a malformed one). */
int maildir_name_size(const char *name, uint64_t *size) WUR;
/* 1 if name may be a Maildir++ folder ("tag" of ".tag/"): 1..MAILDIR_FOLDER_MAX
 * octets, no '/', no control or non-ASCII octets, not starting with '.', no
 * empty hierarchy level ("a..b", trailing '.'). */
int maildir_folder_valid(const char *name, size_t len) WUR;

/* Create dir (mode 0700, an existing directory is fine) with cur/ new/
 * tmp/; for a folder (is_folder) also the empty "maildirfolder" file.  The
 * new entries are made durable (fsync of dir and of its parent).  0/-1
 * (errno). */
int maildir_make(const char *dir, int is_folder) WUR;
/* The Maildir of a virtual user, paths.mail/DOMAIN/LOCAL: the domain's
 * directory (mode 0700, made durable in its parent) if it is missing,
 * then maildir_make(dir, 0).  0/-1 (errno). */
int maildir_make_virtual(const char *dir) WUR;
/* 1 if path is a Maildir (a real directory, not a symlink, with cur/ new/
 * tmp/), 0 if not, -1 on errors other than ENOENT/ENOTDIR. */
int maildir_exists(const char *path) WUR;

/* Deliver into the Maildir dir: prefix (prefixlen octets) then msglen
 * octets read with pread from msgfd at offset 0 are written to tmp/NAME
 * (O_EXCL, 0600), fsynced, linked into new/NAME (rename where link is not
 * supported), tmp/NAME removed and new/ fsynced.  host goes into the name.
 * 0 and the name in name_out[name_size]; -1 with errno (and nothing left
 * in tmp/ or new/): ENOSPC, EDQUOT, EIO, ... or EPIPE if msgfd was shorter
 * than msglen. */
int maildir_deliver(const char *dir, const char *host, const void *prefix,
    size_t prefixlen, int msgfd, uint64_t msglen, char *name_out,
    size_t name_size) WUR;

/* Octets in the Maildir++ at dir: every message in cur/ and new/ of the
 * inbox and of each ".folder/" (",S=" of the name, else stat()).  Files
 * that vanish while counting are skipped.  0 and *size, or -1 (errno). */
int maildir_size(const char *dir, uint64_t *size) WUR;
/* 1 if adding add octets to a mailbox of cur octets goes over quota
 * (0 = no quota), else 0.  Pure, overflow-safe. */
int maildir_over_quota(uint64_t cur, uint64_t add, uint64_t quota);
#endif
