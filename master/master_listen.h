/* master_listen: the listeners (listen.smtp, .submission, .smtps, .pop3,
 * .pop3s, .imap, .imaps), one smtpd, pop3-login or imap-login process per
 * accepted connection, the login processes' handoff channels, and the
 * session caps. */
#ifndef POSTERN_MASTER_LISTEN_H
#define POSTERN_MASTER_LISTEN_H
#include <poll.h>
#include <sys/types.h>

#include "buf.h"
#include "config.h"

/* Bind every configured listener not yet bound at its address; a changed
 * address is rebound (the old socket is kept if the new bind fails).
 * Returns 0, or -1 if any listener could not be bound (logged). */
int listen_open(const struct config *c);
/* Stop accepting: close every listener. */
void listen_close(void);
/* Most pollfds listen_pollfds may add now. */
int listen_npollfds(void);
/* Add pollfds for the listeners and the login channels; returns how many
 * were added (<= max). */
int listen_pollfds(struct pollfd *p, int max);
/* Accept on a listener fd that polled readable. */
void listen_accept(const struct config *c, const char *confpath, int fd);
/* A login channel fd polled readable: start the mail process it asks for. */
void listen_channel(const struct config *c, const char *confpath, int fd);
/* A child exited; 1 if it was a session. */
int listen_reaped(pid_t pid);
void listen_kill_sessions(int sig);
int listen_sessions(void);
/* Append "sessions smtp=N submission=N smtps=N pop3=N pop3s=N imap=N
 * imaps=N\n". */
int listen_status(struct buf *out) WUR;
#endif
