/*
 * Unit tests for common/config: defaults, syntax (comments, blank lines,
 * CRLF, spacing, last setting wins), every value type, error messages with
 * file:line, cross-checks, TLS file checks, dump round trip.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"
#include "util.h"

static struct buf errs = BUF_INIT(1 << 20);

/* Parse text over fresh defaults into c; errors in errs. */
static int
parse(struct config *c, const char *text)
{
	config_defaults(c);
	buf_reset(&errs);
	return config_parse_text("t.conf", text, strlen(text), c, &errs);
}

/* Parse one text and return its error output (static copy). */
static const char *
errors_of(const char *text)
{
	static char out[4096];
	struct config c;

	out[0] = '\0';
	if (parse(&c, text) == 0) {
		config_free(&c);
		return "";
	}
	if (str_copy(out, sizeof(out), buf_cstr(&errs)) == -1)
		return "(too long)";
	config_free(&c);
	return out;
}

static void
test_defaults(void)
{
	struct config c;
	char acct[64];

	config_defaults(&c);
	CHECK(c.hostname != NULL && c.hostname[0] != '\0');
	CHECK(c.ndomains == 0);
	CHECK_STR(c.listen_smtp, "");
	CHECK_STR(c.listen_imaps, "");
	CHECK_STR(c.tls_cert, "");
	CHECK(c.message_size == 35 * 1024 * 1024);
	CHECK(c.recipients == 1000);
	CHECK(c.retry_min == 300 && c.retry_max == 4 * 3600);
	CHECK(c.lifetime == 5 * 86400 && c.warn_after == 0);
	CHECK(c.trusted.n == 0);
	CHECK_STR(c.trusted_networks, "");
	CHECK(c.smtpd_timeout == 300 && c.smtpd_session_timeout == 1800);
	CHECK(c.smtpd_max_errors == 10 && c.smtpd_max_sessions == 1000);
	CHECK(c.smtpd_max_sessions_per_ip == 50);
	CHECK_STR(c.remote_smarthost, "");
	CHECK_STR(c.remote_dns, "");
	CHECK(c.remote_port == 25);
	CHECK_STR(c.accounts_prefix, "postern-");
	CHECK(c.pop3_plaintext_auth == PLAINTEXT_LOOPBACK);
	CHECK(c.imap_plaintext_auth == PLAINTEXT_LOOPBACK);
	CHECK(c.auth_fail_delay == 2 && c.master_grace_period == 10);
	CHECK_STR(c.paths_spool, "/var/spool/postern");
	CHECK_STR(c.paths_runtime, "/run/postern");
	CHECK_STR(c.paths_mail, "/var/mail");
	CHECK_STR(c.paths_maps, "/etc/postern");
	CHECK_STR(c.paths_libexec, "/usr/local/libexec/postern");
	CHECK(c.log_syslog == 0);
	CHECK(config_account(&c, "smtpd", acct, sizeof(acct)) == 0);
	CHECK_STR(acct, "postern-smtpd");
	CHECK(config_account(&c, "smtpd", acct, 10) == -1);
	config_free(&c);
	config_free(&c);	/* a second free is harmless */
}

static void
test_syntax(void)
{
	struct config c;

	CHECK(parse(&c, "") == 0);
	config_free(&c);
	CHECK(parse(&c,
	    "# comment\n"
	    "\n"
	    "   # indented comment = with equals\n"
	    "  \t \n"
	    "limits.recipients=7\n"
	    "  smtpd.max_errors   =   3   \n"
	    "remote.port\t=\t2525\r\n"
	    "limits.recipients = 8\n"		/* last one wins */
	    "hostname = mx.example.org") == 0);	/* no final newline */
	CHECK(errs.len == 0);
	CHECK(c.recipients == 8 && c.smtpd_max_errors == 3 && c.remote_port == 2525);
	CHECK_STR(c.hostname, "mx.example.org");
	config_free(&c);

	/* CRLF everywhere, and an empty value for an optional key. */
	CHECK(parse(&c, "listen.smtp = 127.0.0.1:2525\r\nlisten.smtp =\r\n") == 0);
	CHECK_STR(c.listen_smtp, "");
	config_free(&c);

	/* A bad later setting keeps the earlier good one (and reports). */
	CHECK(parse(&c, "limits.recipients = 9\nlimits.recipients = nine\n") == -1);
	CHECK(c.recipients == 9);
	config_free(&c);
}

