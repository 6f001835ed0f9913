/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pure parts of the rdma transport (dsm/tp-rdma.c), kept free of verbs so
 * that unit tests need no device:
 *   - the transport's options ("rdma:payload=write,dev=rxe0,gid=1");
 *   - the connection record each side sends over the set-up socket (QPN,
 *     PSN, GID, MTU, receive depth and, for the write payload method, where
 *     the landing ring is);
 *   - the 32-bit immediate that every RDMA message carries (what it is, and
 *     the credits it returns);
 *   - credit accounting.
 *
 * Credits. Each side posts `depth` receives per peer for messages plus one
 * for the close notice. A sender holds one credit per receive the peer has
 * posted for it; every message (including a credit-only update) spends one,
 * the close notice none. The receiver re-posts a buffer after the engine has
 * handled its message, and returns the credit in the immediate of its next
 * message to that peer, or in a credit-only update once depth/2 are owed.
 * The last credit is reserved for that update: ordinary messages need two.
 * So a side with a backlog always gets credits back: if it has fewer than
 * depth/2 credits the peer owes it at least depth/2 and may spend its reserve
 * on saying so. No receive is ever missing (no RNR NAK), and in write mode
 * the k-th message may use landing slot k mod depth: once credits for it
 * exist, message k - depth has been handled.
 */
#ifndef CVMM_DSM_RDMA_CONN_H
#define CVMM_DSM_RDMA_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dsm_rdma_payload {
	DSM_RDMA_PAYLOAD_SEND = 1,  /* header + page SENT into a pre-posted receive buffer */
	DSM_RDMA_PAYLOAD_WRITE = 2, /* header + page RDMA-WRITTEN (with immediate) into the
				     * peer's registered landing ring */
};

#define DSM_RDMA_DEPTH_MIN     4
#define DSM_RDMA_DEPTH_MAX     1024
#define DSM_RDMA_DEPTH_DEFAULT 32

struct dsm_rdma_opts {
	enum dsm_rdma_payload payload; /* default SEND: faster over 5 runs (performance.md) */
	char dev[64];		       /* "" : the first device with an active port */
	int gid_index;		       /* -1: the RoCE v2 IPv4 GID of our address, else the first */
	unsigned port;		       /* 1 */
	unsigned depth;		       /* receives (= credits) per peer */
};

/*
 * Parses a transport spec: "rdma" or "rdma:KEY=VALUE,..." with keys payload
 * (send|write), dev, gid, port, depth. 0, or -EINVAL with err saying why.
 */
int dsm_rdma_parse_opts(const char *spec, struct dsm_rdma_opts *o, char *err, size_t errlen);
const char *dsm_rdma_payload_name(enum dsm_rdma_payload p);

/* --- connection record ------------------------------------------------------ */

#define DSM_RDMA_INFO_MAGIC   0x49525643u /* "CVRI" */
#define DSM_RDMA_INFO_VERSION 1
#define DSM_RDMA_INFO_LEN     64

struct dsm_rdma_info {
	uint32_t qpn; /* 24 bits */
	uint32_t psn; /* 24 bits */
	uint8_t gid[16];
	uint16_t lid;	    /* 0 on RoCE */
	uint8_t mtu;	    /* enum ibv_mtu: 1 (256) .. 5 (4096) */
	uint8_t payload;    /* enum dsm_rdma_payload; both sides must agree */
	uint32_t depth;	    /* receives posted for the peer = its initial credits */
	uint32_t slot_size; /* write: bytes per landing slot */
	uint32_t rkey;	    /* write: landing ring */
	uint64_t addr;	    /* write: landing ring */
};

void dsm_rdma_info_put(uint8_t out[DSM_RDMA_INFO_LEN], const struct dsm_rdma_info *in);
/* 0, or -EPROTO with *field naming the bad field. */
int dsm_rdma_info_get(const uint8_t in[DSM_RDMA_INFO_LEN], struct dsm_rdma_info *out,
		      const char **field);

/* --- immediate data ----------------------------------------------------------- */

enum dsm_rdma_imm_kind {
	DSM_RDMA_IMM_MSG = 0,	 /* a framed DSM message (dsm/wire.h) */
	DSM_RDMA_IMM_CREDIT = 1, /* no payload: credits only */
	DSM_RDMA_IMM_CLOSE = 2,	 /* no payload: orderly close of the link */
	DSM_RDMA_IMM_KINDS
};

#define DSM_RDMA_IMM_CREDIT_MAX 0xffffffu

/* Host order; the caller converts to and from the wire's big-endian. */
uint32_t dsm_rdma_imm(enum dsm_rdma_imm_kind kind, uint32_t credits);
/* 0, or -EPROTO for an unknown kind. */
int dsm_rdma_imm_parse(uint32_t imm, enum dsm_rdma_imm_kind *kind, uint32_t *credits);

/* --- credits ---------------------------------------------------------------- */

struct dsm_rdma_credits {
	uint32_t depth;	  /* receives the peer posted for us: our budget */
	uint32_t rdepth;  /* receives we posted for the peer: its budget */
	uint32_t credits; /* messages we may still send */
	uint32_t owed;	  /* receives re-posted for the peer, not yet reported */
};

void dsm_rdma_credits_init(struct dsm_rdma_credits *c, uint32_t peer_depth, uint32_t our_depth);
/* May a message be sent now? credit_only: a credit update, which may use the reserve. */
bool dsm_rdma_may_send(const struct dsm_rdma_credits *c, bool credit_only);
/* A message is posted: spends a credit; returns the credits to piggyback (owed -> 0). */
uint32_t dsm_rdma_spend(struct dsm_rdma_credits *c);
/* The peer returned n credits. -EPROTO if that is more than it could owe. */
int dsm_rdma_returned(struct dsm_rdma_credits *c, uint32_t n);
/* A receive was re-posted after its message was handled. */
void dsm_rdma_reposted(struct dsm_rdma_credits *c);
/* Enough is owed that a credit-only update is due. */
bool dsm_rdma_update_due(const struct dsm_rdma_credits *c);

#endif
