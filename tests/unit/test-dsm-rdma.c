// SPDX-License-Identifier: GPL-2.0
/*
 * The pure parts of the rdma transport: options, the connection record, the
 * immediate, and credit accounting (including a replay of two nodes that
 * exhaust their credits at once, which must not deadlock).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dsm/rdma-conn.h"

static void opts_default_and_each_key(void **state)
{
	struct dsm_rdma_opts o;
	char err[128];

	assert_int_equal(dsm_rdma_parse_opts("rdma", &o, err, sizeof(err)), 0);
	assert_int_equal(o.payload, DSM_RDMA_PAYLOAD_SEND);
	assert_int_equal(o.gid_index, -1);
	assert_int_equal(o.port, 1);
	assert_int_equal(o.depth, DSM_RDMA_DEPTH_DEFAULT);
	assert_string_equal(o.dev, "");

	assert_int_equal(
		dsm_rdma_parse_opts("rdma:payload=send,payload=write,dev=rxe0,gid=1,port=2,depth=8",
				    &o, err, sizeof(err)),
		0);
	assert_int_equal(o.payload, DSM_RDMA_PAYLOAD_WRITE);
	assert_string_equal(o.dev, "rxe0");
	assert_int_equal(o.gid_index, 1);
	assert_int_equal(o.port, 2);
	assert_int_equal(o.depth, 8);
	assert_string_equal(dsm_rdma_payload_name(o.payload), "write");
}

static void opts_rejected(void **state)
{
	static const char *const bad[] = {
		"tcp",		"rdmax",	   "rdma:payload=read",
		"rdma:depth=2", "rdma:depth=5000", "rdma:gid=-1",
		"rdma:gid=x",	"rdma:port=0",	   "rdma:color=blue",
		"rdma:payload", "rdma:dev=",	   "rdma:depth=8x",
	};
	struct dsm_rdma_opts o;
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(dsm_rdma_parse_opts(bad[i], &o, err, sizeof(err)), -EINVAL);
		assert_true(err[0]);
	}
}

static struct dsm_rdma_info sample(void)
{
	struct dsm_rdma_info i = {
		.qpn = 0x123456,
		.psn = 0xabcdef,
		.lid = 0,
		.mtu = 3,
		.payload = DSM_RDMA_PAYLOAD_WRITE,
		.depth = 32,
		.slot_size = 4160,
		.rkey = 0xdeadbeef,
		.addr = 0x7f0012345000ull,
	};

	for (int k = 0; k < 16; k++)
		i.gid[k] = (uint8_t)(k * 17);
	return i;
}

static void info_round_trip(void **state)
{
	struct dsm_rdma_info in = sample(), out;
	uint8_t buf[DSM_RDMA_INFO_LEN];
	const char *field = NULL;

	dsm_rdma_info_put(buf, &in);
	assert_int_equal(dsm_rdma_info_get(buf, &out, &field), 0);
	assert_memory_equal(&in, &out, sizeof(in));

	in.payload = DSM_RDMA_PAYLOAD_SEND;
	in.slot_size = in.rkey = 0;
	in.addr = 0;
	dsm_rdma_info_put(buf, &in);
	assert_int_equal(dsm_rdma_info_get(buf, &out, &field), 0);
	assert_int_equal(out.payload, DSM_RDMA_PAYLOAD_SEND);
}

/* Corrupts one aspect of a good record and expects that field named. */
static void info_each_field_rejected(void **state)
{
	static const struct {
		size_t off;
		uint8_t val;
		const char *field;
	} cases[] = {
		{ 0, 0x00, "magic" },  { 4, 9, "version" }, { 5, 0, "mtu" },
		{ 5, 6, "mtu" },       { 6, 3, "payload" }, { 7, 1, "reserved" },
		{ 11, 1, "qpn" },      { 15, 1, "psn" },    { 34, 1, "reserved" },
		{ 63, 1, "reserved" }, { 36, 2, "depth" },  { 37, 0x10, "depth" },
	};
	struct dsm_rdma_info in = sample(), out;
	uint8_t buf[DSM_RDMA_INFO_LEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *field = NULL;

		dsm_rdma_info_put(buf, &in);
		buf[cases[i].off] = cases[i].val;
		assert_int_equal(dsm_rdma_info_get(buf, &out, &field), -EPROTO);
		assert_string_equal(field, cases[i].field);
	}
	/* qpn 0 */
	{
		struct dsm_rdma_info z = in;
		const char *field = NULL;

		z.qpn = 0;
		dsm_rdma_info_put(buf, &z);
		assert_int_equal(dsm_rdma_info_get(buf, &out, &field), -EPROTO);
		assert_string_equal(field, "qpn");
	}
	/* write mode without a landing ring; send mode with one */
	{
		struct dsm_rdma_info w = in, s = in;
		const char *field = NULL;

		w.addr = 0;
		dsm_rdma_info_put(buf, &w);
		assert_int_equal(dsm_rdma_info_get(buf, &out, &field), -EPROTO);
		assert_string_equal(field, "landing ring");
		s.payload = DSM_RDMA_PAYLOAD_SEND;
		dsm_rdma_info_put(buf, &s);
		assert_int_equal(dsm_rdma_info_get(buf, &out, &field), -EPROTO);
		assert_string_equal(field, "landing ring");
	}
}

