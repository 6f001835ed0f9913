/* SPDX-License-Identifier: GPL-2.0 */
/* Parsing of numbers and sizes given on command lines and in files. */
#ifndef CVMM_LIB_PARSE_H
#define CVMM_LIB_PARSE_H

#include <stddef.h>
#include <stdint.h>

/*
 * "512M", "1G", "4096", "2k": a byte count with an optional binary suffix
 * (K, M, G, T; case-insensitive; an optional trailing "iB" or "B").
 * Returns 0, or -EINVAL for anything else, -ERANGE on overflow.
 */
int parse_size(const char *s, uint64_t *out);

/* A decimal unsigned integer in [min, max]. -EINVAL or -ERANGE otherwise. */
int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

/* Formats a byte count as "512M", "1G", "1536M" or "4096" into buf. */
const char *format_size(uint64_t bytes, char *buf, int len);

/*
 * snprintf that reports truncation: returns 0, or -ENAMETOOLONG when the
 * result did not fit (buf then holds a truncated, terminated string).
 */
int format_checked(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * For parsers that report one message naming what is wrong: formats it into
 * err (errlen bytes) and returns -EINVAL, so a check is one line:
 * `return parse_error(err, errlen, "--nodes %s: ...", arg);`
 */
int parse_error(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
