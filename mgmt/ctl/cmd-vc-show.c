// SPDX-License-Identifier: GPL-2.0
/* cvmmctl vc status and vc console: what a VC's nodes are doing. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cvmm/lib/fdio.h"
#include "cvmm/lib/log.h"
#include "cvmm/lib/parse.h"
#include "mgmt/ctl/client.h"
#include "mgmt/ctl/ctl.h"

#define PAGE_SIZE 4096ull

/*
 * The sum of every sample of metric `name` in Prometheus text; -1 if there
 * is none. Used on the live metrics a node writes (docs/management.md).
 */
static double metric_sum(const char *text, const char *name)
{
	size_t len = strlen(name);
	double sum = -1;

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *v;

		if (strncmp(l, name, len) || (l[len] != '{' && l[len] != ' '))
			continue;
		v = l + len;
		if (*v == '{')
			v = strchr(v, '}');
		if (!v)
			continue;
		sum = (sum < 0 ? 0 : sum) + strtod(v + 1, NULL);
	}
	return sum;
}

/*
 * The value of the first sample of metric `name` whose labels include
 * key="value" (any sample if key is NULL); -1 if there is none.
 */
static double metric_get(const char *text, const char *name, const char *key, const char *value)
{
	size_t len = strlen(name);
	char want[96];

	snprintf(want, sizeof(want), "%s=\"%s\"", key ? key : "", value ? value : "");
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *end;

		if (strncmp(l, name, len) || (l[len] != '{' && l[len] != ' '))
			continue;
		end = l[len] == '{' ? strchr(l + len, '}') : l + len;
		if (!end)
			continue;
		if (key && !(l[len] == '{' &&
			     memmem(l + len, (size_t)(end - l - len), want, strlen(want))))
			continue;
		return strtod(end + 1, NULL);
	}
	return -1;
}

/*
 * What the node's live statistics file says (docs/management.md): its DSM
 * figures, and the vCPUs it reports running on itself (cvmm_vcpu_node).
 */
static json_t *live_figures(const char *live, unsigned int node)
{
	static const char *const kinds[] = { "read", "write", "upgrade" };
	json_t *o = json_object(), *faults = json_object(), *vcpus = json_array();
	static const char *const gauges[][2] = {
		{ "remote_fetches", "cvmm_dsm_remote_fetches_total" },
		{ "pages_owned", "cvmm_dsm_pages_owned" },
		{ "pages_homed", "cvmm_dsm_pages_homed" },
	};
	char k[16];

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		json_object_set_new(faults, kinds[i],
				    json_integer((json_int_t)metric_get(
					    live, "cvmm_dsm_faults_total", "kind", kinds[i])));
	json_object_set_new(o, "faults", faults);
	for (size_t i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++)
		json_object_set_new(
			o, gauges[i][0],
			json_integer((json_int_t)metric_get(live, gauges[i][1], NULL, NULL)));
	for (unsigned int v = 0; v < VC_MAX_CPUS; v++) {
		snprintf(k, sizeof(k), "%u", v);
		if (metric_get(live, "cvmm_vcpu_node", "vcpu", k) == (double)node)
			json_array_append_new(vcpus, json_integer(v));
	}
	json_object_set_new(o, "vcpus", vcpus);
	return o;
}

static json_t *vcpu_list(const struct vc_node *n)
{
	json_t *a = json_array();

	for (unsigned int k = 0; k < n->ncpus; k++)
		json_array_append_new(a, json_integer(n->cpus[k]));
	return a;
}

static void vcpu_text(const struct vc_node *n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int k = 0; k < n->ncpus && off < len; k++)
		off += (size_t)snprintf(buf + off, len - off, "%s%u", k ? "," : "", n->cpus[k]);
	if (!buf[0])
		snprintf(buf, len, "-");
}

