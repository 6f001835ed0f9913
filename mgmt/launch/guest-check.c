// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgmt/launch/guest-check.h"

#define GUEST  "cvmm-guest: "
#define TEST   "cvmm-guest-test: "
#define NSTATS 4 /* guest statuses the check applies to: 0, 3, 4, 6 */

void guest_check_init(struct guest_check *c, const struct vc *vc)
{
	memset(c, 0, sizeof(*c));
	c->want_cpus = vc->ncpus;
	c->want_nodes = vc->nnodes;
	for (unsigned int i = 0; i < vc->nnodes; i++)
		for (unsigned int k = 0; k < vc->node[i].ncpus; k++)
			c->want_node[i] |= 1ull << vc->node[i].cpus[k];
}

/*
 * A Linux cpulist ("0-1,3", or "" for none) up to the first blank; returns 0
 * and the set, or -1 when it does not parse or names a CPU beyond the mask.
 */
static int parse_cpulist(const char *s, uint64_t *set)
{
	*set = 0;
	while (*s && *s != ' ') {
		char *end;
		unsigned long a = strtoul(s, &end, 10), b = a;

		if (end == s)
			return -1;
		if (*end == '-') {
			s = end + 1;
			b = strtoul(s, &end, 10);
			if (end == s)
				return -1;
		}
		if (a > b || b >= 64)
			return -1;
		for (unsigned long k = a; k <= b; k++)
			*set |= 1ull << k;
		s = end;
		if (*s == ',')
			s++;
		else if (*s && *s != ' ')
			return -1;
	}
	return 0;
}

/* A set as a cpulist, "0-1,3"; "none" when empty. */
static const char *format_cpulist(uint64_t set, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned int a = 0; a < 64 && used < len; a++) {
		unsigned int b = a;

		if (!(set & (1ull << a)))
			continue;
		while (b + 1 < 64 && (set & (1ull << (b + 1))))
			b++;
		used += (size_t)snprintf(buf + used, len - used, used ? ",%u" : "%u", a);
		if (b > a && used < len)
			used += (size_t)snprintf(buf + used, len - used, "-%u", b);
		a = b;
	}
	if (!set)
		snprintf(buf, len, "none");
	return buf;
}

static void cpu_report(struct guest_check *c, const char *list)
{
	uint64_t set;

	if (parse_cpulist(list, &set))
		return;
	c->cpus_seen = true;
	c->online = set;
	if (c->numa_seen)
		c->numa_stale = true;
}

/* "nodeN cpus=LIST[ mem_kb=K]" */
static void node_report(struct guest_check *c, const char *s)
{
	char *end;
	unsigned long id = strtoul(s, &end, 10);
	uint64_t set = 0;
	bool bad;

	if (end == s || strncmp(end, " cpus=", 6))
		return;
	if (c->numa_stale || !c->numa_seen) {
		c->nodes_shown = 0;
		c->node_bad_list = false;
		memset(c->node, 0, sizeof(c->node));
		c->numa_stale = false;
	}
	c->numa_seen = true;
	bad = id >= VC_MAX_NODES || parse_cpulist(end + 6, &set);
	if (bad) {
		c->node_bad_list = true;
		return;
	}
	c->nodes_shown |= 1u << id;
	c->node[id] = set;
}

static void guest_line(struct guest_check *c, const char *s)
{
	if (!strncmp(s, "init ", 5) || !strcmp(s, "init"))
		c->init = true;
	else if (!strncmp(s, "cpus=", 5) && strstr(s, " online="))
		cpu_report(c, strstr(s, " online=") + 8);
	else if (!strncmp(s, "online cpus=", 12))
		cpu_report(c, s + 12);
	else if (!strncmp(s, "node", 4))
		node_report(c, s + 4);
	else if (!strncmp(s, "done status=", 12)) {
		c->done = true;
		c->done_status = atoi(s + 12);
	}
}

static void test_line(struct guest_check *c, const char *s)
{
	const char *colon = strstr(s, ": FAIL");

	if (!colon || colon == s || (colon[6] && colon[6] != ' '))
		return;
	if (!c->fails++)
		snprintf(c->first_fail, sizeof(c->first_fail), "%s", s);
}

void guest_check_line(struct guest_check *c, const char *line)
{
	/* Kernel messages can share a console line with init's: look inside. */
	const char *g = strstr(line, GUEST), *t = strstr(line, TEST);

	if (g)
		guest_line(c, g + strlen(GUEST));
	else if (t)
		test_line(c, t + strlen(TEST));
}

static void end_line(struct guest_check *c)
{
	while (c->fill && c->line[c->fill - 1] == '\r')
		c->fill--;
	c->line[c->fill] = '\0';
	guest_check_line(c, c->line);
	c->fill = 0;
}

void guest_check_feed(struct guest_check *c, const void *data, size_t len)
{
	const char *p = data;

	for (size_t k = 0; k < len; k++) {
		if (p[k] == '\n')
			end_line(c);
		else if (c->fill < sizeof(c->line) - 1)
			c->line[c->fill++] = p[k];
	}
}

