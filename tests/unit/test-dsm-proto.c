// SPDX-License-Identifier: GPL-2.0
/*
 * The coherence state machine, driven without I/O. A "cluster" here is a few
 * struct dsm_proto, one in-order queue per directed link, and a simulated
 * page value per node. Actions are applied to the simulation, and after every
 * step the invariants of docs/protocol.md are checked:
 *   - at most one MODIFIED copy, and never MODIFIED together with SHARED;
 *   - every copy (SHARED or MODIFIED) holds the latest written value;
 *   - every home's directory entry is consistent (dsm_proto_check_dir).
 * Scripted tests replay named races step by step; the exhaustive tests walk
 * every interleaving of small scripts (with a visited-state set).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dsm/proto.h"

#define K      3 /* nodes at most */
#define P      2 /* pages at most */
#define QCAP   16
#define OPS    3
#define POISON 0xdeadull

struct qmsg {
	uint8_t type, flags;
	uint64_t page;
	uint32_t len;
	uint64_t value; /* the page contents, if len */
};

struct queue {
	unsigned n;
	struct qmsg m[QCAP];
};

struct op {
	uint8_t write; /* 0 read, 1 write, 2 none */
	uint8_t page;
};

struct node_sim {
	uint64_t value[P];
	uint8_t present[P];
	struct dsm_page pg[P];
	struct dsm_dir dir[P];
	struct op ops[OPS];
	unsigned nops, pos;
};

struct cluster {
	unsigned nnodes, npages;
	uint8_t home[P];
	struct node_sim n[K];
	struct queue q[K][K]; /* q[from][to] */
	uint64_t latest[P];   /* the value of the last write */
	unsigned writes[P];
	struct dsm_proto pr[K]; /* pointers fixed up by fixup() */
};

/* Coverage of (receiver role, message type, receiver's local state). */
static unsigned cover[DSM_MSG_MAX][3];

static void fixup(struct cluster *c)
{
	for (unsigned i = 0; i < c->nnodes; i++) {
		c->pr[i].page = c->n[i].pg;
		c->pr[i].dir = c->n[i].dir;
		c->pr[i].home = c->home;
	}
}

static void cluster_init(struct cluster *c, unsigned nnodes, unsigned npages, const uint8_t *home)
{
	memset(c, 0, sizeof(*c));
	c->nnodes = nnodes;
	c->npages = npages;
	memcpy(c->home, home, npages);
	for (unsigned i = 0; i < nnodes; i++) {
		struct dsm_proto tmp;

		assert_int_equal(dsm_proto_init(&tmp, i, nnodes, npages, c->home), 0);
		memcpy(c->n[i].pg, tmp.page, npages * sizeof(*tmp.page));
		memcpy(c->n[i].dir, tmp.dir, npages * sizeof(*tmp.dir));
		c->pr[i] = tmp;
		dsm_proto_fini(&tmp);
		for (unsigned p = 0; p < npages; p++) {
			c->n[i].present[p] = home[p] == i;
			c->n[i].value[p] = home[p] == i ? 0 : POISON;
		}
	}
	fixup(c);
}

static void enqueue(struct cluster *c, unsigned from, unsigned to, struct qmsg m)
{
	struct queue *q = &c->q[from][to];

	assert_true(q->n < QCAP);
	q->m[q->n++] = m;
}

/* Applies actions of node i; `in` is the message being handled, if any. */
static void apply(struct cluster *c, unsigned i, const struct dsm_actions *out,
		  const struct qmsg *in)
{
	struct node_sim *n = &c->n[i];

	for (unsigned k = 0; k < out->n; k++) {
		const struct dsm_action *a = &out->a[k];
		unsigned p = (unsigned)a->page;
		struct qmsg m = { .type = a->type, .flags = a->flags, .page = a->page };

		switch (a->kind) {
		case DSM_ACT_SEND:
			assert_true(a->to < c->nnodes && a->to != i);
			if (a->data == DSM_DATA_LOCAL) {
				assert_true(n->present[p]);
				m.len = DSM_PAGE_SIZE;
				m.value = n->value[p];
			} else if (a->data == DSM_DATA_INCOMING) {
				assert_non_null(in);
				assert_int_equal(in->len, DSM_PAGE_SIZE);
				m.len = DSM_PAGE_SIZE;
				m.value = in->value;
			}
			enqueue(c, i, a->to, m);
			break;
		case DSM_ACT_INSTALL_RO:
		case DSM_ACT_INSTALL_RW:
			assert_non_null(in);
			assert_int_equal(in->len, DSM_PAGE_SIZE);
			assert_false(n->present[p]);
			n->present[p] = 1;
			n->value[p] = in->value;
			break;
		case DSM_ACT_UPGRADE:
		case DSM_ACT_DOWNGRADE:
			assert_true(n->present[p]);
			break;
		case DSM_ACT_INVALIDATE:
			assert_true(n->present[p]);
			n->present[p] = 0;
			n->value[p] = POISON;
			break;
		case DSM_ACT_WAKE:
			break;
		default:
			fail_msg("unknown action %u", a->kind);
		}
	}
}

