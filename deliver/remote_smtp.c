/*
 * remote_smtp: one delivery attempt (see remote_smtp.h).  Blocking I/O in
 * a worker of the agent; every wait is bounded by an RFC 5321 4.5.3.2
 * timeout (remote.timeout_*).  Results: a recipient's fate is fixed by the
 * reply to its RCPT or, once accepted, by the reply to the end of data;
 * anything that goes wrong before MAIL (connection, greeting, EHLO, TLS
 * policy, SIZE) moves on to the next address, and the last such failure is
 * what the queue is told.  The transaction itself is in remote_send.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "remote_sess.h"
#include "util.h"
#include "xmalloc.h"

/* ---- results ---- */

void
remote_copy(char *dst, size_t size, const char *src)
{
	if (str_copy(dst, size, src) == -1 && size > 0)
		dst[size - 1] = '\0';
}

void
remote_set(struct remote_result *res, enum remote_verb verb, const char *enh,
    const char *host, const char *addr, const char *why)
{
	res->verb = verb;
	remote_copy(res->enh, sizeof(res->enh), enh);
	if (str_format(res->text, sizeof(res->text), "%s[%s]: %s", host, addr, why) == -1)
		remote_copy(res->text, sizeof(res->text), why);
}

/* Set (verb, enh, why) on every recipient not yet decided. */
void
remote_set_rest(struct sess *s, enum remote_verb verb, const char *enh, const char *why)
{
	for (size_t i = 0; i < s->j->nrcpt; i++)
		if (!s->done[i]) {
			remote_set(&s->res[i], verb, enh, s->c->host, s->c->addr, why);
			s->done[i] = 1;
		}
}

void
remote_set_rest_reply(struct sess *s, const char *stage, int only_accepted)
{
	for (size_t i = 0; i < s->j->nrcpt; i++)
		if (!s->done[i] && (!only_accepted || s->accepted[i])) {
			remote_result_reply(&s->r, s->c->host, s->c->addr, stage, &s->res[i]);
			s->done[i] = 1;
		}
}

static void
set_rest_conn(struct sess *s, enum remote_connerr ce, const char *detail)
{
	for (size_t i = 0; i < s->j->nrcpt; i++)
		if (!s->done[i])
			remote_result_conn(ce, s->c->host, s->c->addr, detail, &s->res[i]);
}

/* ---- I/O ---- */

