// SPDX-License-Identifier: GPL-2.0
/*
 * Home-based MSI directory protocol. See dsm/proto.h for the contract and
 * docs/protocol.md for the invariants. The rules that make it simple:
 *
 *   - All messages about a page go between the page's home and one other
 *     node, over links that deliver in order. So whatever the home believes
 *     about a node's copy is what that node will have once it has processed
 *     everything the home sent it before.
 *   - The home runs one transaction per page at a time; requests arriving
 *     meanwhile are queued (one per node at most) and served round-robin.
 *   - A holder never waits while handling a message: INV and FETCH are
 *     answered at once, even with a request of its own outstanding. That is
 *     why two nodes upgrading the same page at once cannot deadlock: the home
 *     serves one, the other's copy is invalidated, and its queued request is
 *     then served with data.
 *   - Every handler checks all its preconditions before it changes anything,
 *     so a rejected message leaves the state as it was.
 */
#include <errno.h>
#include <stdlib.h>

#include "dsm/proto.h"

#define BIT(n) (1ull << (n))

const char *dsm_pstate_name(unsigned state)
{
	static const char *const names[] = {
		[DSM_INVALID] = "invalid",
		[DSM_SHARED] = "shared",
		[DSM_MODIFIED] = "modified",
	};

	return state < 3 ? names[state] : "bad";
}

int dsm_proto_init(struct dsm_proto *p, unsigned self, unsigned nnodes, uint64_t npages,
		   const uint8_t *home)
{
	uint64_t i;

	if (!nnodes || nnodes > DSM_MAX_NODES || self >= nnodes || !npages)
		return -EINVAL;
	for (i = 0; i < npages; i++)
		if (home[i] >= nnodes)
			return -EINVAL;

	*p = (struct dsm_proto){ .self = self, .nnodes = nnodes, .npages = npages, .home = home };
	p->page = calloc(npages, sizeof(*p->page));
	p->dir = calloc(npages, sizeof(*p->dir));
	if (!p->page || !p->dir) {
		dsm_proto_fini(p);
		return -ENOMEM;
	}
	for (i = 0; i < npages; i++) {
		p->dir[i].owner = home[i];
		p->dir[i].last_served = home[i];
		p->page[i].state = home[i] == self ? DSM_MODIFIED : DSM_INVALID;
		dsm_proto_count(p, i);
	}
	return 0;
}

static bool owned(const struct dsm_proto *p, uint64_t page)
{
	uint8_t state = p->page[page].state;

	return state == DSM_MODIFIED || (state == DSM_SHARED && p->home[page] == p->self);
}

void dsm_proto_uncount(struct dsm_proto *p, uint64_t page)
{
	p->owned -= owned(p, page);
	p->homed -= p->home[page] == p->self;
}

void dsm_proto_count(struct dsm_proto *p, uint64_t page)
{
	p->owned += owned(p, page);
	p->homed += p->home[page] == p->self;
}

void dsm_proto_fini(struct dsm_proto *p)
{
	free(p->page);
	free(p->dir);
	p->page = NULL;
	p->dir = NULL;
}

/* --- action list -------------------------------------------------------- */

static void emit(struct dsm_actions *out, uint8_t kind, uint64_t page)
{
	/* DSM_MAX_ACTIONS bounds every event; overflowing it is a bug here. */
	if (out->n >= DSM_MAX_ACTIONS)
		abort();
	out->a[out->n++] = (struct dsm_action){ .kind = kind, .page = page };
}

static void emit_send(struct dsm_actions *out, unsigned to, uint8_t type, uint8_t flags,
		      uint8_t data, uint64_t page)
{
	emit(out, DSM_ACT_SEND, page);
	out->a[out->n - 1].to = (uint8_t)to;
	out->a[out->n - 1].type = type;
	out->a[out->n - 1].flags = flags;
	out->a[out->n - 1].data = data;
}