/*
 * Node i's pages whose latest copy it keeps: MODIFIED, or SHARED at their home
 * (struct dsm_proto's owned, counted here page by page).
 */
static uint64_t owned_pages(const struct cluster *c, unsigned i)
{
	uint64_t n = 0;

	for (unsigned p = 0; p < c->npages; p++) {
		uint8_t st = c->n[i].pg[p].state;

		n += st == DSM_MODIFIED || (st == DSM_SHARED && c->home[p] == i);
	}
	return n;
}

static void check_invariants(struct cluster *c)
{
	for (unsigned p = 0; p < c->npages; p++) {
		unsigned nm = 0, ns = 0;

		for (unsigned i = 0; i < c->nnodes; i++) {
			uint8_t st = c->n[i].pg[p].state;

			if (st == DSM_MODIFIED)
				nm++;
			if (st == DSM_SHARED)
				ns++;
			/* local state and the simulated mapping agree */
			assert_int_equal(c->n[i].present[p], st != DSM_INVALID);
			if (st != DSM_INVALID && c->n[i].value[p] != c->latest[p])
				fail_msg("node %u page %u: %s copy holds %llu, latest is %llu", i,
					 p, dsm_pstate_name(st),
					 (unsigned long long)c->n[i].value[p],
					 (unsigned long long)c->latest[p]);
		}
		assert_true(nm <= 1);
		assert_true(nm == 0 || ns == 0);
		const char *why = NULL;

		if (dsm_proto_check_dir(&c->pr[c->home[p]], p, &why))
			fail_msg("page %u directory: %s", p, why);
	}
	/* The counts the machine keeps as it goes equal a count of every page. */
	for (unsigned i = 0; i < c->nnodes; i++)
		assert_int_equal(c->pr[i].owned, owned_pages(c, i));
}

/* Delivers the head of link from->to. */
static void deliver(struct cluster *c, unsigned from, unsigned to)
{
	struct queue *q = &c->q[from][to];
	struct qmsg m;
	struct dsm_actions out;

	assert_true(q->n > 0);
	/* Keep queues compact so equal states hash equal. */
	m = q->m[0];
	memmove(&q->m[0], &q->m[1], (QCAP - 1) * sizeof(q->m[0]));
	memset(&q->m[QCAP - 1], 0, sizeof(q->m[0]));
	q->n--;
	cover[m.type][c->n[to].pg[m.page].state]++;
	struct dsm_msg msg = { .type = m.type, .flags = m.flags, .page = m.page, .len = m.len };
	int ret = dsm_proto_recv(&c->pr[to], from, &msg, &out);

	if (ret)
		fail_msg("node %u rejected %s from %u: %s: %s", to, dsm_msg_name(m.type), from,
			 out.err_field, out.err_what);
	apply(c, to, &out, &m);
	check_invariants(c);
}

/*
 * Node i tries its current access once: it completes if the local state
 * allows it, otherwise it faults (as a retried access would). Returns true
 * if the access completed.
 */
static bool access_page(struct cluster *c, unsigned i, unsigned p, bool write)
{
	struct node_sim *n = &c->n[i];
	uint8_t st = n->pg[p].state;
	struct dsm_actions out;
	enum dsm_fault_kind kind;

	if (st == DSM_MODIFIED || (st == DSM_SHARED && !write)) {
		assert_int_equal(n->value[p], c->latest[p]);
		if (write) {
			n->value[p]++;
			c->latest[p] = n->value[p];
			c->writes[p]++;
		}
		return true;
	}
	assert_int_equal(dsm_proto_fault(&c->pr[i], p, write, &kind, &out), 0);
	assert_int_equal(kind, st == DSM_SHARED ? DSM_FAULT_UPGRADE
			       : write		? DSM_FAULT_WRITE
						: DSM_FAULT_READ);
	apply(c, i, &out, NULL);
	check_invariants(c);
	return false;
}

