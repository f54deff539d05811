/* Fuzz target: the users source parser and address normalizer
 * (common/userdb.c); whatever parses must format back and re-parse. */
#include <stddef.h>
#include <stdint.h>

#include "userdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf errors = BUF_INIT(1 << 20), out = BUF_INIT(BUF_NOLIMIT);
	char addr[USERDB_ADDR_MAX + 1];
	struct userdb db, db2;
	const char *err;

	if (userdb_address_normalize((const char *)data, size, addr, sizeof(addr), &err) == 1 &&
	    strlen(addr) != size)
		__builtin_trap();
	if (userdb_parse("fuzz", (const char *)data, size, &db, &errors) == 0) {
		if (userdb_format(&db, &out) != 0 ||
		    userdb_parse("again", out.data ? out.data : "", out.len, &db2, &errors) != 0 ||
		    db2.n != db.n)
			__builtin_trap();
		userdb_free(&db2);
	}
	userdb_free(&db);
	buf_free(&out);
	buf_free(&errors);
	return 0;
}
