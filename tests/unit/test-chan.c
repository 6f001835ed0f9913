// SPDX-License-Identifier: GPL-2.0
/* The sim control channel's framing and EXEC encoding. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "mgmt/chan.h"

static struct chan_rx rx;

static void header_round_trip(void **state)
{
	uint8_t buf[CHAN_HDR_LEN];
	struct chan_hdr h;
	const char *what = NULL;

	chan_encode_hdr(buf, CHAN_STDOUT, 1234);
	/* Little endian, field by field, as docs/sim.md says. */
	assert_memory_equal(buf, "CVMC\x02\x00\x03\x00\xd2\x04\x00\x00", CHAN_HDR_LEN);
	assert_int_equal(chan_decode_hdr(buf, &h, &what), 0);
	assert_int_equal(h.type, CHAN_STDOUT);
	assert_int_equal(h.len, 1234);
}

static void bad_headers_name_the_field(void **state)
{
	uint8_t buf[CHAN_HDR_LEN];
	struct chan_hdr h;
	const char *what = NULL;

	chan_encode_hdr(buf, CHAN_EXIT, 4);
	buf[0] ^= 1;
	assert_int_equal(chan_decode_hdr(buf, &h, &what), -EPROTO);
	assert_string_equal(what, "magic");

	/* Version 1 had no STDIN: an agent of another build is refused. */
	chan_encode_hdr(buf, CHAN_EXIT, 4);
	buf[4] = 1;
	assert_int_equal(chan_decode_hdr(buf, &h, &what), -EPROTO);
	assert_string_equal(what, "version");

	chan_encode_hdr(buf, 0, 4);
	assert_int_equal(chan_decode_hdr(buf, &h, &what), -EPROTO);
	assert_string_equal(what, "type");
	chan_encode_hdr(buf, CHAN_TYPE_MAX, 4);
	assert_int_equal(chan_decode_hdr(buf, &h, &what), -EPROTO);

	chan_encode_hdr(buf, CHAN_STDOUT, CHAN_MAX_PAYLOAD + 1);
	assert_int_equal(chan_decode_hdr(buf, &h, &what), -EMSGSIZE);
	assert_string_equal(what, "length");
}

/* Frames split at every possible byte boundary come out whole and in order. */
static void reassembly_byte_by_byte(void **state)
{
	int sv[2];
	uint8_t stream[256];
	ssize_t n;
	struct chan_hdr h;
	const uint8_t *p;
	const char *what;
	int frames = 0;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(chan_send(sv[0], CHAN_HELLO, "node=0", 6), 0);
	assert_int_equal(chan_send(sv[0], CHAN_POWEROFF, NULL, 0), 0);
	assert_int_equal(chan_send(sv[0], CHAN_STDERR, "oops\n", 5), 0);
	n = read(sv[1], stream, sizeof(stream));
	assert_int_equal(n, 3 * CHAN_HDR_LEN + 11);
	close(sv[0]);
	close(sv[1]);

	chan_rx_init(&rx);
	for (ssize_t i = 0; i < n; i++) {
		int ret;

		chan_rx_feed(&rx, stream + i, 1);
		while ((ret = chan_rx_next(&rx, &h, &p, &what)) == 1) {
			switch (frames++) {
			case 0:
				assert_int_equal(h.type, CHAN_HELLO);
				assert_memory_equal(p, "node=0", 6);
				break;
			case 1:
				assert_int_equal(h.type, CHAN_POWEROFF);
				assert_int_equal(h.len, 0);
				break;
			case 2:
				assert_int_equal(h.type, CHAN_STDERR);
				assert_memory_equal(p, "oops\n", 5);
				break;
			}
		}
		assert_int_equal(ret, 0);
	}
	assert_int_equal(frames, 3);
}

static void corrupt_stream_is_reported(void **state)
{
	uint8_t junk[CHAN_HDR_LEN] = "GARBAGE!!!!";
	struct chan_hdr h;
	const uint8_t *p;
	const char *what = NULL;

	chan_rx_init(&rx);
	chan_rx_feed(&rx, junk, sizeof(junk));
	assert_int_equal(chan_rx_next(&rx, &h, &p, &what), -EPROTO);
	assert_string_equal(what, "magic");
}

