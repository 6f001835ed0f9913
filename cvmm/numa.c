// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cvmm/lib/log.h"
#include "cvmm/lib/parse.h"
#include "cvmm/mem.h"
#include "cvmm/numa.h"

/* "A" or "A-B" into first and last. */
static int parse_cpus(const char *s, unsigned int *first, unsigned int *last)
{
	char buf[32];
	char *dash;
	unsigned long a, b;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (parse_uint(buf, 0, ACPI_MAX_CPUS - 1, &a))
		return -EINVAL;
	b = a;
	if (dash && parse_uint(dash + 1, a, ACPI_MAX_CPUS - 1, &b))
		return -EINVAL;
	*first = (unsigned int)a;
	*last = (unsigned int)b;
	return 0;
}

int numa__parse(struct numa_topology *t, const char *arg)
{
	char buf[128], *save = NULL, *colon, *kv;
	struct numa_node n = { .set = true };
	bool have_cpus = false, have_mem = false;
	unsigned long id;

	if (strlen(arg) >= sizeof(buf)) {
		pr_err("--numa '%s': too long", arg);
		return -EINVAL;
	}
	strcpy(buf, arg);
	colon = strchr(buf, ':');
	if (!colon) {
		pr_err("--numa '%s': expected ID:cpus=A[-B],mem=SIZE", arg);
		return -EINVAL;
	}
	*colon = '\0';
	if (parse_uint(buf, 0, ACPI_MAX_NODES - 1, &id)) {
		pr_err("--numa '%s': node ID '%s' is not 0 to %d", arg, buf, ACPI_MAX_NODES - 1);
		return -EINVAL;
	}
	for (kv = strtok_r(colon + 1, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		if (!strncmp(kv, "cpus=", 5) && !parse_cpus(kv + 5, &n.first_cpu, &n.last_cpu)) {
			have_cpus = true;
		} else if (!strncmp(kv, "mem=", 4) && !parse_size(kv + 4, &n.mem) && n.mem) {
			have_mem = true;
		} else {
			pr_err("--numa node %lu: bad '%s' (expected cpus=A[-B] or mem=SIZE)", id,
			       kv);
			return -EINVAL;
		}
	}
	if (!have_cpus || !have_mem) {
		pr_err("--numa node %lu: both cpus= and mem= are needed", id);
		return -EINVAL;
	}
	if (t->nodes[id].set) {
		pr_err("--numa node %lu: given twice", id);
		return -EINVAL;
	}
	t->nodes[id] = n;
	if (id + 1 > t->nr_nodes)
		t->nr_nodes = (unsigned int)id + 1;
	return 0;
}

int numa__check(const struct numa_topology *t, unsigned int nr_cpus, uint64_t mem)
{
	uint64_t total = 0;

	for (unsigned int i = 0; i < t->nr_nodes; i++) {
		const struct numa_node *n = &t->nodes[i];

		if (!n->set) {
			pr_err("--numa: node %u is missing (nodes are numbered from 0 without "
			       "gaps)",
			       i);
			return -EINVAL;
		}
		if (n->mem % NUMA_NODE_ALIGN) {
			pr_err("--numa node %u: mem=%lluM is not a multiple of 512M; Linux i386 "
			       "rejects such a NUMA node and would boot as one node",
			       i, (unsigned long long)(n->mem >> 20));
			return -EINVAL;
		}
		if (n->last_cpu >= nr_cpus) {
			pr_err("--numa node %u: CPU %u, but the VM has %u (--cpus)", i, n->last_cpu,
			       nr_cpus);
			return -EINVAL;
		}
		for (unsigned int j = 0; j < i; j++) {
			const struct numa_node *o = &t->nodes[j];

			if (n->first_cpu <= o->last_cpu && o->first_cpu <= n->last_cpu) {
				pr_err("--numa node %u: its CPUs overlap node %u's", i, j);
				return -EINVAL;
			}
		}
		total += n->mem;
	}
	for (unsigned int cpu = 0; cpu < nr_cpus; cpu++) {
		bool found = false;

		for (unsigned int i = 0; i < t->nr_nodes; i++)
			found |= cpu >= t->nodes[i].first_cpu && cpu <= t->nodes[i].last_cpu;
		if (!found) {
			pr_err("--numa: CPU %u is in no node", cpu);
			return -EINVAL;
		}
	}
	if (total != mem) {
		pr_err("--numa: the nodes hold %lluM, --mem is %lluM",
		       (unsigned long long)(total >> 20), (unsigned long long)(mem >> 20));
		return -EINVAL;
	}
	return 0;
}

/* RAM offset → guest-physical: the same layout as cvmm/mem.c. */
static void add_range(struct acpi_numa *out, uint64_t off, uint64_t len, uint32_t node)
{
	if (off < GUEST_MEM_LOW_LIMIT && off + len > GUEST_MEM_LOW_LIMIT) {
		uint64_t low = GUEST_MEM_LOW_LIMIT - off;

		add_range(out, off, low, node);
		add_range(out, off + low, len - low, node);
		return;
	}
	out->mem[out->nr_mem++] = (struct acpi_mem_affinity){
		.base = off < GUEST_MEM_LOW_LIMIT
				? off
				: off - GUEST_MEM_LOW_LIMIT + GUEST_MEM_HIGH_START,
		.len = len,
		.node = node,
	};
}

void numa__to_acpi(const struct numa_topology *t, unsigned int nr_cpus, struct acpi_numa *out)
{
	uint64_t off = 0;

	memset(out, 0, sizeof(*out));
	out->nr_nodes = t->nr_nodes;
	for (unsigned int i = 0; i < t->nr_nodes; i++) {
		const struct numa_node *n = &t->nodes[i];

		for (unsigned int cpu = n->first_cpu; cpu <= n->last_cpu && cpu < nr_cpus; cpu++)
			out->cpu_node[cpu] = (uint8_t)i;
		add_range(out, off, n->mem, i);
		off += n->mem;
	}
}