/* Step: node i runs its next scripted op (it may just fault). */
static void step_op(struct cluster *c, unsigned i)
{
	struct node_sim *n = &c->n[i];
	struct op *o = &n->ops[n->pos];

	if (access_page(c, i, o->page, o->write))
		n->pos++;
}

static bool quiescent(const struct cluster *c)
{
	for (unsigned i = 0; i < c->nnodes; i++) {
		if (c->n[i].pos < c->n[i].nops)
			return false;
		for (unsigned j = 0; j < c->nnodes; j++)
			if (c->q[i][j].n)
				return false;
	}
	return true;
}

static void check_final(struct cluster *c)
{
	uint64_t owned = 0, homed = 0;

	/* At rest every page has exactly one node that keeps its latest copy. */
	for (unsigned i = 0; i < c->nnodes; i++) {
		owned += c->pr[i].owned;
		homed += c->pr[i].homed;
	}
	assert_int_equal(owned, c->npages);
	assert_int_equal(homed, c->npages);
	for (unsigned p = 0; p < c->npages; p++) {
		const struct dsm_dir *d = &c->n[c->home[p]].dir[p];

		assert_false(d->busy);
		assert_int_equal(c->latest[p], c->writes[p]);
		for (unsigned i = 0; i < c->nnodes; i++)
			assert_int_equal(c->n[i].pg[p].req, DSM_REQ_NONE);
	}
}

/* --- scripted transitions and races -------------------------------------- */

static const uint8_t home0[P] = { 0, 1 };

static void read_miss_from_home(void **state)
{
	struct cluster c;

	cluster_init(&c, 2, 1, home0);
	assert_false(access_page(&c, 1, 0, false)); /* REQ_READ 1->0 */
	assert_int_equal(c.q[1][0].n, 1);
	deliver(&c, 1, 0); /* home downgrades its modified copy, GRANT_READ */
	assert_int_equal(c.n[0].pg[0].state, DSM_SHARED);
	deliver(&c, 0, 1);
	assert_int_equal(c.n[1].pg[0].state, DSM_SHARED);
	assert_true(access_page(&c, 1, 0, false));
	assert_true(access_page(&c, 0, 0, false)); /* home reads without a fault */
	check_final(&c);
}

static void write_miss_then_home_reads_back(void **state)
{
	struct cluster c;

	cluster_init(&c, 2, 1, home0);
	assert_false(access_page(&c, 1, 0, true));
	deliver(&c, 1, 0); /* home hands its modified page over, invalidates its own */
	assert_int_equal(c.n[0].pg[0].state, DSM_INVALID);
	assert_int_equal(c.n[0].dir[0].owner, 1);
	deliver(&c, 0, 1);
	assert_true(access_page(&c, 1, 0, true));
	assert_false(access_page(&c, 0, 0, false)); /* home faults: FETCH to owner */
	assert_int_equal(c.q[0][1].n, 1);
	assert_int_equal(c.q[0][1].m[0].type, DSM_MSG_FETCH);
	assert_int_equal(c.q[0][1].m[0].flags, 0);
	deliver(&c, 0, 1); /* owner downgrades, FETCH_REPLY */
	assert_int_equal(c.n[1].pg[0].state, DSM_SHARED);
	deliver(&c, 1, 0);
	assert_int_equal(c.n[0].pg[0].state, DSM_SHARED);
	assert_true(access_page(&c, 0, 0, false));
	assert_int_equal(c.n[0].value[0], 1);
	/* and the home writes: the remote copy is invalidated first */
	assert_false(access_page(&c, 0, 0, true));
	deliver(&c, 0, 1);
	assert_int_equal(c.n[0].pg[0].state, DSM_SHARED); /* not before the ack */
	deliver(&c, 1, 0);
	assert_true(access_page(&c, 0, 0, true));
	check_final(&c);
}

