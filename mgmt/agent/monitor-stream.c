// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <microhttpd.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cvmm/lib/fdio.h"
#include "mgmt/agent/monitor-cmd.h"
#include "mgmt/agent/monitor-stream.h"

/* A reply that says nothing for this long is given up (a leave reports every second). */
#define SILENCE_MS (15 * 60 * 1000)
/* How often a waiting reader looks whether the agent stops. */
#define STOP_CHECK_MS 200

struct monitor_stream {
	int fd;
	const atomic_bool *stop;
	bool done;     /* the reply's last line has been passed on */
	char start[8]; /* the first bytes of the line being read */
	size_t nstart; /* how many of them are in start */
	bool at_start; /* the next byte starts a line */
};

int monitor_stream_open(const char *path, const char *line, const atomic_bool *stop,
			struct monitor_stream **out, char *err, size_t errlen)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct monitor_stream *s;
	int fd, ret;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(err, errlen, "monitor socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "socket: %s", strerror(-ret));
		return ret;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		ret = -errno;
		snprintf(err, errlen, "its monitor does not answer (%s); is it still starting?",
			 strerror(-ret));
		close(fd);
		return ret;
	}
	ret = write_full(fd, line, strlen(line));
	if (!ret)
		ret = write_full(fd, "\n", 1);
	s = ret ? NULL : calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "cannot send the command to the node's monitor");
		close(fd);
		return ret ? ret : -ENOMEM;
	}
	s->fd = fd;
	s->stop = stop;
	s->at_start = true;
	*out = s;
	return 0;
}

/* Follows the bytes passed on: marks the stream done after the reply's last line. */
static void scan(struct monitor_stream *s, const char *buf, size_t n)
{
	for (size_t i = 0; i < n && !s->done; i++) {
		if (s->at_start) {
			s->nstart = 0;
			s->at_start = false;
		}
		if (buf[i] == '\n') {
			s->done = monitor_reply_is_last(s->start, s->nstart);
			s->at_start = true;
		} else if (s->nstart < sizeof(s->start)) {
			s->start[s->nstart++] = buf[i];
		}
	}
}

ssize_t monitor_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct monitor_stream *s = cls;
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	unsigned int waited = 0;
	ssize_t n;
	size_t i;
	int ready;

	(void)pos;
	if (s->done)
		return MHD_CONTENT_READER_END_OF_STREAM;
	while ((ready = poll(&p, 1, STOP_CHECK_MS)) == 0 || (ready < 0 && errno == EINTR)) {
		waited += STOP_CHECK_MS;
		if (atomic_load(s->stop) || waited >= SILENCE_MS)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (ready < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	do
		n = read(s->fd, buf, max);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	/* Pass on up to the end of the last line, never what follows it. */
	for (i = 0; i < (size_t)n && !s->done; i++)
		scan(s, buf + i, 1);
	if (s->done) {
		shutdown(s->fd, SHUT_RDWR);
		return (ssize_t)i;
	}
	return n;
}

void monitor_stream_free(void *cls)
{
	struct monitor_stream *s = cls;

	if (!s)
		return;
	close(s->fd);
	free(s);
}
