// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>

#include "mgmt/launch/verdict.h"

static bool crashed(const struct vc_node_end *e)
{
	return e->ended && e->signaled && !e->by_launcher;
}

/* The first node other than skip whose status satisfies the test, or -1. */
static int first(const struct vc_node_end *end, unsigned int n, unsigned int skip,
		 bool (*test)(const struct vc_node_end *))
{
	for (unsigned int i = 0; i < n; i++)
		if (i != skip && end[i].ended && test(&end[i]))
			return (int)i;
	return -1;
}

static bool own_failure(const struct vc_node_end *e)
{
	return !e->signaled && e->status && e->status != VC_NODE_PEER_FAILED;
}

static bool peer_failed(const struct vc_node_end *e)
{
	return !e->signaled && e->status == VC_NODE_PEER_FAILED;
}

static bool not_clean(const struct vc_node_end *e)
{
	return e->status && !(e->signaled && e->by_launcher);
}

void vc_verdict(const struct vc_node_end *end, unsigned int n, unsigned int io,
		struct vc_verdict *v)
{
	const struct vc_node_end *ioe = &end[io];
	int c = first(end, n, n, crashed);

	if (c < 0 && ioe->ended && peer_failed(ioe)) {
		c = first(end, n, io, own_failure);
		if (c < 0)
			c = first(end, n, io, peer_failed);
	}
	if (c < 0 && ioe->ended && !ioe->status)
		c = first(end, n, io, not_clean);
	v->culprit = c;
	if (c >= 0)
		v->status = end[c].status;
	else
		v->status = ioe->ended ? ioe->status : VC_NODE_PEER_FAILED;
}

void vc_verdict_describe(const struct vc_node_end *end, const struct vc_verdict *v, char *buf,
			 size_t len)
{
	const struct vc_node_end *e;

	if (v->culprit < 0) {
		snprintf(buf, len, "no node failed");
		return;
	}
	e = &end[v->culprit];
	if (e->signaled)
		snprintf(buf, len, "node%d was killed by signal %d (%s)", v->culprit,
			 e->status - 128, strsignal(e->status - 128));
	else if (e->status == VC_NODE_PEER_FAILED)
		snprintf(buf, len, "node%d failed: it lost a peer or its DSM failed (status 8)",
			 v->culprit);
	else
		snprintf(buf, len, "node%d failed with status %d", v->culprit, e->status);
}
