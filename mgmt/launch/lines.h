/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Output of several nodes on one stream: cut into lines, each written with
 * its node's tag in front ("node1: ") in one write(), so lines of different
 * nodes never interleave. Used by `cvmm run --nodes` and `cvmm sim`.
 */
#ifndef CVMM_MGMT_LAUNCH_LINES_H
#define CVMM_MGMT_LAUNCH_LINES_H

#include <stddef.h>

#define LINES_MAX 4096 /* a longer line is cut */

struct lines {
	char buf[LINES_MAX];
	size_t fill;
};

/*
 * Writes data to fd: as it is when tag is NULL, else line by line with tag in
 * front, keeping a partial last line in lb for the next call.
 */
void lines_emit(struct lines *lb, int fd, const char *tag, const void *data, size_t len);

/* Writes a partial last line, if any, ended with a newline. */
void lines_flush(struct lines *lb, int fd, const char *tag);

#endif
