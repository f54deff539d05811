/*
 * privsep: the one audited privilege drop.  Called before the first byte from
 * the network is read: chroot, chdir, setgroups/initgroups, setresgid,
 * setresuid, then verify that root (and the old ids) cannot be regained.
 */
#ifndef POSTERN_PRIVSEP_H
#define POSTERN_PRIVSEP_H
#include <sys/types.h>

struct priv_account {
	char name[64];
	uid_t uid;
	gid_t gid;
};

/* Look an account up in the passwd database.  0 ok, -1 unknown. */
int priv_lookup(const char *name, struct priv_account *a) __attribute__((warn_unused_result));
/* Become a (with its supplementary groups from the group database), after
 * chroot(chroot_dir) when chroot_dir is non-NULL.  If already running as
 * a->uid without root, only the chroot part is skipped.  Any failure is
 * fatal.  Not root and a different uid: fatal. */
void priv_drop(const struct priv_account *a, const char *chroot_dir);
struct config;
/* The account a program of role runs as: PREFIXrole when running as root,
 * else (dev mode) the account of the effective uid.  0, or -1 if it does
 * not exist or has uid 0. */
int priv_role_account(const struct config *c, const char *role,
    struct priv_account *a) __attribute__((warn_unused_result));
/* The per-connection servers' drop: become PREFIXrole (config_account)
 * chrooted in chroot_dir (NULL: none).  In dev mode (not root) stay the
 * account of the effective uid, without chroot.  Any failure is fatal. */
void priv_drop_role(const struct config *c, const char *role, const char *chroot_dir);
/* 1 if the process can still become root or change uid (used by tests). */
int priv_can_regain(void);
#endif
