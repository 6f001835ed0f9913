// SPDX-License-Identifier: GPL-2.0
/*
 * dsm-stress: hammer one DSM region from several node processes and check
 * that nothing was lost, duplicated or torn. See usage() for the options and
 * exit codes.
 *
 * Region layout, in pages:
 *   [0, N)             work pages: 8 shared counters (atomic increments by
 *                      anyone), then one record slot per worker of the whole
 *                      cluster, written only by its worker under a seqlock
 *   [N, N + K*R)       results: R pages per node, homed there, the node's tallies
 *   N + K*R            barrier counters (home: node 0)
 * Work pages are homed in K contiguous ranges, like guest NUMA nodes.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
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
#include "cvmm/lib/log.h"
#include "cvmm/lib/parse.h"
#include "dsm/dsm.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_USAGE = 1,		  /* bad arguments or set-up failure */
	EXIT_MISMATCH = 2,	  /* data check failed */
	EXIT_PEER = 3,		  /* a peer failed */
	EXIT_TIMEOUT = 4,	  /* --timeout expired */
	EXIT_LOCAL = 5,		  /* a local DSM operation failed */
	EXIT_KILL_UNDETECTED = 6, /* --kill-node: a survivor did not report it within 2 s */
};

#define NCTR	     8
#define SLOT_BASE    64
#define DEFAULT_PORT 7470
#define MAX_WORKERS  63

struct opts {
	unsigned nnodes, pages, workers, hot, node;
	unsigned long ops;
	uint64_t seed;
	const char *transport;
	char **addrs;
	int listen_fd;
	unsigned timeout_s;
	int kill_node;
	unsigned kill_after_ms;
};

struct slot {
	uint32_t seq; /* odd while being written */
	uint32_t csum;
	uint64_t data[];
};

struct node;

struct worker {
	struct node *n;
	unsigned id; /* global: node * workers + local index */
	uint64_t rng;
	uint32_t *incs; /* per page */
	uint32_t *recs; /* per page: records written to our slot */
	uint64_t *last; /* per page and counter: last value seen */
	unsigned long mismatches;
	pthread_t thread;
};

struct node {
	const struct opts *o;
	unsigned self, nnodes, total_workers;
	size_t slot_size, result_pages;
	uint64_t npages_total;
	uint8_t *mem;
	struct dsm *dsm;
	struct worker *w;
	unsigned long mismatches;
	double work_s;
	volatile int done;
	int failed_peer;
	char fail_why[160];
};

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint8_t *work_page(struct node *n, unsigned p)
{
	return n->mem + (size_t)p * DSM_PAGE_SIZE;
}

static struct slot *slot_of(struct node *n, unsigned p, unsigned g)
{
	return (struct slot *)(work_page(n, p) + SLOT_BASE + g * n->slot_size);
}

static size_t slot_words(struct node *n)
{
	return (n->slot_size - sizeof(struct slot)) / 8;
}

/* The i-th data word of worker g's count-th record on page p. */
static uint64_t record_word(struct node *n, unsigned g, unsigned p, uint32_t count, size_t i)
{
	uint64_t s = n->o->seed ^ ((uint64_t)g << 48) ^ ((uint64_t)p << 24) ^ count ^ (i << 56);

	return splitmix(&s);
}

static uint32_t record_csum(const uint64_t *w, size_t nw, unsigned g, uint32_t seq)
{
	uint64_t h = 0xcbf29ce484222325ull ^ g ^ ((uint64_t)seq << 32);

	for (size_t i = 0; i < nw; i++)
		h = (h ^ w[i]) * 0x100000001b3ull;
	return (uint32_t)(h ^ (h >> 32));
}

static void report(struct worker *w, const char *fmt, unsigned p, unsigned long long a,
		   unsigned long long b)
{
	if (w->mismatches++ < 10) {
		char msg[128];

		snprintf(msg, sizeof(msg), "node %u worker %u page %u: %s (%llu vs %llu)",
			 w->n->self, w->id, p, fmt, a, b);
		pr_err("%s", msg);
	}
}

