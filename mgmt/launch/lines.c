// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "cvmm/lib/fdio.h"
#include "mgmt/launch/lines.h"

static void write_line(struct lines *lb, int fd, const char *tag)
{
	char line[LINES_MAX + 64];
	size_t t = strnlen(tag, 63);

	memcpy(line, tag, t);
	memcpy(line + t, lb->buf, lb->fill);
	/* Best effort: a closed stderr must not stop the launcher. */
	(void)write_full(fd, line, t + lb->fill);
	lb->fill = 0;
}

void lines_emit(struct lines *lb, int fd, const char *tag, const void *data, size_t len)
{
	const char *p = data;

	if (!tag) {
		(void)write_full(fd, data, len);
		return;
	}
	for (size_t k = 0; k < len; k++) {
		lb->buf[lb->fill++] = p[k];
		if (p[k] == '\n' || lb->fill == sizeof(lb->buf))
			write_line(lb, fd, tag);
	}
}

void lines_flush(struct lines *lb, int fd, const char *tag)
{
	if (!tag || !lb->fill)
		return;
	/* lines_emit() never leaves the buffer full, so the newline fits. */
	lb->buf[lb->fill++] = '\n';
	write_line(lb, fd, tag);
}
