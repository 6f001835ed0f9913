// SPDX-License-Identifier: GPL-2.0
/* cvmmctl's database: nodes, VCs and which node runs each VC node (SQLite in memory). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mgmt/ctl/db.h"

static int setup(void **state)
{
	struct ctl_db *db;
	char err[256];

	if (ctl_db_open(":memory:", &db, err, sizeof(err)))
		return -1;
	*state = db;
	return 0;
}

static int teardown(void **state)
{
	ctl_db_close(*state);
	return 0;
}

static void nodes(void **state)
{
	struct ctl_db *db = *state;
	struct ctl_node n, *list;
	unsigned int cnt;

	assert_int_equal(ctl_db_node_add(db, "b", "10.0.0.2:7480"), 0);
	assert_int_equal(ctl_db_node_add(db, "a", "10.0.0.1:7480"), 0);
	assert_int_equal(ctl_db_node_add(db, "a", "10.0.0.3:7480"), -EEXIST);
	assert_int_equal(ctl_db_node_add(db, "c", "10.0.0.1:7480"), -EEXIST);
	assert_int_equal(ctl_db_node_get(db, "a", &n), 0);
	assert_string_equal(n.addr, "10.0.0.1:7480");
	assert_int_equal(ctl_db_node_get(db, "zz", &n), -ENOENT);
	assert_int_equal(ctl_db_node_list(db, &list, &cnt), 0);
	assert_int_equal(cnt, 2);
	assert_string_equal(list[0].name, "a");
	assert_string_equal(list[1].name, "b");
	free(list);
	assert_int_equal(ctl_db_node_remove(db, "b"), 0);
	assert_int_equal(ctl_db_node_remove(db, "b"), -ENOENT);
}

static void vcs(void **state)
{
	static const char agents[2][CTL_NAME_LEN] = { "a", "b" };
	static const char unknown[2][CTL_NAME_LEN] = { "a", "nope" };
	struct ctl_db *db = *state;
	struct ctl_vc_rec rec;
	char(*names)[CTL_NAME_LEN];
	unsigned int cnt;

	assert_int_equal(ctl_db_node_add(db, "a", "10.0.0.1:7480"), 0);
	assert_int_equal(ctl_db_node_add(db, "b", "10.0.0.2:7480"), 0);
	assert_int_equal(ctl_db_vc_add(db, "demo", "{\"name\": \"demo\"}", agents, 2), 0);
	assert_int_equal(ctl_db_vc_add(db, "demo", "{}", agents, 2), -EEXIST);
	/* An unknown node leaves nothing behind. */
	assert_int_equal(ctl_db_vc_add(db, "other", "{}", unknown, 2), -ENOENT);
	assert_int_equal(ctl_db_vc_get(db, "other", &rec), -ENOENT);

	assert_int_equal(ctl_db_vc_get(db, "demo", &rec), 0);
	assert_string_equal(rec.json, "{\"name\": \"demo\"}");
	assert_int_equal(rec.nnodes, 2);
	assert_string_equal(rec.agent[0], "a");
	assert_string_equal(rec.agent[1], "b");
	assert_true(rec.created > 0);
	assert_int_equal(rec.member[1], CTL_MEMBER_START);
	ctl_vc_rec_free(&rec);

	/* Nodes that join and leave the running VC are recorded, until its next start. */
	assert_int_equal(ctl_db_vc_set_member(db, "demo", 1, CTL_MEMBER_JOINED), 0);
	assert_int_equal(ctl_db_vc_set_member(db, "demo", 1, CTL_MEMBER_LEFT), 0);
	assert_int_equal(ctl_db_vc_get(db, "demo", &rec), 0);
	assert_int_equal(rec.member[0], CTL_MEMBER_START);
	assert_int_equal(rec.member[1], CTL_MEMBER_LEFT);
	assert_true(rec.member_at[1] > 0);
	ctl_vc_rec_free(&rec);
	assert_int_equal(ctl_db_vc_reset_members(db, "demo"), 0);
	assert_int_equal(ctl_db_vc_get(db, "demo", &rec), 0);
	assert_int_equal(rec.member[1], CTL_MEMBER_START);
	ctl_vc_rec_free(&rec);
	assert_int_equal(ctl_db_vc_set_member(db, "demo", 1, CTL_MEMBER_LEFT), 0);

	/* A node a VC uses cannot be forgotten. */
	assert_int_equal(ctl_db_node_remove(db, "b"), -EBUSY);
	assert_int_equal(ctl_db_vc_list(db, &names, &cnt), 0);
	assert_int_equal(cnt, 1);
	assert_string_equal(names[0], "demo");
	free(names);
	assert_int_equal(ctl_db_vc_delete(db, "demo"), 0);
	assert_int_equal(ctl_db_vc_delete(db, "demo"), -ENOENT);
	assert_int_equal(ctl_db_node_remove(db, "b"), 0);
}

static void a_file_persists(void **state)
{
	char dir[] = "/tmp/test-ctl-db-XXXXXX", path[128], err[256];
	struct ctl_db *db;
	struct ctl_node n;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/dir/cvmmctl.db", dir);
	assert_int_equal(ctl_db_open(path, &db, err, sizeof(err)), 0);
	assert_int_equal(ctl_db_node_add(db, "a", "h:1"), 0);
	ctl_db_close(db);
	assert_int_equal(ctl_db_open(path, &db, err, sizeof(err)), 0);
	assert_int_equal(ctl_db_node_get(db, "a", &n), 0);
	ctl_db_close(db);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub/dir", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(vcs, setup, teardown),
		cmocka_unit_test(a_file_persists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
