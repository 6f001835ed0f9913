// SPDX-License-Identifier: GPL-2.0
/*
 * cvmmctl vc add-node, vc evict and vc checksum: nodes that join and leave a
 * running VC, driven through the monitors of its nodes (cvmm-node(1),
 * MONITOR), which their agents pass commands to (POST /v1/vc/monitor).
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cvmm/lib/log.h"
#include "cvmm/lib/parse.h"
#include "mgmt/ctl/client.h"
#include "mgmt/ctl/ctl.h"
#include "mgmt/ctl/elastic.h"

/* How long the boot node may take to reach a joining node, and the guest to answer. */
#define JOIN_REACH_S 300
#define GUEST_ACK_S  600

struct monitor_lines {
	void (*on_line)(void *arg, const char *line);
	void *arg;
	char *last;
	size_t lastlen;
};

static void keep_line(void *arg, const char *line)
{
	struct monitor_lines *m = arg;

	snprintf(m->last, m->lastlen, "%s", line);
	if (m->on_line)
		m->on_line(m->arg, line);
}

int ctl_monitor(struct ctl *c, const struct ctl_vc *v, unsigned int i, const char *command,
		long timeout_s, void (*on_line)(void *arg, const char *line), void *arg, char *last,
		size_t lastlen, char *err, size_t errlen)
{
	const struct ctl_node *ag = &v->agent[i];
	struct monitor_lines m = { on_line, arg, last, lastlen };
	json_t *req = json_pack("{s:s,s:s}", "vc", v->vc.name, "command", command);
	char *body = json_dumps(req, JSON_COMPACT), msg[512];
	struct ctl_reply r;
	int ret;

	json_decref(req);
	last[0] = '\0';
	ret = ctl_request_lines(&c->key, ag->addr, "POST", "/v1/vc/monitor", body, timeout_s,
				keep_line, &m, &r, msg, sizeof(msg));
	free(body);
	if (ret) {
		snprintf(err, errlen, "node%u (%s): %s", i, ag->name, msg);
		return ret;
	}
	if (r.status != 200) {
		snprintf(err, errlen, "node%u (%s): %s", i, ag->name,
			 ctl_reply_error(&r, msg, sizeof(msg)));
		ret = r.status == 409 ? -EBUSY : -EINVAL;
	} else if (!last[0]) {
		snprintf(err, errlen, "node%u (%s): its monitor closed without an answer to '%s'",
			 i, ag->name, command);
		ret = -EPIPE;
	} else if (strncmp(last, "ok", 2) && strncmp(last, "acked", 5)) {
		snprintf(err, errlen, "node%u (%s): %s: %s", i, ag->name, command, last);
		ret = -EPROTO;
	}
	ctl_reply_free(&r);
	return ret;
}

/*
 * Posts a hotplug message (node-join N, node-leave[-keep] N) to the guest through
 * the boot node, whose vCPU 0 registered the guest's message page, and
 * waits for the guest's acknowledgement. 0, or -errno after a message.
 */
static int post_message(struct ctl *c, const struct ctl_vc *v, const char *msg)
{
	unsigned int boot = v->vc.cpu_node[0];
	char last[512], err[1024], cmd[64];
	unsigned long long seq;
	int status, ret;
	time_t end = time(NULL) + GUEST_ACK_S;

	ret = ctl_monitor(c, v, boot, msg, CTL_TIMEOUT_S, NULL, NULL, last, sizeof(last), err,
			  sizeof(err));
	if (!ret && sscanf(last, "ok seq %llu", &seq) != 1)
		ret = -EPROTO;
	if (ret) {
		pr_err("%s", err[0] ? err : last);
		return ret;
	}
	printf("%s: posted to the guest (message %llu); waiting for its answer\n", msg, seq);
	fflush(stdout);
	snprintf(cmd, sizeof(cmd), "status %llu", seq);
	for (;;) {
		ret = ctl_monitor(c, v, boot, cmd, CTL_TIMEOUT_S, NULL, NULL, last, sizeof(last),
				  err, sizeof(err));
		if (ret == 0 && sscanf(last, "acked %*u status %d", &status) == 1)
			break;
		if (ret != -EPROTO || strncmp(last, "pending", 7)) {
			pr_err("%s", err);
			return ret ? ret : -EPROTO;
		}
		if (time(NULL) >= end) {
			pr_err("%s: the guest did not answer in %d s", msg, GUEST_ACK_S);
			return -ETIMEDOUT;
		}
		usleep(300 * 1000);
	}
	if (status) {
		pr_err("%s: the guest refused it (status %d)", msg, status);
		return -EPROTO;
	}
	printf("%s: acknowledged by the guest\n", msg);
	return 0;
}

