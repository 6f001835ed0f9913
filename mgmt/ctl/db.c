// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mgmt/ctl/db.h"

struct ctl_db {
	sqlite3 *sql;
};

/*
 * The schema. user_version says which one a file has, so that a later
 * cvmmctl can migrate it; a file from a newer cvmmctl is refused.
 */
#define SCHEMA_VERSION 2
static const char schema[] = "PRAGMA foreign_keys = ON;"
			     "CREATE TABLE IF NOT EXISTS nodes ("
			     "  name TEXT PRIMARY KEY,"
			     "  addr TEXT NOT NULL UNIQUE);"
			     "CREATE TABLE IF NOT EXISTS vcs ("
			     "  name TEXT PRIMARY KEY,"
			     "  json TEXT NOT NULL,"
			     "  created INTEGER NOT NULL);"
			     "CREATE TABLE IF NOT EXISTS vc_nodes ("
			     "  vc TEXT NOT NULL REFERENCES vcs(name) ON DELETE CASCADE,"
			     "  idx INTEGER NOT NULL,"
			     "  node TEXT NOT NULL REFERENCES nodes(name),"
			     "  PRIMARY KEY (vc, idx));"
			     /* Version 2: which nodes joined or left the running VC. */
			     "CREATE TABLE IF NOT EXISTS vc_members ("
			     "  vc TEXT NOT NULL REFERENCES vcs(name) ON DELETE CASCADE,"
			     "  idx INTEGER NOT NULL,"
			     "  state TEXT NOT NULL,"
			     "  at INTEGER NOT NULL,"
			     "  PRIMARY KEY (vc, idx));"
			     "PRAGMA user_version = 2;";

const char *ctl_db_error(const struct ctl_db *db)
{
	return sqlite3_errmsg(db->sql);
}