static const struct { const char *text, *want; } bad[] = {
	{ "bogus = 1\n", "t.conf:1: unknown key 'bogus'\n" },
	{ "\n\nlisten.smtp = 127.0.0.1:0\n",
	  "t.conf:3: listen.smtp: bad value '127.0.0.1:0' (bad port (1-65535))\n" },
	{ "listen.smtp = 127.0.0.1:65536\n",
	  "t.conf:1: listen.smtp: bad value '127.0.0.1:65536' (bad port (1-65535))\n" },
	{ "listen.smtp = localhost:25\n",
	  "t.conf:1: listen.smtp: bad value 'localhost:25' "
	  "(bad IPv4 address (IPv6 goes in brackets))\n" },
	{ "queue.retry_min = 5x\n",
	  "t.conf:1: queue.retry_min: bad value '5x' "
	  "(not a duration like 30s, 5m, 4h, 5d)\n" },
	{ "smtpd.timeout = 0\n",
	  "t.conf:1: smtpd.timeout: bad value '0' (must be between 1s and 1d)\n" },
	{ "auth.fail_delay = 31s\n",
	  "t.conf:1: auth.fail_delay: bad value '31s' (must be between 0s and 30s)\n" },
	{ "limits.message_size = 1023\n",
	  "t.conf:1: limits.message_size: bad value '1023' "
	  "(must be between 1K and 2G)\n" },
	{ "limits.message_size = 35MB\n",
	  "t.conf:1: limits.message_size: bad value '35MB' "
	  "(not a size like 512K, 35M)\n" },
	{ "limits.recipients = 0\n",
	  "t.conf:1: limits.recipients: bad value '0' (must be between 1 and 100000)\n" },
	{ "smtpd.max_sessions = 4001\n",
	  "t.conf:1: smtpd.max_sessions: bad value '4001' (must be between 1 and 4000)\n" },
	{ "remote.port = 0\n",
	  "t.conf:1: remote.port: bad value '0' (must be between 1 and 65535)\n" },
	{ "limits.recipients = 10 # trailing comments are not supported\n",
	  "t.conf:1: limits.recipients: bad value '10 # trailing comments are not "
	  "supported' (not a decimal number)\n" },
	{ "just some words\n", "t.conf:1: missing '=' in 'just some words'\n" },
	{ " = value\n", "t.conf:1: missing key before '='\n" },
	{ "log.syslog = true\n", "t.conf:1: log.syslog: bad value 'true' (yes or no)\n" },
	{ "pop3.plaintext_auth = maybe\n",
	  "t.conf:1: pop3.plaintext_auth: bad value 'maybe' (no, loopback or yes)\n" },
	{ "paths.spool = var/spool\n",
	  "t.conf:1: paths.spool: bad value 'var/spool' (not an absolute path)\n" },
	{ "paths.spool =\n",
	  "t.conf:1: paths.spool: bad value '' (must not be empty)\n" },
	{ "accounts.prefix = a.b\n",
	  "t.conf:1: accounts.prefix: bad value 'a.b' "
	  "(only letters, digits, '-' and '_' allowed)\n" },
	{ "accounts.prefix = abcdefghijklmnopqrstu\n",
	  "t.conf:1: accounts.prefix: bad value 'abcdefghijklmnopqrstu' "
	  "(longer than 20 characters)\n" },
	{ "accounts.prefix = -x\n",
	  "t.conf:1: accounts.prefix: bad value '-x' (must start with a letter or '_')\n" },
	{ "accounts.prefix =\n",
	  "t.conf:1: accounts.prefix: bad value '' (must not be empty)\n" },
	{ "domains = example.com, bad_domain\n",
	  "t.conf:1: domains: bad value 'example.com, bad_domain' "
	  "(not a valid domain name)\n" },
	{ "smtpd.trusted_networks = 10.0.0.0/33\n",
	  "t.conf:1: smtpd.trusted_networks: bad value '10.0.0.0/33' "
	  "(prefix length too large)\n" },
	{ "remote.smarthost = relay.example.com\n",
	  "t.conf:1: remote.smarthost: bad value 'relay.example.com' "
	  "(missing ':port')\n" },
	{ "hostname = bad host\n",
	  "t.conf:1: hostname: bad value 'bad host' (not a valid host name)\n" },
	{ "hostname = a\tb\n",
	  "t.conf:1: hostname: bad value 'a?b' (control character)\n" },
	{ "bad\001key = 1\n", "t.conf:1: unknown key 'bad?key'\n" },
	/* All errors are reported, each with its own line. */
	{ "a = 1\nlimits.recipients = 5\nb\nremote.port = x\n",
	  "t.conf:1: unknown key 'a'\n"
	  "t.conf:3: missing '=' in 'b'\n"
	  "t.conf:4: remote.port: bad value 'x' (not a decimal number)\n" },
	/* Cross-checks, at the line of the offending key. */
	{ "\nqueue.retry_max = 1m\n",
	  "t.conf:2: queue.retry_min (5m) is greater than queue.retry_max (1m)\n" },
	{ "queue.retry_max = 10m\nqueue.retry_min = 1h\n",
	  "t.conf:2: queue.retry_min (1h) is greater than queue.retry_max (10m)\n" },
	{ "\ntls.cert = /etc/cert.pem\n", "t.conf:2: tls.cert is set but tls.key is not\n" },
	{ "tls.key = /etc/key.pem\n", "t.conf:1: tls.key is set but tls.cert is not\n" },
	{ "listen.smtp = 127.0.0.1:25\nlisten.submission = 127.0.0.1:25\n",
	  "t.conf:2: listen.submission: address '127.0.0.1:25' already used by "
	  "listen.smtp\n" },
	{ "listen.imap = 127.0.0.1:143\nlisten.pop3 = *:143\n",
	  "t.conf:2: listen.pop3: address '*:143' already used by listen.imap\n" },
	{ "listen.imap = [::]:143\nlisten.pop3 = [::1]:143\n",
	  "t.conf:2: listen.pop3: address '[::1]:143' already used by listen.imap\n" },
};

