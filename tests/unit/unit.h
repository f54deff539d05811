/*
 * A tiny unit-test harness: CHECK(cond) counts a pass or prints the failing
 * line; UNIT_DONE() prints "N passed, N failed" and returns the exit code.
 */
#ifndef POSTERN_UNIT_H
#define POSTERN_UNIT_H
#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed;

#define CHECK(cond) do { if (cond) unit_passed++; else { unit_failed++; \
	fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
	if (a_ != NULL && b_ != NULL && strcmp(a_, b_) == 0) unit_passed++; else { \
	unit_failed++; fprintf(stderr, "%s:%d: FAILED: %s == %s (\"%s\" vs \"%s\")\n", \
	__FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } } while (0)
#define UNIT_DONE() (printf("%d passed, %d failed\n", unit_passed, unit_failed), \
	unit_failed ? 1 : 0)
#endif
