/*
 * Fuzz target for the remote agent's policy value parsers
 * (deliver/remote_proto.c): the smarthost credentials file, transport map
 * values and TLS levels.  Whatever is accepted must be within the limits
 * and free of control characters; a refused credentials file leaves
 * nothing behind in the user name.
 */
#include <stdint.h>
#include <stdlib.h>

#include "../../deliver/remote_proto.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *err = NULL;
	char user[REMOTE_CRED_MAX + 1], pass[REMOTE_CRED_MAX + 1], host[256];
	enum remote_tls_level lv;
	int port = 0;

	if (remote_cred_parse(p, size, user, sizeof(user), pass, sizeof(pass), &err) == 0) {
		check_text(user, REMOTE_CRED_MAX);
		check_text(pass, REMOTE_CRED_MAX);
		if (strchr(user, ' ') != NULL || strchr(user, '\t') != NULL)
			abort();
	} else if (err == NULL)
		abort();
	err = NULL;
	if (remote_nexthop_parse(p, size, 25, host, sizeof(host), &port, &err) == 0) {
		check_text(host, sizeof(host) - 1);
		if (port < 1 || port > 65535 || strchr(host, ' ') != NULL)
			abort();
	} else if (err == NULL)
		abort();
	if (remote_tls_level_parse(p, size, &lv) == 0 &&
	    strcmp(remote_tls_level_name(lv), "?") == 0)
		abort();
	return 0;
}