static void
test_errors(void)
{
	char longline[5000];
	const char *e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = errors_of(bad[i].text);
		CHECK_STR(e, bad[i].want);
	}
	/* Accepted neighbours of the bad cases above. */
	CHECK_STR(errors_of("listen.smtp = 127.0.0.1:25\nlisten.submission = "
	    "127.0.0.1:587\nlisten.smtps = [::1]:25\nlisten.pop3 = 127.0.0.2:25\n"), "");
	CHECK_STR(errors_of("auth.fail_delay = 30s\nlimits.message_size = 1K\n"), "");
	CHECK_STR(errors_of("queue.retry_min = 4h\n"), "");
	CHECK_STR(errors_of("accounts.prefix = abcdefghijklmnopqrst\n"), "");

	/* 4096 bytes is fine (an unknown key here), 4097 is too long. */
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "hostname=", 9);
	longline[4096] = '\0';
	e = errors_of(longline);
	CHECK(strstr(e, "t.conf:1: hostname: bad value") == e);
	longline[4096] = 'x';
	longline[4097] = '\n';
	longline[4098] = '\0';
	CHECK_STR(errors_of(longline), "t.conf:1: line too long (more than 4096 bytes)\n");

	/* A NUL inside the text. */
	{
		static const char nul[] = "a\0b = 1\nremote.port = 26\n";
		struct config c;

		config_defaults(&c);
		buf_reset(&errs);

		CHECK(config_parse_text("t.conf", nul, sizeof(nul) - 1, &c, &errs) == -1);
		CHECK_STR(buf_cstr(&errs), "t.conf:1: NUL byte in line\n");
		CHECK(c.remote_port == 26);
		config_free(&c);
	}
}

