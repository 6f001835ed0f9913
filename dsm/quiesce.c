// SPDX-License-Identifier: GPL-2.0
/*
 * Cluster-wide operations that need the whole DSM still (DESIGN.md §3.11):
 * the caller has paused every vCPU on every node, so no new fault starts;
 * what was in flight must end first.
 *
 * dsm_quiesce: rounds of QUIET_REQ to every peer. Each answers with its
 * requests outstanding, its busy directory entries, and the coherence
 * messages it has sent and received so far. The DSM is still when two
 * rounds in a row find nothing outstanding or busy, as many messages
 * received as sent, and the same totals: the answers of one round are not
 * taken at one instant, but nothing that moved between two rounds could
 * leave the totals unchanged.
 *
 * dsm_checksum: then every node sums a hash of each page it holds the valid
 * copy of (it owns it, MODIFIED, or homes it with no owner) and that is not
 * all zero. Each page is counted by exactly one node, so the sum is the same
 * wherever the pages are, which is what a test of eviction needs.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "cvmm/lib/le.h"
#include "cvmm/lib/log.h"
#include "dsm/engine.h"

#define QUERY_TIMEOUT_MS 60000 /* a checksum in an emulated node takes seconds */
#define QUIET_POLL_MS	 20

enum { Q_OUTSTANDING, Q_BUSY, Q_SENT, Q_RECEIVED, Q_FIELDS };

/* --- on every node's engine thread ----------------------------------------- */

static void quiet_local(struct dsm *d, void *arg)
{
	uint64_t *q = arg;

	memset(q, 0, Q_FIELDS * sizeof(*q));
	for (uint64_t i = 0; i < d->npages; i++) {
		const struct dsm_dir *dir = &d->proto.dir[i];

		q[Q_OUTSTANDING] += d->proto.page[i].req != DSM_REQ_NONE;
		if (d->home[i] == d->cfg.node)
			q[Q_BUSY] += dir->busy || dir->pend_read || dir->pend_write || dir->acks;
	}
	q[Q_SENT] = d->coh_sent;
	q[Q_RECEIVED] = d->coh_received;
}

/* Does this node hold the valid copy of page i that the checksum counts? */
static bool counts(const struct dsm *d, uint64_t i)
{
	return d->proto.page[i].state == DSM_MODIFIED ||
	       (d->home[i] == d->cfg.node && d->proto.dir[i].owner == DSM_NODE_NONE);
}

/*
 * The pages this node holds the valid copy of, hashed. Holes in the memfd are
 * zero (never written, or given as XFER_ZERO): they are skipped without being
 * read, which would allocate them. Runs on a thread of its own on a peer, on
 * the caller's on the coordinator: a guest's memory takes seconds to hash in
 * an emulated node, longer than peers wait for a sign of life.
 */
static void csum_local(struct dsm *d, uint64_t *q)
{
	static const uint8_t zero[DSM_PAGE_SIZE];
	off_t pos = 0, size = (off_t)d->cfg.size;

	q[0] = q[1] = 0;
	while (pos < size) {
		off_t data = lseek(d->cfg.memfd, pos, SEEK_DATA), hole;

		if (data < 0)
			break; /* ENXIO: no data after pos */
		hole = lseek(d->cfg.memfd, data, SEEK_HOLE);
		if (hole < 0 || hole > size)
			hole = size;
		for (uint64_t i = (uint64_t)data >> DSM_PAGE_SHIFT;
		     i < (uint64_t)(hole + DSM_PAGE_SIZE - 1) >> DSM_PAGE_SHIFT; i++) {
			const uint8_t *p = d->alias + (i << DSM_PAGE_SHIFT);

			if (!counts(d, i) || !memcmp(p, zero, DSM_PAGE_SIZE))
				continue;
			q[0] += XXH3_64bits_withSeed(p, DSM_PAGE_SIZE, i);
			q[1]++;
		}
		pos = hole;
	}
}

struct csum_job {
	struct dsm *d;
	unsigned peer;
	uint64_t round;
};

static void *csum_worker(void *arg);

static void reply(struct dsm *d, unsigned peer, uint8_t type, uint64_t round, const uint64_t *v,
		  unsigned n)
{
	uint8_t buf[8 + 8 * Q_FIELDS];

	put_le64(buf, round);
	for (unsigned i = 0; i < n; i++)
		put_le64(buf + 8 + 8 * i, v[i]);
	engine_send(d, peer, type, 0, 0, buf, 8 + 8 * n);
}

static void answer(struct dsm *d, unsigned peer, const struct dsm_msg *m, unsigned n)
{
	const uint8_t *p = m->payload;

	pthread_mutex_lock(&d->lock);
	if (get_le64(p) == d->query_round && !(d->query_replies & (1ull << peer))) {
		for (unsigned i = 0; i < n; i++)
			d->query_sum[i] += get_le64(p + 8 + 8 * i);
		d->query_replies |= 1ull << peer;
		pthread_cond_broadcast(&d->cond);
	}
	pthread_mutex_unlock(&d->lock);
}

static void *csum_worker(void *arg)
{
	struct csum_job *j = arg;
	uint64_t v[2];

	csum_local(j->d, v);
	reply(j->d, j->peer, DSM_MSG_CSUM_REPLY, j->round, v, 2);
	free(j);
	return NULL;
}