/* Connect to sa with a timeout; fd or -1 (s->ce set). */
static int
tcp_connect(struct sess *s, const struct sockaddr_storage *sa)
{
	socklen_t len = sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
	struct pollfd p;
	int fd, err = 0;
	socklen_t elen = sizeof(err);

	s->ce = REMOTE_CONN_REFUSED;
	if ((fd = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	if (connect(fd, (const struct sockaddr *)sa, len) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		p = (struct pollfd){ fd, POLLOUT, 0 };
		if (poll(&p, 1, s->x->t_connect) != 1) {
			s->ce = REMOTE_CONN_TIMEOUT;
			errno = ETIMEDOUT;
			goto fail;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
			goto fail;
		if (err != 0) {
			errno = err;
			goto fail;
		}
	}
	if (fd_set_nonblock(fd, 0) == -1)
		goto fail;
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* One line of a reply into s->r (caps: collect EHLO keywords, line n).
 * 1 complete, 0 more, -1 (s->ce, s->broken). */
static int
reply_line(struct sess *s, struct remote_caps *caps, unsigned n)
{
	enum remote_perr pe;
	int r;

	r = lineio_read_line(&s->c->l, &s->line, REMOTE_LINE_MAX + 2);
	if (r != LINEIO_OK) {
		s->ce = r == LINEIO_TIMEOUT ? REMOTE_CONN_IDLE :
		    r == LINEIO_TOOLONG ? REMOTE_CONN_PROTO : REMOTE_CONN_LOST;
		if (r == LINEIO_TOOLONG)
			log_warn("%s[%s]: %s", s->c->host, s->c->addr,
			    remote_perr_str(REMOTE_P_TOOLONG));
		s->broken = 1;
		return -1;
	}
	if ((r = remote_reply_line(&s->r, s->line.data, s->line.len, &pe)) == -1) {
		log_warn("%s[%s]: %s", s->c->host, s->c->addr, remote_perr_str(pe));
		s->ce = REMOTE_CONN_PROTO;
		s->broken = 1;
		return -1;
	}
	if (caps != NULL)
		remote_caps_line(caps, n, s->line.data, s->line.len);
	if (r == 1 && s->r.code == 421)
		s->closing = 1;		/* the peer is closing the session */
	return r;
}

int
remote_read_reply(struct sess *s, int timeout_ms)
{
	int r;

	s->c->l.timeout_ms = timeout_ms;
	remote_reply_init(&s->r);
	while ((r = reply_line(s, NULL, 0)) == 0)
		continue;
	return r == 1 ? 0 : -1;
}

/* Send data[0..n) and flush.  0, or -1 (s->ce). */
int
remote_send(struct sess *s, const void *data, size_t n, int timeout_ms)
{
	s->c->l.timeout_ms = timeout_ms;
	if (lineio_write(&s->c->l, data, n) == 0 && lineio_flush(&s->c->l) == 0)
		return 0;
	s->ce = REMOTE_CONN_LOST;
	s->broken = 1;
	return -1;
}

int
remote_send_cmd(struct sess *s, int timeout_ms)
{
	int r = remote_send(s, s->cmd.data, s->cmd.len, timeout_ms);

	buf_reset(&s->cmd);
	return r;
}

int
remote_command(struct sess *s, const char *cmd, int timeout_ms)
{
	if (buf_puts(&s->cmd, cmd) == -1 || remote_send_cmd(s, timeout_ms) == -1 ||
	    remote_read_reply(s, timeout_ms) == -1)
		return -1;
	return 0;
}

static void set_relay(struct sess *s);

/* ---- sessions ---- */

/* QUIT (when the connection still works) and free c. */
static void
sess_close(struct remote_sess *c, int quit, int timeout_ms)
{
	struct buf line = BUF_INIT(REMOTE_LINE_MAX + 2);

	if (c == NULL)
		return;
	if (quit) {
		c->l.timeout_ms = timeout_ms;
		if (lineio_write(&c->l, "QUIT\r\n", 6) == 0 && lineio_flush(&c->l) == 0 &&
		    lineio_read_line(&c->l, &line, REMOTE_LINE_MAX + 2) != LINEIO_OK)
			log_info("%s[%s]: no answer to QUIT", c->host, c->addr);
	}
	buf_free(&line);
	lineio_free(&c->l);
	if (c->tls_on)
		tls_close(&c->t);
	if (c->fd != -1)
		close(c->fd);
	free(c);
}

void
remote_conn_close(struct remote_conn *conn)
{
	if (conn->sess != NULL)
		sess_close(conn->sess, 1, conn->sess->t_quit);
	conn->sess = NULL;
	conn->domain[0] = '\0';
	conn->jobs = 0;
}

/* Drop the session in conn without QUIT (it failed). */
static void
conn_drop(struct remote_conn *conn)
{
	sess_close(conn->sess, 0, 0);
	conn->sess = NULL;
	conn->domain[0] = '\0';
	conn->jobs = 0;
}

/* EHLO, or HELO when EHLO is refused with 5xx.  0, -1 (I/O), 1 (refused:
 * s->r holds the reply). */
static int
hello(struct sess *s)
{
	unsigned n = 0;
	char cmd[600];
	int r;

	remote_caps_init(&s->c->caps);
	if (str_format(cmd, sizeof(cmd), "EHLO %s\r\n", s->x->c->hostname) == -1 ||
	    buf_puts(&s->cmd, cmd) == -1 || remote_send_cmd(s, s->x->t_command) == -1)
		return -1;
	s->c->l.timeout_ms = s->x->t_command;
	remote_reply_init(&s->r);
	while ((r = reply_line(s, &s->c->caps, n++)) == 0)
		continue;
	if (r == -1)
		return -1;
	if (s->r.code / 100 == 2)
		return 0;
	remote_caps_init(&s->c->caps);
	if (s->r.code / 100 != 5)
		return 1;
	if (str_format(cmd, sizeof(cmd), "HELO %s\r\n", s->x->c->hostname) == -1 ||
	    remote_command(s, cmd, s->x->t_command) == -1)
		return -1;
	return s->r.code / 100 == 2 ? 0 : 1;
}

/* The first verification error of the handshake in progress (a worker
 * runs one at a time): more telling than the last ("self-signed
 * certificate" rather than the "hostname mismatch" found after it). */
static long first_verify_error = X509_V_OK;

static int
accept_any(int preverify, X509_STORE_CTX *x)
{
	if (!preverify && first_verify_error == X509_V_OK)
		first_verify_error = X509_STORE_CTX_get_error(x);
	return 1;
}

SSL_CTX *
remote_tls_ctx(const char **err)
{
	SSL_CTX *ctx = tls_client_ctx(1, err);

	if (ctx != NULL)	/* verify (and check the name), never refuse */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
	return ctx;
}

/* TLS required but not to be had here: defer, try the next host. */
static int
tls_refuse(struct sess *s, const char *enh, const char *why)
{
	log_info("%s[%s]: %s (TLS policy %s)", s->c->host, s->c->addr, why,
	    remote_tls_level_name(s->tls));
	remote_set_rest(s, REMOTE_DEFER, enh, why);
	return 2;
}

/* The handshake after a 220 to STARTTLS, then the verification outcome.
 * 0, -1 (s->ce), 2 (policy: results set). */
static int
tls_handshake(struct sess *s)
{
	struct remote_sess *c = s->c;
	char why[300];
	const char *err;
	long v;

	first_verify_error = X509_V_OK;
	if (tls_connect(&c->t, s->x->tls, c->fd, c->host, REMOTE_T_TLS, &err) == -1) {
		log_warn("%s[%s]: TLS handshake failed: %s", c->host, c->addr, err);
		s->ce = REMOTE_CONN_TLS;
		s->broken = 1;
		return -1;
	}
	c->tls_on = 1;
	if (lineio_start_tls(&c->l, &c->t) > 0)
		log_warn("%s[%s]: plaintext sent after STARTTLS was discarded", c->host, c->addr);
	v = SSL_get_verify_result(c->t.ssl);
	c->verified = v == X509_V_OK;
	if (!c->verified && first_verify_error != X509_V_OK)
		v = first_verify_error;
	if (tls_describe(&c->t, c->tlsdesc, sizeof(c->tlsdesc)) == -1)
		c->tlsdesc[0] = '\0';
	log_info("%s[%s]: TLS %s, certificate %s%s", c->host, c->addr, c->tlsdesc,
	    c->verified ? "verified" : "not verified: ",
	    c->verified ? "" : X509_verify_cert_error_string(v));
	if (s->tls == REMOTE_TLS_VERIFY && !c->verified) {
		if (str_format(why, sizeof(why), "certificate verification failed: %s",
		    X509_verify_cert_error_string(v)) == -1)
			remote_copy(why, sizeof(why), "certificate verification failed");
		return tls_refuse(s, "4.7.5", why);
	}
	return 0;
}

/* STARTTLS as the policy says; then EHLO again.  0 (go on, with or without
 * TLS), -1 (s->ce), 1 (EHLO refused), 2 (policy: results set). */
static int
starttls(struct sess *s)
{
	int offered = (s->c->caps.ext & REMOTE_EXT_STARTTLS) != 0, r;
	char why[100];

	if (s->tls == REMOTE_TLS_NONE)
		return 0;
	if (!offered || s->x->tls == NULL) {
		if (s->tls == REMOTE_TLS_MAY)
			return 0;
		return tls_refuse(s, "4.7.4", offered ? "TLS is required but the TLS "
		    "client is not available" : "TLS is required but STARTTLS is not offered");
	}
	if (remote_command(s, "STARTTLS\r\n", s->x->t_command) == -1)
		return -1;
	if (s->r.code / 100 != 2) {
		if (s->tls != REMOTE_TLS_MAY) {
			if (str_format(why, sizeof(why), "TLS is required but STARTTLS was "
			    "refused (%d)", s->r.code) == -1)
				why[0] = '\0';
			return tls_refuse(s, "4.7.4", why);
		}
		log_info("%s[%s]: STARTTLS refused (%d); going on without TLS", s->c->host,
		    s->c->addr, s->r.code);
		return 0;
	}
	if ((r = tls_handshake(s)) != 0)
		return r;
	return hello(s);
}

/* Send a secret command in sec and wipe every copy we hold.  0, -1. */
static int
send_secret(struct sess *s, struct buf *sec)
{
	struct lineio *l = &s->c->l;
	int r = remote_send(s, sec->data, sec->len, s->x->t_command);

	buf_free_secret(sec);
	if (l->out.data != NULL)
		explicit_bzero(l->out.data, l->out.cap);
	return r;
}

/* AUTH PLAIN (preferred) or LOGIN.  0 (s->r the final reply), -1. */
static int
auth_exchange(struct sess *s)
{
	const char *u = s->x->auth_user, *p = s->x->auth_pass, *err;
	struct buf sec = BUF_INIT(4096);

	if (s->c->caps.auth & REMOTE_AUTH_PLAIN) {
		if (remote_cmd_auth_plain(u, p, &sec, &err) == -1) {
			buf_free_secret(&sec);
			return -1;
		}
		return send_secret(s, &sec) == -1 ? -1 : remote_read_reply(s, s->x->t_command);
	}
	for (int step = 0; step < 3; step++) {
		if (remote_cmd_auth_login(step, u, p, &sec, &err) == -1) {
			buf_free_secret(&sec);
			return -1;
		}
		if (send_secret(s, &sec) == -1 || remote_read_reply(s, s->x->t_command) == -1)
			return -1;
		if (s->r.code != 334)
			break;
	}
	return 0;
}

/* Authenticate to the smarthost when credentials are set.  0 (done or
 * not needed), -1 (s->ce), 3 (refused: every recipient deferred). */
static int
authenticate(struct sess *s)
{
	struct remote_result tmp;

	if (!s->smarthost || s->x->auth_user == NULL)
		return 0;
	if (!(s->c->caps.ext & REMOTE_EXT_AUTH) ||
	    !(s->c->caps.auth & (REMOTE_AUTH_PLAIN | REMOTE_AUTH_LOGIN))) {
		log_info("%s[%s]: no AUTH PLAIN or LOGIN offered; sending without "
		    "authentication", s->c->host, s->c->addr);
		return 0;
	}
	if (!s->c->tls_on)	/* the policy is at least encrypt: cannot happen */
		return tls_refuse(s, "4.7.4", "credentials are never sent without TLS");
	if (auth_exchange(s) == -1) {
		if (!s->broken) {
			s->ce = REMOTE_CONN_PROTO;
			s->broken = 1;
		}
		return -1;
	}
	if (s->r.code == 235) {
		log_info("%s[%s]: authenticated as %s", s->c->host, s->c->addr,
		    s->x->auth_user);
		return 0;
	}
	remote_result_reply(&s->r, s->c->host, s->c->addr, "AUTH", &tmp);
	log_warn("%s[%s]: authentication as %s failed: %s", s->c->host, s->c->addr,
	    s->x->auth_user, tmp.text);
	for (size_t i = 0; i < s->j->nrcpt; i++)
		if (!s->done[i]) {
			s->res[i].verb = REMOTE_DEFER;
			remote_copy(s->res[i].enh, sizeof(s->res[i].enh), "4.7.8");
			if (str_format(s->res[i].text, sizeof(s->res[i].text),
			    "authentication failed: %s", tmp.text) == -1)
				remote_copy(s->res[i].text, sizeof(s->res[i].text), tmp.text);
			s->done[i] = 1;
		}
	return 3;
}

/* Greeting, EHLO, STARTTLS, AUTH, SIZE.  0 go on with the transaction,
 * 1 the job's fate is decided (results set), -1 try the next address
 * (results set), -2 try the next address (too big for this host). */
static int
open_session(struct sess *s)
{
	int r;

	if (remote_read_reply(s, s->x->t_greeting) == -1) {
		set_rest_conn(s, s->ce, "while reading the greeting");
		return -1;
	}
	if (s->r.code / 100 != 2) {
		remote_set_rest_reply(s, NULL, 0);
		return -1;
	}
	if ((r = hello(s)) == 0 && (r = starttls(s)) == 0)
		r = authenticate(s);
	if (r == -1)
		set_rest_conn(s, s->ce, "during EHLO, STARTTLS or AUTH");
	else if (r == 1)
		remote_set_rest_reply(s, "EHLO", 0);
	if (r != 0)
		return r == 3 ? 1 : -1;
	if (s->c->caps.size != 0 && s->m->size > s->c->caps.size) {
		log_info("%s[%s]: message of %llu octets is larger than the host's SIZE "
		    "%llu; trying the next host", s->c->host, s->c->addr,
		    (unsigned long long)s->m->size, (unsigned long long)s->c->caps.size);
		return -2;
	}
	return 0;
}

/* Connect to one address.  1 when the job's fate is decided, 0 to try the
 * next.  A session left clean goes into conn. */
static int
try_addr(struct sess *s, struct remote_conn *conn, const char *host,
    const struct sockaddr_storage *sa, int port)
{
	struct remote_sess *c = xcalloc(1, sizeof(*c));
	int r;

	memset(s->done, 0, sizeof(s->done));
	memset(s->accepted, 0, sizeof(s->accepted));
	remote_copy(c->host, sizeof(c->host), host);
	if (net_addr_text((const struct sockaddr *)sa, c->addr, sizeof(c->addr)) == -1)
		remote_copy(c->addr, sizeof(c->addr), "?");
	c->port = port;
	c->t_quit = s->x->t_quit;
	s->c = c;
	set_relay(s);
	s->broken = s->closing = s->keep = 0;
	if ((c->fd = tcp_connect(s, sa)) == -1) {
		set_rest_conn(s, s->ce, strerror(errno));
		log_info("%s[%s]:%d: %s", c->host, c->addr, port, strerror(errno));
		s->other++;
		sess_close(c, 0, 0);
		s->c = NULL;
		return 0;
	}
	lineio_init(&c->l, c->fd, s->x->t_greeting);
	if ((r = open_session(s)) == 0)
		remote_transaction(s);
	else if (r == -2)
		s->toobig++;
	else if (r == -1)
		s->other++;
	if (r == 0 && s->keep && !s->broken && !s->closing) {
		conn->sess = c;
		remote_copy(conn->domain, sizeof(conn->domain), s->j->domain);
		conn->jobs = 1;
	} else
		sess_close(c, !s->broken, s->x->t_quit);
	return r >= 0;
}

/* ---- routing ---- */

/* rt = the one host (a name, or an address literal) with its addresses. */
static enum dns_class
route_host(const struct remote_ctx *x, const char *host, struct dns_route *rt,
    const char **err)
{
	struct sockaddr_storage *ss;
	struct dns_host *h;
	struct dns_answer a;

	memset(rt, 0, sizeof(*rt));
	rt->n = 1;
	h = &rt->host[0];
	remote_copy(h->name, sizeof(h->name), host);
	h->astatus = DNS_S_OK;
	ss = &h->addr[0];
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1)
		ss->ss_family = AF_INET;
	else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1)
		ss->ss_family = AF_INET6;
	if (ss->ss_family != AF_UNSPEC) {
		h->naddr = 1;
		return DNS_OK;
	}
	memset(ss, 0, sizeof(*ss));
	dns_query(x->dns, host, ns_t_aaaa, &a);
	if (a.status == DNS_S_TEMP)
		h->astatus = DNS_S_TEMP;
	dns_host_add(h, &a);
	dns_query(x->dns, host, ns_t_a, &a);
	if (a.status == DNS_S_TEMP)
		h->astatus = DNS_S_TEMP;
	dns_host_add(h, &a);
	return dns_route_finish(rt, err);
}

/* The route: remote.transport entry, remote.smarthost, or MX.  DNS_OK or
 * the class with *err "X.Y.Z text". */
static enum dns_class
route(struct sess *s, struct dns_route *rt, int *port, const char **err)
{
	const struct remote_ctx *x = s->x;
	char host[DNS_NAME_MAX + 1];
	int r;

	*port = (int)x->c->remote_port;
	if ((r = remote_policy_transport(x, s->j->domain, host, sizeof(host), port, err)) == -1)
		return DNS_TEMP;
	if (r == 1)
		return route_host(x, host, rt, err);
	if (x->c->remote_smarthost == NULL || x->c->remote_smarthost[0] == '\0')
		return dns_resolve(x->dns, s->j->domain, x->c->hostname, NULL, NULL, rt, err);
	if (net_parse_relay(x->c->remote_smarthost, host, sizeof(host), port, err) == -1) {
		*err = "4.3.5 remote.smarthost is not host:port";
		return DNS_TEMP;
	}
	s->smarthost = 1;
	return route_host(x, host, rt, err);
}

static void
set_port(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
}

/* "X.Y.Z text" from routing or policy -> a result for every recipient. */
static void
route_failed(const struct agent_job *j, enum dns_class cl, const char *err,
    struct remote_result *res)
{
	for (size_t i = 0; i < j->nrcpt; i++) {
		res[i].verb = cl == DNS_PERM ? REMOTE_FAIL : REMOTE_DEFER;
		if (str_format(res[i].enh, sizeof(res[i].enh), "%.*s",
		    (int)strcspn(err, " "), err) == -1 ||
		    (res[i].enh[0] != '4' && res[i].enh[0] != '5'))
			remote_copy(res[i].enh, sizeof(res[i].enh),
			    cl == DNS_PERM ? "5.4.4" : "4.4.3");
		res[i].enh[0] = cl == DNS_PERM ? '5' : '4';
		if (str_format(res[i].text, sizeof(res[i].text), "%s: %s", j->domain,
		    err + strcspn(err, " ") + (err[strcspn(err, " ")] == ' ')) == -1)
			remote_copy(res[i].text, sizeof(res[i].text), "routing failed");
	}
}

/* ---- delivery ---- */

static void
set_relay(struct sess *s)
{
	if (str_format(s->relay, s->relaysize, "%s[%s]:%d", s->c->host, s->c->addr,
	    s->c->port) == -1)
		remote_copy(s->relay, s->relaysize, "none");
}

/* The session in conn for this job's domain: RSET, then the transaction.
 * 1 done (results set), 0 not usable (dropped: route as usual). */
static int
reuse(struct sess *s, struct remote_conn *conn)
{
	s->c = conn->sess;
	s->broken = s->closing = s->keep = 0;
	memset(s->done, 0, sizeof(s->done));
	memset(s->accepted, 0, sizeof(s->accepted));
	if (remote_command(s, "RSET\r\n", s->x->t_command) == -1 || s->r.code != 250 ||
	    (s->c->caps.size != 0 && s->m->size > s->c->caps.size)) {
		log_info("%s[%s]: cached connection not usable (%s); connecting again",
		    s->c->host, s->c->addr, s->broken ? "closed" : s->r.code != 250 ?
		    "RSET refused" : "SIZE");
		if (s->broken)
			conn_drop(conn);
		else
			remote_conn_close(conn);
		s->c = NULL;
		return 0;
	}
	conn->jobs++;
	log_info("reused connection to %s[%s] (%u)%s%s%s", s->c->host, s->c->addr,
	    conn->jobs, s->c->tls_on ? ", TLS " : "", s->c->tls_on ? s->c->tlsdesc : "",
	    !s->c->tls_on ? "" : s->c->verified ? ", certificate verified" :
	    ", certificate not verified");
	set_relay(s);
	remote_transaction(s);
	if (!s->keep || s->broken || s->closing) {
		if (s->broken)
			conn_drop(conn);
		else
			remote_conn_close(conn);
	}
	s->c = NULL;
	return 1;
}

/* Every address of every host in order until one decides the job. */
static void
deliver_route(struct sess *s, struct remote_conn *conn, struct dns_route *rt, int port)
{
	char why[DNS_NAME_MAX + 100];
	int final = 0;

	for (size_t h = 0; h < rt->n && !final; h++)
		for (size_t a = 0; a < rt->host[h].naddr && !final; a++) {
			set_port(&rt->host[h].addr[a], port);
			final = try_addr(s, conn, rt->host[h].name, &rt->host[h].addr[a], port);
		}
	if (final || s->toobig == 0 || s->other != 0)
		return;
	if (str_format(why, sizeof(why), "message too big for every host of %s",
	    s->j->domain) == -1)
		remote_copy(why, sizeof(why), "message too big for every host");
	for (size_t i = 0; i < s->j->nrcpt; i++) {
		s->res[i].verb = REMOTE_FAIL;
		remote_copy(s->res[i].enh, sizeof(s->res[i].enh), "5.3.4");
		remote_copy(s->res[i].text, sizeof(s->res[i].text), why);
	}
}

void
remote_smtp_deliver(const struct remote_ctx *x, struct remote_conn *conn,
    const struct agent_job *j, struct remote_result *res, char *relay,
    size_t relaysize)
{
	static struct dns_route rt;	/* big */
	struct remote_mail m;
	struct sess s;
	const char *err = "4.4.3 no route";
	enum dns_class cl;
	int port;

	remote_copy(relay, relaysize, "none");
	memset(&s, 0, sizeof(s));
	s.x = x;
	s.j = j;
	s.m = &m;
	s.res = res;
	s.relay = relay;
	s.relaysize = relaysize;
	if (conn->sess != NULL && strcmp(conn->domain, j->domain) != 0)
		remote_conn_close(conn);
	if (remote_policy_tls(x, j->domain, &s.tls, &err) == -1) {
		route_failed(j, DNS_TEMP, err, res);
		return;
	}
	buf_init(&s.line, REMOTE_LINE_MAX + 2);
	buf_init(&s.cmd, 4 * REMOTE_CHUNK);
	remote_mail_params(j, &m);
	if (conn->sess == NULL || reuse(&s, conn) == 0) {
		if ((cl = route(&s, &rt, &port, &err)) != DNS_OK)
			route_failed(j, cl, err, res);
		else {
			if (s.smarthost && x->auth_user != NULL && s.tls < REMOTE_TLS_ENCRYPT)
				s.tls = REMOTE_TLS_ENCRYPT;	/* credentials need TLS */
			deliver_route(&s, conn, &rt, port);
		}
	}
	buf_free(&s.line);
	buf_free(&s.cmd);
}
