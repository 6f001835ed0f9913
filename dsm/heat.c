// SPDX-License-Identifier: GPL-2.0
/*
 * Which pages fault most on this node (dsm/dsm.h, dsm_hot_pages): the
 * engine counts every local fault per page in d->heat; these read it, from
 * any thread, to show where the guest shares what it should not.
 */
#include "dsm/engine.h"

uint64_t dsm_npages(struct dsm *d)
{
	return d->npages;
}

uint64_t dsm_page_faults(struct dsm *d, uint64_t page)
{
	return page < d->npages ? __atomic_load_n(&d->heat[page], __ATOMIC_RELAXED) : 0;
}

/* Puts (page, faults) into out[0..*n) kept largest first, at most max long. */
static void keep_top(struct dsm_hot_page *out, unsigned int *n, unsigned int max, uint64_t page,
		     uint64_t faults)
{
	unsigned int i;

	if (*n == max) {
		if (out[max - 1].faults >= faults)
			return;
		i = max - 1; /* the last one drops out */
	} else {
		i = (*n)++;
	}
	for (; i > 0 && out[i - 1].faults < faults; i--)
		out[i] = out[i - 1];
	out[i] = (struct dsm_hot_page){ .page = page, .faults = faults };
}

unsigned int dsm_hot_pages(struct dsm *d, uint64_t *since, struct dsm_hot_page *out,
			   unsigned int max)
{
	unsigned int n = 0;

	for (uint64_t p = 0; p < d->npages; p++) {
		uint64_t now = __atomic_load_n(&d->heat[p], __ATOMIC_RELAXED);
		uint64_t f = since ? now - since[p] : now;

		if (since)
			since[p] = now;
		if (f && max)
			keep_top(out, &n, max, p, f);
	}
	return n;
}
