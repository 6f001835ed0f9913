// SPDX-License-Identifier: GPL-2.0
/* The residency window: what is held, for how long, and in which order it comes back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dsm/hold.h"

#define MS 1000000ull

static struct dsm_msg msg(uint8_t type, uint64_t page)
{
	return (struct dsm_msg){ .type = type, .page = page };
}

static void only_recent_pages_and_revoking_messages_are_held(void **state)
{
	struct dsm_hold h;
	struct dsm_msg m;

	assert_int_equal(dsm_hold_init(&h, 16, 2 * MS), 0);
	m = msg(DSM_MSG_FETCH, 3);
	assert_false(dsm_hold_defer(&h, 1, &m, 100 * MS)); /* never mapped here */
	dsm_hold_mapped(&h, 3, 100 * MS);
	assert_true(dsm_hold_defer(&h, 1, &m, 101 * MS)); /* 1 ms after: held */
	m = msg(DSM_MSG_INV_ACK, 3);
	assert_false(dsm_hold_defer(&h, 1, &m, 101 * MS)); /* not a revoking message */
	m = msg(DSM_MSG_GRANT_READ, 3);
	m.len = 4096;
	assert_false(dsm_hold_defer(&h, 1, &m, 101 * MS)); /* carries a page */
	m = msg(DSM_MSG_INV, 4);
	dsm_hold_mapped(&h, 4, 90 * MS);
	assert_false(dsm_hold_defer(&h, 2, &m, 101 * MS)); /* window over */
	assert_int_equal(h.held_total, 1);
	dsm_hold_fini(&h);
}

static void held_messages_come_back_when_due_in_order(void **state)
{
	struct dsm_hold h;
	struct dsm_msg m, out;
	unsigned peer;

	assert_int_equal(dsm_hold_init(&h, 16, 2 * MS), 0);
	dsm_hold_mapped(&h, 5, 100 * MS);
	dsm_hold_mapped(&h, 6, 101 * MS);
	m = msg(DSM_MSG_REQ_WRITE, 5);
	assert_true(dsm_hold_defer(&h, 1, &m, 100 * MS));
	m = msg(DSM_MSG_FETCH, 6);
	assert_true(dsm_hold_defer(&h, 2, &m, 101 * MS));
	/* Page 5 has a message held: the next one for it waits behind, even past the window. */
	m = msg(DSM_MSG_REQ_READ, 5);
	assert_true(dsm_hold_defer(&h, 3, &m, 101 * MS));
	assert_int_equal(dsm_hold_timeout_ms(&h, 101 * MS), 1);

	assert_false(dsm_hold_pop(&h, 101 * MS, &peer, &out));
	assert_true(dsm_hold_pop(&h, 102 * MS, &peer, &out));
	assert_int_equal(peer, 1);
	assert_int_equal(out.type, DSM_MSG_REQ_WRITE);
	assert_true(dsm_hold_pop(&h, 102 * MS, &peer, &out));
	assert_int_equal(peer, 3);
	assert_int_equal(out.type, DSM_MSG_REQ_READ);
	assert_false(dsm_hold_pop(&h, 102 * MS, &peer, &out)); /* page 6: due at 103 ms */
	assert_true(dsm_hold_pop(&h, 103 * MS, &peer, &out));
	assert_int_equal(peer, 2);
	assert_int_equal(out.page, 6);
	assert_int_equal(dsm_hold_timeout_ms(&h, 103 * MS), -1);
	/* Nothing held for page 5 any more, and its window is over. */
	m = msg(DSM_MSG_INV, 5);
	assert_false(dsm_hold_defer(&h, 1, &m, 103 * MS));
	dsm_hold_fini(&h);
}

static void no_window_holds_nothing(void **state)
{
	struct dsm_hold h;
	struct dsm_msg m = msg(DSM_MSG_FETCH, 1);

	assert_int_equal(dsm_hold_init(&h, 4, 0), 0);
	dsm_hold_mapped(&h, 1, 10 * MS);
	assert_false(dsm_hold_defer(&h, 1, &m, 10 * MS));
	assert_int_equal(dsm_hold_timeout_ms(&h, 10 * MS), -1);
	dsm_hold_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(only_recent_pages_and_revoking_messages_are_held),
		cmocka_unit_test(held_messages_come_back_when_due_in_order),
		cmocka_unit_test(no_window_holds_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