static void upgrade_without_data(void **state)
{
	struct cluster c;

	cluster_init(&c, 2, 1, home0);
	assert_false(access_page(&c, 1, 0, false));
	deliver(&c, 1, 0);
	deliver(&c, 0, 1);
	assert_false(access_page(&c, 1, 0, true)); /* upgrade */
	deliver(&c, 1, 0);
	assert_int_equal(c.q[0][1].m[0].len, 0); /* no payload needed */
	deliver(&c, 0, 1);
	assert_int_equal(c.n[1].pg[0].state, DSM_MODIFIED);
	assert_true(access_page(&c, 1, 0, true));
	check_final(&c);
}

/* Brings nodes 1 and 2 to SHARED on page 0 (home 0). */
static void share_with_two(struct cluster *c)
{
	static const uint8_t h[P] = { 0, 0 };

	cluster_init(c, 3, 1, h);
	assert_false(access_page(c, 1, 0, false));
	assert_false(access_page(c, 2, 0, false));
	deliver(c, 1, 0);
	deliver(c, 2, 0);
	deliver(c, 0, 1);
	deliver(c, 0, 2);
	assert_int_equal(c->n[0].dir[0].sharers, 7);
}

/*
 * Two sharers upgrade at once. The home serves node 1; its INV to node 2
 * crosses node 2's own REQ_WRITE. Node 2 acknowledges although it waits
 * itself, and its queued request is then served by fetching from node 1.
 */
static void two_writers_upgrade_at_once(void **state)
{
	struct cluster c;

	share_with_two(&c);
	assert_false(access_page(&c, 1, 0, true));
	assert_false(access_page(&c, 2, 0, true));
	deliver(&c, 1, 0); /* serve 1: INV to 2 */
	assert_int_equal(c.n[0].dir[0].acks, 1u << 2);
	deliver(&c, 2, 0); /* 2's request queued: the home is busy */
	assert_int_equal(c.n[0].dir[0].pend_write, 1u << 2);
	deliver(&c, 0, 2); /* INV reaches 2, which has a request outstanding */
	assert_int_equal(c.n[2].pg[0].state, DSM_INVALID);
	assert_int_equal(c.n[2].pg[0].req, DSM_REQ_WRITE);
	deliver(&c, 2, 0); /* INV_ACK: grant 1 (no data), then serve 2: FETCH to 1 */
	assert_int_equal(c.n[0].dir[0].owner, 1);
	assert_true(c.n[0].dir[0].txn_fetch);
	deliver(&c, 0, 1); /* GRANT_WRITE without data */
	assert_true(access_page(&c, 1, 0, true));
	deliver(&c, 0, 1); /* FETCH(write): 1 sends its page and drops it */
	deliver(&c, 1, 0);
	deliver(&c, 0, 2); /* GRANT_WRITE with node 1's data */
	assert_true(access_page(&c, 2, 0, true));
	assert_int_equal(c.n[2].value[0], 2);
	check_final(&c);
}

/* The home and a remote sharer upgrade at once. */
static void home_and_remote_upgrade_at_once(void **state)
{
	struct cluster c;

	share_with_two(&c);
	assert_false(access_page(&c, 1, 0, true)); /* REQ_WRITE in flight */
	assert_false(access_page(&c, 0, 0, true)); /* home: INV to 1 and 2 */
	assert_int_equal(c.n[0].dir[0].acks, 6);
	deliver(&c, 1, 0); /* queued behind the home's own transaction */
	deliver(&c, 0, 1);
	deliver(&c, 0, 2);
	deliver(&c, 1, 0);
	deliver(&c, 2, 0); /* last ack: home upgrades, then serves 1 */
	assert_int_equal(c.n[0].pg[0].state, DSM_INVALID);
	deliver(&c, 0, 1);
	assert_true(access_page(&c, 1, 0, true));
	/* the home's write was not performed: its access retries */
	assert_false(access_page(&c, 0, 0, true));
	deliver(&c, 0, 1);
	deliver(&c, 1, 0);
	assert_true(access_page(&c, 0, 0, true));
	assert_int_equal(c.latest[0], 2);
	check_final(&c);
}

/*
 * The home faults on a page a remote node owns and fetches it; a remote write
 * request arrives meanwhile and waits in the queue until the fetch is done.
 */
