// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cvmm/lib/fdio.h"
#include "cvmm/lib/log.h"
#include "mgmt/sim/node-cpus.h"

#define MONITOR_PROMPT	 "(qemu) "
#define MONITOR_WAIT_MS	 3000
#define MONITOR_BUF_SIZE (64 * 1024)

/* The value after NAME (e.g. "CPL=") in [from, end), where NAME starts a word; "?" if none. */
static void field(const char *from, const char *end, const char *name, char *buf, size_t len)
{
	size_t n = strlen(name);

	snprintf(buf, len, "?");
	for (const char *p = from; (p = strstr(p, name)) && p < end; p += n) {
		if (p == from || p[-1] == ' ' || p[-1] == '\n') {
			int v = (int)strcspn(p + n, " \r\n");

			snprintf(buf, len, "%.*s", v, p + n);
			return;
		}
	}
}

int sim_cpus_summary(const char *regs, char *buf, size_t len)
{
	const char *cpu = strstr(regs, "CPU#");
	size_t used = 0;
	int found = 0;

	buf[0] = '\0';
	for (; cpu; found++) {
		const char *next = strstr(cpu + 4, "CPU#");
		const char *end = next ? next : cpu + strlen(cpu);
		const char *ip = strstr(cpu, "RIP=");
		const char *cs = strstr(cpu, "\nCS =");
		char ipv[24], cpl[8], hlt[8], mode[8] = "";
		int n;

		if (!ip || ip >= end)
			ip = strstr(cpu, "EIP=");
		if (!ip || ip >= end)
			break;
		field(ip, end, ip[0] == 'R' ? "RIP=" : "EIP=", ipv, sizeof(ipv));
		field(ip, end, "CPL=", cpl, sizeof(cpl));
		field(ip, end, "HLT=", hlt, sizeof(hlt));
		if (cs && cs < end) {
			const char *eol = strchr(cs + 1, '\n');
			const char *m = strstr(cs + 1, " CS");

			/* "CS =0010 ... DPL=0 CS64 [-RA]": the mode, when QEMU names it. */
			if (m && (!eol || m < eol))
				snprintf(mode, sizeof(mode), " %.4s", m + 1);
		}
		n = snprintf(buf + used, len - used, "CPU %ld: %.3s=%s CPL=%s HLT=%s%s\n",
			     strtol(cpu + 4, NULL, 10), ip, ipv, cpl, hlt, mode);
		if (n < 0 || (size_t)n >= len - used) {
			buf[used] = '\0'; /* whole lines only */
			break;
		}
		used += (size_t)n;
		cpu = next;
	}
	return found;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Reads into buf until it ends with the monitor's prompt. Returns its length or -errno. */
static ssize_t read_to_prompt(int fd, char *buf, size_t size, const struct timespec *t0)
{
	size_t used = 0, plen = strlen(MONITOR_PROMPT);

	while (used + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = MONITOR_WAIT_MS - ms_since(t0);
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!p.revents)
			continue;
		n = read(fd, buf + used, size - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		used += (size_t)n;
		buf[used] = '\0';
		if (used >= plen && !strcmp(buf + used - plen, MONITOR_PROMPT))
			return (ssize_t)used;
	}
	return -E2BIG;
}

/* "info registers -a" of the QEMU at sock, into buf without the echo and the prompt. */
static int ask_registers(const char *sock, char *buf, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static const char cmd[] = "info registers -a\n";
	struct timespec t0;
	char *text, *w = buf;
	ssize_t len;
	int fd, ret;

	if (strlen(sock) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		goto out;
	}
	len = read_to_prompt(fd, buf, size, &t0); /* the greeting */
	ret = len < 0 ? (int)len : write_full(fd, cmd, sizeof(cmd) - 1);
	if (ret)
		goto out;
	len = read_to_prompt(fd, buf, size, &t0);
	if (len < 0) {
		ret = (int)len;
		goto out;
	}
	buf[len - (ssize_t)strlen(MONITOR_PROMPT)] = '\0';
	/* The monitor echoes the command with line-editing escapes: skip its line, drop CRs. */
	text = strchr(buf, '\n');
	text = text ? text + 1 : buf;
	text += strspn(text, "\r\n");
	for (const char *r = text; *r; r++)
		if (*r != '\r')
			*w++ = *r;
	*w = '\0';
	ret = 0;
out:
	close(fd);
	return ret;
}

int sim_node_report_cpus(const char *sock, const char *log, unsigned int node)
{
	char *regs = malloc(MONITOR_BUF_SIZE), summary[2048];
	FILE *f;
	int ret;

	if (!regs)
		return -ENOMEM;
	ret = ask_registers(sock, regs, MONITOR_BUF_SIZE);
	if (ret) {
		pr_warn("node%u: cannot ask its QEMU where its CPUs are (%s): %s", node, sock,
			strerror(-ret));
		goto out;
	}
	f = fopen(log, "w");
	if (f) {
		fputs(regs, f);
		fclose(f);
	}
	sim_cpus_summary(regs, summary, sizeof(summary));
	pr_info("node%u: where its CPUs are (QEMU's registers; all of them in %s):", node, log);
	for (char *line = strtok(summary, "\n"); line; line = strtok(NULL, "\n"))
		pr_info("node%u: %s", node, line);
out:
	free(regs);
	return ret;
}
