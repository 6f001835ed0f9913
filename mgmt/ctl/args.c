// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cvmm/lib/parse.h"
#include "mgmt/ctl/args.h"

enum opt_id {
	OPT_OUTPUT,
	OPT_DB,
	OPT_SECRET,
	OPT_TO,
	OPT_ON,
	OPT_OFFLINE,
	OPT_REBALANCE,
	OPT_HELP
};

/* The options; `flag` is the command flag that allows it (0: every command). */
static const struct ctl_opt {
	enum opt_id id;
	const char *name;
	char shrt;
	bool value;
	unsigned int flag;
} opts[] = {
	{ OPT_OUTPUT, "output", 'o', true, CTL_READ },
	{ OPT_DB, "db", 0, true, 0 },
	{ OPT_SECRET, "secret-file", 0, true, 0 },
	{ OPT_TO, "to", 0, true, CTL_OPT_TO },
	{ OPT_ON, "on", 0, true, CTL_OPT_ON },
	{ OPT_HELP, "help", 'h', false, 0 },
	{ OPT_OFFLINE, "offline-cpus", 0, false, CTL_OPT_OFFLINE },
	{ OPT_REBALANCE, "rebalance", 0, false, CTL_OPT_REBALANCE },
};

/* Finds the option of argv[*i]; *val is its value (which may take argv[*i + 1]). */
static const struct ctl_opt *find_opt(int argc, const char *const *argv, int *i, const char **val,
				      char *err, size_t errlen)
{
	const char *arg = argv[*i], *eq = NULL;
	const struct ctl_opt *o = NULL;

	*val = NULL;
	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]) && !o; k++) {
		size_t len = strlen(opts[k].name);

		if (arg[1] == '-' && !strncmp(arg + 2, opts[k].name, len) &&
		    (arg[2 + len] == '\0' || arg[2 + len] == '=')) {
			o = &opts[k];
			eq = arg[2 + len] == '=' ? arg + 3 + len : NULL;
		} else if (arg[1] != '-' && opts[k].shrt && arg[1] == opts[k].shrt) {
			o = &opts[k];
			eq = arg[2] ? arg + 2 : NULL;
		}
	}
	if (!o) {
		parse_error(err, errlen, "unknown option '%s'", arg);
		return NULL;
	}
	if (!o->value) {
		if (eq) {
			parse_error(err, errlen, "option '%s' takes no value", arg);
			return NULL;
		}
		return o;
	}
	if (eq) {
		*val = eq;
	} else if (*i + 1 < argc) {
		*val = argv[++*i];
	} else {
		parse_error(err, errlen, "option '%s' needs a value", arg);
		return NULL;
	}
	return o;
}

static int set_opt(struct ctl_args *a, const struct ctl_opt *o, const char *val, char *err,
		   size_t errlen)
{
	switch (o->id) {
	case OPT_OUTPUT:
		if (!strcmp(val, "json"))
			a->out = CTL_OUT_JSON;
		else if (!strcmp(val, "text"))
			a->out = CTL_OUT_TEXT;
		else
			return parse_error(err, errlen, "-o '%s': expected json or text", val);
		return 0;
	case OPT_DB:
		a->db = val;
		return 0;
	case OPT_SECRET:
		a->secret_file = val;
		return 0;
	case OPT_TO:
		a->to = val;
		return 0;
	case OPT_ON:
		a->on = val;
		return 0;
	case OPT_OFFLINE:
		a->offline_cpus = true;
		return 0;
	case OPT_REBALANCE:
		a->rebalance = true;
		return 0;
	case OPT_HELP:
		a->help = true;
		return 0;
	}
	return -EINVAL;
}

/* The command whose words start words[0..n-1]; *used is how many it took. */
static const struct ctl_cmd *find_cmd(const struct ctl_cmd *table, size_t n,
				      const char *const *words, unsigned int nwords,
				      unsigned int *used)
{
	const struct ctl_cmd *best = NULL;

	for (size_t k = 0; k < n; k++) {
		const char *name = table[k].name, *sp = strchr(name, ' ');
		unsigned int need = sp ? 2 : 1;

		if (nwords < need)
			continue;
		if (sp ? (strlen(words[0]) == (size_t)(sp - name) &&
			  !strncmp(words[0], name, (size_t)(sp - name)) &&
			  !strcmp(words[1], sp + 1))
		       : !strcmp(words[0], name)) {
			if (!best || need > *used) {
				best = &table[k];
				*used = need;
			}
		}
	}
	return best;
}

