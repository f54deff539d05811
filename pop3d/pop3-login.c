/*
 * pop3-login: one pre-authentication POP3 session, exec'ed by master for
 * each connection on listen.pop3/listen.pop3s with the client on fd 0 and
 * 1, the log pipe on fd 2 and the handoff channel on fd 3.  As root it
 * loads the config and the TLS key and connects to auth, then drops to
 * PREFIXlogin in the empty chroot before reading a client byte
 * (docs/login.md; common/login_conn.c runs it).
 */
#include "pop3-login_session.h"

int
main(int argc, char **argv)
{
	static struct pop3_login s;

	return login_main(argc, argv, &pop3_login_proto, &s.c);
}
