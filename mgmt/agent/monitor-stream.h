/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One command passed to the node's monitor socket, and its reply streamed
 * back as an HTTP response body while it comes (libmicrohttpd's content
 * reader): the "progress" lines of a leave reach the client while the node
 * hands its pages over. The stream ends after the reply's last line (ok,
 * error, acked, pending) or when the node closes the socket (it exits after
 * a leave). The monitor serves one client at a time, so the socket is
 * closed as soon as the reply is complete.
 *
 * The reader blocks in its own connection's thread (the control service
 * runs a thread per connection) and touches nothing but its stream.
 */
#ifndef CVMM_MGMT_AGENT_MONITOR_STREAM_H
#define CVMM_MGMT_AGENT_MONITOR_STREAM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct monitor_stream;

/*
 * Connects to the monitor socket at path and sends line (no newline).
 * -errno (-ENOENT/-ECONNREFUSED: no monitor there yet) with err set. The
 * stream ends early once *stop is set (the agent is stopping).
 */
int monitor_stream_open(const char *path, const char *line, const atomic_bool *stop,
			struct monitor_stream **out, char *err, size_t errlen);

/* A libmicrohttpd content reader: the next bytes of the reply. */
ssize_t monitor_stream_read(void *cls, uint64_t pos, char *buf, size_t max);

/* Closes the socket and frees the stream (libmicrohttpd's free callback). */
void monitor_stream_free(void *cls);

#endif
