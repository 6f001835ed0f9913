// SPDX-License-Identifier: GPL-2.0
/* The monitor's messages between nodes: every type round-trips, and a malformed one is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cvmm/cluster-msg.h"

static void expect_refused(const uint8_t *buf, size_t len, const char *why_part);

static void round_trip(const struct cl_msg *in, struct cl_msg *out)
{
	uint8_t buf[CL_MSG_MAX_LEN];
	const char *why = NULL;
	int len = cl_msg_encode(in, buf);

	assert_true(len > 1 && len <= CL_MSG_MAX_LEN);
	assert_int_equal(cl_msg_decode(buf, (size_t)len, out, &why), 0);
	assert_int_equal(out->type, in->type);
}

static void every_type_round_trips(void **state)
{
	struct cl_msg out, m;

	m = (struct cl_msg){ .type = CL_MSG_MSI, .msi = { .addr = 0xfee03000ull, .data = 0x4fd } };
	round_trip(&m, &out);
	assert_int_equal(out.msi.addr, 0xfee03000ull);
	assert_int_equal(out.msi.data, 0x4fd);

	m = (struct cl_msg){ .type = CL_MSG_KICK, .kick = { .vcpu = 7 } };
	round_trip(&m, &out);
	assert_int_equal(out.kick.vcpu, 7);

	m = (struct cl_msg){ .type = CL_MSG_IO,
			     .io = { .tag = 0xdeadbeef,
				     .mmio = true,
				     .write = true,
				     .len = 4,
				     .addr = 0xfec00010ull,
				     .data = { 1, 2, 3, 4 } } };
	round_trip(&m, &out);
	assert_int_equal(out.io.tag, 0xdeadbeef);
	assert_true(out.io.mmio && out.io.write);
	assert_int_equal(out.io.len, 4);
	assert_int_equal(out.io.addr, 0xfec00010ull);
	assert_memory_equal(out.io.data, m.io.data, 4);

	m = (struct cl_msg){ .type = CL_MSG_IO_DONE,
			     .io_done = { .tag = 9, .err = -ENOENT, .len = 1, .data = { 0x60 } } };
	round_trip(&m, &out);
	assert_int_equal(out.io_done.tag, 9);
	assert_int_equal(out.io_done.err, -ENOENT);
	assert_int_equal(out.io_done.data[0], 0x60);

	m = (struct cl_msg){ .type = CL_MSG_EOI, .eoi = { .vector = 0x31 } };
	round_trip(&m, &out);
	assert_int_equal(out.eoi.vector, 0x31);

	m = (struct cl_msg){ .type = CL_MSG_STOP, .stop = { .reason = 1 } };
	round_trip(&m, &out);
	assert_int_equal(out.stop.reason, 1);

	m = (struct cl_msg){ .type = CL_MSG_CLOCK_REQ, .clock = { .sent = 123456789012345ull } };
	round_trip(&m, &out);
	assert_int_equal(out.clock.sent, 123456789012345ull);

	m = (struct cl_msg){ .type = CL_MSG_CLOCK_REPLY,
			     .clock = { .sent = 1ull << 40, .replier = (1ull << 40) + 77 } };
	round_trip(&m, &out);
	assert_int_equal(out.clock.sent, 1ull << 40);
	assert_int_equal(out.clock.replier, (1ull << 40) + 77);

	m = (struct cl_msg){ .type = CL_MSG_VCPU_INCOMING, .incoming = { .vcpu = 3 } };
	round_trip(&m, &out);
	assert_int_equal(out.incoming.vcpu, 3);

	m = (struct cl_msg){ .type = CL_MSG_VCPU_MOVED,
			     .moved = { .vcpu = 1, .node = 2, .restore_us = 4500 } };
	round_trip(&m, &out);
	assert_int_equal(out.moved.vcpu, 1);
	assert_int_equal(out.moved.node, 2);
	assert_int_equal(out.moved.restore_us, 4500);

	m = (struct cl_msg){ .type = CL_MSG_PAUSED, .pause = { .seq = 12, .err = -ETIMEDOUT } };
	round_trip(&m, &out);
	assert_int_equal(out.pause.seq, 12);
	assert_int_equal(out.pause.err, -ETIMEDOUT);
	m = (struct cl_msg){ .type = CL_MSG_RESUME, .pause = { .seq = 13 } };
	round_trip(&m, &out);
	assert_int_equal(out.pause.seq, 13);
	m = (struct cl_msg){ .type = CL_MSG_LEFT };
	assert_int_equal(cl_msg_encode(&m, (uint8_t[CL_MSG_MAX_LEN]){ 0 }), 1);
}

/* A vCPU's state goes in pieces: each carries its place and exactly its bytes. */
static void state_pieces(void **state)
{
	struct cl_msg m = { .type = CL_MSG_VCPU_STATE,
			    .state = { .vcpu = 1, .total = 5000, .offset = 4800, .len = 200 } };
	uint8_t buf[CL_MSG_MAX_LEN];
	struct cl_msg out;
	const char *why = NULL;
	int len;

	for (int i = 0; i < 200; i++)
		m.state.data[i] = (uint8_t)(i * 7);
	len = cl_msg_encode(&m, buf);
	assert_int_equal(len, 15 + 200);
	assert_int_equal(cl_msg_decode(buf, (size_t)len, &out, &why), 0);
	assert_int_equal(out.state.vcpu, 1);
	assert_int_equal(out.state.total, 5000);
	assert_int_equal(out.state.offset, 4800);
	assert_int_equal(out.state.len, 200);
	assert_memory_equal(out.state.data, m.state.data, 200);

	/* a full piece fits, a piece of nothing or too much does not encode */
	m.state.len = CL_STATE_CHUNK;
	m.state.offset = 0;
	assert_true(cl_msg_encode(&m, buf) <= CL_MSG_MAX_LEN);
	m.state.len = 0;
	assert_int_equal(cl_msg_encode(&m, buf), -EINVAL);
	m.state.len = CL_STATE_CHUNK + 1;
	assert_int_equal(cl_msg_encode(&m, buf), -EINVAL);

	/* refused: a length that disagrees with the message, a piece past the total */
	m.state.len = 200;
	m.state.offset = 4800;
	len = cl_msg_encode(&m, buf);
	expect_refused(buf, (size_t)len - 1, "length does not match");
	expect_refused(buf, 15, "length");
	m.state.offset = 4801;
	len = cl_msg_encode(&m, buf);
	expect_refused(buf, (size_t)len, "outside the state");
}

