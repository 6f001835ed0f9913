// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mgmt/agent/stdin-pipe.h"

int stdin_pipe_init(struct stdin_pipe *p, int fd)
{
	*p = (struct stdin_pipe){ .fd = fd };
	if (fd >= 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static void close_fd(struct stdin_pipe *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->len = 0;
}

int stdin_pipe_flush(struct stdin_pipe *p)
{
	size_t off = 0;
	int ret = 0;

	while (p->fd >= 0 && off < p->len) {
		ssize_t n = write(p->fd, p->buf + off, p->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			/* EPIPE: the command closed its stdin and wants no more. */
			ret = errno == EPIPE ? 0 : -errno;
			close_fd(p);
			return ret;
		}
		off += (size_t)n;
	}
	memmove(p->buf, p->buf + off, p->len - off);
	p->len -= off;
	if (p->eof && !p->len)
		close_fd(p);
	return 0;
}

int stdin_pipe_push(struct stdin_pipe *p, const void *data, size_t n)
{
	if (p->fd < 0 || p->eof)
		return 0;
	if (p->len + n > p->cap) {
		size_t cap = p->cap ? p->cap : 4096;
		uint8_t *buf;

		while (cap < p->len + n)
			cap *= 2;
		buf = realloc(p->buf, cap);
		if (!buf)
			return -ENOMEM;
		p->buf = buf;
		p->cap = cap;
	}
	memcpy(p->buf + p->len, data, n);
	p->len += n;
	return stdin_pipe_flush(p);
}

int stdin_pipe_eof(struct stdin_pipe *p)
{
	p->eof = true;
	return stdin_pipe_flush(p);
}

bool stdin_pipe_pending(const struct stdin_pipe *p)
{
	return p->fd >= 0 && p->len > 0;
}

bool stdin_pipe_full(const struct stdin_pipe *p)
{
	return p->len >= STDIN_PIPE_HIGH;
}

void stdin_pipe_close(struct stdin_pipe *p)
{
	close_fd(p);
	free(p->buf);
	*p = (struct stdin_pipe){ .fd = -1 };
}
