/* libFuzzer target: the delivery agents' job validation
 * (deliver/agent_job.c, compiled in).  The input is a record body;
 * agent_job_parse must accept or refuse it without fault.  Invariants of
 * an accepted job: 1..AGENT_JOB_RCPTS recipients, each a mailbox whose
 * domain is the job's (case-insensitively), notify bits valid, the
 * descriptor handed over. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../deliver/agent_job.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_job j;
	struct ipc_msg m;
	const char *err = NULL;

	ipc_msg_init(&m, IPC_DELIVER_JOB);
	if (buf_set(&m.body, data, size) == -1) {
		ipc_msg_free(&m);
		return 0;
	}
	if ((m.fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		abort();
	m.nfds = 1;
	if (agent_job_parse(&m, size > 0 && data[0] == 'L' ? 1 : AGENT_JOB_RCPTS, &j,
	    &err) == 1) {
		if (j.nrcpt < 1 || j.nrcpt > AGENT_JOB_RCPTS || j.fd < 0 || m.fds[0] != -1 ||
		    j.domain[0] == '\0')
			abort();
		for (size_t i = 0; i < j.nrcpt; i++)
			if (strcasecmp(j.rcpt[i].a.domain, j.domain) != 0 ||
			    j.rcpt[i].notify > 15)
				abort();
	} else if (err == NULL)
		abort();
	agent_job_free(&j);
	ipc_msg_free(&m);
	return 0;
}
