// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cvmm/lib/parse.h"
#include "mgmt/launch/local-opts.h"

const char local_usage[] =
	"usage: cvmm run --nodes K [--cpus N] [--mem SIZE] --kernel BZIMAGE [--initrd FILE]\n"
	"                [--append CMDLINE] [--vc FILE] [--transport tcp] [--port BASE]\n"
	"                [--timeout SECONDS] [--stats] [--check] [-v]\n"
	"\n"
	"Local mode: runs a virtual computer of K nodes as K `cvmm node` processes on\n"
	"this host, the DSM between them over TCP on 127.0.0.1. The VC is generated\n"
	"(N vCPUs, default K, in blocks over the nodes; SIZE of RAM, default K x 512M,\n"
	"split evenly) or read from --vc FILE, whose addresses are replaced by\n"
	"127.0.0.1. The I/O node's console is on stdin/stdout; the other nodes'\n"
	"output goes to stderr, each line prefixed \"nodeI: \". Each node process is\n"
	"bound to one host NUMA node, round robin, when the host has several.\n"
	"\n"
	"options:\n"
	"      --nodes K          nodes, 1-16\n"
	"  -c, --cpus N           vCPUs (default K; not with --vc)\n"
	"  -m, --mem SIZE         guest RAM, a multiple of K x 512M (default K x 512M;\n"
	"                         not with --vc)\n"
	"  -k, --kernel BZIMAGE   the guest kernel (required without --vc)\n"
	"  -i, --initrd FILE      its initramfs\n"
	"  -a, --append CMDLINE   its command line\n"
	"      --vc FILE          take the VC from FILE (docs/vc.md); --kernel, --initrd\n"
	"                         and --append override its guest fields\n"
	"      --transport tcp    the DSM transport (tcp, the only one between processes)\n"
	"      --port BASE        node I listens on port BASE+I (default: free ports)\n"
	"  -t, --timeout SECONDS  stop the guest after SECONDS (passed to every node)\n"
	"      --stats            every node prints its DSM counters at exit\n"
	"      --check            compare what the guest's init prints with the VC: CPUs,\n"
	"                         NUMA nodes, workloads (exit 10-13, 6; see below)\n"
	"  -v, --verbose          debug messages of every node\n"
	"\n"
	"exit status: the I/O node's (as cvmm node: 0 poweroff, 1 bad input, 2 usage,\n"
	"3 reset, 4 triple fault, 5 KVM failure, 6 timeout, 7 signal), or, when a node\n"
	"failed, that node's (8 a peer failed, 128+N killed by signal N), named on\n"
	"stderr. With --check, a guest that does not match: 10 no boot (no init line),\n"
	"11 wrong CPU count, 12 wrong NUMA layout, 13 workload mismatch (a FAIL line\n"
	"or done status not 0), 6 timeout (init did not finish), said in one line.\n";

enum {
	OPT_NODES = 256,
	OPT_VC,
	OPT_TRANSPORT,
	OPT_PORT,
	OPT_STATS,
	OPT_CHECK,
};

static const struct option long_opts[] = {
	{ "nodes", required_argument, NULL, OPT_NODES },
	{ "cpus", required_argument, NULL, 'c' },
	{ "mem", required_argument, NULL, 'm' },
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "append", required_argument, NULL, 'a' },
	{ "vc", required_argument, NULL, OPT_VC },
	{ "transport", required_argument, NULL, OPT_TRANSPORT },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "timeout", required_argument, NULL, 't' },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* `cvmm run` options, of either mode, whose value is the next argument. */
static bool takes_value(const char *a)
{
	static const char *const with_value[] = {
		"-k",	  "--kernel",	 "-i",	   "--initrd", "-a",	    "--append", "-c",
		"--cpus", "-m",		 "--mem",  "-t",       "--timeout", "--numa",	"--monitor",
		"--vc",	  "--transport", "--port", "--nodes",  NULL,
	};

	for (const char *const *w = with_value; *w; w++)
		if (!strcmp(a, *w))
			return true;
	return false;
}

bool local_opts_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--"))
			break;
		if (!strcmp(a, "--nodes") || !strncmp(a, "--nodes=", 8))
			return true;
		if (takes_value(a))
			i++;
	}
	return false;
}

