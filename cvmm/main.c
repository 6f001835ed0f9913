// SPDX-License-Identifier: GPL-2.0
/*
 * cvmm - clustered virtual machine monitor.
 *
 * One program, one subcommand per job. This file only dispatches.
 */
#include <stdio.h>
#include <string.h>

#include "cvmm/commands.h"
#include "cvmm/lib/log.h"

struct command {
	const char *name;
	const char *summary;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "sim", "run a command on an emulated cluster of KVM nodes", cmd_sim },
	{ "agent", "node agent (started by a node at boot)", cmd_agent },
	{ "run", "boot a guest on this node's KVM", cmd_run },
	{ "node", "run one node's part of a virtual computer", cmd_node },
	{ "monitor", "send a command to a running guest's monitor socket", cmd_monitor },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: cvmm COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'cvmm COMMAND --help' describes a command; docs/ has the manual.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name)) {
			static char prefix[32];

			snprintf(prefix, sizeof(prefix), "cvmm %s", commands[i].name);
			log_set_prefix(prefix);
			return commands[i].fn(argc - 1, argv + 1);
		}
	}
	pr_err("unknown command '%s' (try 'cvmm --help')", argv[1]);
	return 2;
}
