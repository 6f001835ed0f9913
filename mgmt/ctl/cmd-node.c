// SPDX-License-Identifier: GPL-2.0
/* cvmmctl nodes, node add, node remove: the agents cvmmctl knows. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmm/lib/log.h"
#include "mgmt/ctl/client.h"
#include "mgmt/ctl/ctl.h"

/* "hardware", "emulated" (KVM without VMX/SVM: every instruction emulated) or "no". */
static const char *kvm_kind(json_t *inv)
{
	if (!json_is_true(json_object_get(inv, "kvm")))
		return "no";
	return json_is_true(json_object_get(inv, "kvm_hw")) ? "hardware" : "emulated";
}

static void join(json_t *arr, char *buf, size_t len)
{
	size_t i, off = 0;
	json_t *v;

	buf[0] = '\0';
	json_array_foreach(arr, i, v)
	{
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "",
					json_string_value(v) ? json_string_value(v) : "?");
		if (off >= len)
			break;
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

int ctl_cmd_nodes(struct ctl *c, const struct ctl_args *a)
{
	struct ctl_node *nodes = NULL;
	json_t *out = json_array();
	unsigned int n = 0, failed = 0;
	int ret;

	ret = ctl_db_node_list(c->db, &nodes, &n);
	if (ret) {
		pr_err("cannot list nodes: %s", ctl_db_error(c->db));
		json_decref(out);
		return CTL_FAILED;
	}
	if (!c->json && n)
		printf("%-12s %-21s %-11s %4s %8s %-8s %-10s %-8s %s\n", "NAME", "AGENT", "STATE",
		       "CPUS", "MEMORY", "KVM", "RDMA", "VC", "INTERFACES");
	if (!c->json && !n)
		printf("no nodes (add one with: cvmmctl node add NAME HOST:PORT)\n");
	for (unsigned int i = 0; i < n; i++) {
		struct ctl_reply r;
		char err[512], rdma[128], ifs[256];
		json_t *inv = NULL,
		       *row = json_pack("{s:s,s:s}", "name", nodes[i].name, "agent", nodes[i].addr);

		ret = ctl_request(&c->key, nodes[i].addr, "GET", "/v1/inventory", NULL,
				  CTL_TIMEOUT_S, &r, err, sizeof(err));
		if (!ret && r.status != 200)
			ctl_reply_error(&r, err, sizeof(err));
		else if (!ret && !(inv = ctl_reply_json(&r)))
			snprintf(err, sizeof(err), "agent %s: not a JSON reply", nodes[i].addr);
		if (!ret)
			ctl_reply_free(&r);
		if (!inv) {
			failed++;
			json_object_set_new(row, "reachable", json_false());
			json_object_set_new(row, "error", json_string(err));
			if (!c->json)
				printf("%-12s %-21s unreachable: %s\n", nodes[i].name,
				       nodes[i].addr, err);
			json_array_append_new(out, row);
			continue;
		}
		json_object_set_new(row, "reachable", json_true());
		if (!c->json) {
			const char *vc = json_string_value(json_object_get(inv, "vc"));
			char mem[32];

			snprintf(mem, sizeof(mem), "%lldM",
				 (long long)json_integer_value(json_object_get(inv, "mem_mib")));
			join(json_object_get(inv, "rdma"), rdma, sizeof(rdma));
			join(json_object_get(inv, "interfaces"), ifs, sizeof(ifs));
			printf("%-12s %-21s %-11s %4lld %8s %-8s %-10s %-8s %s\n", nodes[i].name,
			       nodes[i].addr, json_string_value(json_object_get(inv, "state")),
			       (long long)json_integer_value(json_object_get(inv, "cpus")), mem,
			       kvm_kind(inv), rdma, vc ? vc : "-", ifs);
		}
		json_object_set_new(row, "inventory", inv);
		json_array_append_new(out, row);
	}
	free(nodes);
	if (c->json)
		ctl_print_json(out);
	else
		json_decref(out);
	return failed ? CTL_FAILED : CTL_OK;
}

int ctl_cmd_node_add(struct ctl *c, const struct ctl_args *a)
{
	const char *name = a->pos[0], *addr = a->pos[1];
	int ret;

	if (ctl_check_name(name)) {
		pr_err("node name '%s': use 1 to 63 letters, digits, '.', '-' or '_'", name);
		return CTL_USAGE;
	}
	if (ctl_check_addr(addr)) {
		pr_err("agent address '%s': expected HOST:PORT (or [IPV6]:PORT), the agent's "
		       "--listen address",
		       addr);
		return CTL_USAGE;
	}
	ret = ctl_db_node_add(c->db, name, addr);
	if (ret == -EEXIST) {
		pr_err("a node named %s, or a node at %s, is already known (cvmmctl nodes)", name,
		       addr);
		return CTL_FAILED;
	}
	if (ret) {
		pr_err("cannot add node %s: %s", name, ctl_db_error(c->db));
		return CTL_FAILED;
	}
	printf("node %s added: agent at %s\n", name, addr);
	return CTL_OK;
}

int ctl_cmd_node_remove(struct ctl *c, const struct ctl_args *a)
{
	int ret = ctl_db_node_remove(c->db, a->pos[0]);

	if (ret == -ENOENT)
		pr_err("no node named %s (cvmmctl nodes lists them)", a->pos[0]);
	else if (ret == -EBUSY)
		pr_err("node %s is part of a defined VC: delete the VC first (cvmmctl vc list)",
		       a->pos[0]);
	else if (ret)
		pr_err("cannot remove node %s: %s", a->pos[0], ctl_db_error(c->db));
	else
		printf("node %s removed\n", a->pos[0]);
	return ret ? CTL_FAILED : CTL_OK;
}
