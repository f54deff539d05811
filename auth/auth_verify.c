/*
 * auth_verify: password checks for the auth service.  Trusts users.cdb
 * (written by root) only as far as its format: each value is re-checked.
 * Unknown users cost one crypt of a dummy hash, like known ones.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <crypt.h>
#include <errno.h>

#include <bsd/stdlib.h>

#include "auth_verify.h"
#include "log.h"
#include "xmalloc.h"

int
auth_verify_init(struct auth_verifier *v, const char *path)
{
	unsigned char pw[32];
	char *setting;
	const char *h;

	memset(v, 0, sizeof(*v));
	v->cd = xcalloc(1, sizeof(struct crypt_data));
	if (map_open(&v->users, path) == -1)
		return -1;
	/* a hash of a random password, made with the cost new hashes get */
	if ((setting = crypt_gensalt_ra("$y$", 0, NULL, 0)) == NULL)
		return -1;
	arc4random_buf(pw, sizeof(pw));
	for (size_t i = 0; i < sizeof(pw) - 1; i++)
		pw[i] = (unsigned char)('a' + pw[i] % 26);
	pw[sizeof(pw) - 1] = '\0';
	h = crypt_r((const char *)pw, setting, v->cd);
	free(setting);
	explicit_bzero(pw, sizeof(pw));
	if (h == NULL || h[0] == '*' || str_copy(v->dummy, sizeof(v->dummy), h) == -1) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Constant-time comparison of two NUL-terminated strings (time depends
 * only on the length of b, the stored hash). */
static int
same(const char *a, const char *b)
{
	size_t i, la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (i = 0; i < lb; i++)
		d |= (unsigned char)(a[i < la ? i : 0] ^ b[i]);
	return d == 0;
}

/* The hash for addr from the map into hash[USERDB_HASH_MAX + 1]: 1 found
 * and well-formed, 0 absent or malformed (logged), -1 map error. */
static int
lookup_hash(struct auth_verifier *v, const char *addr, char *hash)
{
	struct buf val = BUF_INIT(USERDB_HASH_MAX + 32);
	const char *sp;
	size_t hl;
	int r;

	if (map_refresh(&v->users) == -1) {
		log_warn("cannot reload %s: %s", v->users.path, strerror(errno));
		return -1;
	}
	if ((r = map_lookup(&v->users, addr, &val)) != 1) {
		buf_free(&val);
		return r;
	}
	sp = memchr(val.data, ' ', val.len);
	hl = sp != NULL ? (size_t)(sp - val.data) : val.len;
	r = userdb_hash_valid(val.data, hl);
	if (r) {
		memcpy(hash, val.data, hl);
		hash[hl] = '\0';
	} else
		log_warn("malformed entry for %s in %s", addr, v->users.path);
	buf_free_secret(&val);
	return r;
}

int
auth_verify(struct auth_verifier *v, const char *user, size_t ulen,
    const char *pass, size_t plen, char *addr)
{
	char hash[USERDB_HASH_MAX + 1], pw[AUTH_FIELD_MAX + 1];
	const char *err, *h;
	int found = 0, ok;

	if (plen > AUTH_FIELD_MAX || memchr(pass, '\0', plen) != NULL)
		plen = 0;	/* refused below, after the same work */
	memcpy(pw, pass, plen);
	pw[plen] = '\0';
	if (ulen <= AUTH_FIELD_MAX && memchr(user, '\0', ulen) == NULL &&
	    userdb_address_normalize(user, ulen, addr, USERDB_ADDR_MAX + 1, &err) == 1)
		found = lookup_hash(v, addr, hash);
	if (found == -1) {
		explicit_bzero(pw, sizeof(pw));
		return -1;
	}
	h = crypt_r(pw, found ? hash : v->dummy, v->cd);
	ok = found == 1 && plen > 0 && h != NULL && h[0] != '*' && same(h, hash);
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(hash, sizeof(hash));
	explicit_bzero(v->cd, sizeof(struct crypt_data));
	return ok;
}

void
auth_verify_free(struct auth_verifier *v)
{
	map_close(&v->users);
	if (v->cd != NULL)
		freezero(v->cd, sizeof(struct crypt_data));
	v->cd = NULL;
}
