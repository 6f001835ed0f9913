// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
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

/* The first line of a sysfs file, without its newline; "" if unreadable. */
static void read_line(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");

	out[0] = '\0';
	if (f && fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = '\0';
	if (f)
		fclose(f);
}

/*
 * "dev/port/index=gid/type/netdev,..." for every non-zero GID of port 1 of
 * every RDMA device (the dsm rdma transport picks one; see docs/dsm.md),
 * read from sysfs so that the agent needs no libibverbs. "none" if none.
 */
static void rdma_gids(char *buf, size_t len)
{
	DIR *d = opendir("/sys/class/infiniband");
	struct dirent *de;
	size_t off = 0;

	buf[0] = '\0';
	while (d && (de = readdir(d)) && off < len) {
		if (de->d_name[0] == '.')
			continue;
		for (int i = 0; i < 16 && off < len; i++) {
			char path[320], gid[64], type[32], ndev[32], a[INET6_ADDRSTRLEN];
			unsigned char raw[16];
			static const unsigned char zero[16];

			snprintf(path, sizeof(path), "/sys/class/infiniband/%s/ports/1/gids/%d",
				 de->d_name, i);
			read_line(path, gid, sizeof(gid));
			if (inet_pton(AF_INET6, gid, raw) != 1 || !memcmp(raw, zero, 16))
				continue;
			snprintf(path, sizeof(path),
				 "/sys/class/infiniband/%s/ports/1/gid_attrs/types/%d", de->d_name,
				 i);
			read_line(path, type, sizeof(type));
			snprintf(path, sizeof(path),
				 "/sys/class/infiniband/%s/ports/1/gid_attrs/ndevs/%d", de->d_name,
				 i);
			read_line(path, ndev, sizeof(ndev));
			inet_ntop(AF_INET6, raw, a, sizeof(a));
			off += (size_t)snprintf(buf + off, len - off, "%s%s/1/%d=%s/%s/%s",
						off ? "," : "", de->d_name, i, a,
						strstr(type, "v2") ? "v2"
						: type[0]	   ? "v1"
								   : "?",
						ndev[0] ? ndev : "-");
		}
	}
	if (d)
		closedir(d);
	if (!buf[0])
		snprintf(buf, len, "none");
}

void inventory_describe(char *buf, size_t len)
{
	const char *id = getenv("CVMM_NODE_ID"), *addrs = getenv("CVMM_NODE_ADDRS");
	char addr[64] = "none", rdma[256], gids[512];
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
	rdma_gids(gids, sizeof(gids));
	snprintf(buf, len, "node=%s addr=%s cpus=%ld mem_mib=%llu kvm=%s rdma=%s gids=%s",
		 id ? id : "?", addr, sysconf(_SC_NPROCESSORS_ONLN), mem,
		 access("/dev/kvm", R_OK | W_OK) ? "no" : "yes", rdma, gids);
}
