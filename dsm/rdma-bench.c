// SPDX-License-Identifier: GPL-2.0
/*
 * dsm-rdma-bench: the DSM across real hosts (sim nodes), any transport.
 * Every node runs the same command line (--join, as dsm-stress); node 0 is
 * the home of every page.
 *
 * Latency (default): node 1 times, through the DSM's own threads,
 *   - echo 0 B -> 0 B and 0 B -> 4 KiB round trips to node 0 (dsm_echo: what
 *     a read fault needs at least), then
 *   - one read fault per page on --pages fresh pages,
 * and prints medians, p99s and the ratio fault / (round trip 0 B -> 4 KiB),
 * plus a machine-readable RESULT line for bench/dsm-rdma-bench.sh.
 *
 * Failure (--kill-node K): node K's DSM runs in a child that SIGKILLs itself
 * --kill-after-ms after start, mid-traffic. Every survivor must see K fail
 * (on_peer_failed) within 3 s, then tears down and checks with `rdma res`
 * that the device holds exactly the PDs, CQs, QPs and MRs it held before the
 * DSM started: no verbs object leaked. With a SAN=1 build, LeakSanitizer
 * checks the memory at exit.
 *
 * --barrier: every node joins and leaves at once; lines up the stages of a
 * test script across nodes (60 s connect timeout).
 *
 * Exit: 0 ok, 1 usage/set-up, 3 peer failed (latency mode), 4 timeout,
 * 6 failure not detected in time, 7 verbs objects leaked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cvmm/lib/clock.h"
#include "cvmm/lib/log.h"
#include "cvmm/lib/parse.h"
#include "dsm/dsm.h"

#define DEFAULT_PORT 7470
#define MAX_SAMPLES  100000

struct opts {
	char *addrs[DSM_MAX_NODES];
	unsigned nnodes, node, pages, echoes;
	const char *transport;
	int kill_node;
	unsigned kill_after_ms;
	int listen_fd;
	bool barrier;
};

struct node {
	const struct opts *o;
	struct dsm *d;
	uint8_t *mem;
	int memfd;
	uint64_t size;
	volatile int failed_peer;
	uint64_t t_failed;
	volatile int stop;
};

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

static void pct(uint64_t *v, unsigned n, double *med, double *p99)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	*med = (double)v[n / 2] / 1000.0;
	*p99 = (double)v[(uint64_t)n * 99 / 100] / 1000.0;
}

static void on_failed(void *arg, unsigned peer, const char *why)
{
	struct node *n = arg;

	if (n->failed_peer < 0) {
		n->t_failed = clock_now_ns();
		n->failed_peer = (int)peer;
	}
}

/* Counts of pd, cq, qp, mr on every RDMA device, from `rdma res show`. */
static int res_counts(unsigned long c[4])
{
	static const char *const keys[4] = { " pd ", " cq ", " qp ", " mr " };
	char line[512];
	FILE *f = popen("rdma res show 2>/dev/null", "r");

	memset(c, 0, 4 * sizeof(*c));
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		for (int k = 0; k < 4; k++) {
			const char *p = strstr(line, keys[k]);

			if (p)
				c[k] += strtoul(p + strlen(keys[k]), NULL, 10);
		}
	return pclose(f) == 0 ? 0 : -EIO;
}

static int node_start(struct node *n)
{
	const struct opts *o = n->o;
	struct dsm_config cfg;
	int ret;

	n->size = (uint64_t)(o->pages + 1) * DSM_PAGE_SIZE;
	n->memfd = memfd_create("dsm-rdma-bench", MFD_CLOEXEC);
	if (n->memfd < 0 || ftruncate(n->memfd, (off_t)n->size))
		return -errno;
	n->mem = mmap(NULL, n->size, PROT_READ | PROT_WRITE, MAP_SHARED, n->memfd, 0);
	if (n->mem == MAP_FAILED)
		return -errno;
	cfg = (struct dsm_config){
		.node = o->node,
		.nnodes = o->nnodes,
		.memfd = n->memfd,
		.vm_addr = n->mem,
		.size = n->size,
		.transport = o->transport,
		.addrs = (const char *const *)o->addrs,
		.listen_fd = o->listen_fd,
		.connect_timeout_ms = 60000,
		.on_peer_failed = on_failed,
		.cb_arg = n,
	};
	ret = dsm_create(&cfg, &n->d);
	ret = ret ?: dsm_set_home(n->d, 0, n->size, 0);
	ret = ret ?: dsm_start(n->d);
	return ret;
}

static void node_stop(struct node *n)
{
	dsm_destroy(n->d);
	munmap(n->mem, n->size);
	close(n->memfd);
}

/* --- latency ------------------------------------------------------------------------- */

