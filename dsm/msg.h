/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DSM messages: the transport-neutral form that the protocol state machine
 * consumes and produces. The tcp framing (dsm/wire.h) and any later rdma
 * framing carry exactly these fields. docs/protocol.md is the reference.
 */
#ifndef CVMM_DSM_MSG_H
#define CVMM_DSM_MSG_H

#include <stdbool.h>
#include <stdint.h>

#define DSM_PAGE_SHIFT	  12
#define DSM_PAGE_SIZE	  (1u << DSM_PAGE_SHIFT)
#define DSM_MAX_NODES	  64
#define DSM_NODE_NONE	  0xffu
#define DSM_PROTO_VERSION 4
#define DSM_APP_MAX	  256 /* bytes in one application message */

enum dsm_msg_type {
	DSM_MSG_INVALID = 0,
	/* Session control, not tied to a page. */
	DSM_MSG_HELLO, /* payload: struct dsm_hello */
	DSM_MSG_BYE,   /* sender needs no more service; it keeps serving until all said BYE */
	DSM_MSG_PING,  /* keep-alive, no reply */
	DSM_MSG_ECHO,  /* benchmark: answered by ECHO_REPLY with the same payload */
	DSM_MSG_ECHO_REPLY,
	/* Coherence: requester -> home. */
	DSM_MSG_REQ_READ,
	DSM_MSG_REQ_WRITE,
	/* Coherence: home -> holder of a copy. */
	DSM_MSG_INV,   /* drop your read-only copy, answer INV_ACK */
	DSM_MSG_FETCH, /* send me your writable copy; flag FETCH_WRITE: and drop it */
	/* Coherence: holder -> home. */
	DSM_MSG_INV_ACK,
	DSM_MSG_FETCH_REPLY, /* payload: the page */
	/* Coherence: home -> requester. */
	DSM_MSG_GRANT_READ,  /* payload: the page */
	DSM_MSG_GRANT_WRITE, /* payload: the page, or none if the requester holds a valid copy */
	/* The DSM's user (the monitor): opaque to the DSM, delivered in order. */
	DSM_MSG_APP, /* payload: 1..DSM_APP_MAX bytes */
	/*
	 * Cluster-wide operations while no vCPU runs (dsm/quiesce.c). Every
	 * payload starts with the query's round (le64), echoed in the reply.
	 */
	DSM_MSG_QUIET_REQ,   /* how busy are you? */
	DSM_MSG_QUIET_REPLY, /* + le64 requests outstanding, busy entries, sent, received */
	DSM_MSG_CSUM_REQ,    /* checksum the pages you hold the valid copy of */
	DSM_MSG_CSUM_REPLY,  /* + le64 sum, le64 pages */
	/* A departing node hands its pages over (dsm/handover.c), quiesced. */
	DSM_MSG_XFER, /* to the new home: the page's directory; le64 sharers, u8 owner, 7 x 0 */
	DSM_MSG_PUSH, /* the page; flag PUSH_HOME: to its new home, else to its home (writeback) */
	DSM_MSG_HANDOVER,  /* to all: done; le64: the node that homes my pages now */
	DSM_MSG_XFER_ZERO, /* to the new home: le64 count pages from this one, mine and all zero */
	/* A node gives the homes of a range to another and stays (rebalancing). */
	DSM_MSG_REHOME, /* to all: le64 count, le64 to: my pages of count from this one are to's */
	DSM_MSG_MAX
};

/* Flags, per type. */
#define DSM_MF_FETCH_WRITE (1u << 0) /* FETCH: the requester wants to write */
#define DSM_MF_ECHO_PAGE   (1u << 1) /* ECHO: answer with a page-sized payload */
#define DSM_MF_PUSH_HOME   (1u << 2) /* PUSH: the receiver is the page's new home */

#define DSM_ROUND_LEN	    8  /* QUIET_REQ, CSUM_REQ, HANDOVER payload */
#define DSM_QUIET_REPLY_LEN 40 /* QUIET_REPLY payload */
#define DSM_CSUM_REPLY_LEN  24 /* CSUM_REPLY payload */
#define DSM_XFER_LEN	    16 /* XFER payload */
#define DSM_XFER_ZERO_LEN   8  /* XFER_ZERO payload */
#define DSM_REHOME_LEN	    16 /* REHOME payload */

struct dsm_msg {
	uint8_t type;
	uint16_t flags;
	uint32_t seq;	     /* per sender->receiver link, 1, 2, 3, ... */
	uint64_t page;	     /* page index in the region (0 for session messages) */
	uint32_t len;	     /* payload bytes */
	const void *payload; /* len bytes, valid only during the call it is passed to */
};

/* HELLO payload: both sides must agree on everything but the node id. */
struct dsm_hello {
	uint32_t version;
	uint32_t node;
	uint32_t nnodes;
	uint32_t reserved;
	uint64_t npages;
	uint64_t config_hash; /* of the home map, so mismatched layouts never talk */
};

/* What a payload may be, per type. */
enum dsm_payload_rule {
	DSM_PAYLOAD_NONE,     /* len == 0 */
	DSM_PAYLOAD_PAGE,     /* len == DSM_PAGE_SIZE */
	DSM_PAYLOAD_OPT_PAGE, /* len == 0 or DSM_PAGE_SIZE */
	DSM_PAYLOAD_HELLO,    /* len == sizeof(struct dsm_hello) */
	DSM_PAYLOAD_APP,      /* 1 <= len <= DSM_APP_MAX */
	DSM_PAYLOAD_FIXED,    /* len == the descriptor's size */
};

struct dsm_msg_desc {
	const char *name;
	enum dsm_payload_rule payload;
	uint16_t flags; /* flags allowed for this type */
	bool per_page;	/* page field must name a page of the region */
	uint16_t size;	/* DSM_PAYLOAD_FIXED: the payload's length */
};

/* Returns the descriptor of type, or NULL for an unknown type. */
const struct dsm_msg_desc *dsm_msg_desc(unsigned type);
const char *dsm_msg_name(unsigned type);

/* Checks a peer's HELLO against ours. 0, or -EPROTO with *field naming the mismatch. */
int dsm_hello_check(const struct dsm_hello *ours, const struct dsm_hello *theirs,
		    const char **field);

#endif
