// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmm/lib/parse.h"
#include "mgmt/ctl/elastic.h"

int ctl_vc_node_find(const struct vc *vc, const char (*agent)[CTL_NAME_LEN], const char *arg,
		     unsigned int *idx, char *err, size_t errlen)
{
	const char *num = !strncmp(arg, "node", 4) ? arg + 4 : arg;
	unsigned long n;

	if (!parse_uint(num, 0, VC_MAX_NODES - 1, &n) && n < vc->nnodes) {
		*idx = (unsigned int)n;
		return 0;
	}
	for (unsigned int i = 0; i < vc->nnodes; i++) {
		if (!strcmp(agent[i], arg)) {
			*idx = i;
			return 0;
		}
	}
	snprintf(err, errlen,
		 "'%s' is not a node of VC %s (its nodes: 0 to %u, or their agents' names)", arg,
		 vc->name, vc->nnodes - 1);
	return -ENOENT;
}

bool ctl_node_present(const struct vc *vc, const enum ctl_member *member, unsigned int i)
{
	if (member[i] == CTL_MEMBER_LEFT)
		return false;
	return !vc->node[i].later || member[i] == CTL_MEMBER_JOINED;
}

int ctl_evict_check(const struct vc *vc, const enum ctl_member *member, unsigned int node, int to,
		    unsigned int *to_out, char *err, size_t errlen)
{
	unsigned int present = 0;

	for (unsigned int i = 0; i < vc->nnodes; i++)
		present += ctl_node_present(vc, member, i);
	if (member[node] == CTL_MEMBER_LEFT)
		return snprintf(err, errlen, "node %u already left VC %s", node, vc->name), -EPERM;
	if (!ctl_node_present(vc, member, node))
		return snprintf(err, errlen,
				"node %u has not joined VC %s (it joins later: cvmmctl vc "
				"add-node %s %u)",
				node, vc->name, vc->name, node),
		       -EPERM;
	if (present <= 1)
		return snprintf(err, errlen,
				"node %u is the last node of VC %s: there is nowhere to move its "
				"work (cvmmctl vc stop %s stops the VC)",
				node, vc->name, vc->name),
		       -EPERM;
	if (node == vc->io_node)
		return snprintf(err, errlen,
				"node %u is the I/O node of VC %s: its devices cannot move, so it "
				"cannot be evicted",
				node, vc->name),
		       -EPERM;
	*to_out = to < 0 ? vc->io_node : (unsigned int)to;
	if (*to_out == node)
		return snprintf(err, errlen, "--to: node %u cannot leave to itself", node), -EPERM;
	if (!ctl_node_present(vc, member, *to_out))
		return snprintf(err, errlen, "--to: node %u does not run in VC %s", *to_out,
				vc->name),
		       -EPERM;
	return 0;
}

int ctl_add_node_check(const struct vc *vc, const enum ctl_member *member, unsigned int node,
		       char *err, size_t errlen)
{
	if (!vc->node[node].later)
		return snprintf(err, errlen,
				"node %u of VC %s is not marked \"join\": \"later\" in its "
				"description: it starts with the VC",
				node, vc->name),
		       -EPERM;
	if (member[node] == CTL_MEMBER_JOINED)
		return snprintf(err, errlen, "node %u has already joined VC %s", node, vc->name),
		       -EPERM;
	if (member[node] == CTL_MEMBER_LEFT)
		return snprintf(err, errlen,
				"node %u left VC %s; it cannot join it again before the VC "
				"restarts",
				node, vc->name),
		       -EPERM;
	return 0;
}

int ctl_parse_progress(const char *line, uint64_t *done, uint64_t *total, double *rate)
{
	unsigned long long d, t;
	double r;

	if (sscanf(line, "progress pages %llu/%llu %lf/s", &d, &t, &r) != 3)
		return -EINVAL;
	*done = d;
	*total = t;
	*rate = r;
	return 0;
}

void ctl_progress_text(uint64_t done, uint64_t total, double rate, unsigned int width, char *buf,
		       size_t len)
{
	unsigned int fill = total ? (unsigned int)(done * width / total) : width;
	char bar[128];

	if (width >= sizeof(bar))
		width = sizeof(bar) - 1;
	if (fill > width)
		fill = width;
	memset(bar, '#', fill);
	memset(bar + fill, '.', width - fill);
	bar[width] = '\0';
	snprintf(buf, len, "[%s] %" PRIu64 "/%" PRIu64 " pages %3u%% %.0f pages/s", bar, done,
		 total, total ? (unsigned int)(done * 100 / total) : 100u, rate);
}

/* The number after word `key` in line; -ENOENT if there is none. */
static int field(const char *line, const char *key, uint64_t *v)
{
	size_t klen = strlen(key);

	for (const char *p = strstr(line, key); p; p = strstr(p + 1, key)) {
		if ((p == line || p[-1] == ' ') && p[klen] == ' ') {
			char *end;

			*v = strtoull(p + klen + 1, &end, 10);
			return end == p + klen + 1 ? -EINVAL : 0;
		}
	}
	return -ENOENT;
}

int ctl_parse_leave(const char *line, struct ctl_leave_result *res)
{
	uint64_t to, vcpus;
	const char *ck;

	memset(res, 0, sizeof(*res));
	if (strncmp(line, "ok left to node", 15))
		return -EINVAL;
	to = strtoull(line + 15, NULL, 10);
	if (field(line, "vcpus", &vcpus) || field(line, "pages", &res->pages))
		return -EINVAL;
	res->to = (unsigned int)to;
	res->vcpus = (unsigned int)vcpus;
	field(line, "handover_ms", &res->handover_ms);
	field(line, "paused_ms", &res->paused_ms);
	field(line, "max_move_us", &res->max_move_us);
	res->has_pushed = !field(line, "pushed", &res->pushed);
	field(line, "zero", &res->zero);
	ck = strstr(line, " checksum ");
	if (ck && sscanf(ck, " checksum %47s before %47s after", res->before, res->after) == 2)
		res->verified = true;
	return 0;
}

int ctl_parse_rehome(const char *line, struct ctl_rehome_result *res)
{
	const char *ck;

	memset(res, 0, sizeof(*res));
	if (strncmp(line, "ok rehomed to node", 18))
		return -EINVAL;
	res->to = (unsigned int)strtoull(line + 18, NULL, 10);
	if (field(line, "pages", &res->pages) || field(line, "pushed", &res->pushed) ||
	    field(line, "zero", &res->zero))
		return -EINVAL;
	field(line, "rehome_ms", &res->rehome_ms);
	field(line, "paused_ms", &res->paused_ms);
	ck = strstr(line, " checksum ");
	if (ck && sscanf(ck, " checksum %47s before %47s after", res->before, res->after) == 2)
		res->verified = true;
	return 0;
}

int ctl_parse_checksum(const char *line, char *hex, size_t hexlen, uint64_t *pages,
		       uint64_t *paused_ms)
{
	char h[40];
	unsigned long long n, p;

	if (sscanf(line, "ok checksum %39s pages %llu paused_ms %llu", h, &n, &p) != 3)
		return -EINVAL;
	snprintf(hex, hexlen, "%s", h);
	*pages = n;
	*paused_ms = p;
	return 0;
}
