/*
 * config: postern.conf, read by every process at start (and by master on
 * reload).  One typed table holds every key; the parser is pure (text in,
 * struct out) and reports every problem as "file:line: message".  The file
 * is trusted no further than its syntax: every value is checked.
 */
#include <errno.h>
#include <stddef.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "smtp_parse.h"
#include "util.h"
#include "xmalloc.h"

#define LINE_MAX_LEN	4096		/* bytes of one line, without "\r\n" */
#define FILE_MAX_LEN	(1024 * 1024)	/* a config file larger than this is a mistake */
#define PREFIX_MAX	20		/* prefix + "authc" stays within 32-char user names */

enum ctype {
	T_STRING, T_HOSTNAME, T_HOSTPORT, T_RELAY, T_DURATION, T_SIZE, T_UINT,
	T_BOOL, T_DOMAINS, T_NETLIST, T_ENUM, T_PATH, T_PREFIX, T_MAILBOX, T_DELIM,
	T_TLSLEVEL
};
#define F_EMPTY	0x01		/* "" is allowed (means off) */

struct key {
	const char *name;
	enum ctype type;
	const char *def;	/* default as config text; NULL: computed */
	size_t off;		/* field in struct config */
	uint64_t min, max;	/* seconds, bytes or number */
	unsigned flags;
};

#define O(f)	offsetof(struct config, f)
#define D(n)	((uint64_t)(n) * 86400)
#define NOMAX	UINT64_MAX

