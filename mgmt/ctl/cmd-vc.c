// SPDX-License-Identifier: GPL-2.0
/*
 * cvmmctl vc create, list, delete, start, stop, add-node, evict: virtual
 * computers defined in the database, started and stopped through the agents
 * of their nodes.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmm/lib/log.h"
#include "cvmm/lib/parse.h"
#include "mgmt/ctl/client.h"
#include "mgmt/ctl/ctl.h"

int ctl_vc_load(struct ctl *c, const char *name, struct ctl_vc *v)
{
	char err[512];
	int ret;

	memset(v, 0, sizeof(*v));
	ret = ctl_db_vc_get(c->db, name, &v->rec);
	if (ret) {
		if (ret == -ENOENT)
			pr_err("no VC named %s (cvmmctl vc list shows them)", name);
		else
			pr_err("cannot read VC %s: %s", name, ctl_db_error(c->db));
		return ret;
	}
	ret = vc_parse(v->rec.json, &v->vc, err, sizeof(err));
	if (!ret && v->rec.nnodes != v->vc.nnodes)
		ret = -EPROTO;
	for (unsigned int i = 0; !ret && i < v->vc.nnodes; i++)
		ret = ctl_db_node_get(c->db, v->rec.agent[i], &v->agent[i]);
	if (ret) {
		pr_err("VC %s in the database is inconsistent (%s); delete and create it again",
		       name, ret == -EINVAL ? err : "its nodes do not match its description");
		ctl_vc_rec_free(&v->rec);
	}
	return ret;
}

void ctl_vc_free(struct ctl_vc *v)
{
	ctl_vc_rec_free(&v->rec);
}

/* Picks the known node whose agent host is the VC node's address; -errno after a message. */
static int map_by_address(const struct vc *vc, const struct ctl_node *nodes, unsigned int n,
			  char (*agent)[CTL_NAME_LEN])
{
	for (unsigned int i = 0; i < vc->nnodes; i++) {
		const struct ctl_node *found = NULL;

		for (unsigned int k = 0; k < n; k++) {
			if (!ctl_addr_host_is(nodes[k].addr, vc->node[i].address))
				continue;
			if (found) {
				pr_err("nodes[%u].address: nodes %s and %s both have agents at %s; "
				       "say which runs each VC node with --on NODE,NODE,...",
				       i, found->name, nodes[k].name, vc->node[i].address);
				return -EINVAL;
			}
			found = &nodes[k];
		}
		if (!found) {
			pr_err("nodes[%u].address: no known node has its agent at %s; add it "
			       "(cvmmctl node add NAME %s:PORT) or map the VC's nodes with --on "
			       "NODE,NODE,...",
			       i, vc->node[i].address, vc->node[i].address);
			return -ENOENT;
		}
		snprintf(agent[i], CTL_NAME_LEN, "%s", found->name);
	}
	return 0;
}

static int map_by_list(struct ctl *c, const struct vc *vc, const char *list,
		       char (*agent)[CTL_NAME_LEN])
{
	unsigned int i = 0;

	for (const char *p = list; *p; i++) {
		size_t len = strcspn(p, ",");
		struct ctl_node n;

		if (i == vc->nnodes || len >= CTL_NAME_LEN) {
			pr_err("--on: %s, but the VC has %u nodes",
			       i == vc->nnodes ? "too many names" : "name too long", vc->nnodes);
			return -EINVAL;
		}
		snprintf(agent[i], CTL_NAME_LEN, "%.*s", (int)len, p);
		if (ctl_db_node_get(c->db, agent[i], &n)) {
			pr_err("--on: no node named %s (cvmmctl nodes lists them)", agent[i]);
			return -ENOENT;
		}
		for (unsigned int k = 0; k < i; k++) {
			if (!strcmp(agent[k], agent[i])) {
				pr_err("--on: node %s is named twice: a node runs one part of a VC",
				       agent[i]);
				return -EINVAL;
			}
		}
		p += len + (p[len] == ',');
	}
	if (i != vc->nnodes) {
		pr_err("--on: %u names for a VC of %u nodes", i, vc->nnodes);
		return -EINVAL;
	}
	return 0;
}

