// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmm/lib/parse.h"
#include "mgmt/vc/vc.h"

const char *vc_transport_name(enum vc_transport t)
{
	return t == VC_TRANSPORT_RDMA ? "rdma" : "tcp";
}

/* Refuses keys outside `known` (NULL-terminated): a typo must not pass silently. */
static int check_keys(json_t *obj, const char *where, const char *const *known, char *err,
		      size_t errlen)
{
	const char *key;
	json_t *val;

	json_object_foreach(obj, key, val)
	{
		const char *const *k = known;
		char expected[256] = "";

		while (*k && strcmp(*k, key))
			k++;
		if (*k)
			continue;
		for (k = known; *k; k++)
			snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected),
				 "%s%s", k == known ? "" : ", ", *k);
		return parse_error(err, errlen, "%s: unknown key '%s' (expected %s)", where, key,
				   expected);
	}
	return 0;
}

/* An optional string member copied into buf; absent leaves buf untouched. */
static int get_string(json_t *obj, const char *where, const char *key, bool required, char *buf,
		      size_t len, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);

	if (!v) {
		if (required)
			return parse_error(err, errlen, "%s%s: missing", where, key);
		return 0;
	}
	if (!json_is_string(v))
		return parse_error(err, errlen, "%s%s: must be a string", where, key);
	if (strlen(json_string_value(v)) >= len)
		return parse_error(err, errlen, "%s%s: longer than %zu characters", where, key,
				   len - 1);
	snprintf(buf, len, "%s", json_string_value(v));
	return 0;
}

/* A size: "512M"-style string or a byte count. */
static int get_size(json_t *v, const char *where, uint64_t *out, char *err, size_t errlen)
{
	if (json_is_integer(v) && json_integer_value(v) > 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) && !parse_size(json_string_value(v), out))
		return 0;
	return parse_error(err, errlen, "%s: not a size (like \"512M\", \"1G\" or a byte count)",
			   where);
}

static int parse_node(json_t *jn, unsigned int i, struct vc_node *n, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"id", "address", "port", "cpus", "memory", "join", NULL
	};
	char where[32], field[48];
	json_t *v;
	size_t k;
	int ret;

	snprintf(where, sizeof(where), "nodes[%u]", i);
	if (!json_is_object(jn))
		return parse_error(err, errlen, "%s: must be an object", where);
	ret = check_keys(jn, where, keys, err, errlen);
	if (ret)
		return ret;

	v = json_object_get(jn, "id");
	if (!v)
		return parse_error(err, errlen, "%s.id: missing", where);
	if (!json_is_integer(v) || json_integer_value(v) != (json_int_t)i)
		return parse_error(err, errlen,
				   "%s.id: must be %u (nodes are listed in id order from 0)", where,
				   i);

	snprintf(field, sizeof(field), "%s.", where);
	ret = get_string(jn, field, "address", true, n->address, sizeof(n->address), err, errlen);
	if (ret)
		return ret;

	n->port = VC_DEFAULT_PORT;
	v = json_object_get(jn, "port");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 65535)
			return parse_error(err, errlen, "%s.port: must be a number from 1 to 65535",
					   where);
		n->port = (uint16_t)json_integer_value(v);
	}

	v = json_object_get(jn, "join");
	n->later = false;
	if (v) {
		if (!json_is_string(v) || (strcmp(json_string_value(v), "start") &&
					   strcmp(json_string_value(v), "later")))
			return parse_error(err, errlen, "%s.join: must be \"start\" or \"later\"",
					   where);
		n->later = !strcmp(json_string_value(v), "later");
	}

	v = json_object_get(jn, "memory");
	if (!v)
		return parse_error(err, errlen, "%s.memory: missing", where);
	snprintf(field, sizeof(field), "%s.memory", where);
	ret = get_size(v, field, &n->mem, err, errlen);
	if (ret)
		return ret;

	v = json_object_get(jn, "cpus");
	if (!v)
		return parse_error(err, errlen,
				   "%s.cpus: missing (use [] for a node without vCPUs)", where);
	if (!json_is_array(v))
		return parse_error(err, errlen, "%s.cpus: must be an array of vCPU numbers", where);
	if (json_array_size(v) > VC_MAX_CPUS)
		return parse_error(err, errlen, "%s.cpus: more than %d vCPUs", where, VC_MAX_CPUS);
	n->ncpus = 0;
	for (k = 0; k < json_array_size(v); k++) {
		json_t *c = json_array_get(v, k);

		if (!json_is_integer(c) || json_integer_value(c) < 0 ||
		    json_integer_value(c) >= VC_MAX_CPUS)
			return parse_error(err, errlen,
					   "%s.cpus[%zu]: must be a vCPU number from 0 to %d",
					   where, k, VC_MAX_CPUS - 1);
		n->cpus[n->ncpus++] = (unsigned int)json_integer_value(c);
	}
	return 0;
}