static const struct key keys[] = {
	{ "hostname", T_HOSTNAME, NULL, O(hostname), 0, 0, 0 },
	{ "domains", T_DOMAINS, "", O(domains), 0, 0, 0 },
	{ "listen.smtp", T_HOSTPORT, "", O(listen_smtp), 0, 0, F_EMPTY },
	{ "listen.submission", T_HOSTPORT, "", O(listen_submission), 0, 0, F_EMPTY },
	{ "listen.smtps", T_HOSTPORT, "", O(listen_smtps), 0, 0, F_EMPTY },
	{ "listen.pop3", T_HOSTPORT, "", O(listen_pop3), 0, 0, F_EMPTY },
	{ "listen.pop3s", T_HOSTPORT, "", O(listen_pop3s), 0, 0, F_EMPTY },
	{ "listen.imap", T_HOSTPORT, "", O(listen_imap), 0, 0, F_EMPTY },
	{ "listen.imaps", T_HOSTPORT, "", O(listen_imaps), 0, 0, F_EMPTY },
	{ "tls.cert", T_PATH, "", O(tls_cert), 0, 0, F_EMPTY },
	{ "tls.key", T_PATH, "", O(tls_key), 0, 0, F_EMPTY },
	{ "limits.message_size", T_SIZE, "35M", O(message_size), 1024,
	    (uint64_t)2 << 30, 0 },
	{ "limits.recipients", T_UINT, "1000", O(recipients), 1, 100000, 0 },
	{ "queue.retry_min", T_DURATION, "5m", O(retry_min), 1, D(365), 0 },
	{ "queue.retry_max", T_DURATION, "4h", O(retry_max), 1, D(365), 0 },
	{ "queue.lifetime", T_DURATION, "5d", O(lifetime), 1, D(365), 0 },
	{ "queue.warn_after", T_DURATION, "0", O(warn_after), 0, D(365), 0 },
	{ "queue.concurrency", T_UINT, "100", O(queue_concurrency), 1, 10000, 0 },
	{ "queue.domain_concurrency", T_UINT, "10", O(queue_domain_concurrency),
	    1, 10000, 0 },
	{ "queue.postmaster", T_MAILBOX, "", O(queue_postmaster), 0, 0, F_EMPTY },
	{ "local.concurrency", T_UINT, "20", O(local_concurrency), 1, 1000, 0 },
	{ "local.recipient_delimiter", T_DELIM, "+", O(local_recipient_delimiter),
	    0, 0, F_EMPTY },
	{ "local.extension_folders", T_BOOL, "yes", O(local_extension_folders), 0, 0, 0 },
	{ "local.system_users", T_BOOL, "no", O(local_system_users), 0, 0, 0 },
	{ "local.allow_pipe", T_BOOL, "no", O(local_allow_pipe), 0, 0, 0 },
	{ "remote.concurrency", T_UINT, "50", O(remote_concurrency), 1, 10000, 0 },
	{ "smtpd.trusted_networks", T_NETLIST, "", O(trusted_networks), 0, 0, 0 },
	{ "smtpd.timeout", T_DURATION, "5m", O(smtpd_timeout), 1, D(1), 0 },
	{ "smtpd.session_timeout", T_DURATION, "30m", O(smtpd_session_timeout),
	    1, D(7), 0 },
	{ "smtpd.max_errors", T_UINT, "10", O(smtpd_max_errors), 1, 1000, 0 },
	{ "smtpd.max_sessions", T_UINT, "1000", O(smtpd_max_sessions), 1, 4000, 0 },
	{ "smtpd.max_sessions_per_ip", T_UINT, "50", O(smtpd_max_sessions_per_ip),
	    1, 4000, 0 },
	{ "remote.smarthost", T_RELAY, "", O(remote_smarthost), 0, 0, F_EMPTY },
	{ "remote.dns", T_HOSTPORT, "", O(remote_dns), 0, 0, F_EMPTY },
	{ "remote.port", T_UINT, "25", O(remote_port), 1, 65535, 0 },
	{ "remote.smarthost_auth", T_PATH, "", O(remote_smarthost_auth), 0, 0, F_EMPTY },
	{ "remote.tls", T_TLSLEVEL, "may", O(remote_tls), 0, 0, 0 },
	{ "remote.tls_policy", T_PATH, "", O(remote_tls_policy), 0, 0, F_EMPTY },
	{ "remote.tls_ca_file", T_PATH, "", O(remote_tls_ca_file), 0, 0, F_EMPTY },
	{ "remote.transport", T_PATH, "", O(remote_transport), 0, 0, F_EMPTY },
	{ "remote.timeout_connect", T_DURATION, "30s", O(remote_timeout_connect),
	    1, D(1), 0 },
	{ "remote.timeout_greeting", T_DURATION, "5m", O(remote_timeout_greeting),
	    1, D(1), 0 },
	{ "remote.timeout_command", T_DURATION, "5m", O(remote_timeout_command),
	    1, D(1), 0 },
	{ "remote.timeout_data", T_DURATION, "2m", O(remote_timeout_data), 1, D(1), 0 },
	{ "remote.timeout_block", T_DURATION, "3m", O(remote_timeout_block), 1, D(1), 0 },
	{ "remote.timeout_dot", T_DURATION, "10m", O(remote_timeout_dot), 1, D(1), 0 },
	{ "remote.timeout_quit", T_DURATION, "30s", O(remote_timeout_quit), 1, D(1), 0 },
	{ "accounts.prefix", T_PREFIX, "postern-", O(accounts_prefix), 0, 0, 0 },
	{ "pop3.plaintext_auth", T_ENUM, "loopback", O(pop3_plaintext_auth), 0, 0, 0 },
	{ "pop3.timeout", T_DURATION, "10m", O(pop3_timeout), 1, D(1), 0 },
	{ "pop3.session_timeout", T_DURATION, "2h", O(pop3_session_timeout), 1, D(7), 0 },
	{ "pop3.max_sessions", T_UINT, "1000", O(pop3_max_sessions), 1, 4000, 0 },
	{ "pop3.max_sessions_per_ip", T_UINT, "20", O(pop3_max_sessions_per_ip),
	    1, 4000, 0 },
	{ "imap.plaintext_auth", T_ENUM, "loopback", O(imap_plaintext_auth), 0, 0, 0 },
	{ "imap.timeout", T_DURATION, "30m", O(imap_timeout), 1, D(1), 0 },
	{ "imap.session_timeout", T_DURATION, "1d", O(imap_session_timeout), 1, D(7), 0 },
	{ "imap.max_sessions", T_UINT, "1000", O(imap_max_sessions), 1, 4000, 0 },
	{ "imap.max_sessions_per_ip", T_UINT, "20", O(imap_max_sessions_per_ip),
	    1, 4000, 0 },
	{ "imap.max_sessions_per_user", T_UINT, "20", O(imap_max_sessions_per_user),
	    1, 4000, 0 },
	{ "auth.fail_delay", T_DURATION, "2s", O(auth_fail_delay), 0, 30, 0 },
	{ "auth.max_failures", T_UINT, "10", O(auth_max_failures), 1, 1000000, 0 },
	{ "auth.failure_window", T_DURATION, "15m", O(auth_failure_window), 1, D(1), 0 },
	{ "master.grace_period", T_DURATION, "10s", O(master_grace_period), 0, 3600, 0 },
	{ "paths.spool", T_PATH, "/var/spool/postern", O(paths_spool), 0, 0, 0 },
	{ "paths.runtime", T_PATH, "/run/postern", O(paths_runtime), 0, 0, 0 },
	{ "paths.mail", T_PATH, "/var/mail", O(paths_mail), 0, 0, 0 },
	{ "paths.maps", T_PATH, "/etc/postern", O(paths_maps), 0, 0, 0 },
	{ "paths.libexec", T_PATH, "/usr/local/libexec/postern", O(paths_libexec),
	    0, 0, 0 },
	{ "log.syslog", T_BOOL, "no", O(log_syslog), 0, 0, 0 },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const enum_names[] = { "no", "loopback", "yes" };

/* Parser state: where we are and where each key was last set (0 = default). */
struct pstate {
	const char *name;
	struct config *c;
	struct buf *errors;
	size_t nerr;
	size_t lines[NKEYS];
};

#define FIELD(c, k, T) ((T *)(void *)((char *)(c) + (k)->off))

static const struct key *
key_find(const char *name, size_t *idx)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0) {
			*idx = i;
			return &keys[i];
		}
	return NULL;
}

