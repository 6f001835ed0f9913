// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cvmm/lib/parse.h"
#include "mgmt/sim/ipxe.h"

static const char *const file_names[SIM_PXE_NFILES] = {
	[SIM_PXE_SCRIPT] = "boot.ipxe",
	[SIM_PXE_KERNEL] = "vmlinuz",
	[SIM_PXE_INITRD] = "initrd.img",
};

const char *sim_pxe_file_name(enum sim_pxe_file f)
{
	return f < SIM_PXE_NFILES ? file_names[f] : "?";
}

static int fit(int n, size_t len)
{
	return n < 0 || (size_t)n >= len ? -E2BIG : n;
}

int sim_pxe_url(uint16_t port, unsigned int node, enum sim_pxe_file f, char *buf, size_t len)
{
	return fit(snprintf(buf, len, "http://" SIM_PXE_HOST ":%u/node%u/%s", port, node,
			    sim_pxe_file_name(f)),
		   len);
}

int sim_ipxe_script(uint16_t port, unsigned int node, const char *cmdline, char *buf, size_t len)
{
	char kernel[96], initrd[96];

	sim_pxe_url(port, node, SIM_PXE_KERNEL, kernel, sizeof(kernel));
	sim_pxe_url(port, node, SIM_PXE_INITRD, initrd, sizeof(initrd));
	/*
	 * "initrd=NAME" names the loaded initrd for the kernel's EFI stub
	 * (needed under UEFI, ignored under BIOS); iPXE names an image after
	 * the last part of its URL.
	 */
	return fit(snprintf(buf, len,
			    "#!ipxe\n"
			    "echo cvmm: node%u boots over the network\n"
			    "kernel %s initrd=%s %s\n"
			    "initrd %s\n"
			    "boot\n",
			    node, kernel, sim_pxe_file_name(SIM_PXE_INITRD), cmdline, initrd),
		   len);
}

int sim_pxe_parse_path(const char *path, unsigned int nodes, unsigned int *node,
		       enum sim_pxe_file *f)
{
	char num[12];
	const char *slash;
	unsigned long v;
	size_t n;

	if (strncmp(path, "/node", 5))
		return -ENOENT;
	path += 5;
	slash = strchr(path, '/');
	n = slash ? (size_t)(slash - path) : 0;
	if (!n || n >= sizeof(num) || strspn(path, "0123456789") != n || (n > 1 && path[0] == '0'))
		return -ENOENT;
	memcpy(num, path, n);
	num[n] = '\0';
	if (!nodes || parse_uint(num, 0, nodes - 1, &v))
		return -ENOENT;
	for (int i = 0; i < SIM_PXE_NFILES; i++) {
		if (!strcmp(slash + 1, file_names[i])) {
			*node = (unsigned int)v;
			*f = (enum sim_pxe_file)i;
			return 0;
		}
	}
	return -ENOENT;
}
