/*
 * master_status: formats status lines for master.sock answers.  Reads the
 * effective uid of each child from /proc/PID/status so `postern status`
 * shows what a process actually runs as.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "master_status.h"

/* Effective uid of pid, or -1. */
static long
proc_euid(pid_t pid)
{
	char path[64], line[256];
	long r = -1, ruid, euid;
	FILE *f;

	if (str_format(path, sizeof(path), "/proc/%ld/status", (long)pid) == -1)
		return -1;
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Uid: %ld %ld", &ruid, &euid) == 2) {
			r = euid;
			break;
		}
	fclose(f);
	return r;
}

int
status_line(struct buf *out, const char *name, pid_t pid, const char *state,
    int restarts, const char *user, int must_drop)
{
	struct passwd *pw;
	char uname[64];
	long uid = -1;

	if (str_copy(uname, sizeof(uname), user) == -1)
		return -1;
	if (pid > 0 && (uid = proc_euid(pid)) != -1) {
		if ((pw = getpwuid((uid_t)uid)) != NULL) {
			if (str_copy(uname, sizeof(uname), pw->pw_name) == -1)
				return -1;
		} else if (str_format(uname, sizeof(uname), "%ld", uid) == -1)
			return -1;
		if (uid == 0 && must_drop)
			state = "starting";
	} else if ((pw = getpwnam(user)) != NULL)
		uid = (long)pw->pw_uid;
	return buf_printf(out, "%-7s pid=%ld user=%s uid=%ld state=%s restarts=%d\n",
	    name, (long)(pid > 0 ? pid : 0), uname, uid, state, restarts);
}
