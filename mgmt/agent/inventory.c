// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <dirent.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
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

bool inventory_cpuinfo_has_hw_virt(const char *cpuinfo)
{
	const char *line = cpuinfo;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (!strncmp(line, "flags", 5)) {
			const char *colon = memchr(line, ':', len);

			for (const char *p = colon; p && p < line + len;) {
				size_t w;

				p += strspn(p, ": \t");
				w = strcspn(p, " \t\n");
				if ((w == 3 && (!strncmp(p, "vmx", 3) || !strncmp(p, "svm", 3))))
					return true;
				p += w;
			}
			return false; /* every CPU has the same flags */
		}
		line = end ? end + 1 : NULL;
	}
	return false;
}

static bool kvm_hardware_backed(void)
{
	static const size_t max = 1 << 20;
	char *text = malloc(max);
	FILE *f = fopen("/proc/cpuinfo", "r");
	size_t n = 0;
	bool hw = false;

	if (text && f) {
		n = fread(text, 1, max - 1, f);
		text[n] = '\0';
		hw = inventory_cpuinfo_has_hw_virt(text);
	}
	if (f)
		fclose(f);
	free(text);
	return hw;
}

static void interface_addresses(char *buf, size_t len)
{
	struct ifaddrs *ifa, *i;
	size_t off = 0;

	buf[0] = '\0';
	if (getifaddrs(&ifa) == 0) {
		for (i = ifa; i && off < len; i = i->ifa_next) {
			char a[INET6_ADDRSTRLEN] = "";
			int fam = i->ifa_addr ? i->ifa_addr->sa_family : AF_UNSPEC;

			if ((i->ifa_flags & IFF_LOOPBACK) || (fam != AF_INET && fam != AF_INET6))
				continue;
			if (fam == AF_INET) {
				inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
					  a, sizeof(a));
			} else {
				const struct in6_addr *in6 =
					&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;

				if (IN6_IS_ADDR_LINKLOCAL(in6))
					continue;
				inet_ntop(AF_INET6, in6, a, sizeof(a));
			}
			off += (size_t)snprintf(buf + off, len - off, "%s%s=%s", off ? "," : "",
						i->ifa_name, a);
		}
		freeifaddrs(ifa);
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

void inventory_read(struct inventory *inv)
{
	const char *id = getenv("CVMM_NODE_ID"), *addrs = getenv("CVMM_NODE_ADDRS");
	struct sysinfo si;

	memset(inv, 0, sizeof(*inv));
	snprintf(inv->node, sizeof(inv->node), "%s", id ? id : "?");
	snprintf(inv->addr, sizeof(inv->addr), "none");
	if (id && addrs) {
		/* CVMM_NODE_ADDRS is "a0,a1,...": this node's is the id-th. */
		const char *p = addrs;

		for (long i = strtol(id, NULL, 10); i > 0 && p; i--) {
			p = strchr(p, ',');
			if (p)
				p++;
		}
		if (p)
			snprintf(inv->addr, sizeof(inv->addr), "%.*s", (int)strcspn(p, ","), p);
	}
	if (gethostname(inv->hostname, sizeof(inv->hostname) - 1))
		snprintf(inv->hostname, sizeof(inv->hostname), "?");
	inv->cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (!sysinfo(&si))
		inv->mem_mib = (unsigned long long)si.totalram * si.mem_unit >> 20;
	inv->kvm = !access("/dev/kvm", R_OK | W_OK);
	inv->kvm_hw = inv->kvm && kvm_hardware_backed();
	rdma_devices(inv->rdma, sizeof(inv->rdma));
	rdma_gids(inv->gids, sizeof(inv->gids));
	interface_addresses(inv->ifaddrs, sizeof(inv->ifaddrs));
}

void inventory_describe(char *buf, size_t len)
{
	struct inventory inv;

	inventory_read(&inv);
	snprintf(buf, len, "node=%s addr=%s cpus=%ld mem_mib=%llu kvm=%s rdma=%s gids=%s", inv.node,
		 inv.addr, inv.cpus, inv.mem_mib, inv.kvm ? "yes" : "no", inv.rdma, inv.gids);
}