/* Resolves pos[1] to a node of v; CTL_OK, or CTL_FAILED after a message. */
static int find_node(const struct ctl_vc *v, const char *arg, unsigned int *idx)
{
	char err[256];

	if (ctl_vc_node_find(&v->vc, (const char(*)[CTL_NAME_LEN])v->rec.agent, arg, idx, err,
			     sizeof(err))) {
		pr_err("%s", err);
		return CTL_FAILED;
	}
	return CTL_OK;
}

/* What the node's agent says of its part: "running", "exited", "idle", or NULL. */
static json_t *part_status(struct ctl *c, const struct ctl_vc *v, unsigned int i, char *err,
			   size_t errlen)
{
	struct ctl_reply r;
	json_t *j = NULL;

	if (ctl_request(&c->key, v->agent[i].addr, "GET", "/v1/vc/status", NULL, CTL_TIMEOUT_S, &r,
			err, errlen))
		return NULL;
	if (r.status == 200)
		j = ctl_reply_json(&r);
	else
		ctl_reply_error(&r, err, errlen);
	ctl_reply_free(&r);
	return j;
}

struct evict_progress {
	bool tty, drawn;
	unsigned int node;
};

static void show_progress(void *arg, const char *line);

/*
 * --rebalance: the boot node, which homed the joined node's NUMA memory
 * meanwhile, gives it those homes (monitor `rehome NODE verify`). CTL_OK or
 * CTL_FAILED after a message.
 */
static int rebalance(struct ctl *c, const struct ctl_vc *v, unsigned int node)
{
	struct evict_progress prog = { .tty = isatty(STDOUT_FILENO), .node = node };
	unsigned int boot = v->vc.cpu_node[0];
	struct ctl_rehome_result r;
	char err[1024], last[1024], cmd[64];

	printf("node%u: taking the homes of its NUMA node's memory from node%u (%s)\n", node, boot,
	       v->agent[boot].name);
	fflush(stdout);
	snprintf(cmd, sizeof(cmd), "rehome %u verify", node);
	if (ctl_monitor(c, v, boot, cmd, CTL_LEAVE_TIMEOUT_S, show_progress, &prog, last,
			sizeof(last), err, sizeof(err))) {
		if (prog.drawn)
			printf("\n");
		pr_err("%s", err);
		return CTL_FAILED;
	}
	if (prog.drawn)
		printf("\n");
	if (ctl_parse_rehome(last, &r) || !r.verified) {
		pr_err("node%u: unexpected answer to '%s': %s", boot, cmd, last);
		return CTL_FAILED;
	}
	printf("node%u (%s) homes its NUMA node's memory now: %" PRIu64
	       " pages from node%u (%" PRIu64 " pushed, %" PRIu64 " zero)\nrehome %" PRIu64
	       " ms, guest paused %" PRIu64 " ms\n"
	       "memory checksum before %s, after %s: %s\n",
	       node, v->agent[node].name, r.pages, boot, r.pushed, r.zero, r.rehome_ms, r.paused_ms,
	       r.before, r.after, strcmp(r.before, r.after) ? "DIFFERENT" : "equal");
	if (strcmp(r.before, r.after)) {
		pr_err("the guest's memory changed across the rehome (checksum %s before, %s "
		       "after)",
		       r.before, r.after);
		return CTL_FAILED;
	}
	return CTL_OK;
}