static void
test_values(void)
{
	struct config c;
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

	CHECK(parse(&c,
	    "domains = Example.COM, example.org example.com,,mail.example.net\n"
	    "smtpd.trusted_networks = 10.0.0.0/8, ::1\n"
	    "pop3.plaintext_auth = no\nimap.plaintext_auth = yes\n"
	    "log.syslog = yes\naccounts.prefix = t1_\n"
	    "remote.smarthost = relay.example.com:587\nremote.dns = 127.0.0.1:5353\n"
	    "queue.warn_after = 4h\nqueue.lifetime = 2w\nlimits.message_size = 10m\n"
	    "tls.cert =\ntls.key =\n") == 0);
	CHECK(c.ndomains == 3);
	CHECK_STR(c.domains[0], "example.com");
	CHECK_STR(c.domains[1], "example.org");
	CHECK_STR(c.domains[2], "mail.example.net");
	CHECK(config_is_local_domain(&c, "EXAMPLE.org") == 1);
	CHECK(config_is_local_domain(&c, "example.net") == 0);
	CHECK(c.trusted.n == 2);
	memset(&ss, 0, sizeof(ss));
	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(0x0a010203);
	CHECK(net_list_match(&c.trusted, (struct sockaddr *)&ss) == 1);
	CHECK_STR(c.trusted_networks, "10.0.0.0/8, ::1");
	CHECK(c.pop3_plaintext_auth == PLAINTEXT_NO);
	CHECK(c.imap_plaintext_auth == PLAINTEXT_YES);
	CHECK(c.log_syslog == 1);
	CHECK_STR(c.accounts_prefix, "t1_");
	CHECK_STR(c.remote_smarthost, "relay.example.com:587");
	CHECK(c.warn_after == 4 * 3600 && c.lifetime == 14 * 86400);
	CHECK(c.message_size == 10 * 1024 * 1024);
	config_free(&c);

	/* Setting a list again replaces it. */
	CHECK(parse(&c, "domains = a.example\ndomains = b.example\n"
	    "smtpd.trusted_networks = 10.0.0.0/8\nsmtpd.trusted_networks =\n") == 0);
	CHECK(c.ndomains == 1);
	CHECK_STR(c.domains[0], "b.example");
	CHECK(c.trusted.n == 0);
	CHECK(config_is_local_domain(&c, "a.example") == 0);
	config_free(&c);
}

static void
test_dump(void)
{
	struct config c, d;
	struct buf a = BUF_INIT(1 << 16), b = BUF_INIT(1 << 16);
	static const char *const names[] = { "hostname", "domains", "listen.smtp",
		"listen.submission", "listen.smtps", "listen.pop3", "listen.pop3s",
		"listen.imap", "listen.imaps", "tls.cert", "tls.key",
		"limits.message_size", "limits.recipients", "queue.retry_min",
		"queue.retry_max", "queue.lifetime", "queue.warn_after",
		"smtpd.trusted_networks", "smtpd.timeout", "smtpd.session_timeout",
		"smtpd.max_errors", "smtpd.max_sessions", "smtpd.max_sessions_per_ip",
		"remote.smarthost", "remote.dns", "remote.port", "accounts.prefix",
		"pop3.plaintext_auth", "imap.plaintext_auth", "auth.fail_delay",
		"master.grace_period", "paths.spool", "paths.runtime", "paths.mail",
		"paths.maps", "paths.libexec", "log.syslog" };
	char want[128];

	CHECK(parse(&c, "domains = a.example, b.example\nqueue.retry_min = 90s\n"
	    "limits.message_size = 1536K\nlisten.smtp = [::1]:2525\n") == 0);
	CHECK(config_dump(&c, &a) == 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		CHECK(str_format(want, sizeof(want), "\n%s = ", names[i]) == 0);
		CHECK(i == 0 ? strncmp(a.data, want + 1, strlen(want + 1)) == 0 :
		    strstr(a.data, want) != NULL);
	}
	CHECK(strstr(a.data, "\ndomains = a.example, b.example\n") != NULL);
	CHECK(strstr(a.data, "\nqueue.retry_min = 90s\n") != NULL);
	CHECK(strstr(a.data, "\nqueue.retry_max = 4h\n") != NULL);
	CHECK(strstr(a.data, "\nqueue.lifetime = 5d\n") != NULL);
	CHECK(strstr(a.data, "\nqueue.warn_after = 0s\n") != NULL);
	CHECK(strstr(a.data, "\nlimits.message_size = 1536K\n") != NULL);
	CHECK(strstr(a.data, "\nlog.syslog = no\n") != NULL);
	CHECK(strstr(a.data, "\npop3.plaintext_auth = loopback\n") != NULL);

	/* The dump parses back to the same configuration. */
	config_defaults(&d);
	buf_reset(&errs);
	CHECK(config_parse_text("dump", a.data, a.len, &d, &errs) == 0);
	CHECK(config_dump(&d, &b) == 0);
	CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	config_free(&c);
	config_free(&d);
	buf_free(&a);
	buf_free(&b);
}