static size_t
key_index(const char *name)
{
	size_t i;

	if (key_find(name, &i) == NULL)
		log_panic("config: no key %s", name);
	return i;
}

/* Append one "name:line: message\n" (line 0: "name: message\n"). */
static void __attribute__((format(printf, 3, 4)))
cfg_error(struct pstate *st, size_t line, const char *fmt, ...)
{
	va_list ap;
	int r;

	st->nerr++;
	if (line > 0)
		r = buf_printf(st->errors, "%s:%zu: ", st->name, line);
	else
		r = buf_printf(st->errors, "%s: ", st->name);
	va_start(ap, fmt);
	if (r == 0)
		r = buf_vprintf(st->errors, fmt, ap);
	va_end(ap);
	if (r == 0 && buf_putc(st->errors, '\n') == -1) {
		/* the error list is full; nerr still counts */
	}
}

/* Printable copy of untrusted text for an error message, cut at 80 bytes. */
static const char *
clean(const char *s, size_t len, char *out, size_t outsize)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 4 < outsize && i < 80; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[o++] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
	}
	if (i < len && o + 4 <= outsize) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

static void
fmt_duration(uint64_t v, char *out, size_t outsize)
{
	static const struct { uint64_t n; char c; } u[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	size_t i = 0;

	while (v != 0 && v % u[i].n != 0)
		i++;
	if (str_format(out, outsize, "%llu%c", (unsigned long long)(v / u[i].n),
	    v == 0 ? 's' : u[i].c) == -1)
		log_panic("config: fmt_duration");
}

static void
fmt_size(uint64_t v, char *out, size_t outsize)
{
	static const struct { uint64_t n; const char *c; } u[] = {
		{ 1 << 30, "G" }, { 1 << 20, "M" }, { 1 << 10, "K" }, { 1, "" } };
	size_t i = 0;

	while (v != 0 && v % u[i].n != 0)
		i++;
	if (str_format(out, outsize, "%llu%s", (unsigned long long)(v / u[i].n),
	    v == 0 ? "" : u[i].c) == -1)
		log_panic("config: fmt_size");
}

/* Check a parsed number against the key's range; why is set on failure. */
static int
check_range(const struct key *k, uint64_t v, char *why, size_t whysize)
{
	char a[32], b[32];

	if (v >= k->min && v <= k->max)
		return 0;
	if (k->type == T_DURATION) {
		fmt_duration(k->min, a, sizeof(a));
		fmt_duration(k->max, b, sizeof(b));
	} else if (k->type == T_SIZE) {
		fmt_size(k->min, a, sizeof(a));
		fmt_size(k->max, b, sizeof(b));
	} else {
		if (str_format(a, sizeof(a), "%llu", (unsigned long long)k->min) == -1 ||
		    str_format(b, sizeof(b), "%llu", (unsigned long long)k->max) == -1)
			log_panic("config: check_range");
	}
	if (str_format(why, whysize, "must be between %s and %s", a, b) == -1)
		log_panic("config: check_range");
	return -1;
}

/* "a, b,c": lower-cased, validated, duplicates dropped. */
static int
set_domains(struct config *c, const char *v, const char **why)
{
	static const char sep[] = ", \t";
	char **d = NULL;
	size_t n = 0;

	for (v += strspn(v, sep); *v != '\0'; v += strspn(v, sep)) {
		size_t len = strcspn(v, sep), i;
		char *name;

		if (!net_valid_domain(v, len)) {
			*why = "not a valid domain name";
			goto bad;
		}
		name = xstrndup(v, len);
		for (i = 0; i < len; i++)
			if (name[i] >= 'A' && name[i] <= 'Z')
				name[i] = (char)(name[i] - 'A' + 'a');
		for (i = 0; i < n && strcmp(d[i], name) != 0; i++)
			continue;
		if (i < n)
			free(name);
		else {
			d = xreallocarray(d, n + 1, sizeof(*d));
			d[n++] = name;
		}
		v += len;
	}
	for (size_t i = 0; i < c->ndomains; i++)
		free(c->domains[i]);
	free(c->domains);
	c->domains = d;
	c->ndomains = n;
	return 0;
bad:
	for (size_t i = 0; i < n; i++)
		free(d[i]);
	free(d);
	return -1;
}

/* Validate a string value of key k; NULL if fine, else the reason. */
static const char *
check_string(const struct key *k, const char *v)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	const char *err = NULL;
	struct smtp_addr mb;
	char host[256];
	int port;

	if (*v == '\0')
		return k->flags & F_EMPTY ? NULL : "must not be empty";
	switch (k->type) {
	case T_HOSTNAME:
		return net_valid_domain(v, strlen(v)) ? NULL : "not a valid host name";
	case T_HOSTPORT:
		return net_parse_hostport(v, &ss, &sl, &err) == 0 ? NULL : err;
	case T_RELAY:
		return net_parse_relay(v, host, sizeof(host), &port, &err) == 0 ?
		    NULL : err;
	case T_PATH:
		return v[0] == '/' ? NULL : "not an absolute path";
	case T_MAILBOX:
		return smtp_mailbox_parse(v, strlen(v), 0, &mb) == SMTP_P_OK &&
		    (mb.flags & SMTP_ADDR_RELAYTRICK) == 0 ? NULL :
		    "not a mailbox like postmaster@example.org";
	case T_TLSLEVEL:
		return strcmp(v, "none") == 0 || strcmp(v, "may") == 0 ||
		    strcmp(v, "encrypt") == 0 || strcmp(v, "verify") == 0 ? NULL :
		    "none, may, encrypt or verify";
	case T_DELIM:
		return strlen(v) == 1 && strchr("+-_=", v[0]) != NULL ? NULL :
		    "one of + - _ =";
	case T_PREFIX:
		if (strlen(v) > PREFIX_MAX)
			return "longer than 20 characters";
		if (strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-_") != strlen(v))
			return "only letters, digits, '-' and '_' allowed";
		if (v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))
			return "must start with a letter or '_'";
		return NULL;
	default:
		return NULL;
	}
}

