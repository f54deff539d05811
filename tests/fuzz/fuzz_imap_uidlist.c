/* libFuzzer target: any bytes as a folder's postern-uidlist (base part and
 * change log), parsed by imapd/imap_store_list.c (compiled in with the
 * log's hash check off, so the fuzzer reaches the records behind it).
 * Nothing may fault or leak; a list taken as valid has UIDs strictly
 * ascending and below UIDNEXT, modseqs in 1..HIGHESTMODSEQ, names a
 * message line may hold, and a valid part that is a prefix of the file
 * (the rest, if any, is marked as a torn tail). */
#define IMAP_STORE_FUZZ 1
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../imapd/imap_mutf7.c"
#include "../../imapd/imap_store_name.c"
#include "../../imapd/imap_store_list.c"
#include "../../imapd/imap_store_sync.c"
#include "../../imapd/imap_store_change.c"
#include "../../imapd/imap_store_append.c"
#include "../../imapd/imap_store_folder.c"
#include "../../imapd/imap_store_subs.c"
#include "../../imapd/imap_store_watch.c"
#include "../../imapd/imap_store_view.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_folder f;
	char *text = malloc(size + 1);

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&f, 0, sizeof(f));
	if (size > 0 && parse_list(&f, text, size) == 0) {
		if (f.list_base > f.list_end || (size_t)f.list_end > size ||
		    f.list_torn != ((size_t)f.list_end < size) || f.uidnext == 0 ||
		    f.highestmodseq == 0)
			abort();
		for (size_t i = 0; i < f.n; i++) {
			const struct imap_msg *m = &f.msgs[i];

			if (m->uid == 0 || m->uid >= f.uidnext ||
			    (i > 0 && f.msgs[i - 1].uid >= m->uid) || m->modseq == 0 ||
			    m->modseq > f.highestmodseq || !list_name_ok(m->name))
				abort();
		}
		for (int i = 0; i < IMAP_STORE_KEYWORDS; i++)
			if (f.keywords[i] != NULL && !store_keyword_valid(f.keywords[i]))
				abort();
	}
	store_view_clear(&f);
	free(text);
	return 0;
}