/* As root: a key file only root can read is refused for a non-root user. */
static void
test_unreadable(const char *dir, const char *conf, const char *cert, const char *key)
{
	char text[2048], want[2048];
	struct config c;
	pid_t pid;
	int st;

	if (geteuid() != 0)
		return;
	CHECK(write_file_atomic(key, "key\n", 4, 0600) == 0);
	CHECK(str_format(text, sizeof(text), "tls.cert = %s\ntls.key = %s\n",
	    cert, key) == 0);
	CHECK(write_file_atomic(conf, text, strlen(text), 0644) == 0);
	CHECK(chmod(dir, 0755) == 0);
	CHECK(str_format(want, sizeof(want), "%s:2: tls.key: cannot read '%s': "
	    "Permission denied\n", conf, key) == 0);
	if ((pid = fork()) == 0) {
		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(2);
		config_defaults(&c);
		buf_reset(&errs);
		_exit(config_load(conf, &c, &errs) == -1 &&
		    strcmp(buf_cstr(&errs), want) == 0 ? 0 : 1);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0);
	/* root itself may read it */
	config_defaults(&c);
	buf_reset(&errs);
	CHECK(config_load(conf, &c, &errs) == 0);
	config_free(&c);
	CHECK(unlink(key) == 0);
}

static void
test_load(const char *dir)
{
	struct config c;
	char conf[512], cert[512], key[512], text[2048], want[2048];

	CHECK(str_format(conf, sizeof(conf), "%s/postern.conf", dir) == 0);
	CHECK(str_format(cert, sizeof(cert), "%s/cert.pem", dir) == 0);
	CHECK(str_format(key, sizeof(key), "%s/key.pem", dir) == 0);

	/* Missing file. */
	config_defaults(&c);
	buf_reset(&errs);
	CHECK(config_load(conf, &c, &errs) == -1);
	CHECK(str_format(want, sizeof(want), "%s: cannot open: No such file or "
	    "directory\n", conf) == 0);
	CHECK_STR(buf_cstr(&errs), want);
	config_free(&c);

	/* A good file with existing TLS files. */
	CHECK(write_file_atomic(cert, "cert\n", 5, 0644) == 0);
	CHECK(write_file_atomic(key, "key\n", 4, 0600) == 0);
	CHECK(str_format(text, sizeof(text), "# test\nlisten.smtp = 127.0.0.1:2525\n"
	    "tls.cert = %s\ntls.key = %s\n", cert, key) == 0);
	CHECK(write_file_atomic(conf, text, strlen(text), 0644) == 0);
	config_defaults(&c);
	buf_reset(&errs);
	CHECK(config_load(conf, &c, &errs) == 0);
	CHECK(errs.len == 0);
	CHECK_STR(c.path, conf);
	CHECK_STR(c.tls_cert, cert);
	CHECK_STR(c.listen_smtp, "127.0.0.1:2525");
	config_free(&c);

	/* Missing key file, and a directory as the certificate. */
	CHECK(unlink(key) == 0);
	CHECK(str_format(text, sizeof(text), "tls.cert = %s\n\ntls.key = %s\n",
	    dir, key) == 0);
	CHECK(write_file_atomic(conf, text, strlen(text), 0644) == 0);
	config_defaults(&c);
	buf_reset(&errs);
	CHECK(config_load(conf, &c, &errs) == -1);
	CHECK(str_format(want, sizeof(want), "%s:1: tls.cert: '%s' is not a regular "
	    "file\n%s:3: tls.key: cannot use '%s': No such file or directory\n",
	    conf, dir, conf, key) == 0);
	CHECK_STR(buf_cstr(&errs), want);
	config_free(&c);

	/* Syntax errors and file errors are reported together. */
	CHECK(str_format(text, sizeof(text), "nope = 1\ntls.cert = %s\n"
	    "tls.key = %s\n", cert, key) == 0);
	CHECK(write_file_atomic(conf, text, strlen(text), 0644) == 0);
	config_defaults(&c);
	buf_reset(&errs);
	CHECK(config_load(conf, &c, &errs) == -1);
	CHECK(str_format(want, sizeof(want), "%s:1: unknown key 'nope'\n"
	    "%s:3: tls.key: cannot use '%s': No such file or directory\n",
	    conf, conf, key) == 0);
	CHECK_STR(buf_cstr(&errs), want);
	config_free(&c);
	test_unreadable(dir, conf, cert, key);
	CHECK(unlink(cert) == 0);
	CHECK(unlink(conf) == 0);
}

int
main(void)
{
	char dir[] = "/tmp/test_config.XXXXXX";

	test_defaults();
	test_syntax();
	test_errors();
	test_values();
	test_dump();
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_load(dir);
	CHECK(rmdir(dir) == 0);
	buf_free(&errs);
	return UNIT_DONE();
}
