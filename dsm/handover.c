// SPDX-License-Identifier: GPL-2.0
/*
 * A node leaves the virtual computer without losing a page (DESIGN.md
 * §3.11). On the departing node L, with the DSM quiesced (dsm_quiesce) and
 * kept so by the caller (no vCPU runs anywhere), dsm_handover(d, to):
 *   - gives every page L homes to node `to`: XFER carries its directory
 *     entry (owner, sharers, with L removed), then PUSH_HOME its contents if
 *     L held the only valid copy or `to` held none; a run of pages that only
 *     L holds and that are all zero (most of a guest's memory, untouched)
 *     goes as one XFER_ZERO, which `to` fills with zeros when they are touched;
 *   - gives every page L owns (MODIFIED) but another node homes back to its
 *     home: PUSH, a writeback;
 *   - then tells every node HANDOVER: from now on `to` homes L's pages, and
 *     every home forgets L as a sharer; a round trip to each makes sure they
 *     all have before dsm_handover() returns.
 * Every batch of messages ends with a round trip to each peer it went to: it
 * keeps the transports' queues short, and gives the progress callback pages
 * that have arrived. dsm_depart() then says BYE and goes, without waiting
 * for the others, who go on without L.
 *
 * dsm_rehome() is the same for a range of pages a node homes and keeps
 * running without (rebalancing onto a node that joined): XFER, XFER_ZERO and
 * PUSH_HOME to the new home, then REHOME to every node, and the node drops
 * its copies of the range.
 *
 * Links are FIFO, so a page's XFER comes before its PUSH_HOME, and every
 * PUSH before the HANDOVER or REHOME. The receivers' checks below refuse what a
 * quiesced DSM cannot produce, failing the sender like any protocol error.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "cvmm/lib/le.h"
#include "cvmm/lib/log.h"
#include "dsm/engine.h"
#include "dsm/uffd.h"

#define BATCH 256 /* messages between two round trips */

/* --- the departing node ------------------------------------------------------ */

struct handover {
	struct dsm *d;
	unsigned to;
	uint64_t sent_to; /* peers sent to since the last round trip */
	unsigned since;	  /* messages since the last round trip */
	uint64_t done, total;
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *arg;
	struct dsm_handover_stats st;
};

static int send_page(struct handover *h, unsigned peer, uint8_t type, uint16_t flags, uint64_t page,
		     const void *payload, uint32_t len)
{
	int ret = engine_send(h->d, peer, type, flags, page, payload, len);

	if (ret)
		pr_err("dsm: node %u: handing page %llu over to node %u: %s", h->d->cfg.node,
		       (unsigned long long)page, peer, strerror(-ret));
	h->sent_to |= 1ull << peer;
	h->since++;
	h->st.messages++;
	h->st.pushed += type == DSM_MSG_PUSH;
	return ret;
}

/* Every BATCH messages: a round trip to each peer sent to, then the progress. */
static int pace(struct handover *h, bool last)
{
	uint64_t ns;
	int ret = 0;

	if (!last && h->since < BATCH)
		return 0;
	h->since = 0;
	for (unsigned i = 0; i < h->d->cfg.nnodes && !ret; i++)
		if (h->sent_to & (1ull << i))
			ret = dsm_echo(h->d, i, 0, 0, &ns);
	h->sent_to = 0;
	if (!ret && h->progress)
		h->progress(h->arg, h->done, h->total);
	return ret;
}

/* A page L homes: its directory to `to`, and its contents if `to` needs them. */
static int give_home(struct handover *h, uint64_t page)
{
	struct dsm *d = h->d;
	const struct dsm_dir *dir = &d->proto.dir[page];
	unsigned self = d->cfg.node, to = h->to;
	uint64_t sharers = dir->sharers & ~(1ull << self);
	uint8_t owner = dir->owner, buf[DSM_XFER_LEN] = { 0 };
	bool push;
	int ret;

	if (owner == self) {
		owner = (uint8_t)to; /* the only copy is ours: `to` gets it writable */
		push = true;
	} else if (owner == DSM_NODE_NONE) {
		push = !(sharers & (1ull << to)); /* ours is valid; `to` must hold one */
		sharers |= 1ull << to;
	} else {
		push = false; /* the owner keeps it */
	}
	put_le64(buf, sharers);
	buf[8] = owner;
	ret = send_page(h, to, DSM_MSG_XFER, 0, page, buf, sizeof(buf));
	h->st.dir_only += !push;
	if (!ret && push)
		ret = send_page(h, to, DSM_MSG_PUSH, DSM_MF_PUSH_HOME, page,
				d->alias + (page << DSM_PAGE_SHIFT), DSM_PAGE_SIZE);
	return ret;
}