static void imm_round_trip(void **state)
{
	enum dsm_rdma_imm_kind k;
	uint32_t c;

	for (unsigned kind = 0; kind < DSM_RDMA_IMM_KINDS; kind++) {
		uint32_t credits[] = { 0, 1, 17, DSM_RDMA_IMM_CREDIT_MAX };

		for (size_t i = 0; i < 4; i++) {
			assert_int_equal(dsm_rdma_imm_parse(dsm_rdma_imm(kind, credits[i]), &k, &c),
					 0);
			assert_int_equal(k, kind);
			assert_int_equal(c, credits[i]);
		}
	}
	assert_int_equal(dsm_rdma_imm_parse(3u << 24, &k, &c), -EPROTO);
	assert_int_equal(dsm_rdma_imm_parse(0xff000000u, &k, &c), -EPROTO);
}

static void credits_basic(void **state)
{
	struct dsm_rdma_credits c;

	dsm_rdma_credits_init(&c, 4, 4);
	/* Ordinary messages keep the last credit for a credit update. */
	for (int i = 0; i < 3; i++) {
		assert_true(dsm_rdma_may_send(&c, false));
		assert_int_equal(dsm_rdma_spend(&c), 0);
	}
	assert_false(dsm_rdma_may_send(&c, false));
	assert_true(dsm_rdma_may_send(&c, true));
	/* Returning more than was spent is a protocol error. */
	assert_int_equal(dsm_rdma_returned(&c, 4), -EPROTO);
	assert_int_equal(dsm_rdma_returned(&c, 3), 0);
	assert_int_equal(c.credits, 4);
	/* Owed credits: piggybacked, and an update is due at half the peer's budget. */
	assert_false(dsm_rdma_update_due(&c));
	dsm_rdma_reposted(&c);
	assert_false(dsm_rdma_update_due(&c));
	dsm_rdma_reposted(&c);
	assert_true(dsm_rdma_update_due(&c));
	assert_int_equal(dsm_rdma_spend(&c), 2);
	assert_int_equal(c.owed, 0);
	assert_int_equal(c.credits, 3);
}

/*
 * Two nodes, both with a backlog of ordinary messages, exchanging over
 * in-order links with every possible interleaving of "deliver one message"
 * and "send what credits allow" steps (a deterministic pseudo-random
 * schedule, many seeds). Each side must get its whole backlog across: no
 * deadlock, no credit going negative or beyond the depth.
 */
struct side {
	struct dsm_rdma_credits cr;
	unsigned backlog;
	unsigned inflight_msgs; /* on the link towards the other side */
	uint32_t link_credit[4096];
	unsigned link_head, link_tail;
	unsigned delivered;
};

static void side_send(struct side *s, bool credit_only)
{
	uint32_t ret = dsm_rdma_spend(&s->cr);

	s->link_credit[s->link_tail++ % 4096] = ret;
	if (!credit_only)
		s->backlog--;
}

static void side_pump(struct side *s)
{
	while (s->backlog && dsm_rdma_may_send(&s->cr, false))
		side_send(s, false);
	if (dsm_rdma_update_due(&s->cr) && dsm_rdma_may_send(&s->cr, true))
		side_send(s, true);
}

/* The receiver takes the next message from `from` and handles it. */
static void side_deliver(struct side *from, struct side *to)
{
	uint32_t credits = from->link_credit[from->link_head++ % 4096];

	assert_int_equal(dsm_rdma_returned(&to->cr, credits), 0);
	to->delivered++;
	dsm_rdma_reposted(&to->cr);
}

static void credits_no_deadlock(void **state)
{
	for (uint64_t seed = 1; seed <= 300; seed++) {
		unsigned depth = 4 + (unsigned)(seed % 5);
		struct side a = { .backlog = 200 }, b = { .backlog = 200 };
		uint64_t x = seed * 0x9e3779b97f4a7c15ull;
		unsigned steps = 0;

		dsm_rdma_credits_init(&a.cr, depth, depth);
		dsm_rdma_credits_init(&b.cr, depth, depth);
		while ((a.backlog || b.backlog || a.link_head != a.link_tail ||
			b.link_head != b.link_tail) &&
		       steps++ < 100000) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			switch (x % 4) {
			case 0:
				side_pump(&a);
				break;
			case 1:
				side_pump(&b);
				break;
			case 2:
				if (a.link_head != a.link_tail)
					side_deliver(&a, &b);
				break;
			case 3:
				if (b.link_head != b.link_tail)
					side_deliver(&b, &a);
				break;
			}
			/* Never more in flight than the receiver posted. */
			assert_true(a.link_tail - a.link_head <= depth);
			assert_true(b.link_tail - b.link_head <= depth);
			assert_true(a.cr.credits <= depth && b.cr.credits <= depth);
		}
		assert_int_equal(a.backlog, 0);
		assert_int_equal(b.backlog, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(opts_default_and_each_key),
		cmocka_unit_test(opts_rejected),
		cmocka_unit_test(info_round_trip),
		cmocka_unit_test(info_each_field_rejected),
		cmocka_unit_test(imm_round_trip),
		cmocka_unit_test(credits_basic),
		cmocka_unit_test(credits_no_deadlock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
