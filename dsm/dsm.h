/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Distributed shared memory for guest RAM: one guest RAM, coherent on every
 * node of a cluster.
 *
 * The monitor backs guest RAM with a memfd and maps it (MAP_SHARED) where
 * KVM and the device models use it. It hands the DSM that fd and mapping;
 * the DSM registers the mapping with userfaultfd and resolves every access
 * that needs a remote page on its own thread. Code touching guest memory
 * asks nothing and knows nothing about it.
 *
 * Life cycle, on every node with the same arguments except `node`:
 *
 *	dsm_create(&cfg, &d);
 *	dsm_set_home(d, 0, 512 << 20, 0);	   // guest-physical ranges and their homes
 *	dsm_set_home(d, 512 << 20, 512 << 20, 1);
 *	dsm_start(d);	   // connects to all peers, then faults are served
 *	... run the guest ...
 *	dsm_leave(d, 2000);	// tell peers we are done; wait until all are
 *	dsm_destroy(d);
 *
 * Before dsm_start, the caller may write only pages homed on its own node:
 * the others are emptied at start. Every page starts owned by its home.
 * Functions return 0 or a negative errno and log the reason once.
 */
#ifndef CVMM_DSM_DSM_H
#define CVMM_DSM_DSM_H

#include <stdbool.h>
#include <stdint.h>

#include "dsm/msg.h"

struct dsm;
struct dsm_loop_fabric;

#define DSM_DEFAULT_HOLD_US 1000
#define DSM_HOLD_NONE	    UINT32_MAX

struct dsm_config {
	unsigned node;	 /* this node's id, < nnodes */
	unsigned nnodes; /* 1..DSM_MAX_NODES */
	int memfd;	 /* guest RAM, size bytes; the DSM maps its own alias of it */
	void *vm_addr;	 /* the caller's MAP_SHARED mapping of memfd at offset 0 */
	uint64_t size;	 /* bytes, a multiple of DSM_PAGE_SIZE */

	const char *transport; /* "tcp" or "loop" */
	/* tcp: "host:port" of every node, indexed by node id. */
	const char *const *addrs;
	int listen_fd; /* tcp: an already listening socket for addrs[node], or -1 */
	/* loop: the in-process fabric shared by all nodes (dsm_loop_fabric_new). */
	struct dsm_loop_fabric *fabric;

	/*
	 * Hot-add (tcp only): `absent` are nodes that are not there at start;
	 * they may join later, each once, and are neither waited for nor
	 * failed meanwhile. `joining`: this node joins a DSM that runs, and
	 * connects to every node not absent. Every node computes the same home
	 * map at start (the HELLO checks it), so a node joins before the homes
	 * change (a hand-over).
	 */
	uint64_t absent;
	bool joining;

	unsigned connect_timeout_ms; /* 0: 10000 */
	unsigned peer_timeout_ms;    /* silence after which a peer is failed; 0: 1500 */
	/*
	 * Residency window (dsm/hold.h): how long a page fetched for a waiting
	 * vCPU stays before another node may take it. 0: DSM_DEFAULT_HOLD_US;
	 * DSM_HOLD_NONE: no window.
	 */
	unsigned hold_us;

	/*
	 * Called on the DSM's thread when a peer fails (connection lost,
	 * malformed message, silence). The DSM cannot serve that peer's pages
	 * any more; what to do with the VM is the caller's decision.
	 */
	void (*on_peer_failed)(void *arg, unsigned peer, const char *why);
	/*
	 * Called on the DSM's thread for each application message a peer sent
	 * with dsm_send_app(), in the order it sent them. It must not block for
	 * long: page faults wait while it runs. NULL: such messages are dropped.
	 */
	void (*on_app_msg)(void *arg, unsigned peer, const void *data, unsigned len);
	/* Called on the DSM's thread when an absent node joined. May be NULL. */
	void (*on_peer_joined)(void *arg, unsigned peer);
	void *cb_arg;
};