static bool zero_page(const struct dsm *d, uint64_t page)
{
	static const uint8_t zero[DSM_PAGE_SIZE];

	return !memcmp(d->alias + (page << DSM_PAGE_SHIFT), zero, DSM_PAGE_SIZE);
}

/* How many pages from `page` (before `end`) L homes, only L holds, and are zero. */
static uint64_t zero_run(const struct dsm *d, uint64_t page, uint64_t end)
{
	uint64_t n = 0;

	while (page + n < end && d->home[page + n] == d->cfg.node &&
	       d->proto.dir[page + n].owner == d->cfg.node && zero_page(d, page + n))
		n++;
	return n;
}

/*
 * Gives `to` the pages of [first, end) this node homes; with depart, also
 * writes back the pages it owns that others home. Paced; progress at the end.
 */
static int give_range(struct handover *h, uint64_t first, uint64_t end, bool depart)
{
	struct dsm *d = h->d;
	uint8_t buf[DSM_XFER_ZERO_LEN];
	int ret = 0;

	for (uint64_t i = first; i < end; i++)
		h->total += d->home[i] == d->cfg.node ||
			    (depart && d->proto.page[i].state == DSM_MODIFIED);
	for (uint64_t i = first, run; i < end && !ret; i++) {
		if (d->home[i] == d->cfg.node && (run = zero_run(d, i, end)) > 1) {
			put_le64(buf, run);
			ret = send_page(h, h->to, DSM_MSG_XFER_ZERO, 0, i, buf, sizeof(buf));
			h->st.zero += run;
			h->done += run - 1; /* and 1 below */
			i += run - 1;
		} else if (d->home[i] == d->cfg.node) {
			ret = give_home(h, i);
		} else if (depart && d->proto.page[i].state == DSM_MODIFIED) {
			ret = send_page(h, d->home[i], DSM_MSG_PUSH, 0, i,
					d->alias + (i << DSM_PAGE_SHIFT), DSM_PAGE_SIZE);
		} else {
			continue;
		}
		h->done++;
		if (!ret)
			ret = pace(h, false);
	}
	return ret ?: pace(h, true);
}

/*
 * type (HANDOVER or REHOME) to every live peer, then a round trip to each:
 * once it returns, every node has taken the new homes in. Without it, a node
 * could answer another's query (a checksum, a request for one of those
 * pages) before our message, which travels on a different link.
 */
static int announce(struct handover *h, uint8_t type, uint64_t page, const void *payload,
		    uint32_t len)
{
	struct dsm *d = h->d;
	int ret = 0;

	for (unsigned i = 0; i < d->cfg.nnodes; i++)
		if (engine_peer_live(d, i))
			h->sent_to |= 1ull << i;
	for (unsigned i = 0; i < d->cfg.nnodes && !ret; i++)
		if (h->sent_to & (1ull << i))
			ret = engine_send(d, i, type, 0, page, payload, len);
	return ret ?: pace(h, true);
}

int dsm_handover(struct dsm *d, unsigned to,
		 void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg,
		 struct dsm_handover_stats *st)
{
	struct handover h = { .d = d, .to = to, .progress = progress, .arg = arg };
	uint8_t buf[DSM_ROUND_LEN];
	int ret;

	if (to >= d->cfg.nnodes || to == d->cfg.node || !d->started)
		return -EINVAL;
	h.st.started = true;
	ret = give_range(&h, 0, d->npages, true);
	if (st)
		*st = h.st;
	put_le64(buf, to);
	if (!ret)
		ret = announce(&h, DSM_MSG_HANDOVER, 0, buf, sizeof(buf));
	if (ret) {
		pr_err("dsm: node %u: handing over to node %u failed after %llu of %llu pages: %s",
		       d->cfg.node, to, (unsigned long long)h.done, (unsigned long long)h.total,
		       strerror(-ret));
		return ret;
	}
	/* Our own view: nothing is ours any more, and we hold no valid copy. */
	for (uint64_t i = 0; i < d->npages; i++) {
		dsm_proto_uncount(&d->proto, i);
		if (d->home[i] == d->cfg.node)
			d->home[i] = (uint8_t)to;
		d->proto.page[i].state = DSM_INVALID;
		dsm_proto_count(&d->proto, i);
	}
	return 0;
}

int dsm_rehome(struct dsm *d, uint64_t first, uint64_t count, unsigned to,
	       void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg,
	       struct dsm_handover_stats *st)
{
	struct handover h = { .d = d, .to = to, .progress = progress, .arg = arg };
	uint64_t end = first + count;
	uint8_t buf[DSM_REHOME_LEN];
	int ret;

