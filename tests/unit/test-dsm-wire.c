// SPDX-License-Identifier: GPL-2.0
/* The tcp framing of DSM messages: round trips and every rejection path. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dsm/transport.h"
#include "dsm/wire.h"

static uint8_t frame[DSM_WIRE_MAX_FRAME + 64];
static uint8_t page[DSM_PAGE_SIZE];

static size_t build(uint8_t type, uint16_t flags, uint32_t seq, uint64_t pg, uint32_t len)
{
	struct dsm_msg m = {
		.type = type, .flags = flags, .seq = seq, .page = pg, .len = len, .payload = page
	};

	for (unsigned i = 0; i < sizeof(page); i++)
		page[i] = (uint8_t)(i * 7 + 3);
	dsm_wire_encode(frame, &m);
	memcpy(frame + DSM_WIRE_HDR_LEN, page, len);
	return DSM_WIRE_HDR_LEN + len;
}

static void expect_reject(size_t len, uint32_t seq, const char *field)
{
	struct dsm_wire_err err = { 0 };
	struct dsm_msg m;
	size_t flen;

	assert_int_equal(dsm_wire_decode(frame, len, seq, &m, &flen, &err), -EPROTO);
	assert_non_null(err.field);
	assert_string_equal(err.field, field);
	assert_true(err.what[0]);
}

static void round_trip(void **state)
{
	struct dsm_wire_err err;
	struct dsm_msg m;
	size_t len = build(DSM_MSG_GRANT_READ, 0, 7, 123456789012ull, DSM_PAGE_SIZE), flen;

	assert_int_equal(dsm_wire_decode(frame, len, 7, &m, &flen, &err), 0);
	assert_int_equal(flen, len);
	assert_int_equal(m.type, DSM_MSG_GRANT_READ);
	assert_int_equal(m.seq, 7);
	assert_int_equal(m.page, 123456789012ull);
	assert_int_equal(m.len, DSM_PAGE_SIZE);
	assert_memory_equal(m.payload, page, DSM_PAGE_SIZE);

	len = build(DSM_MSG_FETCH, DSM_MF_FETCH_WRITE, 1, 5, 0);
	assert_int_equal(dsm_wire_decode(frame, len, 1, &m, &flen, &err), 0);
	assert_int_equal(m.flags, DSM_MF_FETCH_WRITE);
	assert_null(m.payload);
}

static void truncated_waits(void **state)
{
	struct dsm_wire_err err;
	struct dsm_msg m;
	size_t len = build(DSM_MSG_FETCH_REPLY, 0, 1, 0, DSM_PAGE_SIZE), flen;

	for (size_t n = 0; n < len; n += 97)
		assert_int_equal(dsm_wire_decode(frame, n, 1, &m, &flen, &err), -EAGAIN);
	assert_int_equal(dsm_wire_decode(frame, len - 1, 1, &m, &flen, &err), -EAGAIN);
	assert_int_equal(dsm_wire_decode(frame, len + 10, 1, &m, &flen, &err), 0);
	assert_int_equal(flen, len);
}

static void each_field_rejected(void **state)
{
	size_t len;

	len = build(DSM_MSG_INV, 0, 3, 9, 0);
	frame[0] ^= 1;
	expect_reject(len, 3, "magic");
	expect_reject(4, 3, "magic"); /* garbage is refused before a full header */

	len = build(DSM_MSG_INV, 0, 3, 9, 0);
	frame[4] = DSM_PROTO_VERSION + 1;
	expect_reject(len, 3, "version");

	len = build(DSM_MSG_INV, 0, 3, 9, 0);
	frame[5] = DSM_MSG_MAX;
	expect_reject(len, 3, "type");
	frame[5] = 0;
	expect_reject(len, 3, "type");

	len = build(DSM_MSG_INV, DSM_MF_FETCH_WRITE, 3, 9, 0);
	expect_reject(len, 3, "flags");

	len = build(DSM_MSG_INV, 0, 3, 9, 0);
	expect_reject(len, 4, "seq");
	expect_reject(len, 2, "seq");

	len = build(DSM_MSG_PING, 0, 3, 9, 0);
	expect_reject(len, 3, "page");

	len = build(DSM_MSG_INV, 0, 3, 9, 0);
	frame[28] = 1;
	expect_reject(len, 3, "reserved");

	len = build(DSM_MSG_INV, 0, 3, 9, 0);
	frame[16] ^= 0x80; /* page changed after the checksum */
	expect_reject(len, 3, "checksum");

	len = build(DSM_MSG_GRANT_READ, 0, 3, 9, DSM_PAGE_SIZE);
	frame[DSM_WIRE_HDR_LEN + 100] ^= 4; /* payload corrupted */
	expect_reject(len, 3, "checksum");
}