/* Set key k from text v.  0, or -1 with a reason in why. */
static int
key_set(struct config *c, const struct key *k, const char *v,
    char *why, size_t whysize)
{
	const char *err = NULL;
	uint64_t u;
	time_t t;
	struct net_list nl;
	int i;

	for (const char *p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			err = "control character";
	if (err != NULL)
		goto bad;
	switch (k->type) {
	case T_DURATION:
		if (parse_duration(v, &t) == -1) {
			err = "not a duration like 30s, 5m, 4h, 5d";
			goto bad;
		}
		if (check_range(k, (uint64_t)t, why, whysize) == -1)
			return -1;
		*FIELD(c, k, time_t) = t;
		return 0;
	case T_SIZE:
	case T_UINT:
		if (k->type == T_SIZE ? parse_size(v, &u) == -1 :
		    parse_uint(v, 0, UINT64_MAX, &u) == -1) {
			err = k->type == T_SIZE ? "not a size like 512K, 35M" :
			    "not a decimal number";
			goto bad;
		}
		if (check_range(k, u, why, whysize) == -1)
			return -1;
		*FIELD(c, k, uint64_t) = u;
		return 0;
	case T_BOOL:
		if ((i = parse_bool(v)) == -1) {
			err = "yes or no";
			goto bad;
		}
		*FIELD(c, k, int) = i;
		return 0;
	case T_ENUM:
		for (i = 0; i < 3 && strcmp(v, enum_names[i]) != 0; i++)
			continue;
		if (i == 3) {
			err = "no, loopback or yes";
			goto bad;
		}
		*FIELD(c, k, enum plaintext_auth) = (enum plaintext_auth)i;
		return 0;
	case T_DOMAINS:
		if (set_domains(c, v, &err) == -1)
			goto bad;
		return 0;
	case T_NETLIST:
		if (net_list_parse(v, &nl, &err) == -1)
			goto bad;
		net_list_free(&c->trusted);
		c->trusted = nl;
		break;
	default:
		if ((err = check_string(k, v)) != NULL)
			goto bad;
		break;
	}
	free(*FIELD(c, k, char *));
	*FIELD(c, k, char *) = xstrdup(v);
	return 0;
bad:
	if (str_copy(why, whysize, err) == -1)
		log_panic("config: reason too long");
	return -1;
}

static int
is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* One line (no newline, no CR) of len bytes. */
static void
parse_line(struct pstate *st, size_t lineno, const char *line, size_t len)
{
	char text[LINE_MAX_LEN + 1], why[128], show[128], *eq, *key, *val, *end;
	const struct key *k;
	size_t idx;

	if (len > LINE_MAX_LEN) {
		cfg_error(st, lineno, "line too long (more than %d bytes)", LINE_MAX_LEN);
		return;
	}
	if (memchr(line, '\0', len) != NULL) {
		cfg_error(st, lineno, "NUL byte in line");
		return;
	}
	memcpy(text, line, len);
	text[len] = '\0';
	for (key = text; is_space(*key); key++)
		continue;
	if (*key == '\0' || *key == '#')
		return;
	if ((eq = strchr(key, '=')) == NULL) {
		cfg_error(st, lineno, "missing '=' in '%s'",
		    clean(key, strlen(key), show, sizeof(show)));
		return;
	}
	for (end = eq; end > key && is_space(end[-1]); end--)
		continue;
	*end = '\0';
	for (val = eq + 1; is_space(*val); val++)
		continue;
	for (end = val + strlen(val); end > val && is_space(end[-1]); end--)
		continue;
	*end = '\0';
	if (*key == '\0') {
		cfg_error(st, lineno, "missing key before '='");
		return;
	}
	if ((k = key_find(key, &idx)) == NULL) {
		cfg_error(st, lineno, "unknown key '%s'",
		    clean(key, strlen(key), show, sizeof(show)));
		return;
	}
	if (key_set(st->c, k, val, why, sizeof(why)) == -1) {
		cfg_error(st, lineno, "%s: bad value '%s' (%s)", k->name,
		    clean(val, strlen(val), show, sizeof(show)), why);
		return;
	}
	st->lines[idx] = lineno;
}

static const char *const listen_keys[] = { "listen.smtp", "listen.submission",
	"listen.smtps", "listen.pop3", "listen.pop3s", "listen.imap", "listen.imaps" };
#define NLISTEN (sizeof(listen_keys) / sizeof(listen_keys[0]))

/* 1 if binding both addresses would collide (same port, same or wildcard address). */
static int
listen_clash(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	static const unsigned char any[16];
	const unsigned char *x, *y;
	size_t n;

	if (a->ss_family != b->ss_family ||
	    net_port((const struct sockaddr *)a) != net_port((const struct sockaddr *)b))
		return 0;
	if (a->ss_family == AF_INET) {
		x = (const unsigned char *)&((const struct sockaddr_in *)a)->sin_addr;
		y = (const unsigned char *)&((const struct sockaddr_in *)b)->sin_addr;
		n = 4;
	} else {
		x = (const unsigned char *)&((const struct sockaddr_in6 *)a)->sin6_addr;
		y = (const unsigned char *)&((const struct sockaddr_in6 *)b)->sin6_addr;
		n = 16;
	}
	return memcmp(x, y, n) == 0 || memcmp(x, any, n) == 0 || memcmp(y, any, n) == 0;
}

static void
check_listen(struct pstate *st)
{
	struct sockaddr_storage ss[NLISTEN];
	size_t idx[NLISTEN];
	socklen_t sl;
	const char *err;

	for (size_t i = 0; i < NLISTEN; i++) {
		idx[i] = key_index(listen_keys[i]);
		if (net_parse_hostport(*FIELD(st->c, &keys[idx[i]], char *), &ss[i],
		    &sl, &err) == -1)
			log_panic("config: stored listen address is invalid");
		for (size_t j = 0; j < i; j++) {
			size_t a = idx[j], b = idx[i];

			if (ss[i].ss_family == AF_UNSPEC || ss[j].ss_family == AF_UNSPEC ||
			    !listen_clash(&ss[i], &ss[j]))
				continue;
			if (st->lines[a] > st->lines[b]) {
				size_t t = a;
				a = b;
				b = t;
			}
			cfg_error(st, st->lines[b], "%s: address '%s' already used by %s",
			    keys[b].name, *FIELD(st->c, &keys[b], char *), keys[a].name);
		}
	}
}

/* Checks between keys that need no I/O. */
static void
check_cross(struct pstate *st)
{
	struct config *c = st->c;
	size_t cert = key_index("tls.cert"), key = key_index("tls.key");
	size_t rmin = key_index("queue.retry_min"), rmax = key_index("queue.retry_max");

	if ((c->tls_cert[0] == '\0') != (c->tls_key[0] == '\0')) {
		int has_cert = c->tls_cert[0] != '\0';

		cfg_error(st, st->lines[has_cert ? cert : key], "%s is set but %s is not",
		    has_cert ? "tls.cert" : "tls.key", has_cert ? "tls.key" : "tls.cert");
	}
	if (c->retry_min > c->retry_max) {
		char a[32], b[32];

		fmt_duration((uint64_t)c->retry_min, a, sizeof(a));
		fmt_duration((uint64_t)c->retry_max, b, sizeof(b));
		cfg_error(st, st->lines[rmin] > st->lines[rmax] ? st->lines[rmin] :
		    st->lines[rmax], "queue.retry_min (%s) is greater than "
		    "queue.retry_max (%s)", a, b);
	}
	check_listen(st);
}

static void
parse_text(struct pstate *st, const char *text, size_t len)
{
	size_t lineno = 0;

	while (len > 0) {
		const char *nl = memchr(text, '\n', len);
		size_t n = nl != NULL ? (size_t)(nl - text) : len;
		size_t eat = nl != NULL ? n + 1 : n;

		lineno++;
		if (n > 0 && text[n - 1] == '\r')
			n--;
		parse_line(st, lineno, text, n);
		text += eat;
		len -= eat;
	}
	check_cross(st);
}

int
config_parse_text(const char *name, const char *text, size_t len,
    struct config *c, struct buf *errors)
{
	struct pstate st;

	memset(&st, 0, sizeof(st));
	st.name = name;
	st.c = c;
	st.errors = errors;
	parse_text(&st, text, len);
	return st.nerr == 0 ? 0 : -1;
}

/* The TLS files must exist, be regular files, and be readable by us. */
static void
check_files(struct pstate *st)
{
	static const char *const names[] = { "tls.cert", "tls.key" };
	struct stat sb;

	for (size_t i = 0; i < 2; i++) {
		size_t idx = key_index(names[i]);
		const char *p = *FIELD(st->c, &keys[idx], char *);

		if (p[0] == '\0')
			continue;
		if (stat(p, &sb) == -1)
			cfg_error(st, st->lines[idx], "%s: cannot use '%s': %s",
			    names[i], p, strerror(errno));
		else if (!S_ISREG(sb.st_mode))
			cfg_error(st, st->lines[idx], "%s: '%s' is not a regular file",
			    names[i], p);
		else if (geteuid() != 0 && access(p, R_OK) == -1)
			cfg_error(st, st->lines[idx], "%s: cannot read '%s': %s",
			    names[i], p, strerror(errno));
	}
}

void
config_defaults(struct config *c)
{
	char why[128], host[256];

	memset(c, 0, sizeof(*c));
	c->path = xstrdup("");
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].def != NULL &&
		    key_set(c, &keys[i], keys[i].def, why, sizeof(why)) == -1)
			log_panic("config: default of %s: %s", keys[i].name, why);
	if (gethostname(host, sizeof(host)) == -1 ||
	    !net_valid_domain(host, strnlen(host, sizeof(host) - 1)))
		c->hostname = xstrdup("localhost");
	else {
		host[sizeof(host) - 1] = '\0';
		c->hostname = xstrdup(host);
	}
}

