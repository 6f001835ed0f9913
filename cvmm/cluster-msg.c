// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include "cvmm/cluster-msg.h"
#include "cvmm/lib/le.h"
#include "dsm/msg.h"

#define STATE_HDR     (1 + 4 + 4 + 4 + 2)
#define IO_FLAG_MMIO  (1u << 0)
#define IO_FLAG_WRITE (1u << 1)

/* Encoded length of each type, the type byte included. */
static const struct {
	const char *name;
	size_t len;
} msg_desc[CL_MSG_MAX] = {
	[CL_MSG_MSI] = { "msi", 1 + 8 + 4 },
	[CL_MSG_KICK] = { "kick", 1 + 4 },
	[CL_MSG_IO] = { "io", 1 + 4 + 1 + 1 + 8 + CL_IO_MAX },
	[CL_MSG_IO_DONE] = { "io_done", 1 + 4 + 4 + 1 + CL_IO_MAX },
	[CL_MSG_EOI] = { "eoi", 1 + 4 },
	[CL_MSG_STOP] = { "stop", 1 + 4 },
	[CL_MSG_CLOCK_REQ] = { "clock_req", 1 + 8 },
	[CL_MSG_CLOCK_REPLY] = { "clock_reply", 1 + 8 + 8 },
	[CL_MSG_VCPU_INCOMING] = { "vcpu_incoming", 1 + 4 },
	[CL_MSG_VCPU_STATE] = { "vcpu_state", STATE_HDR }, /* + len bytes of data */
	[CL_MSG_VCPU_MOVED] = { "vcpu_moved", 1 + 4 + 4 + 4 },
	[CL_MSG_PAUSE] = { "pause", 1 + 4 },
	[CL_MSG_PAUSED] = { "paused", 1 + 4 + 4 },
	[CL_MSG_RESUME] = { "resume", 1 + 4 },
	[CL_MSG_LEFT] = { "left", 1 },
};

_Static_assert(STATE_HDR + CL_STATE_CHUNK <= CL_MSG_MAX_LEN, "CL_MSG_MAX_LEN too small");
_Static_assert(CL_MSG_MAX_LEN <= DSM_APP_MAX, "a monitor message must fit a DSM APP message");

const char *cl_msg_name(enum cl_msg_type type)
{
	if ((unsigned int)type >= CL_MSG_MAX || !msg_desc[type].name)
		return "unknown";
	return msg_desc[type].name;
}

int cl_msg_encode(const struct cl_msg *m, uint8_t *buf)
{
	uint8_t *p = buf + 1;

	if ((unsigned int)m->type >= CL_MSG_MAX || !msg_desc[m->type].name)
		return -EINVAL;
	memset(buf, 0, CL_MSG_MAX_LEN);
	buf[0] = (uint8_t)m->type;
	switch (m->type) {
	case CL_MSG_MSI:
		put_le64(p, m->msi.addr);
		put_le32(p + 8, m->msi.data);
		break;
	case CL_MSG_KICK:
		put_le32(p, m->kick.vcpu);
		break;
	case CL_MSG_IO:
		if (!m->io.len || m->io.len > CL_IO_MAX)
			return -EINVAL;
		put_le32(p, m->io.tag);
		p[4] = (uint8_t)((m->io.mmio ? IO_FLAG_MMIO : 0) |
				 (m->io.write ? IO_FLAG_WRITE : 0));
		p[5] = m->io.len;
		put_le64(p + 6, m->io.addr);
		memcpy(p + 14, m->io.data, m->io.len);
		break;
	case CL_MSG_IO_DONE:
		if (m->io_done.len > CL_IO_MAX)
			return -EINVAL;
		put_le32(p, m->io_done.tag);
		put_le32(p + 4, (uint32_t)m->io_done.err);
		p[8] = m->io_done.len;
		memcpy(p + 9, m->io_done.data, m->io_done.len);
		break;
	case CL_MSG_EOI:
		put_le32(p, m->eoi.vector);
		break;
	case CL_MSG_STOP:
		put_le32(p, m->stop.reason);
		break;
	case CL_MSG_CLOCK_REPLY:
		put_le64(p + 8, m->clock.replier);
		__attribute__((fallthrough)); /* both carry the request's clock first */
	case CL_MSG_CLOCK_REQ:
		put_le64(p, m->clock.sent);
		break;
	case CL_MSG_VCPU_INCOMING:
		put_le32(p, m->incoming.vcpu);
		break;
	case CL_MSG_VCPU_STATE:
		if (!m->state.len || m->state.len > CL_STATE_CHUNK)
			return -EINVAL;
		put_le32(p, m->state.vcpu);
		put_le32(p + 4, m->state.total);
		put_le32(p + 8, m->state.offset);
		put_le16(p + 12, m->state.len);
		memcpy(p + 14, m->state.data, m->state.len);
		return STATE_HDR + m->state.len;
	case CL_MSG_VCPU_MOVED:
		put_le32(p, m->moved.vcpu);
		put_le32(p + 4, m->moved.node);
		put_le32(p + 8, m->moved.restore_us);
		break;
	case CL_MSG_PAUSED:
		put_le32(p + 4, (uint32_t)m->pause.err);
		__attribute__((fallthrough));
	case CL_MSG_PAUSE:
	case CL_MSG_RESUME:
		put_le32(p, m->pause.seq);
		break;
	case CL_MSG_LEFT:
		break;
	default:
		return -EINVAL;
	}
	return (int)msg_desc[m->type].len;
}

