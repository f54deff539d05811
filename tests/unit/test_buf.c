/* Unit tests for common/buf: bounds, growth, formatting, fixed arrays. */
#include "buf.h"
#include "unit.h"

static void
test_bounds(void)
{
	struct buf b;
	char big[100];

	buf_init(&b, 10);
	CHECK(buf_append(&b, "0123456789", 10) == 0);
	CHECK(b.len == 10);
	CHECK(buf_putc(&b, 'x') == -1);
	CHECK(b.len == 10);
	CHECK_STR(buf_cstr(&b), "0123456789");
	buf_reset(&b);
	CHECK(buf_printf(&b, "%s", "abcdefghijk") == -1);
	CHECK(b.len == 0);
	CHECK(buf_printf(&b, "%d-%s", 42, "ab") == 0);
	CHECK_STR(buf_cstr(&b), "42-ab");
	CHECK(buf_set(&b, "12345678901", 11) == -1);
	CHECK_STR(buf_cstr(&b), "42-ab");
	buf_free(&b);

	buf_init(&b, BUF_NOLIMIT);
	CHECK_STR(buf_cstr(&b), "");
	memset(big, 'a', sizeof(big));
	for (int i = 0; i < 1000; i++)
		CHECK(buf_append(&b, big, sizeof(big)) == 0);
	CHECK(b.len == 100000);
	CHECK(b.data[b.len] == '\0');
	buf_consume(&b, 99990);
	CHECK(b.len == 10);
	buf_truncate(&b, 3);
	CHECK(buf_eq(&b, "aaa"));
	CHECK(!buf_eq(&b, "aa"));
	buf_consume(&b, 50);
	CHECK(b.len == 0);
	buf_free_secret(&b);
	CHECK(b.data == NULL);
}

static void
test_binary(void)
{
	struct buf b = BUF_INIT(16);
	char *p;

	CHECK(buf_append(&b, "a\0b", 3) == 0);
	CHECK(b.len == 3 && b.data[1] == '\0' && b.data[3] == '\0');
	p = buf_release(&b);
	CHECK(p[0] == 'a' && p[2] == 'b');
	CHECK(b.data == NULL && b.len == 0);
	free(p);
	p = buf_release(&b);
	CHECK_STR(p, "");
	free(p);
	CHECK(buf_append(&b, NULL, 0) == 0);
	buf_free(&b);
}

static void
test_fixed(void)
{
	char s[6];

	CHECK(str_copy(s, sizeof(s), "hello") == 0);
	CHECK_STR(s, "hello");
	CHECK(str_copy(s, sizeof(s), "hello!") == -1);
	CHECK_STR(s, "");
	CHECK(str_format(s, sizeof(s), "%d", 12345) == 0);
	CHECK(str_format(s, sizeof(s), "%d", 123456) == -1);
	CHECK(str_copy(s, 0, "x") == -1);
}

int
main(void)
{
	test_bounds();
	test_binary();
	test_fixed();
	return UNIT_DONE();
}