/* Writes our record slot on page p: seqlock writer (Boehm's C11 form). */
static void write_record(struct worker *w, unsigned p)
{
	struct node *n = w->n;
	struct slot *s = slot_of(n, p, w->id);
	size_t nw = slot_words(n);
	uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);
	uint32_t count = w->recs[p] + 1;
	uint64_t buf[512];

	if (seq != 2 * w->recs[p])
		report(w, "own record slot has a foreign sequence number", p, seq,
		       2ull * w->recs[p]);
	__atomic_store_n(&s->seq, 2 * count - 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (size_t i = 0; i < nw; i++) {
		buf[i] = record_word(n, w->id, p, count, i);
		__atomic_store_n(&s->data[i], buf[i], __ATOMIC_RELAXED);
	}
	__atomic_store_n(&s->csum, record_csum(buf, nw, w->id, 2 * count), __ATOMIC_RELAXED);
	__atomic_store_n(&s->seq, 2 * count, __ATOMIC_RELEASE);
	w->recs[p] = count;
}

/*
 * Reads worker g's slot on page p: seqlock reader. A consistent snapshot
 * must carry a valid checksum. Returns the sequence number seen, or -1 if
 * the writer was active.
 */
static long read_record(struct worker *w, unsigned p, unsigned g)
{
	struct node *n = w->n;
	struct slot *s = slot_of(n, p, g);
	size_t nw = slot_words(n);
	uint64_t buf[512];
	uint32_t s1, s2, csum;

	s1 = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
	for (size_t i = 0; i < nw; i++)
		buf[i] = __atomic_load_n(&s->data[i], __ATOMIC_RELAXED);
	csum = __atomic_load_n(&s->csum, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	s2 = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);
	if (s1 != s2 || (s1 & 1))
		return -1;
	if (s1 && csum != record_csum(buf, nw, g, s1))
		report(w, "record checksum mismatch", p, csum, record_csum(buf, nw, g, s1));
	return s1;
}

static void read_counters(struct worker *w, unsigned p)
{
	uint64_t *ctr = (uint64_t *)work_page(w->n, p);

	for (unsigned k = 0; k < NCTR; k++) {
		uint64_t v = __atomic_load_n(&ctr[k], __ATOMIC_ACQUIRE);

		/* Coherence: one thread never sees a counter go backwards. */
		if (v < w->last[p * NCTR + k])
			report(w, "counter went backwards", p, v, w->last[p * NCTR + k]);
		w->last[p * NCTR + k] = v;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct node *n = w->n;
	const struct opts *o = n->o;
	unsigned long ops = o->ops / n->total_workers;
	unsigned span = o->hot ? o->hot : o->pages;

	for (unsigned long i = 0; i < ops; i++) {
		uint64_t r = splitmix(&w->rng);
		unsigned p = (unsigned)(r % span);
		unsigned what = (unsigned)((r >> 32) % 100);

		if (what < 40) {
			uint64_t *ctr = (uint64_t *)work_page(n, p);

			__atomic_fetch_add(&ctr[(r >> 40) % NCTR], 1, __ATOMIC_SEQ_CST);
			w->incs[p]++;
		} else if (what < 70) {
			unsigned g = (unsigned)((r >> 48) % n->total_workers);
			long seq;

			read_counters(w, p);
			seq = read_record(w, p, g);
			if (g == w->id && seq != 2l * w->recs[p])
				report(w, "own record lost or duplicated", p,
				       (unsigned long long)seq, 2ull * w->recs[p]);
		} else {
			write_record(w, p);
		}
	}
	return NULL;
}

/* --- phases ---------------------------------------------------------------- */

static uint32_t *result_area(struct node *n, unsigned node)
{
	return (uint32_t *)(n->mem +
			    (size_t)(n->o->pages + node * n->result_pages) * DSM_PAGE_SIZE);
}

static void barrier(struct node *n, unsigned phase)
{
	uint64_t *bar = (uint64_t *)(n->mem + (n->npages_total - 1) * DSM_PAGE_SIZE);

	__atomic_add_fetch(&bar[phase], 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&bar[phase], __ATOMIC_SEQ_CST) < n->nnodes)
		usleep(200);
}