static void largest_frame_fits(void **state)
{
	uint8_t hdr[CHAN_HDR_LEN];
	static uint8_t payload[CHAN_MAX_PAYLOAD];
	struct chan_hdr h;
	const uint8_t *p;
	const char *what;

	memset(payload, 0x5a, sizeof(payload));
	chan_rx_init(&rx);
	chan_encode_hdr(hdr, CHAN_STDOUT, CHAN_MAX_PAYLOAD);
	assert_true(chan_rx_room(&rx) >= CHAN_HDR_LEN + CHAN_MAX_PAYLOAD);
	chan_rx_feed(&rx, hdr, sizeof(hdr));
	chan_rx_feed(&rx, payload, sizeof(payload));
	assert_int_equal(chan_rx_next(&rx, &h, &p, &what), 1);
	assert_int_equal(h.len, CHAN_MAX_PAYLOAD);
	assert_memory_equal(p, payload, sizeof(payload));
	/* Once consumed, the whole buffer is free again. */
	assert_int_equal(chan_rx_room(&rx), sizeof(rx.buf));
}

/* STDIN carries the bytes as they are; STDIN_EOF nothing. */
static void stdin_frames(void **state)
{
	uint8_t buf[CHAN_HDR_LEN];
	struct chan_hdr h;
	const char *what = NULL;

	chan_encode_hdr(buf, CHAN_STDIN, 3);
	assert_memory_equal(buf, "CVMC\x02\x00\x07\x00\x03\x00\x00\x00", CHAN_HDR_LEN);
	assert_int_equal(chan_decode_hdr(buf, &h, &what), 0);
	assert_int_equal(h.type, CHAN_STDIN);
	assert_int_equal(h.len, 3);

	chan_encode_hdr(buf, CHAN_STDIN_EOF, 0);
	assert_memory_equal(buf, "CVMC\x02\x00\x08\x00\x00\x00\x00\x00", CHAN_HDR_LEN);
	assert_int_equal(chan_decode_hdr(buf, &h, &what), 0);
	assert_int_equal(h.type, CHAN_STDIN_EOF);
	assert_int_equal(h.len, 0);

	chan_encode_hdr(buf, CHAN_STDIN, CHAN_MAX_PAYLOAD);
	assert_int_equal(chan_decode_hdr(buf, &h, &what), 0);
}

/* A length the type never has means a corrupt stream, like a bad magic. */
static void lengths_checked_per_type(void **state)
{
	static const struct {
		enum chan_type type;
		uint32_t len;
	} bad[] = {
		{ CHAN_STDIN, 0 }, /* empty input would read like end of file */
		{ CHAN_STDIN_EOF, 1 }, { CHAN_POWEROFF, 4 }, { CHAN_EXIT, 3 }, { CHAN_EXIT, 5 },
	};
	uint8_t buf[CHAN_HDR_LEN];
	struct chan_hdr h;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *what = NULL;

		chan_encode_hdr(buf, bad[i].type, bad[i].len);
		assert_int_equal(chan_decode_hdr(buf, &h, &what), -EPROTO);
		assert_string_equal(what, "length for the type");
	}
}