static int parse_one(int c, const char *arg, struct local_opts *o, char *err, size_t errlen)
{
	unsigned long v;

	switch (c) {
	case OPT_NODES:
		if (parse_uint(arg, 1, VC_MAX_NODES, &v))
			return parse_error(err, errlen, "--nodes '%s': expected 1 to %d", arg,
					   VC_MAX_NODES);
		o->vc.nodes = (unsigned int)v;
		break;
	case 'c':
		if (parse_uint(arg, 1, VC_MAX_CPUS, &v))
			return parse_error(err, errlen, "--cpus '%s': expected 1 to %d", arg,
					   VC_MAX_CPUS);
		o->vc.cpus = (unsigned int)v;
		break;
	case 'm':
		if (parse_size(arg, &o->vc.mem) || !o->vc.mem)
			return parse_error(err, errlen, "--mem '%s': expected a size such as 1G",
					   arg);
		break;
	case 'k':
		o->vc.kernel = arg;
		break;
	case 'i':
		o->vc.initrd = arg;
		break;
	case 'a':
		o->vc.append = arg;
		break;
	case OPT_VC:
		o->vc.vc_path = arg;
		break;
	case OPT_TRANSPORT:
		if (vc_spec_parse_transport(arg, &o->vc.transport, err, errlen))
			return -EINVAL;
		if (o->vc.transport != VC_TRANSPORT_TCP)
			return parse_error(
				err, errlen,
				"--transport %s: local mode runs every node on this host, "
				"connected over TCP; use tcp (or cvmm sim --transport rdma)",
				arg);
		o->vc.transport_given = true;
		break;
	case OPT_PORT:
		if (parse_uint(arg, 1024, 65535, &v))
			return parse_error(err, errlen,
					   "--port '%s': expected a port from 1024 to 65535", arg);
		o->port = (unsigned int)v;
		break;
	case 't':
		if (parse_uint(arg, 1, 1000000, &v))
			return parse_error(err, errlen,
					   "--timeout '%s': expected seconds, 1 or more", arg);
		o->timeout = (unsigned int)v;
		break;
	case OPT_STATS:
		o->stats = true;
		break;
	case OPT_CHECK:
		o->check = true;
		break;
	case 'v':
		o->verbose = true;
		break;
	}
	return 0;
}

/* Checks between options, once all are known. */
static int check(const struct local_opts *o, char *err, size_t errlen)
{
	if (!o->vc.nodes)
		return parse_error(err, errlen, "--nodes K is required in local mode");
	if (o->vc.vc_path && o->vc.cpus)
		return parse_error(err, errlen,
				   "--cpus: --vc %s places the vCPUs; give one or the other",
				   o->vc.vc_path);
	if (o->vc.vc_path && o->vc.mem)
		return parse_error(err, errlen,
				   "--mem: --vc %s sizes the memory; give one or the other",
				   o->vc.vc_path);
	if (!o->vc.vc_path && !o->vc.kernel)
		return parse_error(err, errlen, "--kernel is required (or --vc FILE)");
	if (o->port && o->port + o->vc.nodes - 1 > 65535)
		return parse_error(err, errlen, "--port %u: nodes 0 to %u need ports up to %u",
				   o->port, o->vc.nodes - 1, o->port + o->vc.nodes - 1);
	return 0;
}

int local_opts_parse(int argc, char **argv, struct local_opts *o, char *err, size_t errlen)
{
	int c;

	*o = (struct local_opts){ .vc = { .name = "local" } };
	optind = 0; /* reset getopt, which keeps state across calls */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:m:k:i:a:t:vh", long_opts, NULL)) != -1) {
		if (c == 'h')
			return LOCAL_OPTS_HELP;
		if (c == ':')
			return parse_error(err, errlen, "%s needs an argument", argv[optind - 1]);
		if (c == '?')
			return parse_error(
				err, errlen,
				"unknown option '%s' in local mode (see cvmm run --nodes 1 "
				"--help)",
				argv[optind - 1]);
		if (parse_one(c, optarg, o, err, errlen))
			return -EINVAL;
	}
	if (optind != argc)
		return parse_error(err, errlen, "unexpected argument '%s'", argv[optind]);
	return check(o, err, errlen);
}
