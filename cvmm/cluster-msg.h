/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The messages the nodes of a virtual computer send each other, besides the
 * DSM's own: interrupts for vCPUs another node runs, spinlock kicks, device
 * accesses forwarded to the I/O node, the guest's stop, and the clock
 * samples that align each node's guest clock with the boot node's. They
 * travel as DSM application messages (dsm_send_app), so they share the DSM's
 * links, its ordering per link and its failure detection.
 *
 * Encoding: byte 0 is the type, then the type's fields, little endian, in a
 * fixed length per type, except VCPU_STATE, whose data has the length its
 * header gives (docs/protocol.md, "Monitor messages").
 */
#ifndef CVMM_CLUSTER_MSG_H
#define CVMM_CLUSTER_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cl_msg_type {
	CL_MSG_MSI = 1,	      /* deliver an MSI to a vCPU of the receiving node */
	CL_MSG_KICK,	      /* end a vCPU's SPIN_WAIT */
	CL_MSG_IO,	      /* to the I/O node: a port-I/O or MMIO access */
	CL_MSG_IO_DONE,	      /* from the I/O node: the access is done (and a read's data) */
	CL_MSG_EOI,	      /* to the I/O node: EOI of a level-triggered vector */
	CL_MSG_STOP,	      /* the guest stopped on the sender; stop too */
	CL_MSG_CLOCK_REQ,     /* the sender's guest clock, for an offset sample */
	CL_MSG_CLOCK_REPLY,   /* the request's clock echoed, and the replier's */
	CL_MSG_VCPU_INCOMING, /* to a vCPU's new node: hold its interrupts until it arrives */
	CL_MSG_VCPU_STATE,    /* to a vCPU's new node: a piece of its saved state */
	CL_MSG_VCPU_MOVED,    /* from a vCPU's new node, to all: it runs here now */
	CL_MSG_PAUSE,	      /* pause every vCPU you run, then answer PAUSED */
	CL_MSG_PAUSED,	      /* done (or the error that prevented it) */
	CL_MSG_RESUME,	      /* resume the vCPUs the last PAUSE paused */
	CL_MSG_LEFT,	      /* the sender left the virtual computer: send it nothing more */
	CL_MSG_MAX
};

#define CL_IO_MAX      8   /* bytes in one forwarded access */
#define CL_STATE_CHUNK 224 /* bytes of vCPU state in one VCPU_STATE message */
#define CL_MSG_MAX_LEN 240 /* bytes of the longest encoded message */

struct cl_msg {
	enum cl_msg_type type;
	union {
		struct {
			uint64_t addr;
			uint32_t data;
		} msi;
		struct {
			uint32_t vcpu;
		} kick;
		struct {
			uint32_t tag; /* echoed in the IO_DONE that answers it */
			bool mmio;
			bool write;
			uint8_t len; /* 1..CL_IO_MAX */
			uint64_t addr;
			uint8_t data[CL_IO_MAX];
		} io;
		struct {
			uint32_t tag;
			int32_t err; /* 0, or -errno of the access */
			uint8_t len;
			uint8_t data[CL_IO_MAX];
		} io_done;
		struct {
			uint32_t vector;
		} eoi;
		struct {
			uint32_t reason; /* enum vm_stop */
		} stop;
		struct {
			uint64_t sent;	  /* the requester's clock when it sent the request */
			uint64_t replier; /* CLOCK_REPLY: the replier's clock when it answered */
		} clock;
		struct {
			uint32_t vcpu;
		} incoming;
		/* The serialized state (cvmm/x86/vcpu_state.h), in order, in pieces. */
		struct {
			uint32_t vcpu;
			uint32_t total;	 /* bytes of the whole state */
			uint32_t offset; /* of this piece */
			uint16_t len;	 /* 1..CL_STATE_CHUNK */
			uint8_t data[CL_STATE_CHUNK];
		} state;
		struct {
			uint32_t vcpu;
			uint32_t node;	     /* where it runs now */
			uint32_t restore_us; /* the new node's time to restore it */
		} moved;
		/* PAUSE, PAUSED, RESUME: seq matches a PAUSED to its PAUSE. */
		struct {
			uint32_t seq;
			int32_t err; /* PAUSED: 0 or -errno */
		} pause;
	};
};

/* Encodes m into buf (CL_MSG_MAX_LEN bytes). Returns the length, or -EINVAL. */
int cl_msg_encode(const struct cl_msg *m, uint8_t *buf);

/*
 * Decodes len bytes. 0, or -EPROTO with *why naming what is wrong (an
 * unknown type, a length that does not fit the type, an I/O length out of
 * range).
 */
int cl_msg_decode(const uint8_t *buf, size_t len, struct cl_msg *m, const char **why);

const char *cl_msg_name(enum cl_msg_type type);

#endif
