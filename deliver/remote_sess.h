/*
 * remote_sess: what remote_smtp.c (connections, session setup, routing,
 * reuse) and remote_send.c (the transaction: MAIL, RCPT, DATA or BDAT)
 * share.  Internal to the remote agent.
 */
#ifndef POSTERN_REMOTE_SESS_H
#define POSTERN_REMOTE_SESS_H
#include "lineio.h"
#include "remote_smtp.h"
#include "tls.h"

/* One SMTP connection; kept in a struct remote_conn between jobs. */
struct remote_sess {
	int fd, tls_on, verified;
	struct lineio l;
	struct tls_conn t;
	struct remote_caps caps;
	char host[DNS_NAME_MAX + 1];
	char addr[64];
	int port;
	int t_quit;			/* ms, for remote_conn_close */
	char tlsdesc[200];		/* "TLSv1.3 with cipher ..." or "" */
};

/* One job's delivery attempt. */
struct sess {
	const struct remote_ctx *x;
	const struct agent_job *j;
	const struct remote_mail *m;
	struct remote_result *res;
	int done[AGENT_JOB_RCPTS];	/* res[i] is final for this attempt */
	int accepted[AGENT_JOB_RCPTS];	/* RCPT got a 2xx */
	struct remote_sess *c;		/* the connection in use */
	struct remote_reply r;
	struct buf line, cmd;
	enum remote_connerr ce;		/* after a -1 from the I/O helpers */
	const char *stage;
	enum remote_tls_level tls;	/* policy for this destination */
	int smarthost;			/* routed to remote.smarthost: AUTH */
	int broken;			/* I/O failed: no QUIT, no reuse */
	int closing;			/* a 421 was received */
	int keep;			/* the transaction ended cleanly */
	unsigned toobig, other;		/* addresses skipped for SIZE; others */
	char *relay;
	size_t relaysize;
};

#define REMOTE_CHUNK	65536

/* remote_smtp.c */
void remote_copy(char *dst, size_t size, const char *src);
void remote_set(struct remote_result *res, enum remote_verb verb, const char *enh,
    const char *host, const char *addr, const char *why);
void remote_set_rest(struct sess *s, enum remote_verb verb, const char *enh,
    const char *why);
void remote_set_rest_reply(struct sess *s, const char *stage, int only_accepted);
/* Read one whole reply into s->r.  0, or -1 (s->ce, s->broken). */
int remote_read_reply(struct sess *s, int timeout_ms) WUR;
/* Send and flush.  0, or -1 (s->ce, s->broken). */
int remote_send(struct sess *s, const void *data, size_t n, int timeout_ms) WUR;
/* Send s->cmd (and empty it).  0, -1. */
int remote_send_cmd(struct sess *s, int timeout_ms) WUR;
/* Send a literal command and read its reply.  0 (any reply), -1. */
int remote_command(struct sess *s, const char *cmd, int timeout_ms) WUR;

/* remote_send.c: MAIL .. end of data on s->c; results set for every
 * recipient, s->keep when the session is clean for the next job. */
void remote_transaction(struct sess *s);
/* The message facts for MAIL (size, 8-bit content). */
void remote_mail_params(const struct agent_job *j, struct remote_mail *m);
#endif