static int mkdir_parents(const char *path)
{
	char buf[4096];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

static int exec_sql(struct ctl_db *db, const char *sql)
{
	return sqlite3_exec(db->sql, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

int ctl_db_open(const char *path, struct ctl_db **out, char *err, size_t errlen)
{
	struct ctl_db *db = calloc(1, sizeof(*db));
	sqlite3_stmt *st = NULL;
	int ret, version = 0;

	if (!db)
		return -ENOMEM;
	if (strcmp(path, ":memory:")) {
		ret = mkdir_parents(path);
		if (ret) {
			snprintf(err, errlen, "%s: cannot create its folder: %s", path,
				 strerror(-ret));
			free(db);
			return ret;
		}
	}
	if (sqlite3_open_v2(path, &db->sql, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK)
		goto fail;
	/* Two cvmmctl at once wait for each other rather than fail. */
	sqlite3_busy_timeout(db->sql, 5000);
	if (sqlite3_prepare_v2(db->sql, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		goto fail;
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (version > SCHEMA_VERSION) {
		snprintf(err, errlen, "%s: made by a newer cvmmctl (schema %d, this one knows %d)",
			 path, version, SCHEMA_VERSION);
		sqlite3_close(db->sql);
		free(db);
		return -EPROTO;
	}
	if (exec_sql(db, schema))
		goto fail;
	*out = db;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", path, db->sql ? sqlite3_errmsg(db->sql) : "out of memory");
	sqlite3_finalize(st);
	sqlite3_close(db->sql);
	free(db);
	return -EIO;
}

void ctl_db_close(struct ctl_db *db)
{
	if (!db)
		return;
	sqlite3_close(db->sql);
	free(db);
}

/* Prepares sql and binds the strings args[0..n-1] to its parameters. */
static int prepare(struct ctl_db *db, const char *sql, const char *const *args, int n,
		   sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db->sql, sql, -1, st, NULL) != SQLITE_OK)
		return -EIO;
	for (int i = 0; i < n; i++) {
		if (sqlite3_bind_text(*st, i + 1, args[i], -1, SQLITE_TRANSIENT) != SQLITE_OK) {
			sqlite3_finalize(*st);
			*st = NULL;
			return -EIO;
		}
	}
	return 0;
}

/* Runs a statement that returns no rows; -EEXIST on a constraint violation. */
static int run(struct ctl_db *db, const char *sql, const char *const *args, int n)
{
	sqlite3_stmt *st;
	int rc, ret = prepare(db, sql, args, n, &st);

	if (ret)
		return ret;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	return (rc & 0xff) == SQLITE_CONSTRAINT ? -EEXIST : -EIO;
}

int ctl_db_node_add(struct ctl_db *db, const char *name, const char *addr)
{
	const char *args[] = { name, addr };

	return run(db, "INSERT INTO nodes (name, addr) VALUES (?, ?)", args, 2);
}

int ctl_db_node_get(struct ctl_db *db, const char *name, struct ctl_node *n)
{
	sqlite3_stmt *st;
	int rc, ret = prepare(db, "SELECT name, addr FROM nodes WHERE name = ?", &name, 1, &st);

	if (ret)
		return ret;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(n->name, sizeof(n->name), "%s", sqlite3_column_text(st, 0));
		snprintf(n->addr, sizeof(n->addr), "%s", sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static int count(struct ctl_db *db, const char *sql, const char *arg, int *out)
{
	sqlite3_stmt *st;
	int ret = prepare(db, sql, &arg, 1, &st);

	if (ret)
		return ret;
	ret = sqlite3_step(st) == SQLITE_ROW ? 0 : -EIO;
	*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return ret;
}

int ctl_db_node_remove(struct ctl_db *db, const char *name)
{
	int used = 0, ret;

	ret = count(db, "SELECT COUNT(*) FROM vc_nodes WHERE node = ?", name, &used);
	if (ret)
		return ret;
	if (used)
		return -EBUSY;
	ret = run(db, "DELETE FROM nodes WHERE name = ?", &name, 1);
	if (!ret && !sqlite3_changes(db->sql))
		ret = -ENOENT;
	return ret;
}

int ctl_db_node_list(struct ctl_db *db, struct ctl_node **out, unsigned int *n)
{
	sqlite3_stmt *st;
	struct ctl_node *list = NULL;
	unsigned int cnt = 0;
	int rc, ret = prepare(db, "SELECT name, addr FROM nodes ORDER BY name", NULL, 0, &st);

	if (ret)
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ctl_node *more = realloc(list, (cnt + 1) * sizeof(*list));

		if (!more) {
			rc = SQLITE_NOMEM;
			break;
		}
		list = more;
		snprintf(list[cnt].name, sizeof(list[cnt].name), "%s", sqlite3_column_text(st, 0));
		snprintf(list[cnt].addr, sizeof(list[cnt].addr), "%s", sqlite3_column_text(st, 1));
		cnt++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(list);
		return rc == SQLITE_NOMEM ? -ENOMEM : -EIO;
	}
	*out = list;
	*n = cnt;
	return 0;
}

int ctl_db_vc_add(struct ctl_db *db, const char *name, const char *json,
		  const char (*agents)[CTL_NAME_LEN], unsigned int nnodes)
{
	char created[24], idx[16];
	const char *args[3] = { name, json, created };
	int ret;

	for (unsigned int i = 0; i < nnodes; i++) {
		struct ctl_node n;

		ret = ctl_db_node_get(db, agents[i], &n);
		if (ret)
			return ret;
	}
	snprintf(created, sizeof(created), "%lld", (long long)time(NULL));
	ret = exec_sql(db, "BEGIN IMMEDIATE");
	if (ret)
		return ret;
	ret = run(db, "INSERT INTO vcs (name, json, created) VALUES (?, ?, CAST(? AS INTEGER))",
		  args, 3);
	for (unsigned int i = 0; i < nnodes && !ret; i++) {
		const char *a[] = { name, idx, agents[i] };

		snprintf(idx, sizeof(idx), "%u", i);
		ret = run(db,
			  "INSERT INTO vc_nodes (vc, idx, node) VALUES (?, CAST(? AS INTEGER), ?)",
			  a, 3);
		if (ret == -EEXIST) /* a foreign key, not a duplicate: checked above, but raced */
			ret = -ENOENT;
	}
	if (ret) {
		exec_sql(db, "ROLLBACK");
		return ret;
	}
	return exec_sql(db, "COMMIT");
}

/* The nodes that joined or left, from vc_members. */
static int read_members(struct ctl_db *db, struct ctl_vc_rec *rec)
{
	const char *name = rec->name;
	sqlite3_stmt *st;
	int rc, ret = prepare(db, "SELECT idx, state, at FROM vc_members WHERE vc = ?", &name, 1,
			      &st);

	if (ret) {
		ctl_vc_rec_free(rec);
		return ret;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int idx = sqlite3_column_int(st, 0);
		const char *state = (const char *)sqlite3_column_text(st, 1);

		if (idx < 0 || idx >= VC_MAX_NODES || !state)
			continue;
		rec->member[idx] = !strcmp(state, "left") ? CTL_MEMBER_LEFT : CTL_MEMBER_JOINED;
		rec->member_at[idx] = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		ctl_vc_rec_free(rec);
		return -EIO;
	}
	return 0;
}

int ctl_db_vc_get(struct ctl_db *db, const char *name, struct ctl_vc_rec *rec)
{
	sqlite3_stmt *st;
	int rc, ret;

	memset(rec, 0, sizeof(*rec));
	ret = prepare(db, "SELECT name, json, created FROM vcs WHERE name = ?", &name, 1, &st);
	if (ret)
		return ret;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(rec->name, sizeof(rec->name), "%s", sqlite3_column_text(st, 0));
		rec->json = strdup((const char *)sqlite3_column_text(st, 1));
		rec->created = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? -ENOENT : -EIO;
	if (!rec->json)
		return -ENOMEM;
	ret = prepare(db, "SELECT idx, node FROM vc_nodes WHERE vc = ? ORDER BY idx", &name, 1,
		      &st);
	if (ret) {
		ctl_vc_rec_free(rec);
		return ret;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && rec->nnodes < VC_MAX_NODES)
		snprintf(rec->agent[rec->nnodes++], CTL_NAME_LEN, "%s", sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		ctl_vc_rec_free(rec);
		return -EIO;
	}
	return read_members(db, rec);
}

int ctl_db_vc_set_member(struct ctl_db *db, const char *name, unsigned int idx,
			 enum ctl_member state)
{
	char i[16], at[24];
	const char *args[] = { name, i, state == CTL_MEMBER_LEFT ? "left" : "joined", at };

	snprintf(i, sizeof(i), "%u", idx);
	snprintf(at, sizeof(at), "%lld", (long long)time(NULL));
	if (state == CTL_MEMBER_START)
		return run(db, "DELETE FROM vc_members WHERE vc = ? AND idx = CAST(? AS INTEGER)",
			   args, 2);
	return run(db,
		   "INSERT OR REPLACE INTO vc_members (vc, idx, state, at) "
		   "VALUES (?, CAST(? AS INTEGER), ?, CAST(? AS INTEGER))",
		   args, 4);
}

int ctl_db_vc_reset_members(struct ctl_db *db, const char *name)
{
	return run(db, "DELETE FROM vc_members WHERE vc = ?", &name, 1);
}

void ctl_vc_rec_free(struct ctl_vc_rec *rec)
{
	free(rec->json);
	rec->json = NULL;
}

int ctl_db_vc_list(struct ctl_db *db, char (**out)[CTL_NAME_LEN], unsigned int *n)
{
	sqlite3_stmt *st;
	char(*list)[CTL_NAME_LEN] = NULL;
	unsigned int cnt = 0;
	int rc, ret = prepare(db, "SELECT name FROM vcs ORDER BY name", NULL, 0, &st);

	if (ret)
		return ret;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char(*more)[CTL_NAME_LEN] = realloc(list, (cnt + 1) * sizeof(*list));

		if (!more) {
			rc = SQLITE_NOMEM;
			break;
		}
		list = more;
		snprintf(list[cnt++], CTL_NAME_LEN, "%s", sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(list);
		return rc == SQLITE_NOMEM ? -ENOMEM : -EIO;
	}
	*out = list;
	*n = cnt;
	return 0;
}

int ctl_db_vc_delete(struct ctl_db *db, const char *name)
{
	int ret = run(db, "DELETE FROM vcs WHERE name = ?", &name, 1);

	if (!ret && !sqlite3_changes(db->sql))
		ret = -ENOENT;
	return ret;
}
