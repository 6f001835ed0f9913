// SPDX-License-Identifier: GPL-2.0
/*
 * Rebalancing onto a node that joined (hot-add, DESIGN.md §3.10): while
 * node N was absent, another node (the boot node) homed N's NUMA node's
 * memory. Run on that node, H, cluster__rehome(c, N) gives N the homes of
 * that memory:
 *   1. every vCPU of every node pauses (cvmm/cluster-pause.c) and the DSM
 *      quiesces;
 *   2. the DSM gives N the pages of N's range that H homes, with their
 *      directory entries and the contents N needs (dsm_rehome), and every
 *      node learns their new home; H drops its copies;
 *   3. every vCPU resumes. The guest's NUMA node N is then homed where its
 *      CPUs run, as if N had been there from the start.
 */
#include <errno.h>
#include <stdio.h>

#include "cvmm/cluster-priv.h"
#include "cvmm/lib/log.h"
#include "dsm/dsm.h"

struct rehome_step {
	uint64_t first, count;
	unsigned int to;
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *arg;
	struct dsm_handover_stats hs;
};

static int rehome_step(struct cluster *c, void *arg, bool *moved)
{
	struct rehome_step *r = arg;
	int ret = dsm_rehome(c->dsm, r->first, r->count, r->to, r->progress, r->arg, &r->hs);

	*moved = r->hs.started;
	return ret;
}

int cluster__rehome(struct cluster *c, unsigned int to,
		    void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg,
		    struct cluster_rehome_stats *st)
{
	struct rehome_step r = { .to = to, .progress = progress, .arg = arg };
	char what[64];
	int ret;

	*st = (struct cluster_rehome_stats){ .step.verify = st->step.verify };
	if (!c->vm || !c->dsm || to >= c->cfg.nnodes || to == c->cfg.node || !c->cfg.mem)
		return -EINVAL;
	r.first = c->cfg.mem[to].start / DSM_PAGE_SIZE;
	r.count = c->cfg.mem[to].size / DSM_PAGE_SIZE;
	if (!r.count)
		return -EINVAL;
	pthread_mutex_lock(&c->route_lock);
	ret = c->vm_nodes & (1ull << to) ? 0 : -ENOTCONN; /* not joined (yet), or left */
	pthread_mutex_unlock(&c->route_lock);
	if (ret)
		return ret;

	snprintf(what, sizeof(what), "giving node%u its homes", to);
	ret = cluster__paused_step(c, what, rehome_step, &r, &st->step);
	st->pages = r.hs.pushed + r.hs.zero + r.hs.dir_only;
	st->pushed = r.hs.pushed;
	st->zero = r.hs.zero;
	if (!ret)
		pr_info("node%u: node%u homes its NUMA node's memory now: %llu pages (%llu "
			"pushed, %llu zero), guest paused %llu ms",
			c->cfg.node, to, (unsigned long long)st->pages,
			(unsigned long long)st->pushed, (unsigned long long)st->zero,
			(unsigned long long)st->step.paused_ns / 1000000);
	return ret;
}