enum dsm_fault_stat {
	DSM_STAT_SPURIOUS, /* already resolved when handled */
	DSM_STAT_READ,	   /* read of an invalid page */
	DSM_STAT_WRITE,	   /* write to an invalid page */
	DSM_STAT_UPGRADE,  /* write to a read-only page */
	DSM_STAT_FAULT_KINDS
};

/* Latency histogram: bucket i counts faults resolved in [2^(i-1), 2^i) us; bucket 0: < 1 us. */
#define DSM_LAT_BUCKETS 24

struct dsm_stats {
	uint64_t faults[DSM_STAT_FAULT_KINDS];
	uint64_t remote_fetches; /* pages received to resolve a local fault */
	uint64_t pages_sent;
	uint64_t pages_received;
	uint64_t inv_sent;
	uint64_t inv_received;
	uint64_t msgs_sent;
	uint64_t msgs_received;
	uint64_t bytes_sent; /* payload bytes */
	uint64_t bytes_received;
	uint64_t held;	   /* coherence messages held back by the residency window */
	uint64_t app_sent; /* application messages (dsm_send_app) */
	uint64_t app_received;
	/* fault resolution latency (fault read by the DSM thread -> page mapped) */
	uint64_t lat_hist[DSM_STAT_FAULT_KINDS][DSM_LAT_BUCKETS];
	uint64_t failed_peers; /* bit mask */
};

int dsm_create(const struct dsm_config *cfg, struct dsm **out);

/* Declares node as the home of [offset, offset + len); page-aligned. Before dsm_start. */
int dsm_set_home(struct dsm *d, uint64_t offset, uint64_t len, unsigned node);

/* Connects to every peer and starts serving faults. Blocks until connected. */
int dsm_start(struct dsm *d);

/*
 * Graceful leave: tells every peer this node needs nothing more, and keeps
 * serving until every peer has said the same (or timeout_ms passed: -ETIMEDOUT).
 */
int dsm_leave(struct dsm *d, unsigned timeout_ms);

/* Stops the DSM thread and frees everything. The caller's mapping stays. */
void dsm_destroy(struct dsm *d);

/*
 * Sends len (1..DSM_APP_MAX) opaque bytes to peer's on_app_msg, over the same
 * links as the coherence traffic, in order with everything else this node
 * sends to peer. Any thread, the DSM's own (inside on_app_msg) included.
 * 0, -EINVAL, or -ENOTCONN if the peer failed or left.
 */
int dsm_send_app(struct dsm *d, unsigned peer, const void *data, unsigned len);

/*
 * Cluster-wide operations for which the caller has paused every vCPU of
 * every node first, so that no new fault starts (dsm/quiesce.c,
 * dsm/handover.c). Any thread but the DSM's.
 *
 * dsm_quiesce: waits until no request is outstanding and no coherence
 * message is in flight anywhere. 0, -ETIMEDOUT (something still faults:
 * logged with the counts), -ENOTCONN (a peer failed meanwhile).
 *
 * dsm_checksum: after dsm_quiesce, a checksum of the guest memory of the
 * whole cluster: the sum of XXH3-64(page contents, seed: page index) over the
 * pages that are not all zero, *pages of them. The same wherever pages are.
 *
 * dsm_handover: after dsm_quiesce, on a node that leaves: every page it
 * homes goes to node `to` (directory and, where needed, contents), every
 * page it owns goes back to its home, and every node learns the new homes.
 * progress (may be NULL) hears of pages handed over, every 256 messages
 * and at the end; st (may be NULL) counts them by kind. Then dsm_depart() says goodbye without waiting for the others, and
 * dsm_destroy() ends this node's part; the others go on.
 */
