/*
 * remote_smtp: one delivery attempt of a job, run in a worker process of
 * the remote agent with blocking I/O and RFC 5321 4.5.3.2 timeouts
 * (remote.timeout_*): routing (remote.transport, remote.smarthost or MX
 * via dns_resolve), connect to each address in order, greeting, EHLO
 * (HELO fallback), STARTTLS by policy (remote.tls, remote.tls_policy),
 * AUTH to the smarthost, MAIL/RCPT (pipelined when offered), DATA or
 * BDAT; the session then stays open for the next job of the same domain.
 */
#ifndef POSTERN_REMOTE_SMTP_H
#define POSTERN_REMOTE_SMTP_H
#include <openssl/ssl.h>

#include "config.h"
#include "dns.h"
#include "agent_job.h"
#include "map.h"
#include "remote_proto.h"

#define REMOTE_T_TLS		(2 * 60 * 1000)	/* STARTTLS handshake, ms */
#define REMOTE_RELAY_MAX	300

struct remote_ctx {
	const struct config *c;
	struct dns *dns;
	SSL_CTX *tls;		/* NULL: no STARTTLS */
	/* filled by remote_ctx_init (remote_policy.c): */
	enum remote_tls_level tls_level;	/* remote.tls */
	struct map *tls_policy;	/* remote.tls_policy; NULL: not set */
	struct map *transport;	/* remote.transport; NULL: not set */
	char *auth_user, *auth_pass;	/* remote.smarthost_auth; NULL: not set */
	int t_connect, t_greeting, t_command, t_data, t_block, t_dot, t_quit;
				/* remote.timeout_* in milliseconds */
};

/* A session kept open after a job for the next job of the same
 * destination domain (connection reuse; the worker loop in remote_worker.c
 * holds one per process). */
struct remote_sess;
struct remote_conn {
	struct remote_sess *sess;		/* NULL: none open */
	char domain[SMTP_DOMAIN_MAX + 1];	/* the job domain it was opened for */
	unsigned jobs;				/* transactions over it so far */
};

/* Deliver j: res[i] for each recipient, relay = "host[addr]:port" of the
 * last host talked to ("none" if none).  If conn holds a session for
 * j->domain it is used (after an RSET that must succeed, else a new
 * connection is made); a session left clean after the transaction stays
 * in conn for the next job, otherwise it is closed. */
void remote_smtp_deliver(const struct remote_ctx *x, struct remote_conn *conn,
    const struct agent_job *j, struct remote_result *res, char *relay,
    size_t relaysize);
/* QUIT and close the session in conn, if any (bounded by the QUIT
 * timeout).  Safe to call when none is open. */
void remote_conn_close(struct remote_conn *conn);

/* An SSL_CTX for STARTTLS (system CA store loaded, so the outcome can be
 * logged as verified or not, and required under the verify policy; the
 * handshake itself never fails on verification).  NULL and *err. */
SSL_CTX *remote_tls_ctx(const char **err);

/* ---- remote_policy.c ---- */

/*
 * Fill x from c; call as root BEFORE chroot (the files are not reachable
 * afterwards, and the maps are not reloaded: a change needs a restart):
 * the TLS context (plus remote.tls_ca_file), remote.tls, the maps
 * remote.tls_policy and remote.transport (which must exist when set), the
 * smarthost credentials (remote.smarthost_auth: a regular file owned by
 * root -- by the running user in dev mode -- with mode 0600 or 0400), the
 * timeouts.  0, or -1 with a message in err.  A TLS context that cannot
 * be made is only logged (x->tls NULL: no STARTTLS).
 */
int remote_ctx_init(struct remote_ctx *x, const struct config *c, struct dns *dns,
    char *err, size_t errsize);
void remote_ctx_free(struct remote_ctx *x);
/* The TLS level for domain: its remote.tls_policy entry, else remote.tls.
 * 0, or -1 with *err "X.Y.Z text" (lookup failed, bad entry). */
int remote_policy_tls(const struct remote_ctx *x, const char *domain,
    enum remote_tls_level *lv, const char **err);
/* The remote.transport entry for domain: 1 (host, *port set), 0 (none),
 * -1 (*err "X.Y.Z text"). */
int remote_policy_transport(const struct remote_ctx *x, const char *domain,
    char *host, size_t hostsize, int *port, const char **err);
#endif
