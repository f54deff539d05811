/*
 * submit: how sendmail and mailq reach submit.sock.  They are setgid
 * PREFIXsubmit; everything they do runs with the invoking user's gid except
 * the one connect(2), after which the group is gone for good.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <unistd.h>

#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "submit.h"

static gid_t real_gid, set_gid;

int
submit_priv_init(void)
{
	real_gid = getgid();
	set_gid = getegid();
	return setresgid((gid_t)-1, real_gid, set_gid);
}

static void
submit_priv_drop(void)
{
	gid_t r, e, s;

	if (setresgid(real_gid, real_gid, real_gid) == -1 ||
	    getresgid(&r, &e, &s) == -1 || r != real_gid || e != real_gid ||
	    s != real_gid)
		log_fatal("cannot drop the submit group");
}

int
submit_connect(const char *runtime)
{
	char path[512];
	int fd, err;

	if (str_format(path, sizeof(path), "%s/submit.sock", runtime) == -1) {
		submit_priv_drop();
		errno = ENAMETOOLONG;
		return -1;
	}
	if (setresgid((gid_t)-1, set_gid, (gid_t)-1) == -1) {
		err = errno;
		submit_priv_drop();
		errno = err;
		return -1;
	}
	fd = ipc_connect(path);
	err = errno;
	submit_priv_drop();
	errno = err;
	return fd;
}