static void expect_refused(const uint8_t *buf, size_t len, const char *why_part)
{
	const char *why = NULL;
	struct cl_msg m;

	assert_int_equal(cl_msg_decode(buf, len, &m, &why), -EPROTO);
	assert_non_null(why);
	assert_non_null(strstr(why, why_part));
}

static void malformed_refused(void **state)
{
	struct cl_msg m = { .type = CL_MSG_IO, .io = { .len = 2, .addr = 0x3f8 } };
	uint8_t buf[CL_MSG_MAX_LEN] = { 0 };
	int len;

	expect_refused(buf, 5, "type"); /* type 0 */
	buf[0] = CL_MSG_MAX;
	expect_refused(buf, 5, "type");
	expect_refused(buf, 0, "type");

	len = cl_msg_encode(&m, buf);
	expect_refused(buf, (size_t)len - 1, "length");
	expect_refused(buf, (size_t)len + 1, "length");
	buf[6] = 9; /* the I/O length byte */
	expect_refused(buf, (size_t)len, "I/O length");
	buf[6] = 0;
	expect_refused(buf, (size_t)len, "I/O length");
	buf[6] = 2;
	buf[5] = 0x80; /* an unknown flag */
	expect_refused(buf, (size_t)len, "flags");
}

static void encode_checks(void **state)
{
	uint8_t buf[CL_MSG_MAX_LEN];
	struct cl_msg m = { .type = CL_MSG_IO, .io = { .len = 0 } };

	assert_int_equal(cl_msg_encode(&m, buf), -EINVAL);
	m.io.len = CL_IO_MAX + 1;
	assert_int_equal(cl_msg_encode(&m, buf), -EINVAL);
	m = (struct cl_msg){ .type = CL_MSG_MAX };
	assert_int_equal(cl_msg_encode(&m, buf), -EINVAL);
	assert_string_equal(cl_msg_name(CL_MSG_CLOCK_REPLY), "clock_reply");
	assert_string_equal(cl_msg_name(CL_MSG_MAX), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_type_round_trips),
		cmocka_unit_test(state_pieces),
		cmocka_unit_test(malformed_refused),
		cmocka_unit_test(encode_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
