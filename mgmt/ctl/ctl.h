/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cvmmctl: the management host's command (docs/man/cvmmctl.md). Each command
 * is a function of this context and its parsed arguments, returning the exit
 * status; the table of commands is in cvmmctl.c.
 */
#ifndef CVMM_MGMT_CTL_CTL_H
#define CVMM_MGMT_CTL_CTL_H

#include <jansson.h>
#include <stdbool.h>

#include "mgmt/auth.h"
#include "mgmt/ctl/args.h"
#include "mgmt/ctl/db.h"

enum ctl_exit {
	CTL_OK = 0,
	CTL_FAILED = 1,		 /* the command failed; the message says why */
	CTL_USAGE = 2,		 /* bad command line */
	CTL_NOT_IMPLEMENTED = 3, /* the command exists but this version cannot do it */
};

struct ctl {
	struct ctl_db *db;
	struct auth_key key; /* the cluster secret, for commands that talk to agents */
	bool json;	     /* -o json */
};

/* Time limits of agent requests: most answer at once; a stop waits for the node. */
#define CTL_TIMEOUT_S	   10
#define CTL_STOP_TIMEOUT_S 20

/* A defined VC: its record, its parsed description, the agent of each of its nodes. */
struct ctl_vc {
	struct ctl_vc_rec rec;
	struct vc vc;
	struct ctl_node agent[VC_MAX_NODES];
};

/* Reads VC `name` from the database; -errno after reporting why. */
int ctl_vc_load(struct ctl *c, const char *name, struct ctl_vc *v);
void ctl_vc_free(struct ctl_vc *v);

/* mgmt/ctl/cmd-node.c */
int ctl_cmd_nodes(struct ctl *c, const struct ctl_args *a);
int ctl_cmd_node_add(struct ctl *c, const struct ctl_args *a);
int ctl_cmd_node_remove(struct ctl *c, const struct ctl_args *a);

/* mgmt/ctl/cmd-vc.c: definitions and lifecycle */
int ctl_cmd_vc_create(struct ctl *c, const struct ctl_args *a);
int ctl_cmd_vc_list(struct ctl *c, const struct ctl_args *a);
int ctl_cmd_vc_delete(struct ctl *c, const struct ctl_args *a);
int ctl_cmd_vc_start(struct ctl *c, const struct ctl_args *a);
int ctl_cmd_vc_stop(struct ctl *c, const struct ctl_args *a);
int ctl_cmd_vc_add_node(struct ctl *c, const struct ctl_args *a);
int ctl_cmd_vc_evict(struct ctl *c, const struct ctl_args *a);

/* mgmt/ctl/cmd-vc-show.c: what runs */
int ctl_cmd_vc_status(struct ctl *c, const struct ctl_args *a);
int ctl_cmd_vc_console(struct ctl *c, const struct ctl_args *a);

/* Prints a JSON value on stdout (-o json) and drops the reference. */
void ctl_print_json(json_t *j);

#endif