/* Tallies of all local workers -> our result pages: per page, incs then per-worker recs. */
static void publish(struct node *n)
{
	uint32_t *r = result_area(n, n->self);
	unsigned W = n->o->workers;

	for (unsigned p = 0; p < n->o->pages; p++) {
		uint32_t incs = 0;

		for (unsigned i = 0; i < W; i++) {
			incs += n->w[i].incs[p];
			r[p * (1 + W) + 1 + i] = n->w[i].recs[p];
		}
		r[p * (1 + W)] = incs;
	}
}

/* After the run: every node checks the whole region against everyone's tallies. */
static unsigned long verify(struct node *n)
{
	unsigned W = n->o->workers;
	size_t nw = slot_words(n);
	unsigned long bad = 0;

	for (unsigned p = 0; p < n->o->pages; p++) {
		uint64_t *ctr = (uint64_t *)work_page(n, p), sum = 0, want = 0;

		for (unsigned k = 0; k < NCTR; k++)
			sum += ctr[k];
		for (unsigned node = 0; node < n->nnodes; node++)
			want += result_area(n, node)[p * (1 + W)];
		if (sum != want && bad++ < 10)
			pr_err("node %u: page %u: counters sum to %llu, %llu increments were made",
			       n->self, p, (unsigned long long)sum, (unsigned long long)want);

		for (unsigned g = 0; g < n->total_workers; g++) {
			struct slot *s = slot_of(n, p, g);
			uint32_t count = result_area(n, g / W)[p * (1 + W) + 1 + g % W];
			uint64_t buf[512];
			bool ok = s->seq == 2 * count;

			for (size_t i = 0; ok && count && i < nw; i++) {
				buf[i] = s->data[i];
				ok = buf[i] == record_word(n, g, p, count, i);
			}
			if (ok && count)
				ok = s->csum == record_csum(buf, nw, g, 2 * count);
			if (!ok && bad++ < 10)
				pr_err("node %u: page %u: record of worker %u: seq %u, %u writes "
				       "made, "
				       "contents %s",
				       n->self, p, g, s->seq, count,
				       s->seq == 2 * count ? "corrupt" : "not checked");
		}
	}
	return bad;
}

static void on_peer_failed(void *arg, unsigned peer, const char *why)
{
	struct node *n = arg;
	int expect = -1;

	/* Report the first failure: the others are often its consequences. */
	if (__atomic_load_n(&n->failed_peer, __ATOMIC_ACQUIRE) >= 0)
		return;
	snprintf(n->fail_why, sizeof(n->fail_why), "%s", why);
	__atomic_compare_exchange_n(&n->failed_peer, &expect, (int)peer, false, __ATOMIC_RELEASE,
				    __ATOMIC_RELAXED);
}

