/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The coherence protocol as a pure state machine: an event (a local fault or
 * a message from a peer) goes in, the new state and a list of actions come
 * out. No I/O, no clocks, no threads: the engine performs the actions, and
 * unit tests drive the machine directly, replaying races deterministically.
 *
 * Every node runs one struct dsm_proto. It plays two roles:
 *   - requester/holder for every page: local state INVALID, SHARED, MODIFIED;
 *   - home (directory) for the pages whose home is this node.
 * The home's own copy is its local page, so the home never messages itself.
 * docs/protocol.md states the invariants this file maintains.
 */
#ifndef CVMM_DSM_PROTO_H
#define CVMM_DSM_PROTO_H

#include <stdbool.h>
#include <stdint.h>

#include "dsm/msg.h"

enum dsm_pstate {
	DSM_INVALID,  /* no copy: the page is absent from the local mapping */
	DSM_SHARED,   /* read-only copy, equal to the latest value */
	DSM_MODIFIED, /* the only copy, writable */
};

enum dsm_req {
	DSM_REQ_NONE,
	DSM_REQ_READ,
	DSM_REQ_WRITE,
};

/* Local view of a page, on every node. */
struct dsm_page {
	uint8_t state; /* enum dsm_pstate */
	uint8_t req;   /* enum dsm_req: our request outstanding at the home */
};

/* Directory entry, meaningful only on the page's home. */
struct dsm_dir {
	uint64_t sharers;   /* nodes holding SHARED (never with an owner) */
	uint64_t pend_read; /* requests queued while busy, one per node at most */
	uint64_t pend_write;
	uint64_t acks;	     /* INV sent, INV_ACK not yet received */
	uint8_t owner;	     /* node holding MODIFIED, or DSM_NODE_NONE */
	uint8_t busy;	     /* a transaction is in progress */
	uint8_t txn_node;    /* its requester */
	uint8_t txn_write;   /* its kind */
	uint8_t txn_fetch;   /* waiting for FETCH_REPLY from owner */
	uint8_t last_served; /* round-robin start for the queue */
};

enum dsm_act_kind {
	DSM_ACT_SEND,	    /* send type/flags for page to node `to`, payload from `data` */
	DSM_ACT_INSTALL_RO, /* map the page read-only, contents from the incoming payload */
	DSM_ACT_INSTALL_RW, /* map the page writable, contents from the incoming payload */
	DSM_ACT_UPGRADE,    /* read-only -> writable, contents unchanged */
	DSM_ACT_DOWNGRADE,  /* writable -> read-only; afterwards the contents are stable */
	DSM_ACT_INVALIDATE, /* drop the local copy */
	DSM_ACT_WAKE,	    /* the fault is already satisfied: wake the waiters */
};

enum dsm_data_src {
	DSM_DATA_NONE,
	DSM_DATA_LOCAL,	   /* the local copy (present: SHARED or MODIFIED at that point) */
	DSM_DATA_INCOMING, /* the payload of the message being handled */
};

struct dsm_action {
	uint8_t kind; /* enum dsm_act_kind */
	uint8_t to;   /* SEND */
	uint8_t type; /* SEND */
	uint8_t flags;
	uint8_t data; /* SEND: enum dsm_data_src */
	uint64_t page;
};

/*
 * Worst case for one event: a transaction completes (3 actions), then the
 * queue drains: a read for every node (one send each, one downgrade) and a
 * write that invalidates every node.
 */
#define DSM_MAX_ACTIONS (3 * DSM_MAX_NODES + 8)

struct dsm_actions {
	unsigned n;
	struct dsm_action a[DSM_MAX_ACTIONS];
	/* On -EPROTO: what was wrong, for the log line that names the peer. */
	const char *err_field;
	const char *err_what;
};

/* How dsm_proto_fault classified a fault. */
enum dsm_fault_kind {
	DSM_FAULT_SPURIOUS, /* already satisfied, a WAKE was emitted */
	DSM_FAULT_READ,	    /* INVALID, read access */
	DSM_FAULT_WRITE,    /* INVALID, write access */
	DSM_FAULT_UPGRADE,  /* SHARED, write access */
};

struct dsm_proto {
	unsigned self;
	unsigned nnodes;
	uint64_t npages;
	const uint8_t *home; /* npages entries, not owned */
	struct dsm_page *page;
	struct dsm_dir *dir;
	/*
	 * Pages whose latest copy this node keeps (MODIFIED here, or SHARED
	 * here at their home), and pages whose home is this node: kept as the
	 * states and homes change, so that the engine's statistics need no scan
	 * of every page (dsm_proto_uncount).
	 */
	uint64_t owned, homed;
};

/*
 * Sets up the state of node `self` of `nnodes` over npages pages whose homes
 * are given by home[] (each < nnodes; the array must outlive the machine).
 * Every page starts MODIFIED at its home, which is its only copy.
 * Returns 0, -EINVAL or -ENOMEM.
 */
int dsm_proto_init(struct dsm_proto *p, unsigned self, unsigned nnodes, uint64_t npages,
		   const uint8_t *home);
void dsm_proto_fini(struct dsm_proto *p);

/*
 * The machine keeps p->owned and p->homed as its own events change pages.
 * Code that changes a page's state or home itself (the handover of a node's
 * pages) brackets the change: dsm_proto_uncount(p, page), the change, then
 * dsm_proto_count(p, page).
 */
void dsm_proto_uncount(struct dsm_proto *p, uint64_t page);
void dsm_proto_count(struct dsm_proto *p, uint64_t page);

/*
 * A local access to page faulted. *kind says what it was. Returns 0 (out may
 * be empty if a request for the page is already outstanding: its grant will
 * wake this waiter too) or -EINVAL for a page outside the region.
 */
int dsm_proto_fault(struct dsm_proto *p, uint64_t page, bool write, enum dsm_fault_kind *kind,
		    struct dsm_actions *out);

/*
 * A message from node `from` arrived. The message must have passed the
 * decoder's checks (dsm_msg_desc). Returns 0, or -EPROTO when the message is
 * not allowed in the current state; then out->err_field/err_what say why and
 * no state was changed.
 */
int dsm_proto_recv(struct dsm_proto *p, unsigned from, const struct dsm_msg *m,
		   struct dsm_actions *out);

/* Checks the home's directory entry of page for internal consistency. */
int dsm_proto_check_dir(const struct dsm_proto *p, uint64_t page, const char **why);

const char *dsm_pstate_name(unsigned state);

#endif
