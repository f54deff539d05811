/*
 * qlist: reading the queue's listing records (see qlist.h).
 */
#include <time.h>

#include "qlist.h"

int
qlist_entry_parse(const struct ipc_msg *m, size_t field_max, struct qlist_entry *e)
{
	uint64_t arrival;
	size_t len;
	time_t t;
	struct tm tm;

	e->id = ipc_get_str(m, "id", 64);
	e->sender = ipc_get_str(m, "sender", field_max);
	e->more = 0;
	if (e->id == NULL || e->sender == NULL || ipc_get_u64(m, "size", &e->size) == -1 ||
	    ipc_get_u64(m, "arrival", &arrival) == -1 ||
	    (ipc_get(m, "more", &len) != NULL && ipc_get_u64(m, "more", &e->more) == -1))
		return -1;
	t = (time_t)arrival;
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(e->when, sizeof(e->when), "%a %b %e %H:%M:%S", &tm) == 0)
		e->when[0] = '\0';
	return 0;
}
