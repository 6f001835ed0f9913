/* SPDX-License-Identifier: GPL-2.0 */
/* The QEMU command line of one emulated node. Pure: builds strings only. */
#ifndef CVMM_MGMT_SIM_QEMU_H
#define CVMM_MGMT_SIM_QEMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim_node_cfg {
	const char *qemu;   /* QEMU binary */
	unsigned int node;  /* this node's index */
	unsigned int nodes; /* nodes in the cluster */
	unsigned int cpus;
	uint64_t mem; /* bytes */
	const char *kernel;
	const char *initrd;
	const char *rundir;  /* where the node's sockets and logs live */
	uint16_t mcast_port; /* the interconnect's multicast port on 127.0.0.1 */
	bool rdma;
	const char *kvm_amd; /* module parameters or NULL */
	const char *shares;  /* colon-separated host paths or NULL */
	const char *secret;  /* the cluster secret's path in the node, or NULL */
	/*
	 * Network boot (--pxe): the boot file URL handed out by the boot NIC's
	 * DHCP, and that NIC's iPXE option ROM. NULL: direct kernel boot of
	 * kernel and initrd.
	 */
	const char *boot_url;
	const char *boot_rom;
};

#define SIM_ARGV_MAX 64

struct sim_argv {
	char *argv[SIM_ARGV_MAX + 1]; /* NULL-terminated, points into store */
	int argc;
	char store[8192];
	size_t used;
};

/*
 * The node's kernel command line: console, and the node's identity for its
 * /init (mgmt/image/init). Returns its length, or -E2BIG.
 */
int sim_node_cmdline(const struct sim_node_cfg *cfg, char *buf, size_t len);

/* Builds the command line. Returns 0 or -E2BIG when it does not fit. */
int sim_node_argv(const struct sim_node_cfg *cfg, struct sim_argv *out);

/* The node's socket paths: control channel, serial console and QEMU's monitor. */
void sim_node_ctl_path(const char *rundir, unsigned int node, char *buf, size_t len);
void sim_node_console_path(const char *rundir, unsigned int node, char *buf, size_t len);
void sim_node_monitor_path(const char *rundir, unsigned int node, char *buf, size_t len);

#endif
