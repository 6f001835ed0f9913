// SPDX-License-Identifier: GPL-2.0
/* The sim agent's feed of a command's stdin: queueing, back-pressure, end of file. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mgmt/agent/stdin-pipe.h"

static size_t drain(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len && (n = read(fd, buf + got, len - got)) > 0)
		got += (size_t)n;
	return got;
}

static void bytes_pass_and_eof_closes(void **state)
{
	struct stdin_pipe p;
	uint8_t buf[16];
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(stdin_pipe_init(&p, fds[1]), 0);
	assert_int_equal(stdin_pipe_push(&p, "ls\r", 3), 0);
	assert_false(stdin_pipe_pending(&p));
	assert_int_equal(stdin_pipe_eof(&p), 0);
	assert_int_equal(p.fd, -1); /* nothing queued: closed at once */
	/* Input after the end is dropped, not an error. */
	assert_int_equal(stdin_pipe_push(&p, "x", 1), 0);
	assert_int_equal(drain(fds[0], buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "ls\r", 3);
	assert_int_equal(read(fds[0], buf, 1), 0);
	stdin_pipe_close(&p);
	close(fds[0]);
}

/* A command that does not read: the queue grows, never blocks, and says when it is full. */
static void a_slow_reader_queues(void **state)
{
	static uint8_t in[3 * STDIN_PIPE_HIGH], out[3 * STDIN_PIPE_HIGH];
	struct stdin_pipe p;
	size_t got = 0;
	int fds[2];

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 13);
	assert_int_equal(pipe(fds), 0);
	fcntl(fds[1], F_SETPIPE_SZ, 4096);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	assert_int_equal(stdin_pipe_init(&p, fds[1]), 0);
	for (size_t off = 0; off < sizeof(in); off += 1000)
		assert_int_equal(stdin_pipe_push(&p, in + off,
						 sizeof(in) - off < 1000 ? sizeof(in) - off : 1000),
				 0);
	assert_true(stdin_pipe_pending(&p));
	assert_true(stdin_pipe_full(&p));
	assert_int_equal(stdin_pipe_eof(&p), 0);
	assert_true(p.fd >= 0); /* still queued: the end waits for it */
	while (p.fd >= 0) {
		ssize_t n = read(fds[0], out + got, sizeof(out) - got);

		if (n > 0)
			got += (size_t)n;
		assert_int_equal(stdin_pipe_flush(&p), 0);
	}
	got += drain(fds[0], out + got, sizeof(out) - got);
	assert_int_equal(got, sizeof(in));
	assert_memory_equal(out, in, sizeof(in));
	assert_false(stdin_pipe_full(&p));
	stdin_pipe_close(&p);
	close(fds[0]);
}

/* A command that closed its stdin gets nothing more, and the agent goes on. */
static void a_closed_reader_drops_input(void **state)
{
	struct stdin_pipe p;
	int fds[2];

	signal(SIGPIPE, SIG_IGN); /* as the agent does */
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	assert_int_equal(stdin_pipe_init(&p, fds[1]), 0);
	assert_int_equal(stdin_pipe_push(&p, "data", 4), 0);
	assert_int_equal(p.fd, -1);
	assert_false(stdin_pipe_pending(&p));
	assert_int_equal(stdin_pipe_push(&p, "more", 4), 0);
	assert_int_equal(stdin_pipe_eof(&p), 0);
	stdin_pipe_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bytes_pass_and_eof_closes),
		cmocka_unit_test(a_slow_reader_queues),
		cmocka_unit_test(a_closed_reader_drops_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