static bool valid_address(const char *a)
{
	struct in_addr in4;
	struct in6_addr in6;

	if (inet_pton(AF_INET, a, &in4) == 1 || inet_pton(AF_INET6, a, &in6) == 1)
		return true;
	/* A host name: letters, digits, '-' and '.', not starting with '-' or '.'. */
	if (!*a || *a == '-' || *a == '.')
		return false;
	for (; *a; a++)
		if (!isalnum((unsigned char)*a) && *a != '-' && *a != '.')
			return false;
	return true;
}

int vc_validate(struct vc *vc, char *err, size_t errlen)
{
	bool seen[VC_MAX_CPUS] = { false };
	char sz[32];
	unsigned int max_cpu = 0, total = 0;
	uint64_t start = 0;

	if (vc->nnodes < 1 || vc->nnodes > VC_MAX_NODES)
		return parse_error(err, errlen, "nodes: must list 1 to %d nodes", VC_MAX_NODES);
	if (vc->io_node >= vc->nnodes)
		return parse_error(err, errlen, "io_node: %u is not one of the %u nodes",
				   vc->io_node, vc->nnodes);
	for (unsigned int i = 0; i < vc->nnodes; i++) {
		struct vc_node *n = &vc->node[i];

		if (!valid_address(n->address))
			return parse_error(
				err, errlen,
				"nodes[%u].address: '%s' is not an IP address or host name", i,
				n->address);
		for (unsigned int j = 0; j < i; j++)
			if (!strcmp(vc->node[j].address, n->address) && vc->node[j].port == n->port)
				return parse_error(
					err, errlen,
					"nodes[%u].address: %s port %u is also nodes[%u]'s", i,
					n->address, n->port, j);
		if (!n->mem || n->mem % VC_NODE_MEM_UNIT)
			return parse_error(
				err, errlen,
				"nodes[%u].memory: %s is not a multiple of 512M (Linux i386 "
				"rejects "
				"smaller or unaligned NUMA nodes)",
				i, format_size(n->mem, sz, sizeof(sz)));
		n->mem_start = start;
		start += n->mem;
		for (unsigned int k = 0; k < n->ncpus; k++) {
			unsigned int c = n->cpus[k];

			if (c >= VC_MAX_CPUS)
				return parse_error(err, errlen,
						   "nodes[%u].cpus[%u]: %u is above %d", i, k, c,
						   VC_MAX_CPUS - 1);
			if (seen[c])
				return parse_error(err, errlen,
						   "nodes[%u].cpus[%u]: vCPU %u is placed twice", i,
						   k, c);
			seen[c] = true;
			vc->cpu_node[c] = i;
			if (c > max_cpu)
				max_cpu = c;
			total++;
		}
	}
	if (!total)
		return parse_error(err, errlen, "nodes: no node has a vCPU");
	if (max_cpu + 1 != total) {
		for (unsigned int c = 0; c < max_cpu; c++)
			if (!seen[c])
				return parse_error(
					err, errlen,
					"nodes: vCPU %u is on no node (vCPUs are numbered 0 to %u "
					"without gaps)",
					c, max_cpu);
	}
	if (!seen[0] || vc->cpu_node[0] != 0)
		return parse_error(err, errlen, "nodes[0].cpus: must hold vCPU 0, the boot CPU");
	vc->later_mask = 0;
	for (unsigned int i = 0; i < vc->nnodes; i++) {
		if (!vc->node[i].later)
			continue;
		if (i == 0 || i == vc->io_node)
			return parse_error(err, errlen,
					   "nodes[%u].join: the %s node must be there at the start",
					   i, i == 0 ? "boot" : "I/O");
		if (vc->transport != VC_TRANSPORT_TCP)
			return parse_error(err, errlen,
					   "nodes[%u].join: a node can join later over tcp only",
					   i);
		vc->later_mask |= 1ull << i;
	}
	vc->ncpus = total;
	vc->mem = start;
	return 0;
}