int ctl_cmd_vc_create(struct ctl *c, const struct ctl_args *a)
{
	char agent[VC_MAX_NODES][CTL_NAME_LEN], err[1024], *text = NULL;
	struct ctl_node *nodes = NULL;
	struct vc *vc = calloc(1, sizeof(*vc));
	unsigned int n = 0;
	size_t cap = 0;
	FILE *f;
	int ret = CTL_FAILED;

	if (!vc)
		return CTL_FAILED;
	if (vc_load(a->pos[0], vc, err, sizeof(err))) {
		pr_err("%s", err);
		goto out;
	}
	/* The text as the user wrote it is what is stored and sent to the agents. */
	f = fopen(a->pos[0], "r");
	if (!f || getdelim(&text, &cap, '\0', f) < 0) {
		pr_err("%s: cannot read it", a->pos[0]);
		if (f)
			fclose(f);
		goto out;
	}
	fclose(f);
	if (a->on) {
		if (map_by_list(c, vc, a->on, agent))
			goto out;
	} else {
		if (ctl_db_node_list(c->db, &nodes, &n)) {
			pr_err("cannot list nodes: %s", ctl_db_error(c->db));
			goto out;
		}
		if (map_by_address(vc, nodes, n, agent))
			goto out;
	}
	switch (ctl_db_vc_add(c->db, vc->name, text, (const char(*)[CTL_NAME_LEN])agent,
			      vc->nnodes)) {
	case 0:
		printf("VC %s defined: %u vCPUs on %u nodes (", vc->name, vc->ncpus, vc->nnodes);
		for (unsigned int i = 0; i < vc->nnodes; i++)
			printf("%snode%u on %s", i ? ", " : "", i, agent[i]);
		printf("); start it with: cvmmctl vc start %s\n", vc->name);
		ret = CTL_OK;
		break;
	case -EEXIST:
		pr_err("a VC named %s is already defined (cvmmctl vc delete %s to replace it)",
		       vc->name, vc->name);
		break;
	default:
		pr_err("cannot store VC %s: %s", vc->name, ctl_db_error(c->db));
	}
out:
	free(nodes);
	free(text);
	free(vc);
	return ret;
}

int ctl_cmd_vc_list(struct ctl *c, const struct ctl_args *a)
{
	char(*names)[CTL_NAME_LEN] = NULL;
	json_t *out = json_array();
	unsigned int n = 0;

	if (ctl_db_vc_list(c->db, &names, &n)) {
		pr_err("cannot list VCs: %s", ctl_db_error(c->db));
		json_decref(out);
		return CTL_FAILED;
	}
	if (!c->json)
		printf(n ? "%-16s %5s %6s %8s  %s\n"
			 : "no VCs (define one with: cvmmctl vc create FILE)\n",
		       "NAME", "NODES", "VCPUS", "MEMORY", "AGENTS");
	for (unsigned int i = 0; i < n; i++) {
		struct ctl_vc v;
		json_t *agents = json_array();
		char sz[32], list[512] = "";

		if (ctl_vc_load(c, names[i], &v))
			continue;
		for (unsigned int k = 0; k < v.vc.nnodes; k++) {
			json_array_append_new(agents, json_string(v.rec.agent[k]));
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 k ? "," : "", v.rec.agent[k]);
		}
		if (!c->json)
			printf("%-16s %5u %6u %8s  %s\n", v.vc.name, v.vc.nnodes, v.vc.ncpus,
			       format_size(v.vc.mem, sz, sizeof(sz)), list);
		json_array_append_new(out,
				      json_pack("{s:s,s:i,s:i,s:I,s:o,s:I}", "name", v.vc.name,
						"nodes", (int)v.vc.nnodes, "vcpus", (int)v.vc.ncpus,
						"memory", (json_int_t)v.vc.mem, "agents", agents,
						"created", (json_int_t)v.rec.created));
		ctl_vc_free(&v);
	}
	free(names);
	if (c->json)
		ctl_print_json(out);
	else
		json_decref(out);
	return CTL_OK;
}

int ctl_cmd_vc_delete(struct ctl *c, const struct ctl_args *a)
{
	int ret = ctl_db_vc_delete(c->db, a->pos[0]);

	if (ret == -ENOENT)
		pr_err("no VC named %s", a->pos[0]);
	else if (ret)
		pr_err("cannot delete VC %s: %s", a->pos[0], ctl_db_error(c->db));
	else
		printf("VC %s deleted (stop it first if it runs: its agents still hold it)\n",
		       a->pos[0]);
	return ret ? CTL_FAILED : CTL_OK;
}