	if (to >= d->cfg.nnodes || to == d->cfg.node || !d->started || !count ||
	    first >= d->npages || count > d->npages - first)
		return -EINVAL;
	if (!engine_peer_live(d, to))
		return -ENOTCONN;
	h.st.started = true;
	ret = give_range(&h, first, end, false);
	if (st)
		*st = h.st;
	put_le64(buf, count);
	put_le64(buf + 8, to);
	if (!ret)
		ret = announce(&h, DSM_MSG_REHOME, first, buf, sizeof(buf));
	if (ret) {
		pr_err("dsm: node %u: giving pages %llu..%llu to node %u failed after %llu of "
		       "%llu: "
		       "%s",
		       d->cfg.node, (unsigned long long)first, (unsigned long long)end - 1, to,
		       (unsigned long long)h.done, (unsigned long long)h.total, strerror(-ret));
		return ret;
	}
	/*
	 * Our own view: `to` homes them, and we hold no copy of them. Each run
	 * is punched out of the memfd, and so out of the VM's mapping: our next
	 * access asks the new home.
	 */
	for (uint64_t i = first, j; i < end; i = j) {
		for (j = i; j < end && d->home[j] == d->cfg.node; j++) {
			dsm_proto_uncount(&d->proto, j);
			d->home[j] = (uint8_t)to;
			d->proto.page[j].state = DSM_INVALID;
			dsm_proto_count(&d->proto, j);
		}
		if (j > i &&
		    fallocate(d->cfg.memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(i << DSM_PAGE_SHIFT), (off_t)((j - i) << DSM_PAGE_SHIFT)))
			engine_local_error(d, "hole punch", i, -errno);
		if (j == i)
			j++;
	}
	pr_info("dsm: node %u: node %u homes pages %llu..%llu now (%llu were ours)", d->cfg.node,
		to, (unsigned long long)first, (unsigned long long)end - 1,
		(unsigned long long)h.total);
	return 0;
}

int dsm_depart(struct dsm *d)
{
	for (unsigned i = 0; i < d->cfg.nnodes; i++)
		if (engine_peer_live(d, i))
			engine_send(d, i, DSM_MSG_BYE, 0, 0, NULL, 0);
	return 0;
}

/* --- the nodes that stay (engine thread) --------------------------------------- */

static int install(struct dsm *d, uint64_t page, const void *data, bool writable)
{
	int ret;

	if (d->proto.page[page].state != DSM_INVALID)
		return -EEXIST;
	ret = uffd_copy(d->uffd, d->vm + (page << DSM_PAGE_SHIFT), data, DSM_PAGE_SIZE, !writable);
	if (ret)
		return ret;
	dsm_proto_uncount(&d->proto, page);
	d->proto.page[page].state = writable ? DSM_MODIFIED : DSM_SHARED;
	dsm_proto_count(&d->proto, page);
	stat_add(&d->st.pages_received, 1);
	return 0;
}

/* XFER: we are the page's new home; its directory entry as it is. */
static const char *take_dir(struct dsm *d, unsigned from, uint64_t page, const uint8_t *p)
{
	struct dsm_dir *dir = &d->proto.dir[page];
	uint64_t sharers = get_le64(p), self = 1ull << d->cfg.node;
	uint8_t owner = p[8], state = d->proto.page[page].state;

	if (d->home[page] != from)
		return "xfer of a page the sender does not home";
	if ((owner != DSM_NODE_NONE && (owner >= d->cfg.nnodes || sharers)) ||
	    (owner == DSM_NODE_NONE && !(sharers & self)) || (sharers & (1ull << from)))
		return "xfer with an impossible directory entry";
	if ((owner == d->cfg.node && state != DSM_MODIFIED && state != DSM_INVALID) ||
	    (owner != d->cfg.node && owner != DSM_NODE_NONE && state != DSM_INVALID))
		return "xfer that disagrees with our copy";
	*dir = (struct dsm_dir){ .owner = owner,
				 .sharers = sharers,
				 .last_served = (uint8_t)d->cfg.node };
	return NULL;
}

/*
 * XFER_ZERO: count pages from `page` are ours, MODIFIED and zero. They stay
 * holes in the memfd, filled with zeros when first touched (engine.c,
 * engine_zero_fill): allocating them here would hold this thread for as
 * long as it takes to clear them, and peers would think it dead.
 */
