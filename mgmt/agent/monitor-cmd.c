// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cvmm/lib/parse.h"
#include "mgmt/agent/monitor-cmd.h"
#include "mgmt/vc/vc.h"

#define MAX_WORDS 4

enum arg_kind { ARG_NONE, ARG_NODE, ARG_VCPU, ARG_COUNT, ARG_SEQ, ARG_VERIFY };

/* A command: its word and its arguments, the last `optional` of them optional. */
static const struct monitor_cmd {
	const char *name;
	enum arg_kind arg[2];
	unsigned int nargs, optional;
	const char *usage;
} cmds[] = {
	{ "placement", { ARG_NONE }, 0, 0, "placement" },
	{ "checksum", { ARG_NONE }, 0, 0, "checksum" },
	{ "leave", { ARG_NODE, ARG_VERIFY }, 2, 1, "leave NODE [verify]" },
	{ "rehome", { ARG_NODE, ARG_VERIFY }, 2, 1, "rehome NODE [verify]" },
	{ "node-join", { ARG_NODE }, 1, 0, "node-join NODE" },
	{ "node-leave", { ARG_NODE }, 1, 0, "node-leave NODE" },
	{ "node-leave-keep", { ARG_NODE }, 1, 0, "node-leave-keep NODE" },
	{ "status", { ARG_SEQ }, 1, 0, "status SEQ" },
	{ "vcpu-move", { ARG_VCPU, ARG_NODE }, 2, 0, "vcpu-move VCPU NODE" },
	{ "rtt", { ARG_NODE, ARG_COUNT }, 2, 1, "rtt NODE [COUNT]" },
};

static int check_arg(enum arg_kind k, const char *w, char *err, size_t errlen)
{
	unsigned long v;

	switch (k) {
	case ARG_NODE:
		if (parse_uint(w, 0, VC_MAX_NODES - 1, &v))
			return parse_error(err, errlen, "'%s' is not a node id (0-%d)", w,
					   VC_MAX_NODES - 1);
		return 0;
	case ARG_VCPU:
		if (parse_uint(w, 0, VC_MAX_CPUS - 1, &v))
			return parse_error(err, errlen, "'%s' is not a vCPU index (0-%d)", w,
					   VC_MAX_CPUS - 1);
		return 0;
	case ARG_COUNT:
		if (parse_uint(w, 1, 1000, &v))
			return parse_error(err, errlen, "'%s' is not a count (1-1000)", w);
		return 0;
	case ARG_SEQ:
		if (parse_uint(w, 0, 1ul << 31, &v))
			return parse_error(err, errlen, "'%s' is not a message number", w);
		return 0;
	case ARG_VERIFY:
		if (strcmp(w, "verify"))
			return parse_error(err, errlen, "'%s': the only option is verify", w);
		return 0;
	case ARG_NONE:
		break;
	}
	return -EINVAL;
}

int monitor_cmd_check(const char *in, char *line, size_t len, char *err, size_t errlen)
{
	char words[MAX_WORDS + 1][24];
	const struct monitor_cmd *cmd = NULL;
	unsigned int n = 0;
	size_t off = 0;

	for (const char *p = in; *p;) {
		size_t w;

		p += strspn(p, " \t");
		if (!*p)
			break;
		w = strcspn(p, " \t");
		if (n == MAX_WORDS || w >= sizeof(words[0]))
			return parse_error(err, errlen, "'%.40s': %s", in,
					   n == MAX_WORDS ? "too many words" : "word too long");
		snprintf(words[n++], sizeof(words[0]), "%.*s", (int)w, p);
		p += w;
	}
	if (!n)
		return parse_error(err, errlen, "%s", "empty command");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, words[0]))
			cmd = &cmds[i];
	if (!cmd) {
		for (const char *s = words[0]; *s; s++)
			if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
				return parse_error(err, errlen, "%s", "command not allowed");
		return parse_error(err, errlen,
				   "'%s' is not a command the agent passes (placement, checksum, "
				   "leave, rehome, node-join, node-leave, node-leave-keep, status, "
				   "vcpu-move, rtt)",
				   words[0]);
	}
	if (n - 1 > cmd->nargs || n - 1 < cmd->nargs - cmd->optional)
		return parse_error(err, errlen, "usage: %s", cmd->usage);
	for (unsigned int i = 1; i < n; i++)
		if (check_arg(cmd->arg[i - 1], words[i], err, errlen))
			return -EINVAL;
	line[0] = '\0';
	for (unsigned int i = 0; i < n; i++) {
		int m = snprintf(line + off, len - off, "%s%s", i ? " " : "", words[i]);

		if (m < 0 || (size_t)m >= len - off)
			return parse_error(err, errlen, "%s", "command too long");
		off += (size_t)m;
	}
	return 0;
}

int monitor_reply_is_last(const char *line, size_t len)
{
	static const char *const last[] = { "ok", "error", "acked", "pending" };

	for (size_t i = 0; i < sizeof(last) / sizeof(last[0]); i++) {
		size_t n = strlen(last[i]);

		if (len >= n && !strncmp(line, last[i], n) &&
		    (len == n || line[n] == ' ' || line[n] == '\n'))
			return 1;
	}
	return 0;
}
