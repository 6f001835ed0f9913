// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stddef.h>

#include "dsm/msg.h"

/*
 * One row per message type. Decoders check a frame against its row before the
 * protocol sees it, so the state machine can rely on payload sizes and flags.
 */
static const struct dsm_msg_desc msg_desc[DSM_MSG_MAX] = {
	[DSM_MSG_HELLO] = { "hello", DSM_PAYLOAD_HELLO, 0, false, 0 },
	[DSM_MSG_BYE] = { "bye", DSM_PAYLOAD_NONE, 0, false, 0 },
	[DSM_MSG_PING] = { "ping", DSM_PAYLOAD_NONE, 0, false, 0 },
	[DSM_MSG_ECHO] = { "echo", DSM_PAYLOAD_OPT_PAGE, DSM_MF_ECHO_PAGE, false, 0 },
	[DSM_MSG_ECHO_REPLY] = { "echo_reply", DSM_PAYLOAD_OPT_PAGE, 0, false, 0 },
	[DSM_MSG_REQ_READ] = { "req_read", DSM_PAYLOAD_NONE, 0, true, 0 },
	[DSM_MSG_REQ_WRITE] = { "req_write", DSM_PAYLOAD_NONE, 0, true, 0 },
	[DSM_MSG_INV] = { "inv", DSM_PAYLOAD_NONE, 0, true, 0 },
	[DSM_MSG_FETCH] = { "fetch", DSM_PAYLOAD_NONE, DSM_MF_FETCH_WRITE, true, 0 },
	[DSM_MSG_INV_ACK] = { "inv_ack", DSM_PAYLOAD_NONE, 0, true, 0 },
	[DSM_MSG_FETCH_REPLY] = { "fetch_reply", DSM_PAYLOAD_PAGE, 0, true, 0 },
	[DSM_MSG_GRANT_READ] = { "grant_read", DSM_PAYLOAD_PAGE, 0, true, 0 },
	[DSM_MSG_GRANT_WRITE] = { "grant_write", DSM_PAYLOAD_OPT_PAGE, 0, true, 0 },
	[DSM_MSG_APP] = { "app", DSM_PAYLOAD_APP, 0, false, 0 },
	[DSM_MSG_QUIET_REQ] = { "quiet_req", DSM_PAYLOAD_FIXED, 0, false, DSM_ROUND_LEN },
	[DSM_MSG_QUIET_REPLY] = { "quiet_reply", DSM_PAYLOAD_FIXED, 0, false, DSM_QUIET_REPLY_LEN },
	[DSM_MSG_CSUM_REQ] = { "csum_req", DSM_PAYLOAD_FIXED, 0, false, DSM_ROUND_LEN },
	[DSM_MSG_CSUM_REPLY] = { "csum_reply", DSM_PAYLOAD_FIXED, 0, false, DSM_CSUM_REPLY_LEN },
	[DSM_MSG_XFER] = { "xfer", DSM_PAYLOAD_FIXED, 0, true, DSM_XFER_LEN },
	[DSM_MSG_PUSH] = { "push", DSM_PAYLOAD_PAGE, DSM_MF_PUSH_HOME, true, 0 },
	[DSM_MSG_XFER_ZERO] = { "xfer_zero", DSM_PAYLOAD_FIXED, 0, true, DSM_XFER_ZERO_LEN },
	[DSM_MSG_HANDOVER] = { "handover", DSM_PAYLOAD_FIXED, 0, false, DSM_ROUND_LEN },
	[DSM_MSG_REHOME] = { "rehome", DSM_PAYLOAD_FIXED, 0, true, DSM_REHOME_LEN },
};

const struct dsm_msg_desc *dsm_msg_desc(unsigned type)
{
	if (type >= DSM_MSG_MAX || !msg_desc[type].name)
		return NULL;
	return &msg_desc[type];
}

const char *dsm_msg_name(unsigned type)
{
	const struct dsm_msg_desc *d = dsm_msg_desc(type);

	return d ? d->name : "unknown";
}

int dsm_hello_check(const struct dsm_hello *ours, const struct dsm_hello *theirs,
		    const char **field)
{
	if (theirs->version != ours->version)
		*field = "hello.version";
	else if (theirs->nnodes != ours->nnodes)
		*field = "hello.nnodes";
	else if (theirs->node >= ours->nnodes || theirs->node == ours->node)
		*field = "hello.node";
	else if (theirs->npages != ours->npages)
		*field = "hello.npages";
	else if (theirs->config_hash != ours->config_hash)
		*field = "hello.config_hash";
	else
		return 0;
	return -EPROTO;
}
