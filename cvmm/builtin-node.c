// SPDX-License-Identifier: GPL-2.0
/*
 * cvmm node: run one node's part of a virtual computer (docs/man/cvmm-node.md).
 *
 * Every node maps the whole guest RAM and joins the DSM, which keeps it
 * coherent: each node homes the range its NUMA node covers (docs/vc.md).
 * A node with vCPUs boots the guest on its KVM with the DSM attached to the
 * VM's memory before anything is written to it. A node without vCPUs only
 * homes and serves memory, until every other node has left.
 *
 * What is not here yet: vCPUs on nodes other than node 0 (secondary CPUs
 * start through the guest port's PV start hypercall, and their IPIs must be
 * routed between nodes), forwarding of device accesses to the I/O node, and
 * clock offsets between nodes. A description that needs them is refused.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmm/commands.h"
#include "cvmm/guest.h"
#include "cvmm/lib/log.h"
#include "cvmm/lib/parse.h"
#include "dsm/dsm.h"
#include "mgmt/vc/vc.h"

struct node_opts {
	const char *vc_path;
	unsigned long id;
	unsigned long timeout;
	bool stats;
};

struct node {
	struct vc vc;
	unsigned int id;
	struct dsm *dsm;
	struct vm *vm; /* the VM this node runs, or NULL */
	char addr_store[VC_MAX_NODES][96];
	const char *addrs[VC_MAX_NODES];
	bool stats;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: cvmm node --vc FILE --id I [--timeout SECONDS] [--stats] [-v]\n"
		   "\n"
		   "Runs node I of the virtual computer described in FILE (docs/vc.md): joins\n"
		   "the DSM that keeps guest memory coherent across the nodes, homes this\n"
		   "node's share of it, and boots the guest if the node has vCPUs. Start it on\n"
		   "every node with the same FILE.\n"
		   "\n"
		   "Exit status: as cvmm run (0 poweroff, 1 bad input, 2 usage, 3 reset,\n"
		   "4 triple fault, 5 KVM failure, 6 timeout, 7 signal); 8 a peer node failed.\n");
}

enum { NODE_PEER_FAILED = 8 };

/* On the DSM's thread: a peer is gone, so this node's guest cannot go on. */
static void on_peer_failed(void *arg, unsigned peer, const char *why)
{
	struct node *n = arg;

	pr_err("node%u failed: %s", peer, why);
	if (n->vm)
		vm__request_stop(n->vm, VM_STOP_KVM);
}

static int dsm_join(struct node *n, int memfd, void *map, uint64_t size)
{
	struct dsm_config cfg = {
		.node = n->id,
		.nnodes = n->vc.nnodes,
		.memfd = memfd,
		.vm_addr = map,
		.size = size,
		.transport = vc_transport_name(n->vc.transport),
		.addrs = n->addrs,
		.listen_fd = -1,
		.on_peer_failed = on_peer_failed,
		.cb_arg = n,
	};
	int ret;

	for (unsigned int i = 0; i < n->vc.nnodes; i++) {
		snprintf(n->addr_store[i], sizeof(n->addr_store[i]), "%s:%u", n->vc.node[i].address,
			 n->vc.node[i].port);
		n->addrs[i] = n->addr_store[i];
	}
	ret = dsm_create(&cfg, &n->dsm);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < n->vc.nnodes && !ret; i++)
		ret = dsm_set_home(n->dsm, n->vc.node[i].mem_start, n->vc.node[i].mem, i);
	if (!ret) {
		pr_info("node%u: joining %u nodes over %s", n->id, n->vc.nnodes, cfg.transport);
		ret = dsm_start(n->dsm);
	}
	if (ret) {
		dsm_destroy(n->dsm);
		n->dsm = NULL;
	}
	return ret;
}

static void print_stats(const struct node *n)
{
	struct dsm_stats st;

	dsm_get_stats(n->dsm, &st);
	fprintf(stderr,
		"cvmm node: node%u stats: faults read %llu write %llu upgrade %llu; "
		"remote fetches %llu; pages in %llu out %llu; invalidations sent %llu "
		"received %llu; bytes in %llu out %llu\n",
		n->id, (unsigned long long)st.faults[DSM_STAT_READ],
		(unsigned long long)st.faults[DSM_STAT_WRITE],
		(unsigned long long)st.faults[DSM_STAT_UPGRADE],
		(unsigned long long)st.remote_fetches, (unsigned long long)st.pages_received,
		(unsigned long long)st.pages_sent, (unsigned long long)st.inv_sent,
		(unsigned long long)st.inv_received, (unsigned long long)st.bytes_received,
		(unsigned long long)st.bytes_sent);
}

/* Leaves the DSM once this node needs nothing more; 0 or NODE_PEER_FAILED. */
static int dsm_finish(struct node *n, unsigned int timeout_ms)
{
	int ret = 0;

	if (dsm_leave(n->dsm, timeout_ms) || dsm_failed_peers(n->dsm))
		ret = NODE_PEER_FAILED;
	if (dsm_local_errors(n->dsm)) {
		pr_err("node%u: local DSM operations failed; guest memory is not trustworthy",
		       n->id);
		ret = NODE_PEER_FAILED;
	}
	if (n->stats)
		print_stats(n);
	dsm_destroy(n->dsm);
	n->dsm = NULL;
	return ret;
}

