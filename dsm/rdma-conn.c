// SPDX-License-Identifier: GPL-2.0
/*
 * Pure helpers of the rdma transport: options, connection record, immediate
 * data, credits. See dsm/rdma-conn.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmm/lib/le.h"
#include "dsm/rdma-conn.h"

/* --- options ------------------------------------------------------------------ */

const char *dsm_rdma_payload_name(enum dsm_rdma_payload p)
{
	switch (p) {
	case DSM_RDMA_PAYLOAD_SEND:
		return "send";
	case DSM_RDMA_PAYLOAD_WRITE:
		return "write";
	}
	return "?";
}

static int parse_num(const char *v, long lo, long hi, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		return -1;
	*out = n;
	return 0;
}

int dsm_rdma_parse_opts(const char *spec, struct dsm_rdma_opts *o, char *err, size_t errlen)
{
	char buf[256], *tok, *save = NULL;
	long n;

	*o = (struct dsm_rdma_opts){ .payload = DSM_RDMA_PAYLOAD_SEND,
				     .gid_index = -1,
				     .port = 1,
				     .depth = DSM_RDMA_DEPTH_DEFAULT };
	if (!spec || strncmp(spec, "rdma", 4) || (spec[4] && spec[4] != ':')) {
		snprintf(err, errlen, "'%s' is not an rdma transport spec", spec ? spec : "");
		return -EINVAL;
	}
	if (!spec[4])
		return 0;
	if (strlen(spec + 5) >= sizeof(buf)) {
		snprintf(err, errlen, "options too long");
		return -EINVAL;
	}
	strcpy(buf, spec + 5);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *val = strchr(tok, '=');

		if (!val) {
			snprintf(err, errlen, "option '%s' has no value (KEY=VALUE)", tok);
			return -EINVAL;
		}
		*val++ = 0;
		if (!strcmp(tok, "payload")) {
			if (!strcmp(val, "send")) {
				o->payload = DSM_RDMA_PAYLOAD_SEND;
			} else if (!strcmp(val, "write")) {
				o->payload = DSM_RDMA_PAYLOAD_WRITE;
			} else {
				snprintf(err, errlen, "payload '%s': send or write", val);
				return -EINVAL;
			}
		} else if (!strcmp(tok, "dev")) {
			if (!*val || strlen(val) >= sizeof(o->dev)) {
				snprintf(err, errlen, "dev '%s': bad device name", val);
				return -EINVAL;
			}
			strcpy(o->dev, val);
		} else if (!strcmp(tok, "gid")) {
			if (parse_num(val, 0, 255, &n)) {
				snprintf(err, errlen, "gid '%s': an index 0..255", val);
				return -EINVAL;
			}
			o->gid_index = (int)n;
		} else if (!strcmp(tok, "port")) {
			if (parse_num(val, 1, 255, &n)) {
				snprintf(err, errlen, "port '%s': a port number 1..255", val);
				return -EINVAL;
			}
			o->port = (unsigned)n;
		} else if (!strcmp(tok, "depth")) {
			if (parse_num(val, DSM_RDMA_DEPTH_MIN, DSM_RDMA_DEPTH_MAX, &n)) {
				snprintf(err, errlen, "depth '%s': %u..%u", val, DSM_RDMA_DEPTH_MIN,
					 DSM_RDMA_DEPTH_MAX);
				return -EINVAL;
			}
			o->depth = (unsigned)n;
		} else {
			snprintf(err, errlen,
				 "unknown option '%s' (payload, dev, gid, port, depth)", tok);
			return -EINVAL;
		}
	}
	return 0;
}

/* --- connection record -------------------------------------------------------------- */

/*
 * Layout, little-endian:
 *   0 magic  4 version  5 mtu  6 payload  7 0  8 qpn  12 psn  16 gid[16]
 *  32 lid  34 0  36 depth  40 slot_size  44 rkey  48 addr  56 0
 */
void dsm_rdma_info_put(uint8_t out[DSM_RDMA_INFO_LEN], const struct dsm_rdma_info *in)
{
	memset(out, 0, DSM_RDMA_INFO_LEN);
	put_le32(out + 0, DSM_RDMA_INFO_MAGIC);
	out[4] = DSM_RDMA_INFO_VERSION;
	out[5] = in->mtu;
	out[6] = in->payload;
	put_le32(out + 8, in->qpn);
	put_le32(out + 12, in->psn);
	memcpy(out + 16, in->gid, 16);
	put_le16(out + 32, in->lid);
	put_le32(out + 36, in->depth);
	put_le32(out + 40, in->slot_size);
	put_le32(out + 44, in->rkey);
	put_le64(out + 48, in->addr);
}