int vc_parse(const char *text, struct vc *vc, char *err, size_t errlen)
{
	static const char *const top_keys[] = { "name",	   "transport", "guest",
						"io_node", "nodes",	NULL };
	static const char *const guest_keys[] = { "kernel", "initrd", "cmdline", NULL };
	char transport[16] = "tcp";
	json_error_t jerr;
	json_t *root, *v;
	int ret;

	memset(vc, 0, sizeof(*vc));
	root = json_loads(text, 0, &jerr);
	if (!root)
		return parse_error(err, errlen, "line %d, column %d: %s", jerr.line, jerr.column,
				   jerr.text);
	ret = -EINVAL;
	if (!json_is_object(root)) {
		parse_error(err, errlen, "the description must be a JSON object");
		goto out;
	}
	ret = check_keys(root, "description", top_keys, err, errlen);
	if (ret)
		goto out;
	ret = get_string(root, "", "name", true, vc->name, sizeof(vc->name), err, errlen);
	if (ret)
		goto out;
	for (const char *p = vc->name; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') {
			ret = parse_error(err, errlen,
					  "name: '%s' may only have letters, digits, '-' and '_'",
					  vc->name);
			goto out;
		}
	}
	if (!vc->name[0]) {
		ret = parse_error(err, errlen, "name: must not be empty");
		goto out;
	}
	ret = get_string(root, "", "transport", false, transport, sizeof(transport), err, errlen);
	if (ret)
		goto out;
	if (!strcmp(transport, "rdma")) {
		vc->transport = VC_TRANSPORT_RDMA;
	} else if (strcmp(transport, "tcp")) {
		ret = parse_error(err, errlen, "transport: '%s' is not tcp or rdma", transport);
		goto out;
	}

	v = json_object_get(root, "guest");
	if (!v || !json_is_object(v)) {
		ret = parse_error(err, errlen, "guest: %s", v ? "must be an object" : "missing");
		goto out;
	}
	ret = check_keys(v, "guest", guest_keys, err, errlen);
	if (!ret)
		ret = get_string(v, "guest.", "kernel", true, vc->kernel, sizeof(vc->kernel), err,
				 errlen);
	if (!ret)
		ret = get_string(v, "guest.", "initrd", false, vc->initrd, sizeof(vc->initrd), err,
				 errlen);
	if (!ret)
		ret = get_string(v, "guest.", "cmdline", false, vc->cmdline, sizeof(vc->cmdline),
				 err, errlen);
	if (ret)
		goto out;

	v = json_object_get(root, "io_node");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) >= VC_MAX_NODES) {
			ret = parse_error(err, errlen, "io_node: must be a node id");
			goto out;
		}
		vc->io_node = (unsigned int)json_integer_value(v);
	}

	v = json_object_get(root, "nodes");
	if (!v || !json_is_array(v) || !json_array_size(v) || json_array_size(v) > VC_MAX_NODES) {
		ret = parse_error(err, errlen, "nodes: %s",
				  !v		      ? "missing"
				  : !json_is_array(v) ? "must be an array"
						      : "must list 1 to 16 nodes");
		goto out;
	}
	vc->nnodes = (unsigned int)json_array_size(v);
	for (unsigned int i = 0; i < vc->nnodes; i++) {
		ret = parse_node(json_array_get(v, i), i, &vc->node[i], err, errlen);
		if (ret)
			goto out;
	}
	ret = vc_validate(vc, err, errlen);
