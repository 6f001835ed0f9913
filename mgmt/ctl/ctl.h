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
/* A node's hand-over of its pages may take minutes; a checksum pauses the guest. */
#define CTL_LEAVE_TIMEOUT_S    3600
#define CTL_CHECKSUM_TIMEOUT_S 300

/* A defined VC: its record, its parsed description, the agent of each of its nodes. */
struct ctl_vc {
	struct ctl_vc_rec rec;
	struct vc vc;
	struct ctl_node agent[VC_MAX_NODES];
};

/* Reads VC `name` from the database; -errno after reporting why. */
int ctl_vc_load(struct ctl *c, const char *name, struct ctl_vc *v);
void ctl_vc_free(struct ctl_vc *v);

/* Asks node i's agent to run its part of the VC (desc: its description); prints it. */
int ctl_vc_start_node(struct ctl *c, const struct ctl_vc *v, json_t *desc, unsigned int i);

/*
 * Passes `command` to VC node i's monitor through its agent (POST
 * /v1/vc/monitor); each reply line goes to on_line (may be NULL) as it
 * comes, and the last one into last. 0 if it starts with "ok" or "acked";
 * -EPROTO if the node refused (last says why); -errno if the agent did not
 * answer or refused the request (err says why).
 */
int ctl_monitor(struct ctl *c, const struct ctl_vc *v, unsigned int i, const char *command,
		long timeout_s, void (*on_line)(void *arg, const char *line), void *arg, char *last,
		size_t lastlen, char *err, size_t errlen);

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

/* mgmt/ctl/cmd-vc-elastic.c: nodes that join and leave a running VC */
int ctl_cmd_vc_add_node(struct ctl *c, const struct ctl_args *a);
int ctl_cmd_vc_evict(struct ctl *c, const struct ctl_args *a);
int ctl_cmd_vc_checksum(struct ctl *c, const struct ctl_args *a);

/* mgmt/ctl/cmd-vc-show.c: what runs */
int ctl_cmd_vc_status(struct ctl *c, const struct ctl_args *a);
int ctl_cmd_vc_console(struct ctl *c, const struct ctl_args *a);

/* Prints a JSON value on stdout (-o json) and drops the reference. */
void ctl_print_json(json_t *j);

#endif
