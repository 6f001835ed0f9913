// SPDX-License-Identifier: GPL-2.0
/*
 * cvmmctl vc evict and add-node: which node an argument names, the refusals
 * (I/O node, last node, a node not in the VC, add-node of a node that does
 * not join later), and the monitor's answers read into figures.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mgmt/ctl/elastic.h"

static const char three[] =
	"{ \"name\": \"e\", \"guest\": { \"kernel\": \"/k\" }, \"nodes\": ["
	"{ \"id\": 0, \"address\": \"10.0.0.1\", \"cpus\": [0], \"memory\": \"512M\" },"
	"{ \"id\": 1, \"address\": \"10.0.0.2\", \"cpus\": [1], \"memory\": \"512M\" },"
	"{ \"id\": 2, \"address\": \"10.0.0.3\", \"cpus\": [2], \"memory\": \"512M\","
	"  \"join\": \"later\" } ] }";
static const char one[] =
	"{ \"name\": \"solo\", \"guest\": { \"kernel\": \"/k\" }, \"nodes\": ["
	"{ \"id\": 0, \"address\": \"10.0.0.1\", \"cpus\": [0], \"memory\": \"512M\" } ] }";
static const char agents[VC_MAX_NODES][CTL_NAME_LEN] = { "n0", "n1", "n2" };

static struct vc vc;
static enum ctl_member member[VC_MAX_NODES];
static char err[512];

static void load(const char *json)
{
	assert_int_equal(vc_parse(json, &vc, err, sizeof(err)), 0);
	memset(member, 0, sizeof(member));
}

static void node_names(void **state)
{
	unsigned int i = 99;

	load(three);
	assert_int_equal(ctl_vc_node_find(&vc, agents, "1", &i, err, sizeof(err)), 0);
	assert_int_equal(i, 1);
	assert_int_equal(ctl_vc_node_find(&vc, agents, "node2", &i, err, sizeof(err)), 0);
	assert_int_equal(i, 2);
	assert_int_equal(ctl_vc_node_find(&vc, agents, "n0", &i, err, sizeof(err)), 0);
	assert_int_equal(i, 0);
	assert_int_equal(ctl_vc_node_find(&vc, agents, "3", &i, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "'3' is not a node of VC e (its nodes: 0 to 2"));
	assert_int_equal(ctl_vc_node_find(&vc, agents, "n7", &i, err, sizeof(err)), -ENOENT);
}

static void evict_refusals(void **state)
{
	unsigned int to = 99;

	load(three);
	/* Node 2 joins later: it is not there to leave. */
	assert_int_equal(ctl_evict_check(&vc, member, 2, -1, &to, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "has not joined VC e"));
	assert_int_equal(ctl_evict_check(&vc, member, 0, -1, &to, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "node 0 is the I/O node of VC e"));
	assert_int_equal(ctl_evict_check(&vc, member, 1, -1, &to, err, sizeof(err)), 0);
	assert_int_equal(to, 0); /* the default target: the I/O node */
	assert_int_equal(ctl_evict_check(&vc, member, 1, 1, &to, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "cannot leave to itself"));
	assert_int_equal(ctl_evict_check(&vc, member, 1, 2, &to, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "--to: node 2 does not run in VC e"));

	member[2] = CTL_MEMBER_JOINED;
	assert_int_equal(ctl_evict_check(&vc, member, 1, 2, &to, err, sizeof(err)), 0);
	assert_int_equal(to, 2);
	member[1] = CTL_MEMBER_LEFT;
	assert_int_equal(ctl_evict_check(&vc, member, 1, -1, &to, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "node 1 already left VC e"));
	assert_int_equal(ctl_evict_check(&vc, member, 2, 1, &to, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "--to: node 1 does not run"));

	load(one);
	assert_int_equal(ctl_evict_check(&vc, member, 0, -1, &to, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "node 0 is the last node of VC solo"));
}

