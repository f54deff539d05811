/*
 * privsep: account lookup and the one audited privilege drop (see
 * privsep.h).  Used by every service before it reads a client byte.
 * Trusts the passwd/group databases; verifies the result of every step.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* pipe2, getresuid, MSG_CMSG_CLOEXEC */
#endif
#include <sys/prctl.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "privsep.h"
#include "xmalloc.h"

#define PRIV_MAX_GROUPS	256

int
priv_lookup(const char *name, struct priv_account *a)
{
	struct passwd pw, *res = NULL;
	size_t size = 16384;
	char *mem;
	int r;

	for (;;) {
		mem = xmalloc(size);
		r = getpwnam_r(name, &pw, mem, size, &res);
		if (r != ERANGE || size >= (1 << 20))
			break;
		free(mem);
		size *= 2;
	}
	if (r != 0 || res == NULL ||
	    str_copy(a->name, sizeof(a->name), pw.pw_name) == -1) {
		free(mem);
		errno = r != 0 ? r : ENOENT;
		return -1;
	}
	a->uid = pw.pw_uid;
	a->gid = pw.pw_gid;
	free(mem);
	return 0;
}

/* The account's groups (primary included), read before any chroot.
 * Fatal if group 0 is among them: no service account belongs to root. */
static int
account_groups(const struct priv_account *a, gid_t *groups)
{
	int n = PRIV_MAX_GROUPS, i;

	if (getgrouplist(a->name, a->gid, groups, &n) == -1)
		log_fatal("priv_drop: %s: more than %d groups", a->name, PRIV_MAX_GROUPS);
	for (i = 0; i < n; i++) {
		if (groups[i] == 0)
			log_fatal("priv_drop: %s: account is in group 0; refusing", a->name);
	}
	return n;
}

/* After the switch: nothing of root or of the old ids may come back. */
static void
verify_dropped(const struct priv_account *a, gid_t oldgid)
{
	gid_t groups[PRIV_MAX_GROUPS], rg, eg, sg;
	uid_t ru, eu, su;
	int n, i;

	if (setuid(0) != -1 || seteuid(0) != -1)
		log_fatal("priv_drop: %s: could become root again", a->name);
	if ((oldgid != a->gid && setgid(oldgid) != -1) ||
	    setgid(0) != -1 || setegid(0) != -1)
		log_fatal("priv_drop: %s: could regain the old group", a->name);
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1)
		log_fatal("priv_drop: getresuid: %s", strerror(errno));
	if (ru != a->uid || eu != a->uid || su != a->uid ||
	    rg != a->gid || eg != a->gid || sg != a->gid)
		log_fatal("priv_drop: %s: ids are %u/%u/%u %u/%u/%u", a->name,
		    (unsigned)ru, (unsigned)eu, (unsigned)su,
		    (unsigned)rg, (unsigned)eg, (unsigned)sg);
	if ((n = getgroups(PRIV_MAX_GROUPS, groups)) == -1)
		log_fatal("priv_drop: getgroups: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		if (groups[i] == 0)
			log_fatal("priv_drop: %s: still in group 0", a->name);
	}
}

void
priv_drop(const struct priv_account *a, const char *chroot_dir)
{
	gid_t groups[PRIV_MAX_GROUPS], oldgid = getegid();
	uid_t ru, eu, su;
	int n;

	if (a->uid == 0)
		log_fatal("priv_drop: refusing to run as %s (uid 0)", a->name);
	if (geteuid() != 0) {
		/* dev mode: we already are the account; only verify */
		if (getresuid(&ru, &eu, &su) == -1)
			log_fatal("priv_drop: getresuid: %s", strerror(errno));
		if (ru != a->uid || eu != a->uid || su != a->uid)
			log_fatal("priv_drop: running as uid %u, not %s (uid %u), "
			    "and not root", (unsigned)eu, a->name, (unsigned)a->uid);
	} else {
		n = account_groups(a, groups);
		if (chroot_dir != NULL &&
		    (chroot(chroot_dir) == -1 || chdir("/") == -1))
			log_fatal("priv_drop: chroot %s: %s", chroot_dir, strerror(errno));
		if (setgroups((size_t)n, groups) == -1)
			log_fatal("priv_drop: setgroups: %s", strerror(errno));
		if (setresgid(a->gid, a->gid, a->gid) == -1)
			log_fatal("priv_drop: setresgid %u: %s", (unsigned)a->gid,
			    strerror(errno));
		if (setresuid(a->uid, a->uid, a->uid) == -1)
			log_fatal("priv_drop: setresuid %u: %s", (unsigned)a->uid,
			    strerror(errno));
		verify_dropped(a, oldgid);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		log_fatal("priv_drop: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	if (priv_can_regain())
		log_fatal("priv_drop: %s: privileges can be regained", a->name);
}

int
priv_role_account(const struct config *c, const char *role, struct priv_account *a)
{
	struct passwd *pw;
	char name[64];

	if (geteuid() == 0)
		return config_account(c, role, name, sizeof(name)) == -1 ||
		    priv_lookup(name, a) == -1 || a->uid == 0 ? -1 : 0;
	if ((pw = getpwuid(geteuid())) == NULL ||
	    str_copy(a->name, sizeof(a->name), pw->pw_name) == -1)
		return -1;
	a->uid = pw->pw_uid;
	a->gid = pw->pw_gid;
	return 0;
}

void
priv_drop_role(const struct config *c, const char *role, const char *chroot_dir)
{
	struct priv_account a;

	if (priv_role_account(c, role, &a) == -1)
		log_fatal("no account for %s (%s%s, or uid %u in dev mode)", role,
		    c->accounts_prefix, role, (unsigned)geteuid());
	priv_drop(&a, chroot_dir);
}

int
priv_can_regain(void)
{
	uid_t ru, eu, su;

	if (geteuid() == 0)
		return 1;
	if (getresuid(&ru, &eu, &su) == -1)
		return 1;
	if (ru != eu || su != eu)
		return 1;	/* can switch to the real or saved uid */
	if (seteuid(0) == 0) {
		if (seteuid(eu) == -1)
			log_panic("priv_can_regain: cannot restore euid %u", (unsigned)eu);
		return 1;
	}
	if (setuid(0) == 0)
		return 1;	/* cannot happen without root; not undoable here */
	return 0;
}
