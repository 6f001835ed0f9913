// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mgmt/agent/nodelog.h"

/* Appends a line to a list that keeps the last NODELOG_MAX_LINES. */
static void keep_line(char (*lines)[NODELOG_LINE_LEN], unsigned int *n, const char *line,
		      size_t len)
{
	if (*n == NODELOG_MAX_LINES) {
		memmove(lines[0], lines[1], (NODELOG_MAX_LINES - 1) * sizeof(lines[0]));
		(*n)--;
	}
	if (len >= NODELOG_LINE_LEN)
		len = NODELOG_LINE_LEN - 1;
	memcpy(lines[*n], line, len);
	lines[*n][len] = '\0';
	/* A guest console may leave a carriage return behind. */
	lines[*n][strcspn(lines[*n], "\r")] = '\0';
	(*n)++;
}

void nodelog_scan(const char *text, size_t len, struct nodelog *out)
{
	const char *p = text, *end = text + len;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[NODELOG_LINE_LEN];

		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) ? n : sizeof(line) - 1),
			 p);
		if (!strncmp(line, "cvmm node: ", 11) && strstr(line, " stats: "))
			keep_line(out->stats, &out->nstats, p, n);
		else if (!strncmp(line, "cvmm ", 5) && strstr(line, ": error: "))
			keep_line(out->errors, &out->nerrors, p, n);
		p += n + 1;
	}
}

int nodelog_parse_stats(const char *line, struct node_stats *st)
{
	const char *s = strstr(line, " stats: ");
	int end = 0;

	if (!s)
		return -EINVAL;
	if (sscanf(s,
		   " stats: faults read %" SCNu64 " write %" SCNu64 " upgrade %" SCNu64
		   "; remote fetches %" SCNu64 "; pages in %" SCNu64 " out %" SCNu64
		   "; invalidations sent %" SCNu64 " received %" SCNu64 "; bytes in %" SCNu64
		   " out %" SCNu64 "%n",
		   &st->faults_read, &st->faults_write, &st->faults_upgrade, &st->remote_fetches,
		   &st->pages_in, &st->pages_out, &st->inv_sent, &st->inv_received, &st->bytes_in,
		   &st->bytes_out, &end) != 10 ||
	    !end)
		return -EINVAL;
	return 0;
}