/* A peer asks for our part of the checksum: computed off the engine thread. */
static void start_csum(struct dsm *d, unsigned peer, uint64_t round)
{
	struct csum_job *j = malloc(sizeof(*j));

	quiesce_join(d); /* the previous one, long done */
	if (j)
		*j = (struct csum_job){ .d = d, .peer = peer, .round = round };
	if (!j || pthread_create(&d->csum_thread, NULL, csum_worker, j)) {
		pr_err("dsm: node %u: no thread to checksum for node %u", d->cfg.node, peer);
		free(j);
		return; /* the coordinator times out and says so */
	}
	d->csum_running = true;
}

void quiesce_join(struct dsm *d)
{
	if (d->csum_running)
		pthread_join(d->csum_thread, NULL);
	d->csum_running = false;
}

void quiesce_recv(struct dsm *d, unsigned peer, const struct dsm_msg *m)
{
	uint64_t round = get_le64(m->payload), v[Q_FIELDS];

	switch (m->type) {
	case DSM_MSG_QUIET_REQ:
		quiet_local(d, v);
		reply(d, peer, DSM_MSG_QUIET_REPLY, round, v, Q_FIELDS);
		break;
	case DSM_MSG_CSUM_REQ:
		start_csum(d, peer, round);
		break;
	case DSM_MSG_QUIET_REPLY:
		answer(d, peer, m, Q_FIELDS);
		break;
	case DSM_MSG_CSUM_REPLY:
		answer(d, peer, m, 2);
		break;
	}
}

/* --- the coordinator ---------------------------------------------------------- */

/* Peers that take part: connected, neither failed nor departed. */
static uint64_t live_peers(struct dsm *d)
{
	uint64_t mask = 0;

	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < d->cfg.nnodes; i++)
		if (engine_peer_live(d, i) && !(d->departed_mask & (1ull << i)))
			mask |= 1ull << i;
	pthread_mutex_unlock(&d->lock);
	return mask;
}

static void csum_call(struct dsm *d, void *arg)
{
	csum_local(d, arg); /* on the caller's thread: the DSM is quiesced */
}

/*
 * One round: every live peer's answer and ours, summed into sum[0..n). Under
 * query_lock. on_engine: our part runs on the engine thread (else here).
 */
static int query(struct dsm *d, uint8_t type, void (*local)(struct dsm *, void *), bool on_engine,
		 uint64_t *sum, unsigned n)
{
	uint64_t peers = live_peers(d), round, mine[Q_FIELDS];
	uint8_t buf[DSM_ROUND_LEN];
	struct timespec dl;
	int ret = 0;

	pthread_mutex_lock(&d->lock);
	round = ++d->query_round;
	d->query_replies = 0;
	memset(d->query_sum, 0, sizeof(d->query_sum));
	pthread_mutex_unlock(&d->lock);

	put_le64(buf, round);
	for (unsigned i = 0; i < d->cfg.nnodes && !ret; i++)
		if (peers & (1ull << i))
			ret = engine_send(d, i, type, 0, 0, buf, sizeof(buf));
	if (!ret && on_engine)
		ret = engine_call(d, local, mine);
	else if (!ret)
		local(d, mine);
	if (ret)
		return ret;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += QUERY_TIMEOUT_MS / 1000;
	pthread_mutex_lock(&d->lock);
	while ((d->query_replies & peers) != peers && !ret) {
		if (d->failed_mask & peers)
			ret = -ENOTCONN;
		else if (pthread_cond_timedwait(&d->cond, &d->lock, &dl) == ETIMEDOUT)
			ret = -ETIMEDOUT;
	}
	for (unsigned i = 0; i < n; i++)
		sum[i] = d->query_sum[i] + mine[i];
	pthread_mutex_unlock(&d->lock);
	return ret;
}

int dsm_quiesce(struct dsm *d, unsigned timeout_ms)
{
	uint64_t prev[Q_FIELDS] = { 0 }, q[Q_FIELDS];
	uint64_t deadline = dsm_now_ns() + timeout_ms * 1000000ull;
	bool have_prev = false;
	int ret;

	pthread_mutex_lock(&d->query_lock);
	for (;;) {
		ret = query(d, DSM_MSG_QUIET_REQ, quiet_local, true, q, Q_FIELDS);
		if (ret)
			break;
		if (!q[Q_OUTSTANDING] && !q[Q_BUSY] && q[Q_SENT] == q[Q_RECEIVED]) {
			if (have_prev && !memcmp(prev, q, sizeof(q)))
				break;
			memcpy(prev, q, sizeof(q));
			have_prev = true;
			continue;
		}
		have_prev = false;
		if (dsm_now_ns() >= deadline) {
			pr_err("dsm: node %u: not quiet after %u ms: %llu requests outstanding, "
			       "%llu directory entries busy, %llu of %llu messages delivered",
			       d->cfg.node, timeout_ms, (unsigned long long)q[Q_OUTSTANDING],
			       (unsigned long long)q[Q_BUSY], (unsigned long long)q[Q_RECEIVED],
			       (unsigned long long)q[Q_SENT]);
			ret = -ETIMEDOUT;
			break;
		}
		poll(NULL, 0, QUIET_POLL_MS);
	}
	pthread_mutex_unlock(&d->query_lock);
	return ret;
}

int dsm_checksum(struct dsm *d, uint64_t *sum, uint64_t *pages)
{
	uint64_t v[2];
	int ret;

	pthread_mutex_lock(&d->query_lock);
	ret = query(d, DSM_MSG_CSUM_REQ, csum_call, false, v, 2);
	pthread_mutex_unlock(&d->query_lock);
	if (ret)
		return ret;
	*sum = v[0];
	*pages = v[1];
	return 0;
}