int ctl_parse_args(const struct ctl_cmd *table, size_t n, int argc, const char *const *argv,
		   struct ctl_args *a, char *err, size_t errlen)
{
	const char *words[8 + CTL_MAX_POS];
	const struct ctl_opt *given[16];
	unsigned int nwords = 0, ngiven = 0, used = 0;
	bool dashdash = false;

	*a = (struct ctl_args){ .out = CTL_OUT_TEXT };
	for (int i = 1; i < argc; i++) {
		const char *val;
		const struct ctl_opt *o;
		int ret;

		if (!dashdash && !strcmp(argv[i], "--")) {
			dashdash = true;
			continue;
		}
		if (dashdash || argv[i][0] != '-' || !argv[i][1]) {
			if (nwords == sizeof(words) / sizeof(words[0]))
				return parse_error(err, errlen, "too many arguments at '%s'",
						   argv[i]);
			words[nwords++] = argv[i];
			continue;
		}
		o = find_opt(argc, argv, &i, &val, err, errlen);
		if (!o)
			return -EINVAL;
		ret = set_opt(a, o, val, err, errlen);
		if (ret)
			return ret;
		if (ngiven < sizeof(given) / sizeof(given[0]))
			given[ngiven++] = o;
	}
	if (!nwords) {
		if (a->help)
			return 0;
		return parse_error(err, errlen, "%s", "no command given (try 'cvmmctl --help')");
	}
	a->cmd = find_cmd(table, n, words, nwords, &used);
	if (!a->cmd) {
		char what[128];

		snprintf(what, sizeof(what), "%s%s%s", words[0], nwords > 1 ? " " : "",
			 nwords > 1 ? words[1] : "");
		return parse_error(err, errlen, "unknown command '%s' (try 'cvmmctl --help')",
				   what);
	}
	if (a->help)
		return 0;
	for (unsigned int k = 0; k < ngiven; k++) {
		if (given[k]->flag && !(a->cmd->flags & given[k]->flag)) {
			snprintf(err, errlen, "cvmmctl %s does not take --%s", a->cmd->name,
				 given[k]->name);
			return -EINVAL;
		}
	}
	for (unsigned int k = used; k < nwords; k++) {
		if (a->npos == a->cmd->nargs) {
			snprintf(err, errlen,
				 "cvmmctl %s: unexpected argument '%s' (usage: cvmmctl %s %s)",
				 a->cmd->name, words[k], a->cmd->name, a->cmd->params);
			return -EINVAL;
		}
		a->pos[a->npos++] = words[k];
	}
	if (a->npos < a->cmd->nargs) {
		snprintf(err, errlen, "cvmmctl %s: missing %s (usage: cvmmctl %s %s)", a->cmd->name,
			 a->cmd->params, a->cmd->name, a->cmd->params);
		return -EINVAL;
	}
	return 0;
}

int ctl_check_addr(const char *addr)
{
	const char *colon = strrchr(addr, ':');
	unsigned long port;
	size_t hlen;

	if (!colon || colon == addr || parse_uint(colon + 1, 1, 65535, &port))
		return -EINVAL;
	hlen = (size_t)(colon - addr);
	if (addr[0] == '[')
		return hlen > 2 && addr[hlen - 1] == ']' ? 0 : -EINVAL;
	for (size_t i = 0; i < hlen; i++)
		if (!isalnum((unsigned char)addr[i]) && addr[i] != '.' && addr[i] != '-')
			return -EINVAL;
	return 0;
}

int ctl_check_name(const char *name)
{
	size_t len = strlen(name);

	if (!len || len > 63)
		return -EINVAL;
	for (; *name; name++)
		if (!isalnum((unsigned char)*name) && !strchr("._-", *name))
			return -EINVAL;
	return 0;
}

bool ctl_addr_host_is(const char *addr, const char *host)
{
	const char *colon = strrchr(addr, ':');
	size_t len;

	if (!colon)
		return false;
	len = (size_t)(colon - addr);
	if (addr[0] == '[' && len >= 2) {
		addr++;
		len -= 2;
	}
	return strlen(host) == len && !strncmp(addr, host, len);
}