/* The node's work, on its own thread, so that main can watch for failures. */
static void *run_main(void *arg)
{
	struct node *n = arg;
	uint64_t t0 = clock_now_ns();

	for (unsigned i = 0; i < n->o->workers; i++)
		pthread_create(&n->w[i].thread, NULL, worker_main, &n->w[i]);
	for (unsigned i = 0; i < n->o->workers; i++) {
		pthread_join(n->w[i].thread, NULL);
		n->mismatches += n->w[i].mismatches;
	}
	n->work_s = (double)(clock_now_ns() - t0) / 1e9;
	publish(n);
	barrier(n, 0);
	n->mismatches += verify(n);
	barrier(n, 1);
	__atomic_store_n(&n->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void print_summary(struct node *n)
{
	struct dsm_stats st;

	dsm_get_stats(n->dsm, &st);
	printf("node %u: %lu ops in %.2f s (%.0f ops/s); faults read %llu write %llu upgrade %llu "
	       "spurious %llu; pages in %llu out %llu; inv sent %llu received %llu; "
	       "mismatches %lu\n",
	       n->self, n->o->ops / n->total_workers * n->o->workers, n->work_s,
	       (double)(n->o->ops / n->total_workers * n->o->workers) / n->work_s,
	       (unsigned long long)st.faults[DSM_STAT_READ],
	       (unsigned long long)st.faults[DSM_STAT_WRITE],
	       (unsigned long long)st.faults[DSM_STAT_UPGRADE],
	       (unsigned long long)st.faults[DSM_STAT_SPURIOUS],
	       (unsigned long long)st.pages_received, (unsigned long long)st.pages_sent,
	       (unsigned long long)st.inv_sent, (unsigned long long)st.inv_received, n->mismatches);
	fflush(stdout);
}

static int run_node(const struct opts *o, unsigned self)
{
	struct node n = { .o = o, .self = self, .nnodes = o->nnodes, .failed_peer = -1 };
	struct dsm_config cfg;
	uint64_t size, deadline;
	unsigned W = o->workers, per;
	pthread_t run;
	int fd, ret;

	if (o->nnodes * W > MAX_WORKERS) {
		pr_err("at most %u workers in the whole cluster", MAX_WORKERS);
		return EXIT_USAGE;
	}
	n.total_workers = o->nnodes * W;
	n.slot_size = ((DSM_PAGE_SIZE - SLOT_BASE) / n.total_workers) & ~(size_t)7;
	n.result_pages = ((size_t)o->pages * (1 + W) * 4 + DSM_PAGE_SIZE - 1) / DSM_PAGE_SIZE;
	n.npages_total = o->pages + o->nnodes * n.result_pages + 1;
	size = n.npages_total * DSM_PAGE_SIZE;

	fd = memfd_create("dsm-stress", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		pr_err("memfd: %s", strerror(errno));
		return EXIT_USAGE;
	}
	n.mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (n.mem == MAP_FAILED) {
		pr_err("mmap: %s", strerror(errno));
		return EXIT_USAGE;
	}
	cfg = (struct dsm_config){
		.node = self,
		.nnodes = o->nnodes,
		.memfd = fd,
		.vm_addr = n.mem,
		.size = size,
		.transport = o->transport,
		.addrs = (const char *const *)o->addrs,
		.listen_fd = o->listen_fd,
		.on_peer_failed = on_peer_failed,
		.cb_arg = &n,
	};
	ret = dsm_create(&cfg, &n.dsm);
	if (ret)
		return EXIT_USAGE;
	for (unsigned i = 0; i < o->nnodes; i++) {
		uint64_t a = (uint64_t)o->pages * i / o->nnodes;
		uint64_t b = (uint64_t)o->pages * (i + 1) / o->nnodes;

		ret = ret ?: dsm_set_home(n.dsm, a * DSM_PAGE_SIZE, (b - a) * DSM_PAGE_SIZE, i);
		ret = ret
			      ?: dsm_set_home(n.dsm,
					      (o->pages + i * n.result_pages) * DSM_PAGE_SIZE,
					      n.result_pages * DSM_PAGE_SIZE, i);
	}
	ret = ret ?: dsm_set_home(n.dsm, (n.npages_total - 1) * DSM_PAGE_SIZE, DSM_PAGE_SIZE, 0);
	ret = ret ?: dsm_start(n.dsm);
	if (ret) {
		dsm_destroy(n.dsm); /* unwinds a partial start */
		return ret == -EPROTO || ret == -ETIMEDOUT || ret == -ECONNREFUSED ? EXIT_PEER
										   : EXIT_USAGE;
	}

	n.w = calloc(W, sizeof(*n.w));
	for (unsigned i = 0; i < W; i++) {
		struct worker *w = &n.w[i];

		w->n = &n;
		w->id = self * W + i;
		w->rng = o->seed * 0x9e3779b97f4a7c15ull + w->id + 1;
		w->incs = calloc(o->pages, sizeof(*w->incs));
		w->recs = calloc(o->pages, sizeof(*w->recs));
		w->last = calloc((size_t)o->pages * NCTR, sizeof(*w->last));
		if (!w->incs || !w->recs || !w->last)
			return EXIT_USAGE;
	}
	per = (unsigned)(o->ops / n.total_workers);
	if (self == 0)
		printf("dsm-stress: %u nodes x %u workers, %u pages%s, %u ops per worker, seed "
		       "%llu\n",
		       o->nnodes, W, o->pages, o->hot ? " (hot set)" : "", per,
		       (unsigned long long)o->seed);
	fflush(stdout);

	/*
	 * Watch from here: a worker waiting for a page of a dead peer blocks in
	 * the kernel for good, so the verdict cannot come from joining it.
	 */
	deadline = clock_now_ns() + (uint64_t)o->timeout_s * 1000000000ull;
	pthread_create(&run, NULL, run_main, &n);
	for (;;) {
		int peer = __atomic_load_n(&n.failed_peer, __ATOMIC_ACQUIRE);

		if (peer >= 0) {
			fprintf(stderr, "dsm-stress: node %u: FAIL: peer %d failed: %s\n", self,
				peer, n.fail_why);
			_exit(EXIT_PEER);
		}
		if (dsm_local_errors(n.dsm)) {
			fprintf(stderr, "dsm-stress: node %u: FAIL: local DSM errors\n", self);
			_exit(EXIT_LOCAL);
		}
		if (__atomic_load_n(&n.done, __ATOMIC_ACQUIRE))
			break;
		if (clock_now_ns() > deadline) {
			fprintf(stderr, "dsm-stress: node %u: FAIL: not done after %u s\n", self,
				o->timeout_s);
			_exit(EXIT_TIMEOUT);
		}
		usleep(10000);
	}
	pthread_join(run, NULL);
	print_summary(&n);
	ret = dsm_leave(n.dsm, 10000);
	if (ret && n.failed_peer >= 0)
		return EXIT_PEER;
	dsm_destroy(n.dsm);
	munmap(n.mem, size);
	close(fd);
	for (unsigned i = 0; i < W; i++) {
		free(n.w[i].incs);
		free(n.w[i].recs);
		free(n.w[i].last);
	}
	free(n.w);
	if (n.mismatches) {
		fprintf(stderr, "dsm-stress: node %u: FAIL: %lu mismatches\n", self, n.mismatches);
		return EXIT_MISMATCH;
	}
	return ret ? EXIT_PEER : EXIT_OK;
}

/* --- processes ---------------------------------------------------------------- */

static int listen_local(struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)sa, sizeof(*sa)) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)sa, &len)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* --nodes K: K children on 127.0.0.1, listening sockets made here so no port races. */
static int run_local(struct opts *o)
{
	pid_t pid[DSM_MAX_NODES];
	int lfd[DSM_MAX_NODES], status[DSM_MAX_NODES];
	uint64_t t_exit[DSM_MAX_NODES], t_kill = 0, t0 = clock_now_ns();
	unsigned i, left;
	int rc = EXIT_OK;

	o->addrs = calloc(o->nnodes, sizeof(*o->addrs));
	for (i = 0; i < o->nnodes; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		lfd[i] = listen_local(&sa);
		if (lfd[i] < 0) {
			pr_err("listen on 127.0.0.1: %s", strerror(errno));
			return EXIT_USAGE;
		}
		if (asprintf(&o->addrs[i], "127.0.0.1:%u", ntohs(sa.sin_port)) < 0)
			return EXIT_USAGE;
	}
	fflush(stdout);
	for (i = 0; i < o->nnodes; i++) {
		pid[i] = fork();
		if (pid[i] < 0)
			return EXIT_USAGE;
		if (pid[i] == 0) {
			char prefix[32];

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (unsigned j = 0; j < o->nnodes; j++)
				if (j != i)
					close(lfd[j]);
			snprintf(prefix, sizeof(prefix), "dsm-stress[%u]", i);
			log_set_prefix(prefix);
			o->listen_fd = lfd[i];
			/* exit, not _exit: stdout was flushed before fork, and LSan runs at exit. */
			rc = run_node(o, i);
			for (unsigned j = 0; j < o->nnodes; j++)
				free(o->addrs[j]);
			free(o->addrs);
			exit(rc);
		}
		status[i] = -1;
	}
	for (i = 0; i < o->nnodes; i++)
		close(lfd[i]);

	if (o->kill_node >= 0) {
		usleep(o->kill_after_ms * 1000);
		kill(pid[o->kill_node], SIGKILL);
		t_kill = clock_now_ns();
		printf("dsm-stress: killed node %d after %u ms\n", o->kill_node, o->kill_after_ms);
		fflush(stdout);
	}
	for (left = o->nnodes; left;) {
		int st;
		pid_t p = wait(&st);

		if (p < 0)
			break;
		for (i = 0; i < o->nnodes; i++) {
			if (pid[i] != p)
				continue;
			status[i] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			t_exit[i] = clock_now_ns();
			left--;
		}
	}

	for (i = 0; i < o->nnodes; i++) {
		if (o->kill_node >= 0) {
			double ms = (double)(t_exit[i] - t_kill) / 1e6;

			if ((int)i == o->kill_node)
				continue;
			printf("dsm-stress: node %u exited %d, %.0f ms after the kill\n", i,
			       status[i], ms);
			if (status[i] != EXIT_PEER || ms > 2000)
				rc = EXIT_KILL_UNDETECTED;
			continue;
		}
		if (status[i] && (rc == EXIT_OK || status[i] == EXIT_MISMATCH))
			rc = status[i] > EXIT_KILL_UNDETECTED ? EXIT_PEER : status[i];
		if (status[i])
			printf("dsm-stress: node %u exited with status %d\n", i, status[i]);
	}
	printf("dsm-stress: %s (%.1f s)\n", rc ? "FAIL" : "PASS",
	       (double)(clock_now_ns() - t0) / 1e9);
	for (i = 0; i < o->nnodes; i++)
		free(o->addrs[i]);
	free(o->addrs);
	return rc;
}

