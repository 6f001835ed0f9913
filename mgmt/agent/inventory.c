// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "mgmt/agent/inventory.h"

static void rdma_devices(char *buf, size_t len)
{
	DIR *d = opendir("/sys/class/infiniband");
	struct dirent *de;
	size_t off = 0;

	buf[0] = '\0';
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		off += snprintf(buf + off, len - off, "%s%s", off ? "," : "", de->d_name);
		if (off >= len)
			break;
	}
	if (d)
		closedir(d);
	if (!buf[0])
		snprintf(buf, len, "none");
}

void inventory_describe(char *buf, size_t len)
{
	const char *id = getenv("CVMM_NODE_ID"), *addrs = getenv("CVMM_NODE_ADDRS");
	char addr[64] = "none", rdma[256];
	struct sysinfo si;
	unsigned long long mem = 0;

	if (id && addrs) {
		/* CVMM_NODE_ADDRS is "a0,a1,...": this node's is the id-th. */
		const char *p = addrs;

		for (long i = strtol(id, NULL, 10); i > 0 && p; i--) {
			p = strchr(p, ',');
			if (p)
				p++;
		}
		if (p)
			snprintf(addr, sizeof(addr), "%.*s", (int)strcspn(p, ","), p);
	}
	if (!sysinfo(&si))
		mem = (unsigned long long)si.totalram * si.mem_unit >> 20;
	rdma_devices(rdma, sizeof(rdma));
	snprintf(buf, len, "node=%s addr=%s cpus=%ld mem_mib=%llu kvm=%s rdma=%s", id ? id : "?",
		 addr, sysconf(_SC_NPROCESSORS_ONLN), mem,
		 access("/dev/kvm", R_OK | W_OK) ? "no" : "yes", rdma);
}