static int measure(struct node *n)
{
	const struct opts *o = n->o;
	unsigned cnt = o->echoes < MAX_SAMPLES ? o->echoes : MAX_SAMPLES;
	uint64_t *lat = calloc(MAX_SAMPLES, sizeof(*lat)), t;
	double r0m, r0p, r4m, r4p, fm, fp;
	int ret = 0;

	if (!lat)
		return -ENOMEM;
	/* Warm-up: connections, caches, the first faults' page-table set-up. */
	for (unsigned i = 0; i < 50 && !ret; i++)
		ret = dsm_echo(n->d, 0, 0, DSM_PAGE_SIZE, &t);
	for (unsigned i = 0; i < cnt && !ret; i++)
		ret = dsm_echo(n->d, 0, 0, 0, &lat[i]);
	if (!ret)
		pct(lat, cnt, &r0m, &r0p);
	for (unsigned i = 0; i < cnt && !ret; i++)
		ret = dsm_echo(n->d, 0, 0, DSM_PAGE_SIZE, &lat[i]);
	if (!ret)
		pct(lat, cnt, &r4m, &r4p);
	if (ret) {
		pr_err("echo to node 0: %s", strerror(-ret));
		free(lat);
		return ret;
	}
	/* Page 0 is the warm-up fault; the others are timed. */
	(void)*(volatile uint8_t *)n->mem;
	for (unsigned p = 1; p <= o->pages; p++) {
		uint64_t t0 = clock_now_ns();

		(void)*(volatile uint8_t *)(n->mem + (size_t)p * DSM_PAGE_SIZE);
		lat[p - 1] = clock_now_ns() - t0;
	}
	pct(lat, o->pages, &fm, &fp);
	printf("dsm-rdma-bench: transport %s, %u nodes, %u echoes, %u read faults\n", o->transport,
	       o->nnodes, cnt, o->pages);
	printf("  %-28s median %9.1f us   p99 %9.1f us\n", "round trip 0 B -> 0 B", r0m, r0p);
	printf("  %-28s median %9.1f us   p99 %9.1f us\n", "round trip 0 B -> 4 KiB", r4m, r4p);
	printf("  %-28s median %9.1f us   p99 %9.1f us   %.2fx the 4 KiB round trip\n",
	       "read fault (0 sharers)", fm, fp, fm / r4m);
	printf("RESULT transport=%s rtt0_us=%.1f rtt4k_us=%.1f fault_us=%.1f fault_p99_us=%.1f\n",
	       o->transport, r0m, r4m, fm, fp);
	fflush(stdout);
	free(lat);
	return 0;
}

static int run_latency(struct opts *o)
{
	struct node n = { .o = o, .failed_peer = -1 };
	int ret;

	ret = node_start(&n);
	if (ret)
		return 1;
	if (o->node == 1 && !o->barrier)
		ret = measure(&n);
	/* Every node keeps serving until node 1 is done and everyone said BYE. */
	if (dsm_leave(n.d, 600000) && !ret)
		ret = -ETIMEDOUT;
	node_stop(&n);
	if (n.failed_peer >= 0)
		return 3;
	return ret ? (ret == -ETIMEDOUT ? 4 : 1) : 0;
}

/* --- failure ----------------------------------------------------------------------------- */

/* Traffic while the peer dies: 4 KiB echoes to every peer in turn. */
static void *traffic(void *arg)
{
	struct node *n = arg;
	uint64_t t;

	for (unsigned i = 0; !n->stop; i++) {
		unsigned peer = i % n->o->nnodes;

		if (peer == n->o->node || peer == (unsigned)n->failed_peer)
			continue;
		if (dsm_echo(n->d, peer, DSM_PAGE_SIZE, DSM_PAGE_SIZE, &t))
			usleep(10000);
	}
	return NULL;
}

static int run_fail(struct opts *o)
{
	struct node n = { .o = o, .failed_peer = -1 };
	unsigned long before[4], during[4], after[4];
	pthread_t th;
	uint64_t t_start, deadline;
	int rc = 0;

	if ((int)o->node == o->kill_node) {
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			if (node_start(&n))
				_exit(1);
			usleep(o->kill_after_ms * 1000);
			printf("dsm-rdma-bench: node %u: killing itself (SIGKILL) mid-traffic\n",
			       o->node);
			fflush(stdout);
			kill(getpid(), SIGKILL);
		}
		if (pid < 0 || waitpid(pid, &st, 0) < 0)
			return 1;
		return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? 0 : 1;
	}

	if (res_counts(before)) {
		pr_err("cannot read 'rdma res show'");
		return 1;
	}
	if (node_start(&n))
		return 1;
	t_start = clock_now_ns();
	res_counts(during);
	printf("dsm-rdma-bench: node %u: verbs objects before start: pd %lu cq %lu qp %lu mr %lu; "
	       "running: pd %lu cq %lu qp %lu mr %lu\n",
	       o->node, before[0], before[1], before[2], before[3], during[0], during[1], during[2],
	       during[3]);
	pthread_create(&th, NULL, traffic, &n);
	deadline = t_start + (o->kill_after_ms + 3000ull) * 1000000ull;
	while (n.failed_peer < 0 && clock_now_ns() < deadline)
		usleep(10000);
	n.stop = 1;
	pthread_join(th, NULL);
	if (n.failed_peer != o->kill_node) {
		pr_err("node %u: node %d's failure not reported within %u ms of start", o->node,
		       o->kill_node, o->kill_after_ms + 3000);
		rc = 6;
	} else {
		printf("dsm-rdma-bench: node %u: peer %d failed, reported %.0f ms after start "
		       "(killed at %u ms)\n",
		       o->node, n.failed_peer, (double)(n.t_failed - t_start) / 1e6,
		       o->kill_after_ms);
	}
	/*
	 * The other survivors may still be busy: leave gracefully with them, so
	 * that no survivor sees another's teardown as a failure.
	 */
	dsm_leave(n.d, 10000);
	node_stop(&n);
	res_counts(after);
	printf("dsm-rdma-bench: node %u: verbs objects after teardown: pd %lu cq %lu qp %lu "
	       "mr %lu\n",
	       o->node, after[0], after[1], after[2], after[3]);
	if (memcmp(before, after, sizeof(before))) {
		pr_err("node %u: verbs objects leaked after the peer failed", o->node);
		rc = rc ?: 7;
	} else {
		printf("dsm-rdma-bench: node %u: no leaked PD, CQ, QP or MR\n", o->node);
	}
	fflush(stdout);
	return rc;
}