/* One node's row: the definition, and what its agent says. */
static json_t *node_status(struct ctl *c, const struct ctl_vc *v, unsigned int i)
{
	const struct vc_node *vn = &v->vc.node[i];
	json_t *row =
		json_pack("{s:i,s:s,s:s,s:s,s:i,s:o,s:I,s:I}", "id", (int)i, "agent",
			  v->agent[i].name, "agent_addr", v->agent[i].addr, "address", vn->address,
			  "port", vn->port, "vcpus", vcpu_list(vn), "memory", (json_int_t)vn->mem,
			  "pages_homed", (json_int_t)(vn->mem / PAGE_SIZE));
	json_t *st = NULL, *dsm;
	const char *state, *vc, *live;
	struct ctl_reply r;
	char err[512];
	double faults = -1, owned = -1;
	long long started, until;

	if (ctl_request(&c->key, v->agent[i].addr, "GET", "/v1/vc/status", NULL, CTL_TIMEOUT_S, &r,
			err, sizeof(err)) == 0) {
		if (r.status == 200)
			st = ctl_reply_json(&r);
		else
			ctl_reply_error(&r, err, sizeof(err));
		ctl_reply_free(&r);
	}
	if (!st) {
		json_object_set_new(row, "state", json_string("unreachable"));
		json_object_set_new(row, "error", json_string(err));
		return row;
	}
	state = json_string_value(json_object_get(st, "state"));
	vc = json_string_value(json_object_get(st, "vc"));
	if (!state || !strcmp(state, "idle")) {
		json_object_set_new(row, "state", json_string("stopped"));
	} else if (!vc || strcmp(vc, v->vc.name)) {
		/* The node is in another VC: nothing it says is about this one. */
		json_object_set_new(row, "state", json_string("busy"));
		json_object_set_new(row, "other_vc", json_string(vc ? vc : "?"));
	} else {
		json_object_set_new(row, "state", json_string(state));
		json_object_set(row, "exit_status", json_object_get(st, "exit_status"));
		json_object_set(row, "pid", json_object_get(st, "pid"));
		json_object_set(row, "errors", json_object_get(st, "errors"));
		json_object_set(row, "stats", json_object_get(st, "stats"));
		dsm = json_object_get(st, "dsm");
		json_object_set(row, "dsm", dsm);
		live = json_string_value(json_object_get(st, "live_metrics"));
		if (live) {
			faults = metric_sum(live, "cvmm_dsm_faults_total");
			owned = metric_sum(live, "cvmm_dsm_pages_owned");
			json_object_set_new(row, "live", live_figures(live, i));
		} else if (dsm) {
			faults = (double)(json_integer_value(json_object_get(dsm, "faults_read")) +
					  json_integer_value(json_object_get(dsm, "faults_write")) +
					  json_integer_value(
						  json_object_get(dsm, "faults_upgrade")));
		}
		started = json_integer_value(json_object_get(st, "started"));
		until = json_object_get(st, "ended")
				? json_integer_value(json_object_get(st, "ended"))
				: (long long)time(NULL);
		if (faults >= 0)
			json_object_set_new(
				row, "fault_rate",
				json_real(faults /
					  (double)(until > started ? until - started : 1)));
		if (owned >= 0)
			json_object_set_new(row, "pages_owned", json_integer((json_int_t)owned));
	}
	json_decref(st);
	return row;
}

/*
 * A node that left the VC (cvmmctl vc evict) shows as "left", whatever its
 * agent says of the part it ran (it exited 0 after its hand-over, or was
 * released); a node that joins later and has not shows as "not joined".
 */
static void membership(const struct ctl_vc *v, unsigned int i, json_t *row)
{
	const char *state = json_string_value(json_object_get(row, "state"));
	enum ctl_member m = v->rec.member[i];

	if (m == CTL_MEMBER_LEFT) {
		json_object_set_new(row, "member", json_string("left"));
		json_object_set_new(row, "left_at", json_integer(v->rec.member_at[i]));
		if (state && strcmp(state, "running") && strcmp(state, "busy") &&
		    strcmp(state, "unreachable"))
			json_object_set_new(row, "state", json_string("left"));
	} else if (m == CTL_MEMBER_JOINED) {
		json_object_set_new(row, "member", json_string("joined"));
		json_object_set_new(row, "joined_at", json_integer(v->rec.member_at[i]));
	} else if (v->vc.node[i].later) {
		json_object_set_new(row, "member", json_string("later"));
		if (state && !strcmp(state, "stopped"))
			json_object_set_new(row, "state", json_string("not joined"));
	} else {
		json_object_set_new(row, "member", json_string("start"));
	}
}