static int reject(struct dsm_actions *out, const char *field, const char *what)
{
	out->err_field = field;
	out->err_what = what;
	return -EPROTO;
}

/* --- local copy (both roles) -------------------------------------------- */

static void local_set(struct dsm_proto *p, uint64_t page, uint8_t state)
{
	dsm_proto_uncount(p, page);
	p->page[page].state = state;
	dsm_proto_count(p, page);
}

/* The request we had outstanding for page is satisfied. */
static void local_done(struct dsm_proto *p, uint64_t page)
{
	p->page[page].req = DSM_REQ_NONE;
}

/* --- home role ---------------------------------------------------------- */

static void home_serve(struct dsm_proto *p, uint64_t page, unsigned from, bool write,
		       struct dsm_actions *out);

/*
 * Write access for x, once no node but the home and x holds a copy and no
 * node is owner. The home's copy is valid (it is a sharer), so it is the
 * data source unless x already holds the same data.
 */
static void home_finish_write(struct dsm_proto *p, uint64_t page, unsigned x,
			      struct dsm_actions *out)
{
	struct dsm_dir *d = &p->dir[page];
	unsigned h = p->self;

	if (x == h) {
		emit(out, DSM_ACT_UPGRADE, page);
		local_set(p, page, DSM_MODIFIED);
		local_done(p, page);
	} else {
		emit_send(out, x, DSM_MSG_GRANT_WRITE, 0,
			  (d->sharers & BIT(x)) ? DSM_DATA_NONE : DSM_DATA_LOCAL, page);
		emit(out, DSM_ACT_INVALIDATE, page);
		local_set(p, page, DSM_INVALID);
	}
	d->sharers = 0;
	d->owner = (uint8_t)x;
}

static void home_end_txn(struct dsm_proto *p, uint64_t page, struct dsm_actions *out)
{
	struct dsm_dir *d = &p->dir[page];
	unsigned i, n = 0;

	d->busy = 0;
	d->txn_fetch = 0;
	d->acks = 0;
	/* Serve queued requests round-robin until one needs to wait. */
	while (!d->busy && (d->pend_read | d->pend_write)) {
		for (i = 1; i <= p->nnodes; i++) {
			n = (d->last_served + i) % p->nnodes;
			if ((d->pend_read | d->pend_write) & BIT(n))
				break;
		}
		bool write = d->pend_write & BIT(n);

		d->pend_read &= ~BIT(n);
		d->pend_write &= ~BIT(n);
		home_serve(p, page, n, write, out);
	}
}

static void home_begin_txn(struct dsm_dir *d, unsigned x, bool write)
{
	d->busy = 1;
	d->txn_node = (uint8_t)x;
	d->txn_write = write;
	d->last_served = (uint8_t)x;
}

/*
 * Serve a request that was checked on arrival. Either it completes now, or a
 * transaction starts that INV_ACKs or a FETCH_REPLY will complete.
 */
static void home_serve(struct dsm_proto *p, uint64_t page, unsigned x, bool write,
		       struct dsm_actions *out)
{
	struct dsm_dir *d = &p->dir[page];
	unsigned h = p->self, n;

	d->last_served = (uint8_t)x;
	if (x == h && (p->page[page].state == DSM_MODIFIED ||
		       (p->page[page].state == DSM_SHARED && !write))) {
		/*
		 * The home's own queued read was satisfied meanwhile: a fetch
		 * for another reader left the home a copy (and woke the waiters).
		 */
		local_done(p, page);
		return;
	}
	if (d->owner != DSM_NODE_NONE && d->owner != h) {
		/* The only valid copy is at a remote owner: get it back first. */
		home_begin_txn(d, x, write);
		d->txn_fetch = 1;
		emit_send(out, d->owner, DSM_MSG_FETCH, write ? DSM_MF_FETCH_WRITE : 0,
			  DSM_DATA_NONE, page);
		return;
	}