int
config_load(const char *path, struct config *c, struct buf *errors)
{
	struct buf text = BUF_INIT(FILE_MAX_LEN);
	struct pstate st;

	memset(&st, 0, sizeof(st));
	st.name = path;
	st.c = c;
	st.errors = errors;
	free(c->path);
	c->path = xstrdup(path);
	if (read_file(path, &text, FILE_MAX_LEN) == -1) {
		if (errno == EFBIG)
			cfg_error(&st, 0, "too large (more than %d bytes)", FILE_MAX_LEN);
		else
			cfg_error(&st, 0, "cannot open: %s", strerror(errno));
		buf_free(&text);
		return -1;
	}
	parse_text(&st, text.data != NULL ? text.data : "", text.len);
	buf_free(&text);
	check_files(&st);
	return st.nerr == 0 ? 0 : -1;
}

void
config_free(struct config *c)
{
	for (size_t i = 0; i < NKEYS; i++) {
		switch (keys[i].type) {
		case T_DURATION: case T_SIZE: case T_UINT: case T_BOOL:
		case T_ENUM: case T_DOMAINS:
			break;
		default:
			free(*FIELD(c, &keys[i], char *));
			*FIELD(c, &keys[i], char *) = NULL;
		}
	}
	for (size_t i = 0; i < c->ndomains; i++)
		free(c->domains[i]);
	free(c->domains);
	c->domains = NULL;
	c->ndomains = 0;
	net_list_free(&c->trusted);
	free(c->path);
	c->path = NULL;
}