static void write_queued_behind_home_fetch(void **state)
{
	struct cluster c;
	static const uint8_t h[P] = { 0 };

	cluster_init(&c, 3, 1, h);
	assert_false(access_page(&c, 1, 0, true));
	deliver(&c, 1, 0);
	deliver(&c, 0, 1);
	assert_true(access_page(&c, 1, 0, true));
	assert_false(access_page(&c, 2, 0, true));  /* REQ_WRITE in flight */
	assert_false(access_page(&c, 0, 0, false)); /* home: FETCH(read) to 1 */
	assert_true(c.n[0].dir[0].txn_fetch);
	assert_int_equal(c.n[0].pg[0].req, DSM_REQ_READ);
	deliver(&c, 2, 0); /* queued */
	assert_int_equal(c.n[0].dir[0].pend_write, 1u << 2);
	deliver(&c, 0, 1); /* 1 keeps a read-only copy */
	assert_int_equal(c.n[1].pg[0].state, DSM_SHARED);
	deliver(&c, 1, 0); /* home reads; then serves 2: INV to 1 */
	assert_int_equal(c.n[0].pg[0].req, DSM_REQ_NONE);
	assert_true(access_page(&c, 0, 0, false));
	assert_int_equal(c.n[0].value[0], 1);
	deliver(&c, 0, 1);
	deliver(&c, 1, 0); /* ack: GRANT_WRITE with the home's copy, home drops it */
	assert_int_equal(c.n[0].pg[0].state, DSM_INVALID);
	deliver(&c, 0, 2);
	assert_true(access_page(&c, 2, 0, true));
	assert_int_equal(c.n[2].value[0], 2);
	check_final(&c);
}

/* --- rejection of out-of-protocol messages -------------------------------- */

static void expect_reject(struct cluster *c, unsigned to, unsigned from, struct dsm_msg m,
			  const char *field)
{
	struct dsm_actions out;
	struct node_sim before = c->n[to];

	assert_int_equal(dsm_proto_recv(&c->pr[to], from, &m, &out), -EPROTO);
	assert_non_null(out.err_what);
	assert_string_equal(out.err_field, field);
	/* nothing changed */
	assert_memory_equal(&before.pg, &c->n[to].pg, sizeof(before.pg));
	assert_memory_equal(&before.dir, &c->n[to].dir, sizeof(before.dir));
}

static void out_of_protocol_rejected(void **state)
{
	struct cluster c;
	static const uint8_t h[P] = { 0, 1 };
	struct dsm_msg m = { .page = 0 };

	cluster_init(&c, 2, 2, h);
	/* holder-bound messages in the wrong state */
	m.type = DSM_MSG_GRANT_READ;
	m.len = DSM_PAGE_SIZE;
	expect_reject(&c, 1, 0, m, "type"); /* not requested */
	m.type = DSM_MSG_GRANT_WRITE;
	expect_reject(&c, 1, 0, m, "type");
	m.type = DSM_MSG_INV;
	m.len = 0;
	expect_reject(&c, 1, 0, m, "type"); /* not shared */
	m.type = DSM_MSG_FETCH;
	expect_reject(&c, 1, 0, m, "type"); /* not modified */
	/* home-bound messages */
	m.type = DSM_MSG_INV_ACK;
	expect_reject(&c, 0, 1, m, "type");
	m.type = DSM_MSG_FETCH_REPLY;
	m.len = DSM_PAGE_SIZE;
	expect_reject(&c, 0, 1, m, "type");
	m.type = DSM_MSG_REQ_READ;
	m.len = 0;
	m.page = 1; /* node 1 is that page's home, not node 0 */
	expect_reject(&c, 0, 1, m, "page");
	m.page = 5;
	expect_reject(&c, 0, 1, m, "page");
	m.page = 0;
	expect_reject(&c, 0, 0, m, "source"); /* from itself */
	expect_reject(&c, 0, 7, m, "source");
	m.type = DSM_MSG_INV; /* from a node that is not the home */
	expect_reject(&c, 0, 1, m, "page");
	m.type = DSM_MSG_HELLO;
	expect_reject(&c, 0, 1, m, "type");
	m.type = 200;
	expect_reject(&c, 0, 1, m, "type");

	/* a duplicated request */
	m.type = DSM_MSG_REQ_WRITE;
	assert_false(access_page(&c, 1, 0, true));
	deliver(&c, 1, 0);
	expect_reject(&c, 0, 1, m, "type"); /* now from the owner */
	deliver(&c, 0, 1);
	/* a read request from a sharer */
	assert_false(access_page(&c, 0, 0, false));
	deliver(&c, 0, 1);
	deliver(&c, 1, 0);
	m.type = DSM_MSG_REQ_READ;
	expect_reject(&c, 0, 1, m, "type");
	/* grant_write without data to a non-holder, with data to a holder */
	struct dsm_msg g = { .type = DSM_MSG_GRANT_WRITE, .page = 0, .len = 0 };

	c.n[1].pg[0].req = DSM_REQ_WRITE;
	c.n[1].pg[0].state = DSM_INVALID;
	expect_reject(&c, 1, 0, g, "length");
	c.n[1].pg[0].state = DSM_SHARED;
	g.len = DSM_PAGE_SIZE;
	expect_reject(&c, 1, 0, g, "length");
}

