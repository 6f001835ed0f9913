// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>

#include "cvmm/lib/log.h"

/*
 * Process-wide by nature: stderr is one per process, and the prefix names the
 * process. This is the only mutable file-scope state outside per-node structs.
 */
static const char *log_prefix = "cvmm";
static bool log_verbose_on;

void log_set_prefix(const char *prefix)
{
	log_prefix = prefix;
}

void log_set_verbose(bool verbose)
{
	log_verbose_on = verbose;
}

bool log_verbose(void)
{
	return log_verbose_on;
}

static void vlog(const char *level, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "%s: %s%s\n", log_prefix, level, buf);
}

void pr_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("error: ", fmt, ap);
	va_end(ap);
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void pr_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void pr_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose_on)
		return;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap);
	va_end(ap);
}
