/*
 * pop3_session: the authenticated POP3 session of the pop3 mail process
 * (RFC 1939 TRANSACTION and UPDATE states, RFC 2449 CAPA and response
 * codes).  Runs as the mailbox owner, chrooted in the Maildir where
 * possible; every byte read from fd 0 comes from the client and is
 * untrusted.  The identity is master's and auth's, never the client's.
 */
#ifndef POSTERN_POP3_SESSION_H
#define POSTERN_POP3_SESSION_H
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "lineio.h"
#include "pop3_box.h"

#define POP3_LINE_MAX	255	/* RFC 2449 4: a command line with its CRLF */
#define POP3_MAX_ERRORS	20	/* bad commands per session, then disconnect */
#define POP3_OUT_FLUSH	65536	/* pending output written out beyond this */

struct pop3 {
	const struct config *cf;
	const char *user;		/* from auth, for the log */
	const char *client;		/* from master, for the log */
	struct lineio io;		/* the client: fd 0 (fd 1 is the same socket) */
	struct buf line;		/* the current command line */
	struct pop3_box box;		/* empty when there is no Maildir yet */
	int lockfd;			/* the Maildir, flock'ed; -1 */
	int64_t deadline_ms;		/* pop3.session_timeout */
	unsigned errors;		/* bad commands so far */
	int plaintext;			/* USER and PLAIN were offered before login:
					   CAPA lists them in both states (RFC 2449 5) */
	int closing;			/* end the session after this command */
	const char *end;		/* why it ended, for the log */
	uint64_t retrieved;		/* RETR answered */
	size_t deleted;			/* removed at QUIT */
};

/* Set up a session for user (client for the log) over fd 0; nothing is
 * read or written yet.  user and client must outlive p. */
void pop3_session_init(struct pop3 *p, const struct config *cf, const char *user,
    const char *client);
/* Lock the Maildir maildir (NULL: none exists yet, serve an empty
 * mailbox) and read its view, answer the authenticating command, process
 * input (inlen octets the login process read past that command) and then
 * the client's commands until QUIT or the end of the session.  Returns the
 * exit status for main: 0 after a session, 1 if it could not start (the
 * client got -ERR). */
int pop3_session_run(struct pop3 *p, const char *maildir, const void *input, size_t inlen);
/* Free the view, unlock, close the client side. */
void pop3_session_free(struct pop3 *p);
#endif