/* Asks node i's agent to stop its part; prints what happened. 0 or -errno. */
static int stop_node(struct ctl *c, const struct ctl_vc *v, unsigned int i)
{
	const struct ctl_node *ag = &v->agent[i];
	char body[128], err[512];
	struct ctl_reply r;
	json_t *j;
	int ret;

	snprintf(body, sizeof(body), "{\"vc\": \"%s\"}", v->vc.name);
	ret = ctl_request(&c->key, ag->addr, "POST", "/v1/vc/stop", body, CTL_STOP_TIMEOUT_S, &r,
			  err, sizeof(err));
	if (ret) {
		pr_err("node%u (%s): %s", i, ag->name, err);
		return ret;
	}
	if (r.status == 404) {
		printf("node%u (%s): not running\n", i, ag->name);
	} else if (r.status != 200) {
		pr_err("node%u (%s): %s", i, ag->name, ctl_reply_error(&r, err, sizeof(err)));
		ret = -EBUSY;
	} else {
		j = ctl_reply_json(&r);
		printf("node%u (%s): stopped (was %s, exit status %lld)\n", i, ag->name,
		       json_string_value(json_object_get(j, "was")),
		       (long long)json_integer_value(json_object_get(j, "exit_status")));
		json_decref(j);
	}
	ctl_reply_free(&r);
	return ret;
}

int ctl_vc_start_node(struct ctl *c, const struct ctl_vc *v, json_t *desc, unsigned int i)
{
	const struct ctl_node *ag = &v->agent[i];
	json_t *req = json_pack("{s:O,s:i}", "vc", desc, "node", (int)i);
	char *body = json_dumps(req, JSON_COMPACT), err[1024];
	struct ctl_reply r;
	int rc;

	json_decref(req);
	rc = ctl_request(&c->key, ag->addr, "POST", "/v1/vc/start", body, CTL_TIMEOUT_S, &r, err,
			 sizeof(err));
	free(body);
	if (rc) {
		pr_err("node%u (%s): %s", i, ag->name, err);
		return rc;
	}
	if (r.status == 201) {
		json_t *j = ctl_reply_json(&r);

		printf("node%u (%s): started, pid %lld\n", i, ag->name,
		       (long long)json_integer_value(json_object_get(j, "pid")));
		json_decref(j);
	} else {
		pr_err("node%u (%s): %s", i, ag->name, ctl_reply_error(&r, err, sizeof(err)));
		rc = r.status == 409 ? -EBUSY : -EPROTO;
	}
	ctl_reply_free(&r);
	return rc;
}

/*
 * Starts the memory nodes first and the I/O node last: the I/O node boots the
 * guest and its console, and its clock (and any --timeout) should start when
 * the memory it will fault on is already served. A node that refuses stops
 * the start; the nodes already started are stopped again. Nodes marked
 * "join": "later" are not started (cvmmctl vc add-node starts them).
 */
int ctl_cmd_vc_start(struct ctl *c, const struct ctl_args *a)
{
	unsigned int order[VC_MAX_NODES], started = 0, k = 0;
	struct ctl_vc v;
	json_t *desc;
	int ret = CTL_OK;

	if (ctl_vc_load(c, a->pos[0], &v))
		return CTL_FAILED;
	desc = json_loads(v.rec.json, 0, NULL);
	for (unsigned int i = 0; i < v.vc.nnodes; i++) {
		if (!v.vc.node[i].later && i != v.vc.io_node)
			order[k++] = i;
	}
	order[k++] = v.vc.io_node;
	for (started = 0; started < k; started++) {
		if (ctl_vc_start_node(c, &v, desc, order[started])) {
			ret = CTL_FAILED;
			break;
		}
	}
	if (ret) {
		if (started)
			pr_info("stopping the %u node(s) already started", started);
		while (started--)
			stop_node(c, &v, order[started]);
	} else {
		if (ctl_db_vc_reset_members(c->db, v.vc.name))
			pr_warn("cannot record VC %s's start: %s", v.vc.name, ctl_db_error(c->db));
		printf("VC %s started on %u nodes; its console: cvmmctl vc console %s\n", v.vc.name,
		       k, v.vc.name);
		for (unsigned int i = 0; i < v.vc.nnodes; i++)
			if (v.vc.node[i].later)
				printf("node%u (%s) joins later: cvmmctl vc add-node %s %u\n", i,
				       v.agent[i].name, v.vc.name, i);
	}
	json_decref(desc);
	ctl_vc_free(&v);
	return ret;
}

/* The I/O node first: its guest stops before the memory it uses goes away. */
int ctl_cmd_vc_stop(struct ctl *c, const struct ctl_args *a)
{
	struct ctl_vc v;
	int ret = CTL_OK;

	if (ctl_vc_load(c, a->pos[0], &v))
		return CTL_FAILED;
	if (stop_node(c, &v, v.vc.io_node))
		ret = CTL_FAILED;
	for (unsigned int i = 0; i < v.vc.nnodes; i++)
		if (i != v.vc.io_node && stop_node(c, &v, i))
			ret = CTL_FAILED;
	ctl_vc_free(&v);
	return ret;
}