static bool checked(int vc_status)
{
	static const int guest_ends[NSTATS] = { 0, 3, 4, GUEST_CHECK_TIMEOUT };

	for (int i = 0; i < NSTATS; i++)
		if (vc_status == guest_ends[i])
			return true;
	return false;
}

static const char *how_ended(int vc_status)
{
	switch (vc_status) {
	case 0:
		return "powered off";
	case 3:
		return "reset";
	case 4:
		return "triple faulted";
	default:
		return "timed out";
	}
}

/* "node0 cpus=0 node1 cpus=1" of the wanted (shown == NULL) or shown layout. */
static void describe_layout(const struct guest_check *c, bool shown, char *buf, size_t len)
{
	size_t used = 0;
	char list[200];

	buf[0] = '\0';
	for (unsigned int i = 0; i < VC_MAX_NODES && used < len; i++) {
		if (shown ? !(c->nodes_shown & (1u << i)) : i >= c->want_nodes)
			continue;
		format_cpulist(shown ? c->node[i] : c->want_node[i], list, sizeof(list));
		used += (size_t)snprintf(buf + used, len - used, "%snode%u cpus=%s",
					 used ? " " : "", i, list);
	}
	if (shown && c->node_bad_list && used < len)
		snprintf(buf + used, len - used, "%sa node line that does not parse",
			 used ? ", " : "");
	if (!buf[0])
		snprintf(buf, len, "no NUMA node");
}

static bool layout_ok(const struct guest_check *c)
{
	uint32_t want = c->want_nodes >= 32 ? ~0u : (1u << c->want_nodes) - 1;

	/* A kernel without NUMA shows no node: fine for a VC of one node. */
	if (!c->numa_seen)
		return c->want_nodes == 1;
	if (c->node_bad_list || c->nodes_shown != want)
		return false;
	for (unsigned int i = 0; i < c->want_nodes; i++)
		if (c->node[i] != c->want_node[i])
			return false;
	return true;
}

int guest_check_verdict(struct guest_check *c, int vc_status, char *msg, size_t len)
{
	char a[300], b[300];

	if (c->fill)
		end_line(c);
	msg[0] = '\0';
	if (!checked(vc_status))
		return vc_status;
	if (!c->init) {
		snprintf(msg, len,
			 "no boot: expected the guest's init to start, the guest %s (status %d) "
			 "without a 'cvmm-guest: init' line",
			 how_ended(vc_status), vc_status);
		return GUEST_CHECK_NO_BOOT;
	}
	if (!c->done && vc_status == GUEST_CHECK_TIMEOUT) {
		snprintf(msg, len,
			 "timeout: expected the guest's init to finish, it ran but did not say "
			 "'cvmm-guest: done' within --timeout");
		return GUEST_CHECK_TIMEOUT;
	}
	if (!c->done && vc_status) {
		snprintf(msg, len, "the guest %s (status %d) before its init said 'done'",
			 how_ended(vc_status), vc_status);
		return vc_status;
	}
	if (!c->cpus_seen || __builtin_popcountll(c->online) != (int)c->want_cpus) {
		if (c->cpus_seen)
			snprintf(b, sizeof(b), "%d online (%s)", __builtin_popcountll(c->online),
				 format_cpulist(c->online, a, sizeof(a)));
		else
			snprintf(b, sizeof(b), "no CPU report");
		snprintf(msg, len,
			 "wrong CPU count: expected %u vCPU%s online, the guest showed %s",
			 c->want_cpus, c->want_cpus == 1 ? "" : "s", b);
		return GUEST_CHECK_WRONG_CPUS;
	}
	if (!layout_ok(c)) {
		describe_layout(c, false, a, sizeof(a));
		describe_layout(c, true, b, sizeof(b));
		snprintf(msg, len, "wrong NUMA layout: expected %s, the guest showed %s", a, b);
		return GUEST_CHECK_WRONG_NUMA;
	}
	if (c->fails || !c->done || c->done_status) {
		if (c->fails)
			snprintf(b, sizeof(b), "%u FAIL line%s, the first '%s'", c->fails,
				 c->fails == 1 ? "" : "s", c->first_fail);
		else if (!c->done)
			snprintf(b, sizeof(b), "a poweroff before 'cvmm-guest: done'");
		else
			snprintf(b, sizeof(b), "done status=%d", c->done_status);
		snprintf(msg, len,
			 "workload mismatch: expected every test to PASS, the guest showed %s", b);
		return GUEST_CHECK_WORKLOAD;
	}
	snprintf(msg, len, "passed: %u vCPUs online, %s, init done status=0", c->want_cpus,
		 (describe_layout(c, true, b, sizeof(b)), b));
	return vc_status;
}

const char *guest_check_name(int status)
{
	switch (status) {
	case GUEST_CHECK_NO_BOOT:
		return "no boot";
	case GUEST_CHECK_WRONG_CPUS:
		return "wrong CPU count";
	case GUEST_CHECK_WRONG_NUMA:
		return "wrong NUMA layout";
	case GUEST_CHECK_WORKLOAD:
		return "workload mismatch";
	case GUEST_CHECK_TIMEOUT:
		return "timeout";
	default:
		return NULL;
	}
}
