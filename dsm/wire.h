/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Byte-stream framing of DSM messages (the tcp transport; any stream would
 * do). A frame is a 32-byte little-endian header and `len` payload bytes:
 *
 *   0  u32 magic    "CVDS"
 *   4  u8  version  DSM_PROTO_VERSION
 *   5  u8  type     enum dsm_msg_type
 *   6  u16 flags    allowed per type (dsm_msg_desc)
 *   8  u32 len      payload bytes, allowed per type, at most DSM_WIRE_MAX_PAYLOAD
 *  12  u32 seq      1, 2, 3, ... per direction of a connection
 *  16  u64 page
 *  24  u32 csum     dsm_wire_csum over bytes 0..23 and the payload
 *  28  u32 reserved 0
 *
 * The decoder is a pure function over a buffer: it is what the fuzzer drives.
 */
#ifndef CVMM_DSM_WIRE_H
#define CVMM_DSM_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "dsm/msg.h"

#define DSM_WIRE_MAGIC	     0x53445643u /* "CVDS" in memory order */
#define DSM_WIRE_HDR_LEN     32
#define DSM_WIRE_MAX_PAYLOAD DSM_PAGE_SIZE
#define DSM_WIRE_MAX_FRAME   (DSM_WIRE_HDR_LEN + DSM_WIRE_MAX_PAYLOAD)

/* Why a frame was rejected: the field, and what was wrong with it. */
struct dsm_wire_err {
	const char *field;
	char what[96];
};

/*
 * Encodes m's header (with checksum over it and m->payload) into hdr.
 * The payload follows the header on the wire unchanged.
 */
void dsm_wire_encode(uint8_t hdr[DSM_WIRE_HDR_LEN], const struct dsm_msg *m);

/*
 * Decodes one frame from the start of buf (avail bytes).
 * Returns:
 *   0        *m is the message (payload points into buf), *frame_len its size;
 *   -EAGAIN  more bytes are needed (only for a header that is valid so far);
 *   -EPROTO  the frame is malformed, err says which field.
 * expect_seq is the sequence number this frame must carry.
 */
int dsm_wire_decode(const uint8_t *buf, size_t avail, uint32_t expect_seq, struct dsm_msg *m,
		    size_t *frame_len, struct dsm_wire_err *err);

/* HELLO payload, little-endian on the wire. */
void dsm_wire_put_hello(uint8_t out[sizeof(struct dsm_hello)], const struct dsm_hello *h);
void dsm_wire_get_hello(const uint8_t in[sizeof(struct dsm_hello)], struct dsm_hello *h);

uint32_t dsm_wire_csum(const uint8_t *hdr24, const void *payload, size_t len);

#endif