/* --join: our id is the first address of the list we can listen on. */
static int run_join(struct opts *o, const char *list)
{
	char *s = strdup(list), *tok, *save = NULL;
	unsigned n = 0;
	int rc;

	o->addrs = calloc(DSM_MAX_NODES, sizeof(*o->addrs));
	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == DSM_MAX_NODES)
			return EXIT_USAGE;
		if (strchr(tok, ':')) {
			o->addrs[n++] = strdup(tok);
		} else if (asprintf(&o->addrs[n++], "%s:%u", tok, DEFAULT_PORT) < 0) {
			return EXIT_USAGE;
		}
	}
	o->nnodes = n;
	if (n < 1)
		return EXIT_USAGE;
	if (o->node == ~0u) {
		for (unsigned i = 0; i < n && o->node == ~0u; i++) {
			struct sockaddr_in sa = { .sin_family = AF_INET };
			char host[64];
			const char *colon = strrchr(o->addrs[i], ':');

			snprintf(host, sizeof(host), "%.*s", (int)(colon - o->addrs[i]),
				 o->addrs[i]);
			sa.sin_port = htons((uint16_t)atoi(colon + 1));
			if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
				continue;
			o->listen_fd = listen_local(&sa);
			if (o->listen_fd >= 0)
				o->node = i;
		}
		if (o->node == ~0u) {
			pr_err("none of the --join addresses is local and free (give --id)");
			return EXIT_USAGE;
		}
	}
	if (o->node >= n)
		return EXIT_USAGE;
	{
		static char prefix[32]; /* the log keeps the pointer */

		snprintf(prefix, sizeof(prefix), "dsm-stress[%u]", o->node);
		log_set_prefix(prefix);
	}
	rc = run_node(o, o->node);
	/* Freed so that LeakSanitizer (make SAN=1) checks the run, not us. */
	for (unsigned i = 0; i < n; i++)
		free(o->addrs[i]);
	free(o->addrs);
	free(s);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dsm-stress [--nodes K | --join ADDR0,ADDR1,... [--id N]] [options]\n"
		"\n"
		"Runs K DSM nodes (processes) sharing one region; every node runs W workers\n"
		"doing random atomic increments on shared counters, checksummed record\n"
		"writes and reads; at the end every node checks that the counters add up\n"
		"exactly and every record is intact.\n"
		"\n"
		"  --nodes K           K local processes over tcp on 127.0.0.1 (default 3)\n"
		"  --join LIST         one node of a multi-host run; LIST is host[:port],...\n"
		"                      (port %u by default); our id is the index of the\n"
		"                      first address we can listen on, or --id N\n"
		"  --pages N           work pages (default 4096)\n"
		"  --workers W         worker threads per node (default 2)\n"
		"  --ops M             operations in total, split over all workers (default "
		"100000)\n"
		"  --hot P             all operations on the first P pages (contention)\n"
		"  --seed S            random seed (default 1)\n"
		"  --transport NAME    tcp (default), or rdma[:OPTIONS] (docs/dsm.md)\n"
		"  --timeout SEC       give up after SEC seconds (default 600)\n"
		"  --kill-node I       fault injection: SIGKILL node I ...\n"
		"  --kill-after-ms T   ... T ms after start; survivors must report it within 2 s\n"
		"  -v                  verbose\n"
		"\n"
		"exit status:\n"
		"  0  all checks passed\n"
		"  1  usage or set-up error\n"
		"  2  data mismatch (lost, duplicated or torn update)\n"
		"  3  a peer failed (connection lost, protocol error, silence)\n"
		"  4  not finished within --timeout\n"
		"  5  a local DSM operation failed\n"
		"  6  --kill-node: a surviving node did not report the failure within 2 s\n",
		DEFAULT_PORT);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "nodes", required_argument, NULL, 'n' },
		{ "join", required_argument, NULL, 'j' },
		{ "id", required_argument, NULL, 'i' },
		{ "pages", required_argument, NULL, 'p' },
		{ "workers", required_argument, NULL, 'w' },
		{ "ops", required_argument, NULL, 'o' },
		{ "hot", required_argument, NULL, 'H' },
		{ "seed", required_argument, NULL, 's' },
		{ "transport", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "kill-node", required_argument, NULL, 'k' },
		{ "kill-after-ms", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .nnodes = 3,
			  .pages = 4096,
			  .workers = 2,
			  .ops = 100000,
			  .seed = 1,
			  .transport = "tcp",
			  .node = ~0u,
			  .listen_fd = -1,
			  .timeout_s = 600,
			  .kill_node = -1,
			  .kill_after_ms = 1000 };
	const char *join = NULL;
	unsigned long v;
	int c, bad = 0;

	log_set_prefix("dsm-stress");
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			bad |= parse_uint(optarg, 1, DSM_MAX_NODES, &v);
			o.nnodes = (unsigned)v;
			break;
		case 'j':
			join = optarg;
			break;
		case 'i':
			bad |= parse_uint(optarg, 0, DSM_MAX_NODES - 1, &v);
			o.node = (unsigned)v;
			break;
		case 'p':
			bad |= parse_uint(optarg, 1, 1u << 22, &v);
			o.pages = (unsigned)v;
			break;
		case 'w':
			bad |= parse_uint(optarg, 1, MAX_WORKERS, &v);
			o.workers = (unsigned)v;
			break;
		case 'o':
			bad |= parse_uint(optarg, 1, ~0ul, &o.ops);
			break;
		case 'H':
			bad |= parse_uint(optarg, 1, 1u << 22, &v);
			o.hot = (unsigned)v;
			break;
		case 's':
			bad |= parse_uint(optarg, 0, ~0ul, &v);
			o.seed = v;
			break;
		case 't':
			o.transport = optarg;
			break;
		case 'T':
			bad |= parse_uint(optarg, 1, 86400, &v);
			o.timeout_s = (unsigned)v;
			break;
		case 'k':
			bad |= parse_uint(optarg, 0, DSM_MAX_NODES - 1, &v);
			o.kill_node = (int)v;
			break;
		case 'K':
			bad |= parse_uint(optarg, 0, 3600000, &v);
			o.kill_after_ms = (unsigned)v;
			break;
		case 'v':
			log_set_verbose(true);
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (bad || optind != argc || (o.hot && o.hot > o.pages) ||
	    (o.kill_node >= 0 && (join || (unsigned)o.kill_node >= o.nnodes))) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (join)
		return run_join(&o, join);
	return run_local(&o);
}
