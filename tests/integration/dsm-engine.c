// SPDX-License-Identifier: GPL-2.0
/*
 * dsm-engine-test: the engine with real userfaultfd, in one process (needs
 * root or CAP_SYS_PTRACE). Prints TAP.
 *
 *   - three nodes over the loop transport share pages; threads on every node
 *     increment counters on every page, and the totals must match exactly;
 *   - application messages (dsm_send_app) between three nodes, alongside
 *     coherence traffic: each arrives once, in order per sender, unaltered;
 *     replies sent from inside on_app_msg; bad arguments refused;
 *   - the residency window (dsm/hold.h): two nodes taking turns writing one
 *     page finish, with messages held by the default window and none
 *     without one;
 *   - a node gives the homes of a range to another and stays (dsm_rehome);
 *   - a node hands its pages over and departs (dsm/handover.c): after
 *     quiescence the cluster-wide checksum is the same before and after,
 *     every page reads the same on the nodes that stay, the new home serves
 *     writes, and the others leave cleanly without counting it as failed;
 *   - hot-add over tcp: a node absent at start joins the running DSM, reads
 *     what was written before and takes part in the increments;
 *   - wire safety over tcp: a fake peer completes the handshake, then sends
 *     one bad frame; the node must name the peer and the field, drop the
 *     peer, and keep its own pages intact.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cvmm/lib/log.h"
#include "dsm/dsm.h"
#include "dsm/wire.h"

#define PAGES	16
#define THREADS 2
#define INCS	3200 /* a multiple of PAGES */

static unsigned tap_n;
static int tap_failed;

static void tap(int ok, const char *what)
{
	printf("%sok %u - %s\n", ok ? "" : "not ", ++tap_n, what);
	fflush(stdout);
	if (!ok)
		tap_failed = 1;
}

struct region {
	int fd;
	uint8_t *mem;
	size_t size;
};

static int region_new(struct region *r, size_t pages)
{
	r->size = pages * DSM_PAGE_SIZE;
	r->fd = memfd_create("dsm-engine-test", MFD_CLOEXEC);
	if (r->fd < 0 || ftruncate(r->fd, (off_t)r->size))
		return -errno;
	r->mem = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	return r->mem == MAP_FAILED ? -errno : 0;
}

static void region_free(struct region *r)
{
	munmap(r->mem, r->size);
	close(r->fd);
}

/* --- loop cluster ---------------------------------------------------------- */

struct app_rx;

struct lnode {
	unsigned id;
	unsigned nnodes;
	struct dsm_loop_fabric *fabric;
	struct region r;
	struct dsm *d;
	unsigned hold_us;   /* dsm_config.hold_us */
	struct app_rx *app; /* receives application messages; NULL: none */
	/* tcp instead of the loop fabric (join_case) */
	const char *const *addrs;
	int lfd;
	uint64_t absent;
	bool joining;
	unsigned homes; /* nodes that home the quarters round-robin; 0: nnodes */
	int ret;
};

static void app_recv(void *arg, unsigned peer, const void *data, unsigned len);
static void app_attach(struct app_rx *rx, struct dsm *d);

/*
 * The region's four quarters are homed round-robin: with three nodes, node 0
 * homes the first and the last quarter.
 */
static void *start_node(void *arg)
{
	struct lnode *n = arg;
	struct dsm_config cfg = {
		.node = n->id,
		.nnodes = n->nnodes,
		.memfd = n->r.fd,
		.vm_addr = n->r.mem,
		.size = n->r.size,
		.transport = n->addrs ? "tcp" : "loop",
		.fabric = n->fabric,
		.addrs = n->addrs,
		.listen_fd = n->addrs ? n->lfd : -1,
		.absent = n->absent,
		.joining = n->joining,
		.hold_us = n->hold_us,
		.on_app_msg = n->app ? app_recv : NULL,
		.cb_arg = n->app,
	};
	uint64_t quarter = n->r.size / 4;

	n->ret = dsm_create(&cfg, &n->d);
	if (!n->ret && n->app)
		app_attach(n->app, n->d);
	for (unsigned q = 0; !n->ret && q < 4; q++)
		n->ret = dsm_set_home(n->d, q * quarter, quarter, q % (n->homes ?: n->nnodes));
	if (!n->ret)
		n->ret = dsm_start(n->d);
	return NULL;
}

/* Starts nodes 0..nnodes-1 at once (dsm_start waits for all of them). */
static int start_nodes(struct lnode *n, unsigned nnodes)
{
	pthread_t t[DSM_MAX_NODES];
	int ok = 1;

	for (unsigned i = 0; i < nnodes; i++)
		pthread_create(&t[i], NULL, start_node, &n[i]);
	for (unsigned i = 0; i < nnodes; i++) {
		pthread_join(t[i], NULL);
		ok &= !n[i].ret;
	}
	return ok;
}

