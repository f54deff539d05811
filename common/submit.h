/*
 * submit: the client end of submit.sock for the setgid PREFIXsubmit
 * commands (sendmail, mailq).  The group privilege is held only for the
 * connect(2) and dropped for good right after it.
 */
#ifndef POSTERN_SUBMIT_H
#define POSTERN_SUBMIT_H

/* Call first in main: the effective gid becomes the real one; the
 * setgid group is kept only as the saved gid.  0/-1. */
int submit_priv_init(void) __attribute__((warn_unused_result));
/* Connect to runtime/submit.sock with the saved group, then drop it
 * (real = effective = saved = the real gid, verified).  fd, or -1 with
 * errno set (the group is dropped in either case). */
int submit_connect(const char *runtime) __attribute__((warn_unused_result));
#endif
