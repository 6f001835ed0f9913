// SPDX-License-Identifier: GPL-2.0
/*
 * cvmm node: run one node's part of a virtual computer (docs/man/cvmm-node.md).
 *
 * Every node maps the whole guest RAM and joins the DSM, which keeps it
 * coherent: each node homes the range its NUMA node covers (docs/vc.md).
 * A node with vCPUs creates the VM on its KVM, attaches the DSM to the VM's
 * memory before anything is written to it, and hands the VM's interrupts,
 * kicks, device accesses and stop to cvmm/cluster.c. The boot node (the one
 * with vCPU 0) writes the firmware and the kernel and runs the boot CPU; the
 * others set their guest clock to the boot node's and run their vCPUs when
 * the guest starts them (the PV start hypercall). The I/O node hosts the
 * devices and the console. A node without vCPUs only homes and serves
 * memory, until every other node has left.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmm/cluster.h"
#include "cvmm/commands.h"
#include "cvmm/guest.h"
#include "cvmm/hypercall.h"
#include "cvmm/lib/log.h"
#include "cvmm/lib/parse.h"
#include "cvmm/monitor.h"
#include "cvmm/stats-writer.h"
#include "dsm/dsm.h"
#include "mgmt/vc/vc.h"

struct node_opts {
	const char *vc_path;
	unsigned long id;
	unsigned long timeout;
	bool stats;
	const char *monitor;
};

struct node {
	struct vc vc;
	unsigned int id;
	struct dsm *dsm;
	struct vm *vm;				/* the VM this node runs, or NULL */
	struct cluster *cluster;		/* its link to the other nodes' VMs, or NULL */
	struct cluster_range mem[VC_MAX_NODES]; /* each node's NUMA memory, for the cluster */
	struct numa_topology numa;
	char addr_store[VC_MAX_NODES][96];
	const char *addrs[VC_MAX_NODES];
	bool stats;
	struct stats_writer *statsw; /* CVMM_STATS_FILE, or NULL */
	const char *monitor_path;    /* --monitor SOCKET, or NULL */
	struct monitor mon;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: cvmm node --vc FILE --id I [--timeout SECONDS] [--stats]\n"
		   "                 [--monitor SOCKET] [-v]\n"
		   "\n"
		   "Runs node I of the virtual computer described in FILE (docs/vc.md): joins\n"
		   "the DSM that keeps guest memory coherent across the nodes, homes this\n"
		   "node's share of it, and boots the guest if the node has vCPUs. Start it on\n"
		   "every node with the same FILE.\n"
		   "\n"
		   "Exit status: as cvmm run (0 poweroff, 1 bad input, 2 usage, 3 reset,\n"
		   "4 triple fault, 5 KVM failure, 6 timeout, 7 signal); 8 a peer node failed.\n"
		   "Every node ends with the status of the guest's stop, wherever it happened.\n");
}

enum { NODE_PEER_FAILED = RUN_PEER_FAILED };

/*
 * A memory node's wait for the others beyond --timeout: their own stop at
 * the same --timeout, bounded by the vCPUs' (10 s) and the DSM's (30 s).
 */
#define MEMORY_NODE_GRACE_S 45

/* On the DSM's thread: a peer is gone, so this node's guest cannot go on. */
static void on_peer_failed(void *arg, unsigned peer, const char *why)
{
	struct node *n = arg;

	pr_err("node%u failed: %s", peer, why);
	if (n->vm)
		vm__request_stop(n->vm, VM_STOP_PEER);
}

/* On the DSM's thread: a message for this node's VM from another node's. */
static void on_app_msg(void *arg, unsigned peer, const void *data, unsigned len)
{
	struct node *n = arg;

	if (n->cluster)
		cluster__on_msg(n->cluster, peer, data, len);
}

