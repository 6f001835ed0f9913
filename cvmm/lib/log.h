/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logging. Every message goes to stderr with the program's name in front, so
 * that output of several nodes stays attributable. An error is reported once,
 * where it has the most context; callers up the stack only return it.
 */
#ifndef CVMM_LIB_LOG_H
#define CVMM_LIB_LOG_H

#include <stdbool.h>

void log_set_prefix(const char *prefix);
void log_set_verbose(bool verbose);
bool log_verbose(void);

void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
