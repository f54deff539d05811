/*
 * local_loop: the Delivered-To: count (see local_loop.h).
 */
#include <string.h>
#include <strings.h>

#include "local_loop.h"

unsigned
local_count_delivered_to(const char *msg, size_t len)
{
	static const char name[] = "delivered-to:";
	size_t pos = 0, n = sizeof(name) - 1;
	unsigned count = 0;

	while (pos < len && count < LOCAL_LOOP_MAX) {
		const char *p = msg + pos, *nl = memchr(p, '\n', len - pos);
		size_t linelen = nl != NULL ? (size_t)(nl - p) : len - pos;

		if (linelen == 0 || (linelen == 1 && p[0] == '\r'))
			break;	/* end of the header */
		if (linelen >= n && strncasecmp(p, name, n) == 0)
			count++;
		if (nl == NULL)
			break;
		pos += linelen + 1;
	}
	return count;
}
