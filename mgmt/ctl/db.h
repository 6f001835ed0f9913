/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cvmmctl's state on the management host, in an SQLite database: the node
 * agents it knows (name and control address) and the virtual computers
 * defined on them (the description as given, and which agent runs each of
 * its nodes).
 *
 * Every function returns 0 or a negative errno; -EIO means SQLite failed and
 * ctl_db_error() says how.
 */
#ifndef CVMM_MGMT_CTL_DB_H
#define CVMM_MGMT_CTL_DB_H

#include <stddef.h>

#include "mgmt/vc/vc.h"

#define CTL_NAME_LEN 64
#define CTL_ADDR_LEN 128

struct ctl_db;

struct ctl_node {
	char name[CTL_NAME_LEN];
	char addr[CTL_ADDR_LEN]; /* the agent's control address, HOST:PORT */
};

/* How a node of a running VC stands against its description. */
enum ctl_member {
	CTL_MEMBER_START,  /* as described: there from the start, or not yet joined */
	CTL_MEMBER_JOINED, /* joined the running VC (cvmmctl vc add-node) */
	CTL_MEMBER_LEFT,   /* left it (cvmmctl vc evict) */
};

struct ctl_vc_rec {
	char name[CTL_NAME_LEN];
	char *json; /* the description as given (malloc'd) */
	long long created;
	unsigned int nnodes;
	char agent[VC_MAX_NODES][CTL_NAME_LEN]; /* the node running VC node i */
	enum ctl_member member[VC_MAX_NODES];
	long long member_at[VC_MAX_NODES]; /* when it joined or left */
};

/* Opens (creating it, and its folder, if missing) the database at path. ":memory:" works. */
int ctl_db_open(const char *path, struct ctl_db **db, char *err, size_t errlen);
void ctl_db_close(struct ctl_db *db);
const char *ctl_db_error(const struct ctl_db *db);

/* -EEXIST: the name or the address is taken. */
int ctl_db_node_add(struct ctl_db *db, const char *name, const char *addr);
/* -ENOENT: unknown; -EBUSY: a defined VC uses it. */
int ctl_db_node_remove(struct ctl_db *db, const char *name);
int ctl_db_node_get(struct ctl_db *db, const char *name, struct ctl_node *n);
/* All nodes by name, in *out (malloc'd; the caller frees). */
int ctl_db_node_list(struct ctl_db *db, struct ctl_node **out, unsigned int *n);

/* -EEXIST: the name is taken; -ENOENT: an agent name is unknown. */
int ctl_db_vc_add(struct ctl_db *db, const char *name, const char *json,
		  const char (*agents)[CTL_NAME_LEN], unsigned int nnodes);
int ctl_db_vc_get(struct ctl_db *db, const char *name, struct ctl_vc_rec *rec);
void ctl_vc_rec_free(struct ctl_vc_rec *rec);
/* Names of all VCs, in *out (malloc'd). */
int ctl_db_vc_list(struct ctl_db *db, char (**out)[CTL_NAME_LEN], unsigned int *n);
int ctl_db_vc_delete(struct ctl_db *db, const char *name);
/* Records that VC node idx joined or left (CTL_MEMBER_START forgets it). */
int ctl_db_vc_set_member(struct ctl_db *db, const char *name, unsigned int idx,
			 enum ctl_member state);
/* Forgets every join and leave of VC name (a new start). */
int ctl_db_vc_reset_members(struct ctl_db *db, const char *name);

#endif
