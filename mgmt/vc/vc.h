/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A virtual computer (VC) description: which nodes make it, where each vCPU
 * runs, how much guest memory each node homes (one guest NUMA node per
 * cluster node), the DSM transport, the guest to boot and the node that
 * hosts the devices. Read from JSON (docs/vc.md is the reference), or
 * generated from a node count, a vCPU count and a memory size.
 *
 * Parsing and validation are pure: a description is either valid, or refused
 * with one message naming the field and the reason.
 */
#ifndef CVMM_MGMT_VC_H
#define CVMM_MGMT_VC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VC_MAX_NODES	16
#define VC_MAX_CPUS	64
#define VC_DEFAULT_PORT 7470
/* Linux 6.1 i386 rejects NUMA nodes that are not multiples of 512 MiB. */
#define VC_NODE_MEM_UNIT (512ull << 20)

enum vc_transport {
	VC_TRANSPORT_TCP,
	VC_TRANSPORT_RDMA,
};

struct vc_node {
	char address[64];   /* interconnect address */
	uint16_t port;	    /* DSM port on that address */
	uint64_t mem;	    /* bytes of guest memory this node homes (its NUMA node) */
	uint64_t mem_start; /* offset of that memory in guest RAM (derived) */
	unsigned int ncpus;
	unsigned int cpus[VC_MAX_CPUS]; /* vCPU indices placed on this node */
	/*
	 * "join": "later": the node is not there when the VC starts and joins
	 * it while the guest runs (hot-add). Its vCPUs are declared to the guest
	 * (offline until it joins) and its memory is its NUMA node's, served by
	 * the boot node meanwhile. tcp only.
	 */
	bool later;
};

struct vc {
	char name[64];
	enum vc_transport transport;
	char kernel[1024];
	char initrd[1024]; /* "" for none */
	char cmdline[1024];
	unsigned int io_node; /* hosts the devices */
	unsigned int nnodes;
	struct vc_node node[VC_MAX_NODES];
	/* Derived by validation: */
	unsigned int ncpus;
	uint64_t mem;
	unsigned int cpu_node[VC_MAX_CPUS]; /* vCPU -> node */
	uint64_t later_mask;		    /* nodes that join later */
};

/*
 * Parses and validates a JSON description. Returns 0, or -EINVAL with a
 * message like "nodes[1].memory: 768M is not a multiple of 512M" in err.
 */
int vc_parse(const char *json, struct vc *vc, char *err, size_t errlen);

/* vc_parse() on a file's contents; a read error names the file. */
int vc_load(const char *path, struct vc *vc, char *err, size_t errlen);

/*
 * Generates a VC of nnodes nodes at addrs[0..nnodes-1], ncpus vCPUs spread
 * in contiguous blocks (the first nodes take one more when they do not
 * divide), and mem bytes split evenly. mem must split into whole 512 MiB
 * units per node. The name and guest fields are left for the caller.
 */
int vc_generate(struct vc *vc, unsigned int nnodes, const char *const *addrs, unsigned int ncpus,
		uint64_t mem, char *err, size_t errlen);

/*
 * Checks the placement and memory of a VC built in memory and derives ncpus,
 * mem, cpu_node and each node's mem_start (vc_parse() and vc_generate() call it).
 */
int vc_validate(struct vc *vc, char *err, size_t errlen);

/* The description as JSON text (malloc'd; the caller frees), or NULL. */
char *vc_to_json(const struct vc *vc);

const char *vc_transport_name(enum vc_transport t);

#endif