	if (!write) {
		/* x is a remote node here: the home never lacks a copy without an owner. */
		if (d->owner == h) {
			emit(out, DSM_ACT_DOWNGRADE, page);
			local_set(p, page, DSM_SHARED);
			d->owner = DSM_NODE_NONE;
			d->sharers = BIT(h);
		}
		emit_send(out, x, DSM_MSG_GRANT_READ, 0, DSM_DATA_LOCAL, page);
		d->sharers |= BIT(x);
		return;
	}

	if (d->owner == h) {
		/* Home writable, x remote: hand the page over. */
		emit(out, DSM_ACT_DOWNGRADE, page);
		emit_send(out, x, DSM_MSG_GRANT_WRITE, 0, DSM_DATA_LOCAL, page);
		emit(out, DSM_ACT_INVALIDATE, page);
		local_set(p, page, DSM_INVALID);
		d->owner = (uint8_t)x;
		d->sharers = 0;
		return;
	}

	/* No owner: the home and maybe others share it. Invalidate the others. */
	uint64_t others = d->sharers & ~BIT(x) & ~BIT(h);

	if (!others) {
		home_finish_write(p, page, x, out);
		return;
	}
	home_begin_txn(d, x, true);
	d->acks = others;
	d->sharers &= ~others;
	for (n = 0; n < p->nnodes; n++)
		if (others & BIT(n))
			emit_send(out, n, DSM_MSG_INV, 0, DSM_DATA_NONE, page);
}

/*
 * A request from x (possibly the home itself) arrives. Requests that the
 * in-order links make impossible are rejected; see docs/protocol.md.
 */
static int home_request(struct dsm_proto *p, uint64_t page, unsigned x, bool write,
			struct dsm_actions *out)
{
	struct dsm_dir *d = &p->dir[page];

	if (d->owner == x)
		return reject(out, "type", "request from the page's owner");
	if ((d->pend_read | d->pend_write) & BIT(x) || (d->busy && d->txn_node == x))
		return reject(out, "type", "second request for the page while one is outstanding");
	if (!write && (d->sharers | d->acks) & BIT(x))
		return reject(out, "type", "read request from a node holding a copy");

	if (d->busy) {
		if (write)
			d->pend_write |= BIT(x);
		else
			d->pend_read |= BIT(x);
		return 0;
	}
	home_serve(p, page, x, write, out);
	return 0;
}

static int home_inv_ack(struct dsm_proto *p, uint64_t page, unsigned from, struct dsm_actions *out)
{
	struct dsm_dir *d = &p->dir[page];

	if (!d->busy || !(d->acks & BIT(from)))
		return reject(out, "type", "inv_ack without an invalidation outstanding");
	d->acks &= ~BIT(from);
	if (d->acks)
		return 0;
	home_finish_write(p, page, d->txn_node, out);
	home_end_txn(p, page, out);
	return 0;
}

static int home_fetch_reply(struct dsm_proto *p, uint64_t page, unsigned from,
			    struct dsm_actions *out)
{
	struct dsm_dir *d = &p->dir[page];
	unsigned h = p->self, x = d->txn_node;

	if (!d->busy || !d->txn_fetch || d->owner != from)
		return reject(out, "type", "fetch_reply without a fetch outstanding");

	if (d->txn_write) {
		/* The old owner dropped its copy; the data goes to x. */
		if (x == h) {
			emit(out, DSM_ACT_INSTALL_RW, page);
			local_set(p, page, DSM_MODIFIED);
			local_done(p, page);
		} else {
			emit_send(out, x, DSM_MSG_GRANT_WRITE, 0, DSM_DATA_INCOMING, page);
		}
		d->owner = (uint8_t)x;
		d->sharers = 0;
	} else {
		/*
		 * The old owner keeps a read-only copy. The home keeps one too,
		 * so that it can serve later readers without a fetch.
		 */
		emit(out, DSM_ACT_INSTALL_RO, page);
		local_set(p, page, DSM_SHARED);
		d->owner = DSM_NODE_NONE;
		d->sharers = BIT(from) | BIT(h);
		if (x == h) {
			local_done(p, page);
		} else {
			emit_send(out, x, DSM_MSG_GRANT_READ, 0, DSM_DATA_LOCAL, page);
			d->sharers |= BIT(x);
		}
	}
	home_end_txn(p, page, out);
	return 0;
}