/* Typed keys, a pasted block and the end of input arrive in order over a stream. */
static void stdin_stream_in_order(void **state)
{
	static uint8_t paste[5000], stream[2 * 5000];
	int sv[2], frames = 0, ret;
	struct chan_hdr h;
	const uint8_t *p;
	const char *what;
	size_t got = 0;
	ssize_t n;

	for (size_t i = 0; i < sizeof(paste); i++)
		paste[i] = (uint8_t)(i * 7);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(chan_send(sv[0], CHAN_STDIN, "l", 1), 0);
	assert_int_equal(chan_send(sv[0], CHAN_STDIN, "s\r", 2), 0);
	assert_int_equal(chan_send(sv[0], CHAN_STDIN, paste, sizeof(paste)), 0);
	assert_int_equal(chan_send(sv[0], CHAN_STDIN_EOF, NULL, 0), 0);
	close(sv[0]);
	while ((n = read(sv[1], stream + got, sizeof(stream) - got)) > 0)
		got += (size_t)n;
	close(sv[1]);
	assert_int_equal(got, 4 * CHAN_HDR_LEN + 3 + sizeof(paste));

	chan_rx_init(&rx);
	/* Fed in pieces of 1000 bytes, as reads from the port would come. */
	for (size_t off = 0; off < got; off += 1000) {
		chan_rx_feed(&rx, stream + off, got - off < 1000 ? got - off : 1000);
		while ((ret = chan_rx_next(&rx, &h, &p, &what)) == 1) {
			switch (frames++) {
			case 0:
				assert_int_equal(h.type, CHAN_STDIN);
				assert_memory_equal(p, "l", 1);
				break;
			case 1:
				assert_int_equal(h.len, 2);
				assert_memory_equal(p, "s\r", 2);
				break;
			case 2:
				assert_int_equal(h.len, sizeof(paste));
				assert_memory_equal(p, paste, sizeof(paste));
				break;
			case 3:
				assert_int_equal(h.type, CHAN_STDIN_EOF);
				assert_int_equal(h.len, 0);
				break;
			}
		}
		assert_int_equal(ret, 0);
	}
	assert_int_equal(frames, 4);
}

static void exec_round_trip(void **state)
{
	const char *argv[] = { "sh", "-c", "echo $X", NULL };
	const char *envp[] = { "PATH=/bin", "X=1", NULL };
	struct chan_exec in = { .cwd = "/work", .argv = argv, .envp = envp }, out;
	uint8_t buf[256];
	const char *what;
	int len = chan_exec_encode(&in, buf, sizeof(buf));

	assert_true(len > 0);
	assert_int_equal(chan_exec_decode(buf, (size_t)len, &out, &what), 0);
	assert_string_equal(out.cwd, "/work");
	assert_string_equal(out.argv[0], "sh");
	assert_string_equal(out.argv[2], "echo $X");
	assert_null(out.argv[3]);
	assert_string_equal(out.envp[1], "X=1");
	assert_null(out.envp[2]);
	free((void *)out.argv);
}

static void exec_too_big_or_malformed(void **state)
{
	const char *argv[] = { "true", NULL };
	struct chan_exec in = { .cwd = "/", .argv = argv, .envp = NULL }, out;
	uint8_t buf[64];
	const char *what = NULL;
	int len;

	assert_int_equal(chan_exec_encode(&in, buf, 10), -EMSGSIZE);
	len = chan_exec_encode(&in, buf, sizeof(buf));
	assert_int_equal(len, 8 + 2 + 5);

	/* Missing terminator. */
	assert_int_equal(chan_exec_decode(buf, (size_t)len - 1, &out, &what), -EPROTO);
	assert_non_null(what);
	/* Trailing garbage. */
	buf[len] = 'x';
	assert_int_equal(chan_exec_decode(buf, (size_t)len + 1, &out, &what), -EPROTO);
	/* argc of zero: there is no command. */
	buf[0] = 0;
	assert_int_equal(chan_exec_decode(buf, (size_t)len, &out, &what), -EPROTO);
	/* Counts larger than the payload could hold. */
	buf[0] = 0xff;
	buf[3] = 0x7f;
	assert_int_equal(chan_exec_decode(buf, (size_t)len, &out, &what), -EPROTO);
	assert_int_equal(chan_exec_decode(buf, 4, &out, &what), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(header_round_trip),
		cmocka_unit_test(bad_headers_name_the_field),
		cmocka_unit_test(reassembly_byte_by_byte),
		cmocka_unit_test(corrupt_stream_is_reported),
		cmocka_unit_test(largest_frame_fits),
		cmocka_unit_test(stdin_frames),
		cmocka_unit_test(lengths_checked_per_type),
		cmocka_unit_test(stdin_stream_in_order),
		cmocka_unit_test(exec_round_trip),
		cmocka_unit_test(exec_too_big_or_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