/* VCPU_STATE: a header, then the length it gives; the piece must lie within the total. */
static int decode_state(const uint8_t *p, size_t len, struct cl_msg *m, const char **why)
{
	if (len < STATE_HDR + 1 || len > STATE_HDR + CL_STATE_CHUNK) {
		*why = "length does not fit the message type";
		return -EPROTO;
	}
	m->state.vcpu = get_le32(p);
	m->state.total = get_le32(p + 4);
	m->state.offset = get_le32(p + 8);
	m->state.len = get_le16(p + 12);
	if (m->state.len != len - STATE_HDR) {
		*why = "vCPU state length does not match the message";
		return -EPROTO;
	}
	if (m->state.offset > m->state.total || m->state.total - m->state.offset < m->state.len) {
		*why = "vCPU state piece outside the state";
		return -EPROTO;
	}
	memcpy(m->state.data, p + 14, m->state.len);
	return 0;
}

int cl_msg_decode(const uint8_t *buf, size_t len, struct cl_msg *m, const char **why)
{
	const uint8_t *p = buf + 1;

	memset(m, 0, sizeof(*m));
	if (!len || buf[0] >= CL_MSG_MAX || !msg_desc[buf[0]].name) {
		*why = "unknown message type";
		return -EPROTO;
	}
	m->type = (enum cl_msg_type)buf[0];
	if (m->type == CL_MSG_VCPU_STATE)
		return decode_state(p, len, m, why);
	if (len != msg_desc[m->type].len) {
		*why = "length does not fit the message type";
		return -EPROTO;
	}
	switch (m->type) {
	case CL_MSG_MSI:
		m->msi.addr = get_le64(p);
		m->msi.data = get_le32(p + 8);
		break;
	case CL_MSG_KICK:
		m->kick.vcpu = get_le32(p);
		break;
	case CL_MSG_IO:
		m->io.tag = get_le32(p);
		if (p[4] & ~(IO_FLAG_MMIO | IO_FLAG_WRITE)) {
			*why = "unknown I/O flags";
			return -EPROTO;
		}
		m->io.mmio = p[4] & IO_FLAG_MMIO;
		m->io.write = p[4] & IO_FLAG_WRITE;
		m->io.len = p[5];
		if (!m->io.len || m->io.len > CL_IO_MAX) {
			*why = "I/O length out of range";
			return -EPROTO;
		}
		m->io.addr = get_le64(p + 6);
		memcpy(m->io.data, p + 14, m->io.len);
		break;
	case CL_MSG_IO_DONE:
		m->io_done.tag = get_le32(p);
		m->io_done.err = (int32_t)get_le32(p + 4);
		m->io_done.len = p[8];
		if (m->io_done.len > CL_IO_MAX) {
			*why = "I/O length out of range";
			return -EPROTO;
		}
		memcpy(m->io_done.data, p + 9, m->io_done.len);
		break;
	case CL_MSG_EOI:
		m->eoi.vector = get_le32(p);
		break;
	case CL_MSG_STOP:
		m->stop.reason = get_le32(p);
		break;
	case CL_MSG_CLOCK_REPLY:
		m->clock.replier = get_le64(p + 8);
		__attribute__((fallthrough));
	case CL_MSG_CLOCK_REQ:
		m->clock.sent = get_le64(p);
		break;
	case CL_MSG_VCPU_INCOMING:
		m->incoming.vcpu = get_le32(p);
		break;
	case CL_MSG_VCPU_MOVED:
		m->moved.vcpu = get_le32(p);
		m->moved.node = get_le32(p + 4);
		m->moved.restore_us = get_le32(p + 8);
		break;
	case CL_MSG_PAUSED:
		m->pause.err = (int32_t)get_le32(p + 4);
		__attribute__((fallthrough));
	case CL_MSG_PAUSE:
	case CL_MSG_RESUME:
		m->pause.seq = get_le32(p);
		break;
	default:
		break;
	}
	return 0;
}