out:
	json_decref(root);
	return ret;
}

int vc_load(const char *path, struct vc *vc, char *err, size_t errlen)
{
	char *text = NULL;
	size_t cap = 0;
	FILE *f = fopen(path, "r");
	int ret;

	if (!f) {
		ret = -errno;
		parse_error(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (getdelim(&text, &cap, '\0', f) < 0) {
		ret = -errno;
		fclose(f);
		free(text);
		parse_error(err, errlen, "%s: cannot read it", path);
		return ret ? ret : -EIO;
	}
	fclose(f);
	ret = vc_parse(text, vc, err, errlen);
	free(text);
	if (ret) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s: %s", path, err);
		snprintf(err, errlen, "%s", msg);
	}
	return ret;
}

int vc_generate(struct vc *vc, unsigned int nnodes, const char *const *addrs, unsigned int ncpus,
		uint64_t mem, char *err, size_t errlen)
{
	char sz[32];
	unsigned int cpu = 0;

	memset(vc, 0, sizeof(*vc));
	if (nnodes < 1 || nnodes > VC_MAX_NODES)
		return parse_error(err, errlen, "--nodes: %u is not from 1 to %d", nnodes,
				   VC_MAX_NODES);
	if (ncpus < nnodes || ncpus > VC_MAX_CPUS)
		return parse_error(err, errlen,
				   "--cpus: %u vCPUs cannot give each of %u nodes at least one "
				   "(at most %d)",
				   ncpus, nnodes, VC_MAX_CPUS);
	if (mem % (nnodes * VC_NODE_MEM_UNIT))
		return parse_error(
			err, errlen,
			"--mem: %s does not split into %u NUMA nodes of whole 512M units "
			"(use a multiple of %lluM)",
			format_size(mem, sz, sizeof(sz)), nnodes,
			(unsigned long long)(nnodes * VC_NODE_MEM_UNIT >> 20));
	vc->nnodes = nnodes;
	for (unsigned int i = 0; i < nnodes; i++) {
		struct vc_node *n = &vc->node[i];
		unsigned int share = ncpus / nnodes + (i < ncpus % nnodes);

		snprintf(n->address, sizeof(n->address), "%s", addrs[i]);
		n->port = VC_DEFAULT_PORT;
		n->mem = mem / nnodes;
		for (unsigned int k = 0; k < share; k++)
			n->cpus[n->ncpus++] = cpu++;
	}
	return vc_validate(vc, err, errlen);
}

char *vc_to_json(const struct vc *vc)
{
	json_t *root = json_object(), *nodes = json_array(), *guest = json_object();
	char sz[32], *text;

	json_object_set_new(root, "name", json_string(vc->name));
	json_object_set_new(root, "transport", json_string(vc_transport_name(vc->transport)));
	json_object_set_new(guest, "kernel", json_string(vc->kernel));
	if (vc->initrd[0])
		json_object_set_new(guest, "initrd", json_string(vc->initrd));
	if (vc->cmdline[0])
		json_object_set_new(guest, "cmdline", json_string(vc->cmdline));
	json_object_set_new(root, "guest", guest);
	json_object_set_new(root, "io_node", json_integer(vc->io_node));
	for (unsigned int i = 0; i < vc->nnodes; i++) {
		const struct vc_node *n = &vc->node[i];
		json_t *jn = json_object(), *cpus = json_array();

		for (unsigned int k = 0; k < n->ncpus; k++)
			json_array_append_new(cpus, json_integer(n->cpus[k]));
		json_object_set_new(jn, "id", json_integer(i));
		json_object_set_new(jn, "address", json_string(n->address));
		json_object_set_new(jn, "port", json_integer(n->port));
		json_object_set_new(jn, "cpus", cpus);
		json_object_set_new(jn, "memory", json_string(format_size(n->mem, sz, sizeof(sz))));
		if (n->later)
			json_object_set_new(jn, "join", json_string("later"));
		json_array_append_new(nodes, jn);
	}
	json_object_set_new(root, "nodes", nodes);
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	return text;
}
