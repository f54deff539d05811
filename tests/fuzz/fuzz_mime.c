/* libFuzzer target: any bytes through common/mime (linked from the library): the whole
 * message parser, the address-list parser and the encoded-word decoder.
 * Checks the structure's invariants: offsets inside the message, header
 * before body, children inside their parent's body and in order, the depth
 * and part caps, multipart with >= 1 child, message/rfc822 with exactly
 * one (a message root with an envelope), sizes and line counts consistent,
 * NUL-terminated strings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"

static void
check_addrs(const struct mime_addrlist *l)
{
	size_t i;
	int group = 0;

	if (l->n > MIME_ADDRS_MAX)
		abort();
	for (i = 0; i < l->n; i++) {
		const struct mime_addr *a = &l->v[i];

		if (a->host != NULL) {
			if (a->mailbox == NULL)
				abort();
		} else if (a->mailbox != NULL) {	/* group start */
			if (group || a->name != NULL || a->adl != NULL)
				abort();
			group = 1;
		} else {			/* group end */
			if (!group || a->name != NULL || a->adl != NULL)
				abort();
			group = 0;
		}
	}
	/* a group is closed unless the address cap cut it short */
	if (group && l->n < MIME_ADDRS_MAX)
		abort();
}

static void
check_params(const struct mime_param *v, size_t n)
{
	size_t i;

	if (n > MIME_PARAMS_MAX)
		abort();
	for (i = 0; i < n; i++)
		if (v[i].name == NULL || v[i].value == NULL || v[i].value[v[i].vlen] != '\0' ||
		    (v[i].charset == NULL) != (v[i].lang == NULL))
			abort();
}

static size_t
check(const struct mime_part *p, size_t len)
{
	const struct mime_part *c, *prev = NULL;
	size_t n = 1, kids = 0;

	if (p->hdr_start > p->hdr_end || p->hdr_end != p->body_start ||
	    p->body_start > p->body_end || p->body_end > len ||
	    p->size != p->body_end - p->body_start || p->wire_size < p->size ||
	    p->wire_size > 2 * p->size || p->lines > p->size ||
	    p->depth > MIME_DEPTH_MAX || p->type == NULL || p->subtype == NULL)
		abort();
	check_params(p->params, p->nparams);
	check_params(p->dparams, p->ndparams);
	if (p->env != NULL) {
		check_addrs(&p->env->from);
		check_addrs(&p->env->sender);
		check_addrs(&p->env->reply_to);
		check_addrs(&p->env->to);
		check_addrs(&p->env->cc);
		check_addrs(&p->env->bcc);
	}
	if ((p->parent == NULL || strcmp(p->parent->type, "message") == 0) !=
	    (p->env != NULL))
		abort();
	for (c = p->child; c != NULL; c = c->next) {
		if (c->parent != p || c->depth != p->depth + 1 ||
		    c->hdr_start < p->body_start || c->body_end > p->body_end ||
		    (prev != NULL && c->hdr_start < prev->body_end))
			abort();
		n += check(c, len);
		kids++;
		prev = c;
	}
	if (kids != p->nchildren)
		abort();
	if (strcmp(p->type, "multipart") == 0 && kids == 0)
		abort();
	if (strcmp(p->type, "message") == 0 && strcmp(p->subtype, "rfc822") == 0 &&
	    kids != 1)
		abort();
	if (strcmp(p->type, "multipart") != 0 && strcmp(p->type, "message") != 0 &&
	    kids != 0)
		abort();
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_part *root;
	struct mime_addrlist l = { NULL, 0 };
	struct buf out = BUF_INIT(BUF_NOLIMIT);
	size_t n;

	root = mime_parse((const char *)data, size);
	if (root->hdr_start != 0 || root->body_end != size)
		abort();
	n = check(root, size);
	if (n > MIME_PARTS_MAX || n != mime_count(root))
		abort();
	mime_free(root);

	mime_parse_addrs((const char *)data, size, &l);
	check_addrs(&l);
	mime_addrlist_free(&l);

	if (mime_decode_words((const char *)data, size, &out) != 0 ||
	    out.len > 3 * size)
		abort();
	buf_free(&out);
	return 0;
}