static void fault_outside_region(void **state)
{
	struct dsm_proto p;
	uint8_t h[1] = { 0 };
	struct dsm_actions out;
	enum dsm_fault_kind kind;

	assert_int_equal(dsm_proto_init(&p, 0, 1, 1, h), 0);
	assert_int_equal(dsm_proto_fault(&p, 1, false, &kind, &out), -EINVAL);
	assert_int_equal(dsm_proto_fault(&p, 0, true, &kind, &out), 0);
	assert_int_equal(kind, DSM_FAULT_SPURIOUS);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.a[0].kind, DSM_ACT_WAKE);
	dsm_proto_fini(&p);
	h[0] = 2;
	assert_int_equal(dsm_proto_init(&p, 0, 2, 1, h), -EINVAL);
	assert_int_equal(dsm_proto_init(&p, 2, 2, 1, h), -EINVAL);
	assert_int_equal(dsm_proto_init(&p, 0, DSM_MAX_NODES + 1, 1, h), -EINVAL);
}

/* --- exhaustive exploration ----------------------------------------------- */

struct explore {
	uint64_t *seen;
	size_t cap, used;
	unsigned long states, terminals;
};

static uint64_t hash_state(const struct cluster *c)
{
	/* FNV-1a over the parts that define behaviour; pointers excluded. */
	const unsigned char *b = (const unsigned char *)c;
	size_t len = offsetof(struct cluster, pr);
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h | 1;
}

static bool seen_before(struct explore *e, uint64_t h)
{
	size_t i = h & (e->cap - 1);

	while (e->seen[i]) {
		if (e->seen[i] == h)
			return true;
		i = (i + 1) & (e->cap - 1);
	}
	assert_true(e->used < e->cap / 2);
	e->seen[i] = h;
	e->used++;
	return false;
}

static void dfs(struct explore *e, const struct cluster *c0)
{
	bool any = false;

	if (seen_before(e, hash_state(c0)))
		return;
	e->states++;
	for (unsigned i = 0; i < c0->nnodes; i++) {
		for (unsigned j = 0; j < c0->nnodes; j++) {
			if (!c0->q[i][j].n)
				continue;
			struct cluster c = *c0;

			fixup(&c);
			deliver(&c, i, j);
			dfs(e, &c);
			any = true;
		}
		if (c0->n[i].pos < c0->n[i].nops) {
			struct cluster c = *c0;

			fixup(&c);
			step_op(&c, i);
			dfs(e, &c);
			any = true;
		}
	}
	if (!any) {
		/* nothing enabled: every script must be done, or it is a deadlock */
		struct cluster c = *c0;

		fixup(&c);
		if (!quiescent(&c))
			fail_msg("deadlock: no step enabled with work left");
		check_final(&c);
		e->terminals++;
	}
}

static void explore_scripts(unsigned nnodes, unsigned npages, const uint8_t *home,
			    const char *const scripts[K], unsigned long *states)
{
	static struct cluster c;
	struct explore e = { .cap = 1u << 18 };

	e.seen = calloc(e.cap, sizeof(*e.seen));
	assert_non_null(e.seen);
	cluster_init(&c, nnodes, npages, home);
	for (unsigned i = 0; i < nnodes; i++) {
		/* "r0w1": read page 0, then write page 1 */
		const char *s = scripts[i];

		for (; s && s[0] && s[1]; s += 2) {
			assert_true(c.n[i].nops < OPS);
			c.n[i].ops[c.n[i].nops++] =
				(struct op){ .write = s[0] == 'w', .page = (uint8_t)(s[1] - '0') };
		}
	}
	dfs(&e, &c);
	assert_true(e.terminals > 0);
	*states += e.states;
	free(e.seen);
}