int dsm_quiesce(struct dsm *d, unsigned timeout_ms);
int dsm_checksum(struct dsm *d, uint64_t *sum, uint64_t *pages);
struct dsm_handover_stats {
	uint64_t pushed;   /* pages whose contents were sent */
	uint64_t zero;	   /* pages given as runs of zero pages (XFER_ZERO) */
	uint64_t dir_only; /* pages whose directory entry alone moved */
	uint64_t messages;
	bool started; /* past the argument checks: on failure, pages may be split */
};
int dsm_handover(struct dsm *d, unsigned to,
		 void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg,
		 struct dsm_handover_stats *st);
int dsm_depart(struct dsm *d);

/*
 * dsm_rehome: after dsm_quiesce, on a node that stays: the pages of [first,
 * first + count) this node homes go to node `to` (directory and, where
 * needed, contents, as in dsm_handover), every node learns their new home,
 * and this node drops its copies of them. For rebalancing onto a node that
 * joined. 0, -EINVAL (bad range or node), -ENOTCONN (`to` is not a live
 * peer), or the -errno of a failure after which the pages are split
 * between the two homes (the caller must stop the guest).
 */
int dsm_rehome(struct dsm *d, uint64_t first, uint64_t count, unsigned to,
	       void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg,
	       struct dsm_handover_stats *st);

/* A snapshot of the counters; safe from any thread. */
void dsm_get_stats(struct dsm *d, struct dsm_stats *st);

/* dsm/heat.c: how often local accesses to a page faulted (its "heat"). */
uint64_t dsm_page_faults(struct dsm *d, uint64_t page);

/* The pages of guest memory: dsm_config.size / DSM_PAGE_SIZE. */
uint64_t dsm_npages(struct dsm *d);

struct dsm_hot_page {
	uint64_t page; /* guest-physical address / DSM_PAGE_SIZE */
	uint64_t faults;
};

/*
 * The (at most max) pages this node faulted on most since its start, the most
 * first (the lower page first among equals), into out; returns how many.
 * Safe from any thread; one scan of every page's count.
 */
unsigned int dsm_hot_pages(struct dsm *d, struct dsm_hot_page *out, unsigned int max);

/*
 * The same for the period since the previous call (the first call: since the
 * start), for one reader that samples periodically (the live statistics
 * file). It looks only at the pages that faulted in the period, which the
 * DSM notes as they do. Safe from any thread.
 */
unsigned int dsm_hot_pages_period(struct dsm *d, struct dsm_hot_page *out, unsigned int max);

/*
 * The pages of this node, as the protocol state had them at most ~100 ms ago
 * (the DSM thread counts them at dsm_start and on every tick; safe from any
 * thread; both 0 before dsm_start):
 *   homed: pages whose home (dsm_set_home) is this node;
 *   owned: pages whose authoritative copy is this node's: held MODIFIED (the
 *          only copy, writable), or homed here and held SHARED (the home's
 *          copy, which the directory serves). A home that gave a page to a
 *          writer does not own it; a page only read here does not count.
 * Summed over the nodes, owned counts every page once (docs/protocol.md,
 * invariant 3), give or take pages in transit when the nodes were counted.
 */
void dsm_count_pages(struct dsm *d, uint64_t *owned, uint64_t *homed);

/* Mask of failed peers; 0 if all are well. */
uint64_t dsm_failed_peers(struct dsm *d);

/*
 * Local operations (UFFDIO_COPY, write-protect, hole punch) that failed; each
 * was logged. Non-zero means this node's memory can no longer be trusted.
 */
uint64_t dsm_local_errors(struct dsm *d);

/*
 * Benchmark aid: a round trip through the transport and both DSM threads: a
 * len-byte message to peer, answered with reply_len bytes (each 0 or
 * DSM_PAGE_SIZE). 0 -> DSM_PAGE_SIZE is what a read fault needs at least.
 * *ns: its time.
 */
int dsm_echo(struct dsm *d, unsigned peer, unsigned len, unsigned reply_len, uint64_t *ns);

/* The in-process transport's fabric, shared by up to nnodes nodes. */
struct dsm_loop_fabric *dsm_loop_fabric_new(unsigned nnodes);
void dsm_loop_fabric_free(struct dsm_loop_fabric *f);

#endif
