// SPDX-License-Identifier: GPL-2.0
/*
 * dsm-bench: remote fault latency against the raw transport round trip,
 * measured in one run on this host.
 *
 * Five node processes over tcp on 127.0.0.1; every page is homed at node 0;
 * node 1 is the one that faults; nodes 2..4 are the sharers. The parent
 * drives the nodes through socketpairs (never through the DSM, so that the
 * control traffic does not disturb what is measured):
 *   - transport round trip: node 1 -> node 0 -> node 1 through both DSM
 *     threads, 0 B -> 0 B and 0 B -> 4 KiB (what a read fault needs at least);
 *   - read fault and write fault by node 1 with 0, 1 and 3 other sharers,
 *     each on fresh pages, timed around the single access that faults;
 *   - a sequential read sweep by node 1 over fresh pages (pages/s).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cvmm/lib/clock.h"
#include "cvmm/lib/fdio.h"
#include "cvmm/lib/log.h"
#include "cvmm/lib/parse.h"
#include "dsm/dsm.h"

#define NODES 5

enum cmd_op { CMD_READ, CMD_WRITE, CMD_TREAD, CMD_TWRITE, CMD_SWEEP, CMD_ECHO, CMD_QUIT };

struct cmd {
	uint32_t op;
	uint32_t arg;  /* ECHO: reply length */
	uint64_t a, b; /* page range; ECHO: a = count */
};

struct reply {
	int32_t status;
	uint32_t count; /* latencies (uint32 ns) that follow */
	uint64_t ns;	/* total time */
};

/* --- node side ----------------------------------------------------------------- */

static int node_main(unsigned self, int ctl, int lfd, char **addrs, uint64_t pages)
{
	uint64_t size = pages * DSM_PAGE_SIZE;
	struct dsm_config cfg;
	struct dsm *d;
	uint32_t *lat = malloc(pages * sizeof(*lat) + 4096 * sizeof(*lat));
	volatile uint8_t *mem;
	struct cmd c;
	int fd, ret;

	fd = memfd_create("dsm-bench", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) || !lat)
		return 1;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		return 1;
	cfg = (struct dsm_config){ .node = self,
				   .nnodes = NODES,
				   .memfd = fd,
				   .vm_addr = (void *)mem,
				   .size = size,
				   .transport = "tcp",
				   .addrs = (const char *const *)addrs,
				   .listen_fd = lfd };
	ret = dsm_create(&cfg, &d);
	ret = ret ?: dsm_set_home(d, 0, size, 0);
	ret = ret ?: dsm_start(d);
	if (ret)
		return 1;

	while (!read_full(ctl, &c, sizeof(c))) {
		struct reply r = { 0 };
		uint64_t t0 = clock_now_ns(), t;

		switch (c.op) {
		case CMD_READ:
			for (uint64_t p = c.a; p < c.b; p++)
				(void)mem[p * DSM_PAGE_SIZE];
			break;
		case CMD_WRITE:
			for (uint64_t p = c.a; p < c.b; p++)
				mem[p * DSM_PAGE_SIZE] = (uint8_t)p;
			break;
		case CMD_TREAD:
		case CMD_TWRITE:
			for (uint64_t p = c.a; p < c.b; p++) {
				t = clock_now_ns();
				if (c.op == CMD_TREAD)
					(void)mem[p * DSM_PAGE_SIZE];
				else
					mem[p * DSM_PAGE_SIZE] = (uint8_t)(p + 1);
				lat[r.count++] = (uint32_t)(clock_now_ns() - t);
			}
			break;
		case CMD_SWEEP:
			for (uint64_t p = c.a; p < c.b; p++)
				(void)mem[p * DSM_PAGE_SIZE];
			break;
		case CMD_ECHO:
			for (uint64_t i = 0; i < c.a && i < 4096 && !r.status; i++) {
				r.status = dsm_echo(d, 0, 0, c.arg, &t);
				lat[r.count++] = (uint32_t)t;
			}
			break;
		case CMD_QUIT:
			dsm_leave(d, 5000);
			dsm_destroy(d);
			write_full(ctl, &r, sizeof(r));
			return 0;
		}
		r.ns = clock_now_ns() - t0;
		if (write_full(ctl, &r, sizeof(r)) || write_full(ctl, lat, r.count * sizeof(*lat)))
			return 1;
	}
	return 1;
}

/* --- parent side ----------------------------------------------------------------- */

struct run {
	int ctl[NODES];
	uint32_t *lat;
};

static int cmd(struct run *b, unsigned node, uint32_t op, uint64_t a, uint64_t e, uint32_t arg,
	       struct reply *r)
{
	struct cmd c = { .op = op, .arg = arg, .a = a, .b = e };