/*
 * Where vCPU k runs: the running node whose live figures list it (they
 * follow moves); else the node its description places it on, unless that
 * node left; else nothing known (null).
 */
static json_t *live_placement(const struct ctl_vc *v, json_t *rows, unsigned int k)
{
	size_t i, n;
	json_t *row, *cpu;

	json_array_foreach(rows, i, row)
	{
		const char *state = json_string_value(json_object_get(row, "state"));

		if (!state || strcmp(state, "running"))
			continue;
		json_array_foreach(json_object_get(json_object_get(row, "live"), "vcpus"), n,
				   cpu) if (json_integer_value(cpu) ==
					    (json_int_t)k) return json_integer((json_int_t)i);
	}
	if (v->rec.member[v->vc.cpu_node[k]] == CTL_MEMBER_LEFT)
		return json_null();
	return json_integer(v->vc.cpu_node[k]);
}

/* The vCPUs a node runs by its live figures, else by its description. */
static void vcpus_now(const struct vc_node *n, json_t *row, char *buf, size_t len)
{
	json_t *live = json_object_get(json_object_get(row, "live"), "vcpus"), *cpu;
	const char *state = json_string_value(json_object_get(row, "state"));
	size_t k, off = 0;

	if (!json_is_array(live) || !state || strcmp(state, "running")) {
		if (state && !strcmp(state, "left"))
			snprintf(buf, len, "-");
		else
			vcpu_text(n, buf, len);
		return;
	}
	buf[0] = '\0';
	json_array_foreach(live, k, cpu) if (off < len) off += (size_t)snprintf(
		buf + off, len - off, "%s%lld", k ? "," : "", (long long)json_integer_value(cpu));
	if (!buf[0])
		snprintf(buf, len, "-");
}

static void print_status(const struct ctl_vc *v, json_t *rows)
{
	char sz[32], cpus[128], rate[32], owned[32], exit_s[16];
	size_t i;
	json_t *row, *e;

	printf("VC %s: %u vCPUs, %s of memory on %u nodes, I/O node %u, transport %s\n", v->vc.name,
	       v->vc.ncpus, format_size(v->vc.mem, sz, sizeof(sz)), v->vc.nnodes, v->vc.io_node,
	       vc_transport_name(v->vc.transport));
	printf("%-4s %-12s %-21s %-11s %4s %-10s %8s %8s %10s\n", "NODE", "AGENT", "AGENT ADDR",
	       "STATE", "EXIT", "VCPUS", "HOMED", "OWNED", "FAULTS/S");
	json_array_foreach(rows, i, row)
	{
		json_t *x = json_object_get(row, "exit_status");

		vcpus_now(&v->vc.node[i], row, cpus, sizeof(cpus));
		snprintf(exit_s, sizeof(exit_s), "%s", "-");
		if (json_is_integer(x))
			snprintf(exit_s, sizeof(exit_s), "%lld", (long long)json_integer_value(x));
		snprintf(rate, sizeof(rate), "-");
		if (json_object_get(row, "fault_rate"))
			snprintf(rate, sizeof(rate), "%.1f",
				 json_real_value(json_object_get(row, "fault_rate")));
		snprintf(owned, sizeof(owned), "-");
		if (json_object_get(row, "pages_owned"))
			snprintf(
				owned, sizeof(owned), "%lld",
				(long long)json_integer_value(json_object_get(row, "pages_owned")));
		printf("%-4zu %-12s %-21s %-11s %4s %-10s %8lld %8s %10s\n", i, v->agent[i].name,
		       v->agent[i].addr, json_string_value(json_object_get(row, "state")), exit_s,
		       cpus, (long long)json_integer_value(json_object_get(row, "pages_homed")),
		       owned, rate);
	}
	/* Why a node stopped, and its DSM figures, under the table. */
	json_array_foreach(rows, i, row)
	{
		size_t k;

		if (json_object_get(row, "error"))
			printf("node%zu: %s\n", i,
			       json_string_value(json_object_get(row, "error")));
		if (json_object_get(row, "other_vc"))
			printf("node%zu: its agent runs VC %s\n", i,
			       json_string_value(json_object_get(row, "other_vc")));
		json_array_foreach(json_object_get(row, "errors"), k, e)
			printf("node%zu: %s\n", i, json_string_value(e));
		json_array_foreach(json_object_get(row, "stats"), k, e)
			printf("node%zu: %s\n", i, json_string_value(e));
	}
}

