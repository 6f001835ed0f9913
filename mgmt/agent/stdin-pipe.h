/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The standard input of the command the sim agent runs: bytes that arrive in
 * STDIN frames are queued and written to a pipe whose other end is the
 * command's stdin, as fast as the command reads them; STDIN_EOF closes the
 * pipe once the queue is written.
 *
 * The write end is non-blocking, so a command that does not read its stdin
 * never stalls the agent (which must keep forwarding the command's output):
 * the queue grows instead, and the agent stops reading the control channel
 * while it holds STDIN_PIPE_HIGH bytes or more. That pushes back through
 * virtio-serial to the launcher, which reads its own stdin only while the
 * channel takes more (docs/sim.md, "Standard input").
 */
#ifndef CVMM_MGMT_AGENT_STDIN_PIPE_H
#define CVMM_MGMT_AGENT_STDIN_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STDIN_PIPE_HIGH (64 * 1024)

struct stdin_pipe {
	int fd; /* write end of the command's stdin, -1 once closed */
	uint8_t *buf;
	size_t len, cap;
	bool eof; /* STDIN_EOF came: close once the queue is written */
};

/* Takes fd (the pipe's write end, made non-blocking; -1 for none). Returns 0 or -errno. */
int stdin_pipe_init(struct stdin_pipe *p, int fd);
/*
 * Queues n bytes and writes what the pipe takes. Input after STDIN_EOF, or
 * once the command has closed its stdin, is dropped. Returns 0 or -errno.
 */
int stdin_pipe_push(struct stdin_pipe *p, const void *data, size_t n);
/* No more input: the pipe is closed once the queue is written. Returns 0 or -errno. */
int stdin_pipe_eof(struct stdin_pipe *p);
/*
 * Writes what the pipe takes now. A command that closed its stdin (EPIPE)
 * gets nothing more: the queue is dropped and the pipe closed. Returns 0 or
 * -errno for any other write error.
 */
int stdin_pipe_flush(struct stdin_pipe *p);
/* True while queued bytes wait for room in the pipe: poll its fd for POLLOUT. */
bool stdin_pipe_pending(const struct stdin_pipe *p);
/* True when the agent should stop reading the control channel for now. */
bool stdin_pipe_full(const struct stdin_pipe *p);
/* Closes the pipe and frees the queue (the command has exited). */
void stdin_pipe_close(struct stdin_pipe *p);

#endif