/* On the DSM's thread: a node that joins later (hot-add) is here now. */
static void on_peer_joined(void *arg, unsigned peer)
{
	struct node *n = arg;

	pr_info("node%u: node%u joined the virtual computer", n->id, peer);
	if (n->cluster)
		cluster__node_joined(n->cluster, peer);
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
		.on_app_msg = on_app_msg,
		.on_peer_joined = on_peer_joined,
		.absent = n->vc.later_mask & ~(1ull << n->id),
		.joining = n->vc.node[n->id].later,
		.cb_arg = n,
	};
	int ret;

	for (unsigned int i = 0; i < n->vc.nnodes; i++) {
		char addr[sizeof(n->addr_store[i])];

		/* Through a local: GCC cannot tell that n->vc and n->addr_store never overlap. */
		snprintf(addr, sizeof(addr), "%s:%u", n->vc.node[i].address, n->vc.node[i].port);
		memcpy(n->addr_store[i], addr, sizeof(addr));
		n->addrs[i] = n->addr_store[i];
	}
	ret = dsm_create(&cfg, &n->dsm);
	if (ret)
		return ret;
	stats_writer_set_dsm(n->statsw, n->dsm);
	if (n->cluster)
		cluster__set_dsm(n->cluster, n->dsm);
	/* A node that joins later homes nothing: the boot node serves its NUMA node's memory. */
	for (unsigned int i = 0; i < n->vc.nnodes && !ret; i++)
		ret = dsm_set_home(n->dsm, n->vc.node[i].mem_start, n->vc.node[i].mem,
				   n->vc.node[i].later ? n->vc.cpu_node[0] : i);
	if (!ret) {
		pr_info("node%u: %s %u nodes over %s", n->id,
			cfg.joining ? "joining the running virtual computer of" : "joining",
			n->vc.nnodes, cfg.transport);
		ret = dsm_start(n->dsm);
	}
	if (ret) {
		if (n->cluster)
			cluster__set_dsm(n->cluster, NULL);
		stats_writer_set_dsm(n->statsw, NULL);
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
		"received %llu; held %llu; bytes in %llu out %llu\n",
		n->id, (unsigned long long)st.faults[DSM_STAT_READ],
		(unsigned long long)st.faults[DSM_STAT_WRITE],
		(unsigned long long)st.faults[DSM_STAT_UPGRADE],
		(unsigned long long)st.remote_fetches, (unsigned long long)st.pages_received,
		(unsigned long long)st.pages_sent, (unsigned long long)st.inv_sent,
		(unsigned long long)st.inv_received, (unsigned long long)st.held,
		(unsigned long long)st.bytes_received, (unsigned long long)st.bytes_sent);
}

/*
 * The pages this node faulted on most: where the guest shares what it
 * should not (look the address up in the guest's System.map, + 0xc0000000
 * for i386 low memory).
 */
static void print_hot_pages(const struct node *n)
{
	struct dsm_hot_page hot[8];
	unsigned int nhot = dsm_hot_pages(n->dsm, hot, 8);

	fprintf(stderr, "cvmm node: node%u hot pages:", n->id);
	for (unsigned int i = 0; i < nhot; i++)
		fprintf(stderr, " 0x%llx (%llu)", (unsigned long long)hot[i].page * DSM_PAGE_SIZE,
			(unsigned long long)hot[i].faults);
	fprintf(stderr, "\n");
}

/*
 * Leaves the DSM: waits until every peer has finished too, or, for a node
 * that handed its pages over and leaves a VC that goes on, only says so.
 * 0 or NODE_PEER_FAILED.
 */
static int dsm_finish(struct node *n, unsigned int timeout_ms, bool depart)
{
	int ret = 0;

	if ((depart ? dsm_depart(n->dsm) : dsm_leave(n->dsm, timeout_ms)) ||
	    dsm_failed_peers(n->dsm))
		ret = NODE_PEER_FAILED;
	if (dsm_local_errors(n->dsm)) {
		pr_err("node%u: local DSM operations failed; guest memory is not trustworthy",
		       n->id);
		ret = NODE_PEER_FAILED;
	}
	if (n->stats) {
		print_stats(n);
		print_hot_pages(n);
	}
	stats_writer_set_dsm(n->statsw, NULL);
	dsm_destroy(n->dsm);
	n->dsm = NULL;
	return ret;
}

/*
 * Guest hooks. mem_ready: the VM exists, nothing is written to its memory yet
 * and no vCPU runs. The cluster takes over what leaves the node, the DSM
 * attaches to the memory, and a joining node aligns its guest clock.
 */
static int attach(struct vm *vm, void *arg)
{
	struct node *n = arg;
	const struct cluster_config cc = {
		.node = n->id,
		.nnodes = n->vc.nnodes,
		.io_node = n->vc.io_node,
		.boot_node = n->vc.cpu_node[0],
		.ncpus = n->vc.ncpus,
		.cpu_node = n->vc.cpu_node,
		.absent = n->vc.later_mask & ~(1ull << n->id),
		.mem = n->mem,
	};
	int ret;

	for (unsigned int i = 0; i < n->vc.nnodes; i++)
		n->mem[i] = (struct cluster_range){ n->vc.node[i].mem_start, n->vc.node[i].mem };
	ret = cluster__create(&cc, vm, &n->cluster);
	if (ret) {
		pr_err("node%u: %s", n->id, strerror(-ret));
		return ret;
	}
	n->vm = vm;
	ret = dsm_join(n, vm->mem.fd, vm->mem.map, vm->mem.size);
	if (!ret)
		ret = cluster__sync_clock(n->cluster);
	if (!ret)
		stats_writer_set_vm(n->statsw, vm);
	if (!ret && n->monitor_path)
		ret = monitor__start(&n->mon, vm, n->monitor_path);
	if (ret) {
		/* The others must not wait for this node; the DSM must not reach the VM. */
		vm__request_stop(vm, VM_STOP_KVM);
		cluster__detach(n->cluster);
		n->vm = NULL;
	}
	return ret;
}

