/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The residency window (Mirage's Δ): a page this node just received for a
 * waiting vCPU stays here for a short window before a request from another
 * node can take it away again. Without it, two vCPUs writing one page on two
 * nodes can pass the page back and forth with neither getting to run the
 * instruction that faulted: each fetch is stolen before the vCPU resumes.
 *
 * The engine asks before handling a coherence message that would revoke a
 * page (INV, FETCH, or a REQ_* at the home): a message for a page mapped less
 * than the window ago, or for a page that already has messages held, is
 * queued; the engine handles held messages when they fall due, in arrival
 * order per page. Holding only delays: every held message is handled within
 * one window, so it cannot deadlock the protocol.
 */
#ifndef CVMM_DSM_HOLD_H
#define CVMM_DSM_HOLD_H

#include <stdbool.h>
#include <stdint.h>

#include "dsm/msg.h"

struct dsm_held;

struct dsm_hold {
	uint64_t window_ns; /* 0: nothing is ever held */
	uint64_t npages;
	uint64_t *t_mapped; /* per page: when a waiting vCPU got it (ns) */
	uint32_t *queued;   /* per page: messages held */
	struct dsm_held *head, *tail;
	uint64_t held_total; /* messages ever held */
};

int dsm_hold_init(struct dsm_hold *h, uint64_t npages, uint64_t window_ns);
void dsm_hold_fini(struct dsm_hold *h);

/* A waiting vCPU's access to page was just granted, at now (ns). */
void dsm_hold_mapped(struct dsm_hold *h, uint64_t page, uint64_t now);

/*
 * Holds m from peer if it must wait; true when it was queued (the caller
 * must not handle it now). Only payload-less messages are ever held.
 */
bool dsm_hold_defer(struct dsm_hold *h, unsigned peer, const struct dsm_msg *m, uint64_t now);

/* Milliseconds until the next held message is due (rounded up), or -1 if none. */
int dsm_hold_timeout_ms(const struct dsm_hold *h, uint64_t now);

/* Takes the first held message that is due at now; false if none is. */
bool dsm_hold_pop(struct dsm_hold *h, uint64_t now, unsigned *peer, struct dsm_msg *m);

#endif
