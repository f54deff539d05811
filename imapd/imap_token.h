/*
 * imap_token: the cursor and the RFC 3501 section 9 tokens (atoms,
 * quoted strings, literals, numbers, sequence sets, flags, dates) shared by
 * the command parser's files (imap_parse, imap_fetch, imap_search).
 * Internal to imapd/imap_parse*; callers use imap_parse.h.  Every function
 * returns 1, or 0 after recording the first error in the cursor.
 */
#ifndef POSTERN_IMAP_TOKEN_H
#define POSTERN_IMAP_TOKEN_H
#include "imap_parse.h"

/* The parse cursor over one whole command; strings go to c->arena. */
struct imap_p {
	const char *p;
	size_t len, i;
	struct imap_cmd *c;
	enum imap_err err;	/* the first error met */
};

/* Record e unless an error is recorded already; always 0. */
int imap_fail(struct imap_p *s, enum imap_err e);
/* The octet at the cursor, -1 at the end. */
int imap_cur(const struct imap_p *s);
/* Step over ch if it is next; 1 or 0 (nothing recorded). */
int imap_eat(struct imap_p *s, int ch);
/* A required SP (MISSING at the end, SYNTAX otherwise). */
int imap_sp(struct imap_p *s);
/* A required ch (MISSING at the end, e otherwise). */
int imap_need(struct imap_p *s, int ch, enum imap_err e);
int imap_atom_char(int ch);
int imap_astring_char(int ch);
/* Letters, digits, '.' and '-': the shape of every keyword. */
int imap_word_char(int ch);
/* Step over the run of octets ok() accepts; its start in *w, its length
 * returned (0: nothing, no error recorded). */
size_t imap_span(struct imap_p *s, const char **w, int (*ok)(int));
/* Case-insensitive: is w[0..n) the keyword name? */
int imap_word_is(const char *w, size_t n, const char *name);
/* The keyword at the cursor among names[0..n) (any case): its index, or
 * n after recording e (MISSING at the end). */
size_t imap_keyword(struct imap_p *s, const char *const *names, size_t n,
    enum imap_err e);
/* Copy p[0..n) and a NUL into the arena. */
int imap_put(struct imap_p *s, const char *p, size_t n, struct imap_str *out);
/* number (< 2^32); nz: nz-number (digit-nz first). */
int imap_number(struct imap_p *s, int nz, uint32_t *v);
/* mod-sequence-value, or mod-sequence-valzer if zero (RFC 7162 7):
 * 1*DIGIT, at most 2^63-1, not 0 unless zero (NUMBER otherwise). */
int imap_modseq(struct imap_p *s, int zero, uint64_t *v);
/* The octets of a literal: *off into the input, *n of them. */
int imap_literal_span(struct imap_p *s, size_t *off, size_t *n);
int imap_string(struct imap_p *s, struct imap_str *out);
int imap_nstring(struct imap_p *s, struct imap_str *out);
int imap_astring(struct imap_p *s, struct imap_str *out);
/* An astring whose bare form takes the octets ok() accepts. */
int imap_astring_with(struct imap_p *s, struct imap_str *out, int (*ok)(int));
/* mailbox: an astring; INBOX in any case becomes "INBOX". */
int imap_mailbox(struct imap_p *s, struct imap_str *out);
/* A sequence set into c->ranges. */
int imap_seqset(struct imap_p *s, struct imap_set *set);
/* flag into c->flags; flag-list "(" [flag *(SP flag)] ")". */
int imap_flag(struct imap_p *s);
int imap_flag_list(struct imap_p *s);
/* date (SEARCH) and date-time (APPEND, into c->date and the time). */
int imap_date_text(struct imap_p *s, struct imap_date *d);
int imap_date_time(struct imap_p *s);

/* FETCH's attribute argument (imap_fetch.c). */
int imap_fetch_atts(struct imap_p *s);
/* SEARCH's arguments from the SP after the name (imap_search.c). */
int imap_search_args(struct imap_p *s);
#endif
