// SPDX-License-Identifier: GPL-2.0
/*
 * Which pages fault most on this node (dsm/dsm.h, dsm_hot_pages): the
 * engine counts every local fault per page in d->heat; these read it, from
 * any thread, to show where the guest shares what it should not.
 *
 * The periodic list (dsm_hot_pages_period, the live statistics file's, once
 * a second) must not scan every page: that is 262,144 pages per GiB of guest
 * memory, and took a fifth of an emulated node's CPU. So, once the reader has
 * asked a first time, each fault also notes its page, once per period, in
 * d->warm with the page's count before the period, and the period's list is
 * made from those pages alone.
 */
#include <stdlib.h>

#include "dsm/engine.h"

uint64_t dsm_npages(struct dsm *d)
{
	return d->npages;
}

uint64_t dsm_page_faults(struct dsm *d, uint64_t page)
{
	return page < d->npages ? __atomic_load_n(&d->heat[page], __ATOMIC_RELAXED) : 0;
}

void heat_note(struct dsm *d, uint64_t page)
{
	pthread_mutex_lock(&d->warm_lock);
	if (d->warm_on && !d->warm_mark[page]) {
		struct dsm_warm *w = engine_grow(d->warm, d->nwarm, &d->warm_cap, sizeof(*w), 256);

		if (w) { /* else the page is left out of this period's list */
			d->warm = w;
			d->warm[d->nwarm++] =
				(struct dsm_warm){ .page = page, .base = d->heat[page] };
			d->warm_mark[page] = 1;
		}
	}
	stat_add(&d->heat[page], 1);
	pthread_mutex_unlock(&d->warm_lock);
}

/* a comes before b in a hot list: more faults, or as many and a lower page. */
static bool hotter(uint64_t a_faults, uint64_t a_page, const struct dsm_hot_page *b)
{
	return a_faults > b->faults || (a_faults == b->faults && a_page < b->page);
}

/* Puts (page, faults) into out[0..*n) kept hottest first, at most max long. */
static void keep_top(struct dsm_hot_page *out, unsigned int *n, unsigned int max, uint64_t page,
		     uint64_t faults)
{
	unsigned int i;

	if (*n == max) {
		if (!hotter(faults, page, &out[max - 1]))
			return;
		i = max - 1; /* the last one drops out */
	} else {
		i = (*n)++;
	}
	for (; i > 0 && hotter(faults, page, &out[i - 1]); i--)
		out[i] = out[i - 1];
	out[i] = (struct dsm_hot_page){ .page = page, .faults = faults };
}

unsigned int dsm_hot_pages(struct dsm *d, struct dsm_hot_page *out, unsigned int max)
{
	unsigned int n = 0;

	for (uint64_t p = 0; max && p < d->npages; p++) {
		uint64_t f = __atomic_load_n(&d->heat[p], __ATOMIC_RELAXED);

		if (f)
			keep_top(out, &n, max, p, f);
	}
	return n;
}

unsigned int dsm_hot_pages_period(struct dsm *d, struct dsm_hot_page *out, unsigned int max)
{
	unsigned int n = 0;

	pthread_mutex_lock(&d->warm_lock);
	if (!d->warm_on) {
		/*
		 * The first period is since the start: one scan, and faults are
		 * noted from now on. Until a reader asks, nothing is noted, so a
		 * node without one keeps no list.
		 */
		n = dsm_hot_pages(d, out, max);
		d->warm_on = true;
		pthread_mutex_unlock(&d->warm_lock);
		return n;
	}
	for (uint64_t i = 0; i < d->nwarm; i++) {
		const struct dsm_warm *w = &d->warm[i];

		if (max)
			keep_top(out, &n, max, w->page, d->heat[w->page] - w->base);
		d->warm_mark[w->page] = 0;
	}
	d->nwarm = 0;
	pthread_mutex_unlock(&d->warm_lock);
	return n;
}