static void exhaustive_two_nodes(void **state)
{
	static const char *const ops[] = { "r0", "w0", "r0w0", "w0r0", "w0w0", "r0r0" };
	static const uint8_t h[P] = { 0, 1 };
	unsigned long states = 0;

	for (unsigned a = 0; a < 6; a++)
		for (unsigned b = 0; b < 6; b++) {
			const char *s[K] = { ops[a], ops[b], NULL };

			explore_scripts(2, 1, h, s, &states);
		}
	print_message("# two nodes, one page: %lu states\n", states);
}

static void exhaustive_three_nodes(void **state)
{
	static const char *const ops[] = { "r0", "w0", "r0w0", "w0r0", "w0w0" };
	static const uint8_t h[P] = { 0, 1 };
	unsigned long states = 0;

	for (unsigned a = 0; a < 5; a++)
		for (unsigned b = 0; b < 5; b++)
			for (unsigned d = 0; d < 5; d++) {
				const char *s[K] = { ops[a], ops[b], ops[d] };

				explore_scripts(3, 1, h, s, &states);
			}
	print_message("# three nodes, one page: %lu states\n", states);
}

static void exhaustive_three_nodes_two_pages(void **state)
{
	static const uint8_t h[P] = { 0, 1 };
	static const char *const scripts[][K] = {
		{ "w0w1", "w1w0", "r0r1" },
		{ "r1w0", "w0r1", "w1" },
		{ "w1r0", "r1", "w0w1" },
	};
	unsigned long states = 0;

	for (unsigned i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
		explore_scripts(3, 2, h, scripts[i], &states);
	print_message("# three nodes, two pages: %lu states\n", states);
}

/*
 * Runs last: every message type was received in every local state in which
 * the protocol allows it. A transition that no test reached fails here.
 */
static void every_transition_covered(void **state)
{
	static const struct {
		uint8_t type, state;
	} need[] = {
		/* at the home: requests in each of its own states */
		{ DSM_MSG_REQ_READ, DSM_MODIFIED },
		{ DSM_MSG_REQ_READ, DSM_SHARED },
		{ DSM_MSG_REQ_READ, DSM_INVALID },
		{ DSM_MSG_REQ_WRITE, DSM_MODIFIED },
		{ DSM_MSG_REQ_WRITE, DSM_SHARED },
		{ DSM_MSG_REQ_WRITE, DSM_INVALID },
		{ DSM_MSG_INV_ACK, DSM_SHARED },
		{ DSM_MSG_FETCH_REPLY, DSM_INVALID },
		/* at a holder */
		{ DSM_MSG_INV, DSM_SHARED },
		{ DSM_MSG_FETCH, DSM_MODIFIED },
		{ DSM_MSG_GRANT_READ, DSM_INVALID },
		{ DSM_MSG_GRANT_WRITE, DSM_INVALID },
		{ DSM_MSG_GRANT_WRITE, DSM_SHARED },
	};

	for (unsigned i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!cover[need[i].type][need[i].state])
			fail_msg("transition never exercised: %s in state %s",
				 dsm_msg_name(need[i].type), dsm_pstate_name(need[i].state));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_miss_from_home),
		cmocka_unit_test(write_miss_then_home_reads_back),
		cmocka_unit_test(upgrade_without_data),
		cmocka_unit_test(two_writers_upgrade_at_once),
		cmocka_unit_test(home_and_remote_upgrade_at_once),
		cmocka_unit_test(write_queued_behind_home_fetch),
		cmocka_unit_test(out_of_protocol_rejected),
		cmocka_unit_test(fault_outside_region),
		cmocka_unit_test(exhaustive_two_nodes),
		cmocka_unit_test(exhaustive_three_nodes),
		cmocka_unit_test(exhaustive_three_nodes_two_pages),
		cmocka_unit_test(every_transition_covered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