/* Guest hooks: the DSM attaches to the VM's memory before anything is written. */
static int attach_dsm(struct vm *vm, void *arg)
{
	struct node *n = arg;

	n->vm = vm;
	return dsm_join(n, vm->mem.fd, vm->mem.map, vm->mem.size);
}

static void vm_stopped(struct vm *vm, enum vm_stop stop, void *arg)
{
	struct node *n = arg;

	/* Peers may still need pages homed here: serve them until they leave. */
	if (n->dsm && dsm_finish(n, 30000))
		pr_err("node%u: the DSM did not shut down cleanly", n->id);
	n->vm = NULL;
}

static int run_memory_node(struct node *n, unsigned int timeout_s)
{
	struct guest_mem mem = { .fd = -1 };
	char sz[32];
	int ret;

	ret = guest_mem__init(&mem, n->vc.mem);
	if (ret) {
		pr_err("node%u: cannot allocate %s of guest memory: %s", n->id,
		       format_size(n->vc.mem, sz, sizeof(sz)), strerror(-ret));
		return RUN_BAD_INPUT;
	}
	ret = dsm_join(n, mem.fd, mem.map, mem.size);
	if (ret) {
		guest_mem__exit(&mem);
		return NODE_PEER_FAILED;
	}
	pr_info("node%u: homing %s of guest memory, serving until the other nodes leave", n->id,
		format_size(n->vc.node[n->id].mem, sz, sizeof(sz)));
	/* This node runs no vCPU, so it needs nothing: leave now, serve until all have. */
	ret = dsm_finish(n, timeout_s ? timeout_s * 1000 : UINT_MAX);
	guest_mem__exit(&mem);
	return ret;
}

/* Refuses what a multi-node VC needs but this version cannot do yet. */
static int check_supported(const struct node *n)
{
	for (unsigned int i = 1; i < n->vc.nnodes; i++) {
		if (n->vc.node[i].ncpus) {
			pr_err("nodes[%u].cpus: vCPUs on nodes other than node 0 are not supported "
			       "yet "
			       "(they need the guest port's PV CPU start and IPI routing between "
			       "nodes); place every vCPU on node 0",
			       i);
			return -ENOTSUP;
		}
	}
	if (n->vc.io_node != 0) {
		pr_err("io_node: devices on a node other than node 0 are not supported yet");
		return -ENOTSUP;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct node_opts *o)
{
	static const struct option longopts[] = {
		{ "vc", required_argument, NULL, 'f' },
		{ "id", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 't' },
		{ "stats", no_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_id = false;
	int c;

	*o = (struct node_opts){ 0 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:i:t:svh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->vc_path = optarg;
			break;
		case 'i':
			if (parse_uint(optarg, 0, VC_MAX_NODES - 1, &o->id)) {
				pr_err("--id '%s': expected a node id from 0 to %d", optarg,
				       VC_MAX_NODES - 1);
				return -EINVAL;
			}
			have_id = true;
			break;
		case 't':
			if (parse_uint(optarg, 1, 1000000, &o->timeout)) {
				pr_err("--timeout '%s': expected seconds, 1 or more", optarg);
				return -EINVAL;
			}
			break;
		case 's':
			o->stats = true;
			break;
		case 'v':
			log_set_verbose(true);
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		pr_err("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!o->vc_path || !have_id) {
		pr_err("--vc FILE and --id I are required");
		return -EINVAL;
	}
	return 0;
}

int cmd_node(int argc, char **argv)
{
	struct node_opts o;
	struct node *n;
	char err[512];
	int ret;

	ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret > 0 ? 0 : RUN_USAGE;
	n = calloc(1, sizeof(*n));
	if (!n)
		return RUN_KVM_FAILURE;
	n->stats = o.stats;
	if (vc_load(o.vc_path, &n->vc, err, sizeof(err))) {
		pr_err("%s", err);
		ret = RUN_BAD_INPUT;
		goto out;
	}
	if (o.id >= n->vc.nnodes) {
		pr_err("--id %lu: %s has nodes 0 to %u", o.id, o.vc_path, n->vc.nnodes - 1);
		ret = RUN_USAGE;
		goto out;
	}
	n->id = (unsigned int)o.id;
	if (check_supported(n)) {
		ret = RUN_BAD_INPUT;
		goto out;
	}
	if (!n->vc.node[n->id].ncpus) {
		ret = run_memory_node(n, (unsigned int)o.timeout);
	} else {
		const struct guest_hooks hooks = {
			.mem_ready = attach_dsm,
			.stopped = vm_stopped,
			.arg = n,
		};
		const struct guest_spec spec = {
			.kernel = n->vc.kernel,
			.initrd = n->vc.initrd[0] ? n->vc.initrd : NULL,
			.append = n->vc.cmdline,
			.cpus = n->vc.ncpus,
			.mem = n->vc.mem,
			.timeout = (unsigned int)o.timeout,
			.hooks = &hooks,
		};

		ret = guest__run(&spec);
		if (n->dsm) /* the boot failed after the DSM started */
			dsm_finish(n, 5000);
	}
out:
	free(n);
	return ret;
}