static void lengths_checked_per_type(void **state)
{
	/* a payload where none is allowed, and a short page */
	build(DSM_MSG_INV, 0, 1, 0, 0);
	frame[8] = 16;
	expect_reject(DSM_WIRE_HDR_LEN, 1, "length");
	build(DSM_MSG_GRANT_READ, 0, 1, 0, DSM_PAGE_SIZE);
	frame[8] = 0;
	frame[9] = 0;
	expect_reject(DSM_WIRE_HDR_LEN, 1, "length");
	/* oversized: rejected from the header alone, not waited for */
	build(DSM_MSG_GRANT_READ, 0, 1, 0, DSM_PAGE_SIZE);
	frame[10] = 0x10;
	expect_reject(DSM_WIRE_HDR_LEN, 1, "length");
	build(DSM_MSG_GRANT_WRITE, 0, 1, 0, 0); /* optional page: 0 is fine */
	struct dsm_wire_err err;
	struct dsm_msg m;
	size_t flen;

	assert_int_equal(dsm_wire_decode(frame, DSM_WIRE_HDR_LEN, 1, &m, &flen, &err), 0);
}

/* Application messages: 1 to DSM_APP_MAX opaque bytes, delivered as sent. */
static void app_messages(void **state)
{
	struct dsm_wire_err err;
	struct dsm_msg m;
	size_t flen, len;

	len = build(DSM_MSG_APP, 0, 1, 0, 13);
	assert_int_equal(dsm_wire_decode(frame, len, 1, &m, &flen, &err), 0);
	assert_int_equal(m.type, DSM_MSG_APP);
	assert_int_equal(m.len, 13);
	assert_memory_equal(m.payload, page, 13);
	len = build(DSM_MSG_APP, 0, 1, 0, DSM_APP_MAX);
	assert_int_equal(dsm_wire_decode(frame, len, 1, &m, &flen, &err), 0);
	build(DSM_MSG_APP, 0, 1, 0, 0);
	expect_reject(DSM_WIRE_HDR_LEN, 1, "length");
	len = build(DSM_MSG_APP, 0, 1, 0, DSM_APP_MAX + 1);
	expect_reject(len, 1, "length");
	len = build(DSM_MSG_APP, 0, 1, 7, 13);
	expect_reject(len, 1, "page");
}

static void hello_round_trip_and_check(void **state)
{
	struct dsm_hello a = { .version = DSM_PROTO_VERSION,
			       .node = 2,
			       .nnodes = 4,
			       .npages = 1ull << 33,
			       .config_hash = 0x1122334455667788ull };
	struct dsm_hello b, ours = a;
	uint8_t buf[sizeof(struct dsm_hello)];
	const char *field = NULL;

	dsm_wire_put_hello(buf, &a);
	dsm_wire_get_hello(buf, &b);
	assert_int_equal(b.node, 2);
	assert_int_equal(b.npages, 1ull << 33);
	assert_int_equal(b.config_hash, a.config_hash);

	ours.node = 0;
	assert_int_equal(dsm_hello_check(&ours, &b, &field), 0);
	b.config_hash++;
	assert_int_equal(dsm_hello_check(&ours, &b, &field), -EPROTO);
	assert_string_equal(field, "hello.config_hash");
	b = a;
	b.node = 0;
	assert_int_equal(dsm_hello_check(&ours, &b, &field), -EPROTO);
	assert_string_equal(field, "hello.node");
	b = a;
	b.nnodes = 3;
	assert_int_equal(dsm_hello_check(&ours, &b, &field), -EPROTO);
	assert_string_equal(field, "hello.nnodes");
}

static void descriptors(void **state)
{
	assert_null(dsm_msg_desc(0));
	assert_null(dsm_msg_desc(DSM_MSG_MAX));
	for (unsigned t = 1; t < DSM_MSG_MAX; t++)
		assert_non_null(dsm_msg_desc(t));
	assert_string_equal(dsm_msg_name(999), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),	       cmocka_unit_test(truncated_waits),
		cmocka_unit_test(each_field_rejected), cmocka_unit_test(lengths_checked_per_type),
		cmocka_unit_test(app_messages),	       cmocka_unit_test(hello_round_trip_and_check),
		cmocka_unit_test(descriptors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