static void *incrementer(void *arg)
{
	struct lnode *n = arg;

	for (unsigned i = 0; i < INCS; i++) {
		uint64_t *ctr = (uint64_t *)(n->r.mem + (i % PAGES) * DSM_PAGE_SIZE);

		/* read first: shared copies make the next write an upgrade (INV) */
		if (__atomic_load_n(&ctr[3], __ATOMIC_SEQ_CST) == ~0ull)
			abort();
		__atomic_fetch_add(&ctr[n->id], 1, __ATOMIC_SEQ_CST);
		__atomic_fetch_add(&ctr[3], 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/*
 * Waits until every node's DSM thread has finished what it was doing: an
 * echo to each node is handled after everything queued before it. Needed
 * before reading memory once the workers are joined, because the join is a
 * channel the DSM does not see. A home sends GRANT_WRITE before it punches
 * out its own copy, and a FETCH_WRITE owner sends its reply before it does,
 * so for a few microseconds the old copy still reads the old value while the
 * new owner writes. The guest cannot tell (anything that could tell that node
 * of the write passes through its DSM thread, after the punch), but a test
 * that reads right after pthread_join can.
 */
static int settle(struct lnode *n, unsigned nnodes)
{
	uint64_t ns;
	int ok = 1;

	for (unsigned i = 0; i < nnodes; i++)
		ok &= !dsm_echo(n[(i + 1) % nnodes].d, i, 0, 0, &ns);
	return ok;
}

static uint8_t *page_of(struct lnode *n, unsigned p)
{
	return n->r.mem + (size_t)p * DSM_PAGE_SIZE;
}

/* Every node sees every page's exact totals of incrementer(). */
static int counters_add_up(struct lnode *n, unsigned nnodes, unsigned threads)
{
	uint64_t want = (uint64_t)threads * INCS / PAGES;
	int ok = 1;

	for (unsigned i = 0; i < nnodes; i++) {
		for (unsigned p = 0; p < PAGES; p++) {
			uint64_t *ctr = (uint64_t *)(n[i].r.mem + p * DSM_PAGE_SIZE);

			for (unsigned k = 0; k < nnodes; k++)
				if (__atomic_load_n(&ctr[k], __ATOMIC_SEQ_CST) != want)
					ok = 0;
			if (__atomic_load_n(&ctr[3], __ATOMIC_SEQ_CST) != nnodes * want)
				ok = 0;
		}
	}
	return ok;
}

/*
 * The pages each of the nodes owns and homes (dsm_count_pages, published at
 * every tick of its DSM thread) add up to the region's npages each: at rest
 * every page has one home and one node that keeps its latest copy. Waits up
 * to 2 s for a tick; the sums seen last are in *owned and *homed.
 */
static int pages_add_up(struct lnode *n, unsigned nnodes, uint64_t npages, uint64_t *owned,
			uint64_t *homed)
{
	for (int tries = 0; tries < 40; tries++) {
		*owned = *homed = 0;
		for (unsigned i = 0; i < nnodes; i++) {
			uint64_t o, h;

			dsm_count_pages(n[i].d, &o, &h);
			*owned += o;
			*homed += h;
		}
		if (*owned == npages && *homed == npages)
			return 1;
		usleep(50000);
	}
	return 0;
}

/*
 * dsm_hot_pages of a node whose guest is still: the list since the start
 * holds the pages with the most faults, most first, as dsm_page_faults
 * counts them; a period's list counted from zeroes is the same, and the
 * next period, with no access in between, is empty.
 */
static int hot_pages_agree(struct dsm *d)
{
	struct dsm_hot_page all[4], period[4];
	uint64_t least;
	unsigned int n = dsm_hot_pages(d, all, 4);
	int ok = n > 0 && dsm_npages(d) == PAGES;

	for (unsigned int i = 0; ok && i < n; i++)
		ok = all[i].faults == dsm_page_faults(d, all[i].page) &&
		     (!i || all[i - 1].faults >= all[i].faults);
	/* a page left out faulted no more than the last one in (not at all if there was room) */
	least = n == 4 ? all[3].faults : 0;
	for (uint64_t p = 0; ok && p < PAGES; p++) {
		bool in = false;

		for (unsigned int i = 0; i < n; i++)
			in |= all[i].page == p;
		ok = in || dsm_page_faults(d, p) <= least;
	}
	ok &= dsm_hot_pages_period(d, period, 4) == n && !memcmp(all, period, n * sizeof(*all));
	ok &= dsm_hot_pages_period(d, period, 4) == 0;
	return ok;
}

/*
 * After hot_pages_agree (node 1's periods have started): node 0 writes pages
 * 0 and 1, then node 1 does, which faults there. Node 1's next period lists
 * those two pages, each with the faults it took since the period before.
 */
static int period_counts_faults(struct lnode *n)
{
	struct dsm_hot_page period[4];
	uint64_t before[2];
	unsigned int np;
	int ok;

	for (unsigned int p = 0; p < 2; p++) {
		before[p] = dsm_page_faults(n[1].d, p);
		page_of(&n[0], p)[100] = 1;
	}
	ok = settle(n, 3);
	for (unsigned int p = 0; p < 2; p++)
		page_of(&n[1], p)[101] = 2;
	np = dsm_hot_pages_period(n[1].d, period, 4);
	ok &= np == 2 && period[0].page == 0 && period[1].page == 1;
	for (unsigned int i = 0; ok && i < np; i++)
		ok = period[i].faults >= 1 &&
		     period[i].faults == dsm_page_faults(n[1].d, i) - before[i];
	return ok;
}

/* All nodes leave at once: each waits for the others' BYE. */
static void *leave_node(void *arg)
{
	struct lnode *n = arg;

	n->ret = dsm_leave(n->d, 5000);
	return NULL;
}

static void loop_cluster(void)
{
	struct dsm_loop_fabric *f = dsm_loop_fabric_new(3);
	struct lnode n[3];
	pthread_t t[3][THREADS];
	int ok = 1;

	for (unsigned i = 0; i < 3; i++) {
		n[i] = (struct lnode){ .id = i, .nnodes = 3, .fabric = f };
		if (region_new(&n[i].r, PAGES))
			ok = 0;
	}
	if (!ok) {
		tap(0, "loop: memfd regions");
		return;
	}
	ok = start_nodes(n, 3);
	tap(ok, "loop: three nodes start over one fabric");
	if (!ok)
		return;
	for (unsigned i = 0; i < 3; i++)
		for (unsigned j = 0; j < THREADS; j++)
			pthread_create(&t[i][j], NULL, incrementer, &n[i]);
	for (unsigned i = 0; i < 3; i++)
		for (unsigned j = 0; j < THREADS; j++)
			pthread_join(t[i][j], NULL);

	ok &= settle(n, 3) && counters_add_up(n, 3, THREADS);
	tap(ok, "loop: concurrent increments from 3 nodes x 2 threads add up on every node");

	struct dsm_stats st;

	dsm_get_stats(n[1].d, &st);
	tap(st.faults[DSM_STAT_READ] + st.faults[DSM_STAT_WRITE] + st.faults[DSM_STAT_UPGRADE] >
			    0 &&
		    st.remote_fetches > 0 && st.inv_received > 0 && dsm_page_faults(n[1].d, 0) > 0,
	    "loop: statistics count faults, fetches, invalidations and page heat");
	tap(hot_pages_agree(n[1].d), "loop: the hot pages are the most-faulted, most first, "
				     "and a period's list counts from the one before");
	tap(period_counts_faults(n), "loop: a period's list holds the pages that faulted in it, "
				     "each with its faults since the period before");

	uint64_t ns;

	ok = 1;
	tap(!dsm_echo(n[0].d, 2, 0, DSM_PAGE_SIZE, &ns), "loop: echo round trip");
	for (unsigned i = 0; i < 3; i++)
		pthread_create(&t[i][0], NULL, leave_node, &n[i]);
	for (unsigned i = 0; i < 3; i++) {
		pthread_join(t[i][0], NULL);
		ok &= !n[i].ret;
	}
	for (unsigned i = 0; i < 3; i++) {
		ok &= !dsm_failed_peers(n[i].d) && !dsm_local_errors(n[i].d);
		dsm_destroy(n[i].d);
		region_free(&n[i].r);
	}
	tap(ok, "loop: all leave cleanly; no peer failed, no local error");
	dsm_loop_fabric_free(f);
}

/* --- handover ------------------------------------------------------------------ */

struct progress {
	unsigned calls;
	uint64_t done, total;
};

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct progress *p = arg;

	p->calls++;
	p->done = done;
	p->total = total;
}

static void *quiesce_sum(void *arg)
{
	struct lnode *n = arg;
	uint64_t *out = (uint64_t *)n->app; /* two words: sum, pages */

	n->ret = dsm_quiesce(n->d, 5000);
	if (!n->ret)
		n->ret = dsm_checksum(n->d, &out[0], &out[1]);
	return NULL;
}

/*
 * Node 2 of 3 hands over to node 1. The region is 4 x PAGES: quarters homed
 * by nodes 0, 1, 2, 0. The incrementers touch the first PAGES pages (node
 * 0's); in node 2's quarter, page 2P+1 is shared by node 0, page 2P+8 owned
 * by node 1, page 2P+13 written by node 2, and the rest is untouched zero
 * (runs that go as XFER_ZERO); node 2 also owns page P-1 of node 0's.
 */
#define HP (2 * PAGES) /* first page of node 2's quarter */

static void handover_case(void)
{
	struct dsm_loop_fabric *f = dsm_loop_fabric_new(3);
	struct progress prog = { 0 };
	struct dsm_handover_stats hs = { 0 };
	uint64_t before[2] = { 0 }, after[2] = { 0 }, owned, homed;
	struct lnode n[3];
	pthread_t t[3][THREADS];
	char what[200];
	int ok = 1;

	for (unsigned i = 0; i < 3; i++) {
		n[i] = (struct lnode){ .id = i, .nnodes = 3, .fabric = f };
		if (region_new(&n[i].r, 4 * PAGES))
			ok = 0;
	}
	if (!ok || !start_nodes(n, 3)) {
		tap(0, "handover: three nodes start");
		return;
	}
	for (unsigned i = 0; i < 3; i++)
		for (unsigned j = 0; j < THREADS; j++)
			pthread_create(&t[i][j], NULL, incrementer, &n[i]);
	for (unsigned i = 0; i < 3; i++)
		for (unsigned j = 0; j < THREADS; j++)
			pthread_join(t[i][j], NULL);
	memset(page_of(&n[2], PAGES - 1) + 64, 0x5a, 64);
	memset(page_of(&n[1], HP + 8) + 100, 0x18, 16);
	memset(page_of(&n[2], HP + 13) + 200, 0x2d, 16);
	ok = page_of(&n[0], HP + 1)[4000] == 0 && settle(n, 3);

	n[1].app = (struct app_rx *)before;
	quiesce_sum(&n[1]);
	ok &= !n[1].ret && before[1] == PAGES + 2;
	snprintf(what, sizeof(what),
		 "handover: quiesced, the checksum counts every non-zero page once (%llu of %u)",
		 (unsigned long long)before[1], PAGES + 2);
	tap(ok, what);

	/* A hand-over refused by its checks moves nothing, and says so. */
	ok = dsm_handover(n[2].d, 2, NULL, NULL, &hs) == -EINVAL && !hs.started;
	tap(ok, "handover: to itself is refused (-EINVAL) before anything moved (started 0)");

	ok = !dsm_handover(n[2].d, 1, on_progress, &prog, &hs) && hs.started && !dsm_depart(n[2].d);
	snprintf(what, sizeof(what),
		 "handover: node 2 handed %llu pages over to node 1 (progress %llu/%llu in %u "
		 "calls; "
		 "%llu pushed, %llu zero, %llu directory only)",
		 (unsigned long long)prog.total, (unsigned long long)prog.done,
		 (unsigned long long)prog.total, prog.calls, (unsigned long long)hs.pushed,
		 (unsigned long long)hs.zero, (unsigned long long)hs.dir_only);
	ok &= prog.calls > 0 && prog.done == prog.total && prog.total >= PAGES + 1;
	/* zero runs 2P+2..7, 2P+9..12, 2P+14..15; 2P+8 stays node 1's; 2P, 2P+1, 2P+13 pushed */
	ok &= hs.zero == 12 && hs.dir_only == 1 && hs.pushed >= 4 &&
	      hs.pushed + hs.zero + hs.dir_only == prog.total;
	tap(ok, what);
	dsm_destroy(n[2].d);
	region_free(&n[2].r);

	n[0].app = (struct app_rx *)after;
	quiesce_sum(&n[0]);
	ok = !n[0].ret && after[0] == before[0] && after[1] == before[1];
	tap(ok, "handover: the checksum after it, from node 0, equals the one before");

	ok = pages_add_up(n, 2, 4 * PAGES, &owned, &homed);
	snprintf(what, sizeof(what),
		 "handover: the two nodes that stay own and home every page once (%llu, %llu "
		 "of %u)",
		 (unsigned long long)owned, (unsigned long long)homed, 4 * PAGES);
	tap(ok, what);

	ok = 1;
	for (unsigned i = 0; i < 2; i++) /* 3 nodes' increments, read on the 2 that stay */
		for (unsigned p = 0; p < PAGES; p++)
			for (unsigned k = 0; k < 4; k++)
				ok &= ((uint64_t *)page_of(&n[i], p))[k] ==
				      (uint64_t)THREADS * INCS / PAGES * (k == 3 ? 3 : 1);
	for (unsigned i = 0; i < 2; i++) {
		ok &= page_of(&n[i], PAGES - 1)[64] == 0x5a &&
		      page_of(&n[i], PAGES - 1)[127] == 0x5a;
		ok &= page_of(&n[i], HP + 8)[100] == 0x18 && page_of(&n[i], HP + 13)[215] == 0x2d;
		ok &= page_of(&n[i], HP + 5)[5] == 0 && page_of(&n[i], HP + 15)[4095] == 0;
	}
	tap(ok, "handover: every page reads the same on the two nodes that stay");

	/* settle(): the old copy may read old data for a moment (docs/dsm.md, Known limits) */
	page_of(&n[0], HP + 1)[8] = 0x77; /* homed by node 2 before, node 1 now */
	ok = settle(n, 2) && page_of(&n[1], HP + 1)[8] == 0x77;
	page_of(&n[0], HP + 6)[8] = 0x66; /* a zero page node 1 took as XFER_ZERO */
	ok &= settle(n, 2) && page_of(&n[1], HP + 6)[8] == 0x66;
	page_of(&n[1], HP + 13)[8] = 0x55;
	ok &= settle(n, 2) && page_of(&n[0], HP + 13)[8] == 0x55;
	tap(ok, "handover: the new home serves reads and writes of the pages it took");

	for (unsigned i = 0; i < 2; i++) {
		n[i].app = NULL;
		pthread_create(&t[i][0], NULL, leave_node, &n[i]);
	}
	ok = 1;
	for (unsigned i = 0; i < 2; i++) {
		pthread_join(t[i][0], NULL);
		ok &= !n[i].ret && !dsm_failed_peers(n[i].d) && !dsm_local_errors(n[i].d);
		dsm_destroy(n[i].d);
		region_free(&n[i].r);
	}
	tap(ok, "handover: the others leave cleanly; the departed node was not a failure");
	dsm_loop_fabric_free(f);
}

/* --- rehome (rebalancing) --------------------------------------------------------- */

/*
 * Node 0 of 3 gives the homes of its last quarter (3P..4P-1) to node 2 and
 * stays. In that quarter page 3P+2 is written by node 0 (its only copy
 * goes), 3P+5 owned by node 1 (its directory entry alone goes), 3P+9
 * shared by all three (the same), and the rest is untouched zero.
 */
#define RP (3 * PAGES) /* first page of node 0's second quarter */

static void rehome_case(void)
{
	struct dsm_loop_fabric *f = dsm_loop_fabric_new(3);
	struct progress prog = { 0 };
	struct dsm_handover_stats hs = { 0 };
	uint64_t before[2] = { 0 }, after[2] = { 0 }, owned, homed, o2, h2;
	struct lnode n[3];
	pthread_t t[3];
	char what[200];
	int ok = 1;

	for (unsigned i = 0; i < 3; i++) {
		n[i] = (struct lnode){ .id = i, .nnodes = 3, .fabric = f };
		if (region_new(&n[i].r, 4 * PAGES))
			ok = 0;
	}
	if (!ok || !start_nodes(n, 3)) {
		tap(0, "rehome: three nodes start");
		return;
	}
	memset(page_of(&n[0], RP + 2) + 10, 0x21, 16);
	memset(page_of(&n[1], RP + 5) + 20, 0x42, 16);
	memset(page_of(&n[0], RP + 9) + 30, 0x63, 16);
	ok = settle(n, 3) && page_of(&n[1], RP + 9)[30] == 0x63 &&
	     page_of(&n[2], RP + 9)[45] == 0x63;
	n[1].app = (struct app_rx *)before;
	quiesce_sum(&n[1]);
	ok &= !n[1].ret && before[1] == 3;

	/* Refused by its checks (to itself): nothing moved, and it says so. */
	ok &= dsm_rehome(n[0].d, RP, PAGES, 0, NULL, NULL, &hs) == -EINVAL && !hs.started;
	ok &= !dsm_rehome(n[0].d, RP, PAGES, 2, on_progress, &prog, &hs) && hs.started;
	snprintf(what, sizeof(what),
		 "rehome: node 0 gave %llu pages to node 2 (progress %llu/%llu; %llu pushed, "
		 "%llu zero, %llu directory only)",
		 (unsigned long long)prog.total, (unsigned long long)prog.done,
		 (unsigned long long)prog.total, (unsigned long long)hs.pushed,
		 (unsigned long long)hs.zero, (unsigned long long)hs.dir_only);
	/* zero runs 3P..3P+1, 3P+3..4, 3P+6..8, 3P+10..15; 3P+2 pushed; 3P+5, 3P+9 directory */
	ok &= prog.total == PAGES && prog.done == PAGES && hs.zero == 13 && hs.pushed == 1 &&
	      hs.dir_only == 2;
	tap(ok, what);

	n[1].app = (struct app_rx *)after;
	quiesce_sum(&n[1]);
	ok = !n[1].ret && after[0] == before[0] && after[1] == before[1];
	tap(ok, "rehome: the checksum after it equals the one before");

	/* Node 2 homes its own quarter and node 0's last (after a tick). */
	for (int tries = 0; tries < 40; tries++) {
		dsm_count_pages(n[2].d, &o2, &h2);
		if (h2 == 2 * PAGES)
			break;
		usleep(50000);
	}
	ok = h2 == 2 * PAGES && pages_add_up(n, 3, 4 * PAGES, &owned, &homed);
	snprintf(what, sizeof(what),
		 "rehome: the nodes own and home every page once (%llu, %llu of %u); node 2 "
		 "homes %llu (%u)",
		 (unsigned long long)owned, (unsigned long long)homed, 4 * PAGES,
		 (unsigned long long)h2, 2 * PAGES);
	tap(ok, what);

	ok = 1;
	for (unsigned i = 0; i < 3; i++)
		ok &= page_of(&n[i], RP + 2)[25] == 0x21 && page_of(&n[i], RP + 5)[35] == 0x42 &&
		      page_of(&n[i], RP + 9)[30] == 0x63 && page_of(&n[i], RP + 12)[12] == 0;
	tap(ok, "rehome: every page reads the same on the three nodes, node 0 included");

	page_of(&n[0], RP + 2)[8] = 0x77; /* node 0 writes through the new home */
	ok = settle(n, 3) && page_of(&n[1], RP + 2)[8] == 0x77;
	page_of(&n[2], RP + 12)[8] = 0x66; /* a zero page node 2 took as XFER_ZERO */
	ok &= settle(n, 3) && page_of(&n[0], RP + 12)[8] == 0x66;
	page_of(&n[1], 1)[8] = 0x55; /* node 0 still homes its first quarter */
	ok &= settle(n, 3) && page_of(&n[0], 1)[8] == 0x55 && page_of(&n[2], 1)[8] == 0x55;
	tap(ok, "rehome: the new home serves the pages it took; node 0 still serves its others");

	for (unsigned i = 0; i < 3; i++) {
		n[i].app = NULL;
		pthread_create(&t[i], NULL, leave_node, &n[i]);
	}
	ok = 1;
	for (unsigned i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		ok &= !n[i].ret && !dsm_failed_peers(n[i].d) && !dsm_local_errors(n[i].d);
		dsm_destroy(n[i].d);
		region_free(&n[i].r);
	}
	tap(ok, "rehome: every node leaves cleanly, with no failed peer and no local error");
	dsm_loop_fabric_free(f);
}

/* --- hot-add ------------------------------------------------------------------- */

/*
 * Node 2 of 3 joins over tcp after nodes 0 and 1 started without it (it was
 * absent), homing nothing: it reads what was written before, takes part in
 * the increments, and everyone leaves cleanly.
 */
static void join_case(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char addr[3][32];
	const char *addrs[3] = { addr[0], addr[1], addr[2] };
	struct lnode n[3];
	pthread_t t[3][THREADS];
	int ok = 1;

	for (unsigned i = 0; i < 3; i++) {
		socklen_t slen = sizeof(sa);

		n[i] = (struct lnode){ .id = i, .nnodes = 3, .addrs = addrs, .homes = 2 };
		n[i].lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		sa.sin_port = 0;
		ok &= !bind(n[i].lfd, (struct sockaddr *)&sa, sizeof(sa)) && !listen(n[i].lfd, 4) &&
		      !getsockname(n[i].lfd, (struct sockaddr *)&sa, &slen) &&
		      !region_new(&n[i].r, PAGES);
		snprintf(addr[i], sizeof(addr[i]), "127.0.0.1:%u", ntohs(sa.sin_port));
	}
	n[0].absent = n[1].absent = 1u << 2;
	n[2].joining = true;
	ok = ok && start_nodes(n, 2);
	tap(ok, "join: nodes 0 and 1 start over tcp without node 2 (absent)");
	if (!ok)
		return;
	memset(n[0].r.mem + 5 * DSM_PAGE_SIZE + 512, 0x3c, 32);
	usleep(300 * 1000); /* longer than nothing: an absent node is not failed for its silence */

	start_node(&n[2]);
	ok = !n[2].ret && n[2].r.mem[5 * DSM_PAGE_SIZE + 512] == 0x3c &&
	     n[2].r.mem[5 * DSM_PAGE_SIZE + 543] == 0x3c;
	tap(ok, "join: node 2 joins the running DSM and reads a page written before it came");
	if (!ok)
		return;
	for (unsigned i = 0; i < 3; i++)
		for (unsigned j = 0; j < THREADS; j++)
			pthread_create(&t[i][j], NULL, incrementer, &n[i]);
	for (unsigned i = 0; i < 3; i++)
		for (unsigned j = 0; j < THREADS; j++)
			pthread_join(t[i][j], NULL);
	ok = settle(n, 3) && counters_add_up(n, 3, THREADS);
	tap(ok, "join: increments from the 2 first nodes and the joined one add up on every node");

	for (unsigned i = 0; i < 3; i++)
		pthread_create(&t[i][0], NULL, leave_node, &n[i]);
	ok = 1;
	for (unsigned i = 0; i < 3; i++) {
		pthread_join(t[i][0], NULL);
		ok &= !n[i].ret && !dsm_failed_peers(n[i].d) && !dsm_local_errors(n[i].d);
	}
	for (unsigned i = 0; i < 3; i++) {
		dsm_destroy(n[i].d);
		region_free(&n[i].r);
		close(n[i].lfd);
	}
	tap(ok, "join: all three leave cleanly; no peer failed");
}

/* --- application messages --------------------------------------------------- */

#define APP_N	 600 /* messages from every node to every other node */
#define ECHO_N	 200 /* messages node 1 sends to node 0 to be sent back */
#define WAIT_SEC 20  /* for deliveries; a lost message fails, it does not hang */

/*
 * Message i from node s to node r. Its length walks through every value from
 * 1 to DSM_APP_MAX (37 is odd, so i * 37 takes every residue mod 256), and
 * its bytes depend on s, r and i, so a message delivered twice, out of order,
 * to the wrong node or altered is not the one the receiver expects next.
 */
static unsigned app_len(unsigned s, unsigned r, unsigned i)
{
	return 1 + (i * 37 + s * 11 + r * 5) % DSM_APP_MAX;
}

static void app_fill(unsigned s, unsigned r, unsigned i, uint8_t *buf)
{
	uint64_t x = (uint64_t)s << 48 | (uint64_t)r << 32 | i;

	for (unsigned k = 0; k < app_len(s, r, i); k++) {
		uint64_t z = (x += 0x9e3779b97f4a7c15ull); /* splitmix64 */

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		buf[k] = (uint8_t)((z ^ (z >> 31)) >> 56);
	}
}

/*
 * One node's receiver. on_app_msg runs on that node's DSM thread only, so
 * the counters have one writer; the main thread reads them atomically.
 */
struct app_rx {
	unsigned me;
	struct dsm *d;
	bool echo;		     /* send every message back to its sender, from on_app_msg */
	bool echoed;		     /* what arrives now is our own messages, sent back */
	unsigned got[DSM_MAX_NODES]; /* messages received from each peer */
	unsigned bad[DSM_MAX_NODES]; /* ... that were not the one expected next */
	unsigned bad_peer;	     /* messages naming a peer out of range */
	int echo_err;		     /* the first error of a reply */
};

static void app_attach(struct app_rx *rx, struct dsm *d)
{
	rx->d = d;
}

static void app_recv(void *arg, unsigned peer, const void *data, unsigned len)
{
	struct app_rx *rx = arg;
	uint8_t want[DSM_APP_MAX];
	unsigned i, s, r;

	if (peer >= DSM_MAX_NODES || peer == rx->me) {
		__atomic_add_fetch(&rx->bad_peer, 1, __ATOMIC_RELAXED);
		return;
	}
	i = rx->got[peer];
	/* Indices run on per link: an echo of our message i comes back as number i. */
	if (__atomic_load_n(&rx->echoed, __ATOMIC_ACQUIRE)) {
		s = rx->me;
		r = peer;
	} else {
		s = peer;
		r = rx->me;
	}
	app_fill(s, r, i, want);
	if (len != app_len(s, r, i) || memcmp(data, want, len))
		__atomic_add_fetch(&rx->bad[peer], 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&rx->echo, __ATOMIC_ACQUIRE)) {
		/* From the DSM thread itself, as the monitor answers a forwarded read. */
		int ret = dsm_send_app(rx->d, peer, data, len);

		if (ret && !rx->echo_err)
			__atomic_store_n(&rx->echo_err, ret, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&rx->got[peer], i + 1, __ATOMIC_RELEASE);
}

/* Waits until rx has want[p] messages from each peer p; false on the deadline. */
static int app_wait(struct app_rx *rx, unsigned nnodes, const unsigned *want)
{
	for (int t = 0; t < WAIT_SEC * 100; t++) {
		unsigned done = 0;

		for (unsigned p = 0; p < nnodes; p++)
			done += __atomic_load_n(&rx->got[p], __ATOMIC_ACQUIRE) >= want[p];
		if (done == nnodes)
			return 1;
		usleep(10000);
	}
	return 0;
}

struct app_tx {
	struct lnode *n;
	unsigned sent[DSM_MAX_NODES]; /* messages sent to each peer so far */
	unsigned count;		      /* this round: to each of the peers in mask */
	uint64_t mask;
	int err;
};

/* Sends count messages to every peer in mask, interleaving the peers. */
static void *app_sender(void *arg)
{
	struct app_tx *tx = arg;
	uint8_t buf[DSM_APP_MAX];

	for (unsigned k = 0; k < tx->count; k++) {
		for (unsigned p = 0; p < tx->n->nnodes; p++) {
			unsigned i = tx->sent[p];
			int ret;

			if (!(tx->mask & (1ull << p)))
				continue;
			app_fill(tx->n->id, p, i, buf);
			ret = dsm_send_app(tx->n->d, p, buf, app_len(tx->n->id, p, i));
			if (ret && !tx->err)
				tx->err = ret;
			tx->sent[p]++;
		}
	}
	return NULL;
}

static void app_cluster(void)
{
	struct dsm_loop_fabric *f = dsm_loop_fabric_new(3);
	struct app_rx rx[3];
	struct app_tx tx[3];
	struct lnode n[3];
	pthread_t ts[3], ti[3];
	unsigned want[3];
	uint8_t buf[DSM_APP_MAX + 1] = { 0 };
	struct dsm_stats st;
	char what[200];
	int ok = 1, ret;

	for (unsigned i = 0; i < 3; i++) {
		rx[i] = (struct app_rx){ .me = i };
		n[i] = (struct lnode){ .id = i, .nnodes = 3, .fabric = f, .app = &rx[i] };
		if (region_new(&n[i].r, PAGES))
			ok = 0;
	}
	if (!ok) {
		tap(0, "app: memfd regions");
		return;
	}
	ok = start_nodes(n, 3);
	tap(ok, "app: three nodes with on_app_msg start");
	if (!ok)
		return;

	/*
	 * Every node sends APP_N messages to each other node while it increments
	 * counters on shared pages, so the messages share the links with faults,
	 * grants and invalidations.
	 */
	for (unsigned i = 0; i < 3; i++) {
		tx[i] = (struct app_tx){ .n = &n[i], .count = APP_N, .mask = 7 & ~(1ull << i) };
		pthread_create(&ti[i], NULL, incrementer, &n[i]);
		pthread_create(&ts[i], NULL, app_sender, &tx[i]);
	}
	for (unsigned i = 0; i < 3; i++) {
		pthread_join(ts[i], NULL);
		pthread_join(ti[i], NULL);
		ok &= !tx[i].err;
	}
	for (unsigned i = 0; i < 3; i++) {
		for (unsigned p = 0; p < 3; p++)
			want[p] = p == i ? 0 : APP_N;
		ok &= app_wait(&rx[i], 3, want);
		for (unsigned p = 0; p < 3; p++)
			ok &= !__atomic_load_n(&rx[i].bad[p], __ATOMIC_RELAXED) &&
			      __atomic_load_n(&rx[i].got[p], __ATOMIC_ACQUIRE) == want[p];
		ok &= !rx[i].bad_peer;
	}
	snprintf(what, sizeof(what),
		 "app: %u messages of 1..%u bytes from every node to every other arrive once, in "
		 "order, unaltered",
		 APP_N, DSM_APP_MAX);
	tap(ok, what);
	tap(settle(n, 3) && counters_add_up(n, 3, 1),
	    "app: the increments made alongside add up on every node");

	/* Node 0 sends node 1's messages back from inside on_app_msg. */
	__atomic_store_n(&rx[0].echo, true, __ATOMIC_RELEASE);
	__atomic_store_n(&rx[1].echoed, true, __ATOMIC_RELEASE);
	tx[1].count = ECHO_N;
	tx[1].mask = 1;
	app_sender(&tx[1]);
	want[0] = APP_N + ECHO_N;
	want[1] = 0;
	want[2] = APP_N;
	ok = !tx[1].err && app_wait(&rx[1], 3, want);
	want[0] = 0;
	want[1] = APP_N + ECHO_N;
	ok = ok && app_wait(&rx[0], 3, want);
	ok = ok && !rx[0].bad[1] && !rx[1].bad[0] &&
	     !__atomic_load_n(&rx[0].echo_err, __ATOMIC_RELAXED) &&
	     __atomic_load_n(&rx[1].got[0], __ATOMIC_ACQUIRE) == APP_N + ECHO_N;
	__atomic_store_n(&rx[0].echo, false, __ATOMIC_RELEASE);
	tap(ok, "app: replies sent from inside on_app_msg (the DSM thread) arrive in order");

	ok = dsm_send_app(n[0].d, 0, buf, 1) == -EINVAL;
	ok &= dsm_send_app(n[0].d, 1, buf, 0) == -EINVAL;
	ok &= dsm_send_app(n[0].d, 1, buf, DSM_APP_MAX + 1) == -EINVAL;
	ok &= dsm_send_app(n[0].d, 3, buf, 1) == -EINVAL;
	ok &= dsm_send_app(n[0].d, DSM_MAX_NODES, buf, 1) == -EINVAL;
	ok &= dsm_send_app(n[0].d, ~0u, buf, 1) == -EINVAL;
	tap(ok, "app: dsm_send_app to itself, of 0 or 257 bytes, or to a node out of range: "
		"-EINVAL");

	/* Sent: APP_N to each peer, and the echo round; received alike. */
	ok = 1;
	for (unsigned i = 0; i < 3; i++) {
		uint64_t extra = i < 2 ? ECHO_N : 0;

		dsm_get_stats(n[i].d, &st);
		ok &= st.app_sent == 2 * APP_N + extra && st.app_received == 2 * APP_N + extra;
		if (st.app_sent != 2 * APP_N + extra || st.app_received != 2 * APP_N + extra)
			printf("# node %u: app_sent %" PRIu64 " app_received %" PRIu64 "\n", i,
			       st.app_sent, st.app_received);
	}
	tap(ok, "app: stats app_sent and app_received count exactly the messages");

	ok = 1;
	for (unsigned i = 0; i < 3; i++)
		pthread_create(&ts[i], NULL, leave_node, &n[i]);
	for (unsigned i = 0; i < 3; i++) {
		pthread_join(ts[i], NULL);
		ok &= !n[i].ret;
	}
	/* Node 2 is gone: a message to it is refused, and counts nowhere. */
	dsm_destroy(n[2].d);
	ret = dsm_send_app(n[0].d, 2, buf, 1);
	dsm_get_stats(n[0].d, &st);
	ok = ok && ret == -ENOTCONN && st.app_sent == 2 * APP_N + ECHO_N;
	for (unsigned i = 0; i < 3; i++) {
		if (i < 2) {
			ok &= !dsm_failed_peers(n[i].d) && !dsm_local_errors(n[i].d);
			dsm_destroy(n[i].d);
		}
		region_free(&n[i].r);
	}
	tap(ok, "app: a message to a node that left: -ENOTCONN; all leave cleanly");
	dsm_loop_fabric_free(f);
}

/* --- residency window ---------------------------------------------------------- */

#define TURNS	     200 /* writes by each node */
#define HOLD_JOIN_MS 30000

/*
 * Page 0 (homed on node 0) holds whose turn it is and a count. Each node waits
 * for its turn reading the page, then writes it twice: every turn moves the
 * page to the other node and back, the pattern the window is for.
 */
static void *take_turns(void *arg)
{
	struct lnode *n = arg;
	uint64_t *w = (uint64_t *)n->r.mem;

	for (unsigned i = 0; i < TURNS; i++) {
		/* Yield: on 2 cores a spinning waiter would starve the other node. */
		while (__atomic_load_n(&w[0], __ATOMIC_ACQUIRE) != n->id)
			sched_yield();
		__atomic_store_n(&w[1], __atomic_load_n(&w[1], __ATOMIC_RELAXED) + 1,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&w[0], 1 - n->id, __ATOMIC_RELEASE);
	}
	return NULL;
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void hold_case(unsigned hold_us, const char *name)
{
	struct dsm_loop_fabric *f = dsm_loop_fabric_new(2);
	struct lnode n[2];
	pthread_t t[2];
	struct dsm_stats st[2];
	struct timespec dl;
	char what[200];
	uint64_t t0, ms;
	int ok = 1;

	for (unsigned i = 0; i < 2; i++) {
		n[i] = (struct lnode){ .id = i, .nnodes = 2, .fabric = f, .hold_us = hold_us };
		if (region_new(&n[i].r, 4))
			ok = 0;
	}
	if (!ok || !start_nodes(n, 2)) {
		snprintf(what, sizeof(what), "hold: %s: two nodes start", name);
		tap(0, what);
		return;
	}
	t0 = ms_now();
	for (unsigned i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, take_turns, &n[i]);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += HOLD_JOIN_MS / 1000;
	for (unsigned i = 0; i < 2; i++) {
		if (pthread_timedjoin_np(t[i], NULL, &dl)) {
			/* A thread stuck in a page fault cannot be joined or cancelled. */
			snprintf(what, sizeof(what), "hold: %s: %u turns each within %u s", name,
				 TURNS, HOLD_JOIN_MS / 1000);
			tap(0, what);
			printf("Bail out! threads blocked in page faults\n");
			fflush(stdout);
			_exit(1);
		}
	}
	ms = ms_now() - t0;
	ok &= settle(n, 2);
	for (unsigned i = 0; i < 2; i++) {
		const uint64_t *w = (const uint64_t *)n[i].r.mem;

		uint64_t count = __atomic_load_n(&w[1], __ATOMIC_SEQ_CST);

		if (count != 2 * TURNS) {
			printf("# node %u reads a count of %" PRIu64 ", not %u\n", i, count,
			       2 * TURNS);
			ok = 0;
		}
		dsm_get_stats(n[i].d, &st[i]);
	}
	printf("# hold %s: %u turns each in %" PRIu64 " ms; held node0 %" PRIu64 " node1 %" PRIu64
	       "\n",
	       name, TURNS, ms, st[0].held, st[1].held);
	if (hold_us == DSM_HOLD_NONE)
		ok &= !st[0].held && !st[1].held;
	else
		ok &= st[0].held + st[1].held > 0;
	for (unsigned i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, leave_node, &n[i]);
	for (unsigned i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		if (n[i].ret)
			printf("# node %u: dsm_leave: %s\n", i, strerror(-n[i].ret));
		ok &= !n[i].ret;
	}
	for (unsigned i = 0; i < 2; i++) {
		ok &= !dsm_failed_peers(n[i].d) && !dsm_local_errors(n[i].d);
		dsm_destroy(n[i].d);
		region_free(&n[i].r);
	}
	snprintf(what, sizeof(what),
		 "hold: %s: two nodes take %u turns each writing one page; %s; all leave cleanly",
		 name, TURNS, hold_us == DSM_HOLD_NONE ? "nothing held" : "messages held");
	tap(ok, what);
	dsm_loop_fabric_free(f);
}

/* --- wire safety over tcp --------------------------------------------------- */

struct victim {
	struct region r;
	struct dsm *d;
	char addr0[32], addr1[32];
	const char *addrs[2];
	int lfd;
	int ret;
	char why[200];
	volatile int failed;
};

static void victim_failed(void *arg, unsigned peer, const char *why)
{
	struct victim *v = arg;

	snprintf(v->why, sizeof(v->why), "peer %u: %s", peer, why);
	__atomic_store_n(&v->failed, 1, __ATOMIC_RELEASE);
}

static void *victim_start(void *arg)
{
	struct victim *v = arg;
	struct dsm_config cfg = {
		.node = 0,
		.nnodes = 2,
		.memfd = v->r.fd,
		.vm_addr = v->r.mem,
		.size = v->r.size,
		.transport = "tcp",
		.addrs = v->addrs,
		.listen_fd = v->lfd,
		.connect_timeout_ms = 5000,
		.on_peer_failed = victim_failed,
		.cb_arg = v,
	};

	v->ret = dsm_create(&cfg, &v->d);
	if (!v->ret)
		v->ret = dsm_set_home(v->d, 0, v->r.size / 2, 0);
	if (!v->ret)
		v->ret = dsm_set_home(v->d, v->r.size / 2, v->r.size / 2, 1);
	if (!v->ret)
		v->ret = dsm_start(v->d);
	return NULL;
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	while (n--)
		h = (h ^ *p++) * 1099511628211ull;
	return h;
}

static void send_frame(int fd, uint8_t type, uint16_t flags, uint32_t seq, uint64_t page,
		       const void *payload, uint32_t len)
{
	uint8_t buf[DSM_WIRE_MAX_FRAME];
	struct dsm_msg m = { .type = type,
			     .flags = flags,
			     .seq = seq,
			     .page = page,
			     .len = len,
			     .payload = payload };

	dsm_wire_encode(buf, &m);
	memcpy(buf + DSM_WIRE_HDR_LEN, payload, len);
	if (write(fd, buf, DSM_WIRE_HDR_LEN + len) < 0)
		perror("write");
}

enum bad_kind { BAD_MAGIC, BAD_CSUM, BAD_LEN, BAD_SEQ, BAD_PROTO, BAD_PAGE, BAD_TRUNC };

/*
 * One case: a fresh victim node 0 (4 pages homed here, 4 at the fake peer),
 * its home pages filled with a pattern; the fake node 1 handshakes and sends
 * one bad thing.
 */
static void wire_case(enum bad_kind kind, const char *field, const char *name)
{
	struct victim v = { .lfd = -1 };
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t slen = sizeof(sa);
	uint8_t hello[sizeof(struct dsm_hello)], rbuf[DSM_WIRE_HDR_LEN + sizeof(hello)];
	static uint8_t page[DSM_PAGE_SIZE];
	uint64_t before, h;
	pthread_t t;
	char what[400];
	int fd, ok;

	if (region_new(&v.r, 8)) {
		tap(0, "wire: memfd region");
		return;
	}
	memset(v.r.mem, 0xa5, v.r.size / 2);
	before = fnv(v.r.mem, v.r.size / 2);
	v.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bind(v.lfd, (struct sockaddr *)&sa, sizeof(sa));
	listen(v.lfd, 4);
	getsockname(v.lfd, (struct sockaddr *)&sa, &slen);
	snprintf(v.addr0, sizeof(v.addr0), "127.0.0.1:%u", ntohs(sa.sin_port));
	snprintf(v.addr1, sizeof(v.addr1), "127.0.0.1:1"); /* never dialled: node 1 connects */
	v.addrs[0] = v.addr0;
	v.addrs[1] = v.addr1;
	pthread_create(&t, NULL, victim_start, &v);

	/* The fake node 1: a correct HELLO, with the victim's home-map hash. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	{
		uint8_t map[8] = { 0, 0, 0, 0, 1, 1, 1, 1 };

		h = fnv(map, 8);
	}
	struct dsm_hello hl = {
		.version = DSM_PROTO_VERSION, .node = 1, .nnodes = 2, .npages = 8, .config_hash = h
	};

	dsm_wire_put_hello(hello, &hl);
	send_frame(fd, DSM_MSG_HELLO, 0, 1, 0, hello, sizeof(hello));
	ok = read(fd, rbuf, sizeof(rbuf)) > 0;
	pthread_join(t, NULL);
	if (!ok || v.ret) {
		tap(0, name);
		close(fd);
		return;
	}

	uint8_t bad[DSM_WIRE_HDR_LEN];
	struct dsm_msg m = { .type = DSM_MSG_REQ_READ, .seq = 2, .page = 1 };

	dsm_wire_encode(bad, &m);
	switch (kind) {
	case BAD_MAGIC:
		bad[1] ^= 0xff;
		break;
	case BAD_CSUM:
		bad[24] ^= 1;
		break;
	case BAD_LEN:
		bad[10] = 0x40; /* 4 MiB payload claimed */
		break;
	case BAD_SEQ:
		m.seq = 9;
		dsm_wire_encode(bad, &m);
		break;
	case BAD_PROTO:
		/* a valid frame the protocol does not allow: an unsolicited grant */
		send_frame(fd, DSM_MSG_GRANT_READ, 0, 2, 5, page, DSM_PAGE_SIZE);
		break;
	case BAD_PAGE:
		m.page = 1000;
		dsm_wire_encode(bad, &m);
		break;
	case BAD_TRUNC:
		break;
	}
	if (kind == BAD_TRUNC) {
		if (write(fd, bad, 20) < 0)
			perror("write");
		close(fd);
		fd = -1;
	} else if (kind != BAD_PROTO) {
		if (write(fd, bad, sizeof(bad)) < 0)
			perror("write");
	}
	for (int i = 0; i < 200 && !__atomic_load_n(&v.failed, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	ok = __atomic_load_n(&v.failed, __ATOMIC_ACQUIRE) && strstr(v.why, "peer 1") &&
	     strstr(v.why, field) && dsm_failed_peers(v.d) == 2;
	/* the victim still serves its own memory, unchanged */
	ok = ok && fnv(v.r.mem, v.r.size / 2) == before && !dsm_local_errors(v.d);
	snprintf(what, sizeof(what), "wire: %s -> peer failed naming '%s'%s%s", name, field,
		 ok ? "" : "; got: ", ok ? "" : v.why);
	tap(ok, what);
	if (fd >= 0)
		close(fd);
	dsm_destroy(v.d);
	close(v.lfd);
	region_free(&v.r);
}

int main(void)
{
	log_set_prefix("dsm-engine-test");
	printf("1..38\n");
	loop_cluster();
	handover_case();
	rehome_case();
	join_case();
	app_cluster();
	hold_case(0, "default window");
	hold_case(DSM_HOLD_NONE, "DSM_HOLD_NONE");
	wire_case(BAD_MAGIC, "magic", "bad magic");
	wire_case(BAD_CSUM, "checksum", "corrupted checksum");
	wire_case(BAD_LEN, "length", "oversized length");
	wire_case(BAD_SEQ, "seq", "sequence gap");
	wire_case(BAD_PROTO, "type", "out-of-protocol grant");
	wire_case(BAD_PAGE, "page", "page outside the region");
	wire_case(BAD_TRUNC, "connection", "truncated frame then close");
	return tap_failed;
}