/* --- requester/holder role ---------------------------------------------- */

int dsm_proto_fault(struct dsm_proto *p, uint64_t page, bool write, enum dsm_fault_kind *kind,
		    struct dsm_actions *out)
{
	struct dsm_page *pg;
	int ret;

	out->n = 0;
	if (page >= p->npages)
		return -EINVAL;
	pg = &p->page[page];

	if (pg->state == DSM_MODIFIED || (pg->state == DSM_SHARED && !write)) {
		*kind = DSM_FAULT_SPURIOUS;
		emit(out, DSM_ACT_WAKE, page);
		return 0;
	}
	*kind = pg->state == DSM_SHARED ? DSM_FAULT_UPGRADE
		: write			? DSM_FAULT_WRITE
					: DSM_FAULT_READ;
	/* One request per page at a time; its grant wakes every waiter. */
	if (pg->req != DSM_REQ_NONE)
		return 0;

	if (p->home[page] == p->self) {
		ret = home_request(p, page, p->self, write, out);
		if (ret)
			return ret;
		/* home_request may have completed it already. */
		if (p->page[page].state == DSM_MODIFIED ||
		    (p->page[page].state == DSM_SHARED && !write))
			return 0;
		pg->req = write ? DSM_REQ_WRITE : DSM_REQ_READ;
		return 0;
	}
	pg->req = write ? DSM_REQ_WRITE : DSM_REQ_READ;
	emit_send(out, p->home[page], write ? DSM_MSG_REQ_WRITE : DSM_MSG_REQ_READ, 0,
		  DSM_DATA_NONE, page);
	return 0;
}

static int holder_recv(struct dsm_proto *p, const struct dsm_msg *m, struct dsm_actions *out)
{
	struct dsm_page *pg = &p->page[m->page];
	unsigned h = p->home[m->page];

	switch (m->type) {
	case DSM_MSG_GRANT_READ:
		if (pg->req != DSM_REQ_READ || pg->state != DSM_INVALID)
			return reject(out, "type", "grant_read not requested");
		emit(out, DSM_ACT_INSTALL_RO, m->page);
		local_set(p, m->page, DSM_SHARED);
		break;
	case DSM_MSG_GRANT_WRITE:
		if (pg->req != DSM_REQ_WRITE)
			return reject(out, "type", "grant_write not requested");
		if (m->len) {
			if (pg->state != DSM_INVALID)
				return reject(out, "length", "grant_write with data to a holder");
			emit(out, DSM_ACT_INSTALL_RW, m->page);
		} else {
			if (pg->state != DSM_SHARED)
				return reject(out, "length",
					      "grant_write without data to a non-holder");
			emit(out, DSM_ACT_UPGRADE, m->page);
		}
		local_set(p, m->page, DSM_MODIFIED);
		break;
	case DSM_MSG_INV:
		if (pg->state != DSM_SHARED)
			return reject(out, "type", "inv for a page not held shared");
		emit(out, DSM_ACT_INVALIDATE, m->page);
		emit_send(out, h, DSM_MSG_INV_ACK, 0, DSM_DATA_NONE, m->page);
		local_set(p, m->page, DSM_INVALID);
		return 0;
	case DSM_MSG_FETCH:
		if (pg->state != DSM_MODIFIED)
			return reject(out, "type", "fetch for a page not held modified");
		/* Stop local writers before the contents are read for sending. */
		emit(out, DSM_ACT_DOWNGRADE, m->page);
		emit_send(out, h, DSM_MSG_FETCH_REPLY, 0, DSM_DATA_LOCAL, m->page);
		if (m->flags & DSM_MF_FETCH_WRITE) {
			emit(out, DSM_ACT_INVALIDATE, m->page);
			local_set(p, m->page, DSM_INVALID);
		} else {
			local_set(p, m->page, DSM_SHARED);
		}
		return 0;
	default:
		return reject(out, "type", "not a message for a page holder");
	}
	local_done(p, m->page);
	return 0;
}

