// SPDX-License-Identifier: GPL-2.0
/*
 * cvmmctl - define virtual computers and run them through the node agents
 * (docs/man/cvmmctl.md). This file holds the command table and dispatches.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmm/lib/log.h"
#include "mgmt/ctl/client.h"
#include "mgmt/ctl/ctl.h"

static const struct ctl_cmd commands[] = {
	{ "nodes", "", 0, CTL_READ | CTL_AGENTS, "list the known nodes with their inventory",
	  "Asks every known node's agent for its inventory: CPUs, memory, whether KVM is\n"
	  "hardware-backed or emulated, RDMA devices, interfaces, and the VC it runs.\n"
	  "Exit status 1 if an agent did not answer (the others are still listed).\n",
	  ctl_cmd_nodes },
	{ "node add", "NAME HOST:PORT", 2, 0, "register a node's agent",
	  "Registers the agent of node NAME at HOST:PORT (its `cvmm agent --listen`\n"
	  "address). Nothing is sent to it.\n",
	  ctl_cmd_node_add },
	{ "node remove", "NAME", 1, 0, "forget a node",
	  "Forgets node NAME. A node that a defined VC uses is refused.\n", ctl_cmd_node_remove },
	{ "vc create", "FILE", 1, CTL_OPT_ON, "define a VC from a JSON description",
	  "Checks the description in FILE (docs/vc.md) and stores it. Each of its nodes\n"
	  "is run by the known node whose agent is at the node's address, or, with\n"
	  "--on NODE,NODE,..., by the nodes named, in node id order.\n",
	  ctl_cmd_vc_create },
	{ "vc list", "", 0, CTL_READ, "list the defined VCs", "Lists the defined VCs.\n",
	  ctl_cmd_vc_list },
	{ "vc delete", "NAME", 1, 0, "forget a VC's definition",
	  "Deletes VC NAME's definition. Its agents are not told: stop it first.\n",
	  ctl_cmd_vc_delete },
	{ "vc start", "NAME", 1, CTL_AGENTS, "start a VC on its nodes",
	  "Asks each node's agent to run its part (cvmm node): the memory nodes first,\n"
	  "the I/O node, which boots the guest, last. If a node refuses (it already\n"
	  "runs a VC, or the description does not suit it), the nodes already started\n"
	  "are stopped again and the command fails, naming the node and the reason.\n",
	  ctl_cmd_vc_start },
	{ "vc status", "NAME", 1, CTL_READ | CTL_AGENTS, "show where a VC runs and how",
	  "Shows, per node: the agent, the state of its part (running, exited, stopped,\n"
	  "busy with another VC, unreachable), its exit status, the vCPUs placed on it,\n"
	  "the pages it homes and owns, and its fault rate; then each node's error\n"
	  "messages and DSM statistics. -o json adds the vCPU -> node placement.\n",
	  ctl_cmd_vc_status },
	{ "vc console", "NAME", 1, CTL_AGENTS, "follow the output of a VC's I/O node",
	  "Prints the I/O node's output (the guest console and cvmm node's messages)\n"
	  "from the start, and follows it until that node's process ends; Ctrl-C\n"
	  "detaches. Read-only: input is not forwarded to the guest yet.\n",
	  ctl_cmd_vc_console },
	{ "vc stop", "NAME", 1, CTL_AGENTS, "stop a VC and release its nodes",
	  "Asks each node's agent to stop its part, the I/O node first, and to release\n"
	  "the node, which may then run another VC.\n",
	  ctl_cmd_vc_stop },
	{ "vc add-node", "NAME NODE", 2, CTL_AGENTS | CTL_OPT_REBALANCE,
	  "add a node to a running VC",
	  "NODE (its id, nodeN, or its agent's name) must be a node of the VC's\n"
	  "description marked \"join\": \"later\" that does not run yet. Starts its part\n"
	  "through its agent, waits (up to 5 min) until the boot node reaches it\n"
	  "(rtt), then tells the guest (node-join on the boot node) and waits for its\n"
	  "answer: the guest brings the node's CPUs online. With --rebalance, the\n"
	  "node then takes the homes of its NUMA node's memory from the boot node,\n"
	  "which served it meanwhile (the guest paused; progress shown, and the guest\n"
	  "memory's checksum before and after, which must be equal). Exit status 1\n"
	  "if the node is not one that joins later, has joined, or does not come.\n",
	  ctl_cmd_vc_add_node },
	{ "vc evict", "NAME NODE", 2, CTL_AGENTS | CTL_OPT_TO | CTL_OPT_OFFLINE,
	  "move a node's vCPUs and pages elsewhere; it leaves",
	  "NODE leaves the running VC: its vCPUs move to --to NODE (default: the I/O\n"
	  "node), every page it homes or owns is handed over while the guest is\n"
	  "paused, and its cvmm node exits. The guest is told first and must\n"
	  "acknowledge: it keeps the node's CPUs, multiplexed on the target\n"
	  "(node-leave-keep), or with --offline-cpus takes them offline\n"
	  "(node-leave). A progress bar shows the pages moved and the rate; then\n"
	  "the pages, the pause, and the guest memory's checksum before and after\n"
	  "the hand-over, which must be equal (exit status 1 if not). The I/O node\n"
	  "and the last node cannot be evicted (exit status 1).\n",
	  ctl_cmd_vc_evict },
	{ "vc checksum", "NAME", 1, CTL_READ | CTL_AGENTS, "checksum a running VC's guest memory",
	  "Asks the I/O node for the checksum of the guest's memory (XXH3-64 over\n"
	  "every non-zero page, wherever it is): every vCPU of every node pauses while\n"
	  "it is taken. The same memory gives the same checksum whichever node holds\n"
	  "which page.\n",
	  ctl_cmd_vc_checksum },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: cvmmctl [OPTIONS] COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		char head[64];

		snprintf(head, sizeof(head), "%s %s", commands[i].name, commands[i].params);
		fprintf(f, "  %-26s %s\n", head, commands[i].summary);
	}
	fprintf(f, "\noptions (before or after the command):\n"
		   "  --db PATH           the database (default ~/.local/share/cvmm/cvmmctl.db)\n"
		   "  --secret-file FILE  the cluster secret (default $CVMM_SECRET_FILE)\n"
		   "  -o json|text        output of read commands (nodes, vc list, vc status,\n"
		   "                      vc checksum)\n"
		   "  -h, --help          this text, or a command's: cvmmctl vc start --help\n"
		   "\nexit status: 0 done, 1 failed or refused, 2 usage\n");
}

static void command_help(const struct ctl_cmd *cmd)
{
	printf("usage: cvmmctl %s%s%s%s%s%s%s%s\n\n%s", cmd->name, cmd->params[0] ? " " : "",
	       cmd->params, cmd->flags & CTL_OPT_ON ? " [--on NODE,NODE,...]" : "",
	       cmd->flags & CTL_OPT_TO ? " [--to NODE]" : "",
	       cmd->flags & CTL_OPT_OFFLINE ? " [--offline-cpus]" : "",
	       cmd->flags & CTL_OPT_REBALANCE ? " [--rebalance]" : "",
	       cmd->flags & CTL_READ ? " [-o json]" : "", cmd->help);
	if (cmd->flags & CTL_AGENTS)
		printf("\nTalks to the agents: needs the cluster secret (--secret-file or "
		       "CVMM_SECRET_FILE).\n");
}

void ctl_print_json(json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(j);
}

static int default_db(char *buf, size_t len)
{
	const char *data = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

	if (data && data[0])
		return snprintf(buf, len, "%s/cvmm/cvmmctl.db", data) < (int)len ? 0
										 : -ENAMETOOLONG;
	if (!home || !home[0])
		return -ENOENT;
	return snprintf(buf, len, "%s/.local/share/cvmm/cvmmctl.db", home) < (int)len
		       ? 0
		       : -ENAMETOOLONG;
}

int main(int argc, char **argv)
{
	struct ctl_args a;
	struct ctl c = { 0 };
	char err[1024], dbpath[4096];
	const char *secret;
	int ret;

	log_set_prefix("cvmmctl");
	if (ctl_parse_args(commands, NCOMMANDS, argc, (const char *const *)argv, &a, err,
			   sizeof(err))) {
		pr_err("%s", err);
		return CTL_USAGE;
	}
	if (a.help) {
		if (a.cmd)
			command_help(a.cmd);
		else
			usage(stdout);
		return CTL_OK;
	}
	c.json = a.out == CTL_OUT_JSON;
	if (a.cmd->flags & CTL_AGENTS) {
		secret = a.secret_file ? a.secret_file : getenv("CVMM_SECRET_FILE");
		if (!secret || !secret[0]) {
			pr_err("cvmmctl %s talks to the agents: give the cluster secret with "
			       "--secret-file FILE or CVMM_SECRET_FILE",
			       a.cmd->name);
			return CTL_USAGE;
		}
		if (auth_init() || ctl_client_init()) {
			pr_err("cannot initialise libsodium or libcurl");
			return CTL_FAILED;
		}
		if (auth_key_load(secret, &c.key, err, sizeof(err))) {
			pr_err("%s", err);
			return CTL_FAILED;
		}
	}
	if (a.db)
		snprintf(dbpath, sizeof(dbpath), "%s", a.db);
	else if (default_db(dbpath, sizeof(dbpath))) {
		pr_err("no database: give --db PATH (HOME is not set)");
		return CTL_USAGE;
	}
	if (ctl_db_open(dbpath, &c.db, err, sizeof(err))) {
		pr_err("database %s", err);
		return CTL_FAILED;
	}
	ret = a.cmd->fn(&c, &a);
	ctl_db_close(c.db);
	return ret;
}
