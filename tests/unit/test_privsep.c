/*
 * Unit tests for common/privsep.  Run as root they fork children that drop
 * to "nobody" inside a chroot and report what they see over a pipe; the
 * refusals (root target, wrong uid) must end the child with exit 1.
 */
#define _GNU_SOURCE	/* getresuid */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "privsep.h"
#include "unit.h"

struct report {
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int setuid0, seteuid0, setgid0, marker, etc_passwd, ngroups, group0;
	int regain, nnp, cwd_root;
	gid_t group1;
};

/* When set, children drop with priv_drop_role(role_cf, role_name, dir). */
static const struct config *role_cf;
static const char *role_name;

/* Child: drop, look around, write the report, exit 0. */
static void
child_drop(int wfd, const struct priv_account *a, const char *dir)
{
	struct report r;
	gid_t groups[64];
	struct stat st;
	char cwd[256];
	int i;

	memset(&r, 0, sizeof(r));
	if (role_cf != NULL)
		priv_drop_role(role_cf, role_name, dir);
	else
		priv_drop(a, dir);
	if (getresuid(&r.ru, &r.eu, &r.su) == -1 || getresgid(&r.rg, &r.eg, &r.sg) == -1)
		_exit(3);
	r.setuid0 = setuid(0);
	r.seteuid0 = seteuid(0);
	r.setgid0 = setgid(0);
	r.marker = stat("/marker", &st) == 0;
	r.etc_passwd = stat("/etc/passwd", &st) == 0;
	r.ngroups = getgroups(64, groups);
	for (i = 0; i < r.ngroups; i++)
		if (groups[i] == 0)
			r.group0 = 1;
	r.group1 = r.ngroups > 0 ? groups[0] : (gid_t)-1;
	r.regain = priv_can_regain();
	r.nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	r.cwd_root = getcwd(cwd, sizeof(cwd)) != NULL && strcmp(cwd, "/") == 0;
	if (write(wfd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(4);
	_exit(0);
}

/* Fork, run priv_drop in the child; the exit status, and *r if reported. */
static int
run_child(const struct priv_account *a, const char *dir, int pre_drop, struct report *r)
{
	int p[2], st;
	pid_t pid;
	ssize_t n;

	if (pipe(p) == -1)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		log_init("test_privsep", LOGDEST_STDERR);
		if (pre_drop && setresuid(65534, 65534, 65534) == -1)
			_exit(5);
		child_drop(p[1], a, dir);
	}
	close(p[1]);
	memset(r, 0, sizeof(*r));
	n = read(p[0], r, sizeof(*r));
	close(p[0]);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	if (n != (ssize_t)sizeof(*r) && WEXITSTATUS(st) == 0)
		return -1;
	return WEXITSTATUS(st);
}

static void
test_lookup(void)
{
	struct priv_account a;

	CHECK(priv_lookup("root", &a) == 0 && a.uid == 0 && a.gid == 0);
	CHECK_STR(a.name, "root");
	CHECK(priv_lookup("nobody", &a) == 0 && a.uid != 0);
	CHECK_STR(a.name, "nobody");
	errno = 0;
	CHECK(priv_lookup("no-such-postern-user-xyz", &a) == -1);
	CHECK(priv_lookup("", &a) == -1);
}

static void
test_drop(void)
{
	char dir[] = "/tmp/test_privsep.XXXXXX", marker[64];
	struct priv_account nobody, root;
	struct report r;
	int fd;

	if (priv_lookup("nobody", &nobody) == -1 || priv_lookup("root", &root) == -1) {
		CHECK(!"accounts nobody and root exist");
		return;
	}
	CHECK(mkdtemp(dir) != NULL);
	CHECK(chmod(dir, 0755) == 0);
	CHECK(snprintf(marker, sizeof(marker), "%s/marker", dir) < (int)sizeof(marker));
	CHECK((fd = open(marker, O_WRONLY | O_CREAT | O_EXCL, 0644)) >= 0);
	close(fd);

	CHECK(priv_can_regain() == 1);	/* we are root */
	CHECK(run_child(&nobody, dir, 0, &r) == 0);
	CHECK(r.ru == nobody.uid && r.eu == nobody.uid && r.su == nobody.uid);
	CHECK(r.rg == nobody.gid && r.eg == nobody.gid && r.sg == nobody.gid);
	CHECK(r.setuid0 == -1 && r.seteuid0 == -1 && r.setgid0 == -1);
	CHECK(r.marker == 1 && r.etc_passwd == 0);	/* / is the temp dir */
	CHECK(r.cwd_root == 1);
	CHECK(r.ngroups == 1 && r.group1 == nobody.gid && r.group0 == 0);
	CHECK(r.regain == 0);
	CHECK(r.nnp == 1);

	/* no chroot */
	CHECK(run_child(&nobody, NULL, 0, &r) == 0);
	CHECK(r.eu == nobody.uid && r.marker == 0 && r.etc_passwd == 1 && r.regain == 0);
	/* already nobody without root: verification only, chroot skipped */
	CHECK(run_child(&nobody, dir, 1, &r) == 0);
	CHECK(r.eu == nobody.uid && r.etc_passwd == 1 && r.regain == 0 && r.nnp == 1);

	/* refusals are fatal (exit 1) */
	CHECK(run_child(&root, NULL, 0, &r) == 1);	/* uid 0 target */
	{
		struct priv_account other = nobody;

		other.uid = nobody.uid - 1;	/* not root, not us */
		CHECK(run_child(&other, NULL, 1, &r) == 1);
		other = nobody;
		other.gid = 0;	/* group 0 */
		CHECK(run_child(&other, NULL, 0, &r) == 1);
	}
	CHECK(run_child(&nobody, "/nonexistent-postern-dir", 0, &r) == 1);

	CHECK(unlink(marker) == 0);
	CHECK(rmdir(dir) == 0);
}

/* The servers' drop: PREFIXrole as root, the invoking account in dev mode. */
static void
test_drop_role(void)
{
	char dir[] = "/tmp/test_privsep.XXXXXX", *prefix;
	struct priv_account nobody;
	struct config cf;
	struct report r;

	if (priv_lookup("nobody", &nobody) == -1) {
		CHECK(!"account nobody exists");
		return;
	}
	CHECK(mkdtemp(dir) != NULL);
	CHECK(chmod(dir, 0755) == 0);
	config_defaults(&cf);
	prefix = cf.accounts_prefix;
	cf.accounts_prefix = "";	/* role "nobody" is the account nobody */
	role_cf = &cf;
	role_name = "nobody";
	CHECK(run_child(&nobody, dir, 0, &r) == 0);
	CHECK(r.eu == nobody.uid && r.su == nobody.uid && r.eg == nobody.gid);
	CHECK(r.etc_passwd == 0 && r.cwd_root == 1 && r.regain == 0 && r.nnp == 1);
	/* dev mode: already nobody without root, stays so, no chroot */
	CHECK(run_child(&nobody, dir, 1, &r) == 0);
	CHECK(r.eu == nobody.uid && r.etc_passwd == 1 && r.regain == 0);
	role_name = "no-such-postern-role-xyz";
	CHECK(run_child(&nobody, dir, 0, &r) == 1);
	role_cf = NULL;
	cf.accounts_prefix = prefix;
	config_free(&cf);
	CHECK(rmdir(dir) == 0);
}

int
main(void)
{
	test_lookup();
	if (geteuid() == 0) {
		test_drop();
		test_drop_role();
	} else
		printf("not root: drop tests skipped\n");
	return UNIT_DONE();
}
