/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Network boot of the emulated nodes: what the boot server serves and where.
 * Pure: builds and parses strings only (the server is mgmt/sim/pxe.c).
 *
 * Node I's NIC ROM (iPXE) gets, from QEMU's user-mode network's DHCP, the
 * boot file URL http://10.0.2.2:PORT/nodeI/boot.ipxe (10.0.2.2 is the host
 * there). That script fetches /nodeI/vmlinuz and /nodeI/initrd.img from the
 * same server and boots them with node I's kernel command line. The node's
 * index is in every path, so the server knows which node asks.
 */
#ifndef CVMM_MGMT_SIM_IPXE_H
#define CVMM_MGMT_SIM_IPXE_H

#include <stddef.h>
#include <stdint.h>

/* The host as seen from QEMU's user-mode network (slirp). */
#define SIM_PXE_HOST "10.0.2.2"

enum sim_pxe_file {
	SIM_PXE_SCRIPT, /* boot.ipxe, generated per node */
	SIM_PXE_KERNEL, /* vmlinuz, the node image's kernel */
	SIM_PXE_INITRD, /* initrd.img, the node image's initramfs with this run's programs */
	SIM_PXE_NFILES,
};

/* The file's name in URLs: "boot.ipxe", "vmlinuz", "initrd.img". */
const char *sim_pxe_file_name(enum sim_pxe_file f);

/* http://10.0.2.2:PORT/nodeI/NAME. Returns its length, or -E2BIG. */
int sim_pxe_url(uint16_t port, unsigned int node, enum sim_pxe_file f, char *buf, size_t len);

/*
 * Node I's iPXE script: fetch the kernel and the initrd from this server and
 * boot with cmdline (the same command line direct boot passes with -append).
 * Returns its length, or -E2BIG.
 */
int sim_ipxe_script(uint16_t port, unsigned int node, const char *cmdline, char *buf, size_t len);

/*
 * Parses a request path "/nodeI/NAME" with I below nodes. Returns 0 and
 * fills *node and *f, or -ENOENT for anything else.
 */
int sim_pxe_parse_path(const char *path, unsigned int nodes, unsigned int *node,
		       enum sim_pxe_file *f);

#endif
