// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cvmm/lib/le.h"
#include "dsm/wire.h"

/*
 * Fletcher-style sum over 32-bit words: cheap enough for every 4 KiB page
 * (no table, two adds per word) and position-sensitive, so reordered or
 * shifted bytes are caught as well as flipped ones. It guards against our
 * own framing bugs and corrupting peers, not against an attacker.
 */
static void csum_add(uint64_t *a, uint64_t *b, const uint8_t *p, size_t len)
{
	uint32_t w;

	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w, p, 4);
		*a += w;
		*b += *a;
	}
	if (len) {
		w = 0;
		memcpy(&w, p, len);
		*a += w;
		*b += *a;
	}
}

uint32_t dsm_wire_csum(const uint8_t *hdr24, const void *payload, size_t len)
{
	uint64_t a = 1, b = 0, x;

	csum_add(&a, &b, hdr24, 24);
	if (len)
		csum_add(&a, &b, payload, len);
	x = a ^ (b << 1) ^ (b >> 31);
	return (uint32_t)(x ^ (x >> 32));
}

void dsm_wire_encode(uint8_t hdr[DSM_WIRE_HDR_LEN], const struct dsm_msg *m)
{
	put_le32(hdr + 0, DSM_WIRE_MAGIC);
	hdr[4] = DSM_PROTO_VERSION;
	hdr[5] = m->type;
	put_le16(hdr + 6, m->flags);
	put_le32(hdr + 8, m->len);
	put_le32(hdr + 12, m->seq);
	put_le64(hdr + 16, m->page);
	put_le32(hdr + 24, dsm_wire_csum(hdr, m->payload, m->len));
	put_le32(hdr + 28, 0);
}

/* Records why a frame is rejected; a macro so that the format is checked. */
#define bad(err, fld, fmt, v)                                                                      \
	((err)->field = (fld),                                                                     \
	 snprintf((err)->what, sizeof((err)->what), fmt, (unsigned long long)(v)), -EPROTO)

static int check_len(const struct dsm_msg_desc *d, uint32_t len)
{
	switch (d->payload) {
	case DSM_PAYLOAD_NONE:
		return len == 0;
	case DSM_PAYLOAD_PAGE:
		return len == DSM_PAGE_SIZE;
	case DSM_PAYLOAD_OPT_PAGE:
		return len == 0 || len == DSM_PAGE_SIZE;
	case DSM_PAYLOAD_HELLO:
		return len == sizeof(struct dsm_hello);
	case DSM_PAYLOAD_APP:
		return len >= 1 && len <= DSM_APP_MAX;
	case DSM_PAYLOAD_FIXED:
		return len == d->size;
	}
	return 0;
}

int dsm_wire_decode(const uint8_t *buf, size_t avail, uint32_t expect_seq, struct dsm_msg *m,
		    size_t *frame_len, struct dsm_wire_err *err)
{
	const struct dsm_msg_desc *d;
	uint32_t len, seq, csum;
	uint16_t flags;

	/*
	 * Check each field as soon as its bytes are here, so that garbage is
	 * rejected at once instead of waiting for a length it claims.
	 */
	if (avail < 4)
		return -EAGAIN;
	if (get_le32(buf) != DSM_WIRE_MAGIC)
		return bad(err, "magic", "0x%08llx is not a dsm frame", get_le32(buf));
	if (avail < DSM_WIRE_HDR_LEN)
		return -EAGAIN;
	if (buf[4] != DSM_PROTO_VERSION)
		return bad(err, "version", "version %llu not supported", buf[4]);
	d = dsm_msg_desc(buf[5]);
	if (!d)
		return bad(err, "type", "unknown type %llu", buf[5]);
	flags = get_le16(buf + 6);
	if (flags & ~d->flags)
		return bad(err, "flags", "flags 0x%llx not allowed for this type", flags);
	len = get_le32(buf + 8);
	if (len > DSM_WIRE_MAX_PAYLOAD)
		return bad(err, "length", "oversized payload of %llu bytes", len);
	if (!check_len(d, len))
		return bad(err, "length", "payload of %llu bytes not allowed for this type", len);
	seq = get_le32(buf + 12);
	if (seq != expect_seq)
		return bad(err, "seq", "sequence number %llu out of order", seq);
	if (!d->per_page && get_le64(buf + 16))
		return bad(err, "page", "page %llu in a session message", get_le64(buf + 16));
	if (get_le32(buf + 28))
		return bad(err, "reserved", "reserved word 0x%llx is not zero", get_le32(buf + 28));
	if (avail < DSM_WIRE_HDR_LEN + (size_t)len)
		return -EAGAIN;
	csum = dsm_wire_csum(buf, buf + DSM_WIRE_HDR_LEN, len);
	if (csum != get_le32(buf + 24))
		return bad(err, "checksum", "checksum mismatch (computed 0x%08llx)", csum);

	*m = (struct dsm_msg){
		.type = buf[5],
		.flags = flags,
		.seq = seq,
		.page = get_le64(buf + 16),
		.len = len,
		.payload = len ? buf + DSM_WIRE_HDR_LEN : NULL,
	};
	*frame_len = DSM_WIRE_HDR_LEN + len;
	return 0;
}

void dsm_wire_put_hello(uint8_t out[sizeof(struct dsm_hello)], const struct dsm_hello *h)
{
	put_le32(out + 0, h->version);
	put_le32(out + 4, h->node);
	put_le32(out + 8, h->nnodes);
	put_le32(out + 12, 0);
	put_le64(out + 16, h->npages);
	put_le64(out + 24, h->config_hash);
}

void dsm_wire_get_hello(const uint8_t in[sizeof(struct dsm_hello)], struct dsm_hello *h)
{
	h->version = get_le32(in + 0);
	h->node = get_le32(in + 4);
	h->nnodes = get_le32(in + 8);
	h->reserved = get_le32(in + 12);
	h->npages = get_le64(in + 16);
	h->config_hash = get_le64(in + 24);
}
