/* SPDX-License-Identifier: GPL-2.0 */
/* What a node has: CPUs, memory, KVM, RDMA devices, interconnect address. */
#ifndef CVMM_MGMT_AGENT_INVENTORY_H
#define CVMM_MGMT_AGENT_INVENTORY_H

#include <stddef.h>

/*
 * Writes "node=I addr=A cpus=N mem_mib=M kvm=yes|no rdma=dev,dev|none
 * gids=dev/port/index=gid/v2|v1/netdev,...|none" into buf (space-separated
 * key=value pairs, one line).
 */
void inventory_describe(char *buf, size_t len);

#endif
