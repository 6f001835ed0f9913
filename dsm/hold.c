// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>

#include "dsm/hold.h"

struct dsm_held {
	struct dsm_held *next;
	unsigned peer;
	struct dsm_msg m; /* no payload */
	uint64_t due;
};

int dsm_hold_init(struct dsm_hold *h, uint64_t npages, uint64_t window_ns)
{
	*h = (struct dsm_hold){ .window_ns = window_ns, .npages = npages };
	if (!window_ns)
		return 0;
	h->t_mapped = calloc(npages, sizeof(*h->t_mapped));
	h->queued = calloc(npages, sizeof(*h->queued));
	if (!h->t_mapped || !h->queued) {
		dsm_hold_fini(h);
		return -ENOMEM;
	}
	return 0;
}

void dsm_hold_fini(struct dsm_hold *h)
{
	while (h->head) {
		struct dsm_held *x = h->head;

		h->head = x->next;
		free(x);
	}
	free(h->t_mapped);
	free(h->queued);
	*h = (struct dsm_hold){ 0 };
}

void dsm_hold_mapped(struct dsm_hold *h, uint64_t page, uint64_t now)
{
	if (h->window_ns && page < h->npages)
		h->t_mapped[page] = now;
}

static bool revokes(uint8_t type)
{
	return type == DSM_MSG_INV || type == DSM_MSG_FETCH || type == DSM_MSG_REQ_READ ||
	       type == DSM_MSG_REQ_WRITE;
}

bool dsm_hold_defer(struct dsm_hold *h, unsigned peer, const struct dsm_msg *m, uint64_t now)
{
	struct dsm_held *x;
	uint64_t due;

	if (!h->window_ns || !revokes(m->type) || m->len || m->page >= h->npages)
		return false;
	due = h->t_mapped[m->page] + h->window_ns;
	if (!h->queued[m->page] && (!h->t_mapped[m->page] || due <= now))
		return false;
	x = malloc(sizeof(*x));
	if (!x)
		return false; /* handled now: only slower, never wrong */
	*x = (struct dsm_held){ .peer = peer, .m = *m, .due = due > now ? due : now };
	x->m.payload = NULL;
	if (h->tail)
		h->tail->next = x;
	else
		h->head = x;
	h->tail = x;
	h->queued[m->page]++;
	h->held_total++;
	return true;
}

int dsm_hold_timeout_ms(const struct dsm_hold *h, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (const struct dsm_held *x = h->head; x; x = x->next)
		if (x->due < next)
			next = x->due;
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)((next - now + 999999) / 1000000);
}

/*
 * Messages for one page are queued in arrival order with non-decreasing due
 * times, so the first due message of the list is also its page's first.
 */
bool dsm_hold_pop(struct dsm_hold *h, uint64_t now, unsigned *peer, struct dsm_msg *m)
{
	struct dsm_held *prev = NULL;

	for (struct dsm_held *x = h->head; x; prev = x, x = x->next) {
		if (x->due > now)
			continue;
		if (prev)
			prev->next = x->next;
		else
			h->head = x->next;
		if (h->tail == x)
			h->tail = prev;
		*peer = x->peer;
		*m = x->m;
		h->queued[m->page]--;
		free(x);
		return true;
	}
	return false;
}
