// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the receive path of a node, minus the sockets. Bytes go
 * through the frame decoder and every accepted frame into the protocol
 * state machine of node 0 of a 3-node, 4-page cluster. Oracles, besides the
 * sanitizers:
 *   - a rejected message leaves the protocol state exactly as it was;
 *   - the home's directory stays consistent after every accepted message;
 *   - actions are well-formed (valid destination; installs only with a page).
 *
 * The first input byte picks the mode: odd = raw byte stream (as a hostile
 * peer would send it); even = a list of 5-byte message records that the
 * harness frames with valid sequence numbers and checksums, so that the
 * fuzzer reaches the state machine instead of stalling on checksums.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsm/proto.h"
#include "dsm/wire.h"

#define NNODES 3
#define NPAGES 4

static const uint8_t home[NPAGES] = { 0, 1, 2, 0 };
static uint8_t page_buf[DSM_PAGE_SIZE];
static uint8_t frame[DSM_WIRE_MAX_FRAME];

static void check_actions(const struct dsm_actions *out, const struct dsm_msg *in)
{
	for (unsigned i = 0; i < out->n; i++) {
		const struct dsm_action *a = &out->a[i];

		if (a->page >= NPAGES)
			abort();
		if (a->kind == DSM_ACT_SEND && (a->to >= NNODES || a->to == 0))
			abort();
		if ((a->kind == DSM_ACT_INSTALL_RO || a->kind == DSM_ACT_INSTALL_RW ||
		     (a->kind == DSM_ACT_SEND && a->data == DSM_DATA_INCOMING)) &&
		    (!in || in->len != DSM_PAGE_SIZE))
			abort();
	}
}

static void feed(struct dsm_proto *p, unsigned from, const struct dsm_msg *m)
{
	struct dsm_page pg[NPAGES];
	struct dsm_dir dir[NPAGES];
	struct dsm_actions out;
	const char *why;

	memcpy(pg, p->page, sizeof(pg));
	memcpy(dir, p->dir, sizeof(dir));
	if (dsm_proto_recv(p, from, m, &out)) {
		if (memcmp(pg, p->page, sizeof(pg)) || memcmp(dir, p->dir, sizeof(dir)))
			abort(); /* a rejected message changed state */
		return;
	}
	check_actions(&out, m);
	for (unsigned i = 0; i < NPAGES; i++)
		if (home[i] == 0 && dsm_proto_check_dir(p, i, &why))
			abort();
}

static void raw_stream(struct dsm_proto *p, unsigned from, const uint8_t *data, size_t size)
{
	struct dsm_wire_err err;
	struct dsm_msg m;
	uint32_t seq = 1;
	size_t off = 0, flen;

	while (dsm_wire_decode(data + off, size - off, seq, &m, &flen, &err) == 0) {
		if (flen > size - off || (m.len && m.payload != data + off + DSM_WIRE_HDR_LEN))
			abort();
		if (m.type != DSM_MSG_HELLO)
			feed(p, from, &m);
		off += flen;
		seq++;
	}
}

static void records(struct dsm_proto *p, const uint8_t *data, size_t size)
{
	uint32_t seq[NNODES] = { 0 };
	struct dsm_wire_err err;
	struct dsm_msg m, got;
	size_t flen;

	for (; size >= 5; data += 5, size -= 5) {
		unsigned from = data[3] % NNODES;

		if (data[0] >= 0xf0) {
			/* a local fault on node 0 */
			struct dsm_actions out;
			enum dsm_fault_kind kind;

			dsm_proto_fault(p, data[2] % (NPAGES + 1), data[1] & 1, &kind, &out);
			check_actions(&out, NULL);
			continue;
		}
		if (from == 0)
			from = 1;
		m = (struct dsm_msg){
			.type = data[0] % (DSM_MSG_MAX + 1),
			.flags = data[1] & 3,
			.seq = ++seq[from],
			.page = data[2] % (NPAGES + 2),
			.len = (data[4] & 1)   ? DSM_PAGE_SIZE
			       : (data[4] & 2) ? data[4]
					       : 0,
			.payload = page_buf,
		};
		dsm_wire_encode(frame, &m);
		memcpy(frame + DSM_WIRE_HDR_LEN, page_buf, m.len);
		if (dsm_wire_decode(frame, DSM_WIRE_HDR_LEN + m.len, m.seq, &got, &flen, &err))
			continue;
		if (got.type != DSM_MSG_HELLO)
			feed(p, from, &got);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dsm_proto p;

	if (size < 1 || dsm_proto_init(&p, 0, NNODES, NPAGES, home))
		return 0;
	if (data[0] & 1)
		raw_stream(&p, 1 + (data[0] >> 1) % (NNODES - 1), data + 1, size - 1);
	else
		records(&p, data + 1, size - 1);
	dsm_proto_fini(&p);
	return 0;
}
