/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The engine's state, shared by the files of the DSM that run on its thread
 * or talk to it: dsm/engine.c (faults, coherence, life cycle), dsm/quiesce.c
 * (cluster-wide quiescence and checksum) and dsm/handover.c (a node hands
 * its pages and homes over and departs). Not for users of the DSM: dsm/dsm.h.
 */
#ifndef CVMM_DSM_ENGINE_H
#define CVMM_DSM_ENGINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "cvmm/lib/clock.h"
#include "dsm/dsm.h"
#include "dsm/hold.h"
#include "dsm/proto.h"
#include "dsm/transport.h"

#define TICK_MS		100
#define PING_MS		250
#define DEFAULT_TIMEOUT 1500
#define STUCK_NS	(10 * 1000000000ull) /* a fault waiting this long is reported */
#define HOME_UNSET	0xffu
#define PAGEMAP_UFFD_WP (1ull << 57) /* Documentation/admin-guide/mm/pagemap.rst */

enum { EV_STOP, EV_UFFD, EV_TP, EV_TICK, EV_CALL };

struct dsm_peer {
	bool failed; /* written by the engine thread; read under lock */
	bool bye;    /* it needs nothing more from us */
	bool gone;   /* closed after its BYE */
	bool absent; /* not there yet (dsm_config.absent): may join later */
	uint64_t last_rx_ms;
	uint64_t last_tx_ms; /* atomic: senders on any thread */
};

/* A page that faulted in this period of the hot list (dsm/heat.c). */
struct dsm_warm {
	uint64_t page;
	uint64_t base; /* its heat before the period */
};

/* A page a thread of this node waits for (dsm->waits). */
struct dsm_wait {
	uint64_t page;
	bool reported; /* engine_report_stuck said so */
};

struct dsm {
	struct dsm_config cfg;
	uint64_t npages;
	uint8_t *home;
	bool started;

	uint8_t *vm;
	uint8_t *alias;
	int uffd;
	struct dsm_proto proto;
	struct dsm_transport tp;
	bool tp_open;
	struct dsm_peer peer[DSM_MAX_NODES];
	struct dsm_hold hold; /* the residency window (dsm/hold.h); DSM thread only */

	int epfd, stopfd, tickfd, callfd;
	pthread_t thread;
	bool thread_running;

	/* Counters: written with relaxed atomics, read by dsm_get_stats. */
	struct dsm_stats st;
	uint64_t local_errors;
	uint64_t *heat;
	/*
	 * dsm/heat.c: the pages that faulted since the last period's hot list
	 * (dsm_hot_pages_period), each with its heat before the period; and
	 * per page, whether it is in that list.
	 */
	pthread_mutex_t warm_lock; /* the four below */
	bool warm_on;		   /* the periodic reader has called: note the faults */
	struct dsm_warm *warm;
	uint64_t nwarm, warm_cap;
	uint8_t *warm_mark;
	uint64_t *t_fault; /* per page: when the first waiting fault was read (ns) */
	uint8_t *fault_kind;
	int pagemap; /* /proc/self/pagemap, or -1 (engine_fix_spurious) */
	/*
	 * The pages with a waiting fault (t_fault set), which every tick checks
	 * for waits that look stuck (DSM thread): a few, one per waiting thread.
	 */
	struct dsm_wait *waits;
	uint64_t nwaits, waits_cap;
	/* dsm_count_pages: the protocol's counts, published at start and every tick. */
	uint64_t pages_owned, pages_homed;

	pthread_mutex_t lock; /* protects what other threads wait for below */
	pthread_cond_t cond;
	uint64_t failed_mask;
	unsigned byes;
	pthread_mutex_t echo_lock; /* one echo at a time */
	bool echo_done;
	uint8_t echo_page[DSM_PAGE_SIZE];

	/* engine_call: one call at a time (call_lock), run on the engine thread. */
	pthread_mutex_t call_lock;
	void (*call_fn)(struct dsm *d, void *arg);
	void *call_arg;
	bool call_done;

	/*
	 * Coherence messages sent and received (engine thread only): with every
	 * node's, they tell dsm_quiesce() that none is in flight.
	 */
	uint64_t coh_sent, coh_received;

	/* dsm/quiesce.c: one query at a time (query_lock); replies under lock. */
	pthread_mutex_t query_lock;
	uint64_t query_round;
	uint64_t query_replies; /* mask of peers that answered this round */
	uint64_t query_sum[4];	/* the answers' fields, summed */
	pthread_t csum_thread;	/* our part of a peer's checksum */
	bool csum_running;	/* engine thread only */

	/* dsm/handover.c: nodes that handed over and departed. */
	uint64_t departed_mask;
};

static inline uint64_t dsm_now_ns(void)
{
	return clock_now_ns();
}

/* A peer that takes part: connected now, neither failed, gone nor absent. */
static inline bool engine_peer_live(const struct dsm *d, unsigned i)
{
	return i != d->cfg.node && !d->peer[i].failed && !d->peer[i].gone && !d->peer[i].absent;
}

static inline void stat_add(uint64_t *c, uint64_t v)
{
	__atomic_fetch_add(c, v, __ATOMIC_RELAXED);
}

/*
 * Room for one more element of size in the array a of n elements, *cap
 * allocated: a itself, or a copy with twice the room when it is full (the
 * first time, first elements). NULL if there is no memory: a is unchanged.
 */
static inline void *engine_grow(void *a, uint64_t n, uint64_t *cap, size_t size, uint64_t first)
{
	uint64_t want = *cap ? 2 * *cap : first;

	if (n < *cap)
		return a;
	a = realloc(a, want * size);
	if (a)
		*cap = want;
	return a;
}

/* Sends one message to peer; any thread. 0, -ENOTCONN (failed peer) or the transport's error. */
int engine_send(struct dsm *d, unsigned to, uint8_t type, uint16_t flags, uint64_t page,
		const void *payload, uint32_t len);

/* Runs fn(d, arg) on the engine thread and waits for it; fn must not block. */
int engine_call(struct dsm *d, void (*fn)(struct dsm *d, void *arg), void *arg);
/* A local operation on page failed: counted and reported with its state. */
void engine_local_error(struct dsm *d, const char *op, uint64_t page, int err);

/* dsm/heat.c: a local fault on page; any thread. */
void heat_note(struct dsm *d, uint64_t page);

/* dsm/quiesce.c and dsm/handover.c: their messages, on the engine thread. */
void quiesce_recv(struct dsm *d, unsigned peer, const struct dsm_msg *m);
void quiesce_join(struct dsm *d); /* waits for a checksum thread; engine thread or destroy */
int handover_recv(struct dsm *d, unsigned peer, const struct dsm_msg *m, const char **why);

#endif