int dsm_proto_recv(struct dsm_proto *p, unsigned from, const struct dsm_msg *m,
		   struct dsm_actions *out)
{
	const struct dsm_msg_desc *desc = dsm_msg_desc(m->type);
	bool to_home;

	out->n = 0;
	out->err_field = out->err_what = NULL;
	if (from >= p->nnodes || from == p->self)
		return reject(out, "source", "message from an unknown node");
	if (!desc || !desc->per_page)
		return reject(out, "type", "not a coherence message");
	if (m->page >= p->npages)
		return reject(out, "page", "page outside the region");

	switch (m->type) {
	case DSM_MSG_REQ_READ:
	case DSM_MSG_REQ_WRITE:
	case DSM_MSG_INV_ACK:
	case DSM_MSG_FETCH_REPLY:
		to_home = true;
		break;
	default:
		to_home = false;
		break;
	}
	if (to_home && p->home[m->page] != p->self)
		return reject(out, "page", "message for a home on another node");
	if (!to_home && p->home[m->page] != from)
		return reject(out, "page", "message from a node that is not the page's home");

	switch (m->type) {
	case DSM_MSG_REQ_READ:
		return home_request(p, m->page, from, false, out);
	case DSM_MSG_REQ_WRITE:
		return home_request(p, m->page, from, true, out);
	case DSM_MSG_INV_ACK:
		return home_inv_ack(p, m->page, from, out);
	case DSM_MSG_FETCH_REPLY:
		return home_fetch_reply(p, m->page, from, out);
	default:
		return holder_recv(p, m, out);
	}
}

int dsm_proto_check_dir(const struct dsm_proto *p, uint64_t page, const char **why)
{
	const struct dsm_dir *d = &p->dir[page];
	uint64_t all = p->nnodes == 64 ? ~0ull : BIT(p->nnodes) - 1;
	unsigned h = p->self;
	uint8_t st = p->page[page].state;

#define CHECK(cond, msg)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			*why = msg;                                                                \
			return -EINVAL;                                                            \
		}                                                                                  \
	} while (0)

	CHECK(p->home[page] == h, "not the home");
	CHECK(!((d->sharers | d->acks | d->pend_read | d->pend_write) & ~all), "bit beyond nnodes");
	CHECK(!(d->pend_read & d->pend_write), "node queued twice");
	CHECK(d->owner == DSM_NODE_NONE || d->owner < p->nnodes, "owner out of range");
	CHECK(d->owner == DSM_NODE_NONE || !d->sharers, "owner and sharers at once");
	CHECK(!(d->sharers & d->acks), "sharer being invalidated");
	CHECK(d->busy || !(d->pend_read | d->pend_write | d->acks), "queue without transaction");
	CHECK(!d->txn_fetch || (d->busy && d->owner != DSM_NODE_NONE && d->owner != h),
	      "fetch without a remote owner");
	CHECK(!d->busy || d->txn_fetch || d->acks, "transaction waiting for nothing");
	/* The home's copy: data lives at the home unless a remote node owns it. */
	CHECK((d->owner == h) == (st == DSM_MODIFIED), "home modified iff owner");
	CHECK(!!(d->sharers & BIT(h)) == (st == DSM_SHARED), "home shared iff sharer");
	CHECK(d->owner != DSM_NODE_NONE || (d->sharers & BIT(h)), "no owner and no home copy");
#undef CHECK
	return 0;
}
