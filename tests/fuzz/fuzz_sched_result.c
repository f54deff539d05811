/*
 * Fuzz target for the queue's validation of delivery agents' RESULT and
 * ORPHAN records (queue/queue_sched.c, sched_result_parse,
 * sched_status_parse and sched_orphan_parse): the input is one raw IPC
 * packet, as an agent could send it.  An accepted record must respect
 * every limit the scheduler relies on.
 */
#include <stdint.h>
#include <stdlib.h>

#include "../../queue/queue_sched.c"

static struct sched_result res;
static struct sched_orphan orph;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sched_status st;
	struct ipc_msg m;
	const char *err = NULL;
	size_t i, n;

	/* the status parser alone, on the raw bytes */
	if (sched_status_parse((const char *)data, size, &st)) {
		n = strlen(st.text);
		if (n > SCHED_STATUS_MAX || (unsigned)st.verb > SCHED_FAIL ||
		    st.text[0] != "245"[st.verb])
			abort();
	}
	if (ipc_decode(data, size, &m) != 1)
		return 0;
	if (sched_result_parse(&m, &res, &err)) {
		if (res.n < 1 || res.n > SCHED_JOB_RCPT || res.nfwd > SCHED_FORWARD_MAX ||
		    (res.nfwd > 0 && (res.n != 1 || res.st[0].verb != SCHED_SENT)))
			abort();
		for (i = 0; i < res.n; i++)
			if (strlen(res.st[i].text) > SCHED_STATUS_MAX ||
			    !smtp_utf8_valid(res.st[i].text, strlen(res.st[i].text)))
				abort();
		for (i = 0; i < res.nfwd; i++)
			if (strchr(res.fwd[i], '@') == NULL)
				abort();
	} else if (err == NULL)
		abort();
	err = NULL;
	if (sched_orphan_parse(&m, &orph, &err)) {
		if (strlen(orph.id) != QUEUE_ID_LEN || orph.n < 1 || orph.n > SCHED_JOB_RCPT)
			abort();
		for (i = 0; i < orph.n; i++)
			if (strchr(orph.rcpt[i], '@') == NULL ||
			    strlen(orph.rcpt[i]) > SMTP_ADDR_MAX)
				abort();
	} else if (err == NULL)
		abort();
	ipc_msg_free(&m);
	return 0;
}