int
config_is_local_domain(const struct config *c, const char *domain)
{
	for (size_t i = 0; i < c->ndomains; i++)
		if (strcasecmp(c->domains[i], domain) == 0)
			return 1;
	return 0;
}

/* Append the effective value of key k. */
static int
dump_value(const struct config *c, const struct key *k, struct buf *out)
{
	char tmp[32];

	switch (k->type) {
	case T_DURATION:
		fmt_duration((uint64_t)*FIELD(c, k, time_t), tmp, sizeof(tmp));
		return buf_puts(out, tmp);
	case T_SIZE:
		fmt_size(*FIELD(c, k, uint64_t), tmp, sizeof(tmp));
		return buf_puts(out, tmp);
	case T_UINT:
		return buf_printf(out, "%llu",
		    (unsigned long long)*FIELD(c, k, uint64_t));
	case T_BOOL:
		return buf_puts(out, *FIELD(c, k, int) ? "yes" : "no");
	case T_ENUM:
		return buf_puts(out, enum_names[*FIELD(c, k, enum plaintext_auth)]);
	case T_DOMAINS:
		for (size_t i = 0; i < c->ndomains; i++)
			if (buf_printf(out, "%s%s", i ? ", " : "", c->domains[i]) == -1)
				return -1;
		return 0;
	default:
		return buf_puts(out, *FIELD(c, k, char *));
	}
}

int
config_dump(const struct config *c, struct buf *out)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (buf_printf(out, "%s = ", keys[i].name) == -1 ||
		    dump_value(c, &keys[i], out) == -1 || buf_putc(out, '\n') == -1)
			return -1;
	return 0;
}

int
config_account(const struct config *c, const char *role, char *out, size_t outsize)
{
	return str_format(out, outsize, "%s%s", c->accounts_prefix, role);
}

#ifndef POSTERN_CONF_DEFAULT
#define POSTERN_CONF_DEFAULT "/usr/local/etc/postern/postern.conf"
#endif

const char *
config_default_path(void)
{
	const char *p = getenv("POSTERN_CONF");

	return p != NULL && *p != '\0' ? p : POSTERN_CONF_DEFAULT;
}