static void vm_stopped(struct vm *vm, enum vm_stop stop, void *arg)
{
	struct node *n = arg;

	monitor__stop(&n->mon);
	stats_writer_set_vm(n->statsw, NULL);
	if (n->cluster)
		cluster__detach(n->cluster);
	n->vm = NULL;
	if (n->stats) {
		hypercall__print_stats(vm, stderr);
		if (n->cluster)
			cluster__print_stats(n->cluster, stderr);
	}
	/* Peers may still need pages homed here: serve them until they leave. */
	if (stop == VM_STOP_LEFT)
		pr_info("node%u: left the virtual computer, which goes on without it", n->id);
	if (n->dsm && dsm_finish(n, 30000, stop == VM_STOP_LEFT))
		pr_err("node%u: the DSM did not shut down cleanly", n->id);
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
	/*
	 * This node runs no vCPU, so it needs nothing: leave now, serve until
	 * all have. The others stop at the same --timeout and then still need
	 * their orderly stop: they get MEMORY_NODE_GRACE_S more.
	 */
	ret = dsm_finish(n, timeout_s ? (timeout_s + MEMORY_NODE_GRACE_S) * 1000 : UINT_MAX, false);
	guest_mem__exit(&mem);
	return ret;
}

/* Refuses what this version cannot do. */
static int check_supported(const struct node *n)
{
	if (!n->vc.node[n->vc.io_node].ncpus) {
		pr_err("io_node: node%u has no vCPUs; the devices need a node that runs a VM",
		       n->vc.io_node);
		return -ENOTSUP;
	}
	return 0;
}

/*
 * The guest's NUMA topology: one node per cluster node, its vCPUs and the
 * memory it homes. The ACPI tables need each node's vCPUs numbered
 * consecutively (generated descriptions are); a node without vCPUs has no
 * processor to attach the node to, so either way the guest then gets no
 * SRAT and sees one NUMA node, which works, only slower.
 */
static bool vc_numa(const struct vc *vc, struct numa_topology *t)
{
	memset(t, 0, sizeof(*t));
	if (vc->nnodes < 2)
		return false;
	for (unsigned int i = 0; i < vc->nnodes; i++) {
		const struct vc_node *vn = &vc->node[i];

		if (!vn->ncpus) {
			pr_info("node%u has no vCPUs: the guest gets no NUMA tables", i);
			return false;
		}
		for (unsigned int k = 1; k < vn->ncpus; k++) {
			if (vn->cpus[k] != vn->cpus[0] + k) {
				pr_info("nodes[%u].cpus are not consecutive: the guest gets no "
					"NUMA "
					"tables",
					i);
				return false;
			}
		}
		t->nodes[i] = (struct numa_node){ .set = true,
						  .first_cpu = vn->cpus[0],
						  .last_cpu = vn->cpus[vn->ncpus - 1],
						  .mem = vn->mem };
	}
	t->nr_nodes = vc->nnodes;
	return numa__check(t, vc->ncpus, vc->mem) == 0;
}

static int parse_opts(int argc, char **argv, struct node_opts *o)
{
	static const struct option longopts[] = {
		{ "vc", required_argument, NULL, 'f' },	     { "id", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 't' }, { "stats", no_argument, NULL, 's' },
		{ "monitor", required_argument, NULL, 'M' }, { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },	     { NULL, 0, NULL, 0 },
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
		case 'M':
			o->monitor = optarg;
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
	n->monitor_path = o.monitor;
	n->mon.fd = -1;
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
	if (stats_writer_start(n->vc.name, n->id, &n->statsw) == 0)
		for (unsigned int k = 0; k < n->vc.ncpus; k++)
			if (n->vc.cpu_node[k] == n->id)
				stats_writer_place_vcpu(n->statsw, k, n->id);
	if (!n->vc.node[n->id].ncpus) {
		ret = run_memory_node(n, (unsigned int)o.timeout);
	} else {
		const struct guest_hooks hooks = {
			.mem_ready = attach,
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
			.numa = vc_numa(&n->vc, &n->numa) ? &n->numa : NULL,
			.joining = n->id != n->vc.cpu_node[0],
			.no_devices = n->id != n->vc.io_node,
			.node_clocks = true,
		};

		ret = guest__run(&spec);
		if (n->dsm) /* the boot failed after the DSM started */
			dsm_finish(n, 5000, false);
		cluster__destroy(n->cluster);
	}
out:
	stats_writer_stop(n->statsw);
	free(n);
	return ret;
}
