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
#include <string.h>

#include "cvmm/cluster-priv.h"
#include "cvmm/lib/clock.h"
#include "cvmm/lib/log.h"
#include "dsm/dsm.h"

int cluster__rehome(struct cluster *c, unsigned int to,
		    void (*progress)(void *arg, uint64_t done, uint64_t total), void *arg,
		    struct cluster_rehome_stats *st)
{
	struct dsm_handover_stats hs = { 0 };
	bool verify = st->verify;
	uint64_t t0, t1, first, count;
	int ret;

	*st = (struct cluster_rehome_stats){ .verify = verify };
	if (!c->vm || !c->dsm || to >= c->cfg.nnodes || to == c->cfg.node || !c->cfg.mem)
		return -EINVAL;
	first = c->cfg.mem[to].start / DSM_PAGE_SIZE;
	count = c->cfg.mem[to].size / DSM_PAGE_SIZE;
	if (!count)
		return -EINVAL;
	pthread_mutex_lock(&c->route_lock);
	ret = c->vm_nodes & (1ull << to) ? 0 : -ENOTCONN; /* not joined (yet), or left */
	pthread_mutex_unlock(&c->route_lock);
	if (ret)
		return ret;

	t0 = clock_now_ns();
	ret = cluster__pause_still(c, verify ? &st->sum_before : NULL, &st->pages_before);
	if (ret)
		return ret;
	t1 = clock_now_ns();
	ret = dsm_rehome(c->dsm, first, count, to, progress, arg, &hs);
	st->rehome_ns = clock_now_ns() - t1;
	st->pages = hs.pushed + hs.zero + hs.dir_only;
	st->pushed = hs.pushed;
	st->zero = hs.zero;
	if (ret == -EINVAL || ret == -ENOTCONN) { /* checked before anything moved */
		cluster__resume_all(c);
		return ret;
	}
	if (ret) {
		/* Some homes moved, some not: the guest's memory is split. */
		pr_err("node%u: giving node%u its homes failed; stopping the guest", c->cfg.node,
		       to);
		vm__request_stop(c->vm, VM_STOP_KVM);
		return ret;
	}
	if (verify) /* the others heard REHOME before this: links are FIFO */
		ret = dsm_checksum(c->dsm, &st->sum_after, &st->pages_after);
	if (ret)
		pr_err("node%u: checksum after giving node%u its homes: %s", c->cfg.node, to,
		       strerror(-ret));
	cluster__resume_all(c);
	st->paused_ns = clock_now_ns() - t0;
	pr_info("node%u: node%u homes its NUMA node's memory now: %llu pages (%llu pushed, %llu "
		"zero), guest paused %llu ms",
		c->cfg.node, to, (unsigned long long)st->pages, (unsigned long long)st->pushed,
		(unsigned long long)st->zero, (unsigned long long)st->paused_ns / 1000000);
	return ret;
}
