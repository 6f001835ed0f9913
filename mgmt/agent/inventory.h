/* SPDX-License-Identifier: GPL-2.0 */
/* What a node has: CPUs, memory, KVM, RDMA devices, interconnect address. */
#ifndef CVMM_MGMT_AGENT_INVENTORY_H
#define CVMM_MGMT_AGENT_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>

struct inventory {
	char node[16]; /* CVMM_NODE_ID, or "?" */
	char addr[64]; /* this node's entry of CVMM_NODE_ADDRS, or "none" */
	char hostname[64];
	long cpus; /* online */
	unsigned long long mem_mib;
	bool kvm;	   /* /dev/kvm is usable */
	bool kvm_hw;	   /* and the CPU has VMX or SVM: KVM is hardware-backed */
	char rdma[256];	   /* "dev,dev" or "none" */
	char gids[512];	   /* see inventory_describe() */
	char ifaddrs[512]; /* "if=addr,..." of every non-loopback interface, or "none" */
};

/* Reads what this node has from sysfs, procfs and the environment. */
void inventory_read(struct inventory *inv);

/* Whether a /proc/cpuinfo text has the vmx or svm flag (pure, for tests). */
bool inventory_cpuinfo_has_hw_virt(const char *cpuinfo);

/*
 * Writes "node=I addr=A cpus=N mem_mib=M kvm=yes|no rdma=dev,dev|none
 * gids=dev/port/index=gid/v2|v1/netdev,...|none" into buf (space-separated
 * key=value pairs, one line).
 */
void inventory_describe(char *buf, size_t len);

#endif