	if (write_full(b->ctl[node], &c, sizeof(c)) || read_full(b->ctl[node], r, sizeof(*r)))
		return -EIO;
	if (r->count && read_full(b->ctl[node], b->lat, r->count * sizeof(*b->lat)))
		return -EIO;
	return r->status;
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

struct pct {
	double med, p99;
};

static struct pct percentiles(uint32_t *v, uint32_t n)
{
	qsort(v, n, sizeof(*v), cmp_u32);
	return (struct pct){ v[n / 2] / 1000.0, v[(uint64_t)n * 99 / 100] / 1000.0 };
}

int main(int argc, char **argv)
{
	unsigned long per = 1000, sweep = 8192;
	struct run b = { 0 };
	char *addrs[NODES];
	int lfd[NODES];
	pid_t pid[NODES];
	struct reply r;
	struct pct rtt0 = { 0 }, rtt4 = { 1, 1 }, rd[3] = { 0 }, wr[3] = { 0 };
	static const unsigned sharers[3] = { 0, 1, 3 };
	uint64_t pages, base;
	double sweep_s;
	int ret = 0;

	log_set_prefix("dsm-bench");
	if (argc > 1 && parse_uint(argv[1], 10, 100000, &per)) {
		fprintf(stderr, "usage: dsm-bench [PAGES-PER-CASE [SWEEP-PAGES]]\n");
		return 1;
	}
	if (argc > 2 && parse_uint(argv[2], 10, 1000000, &sweep)) {
		fprintf(stderr, "usage: dsm-bench [PAGES-PER-CASE [SWEEP-PAGES]]\n");
		return 1;
	}
	pages = 6 * per + sweep;
	b.lat = malloc((per > 4096 ? per : 4096) * sizeof(*b.lat));

	for (unsigned i = 0; i < NODES; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof(sa);

		lfd[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (lfd[i] < 0 || bind(lfd[i], (struct sockaddr *)&sa, sizeof(sa)) ||
		    listen(lfd[i], 16) || getsockname(lfd[i], (struct sockaddr *)&sa, &len) ||
		    asprintf(&addrs[i], "127.0.0.1:%u", ntohs(sa.sin_port)) < 0) {
			pr_err("listen: %s", strerror(errno));
			return 1;
		}
	}
	fflush(stdout);
	for (unsigned i = 0; i < NODES; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
			return 1;
		pid[i] = fork();
		if (pid[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(sv[0]);
			exit(node_main(i, sv[1], lfd[i], addrs, pages));
		}
		close(sv[1]);
		b.ctl[i] = sv[0];
	}

	/* Warm up the connections and the code paths. */
	ret = ret ?: cmd(&b, 1, CMD_ECHO, 200, 0, DSM_PAGE_SIZE, &r);
	ret = ret ?: cmd(&b, 1, CMD_ECHO, 2000, 0, 0, &r);
	if (!ret)
		rtt0 = percentiles(b.lat, r.count);
	ret = ret ?: cmd(&b, 1, CMD_ECHO, 2000, 0, DSM_PAGE_SIZE, &r);
	if (!ret)
		rtt4 = percentiles(b.lat, r.count);

	base = 0;
	for (unsigned k = 0; k < 3 && !ret; k++) {
		/* read: k sharers hold the pages when node 1 faults */
		for (unsigned s = 0; s < sharers[k] && !ret; s++)
			ret = cmd(&b, 2 + s, CMD_READ, base, base + per, 0, &r);
		ret = ret ?: cmd(&b, 1, CMD_TREAD, base, base + per, 0, &r);
		if (!ret)
			rd[k] = percentiles(b.lat, r.count);
		base += per;
		/* write: node 1 must invalidate k sharers (and the home's copy) */
		for (unsigned s = 0; s < sharers[k] && !ret; s++)
			ret = cmd(&b, 2 + s, CMD_READ, base, base + per, 0, &r);
		ret = ret ?: cmd(&b, 1, CMD_TWRITE, base, base + per, 0, &r);
		if (!ret)
			wr[k] = percentiles(b.lat, r.count);
		base += per;
	}
	ret = ret ?: cmd(&b, 1, CMD_SWEEP, base, base + sweep, 0, &r);
	sweep_s = r.ns / 1e9;

	for (unsigned i = 0; i < NODES; i++) {
		struct cmd c = { .op = CMD_QUIT };

		if (write_full(b.ctl[i], &c, sizeof(c)))
			ret = -EIO;
	}
	for (unsigned i = 0; i < NODES; i++) {
		int st;

		waitpid(pid[i], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			ret = ret ?: -EIO;
		close(lfd[i]);
		free(addrs[i]);
	}
	free(b.lat);
	if (ret) {
		fprintf(stderr, "dsm-bench: a node failed (%s)\n", strerror(-ret));
		return 1;
	}

	printf("dsm-bench: tcp on 127.0.0.1, %d node processes, %lu pages per case\n", NODES, per);
	printf("  %-36s median %8.1f us   p99 %8.1f us\n", "transport round trip 0 B -> 0 B",
	       rtt0.med, rtt0.p99);
	printf("  %-36s median %8.1f us   p99 %8.1f us\n", "transport round trip 0 B -> 4 KiB",
	       rtt4.med, rtt4.p99);
	for (unsigned k = 0; k < 3; k++) {
		char what[64];

		snprintf(what, sizeof(what), "read fault, %u sharer%s", sharers[k],
			 sharers[k] == 1 ? "" : "s");
		printf("  %-36s median %8.1f us   p99 %8.1f us   %.2fx (RTT + 4 KiB)\n", what,
		       rd[k].med, rd[k].p99, rd[k].med / rtt4.med);
	}
	for (unsigned k = 0; k < 3; k++) {
		char what[64];

		snprintf(what, sizeof(what), "write fault, %u sharer%s", sharers[k],
			 sharers[k] == 1 ? "" : "s");
		printf("  %-36s median %8.1f us   p99 %8.1f us   %.2fx (RTT + 4 KiB)\n", what,
		       wr[k].med, wr[k].p99, wr[k].med / rtt4.med);
	}
	printf("  %-36s %lu pages in %.3f s = %.0f pages/s (%.1f MB/s)\n", "sequential read sweep",
	       sweep, sweep_s, sweep / sweep_s, sweep * 4096.0 / sweep_s / 1e6);
	printf("  goal: read fault (0 sharers) <= 1.5x (RTT + 4 KiB): %.2fx, %s\n",
	       rd[0].med / rtt4.med, rd[0].med / rtt4.med <= 1.5 ? "met" : "NOT met");
	return 0;
}
