/* auth_verify: checks an address and password against users.cdb for the
 * auth service; the only code that reads password hashes. */
#ifndef POSTERN_AUTH_VERIFY_H
#define POSTERN_AUTH_VERIFY_H
#include <stddef.h>

#include "map.h"
#include "userdb.h"

#define AUTH_FIELD_MAX	1024	/* user and pass, as sent by clients */

struct auth_verifier {
	struct map users;
	void *cd;				/* struct crypt_data, reused */
	char dummy[USERDB_HASH_MAX + 1];	/* burnt for unknown users */
};

/* Open the map at path (missing = no users) and make the dummy hash.
 * 0, or -1 with errno. */
int auth_verify_init(struct auth_verifier *v, const char *path) WUR;
/* Check user/pass (any bytes, as received).  1 accepted and the normalized
 * address in addr[USERDB_ADDR_MAX + 1]; 0 refused (unknown user, bad
 * address, wrong or empty password: the same work is done in each case);
 * -1 the map could not be read. */
int auth_verify(struct auth_verifier *v, const char *user, size_t ulen,
    const char *pass, size_t plen, char *addr) WUR;
void auth_verify_free(struct auth_verifier *v);
#endif