/* --- main -------------------------------------------------------------------------------- */

static int listen_on(const char *addr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const char *colon = strrchr(addr, ':');
	char host[64];
	int fd, one = 1;

	snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 64)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: dsm-rdma-bench --join ADDR0,ADDR1,... [--transport T] [--pages N]\n"
		   "                      [--echoes N] [--kill-node K [--kill-after-ms T]]\n"
		   "Same command on every node; node 0 is home of every page, node 1 measures.\n"
		   "  --transport T      tcp, rdma, rdma:payload=write, ... (default rdma)\n"
		   "  --pages N          read faults timed (default 500)\n"
		   "  --echoes N         round trips timed per size (default 500)\n"
		   "  --kill-node K      failure check: node K dies by SIGKILL, the others must\n"
		   "                     report it and tear down without leaking verbs objects\n"
		   "  --kill-after-ms T  (default 2000)\n"
		   "  --barrier          only connect and leave: returns once every node has\n"
		   "                     joined (waits up to 60 s), to line up test stages\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "join", required_argument, NULL, 'j' },
		{ "transport", required_argument, NULL, 't' },
		{ "pages", required_argument, NULL, 'p' },
		{ "echoes", required_argument, NULL, 'e' },
		{ "kill-node", required_argument, NULL, 'k' },
		{ "kill-after-ms", required_argument, NULL, 'K' },
		{ "barrier", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .pages = 500,
			  .echoes = 500,
			  .transport = "rdma",
			  .kill_node = -1,
			  .kill_after_ms = 2000,
			  .node = ~0u,
			  .listen_fd = -1 };
	char *join = NULL, *tok, *save = NULL;
	unsigned long v;
	int c, bad = 0, rc;

	log_set_prefix("dsm-rdma-bench");
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			join = optarg;
			break;
		case 't':
			o.transport = optarg;
			break;
		case 'p':
			bad |= parse_uint(optarg, 10, MAX_SAMPLES, &v);
			o.pages = (unsigned)v;
			break;
		case 'e':
			bad |= parse_uint(optarg, 10, MAX_SAMPLES, &v);
			o.echoes = (unsigned)v;
			break;
		case 'k':
			bad |= parse_uint(optarg, 1, DSM_MAX_NODES - 1, &v);
			o.kill_node = (int)v;
			break;
		case 'K':
			bad |= parse_uint(optarg, 0, 600000, &v);
			o.kill_after_ms = (unsigned)v;
			break;
		case 'b':
			o.barrier = true;
			break;
		case 'v':
			log_set_verbose(true);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (bad || !join || optind != argc) {
		usage(stderr);
		return 1;
	}
	join = strdup(join);
	for (tok = strtok_r(join, ",", &save); tok && o.nnodes < DSM_MAX_NODES;
	     tok = strtok_r(NULL, ",", &save)) {
		if (strchr(tok, ':'))
			o.addrs[o.nnodes] = strdup(tok);
		else if (asprintf(&o.addrs[o.nnodes], "%s:%u", tok, DEFAULT_PORT) < 0)
			return 1;
		o.nnodes++;
	}
	for (unsigned i = 0; i < o.nnodes && o.node == ~0u; i++) {
		o.listen_fd = listen_on(o.addrs[i]);
		if (o.listen_fd >= 0)
			o.node = i;
	}
	if (o.node == ~0u || o.nnodes < 2 || (o.kill_node >= (int)o.nnodes)) {
		pr_err("need 2+ addresses, one of them local and free, and --kill-node < nodes");
		return 1;
	}
	{
		static char prefix[32];

		snprintf(prefix, sizeof(prefix), "dsm-rdma-bench[%u]", o.node);
		log_set_prefix(prefix);
	}
	rc = o.kill_node >= 0 ? run_fail(&o) : run_latency(&o);
	close(o.listen_fd);
	for (unsigned i = 0; i < o.nnodes; i++)
		free(o.addrs[i]);
	free(join);
	return rc;
}