int ctl_cmd_vc_add_node(struct ctl *c, const struct ctl_args *a)
{
	char err[1024], last[512], cmd[64];
	unsigned int node, boot;
	const char *state, *vcname;
	struct ctl_vc v;
	json_t *st, *desc;
	time_t end;
	int ret = CTL_FAILED;

	if (ctl_vc_load(c, a->pos[0], &v))
		return CTL_FAILED;
	if (find_node(&v, a->pos[1], &node))
		goto out;
	if (ctl_add_node_check(&v.vc, v.rec.member, node, err, sizeof(err))) {
		pr_err("%s", err);
		goto out;
	}
	boot = v.vc.cpu_node[0];
	st = part_status(c, &v, boot, err, sizeof(err));
	state = json_string_value(json_object_get(st, "state"));
	vcname = json_string_value(json_object_get(st, "vc"));
	if (!st || !state || strcmp(state, "running") || !vcname || strcmp(vcname, v.vc.name)) {
		pr_err("VC %s does not run: its boot node%u (%s) %s%s", v.vc.name, boot,
		       v.agent[boot].name,
		       st ? "is " : "does not answer: ", st ? (state ? state : "?") : err);
		json_decref(st);
		goto out;
	}
	json_decref(st);
	desc = json_loads(v.rec.json, 0, NULL);
	ret = ctl_vc_start_node(c, &v, desc, node) ? CTL_FAILED : CTL_OK;
	json_decref(desc);
	if (ret)
		goto out;
	/* The node joins once its DSM has reached the others: the boot node sees it then. */
	snprintf(cmd, sizeof(cmd), "rtt %u 1", node);
	for (end = time(NULL) + JOIN_REACH_S;;) {
		if (!ctl_monitor(c, &v, boot, cmd, CTL_TIMEOUT_S, NULL, NULL, last, sizeof(last),
				 err, sizeof(err)))
			break;
		if (time(NULL) >= end) {
			pr_err("node%u did not join VC %s in %d s: %s (cvmmctl vc status %s shows "
			       "its errors)",
			       node, v.vc.name, JOIN_REACH_S, err, v.vc.name);
			ret = CTL_FAILED;
			goto out;
		}
		sleep(1);
	}
	printf("node%u (%s): joined VC %s (boot node%u reaches it: %s)\n", node, v.agent[node].name,
	       v.vc.name, boot, last + (strncmp(last, "ok ", 3) ? 0 : 3));
	if (ctl_db_vc_set_member(c->db, v.vc.name, node, CTL_MEMBER_JOINED))
		pr_warn("cannot record the join: %s", ctl_db_error(c->db));
	snprintf(cmd, sizeof(cmd), "node-join %u", node);
	if (post_message(c, &v, cmd)) {
		ret = CTL_FAILED;
		goto out;
	}
	printf("node%u: its %u vCPU(s) and %" PRIu64 " MiB are the guest's now\n", node,
	       v.vc.node[node].ncpus, v.vc.node[node].mem >> 20);
	if (a->rebalance)
		ret = rebalance(c, &v, node);
out:
	ctl_vc_free(&v);
	return ret;
}

static void show_progress(void *arg, const char *line)
{
	struct evict_progress *p = arg;
	uint64_t done, total;
	double rate;
	char text[256];

	if (ctl_parse_progress(line, &done, &total, &rate))
		return;
	ctl_progress_text(done, total, rate, 30, text, sizeof(text));
	if (p->tty) {
		printf("\r\033[Knode%u: %s", p->node, text);
		p->drawn = true;
	} else {
		printf("node%u: %s\n", p->node, text);
	}
	fflush(stdout);
}

static void print_leave(const struct ctl_vc *v, unsigned int node, const struct ctl_leave_result *r)
{
	printf("node%u (%s) left VC %s: %u vCPU(s) moved to node%u, %" PRIu64 " pages handed over",
	       node, v->agent[node].name, v->vc.name, r->vcpus, r->to, r->pages);
	if (r->has_pushed)
		printf(" (%" PRIu64 " pushed, %" PRIu64 " zero)", r->pushed, r->zero);
	printf("\nhand-over %" PRIu64 " ms, guest paused %" PRIu64 " ms, longest vCPU move %" PRIu64
	       " us\n",
	       r->handover_ms, r->paused_ms, r->max_move_us);
	if (r->verified)
		printf("memory checksum before %s, after %s: %s\n", r->before, r->after,
		       strcmp(r->before, r->after) ? "DIFFERENT" : "equal");
}