int ctl_cmd_vc_status(struct ctl *c, const struct ctl_args *a)
{
	struct ctl_vc v;
	json_t *rows, *placement, *defined, *out;
	int ret = CTL_OK;

	if (ctl_vc_load(c, a->pos[0], &v))
		return CTL_FAILED;
	rows = json_array();
	placement = json_array();
	for (unsigned int i = 0; i < v.vc.nnodes; i++) {
		json_t *row = node_status(c, &v, i);

		membership(&v, i, row);
		if (!strcmp(json_string_value(json_object_get(row, "state")), "unreachable"))
			ret = CTL_FAILED;
		json_array_append_new(rows, row);
	}
	defined = json_array();
	for (unsigned int k = 0; k < v.vc.ncpus; k++) {
		json_array_append_new(placement, live_placement(&v, rows, k));
		json_array_append_new(defined, json_integer(v.vc.cpu_node[k]));
	}
	if (c->json) {
		out = json_pack("{s:s,s:s,s:i,s:i,s:I,s:o,s:o,s:o}", "name", v.vc.name, "transport",
				vc_transport_name(v.vc.transport), "io_node", (int)v.vc.io_node,
				"vcpus", (int)v.vc.ncpus, "memory", (json_int_t)v.vc.mem,
				"placement", placement, "placement_defined", defined, "nodes",
				rows);
		ctl_print_json(out);
	} else {
		print_status(&v, rows);
		json_decref(rows);
		json_decref(placement);
		json_decref(defined);
	}
	ctl_vc_free(&v);
	return ret;
}

/* Requests in a row that may fail (the agent unreachable) before vc console gives up. */
#define CONSOLE_RETRIES 5

/*
 * Follows the I/O node's output (the guest console and cvmm node's messages)
 * until that node's process has ended and everything it wrote is shown.
 * Read-only: input to the guest is not forwarded yet. A request that fails
 * is tried again, from the same offset, a second later: a console followed
 * for hours must not end on one lost connection.
 */
int ctl_cmd_vc_console(struct ctl *c, const struct ctl_args *a)
{
	unsigned long long off = 0;
	const struct ctl_node *ag;
	struct ctl_vc v;
	char target[128], err[512];
	int ret = CTL_OK, failed = 0;

	if (ctl_vc_load(c, a->pos[0], &v))
		return CTL_FAILED;
	ag = &v.agent[v.vc.io_node];
	for (;;) {
		struct ctl_reply r;
		bool more;

		snprintf(target, sizeof(target), "/v1/vc/console?vc=%s&offset=%llu", v.vc.name,
			 off);
		if (ctl_request(&c->key, ag->addr, "GET", target, NULL, CTL_TIMEOUT_S, &r, err,
				sizeof(err))) {
			if (++failed < CONSOLE_RETRIES) {
				sleep(1);
				continue;
			}
			pr_err("node%u (%s): %s (%d tries in a row)", v.vc.io_node, ag->name, err,
			       failed);
			ret = CTL_FAILED;
			break;
		}
		failed = 0;
		if (r.status != 200) {
			pr_err("node%u (%s), the I/O node: %s", v.vc.io_node, ag->name,
			       r.status == 404 ? "VC not started there (cvmmctl vc start)"
					       : ctl_reply_error(&r, err, sizeof(err)));
			ctl_reply_free(&r);
			ret = CTL_FAILED;
			break;
		}
		if (r.len && write_full(STDOUT_FILENO, r.body, r.len)) {
			ctl_reply_free(&r);
			break;
		}
		off = strtoull(r.offset, NULL, 10);
		more = r.len > 0;
		ctl_reply_free(&r);
		if (!more && strcmp(r.state, "running"))
			break;
		if (!more)
			usleep(300 * 1000);
	}
	ctl_vc_free(&v);
	return ret;
}
