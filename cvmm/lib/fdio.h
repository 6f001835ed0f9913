/* SPDX-License-Identifier: GPL-2.0 */
/* Whole-buffer reads and writes on file descriptors, retrying on EINTR. */
#ifndef CVMM_LIB_FDIO_H
#define CVMM_LIB_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* Writes all len bytes. Returns 0 or -errno. */
int write_full(int fd, const void *buf, size_t len);
/* Reads exactly len bytes. Returns 0, -EPIPE on end of file, or -errno. */
int read_full(int fd, void *buf, size_t len);

#endif