static void add_node_refusals(void **state)
{
	load(three);
	assert_int_equal(ctl_add_node_check(&vc, member, 1, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "node 1 of VC e is not marked \"join\": \"later\""));
	assert_int_equal(ctl_add_node_check(&vc, member, 2, err, sizeof(err)), 0);
	member[2] = CTL_MEMBER_JOINED;
	assert_int_equal(ctl_add_node_check(&vc, member, 2, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "already joined"));
	member[2] = CTL_MEMBER_LEFT;
	assert_int_equal(ctl_add_node_check(&vc, member, 2, err, sizeof(err)), -EPERM);
	assert_false(ctl_node_present(&vc, member, 2));
}

static void answers(void **state)
{
	struct ctl_leave_result r;
	struct ctl_rehome_result rh;
	uint64_t d, t, pages, paused;
	double rate;
	char hex[40], text[256];

	assert_int_equal(ctl_parse_progress("progress pages 300/1200 512/s", &d, &t, &rate), 0);
	assert_int_equal(d, 300);
	assert_int_equal(t, 1200);
	assert_true(rate == 512.0);
	assert_int_equal(ctl_parse_progress("ok left to node0", &d, &t, &rate), -EINVAL);
	ctl_progress_text(300, 1200, 512, 8, text, sizeof(text));
	assert_string_equal(text, "[##......] 300/1200 pages  25% 512 pages/s");
	ctl_progress_text(0, 0, 0, 4, text, sizeof(text));
	assert_string_equal(text, "[####] 0/0 pages 100% 0 pages/s");

	assert_int_equal(ctl_parse_leave("ok left to node0 vcpus 1 pages 4242 pushed 4000 zero 242 "
					 "handover_ms 812 paused_ms 900 max_move_us 3100 checksum "
					 "00ab/77 before 00ab/77 after",
					 &r),
			 0);
	assert_int_equal(r.to, 0);
	assert_int_equal(r.vcpus, 1);
	assert_int_equal(r.pages, 4242);
	assert_true(r.has_pushed);
	assert_int_equal(r.pushed, 4000);
	assert_int_equal(r.zero, 242);
	assert_int_equal(r.handover_ms, 812);
	assert_int_equal(r.paused_ms, 900);
	assert_int_equal(r.max_move_us, 3100);
	assert_true(r.verified);
	assert_string_equal(r.before, "00ab/77");
	assert_string_equal(r.after, "00ab/77");
	assert_int_equal(ctl_parse_leave("ok left to node2 vcpus 0 pages 5 handover_ms 1 "
					 "paused_ms 2 max_move_us 0",
					 &r),
			 0);
	assert_int_equal(r.to, 2);
	assert_false(r.verified);
	assert_false(r.has_pushed);
	assert_int_equal(ctl_parse_leave("error node0 hosts the devices", &r), -EINVAL);

	assert_int_equal(ctl_parse_rehome("ok rehomed to node2 pages 131072 pushed 12 zero 131000 "
					  "rehome_ms 5003 paused_ms 5100 checksum 00cd/9 before "
					  "00cd/9 after",
					  &rh),
			 0);
	assert_int_equal(rh.to, 2);
	assert_int_equal(rh.pages, 131072);
	assert_int_equal(rh.pushed, 12);
	assert_int_equal(rh.zero, 131000);
	assert_int_equal(rh.rehome_ms, 5003);
	assert_int_equal(rh.paused_ms, 5100);
	assert_true(rh.verified);
	assert_string_equal(rh.before, "00cd/9");
	assert_int_equal(ctl_parse_rehome("ok rehomed to node1 pages 0 pushed 0 zero 0 rehome_ms 1 "
					  "paused_ms 9",
					  &rh),
			 0);
	assert_false(rh.verified);
	assert_int_equal(ctl_parse_rehome("ok rehomed to node1 pages 3", &rh), -EINVAL);
	assert_int_equal(ctl_parse_rehome("error node1 has not joined", &rh), -EINVAL);

	assert_int_equal(ctl_parse_checksum("ok checksum 1f2e pages 99 paused_ms 7", hex,
					    sizeof(hex), &pages, &paused),
			 0);
	assert_string_equal(hex, "1f2e");
	assert_int_equal(pages, 99);
	assert_int_equal(paused, 7);
	assert_int_equal(ctl_parse_checksum("error busy", hex, sizeof(hex), &pages, &paused),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(node_names),
		cmocka_unit_test(evict_refusals),
		cmocka_unit_test(add_node_refusals),
		cmocka_unit_test(answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