int dsm_rdma_info_get(const uint8_t in[DSM_RDMA_INFO_LEN], struct dsm_rdma_info *out,
		      const char **field)
{
	struct dsm_rdma_info i;

	if (get_le32(in) != DSM_RDMA_INFO_MAGIC)
		return *field = "magic", -EPROTO;
	if (in[4] != DSM_RDMA_INFO_VERSION)
		return *field = "version", -EPROTO;
	if (in[7] || get_le16(in + 34) || get_le64(in + 56))
		return *field = "reserved", -EPROTO;
	i = (struct dsm_rdma_info){
		.mtu = in[5],
		.payload = in[6],
		.qpn = get_le32(in + 8),
		.psn = get_le32(in + 12),
		.lid = get_le16(in + 32),
		.depth = get_le32(in + 36),
		.slot_size = get_le32(in + 40),
		.rkey = get_le32(in + 44),
		.addr = get_le64(in + 48),
	};
	memcpy(i.gid, in + 16, 16);
	if (i.mtu < 1 || i.mtu > 5)
		return *field = "mtu", -EPROTO;
	if (i.payload != DSM_RDMA_PAYLOAD_SEND && i.payload != DSM_RDMA_PAYLOAD_WRITE)
		return *field = "payload", -EPROTO;
	if (!i.qpn || i.qpn > 0xffffff)
		return *field = "qpn", -EPROTO;
	if (i.psn > 0xffffff)
		return *field = "psn", -EPROTO;
	if (i.depth < DSM_RDMA_DEPTH_MIN || i.depth > DSM_RDMA_DEPTH_MAX)
		return *field = "depth", -EPROTO;
	if (i.payload == DSM_RDMA_PAYLOAD_WRITE && (!i.addr || !i.slot_size))
		return *field = "landing ring", -EPROTO;
	if (i.payload == DSM_RDMA_PAYLOAD_SEND && (i.addr || i.slot_size || i.rkey))
		return *field = "landing ring", -EPROTO;
	*out = i;
	return 0;
}

/* --- immediate data ------------------------------------------------------------------ */

uint32_t dsm_rdma_imm(enum dsm_rdma_imm_kind kind, uint32_t credits)
{
	return (uint32_t)kind << 24 | (credits & DSM_RDMA_IMM_CREDIT_MAX);
}

int dsm_rdma_imm_parse(uint32_t imm, enum dsm_rdma_imm_kind *kind, uint32_t *credits)
{
	if (imm >> 24 >= DSM_RDMA_IMM_KINDS)
		return -EPROTO;
	*kind = (enum dsm_rdma_imm_kind)(imm >> 24);
	*credits = imm & DSM_RDMA_IMM_CREDIT_MAX;
	return 0;
}

/* --- credits ---------------------------------------------------------------------------- */

void dsm_rdma_credits_init(struct dsm_rdma_credits *c, uint32_t peer_depth, uint32_t our_depth)
{
	*c = (struct dsm_rdma_credits){ .depth = peer_depth,
					.rdepth = our_depth,
					.credits = peer_depth };
}

bool dsm_rdma_may_send(const struct dsm_rdma_credits *c, bool credit_only)
{
	return c->credits >= (credit_only ? 1u : 2u);
}

uint32_t dsm_rdma_spend(struct dsm_rdma_credits *c)
{
	uint32_t n = c->owed;

	c->credits--;
	c->owed = 0;
	return n;
}

int dsm_rdma_returned(struct dsm_rdma_credits *c, uint32_t n)
{
	if (n > c->depth - c->credits)
		return -EPROTO;
	c->credits += n;
	return 0;
}

void dsm_rdma_reposted(struct dsm_rdma_credits *c)
{
	c->owed++;
}

bool dsm_rdma_update_due(const struct dsm_rdma_credits *c)
{
	/*
	 * Half of the peer's budget. If the peer is stuck (fewer than two
	 * credits) we have handled at least rdepth - 1 >= (rdepth + 1) / 2 of
	 * its messages (rdepth >= DSM_RDMA_DEPTH_MIN), so this is due.
	 */
	return c->owed && c->owed >= (c->rdepth + 1) / 2;
}
