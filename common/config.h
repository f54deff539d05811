/*
 * config: postern.conf, "key = value" lines, '#' comments, last setting wins.
 * Every key lives in one typed table in config.c and in docs/postern.conf.5.
 */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "net.h"

enum plaintext_auth { PLAINTEXT_NO, PLAINTEXT_LOOPBACK, PLAINTEXT_YES };

struct config {
	char *path;			/* the file it was read from */
	char *hostname;			/* default: gethostname() */
	char **domains;			/* our domains, lower case; ndomains of them */
	size_t ndomains;
	char *listen_smtp, *listen_submission, *listen_smtps;	/* "" = off */
	char *listen_pop3, *listen_pop3s, *listen_imap, *listen_imaps;
	char *tls_cert, *tls_key;	/* "" = no TLS */
	uint64_t message_size;		/* limits.message_size, 35M */
	uint64_t recipients;		/* limits.recipients, 1000 */
	time_t retry_min, retry_max, lifetime, warn_after;	/* queue.* */
	uint64_t queue_concurrency;	/* deliveries in flight, 100 */
	uint64_t queue_domain_concurrency;	/* per destination domain, 10 */
	char *queue_postmaster;		/* double bounces; "" = postmaster@first domain */
	uint64_t local_concurrency;	/* 20 */
	char *local_recipient_delimiter;	/* "+", "" = no extensions */
	int local_extension_folders;	/* user+tag -> folder .tag if it exists */
	int local_system_users;		/* deliver to /etc/passwd users too */
	int local_allow_pipe;		/* "|program" in system users' .forward */
	uint64_t remote_concurrency;	/* 50 */
	char *trusted_networks;		/* smtpd.trusted_networks, text */
	struct net_list trusted;	/* ... parsed */
	time_t smtpd_timeout;		/* per command, 5m */
	time_t smtpd_session_timeout;	/* whole session, 30m */
	uint64_t smtpd_max_errors;	/* 10 */
	uint64_t smtpd_max_sessions;	/* total, 1000 */
	uint64_t smtpd_max_sessions_per_ip;	/* 50 */
	char *remote_smarthost, *remote_dns;
	uint64_t remote_port;		/* 25 */
	char *remote_smarthost_auth;	/* "user password" file, "" = no AUTH */
	char *remote_tls;		/* none, may (default), encrypt, verify */
	char *remote_tls_policy;	/* cdb map domain -> level, "" = none */
	char *remote_tls_ca_file;	/* extra CAs for verify, "" = system only */
	char *remote_transport;		/* cdb map domain -> host[:port], "" = none */
	time_t remote_timeout_connect, remote_timeout_greeting;	/* RFC 5321 */
	time_t remote_timeout_command, remote_timeout_data;	/* 4.5.3.2 */
	time_t remote_timeout_block, remote_timeout_dot, remote_timeout_quit;
	char *accounts_prefix;		/* "postern-" */
	enum plaintext_auth pop3_plaintext_auth, imap_plaintext_auth;
	time_t pop3_timeout;		/* idle, 10m (RFC 1939: at least 10 min) */
	time_t pop3_session_timeout;	/* whole session, 2h */
	uint64_t pop3_max_sessions;	/* 1000 */
	uint64_t pop3_max_sessions_per_ip;	/* 20 */
	time_t imap_timeout;		/* idle, 30m (RFC 3501 5.4: at least 30 min) */
	time_t imap_session_timeout;	/* whole session, 1d */
	uint64_t imap_max_sessions;	/* 1000 */
	uint64_t imap_max_sessions_per_ip;	/* 20 */
	uint64_t imap_max_sessions_per_user;	/* 20 */
	time_t auth_fail_delay;		/* 2s */
	uint64_t auth_max_failures;	/* per client address in the window, 10 */
	time_t auth_failure_window;	/* 15m */
	time_t master_grace_period;	/* 10s */
	char *paths_spool;		/* /var/spool/postern */
	char *paths_runtime;		/* /run/postern: service sockets, pidfile */
	char *paths_mail;		/* /var/mail: mail/DOMAIN/USER */
	char *paths_maps;		/* /etc/postern: users, aliases, *.cdb */
	char *paths_libexec;		/* /usr/local/libexec/postern: service programs */
	int log_syslog;			/* log.syslog = no */
};

/* Set every key to its default; the caller frees with config_free(). */
void config_defaults(struct config *c);
/* Read path over the values already in c (config_defaults() first).  Returns
 * 0, or -1 with one "path:line: message\n" per problem appended to errors
 * (all of them, not only the first).  Cross-checks (tls.cert and tls.key both
 * set or both empty, existing regular files we can read; retry_min <=
 * retry_max; no listen address used twice) are reported too, at the line of
 * the offending key.  c->path is set to path. */
int config_load(const char *path, struct config *c, struct buf *errors) WUR;
/* The pure part of config_load: parse len bytes of text (named name in
 * messages) over c, with the cross-checks that need no file system access.
 * Lines end in "\n" or "\r\n"; a line may hold at most 4096 bytes.  0/-1 as
 * config_load. */
int config_parse_text(const char *name, const char *text, size_t len,
    struct config *c, struct buf *errors) WUR;
void config_free(struct config *c);
/* 1 if domain (any case) is one of ours. */
int config_is_local_domain(const struct config *c, const char *domain);
/* Append "key = value\n" for every key (effective values) to out. */
int config_dump(const struct config *c, struct buf *out) WUR;
/* The config file a command uses when not told with -c: $POSTERN_CONF, or
 * the compiled-in default (POSTERN_CONF_DEFAULT).  Static storage. */
const char *config_default_path(void);
/* Account name for a service: prefix + role, e.g. "postern-smtpd". 0/-1. */
int config_account(const struct config *c, const char *role, char *out, size_t outsize) WUR;
#endif
