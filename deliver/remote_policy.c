/*
 * remote_policy: what the remote agent loads before chroot (TLS context,
 * maps, smarthost credentials, timeouts) and the per-domain lookups in
 * the maps (see remote_smtp.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "remote_smtp.h"
#include "util.h"
#include "xmalloc.h"

#define CRED_FILE_MAX	4096

/* A message into err (cut if it must be). */
static void __attribute__((format(printf, 3, 4)))
errf(char *err, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
}

/* Read the credentials file: checks, then "user password".  0/-1 (err). */
static int
load_cred(struct remote_ctx *x, const char *path, char *err, size_t errsize)
{
	char text[CRED_FILE_MAX], user[REMOTE_CRED_MAX + 1], pass[REMOTE_CRED_MAX + 1];
	uid_t owner = geteuid();
	const char *why = NULL;
	struct stat st;
	ssize_t n = 0, r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) == -1) {
		errf(err, errsize, "remote.smarthost_auth: %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if (st.st_uid != owner)
		why = owner == 0 ? "not owned by root" : "not owned by the running user";
	else if ((st.st_mode & 07777) != 0600 && (st.st_mode & 07777) != 0400)
		why = "mode must be 0600 or 0400";
	while (why == NULL && (r = read(fd, text + n, sizeof(text) - (size_t)n)) != 0) {
		if (r == -1 && errno != EINTR)
			why = strerror(errno);
		else if (r > 0 && (n += r) == (ssize_t)sizeof(text))
			why = "too large";
	}
	close(fd);
	if (why == NULL && remote_cred_parse(text, (size_t)n, user, sizeof(user), pass,
	    sizeof(pass), &why) == 0) {
		x->auth_user = xstrdup(user);
		x->auth_pass = xstrdup(pass);
	}
	explicit_bzero(text, sizeof(text));
	explicit_bzero(pass, sizeof(pass));
	if (x->auth_user == NULL) {
		errf(err, errsize, "remote.smarthost_auth: %s: %s", path, why);
		return -1;
	}
	return 0;
}

/* Open a configured map; it must exist (a missing policy must not mean
 * "no policy").  NULL and err. */
static struct map *
load_map(const char *key, const char *path, char *err, size_t errsize)
{
	struct map *m;
	struct stat st;

	if (stat(path, &st) == -1) {
		errf(err, errsize, "%s: %s: %s", key, path, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		errf(err, errsize, "%s: %s: not a regular file", key, path);
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	if (map_open(m, path) == -1) {
		errf(err, errsize, "%s: %s: cannot open the map", key, path);
		free(m);
		return NULL;
	}
	return m;
}

static int
ms(time_t s)
{
	return (int)s * 1000;
}

int
remote_ctx_init(struct remote_ctx *x, const struct config *c, struct dns *dns,
    char *err, size_t errsize)
{
	const char *e;

	memset(x, 0, sizeof(*x));
	x->c = c;
	x->dns = dns;
	x->t_connect = ms(c->remote_timeout_connect);
	x->t_greeting = ms(c->remote_timeout_greeting);
	x->t_command = ms(c->remote_timeout_command);
	x->t_data = ms(c->remote_timeout_data);
	x->t_block = ms(c->remote_timeout_block);
	x->t_dot = ms(c->remote_timeout_dot);
	x->t_quit = ms(c->remote_timeout_quit);
	if (remote_tls_level_parse(c->remote_tls, strlen(c->remote_tls), &x->tls_level) == -1) {
		errf(err, errsize, "remote.tls: bad value");
		return -1;
	}
	if ((x->tls = remote_tls_ctx(&e)) == NULL)
		log_warn("TLS client context: %s; delivering without STARTTLS", e);
	else if (c->remote_tls_ca_file[0] != '\0' &&
	    SSL_CTX_load_verify_locations(x->tls, c->remote_tls_ca_file, NULL) != 1) {
		errf(err, errsize, "remote.tls_ca_file: %s: cannot load "
		    "certificates from it", c->remote_tls_ca_file);
		return -1;
	}
	if (c->remote_tls_policy[0] != '\0' && (x->tls_policy = load_map(
	    "remote.tls_policy", c->remote_tls_policy, err, errsize)) == NULL)
		return -1;
	if (c->remote_transport[0] != '\0' && (x->transport = load_map(
	    "remote.transport", c->remote_transport, err, errsize)) == NULL)
		return -1;
	if (c->remote_smarthost_auth[0] != '\0' &&
	    load_cred(x, c->remote_smarthost_auth, err, errsize) == -1)
		return -1;
	return 0;
}

static void
map_free(struct map *m)
{
	if (m != NULL) {
		map_close(m);
		free(m);
	}
}

static void
free_secret(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void
remote_ctx_free(struct remote_ctx *x)
{
	if (x->tls != NULL)
		SSL_CTX_free(x->tls);
	map_free(x->tls_policy);
	map_free(x->transport);
	free_secret(x->auth_user);
	free_secret(x->auth_pass);
	memset(x, 0, sizeof(*x));
}

/* Look domain up in m: 1 (value in v), 0, -1. */
static int
lookup(struct map *m, const char *domain, struct buf *v)
{
	if (m == NULL)
		return 0;
	return map_lookup(m, domain, v);
}

int
remote_policy_tls(const struct remote_ctx *x, const char *domain,
    enum remote_tls_level *lv, const char **err)
{
	struct buf v = BUF_INIT(1024);
	int r;

	*lv = x->tls_level;
	if ((r = lookup(x->tls_policy, domain, &v)) == 1 &&
	    remote_tls_level_parse(v.data != NULL ? v.data : "", v.len, lv) == -1) {
		log_warn("remote.tls_policy: %s: bad level (none, may, encrypt or verify)",
		    domain);
		*err = "4.3.5 bad remote.tls_policy entry for the domain";
		r = -1;
	} else if (r == -1)
		*err = "4.3.0 remote.tls_policy lookup failed";
	buf_free(&v);
	return r == -1 ? -1 : 0;
}

int
remote_policy_transport(const struct remote_ctx *x, const char *domain,
    char *host, size_t hostsize, int *port, const char **err)
{
	struct buf v = BUF_INIT(1024);
	const char *why;
	int r;

	if ((r = lookup(x->transport, domain, &v)) == 1 &&
	    remote_nexthop_parse(v.data != NULL ? v.data : "", v.len,
	    (int)x->c->remote_port, host, hostsize, port, &why) == -1) {
		log_warn("remote.transport: %s: %s", domain, why);
		*err = "4.3.5 bad remote.transport entry for the domain";
		r = -1;
	} else if (r == -1)
		*err = "4.3.0 remote.transport lookup failed";
	buf_free(&v);
	return r;
}