static const char *take_zero(struct dsm *d, unsigned from, uint64_t page, const uint8_t *p)
{
	uint64_t count = get_le64(p);

	if (!count || count > d->npages - page)
		return "xfer_zero beyond the region";
	for (uint64_t i = page; i < page + count; i++)
		if (d->home[i] != from || d->proto.page[i].state != DSM_INVALID)
			return "xfer_zero of a page the sender does not home, or that we hold";
	for (uint64_t i = page; i < page + count; i++) {
		dsm_proto_uncount(&d->proto, i);
		d->proto.page[i].state = DSM_MODIFIED;
		dsm_proto_count(&d->proto, i);
		d->proto.dir[i] = (struct dsm_dir){ .owner = (uint8_t)d->cfg.node,
						    .last_served = (uint8_t)d->cfg.node };
	}
	return NULL;
}

/* PUSH: contents for the new home (after its XFER), or a writeback to the home. */
static const char *take_page(struct dsm *d, unsigned from, const struct dsm_msg *m)
{
	struct dsm_dir *dir = &d->proto.dir[m->page];
	bool to_new_home = m->flags & DSM_MF_PUSH_HOME;
	int ret;

	if (to_new_home) {
		if (d->home[m->page] != from)
			return "push to a new home of a page the sender does not home";
		ret = install(d, m->page, m->payload, dir->owner == d->cfg.node);
	} else {
		if (d->home[m->page] != d->cfg.node || dir->owner != from)
			return "writeback of a page the sender does not own here";
		ret = install(d, m->page, m->payload, true);
		if (!ret) {
			dir->owner = (uint8_t)d->cfg.node;
			dir->sharers = 0;
		}
	}
	if (ret) {
		stat_add(&d->local_errors, 1);
		pr_err("dsm: node %u: page %llu from departing node %u: %s", d->cfg.node,
		       (unsigned long long)m->page, from, strerror(-ret));
	}
	return NULL;
}

/* HANDOVER: the sender's pages are `to`'s now, and it holds no copy of ours. */
static const char *take_over(struct dsm *d, unsigned from, const struct dsm_msg *m)
{
	uint64_t to = get_le64(m->payload), stale = 0;

	if (to >= d->cfg.nnodes || to == from)
		return "handover to an impossible node";
	for (uint64_t i = 0; i < d->npages; i++) {
		if (d->home[i] == from) {
			dsm_proto_uncount(&d->proto, i);
			d->home[i] = (uint8_t)to;
			dsm_proto_count(&d->proto, i);
		}
		if (d->home[i] != d->cfg.node)
			continue;
		d->proto.dir[i].sharers &= ~(1ull << from);
		stale += d->proto.dir[i].owner == from;
	}
	if (stale)
		return "handover with pages it still owns";
	pthread_mutex_lock(&d->lock);
	d->departed_mask |= 1ull << from;
	pthread_mutex_unlock(&d->lock);
	pr_info("dsm: node %u: node %u handed its pages over to node %u", d->cfg.node, from,
		(unsigned)to);
	return NULL;
}

/* REHOME: the sender's pages of [page, page + count) are `to`'s now. */
static const char *take_rehome(struct dsm *d, unsigned from, const struct dsm_msg *m)
{
	uint64_t count = get_le64(m->payload), to = get_le64((const uint8_t *)m->payload + 8);
	uint64_t moved = 0;

	if (to >= d->cfg.nnodes || to == from)
		return "rehome to an impossible node";
	if (!count || count > d->npages - m->page)
		return "rehome beyond the region";
	for (uint64_t i = m->page; i < m->page + count; i++) {
		if (d->home[i] != from)
			continue;
		dsm_proto_uncount(&d->proto, i);
		d->home[i] = (uint8_t)to;
		dsm_proto_count(&d->proto, i);
		moved++;
	}
	pr_info("dsm: node %u: node %u gave the homes of %llu pages to node %u", d->cfg.node, from,
		(unsigned long long)moved, (unsigned)to);
	return NULL;
}

int handover_recv(struct dsm *d, unsigned peer, const struct dsm_msg *m, const char **why)
{
	if (m->type != DSM_MSG_HANDOVER && m->page >= d->npages)
		*why = "page outside the region";
	else if (m->type == DSM_MSG_XFER)
		*why = take_dir(d, peer, m->page, m->payload);
	else if (m->type == DSM_MSG_XFER_ZERO)
		*why = take_zero(d, peer, m->page, m->payload);
	else if (m->type == DSM_MSG_PUSH)
		*why = take_page(d, peer, m);
	else if (m->type == DSM_MSG_REHOME)
		*why = take_rehome(d, peer, m);
	else
		*why = take_over(d, peer, m);
	return *why ? -EPROTO : 0;
}