int ctl_cmd_vc_evict(struct ctl *c, const struct ctl_args *a)
{
	struct evict_progress prog = { .tty = isatty(STDOUT_FILENO) };
	struct ctl_leave_result res;
	char err[1024], last[1024], cmd[64];
	unsigned int node, to = 0, tmp;
	struct ctl_vc v;
	int ret = CTL_FAILED, rc;

	if (ctl_vc_load(c, a->pos[0], &v))
		return CTL_FAILED;
	if (find_node(&v, a->pos[1], &node))
		goto out;
	if (a->to) {
		if (ctl_vc_node_find(&v.vc, (const char(*)[CTL_NAME_LEN])v.rec.agent, a->to, &tmp,
				     err, sizeof(err))) {
			pr_err("--to: %s", err);
			goto out;
		}
	}
	if (ctl_evict_check(&v.vc, v.rec.member, node, a->to ? (int)tmp : -1, &to, err,
			    sizeof(err))) {
		pr_err("%s", err);
		goto out;
	}
	/* Phase one: the guest hears of it first, and gives up or keeps the CPUs. */
	snprintf(cmd, sizeof(cmd), "%s %u", a->offline_cpus ? "node-leave" : "node-leave-keep",
		 node);
	if (post_message(c, &v, cmd))
		goto out;
	printf("node%u (%s): leaving VC %s to node%u (%s)\n", node, v.agent[node].name, v.vc.name,
	       to, v.agent[to].name);
	fflush(stdout);
	prog.node = node;
	snprintf(cmd, sizeof(cmd), "leave %u verify", to);
	rc = ctl_monitor(c, &v, node, cmd, CTL_LEAVE_TIMEOUT_S, show_progress, &prog, last,
			 sizeof(last), err, sizeof(err));
	if (prog.drawn)
		printf("\n");
	if (rc) {
		pr_err("%s", err);
		goto out;
	}
	if (ctl_parse_leave(last, &res)) {
		pr_err("node%u: unexpected answer to '%s': %s", node, cmd, last);
		goto out;
	}
	if (ctl_db_vc_set_member(c->db, v.vc.name, node, CTL_MEMBER_LEFT))
		pr_warn("cannot record that node%u left: %s", node, ctl_db_error(c->db));
	print_leave(&v, node, &res);
	if (!res.verified) {
		pr_err("node%u did not report the memory checksums", node);
	} else if (strcmp(res.before, res.after)) {
		pr_err("the guest's memory changed across the hand-over (checksum %s before, %s "
		       "after): pages were lost",
		       res.before, res.after);
	} else {
		ret = CTL_OK;
	}
out:
	ctl_vc_free(&v);
	return ret;
}

int ctl_cmd_vc_checksum(struct ctl *c, const struct ctl_args *a)
{
	char err[1024], last[512], hex[40];
	uint64_t pages, paused;
	struct ctl_vc v;
	unsigned int io;
	int ret = CTL_FAILED;

	if (ctl_vc_load(c, a->pos[0], &v))
		return CTL_FAILED;
	io = v.vc.io_node;
	if (ctl_monitor(c, &v, io, "checksum", CTL_CHECKSUM_TIMEOUT_S, NULL, NULL, last,
			sizeof(last), err, sizeof(err))) {
		pr_err("%s", err);
	} else if (ctl_parse_checksum(last, hex, sizeof(hex), &pages, &paused)) {
		pr_err("node%u: unexpected answer to checksum: %s", io, last);
	} else {
		ret = CTL_OK;
		if (c->json)
			ctl_print_json(json_pack("{s:s,s:s,s:I,s:I,s:i}", "vc", v.vc.name,
						 "checksum", hex, "pages", (json_int_t)pages,
						 "paused_ms", (json_int_t)paused, "node", (int)io));
		else
			printf("VC %s: memory checksum %s over %" PRIu64
			       " non-zero pages (guest paused %" PRIu64 " ms, asked node%u)\n",
			       v.vc.name, hex, pages, paused, io);
	}
	ctl_vc_free(&v);
	return ret;
}
