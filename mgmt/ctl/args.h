/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cvmmctl's command line: a command of one or two words from a table, its
 * positional arguments, and options that may come anywhere (before the
 * command too). Pure: the parser only reads argv and the table.
 */
#ifndef CVMM_MGMT_CTL_ARGS_H
#define CVMM_MGMT_CTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#define CTL_MAX_POS 4

struct ctl;
struct ctl_args;

enum ctl_cmd_flags {
	CTL_READ = 1 << 0,	    /* a read command: takes -o json */
	CTL_AGENTS = 1 << 1,	    /* talks to agents: needs the cluster secret */
	CTL_OPT_TO = 1 << 2,	    /* takes --to NODE */
	CTL_OPT_ON = 1 << 3,	    /* takes --on NODE,... */
	CTL_OPT_OFFLINE = 1 << 4,   /* takes --offline-cpus */
	CTL_OPT_REBALANCE = 1 << 5, /* takes --rebalance */
};

struct ctl_cmd {
	const char *name;   /* "nodes", "vc start" */
	const char *params; /* "NAME NODE", for the usage line */
	unsigned int nargs;
	unsigned int flags;
	const char *summary;
	const char *help; /* the --help text after the usage line */
	int (*fn)(struct ctl *c, const struct ctl_args *a);
};

enum ctl_output { CTL_OUT_TEXT, CTL_OUT_JSON };

struct ctl_args {
	const struct ctl_cmd *cmd; /* NULL with help: the list of commands */
	const char *pos[CTL_MAX_POS];
	unsigned int npos;
	enum ctl_output out;
	const char *db;
	const char *secret_file;
	const char *to;
	const char *on;
	bool offline_cpus;
	bool rebalance;
	bool help;
};

/*
 * Parses argv[1..argc-1] against table[0..n-1]. Returns 0, or -EINVAL with a
 * message for the user in err (an unknown command or option, a missing or
 * extra argument, an option the command does not take).
 */
int ctl_parse_args(const struct ctl_cmd *table, size_t n, int argc, const char *const *argv,
		   struct ctl_args *a, char *err, size_t errlen);

/*
 * Checks an agent's control address "HOST:PORT" or "[V6]:PORT": 0 or -EINVAL.
 * A node's name: letters, digits, '.', '-', '_', at most 63: 0 or -EINVAL.
 */
int ctl_check_addr(const char *addr);
/* Whether the host part of "HOST:PORT" ("[V6]:PORT") is host. */
bool ctl_addr_host_is(const char *addr, const char *host);
int ctl_check_name(const char *name);

#endif
