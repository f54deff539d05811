/*
 * smtpd_session: the state of one SMTP session (one smtpd process per
 * connection), the reply helpers and the command loop with its dispatch
 * table.  Everything in it comes from the client and is untrusted.
 */
#ifndef POSTERN_SMTPD_SESSION_H
#define POSTERN_SMTPD_SESSION_H
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "config.h"
#include "envelope.h"
#include "lineio.h"
#include "map.h"
#include "smtp_parse.h"
#include "tls.h"
#include "smtpd_queue.h"

/* Which listener accepted the connection (smtpd -l NAME). */
enum smtpd_listener { SMTPD_SMTP, SMTPD_SUBMISSION, SMTPD_SMTPS };

/* Session states, as bits so the dispatch table can list several. */
#define SMTPD_S_CONNECT	0x01	/* no EHLO/HELO yet (also right after STARTTLS) */
#define SMTPD_S_GREETED	0x02	/* EHLO/HELO done, no transaction */
#define SMTPD_S_MAIL	0x04	/* MAIL accepted, no recipient yet */
#define SMTPD_S_RCPT	0x08	/* at least one recipient accepted */
#define SMTPD_S_BDAT	0x10	/* BDAT chunks received, LAST not yet */
#define SMTPD_S_ANY	0x1f

/* Line limits: RFC 5321 4.5.3.1.4 (1000 octets with CRLF) and RFC 4954 4
 * (12288 octets for AUTH command lines and responses). */
#define SMTPD_LINE_MAX		1000
#define SMTPD_AUTH_LINE_MAX	12288

struct smtpd_msg;

struct smtpd {
	const struct config *cf;
	enum smtpd_listener listener;
	const char *listener_name;	/* "smtp", "submission", "smtps" */
	struct lineio io;		/* the client, fd 0 */
	struct buf line;		/* the current command line */
	SSL_CTX *tls_ctx;		/* NULL: no certificate configured */
	struct tls_conn tls;
	int in_tls;
	char tls_info[160];		/* tls_describe() once in TLS */
	struct map mailboxes, aliases;
	int auth_fd;			/* auth.sock, -1: unreachable */
	struct smtpd_queue queue;	/* queue.sock (fd -1: unreachable) */
	char client_addr[64];		/* "192.0.2.1", "2001:db8::1", "unknown" */
	int client_v6;
	int trusted;			/* client in smtpd.trusted_networks */
	int64_t start_ms, deadline_ms;	/* session start and its end */

	int state;			/* SMTPD_S_* */
	int esmtp;			/* EHLO (not HELO) was used */
	char helo[SMTP_DOMAIN_MAX + 1];
	int authenticated;
	char auth_user[256];
	uint64_t errors;
	int closing;			/* QUIT or a fatal condition: end the loop */

	/* the mail transaction */
	struct envelope env;		/* sender, recipients, DSN; id unused */
	size_t env_estimate;		/* upper bound of the serialized size */
	int smtputf8;
	int bdat_used;			/* BDAT seen: DATA is out of sequence */
	struct smtpd_msg *msg;		/* message being received by BDAT */
};

/* Queue a reply "code ecode text\r\n" (ecode NULL: none), counting 5xx
 * replies as errors.  Output is flushed before the next blocking read. */
void smtpd_reply(struct smtpd *s, int code, const char *ecode, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Queue one line of a multi-line reply ("250-..."), no enhanced code. */
void smtpd_reply_raw(struct smtpd *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Send "421 4.x.x HOSTNAME text", flush, and make the loop end. */
void smtpd_close(struct smtpd *s, const char *ecode, const char *text);
/* Flush pending replies.  0/-1 (the session is then closing). */
int smtpd_flush(struct smtpd *s) WUR;
/* Read one CRLF line of at most max octets into s->line, flushing replies
 * first if no input is pending.  On success the CRLF is removed and 1 is
 * returned.  0: the line was refused (too long, bare LF; reply sent).  -1:
 * EOF, timeout or error: the session is closing (reply sent if useful). */
int smtpd_read_line(struct smtpd *s, size_t max);
/* Read one raw line (terminator kept, nothing checked) of at most max
 * octets into s->line, for DATA: LINEIO_OK or LINEIO_TOOLONG (s->line holds
 * the first max octets, the rest is still unread).  -1: the session is
 * closing (EOF, timeout, error). */
int smtpd_read_raw(struct smtpd *s, size_t max);
/* Read up to n octets (BDAT chunks): > 0, or -1 (the session is closing). */
long smtpd_read_bytes(struct smtpd *s, void *p, size_t n);
/* Per-read timeout in ms: smtpd.timeout, capped by the session deadline. */
int smtpd_timeout_ms(const struct smtpd *s);
/* Forget the mail transaction (aborting a message in progress). */
void smtpd_reset_transaction(struct smtpd *s);
/* SMTP_EXT_* offered in this session (0 after HELO). */
unsigned smtpd_extensions(const struct smtpd *s);

/* Set up s (listener, maps, sockets already filled in by main). */
void smtpd_session_init(struct smtpd *s, const struct config *cf);
/* Greeting, command loop, cleanup.  Returns when the session is over. */
void smtpd_session_run(struct smtpd *s);
#endif
