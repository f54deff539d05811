/* Unit tests for common/base64: RFC 4648 vectors and strict decoding. */
#include "base64.h"
#include "unit.h"

static void
test_vectors(void)
{
	static const struct { const char *plain, *enc; } t[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
		{ "\xff\xfe\xfd", "//79" }, { "\xfb\xff", "+/8=" },
	};
	struct buf b = BUF_INIT(1000);

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_reset(&b);
		CHECK(base64_encode(t[i].plain, strlen(t[i].plain), &b) == 0);
		CHECK_STR(buf_cstr(&b), t[i].enc);
		buf_reset(&b);
		CHECK(base64_decode(t[i].enc, strlen(t[i].enc), &b) == 0);
		CHECK(b.len == strlen(t[i].plain));
		CHECK(memcmp(b.data ? b.data : "", t[i].plain, b.len) == 0);
	}
	buf_reset(&b);
	CHECK(base64_decode("AGZvbwBiYXI=", 12, &b) == 0);
	CHECK(b.len == 8 && memcmp(b.data, "\0foo\0bar", 8) == 0);
	buf_free(&b);
}

static void
test_strict(void)
{
	static const char *bad[] = {
		"Zg", "Zg=", "Zg===", "Z===", "====", "Zm9v\n", " Zm9v", "Zm 9v",
		"Zm9v====", "Zg==Zm9v", "Zh==", "Zm9=", "Zm-v", "Zm_v", "Zm9v\0", "=Zm9",
		"Zm=v", "Zg=A", "\xc3\xa4==",
	};
	struct buf b = BUF_INIT(1000);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = strlen(bad[i]) + (i == 14 ? 1 : 0);
		buf_reset(&b);
		CHECK(buf_append(&b, "x", 1) == 0);
		CHECK(base64_decode(bad[i], n, &b) == -1);
		CHECK(b.len == 1);	/* unchanged on failure */
	}
	buf_free(&b);
	/* limits */
	buf_init(&b, 3);
	CHECK(base64_encode("ab", 2, &b) == -1);
	CHECK(b.len == 0);
	CHECK(base64_decode("Zm9vYmFy", 8, &b) == -1);
	CHECK(b.len == 0);
	CHECK(base64_decode("Zm9v", 4, &b) == 0);
	CHECK(b.len == 3);
	buf_free(&b);
}

static void
test_roundtrip(void)
{
	unsigned char in[256];
	struct buf e = BUF_INIT(BUF_NOLIMIT), d = BUF_INIT(BUF_NOLIMIT);

	for (int i = 0; i < 256; i++)
		in[i] = (unsigned char)(i * 7 + 3);
	for (size_t n = 0; n <= sizeof(in); n++) {
		buf_reset(&e);
		buf_reset(&d);
		CHECK(base64_encode(in, n, &e) == 0);
		CHECK(e.len == BASE64_ENCODED_LEN(n));
		CHECK(base64_decode(e.data ? e.data : "", e.len, &d) == 0);
		CHECK(d.len == n && (n == 0 || memcmp(d.data, in, n) == 0));
	}
	buf_free(&e);
	buf_free(&d);
}

int
main(void)
{
	test_vectors();
	test_strict();
	test_roundtrip();
	return UNIT_DONE();
}
