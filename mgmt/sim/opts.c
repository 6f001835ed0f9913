// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cvmm/lib/parse.h"
#include "mgmt/sim/opts.h"

const char sim_usage[] =
	"usage: cvmm sim [OPTIONS] -- COMMAND [ARGS...]\n"
	"       cvmm sim [OPTIONS] --kernel BZIMAGE [--initrd FILE] [--append CMDLINE]\n"
	"                [--cpus N] [--mem SIZE] [--transport tcp|rdma]\n"
	"       cvmm sim [OPTIONS] --vc FILE\n"
	"\n"
	"Boots an emulated cluster of KVM nodes (QEMU TCG machines with AMD SVM and\n"
	"nested paging), runs COMMAND inside node 0 (or every node with --all), streams\n"
	"its output and exits with its status. The host's files are reachable inside\n"
	"the nodes, read-only, at the same absolute paths; build/bin is on PATH.\n"
	"Standard input goes to node 0's COMMAND (to none with --all on several nodes).\n"
	"\n"
	"options:\n"
	"  -n, --nodes K          number of nodes (1-16, default 2)\n"
	"  -c, --node-cpus C      vCPUs per node (1-8, default 1)\n"
	"  -m, --node-mem SIZE    memory per node (default 1G, at least 256M)\n"
	"  -a, --all              run COMMAND on every node; exit with the first\n"
	"                         non-zero status in node order\n"
	"  -r, --rdma             add a soft-RoCE device rxe0 on each node's interconnect\n"
	"  -s, --share PATH       also make host PATH reachable in the nodes (repeatable)\n"
	"  -t, --timeout SECONDS  stop COMMAND after SECONDS (default: none)\n"
	"      --boot-timeout S   seconds for the nodes to boot (default 300)\n"
	"      --kvm-amd PARAMS   kvm_amd module parameters in the nodes, e.g. \"npt=0\"\n"
	"      --cache DIR        image cache (default $CVMM_CACHE or ~/.cache/cvmm)\n"
	"      --secret FILE      the cluster secret: each node's agent also serves\n"
	"                         cvmmctl on 10.77.0.(I+1):7480 (docs/management.md)\n"
	"  -k, --keep             keep the run directory with node consoles\n"
	"  -v, --verbose          copy the nodes' consoles to stderr\n"
	"      --pxe              boot the nodes over the network: their NICs' iPXE ROMs\n"
	"                         fetch a script, kernel and initrd from our HTTP server\n"
	"      --pxe-rom FILE     the boot NIC's (e1000) iPXE ROM (default: ipxe-qemu's\n"
	"                         efi-e1000.rom)\n"
	"      --pxe-port PORT    the boot server's port on 127.0.0.1 (default: a free one)\n"
	"  -h, --help             this text\n"
	"\n"
	"VC mode (--kernel or --vc, no COMMAND): boots one guest on a virtual computer\n"
	"of the K nodes, running `cvmm node --vc FILE --id I` on node I. The I/O node's\n"
	"console is on stdout and reads stdin (a terminal goes raw; Ctrl-C stops the\n"
	"cluster), the other nodes' output is on stderr prefixed \"nodeI: \";\n"
	"the exit status is the I/O node's, or that of a node that failed (named).\n"
	"      --kernel BZIMAGE   the guest kernel\n"
	"      --initrd FILE      its initramfs\n"
	"      --append CMDLINE   its command line\n"
	"      --cpus N           vCPUs, spread in blocks over the nodes (default K)\n"
	"      --mem SIZE         guest RAM, a multiple of K x 512M (default K x 512M)\n"
	"      --transport T      the DSM transport, tcp (default) or rdma (implies --rdma)\n"
	"      --vc FILE          the VC from FILE (docs/vc.md); its node addresses are\n"
	"                         replaced by the sim's; --nodes defaults to its count\n"
	"      --check            compare what the guest's init prints with the VC: exit\n"
	"                         10 no boot, 11 wrong CPU count, 12 wrong NUMA layout,\n"
	"                         13 workload mismatch, 6 timeout (see cvmm-run(1))\n"
	"  Defaults in VC mode: --node-cpus = the most vCPUs a node runs (at most 8),\n"
	"  --node-mem = guest RAM + 1G (a node maps all of it and may come to hold any\n"
	"  page), --kvm-amd npt=0 (i386 guests hang under nested paging).\n"
	"\n"
	"Nodes are 10.77.0.1 .. 10.77.0.K on their interconnect (eth0), an L2 network\n"
	"that exists only between the nodes. Inside a node, CVMM_NODE_ID, CVMM_NODES and\n"
	"CVMM_NODE_ADDRS describe the cluster.\n"
	"\n"
	"exit status: COMMAND's status; 2 bad usage; 124 timeout; 125 the cluster\n"
	"failed (image build, boot, a node died); 126 COMMAND not executable;\n"
	"127 COMMAND not found; 130 interrupted.\n";

enum {
	OPT_BOOT_TIMEOUT = 256,
	OPT_CACHE,
	OPT_KVM_AMD,
	OPT_SECRET,
	OPT_CPUS,
	OPT_MEM,
	OPT_KERNEL,
	OPT_INITRD,
	OPT_APPEND,
	OPT_TRANSPORT,
	OPT_VC,
	OPT_CHECK,
	OPT_PXE,
	OPT_PXE_ROM,
	OPT_PXE_PORT,
};

static const struct option long_opts[] = {
	{ "nodes", required_argument, NULL, 'n' },
	{ "node-cpus", required_argument, NULL, 'c' },
	{ "node-mem", required_argument, NULL, 'm' },
	{ "all", no_argument, NULL, 'a' },
	{ "rdma", no_argument, NULL, 'r' },
	{ "share", required_argument, NULL, 's' },
	{ "timeout", required_argument, NULL, 't' },
	{ "boot-timeout", required_argument, NULL, OPT_BOOT_TIMEOUT },
	{ "kvm-amd", required_argument, NULL, OPT_KVM_AMD },
	{ "secret", required_argument, NULL, OPT_SECRET },
	{ "cache", required_argument, NULL, OPT_CACHE },
	{ "keep", no_argument, NULL, 'k' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "append", required_argument, NULL, OPT_APPEND },
	{ "transport", required_argument, NULL, OPT_TRANSPORT },
	{ "vc", required_argument, NULL, OPT_VC },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "pxe", no_argument, NULL, OPT_PXE },
	{ "pxe-rom", required_argument, NULL, OPT_PXE_ROM },
	{ "pxe-port", required_argument, NULL, OPT_PXE_PORT },
	{ NULL, 0, NULL, 0 },
};

static int parse_count(const char *name, const char *arg, unsigned long min, unsigned long max,
		       unsigned int *out, char *err, size_t errlen)
{
	unsigned long v;

	if (parse_uint(arg, min, max, &v)) {
		snprintf(err, errlen, "--%s: '%s' is not a whole number from %lu to %lu", name, arg,
			 min, max);
		return -EINVAL;
	}
	*out = (unsigned int)v;
	return 0;
}

static int check_kvm_amd(const char *s, char *err, size_t errlen)
{
	/* Goes onto the node's kernel command line: no spaces or quotes. */
	for (const char *p = s; *p; p++) {
		if (!(isalnum((unsigned char)*p) || strchr("=,_-", *p)))
			return parse_error(err, errlen,
					   "--kvm-amd: '%s' has a character other than "
					   "letters, digits and =,_-",
					   s);
	}
	return 0;
}

/* The options of VC mode; returns 0, 1 when c is not one of them, or -EINVAL. */
static int parse_vc_option(int c, const char *arg, struct sim_opts *o, char *err, size_t errlen)
{
	switch (c) {
	case OPT_CPUS:
		return parse_count("cpus", arg, 1, VC_MAX_CPUS, &o->vc.cpus, err, errlen);
	case OPT_MEM:
		if (parse_size(arg, &o->vc.mem) || !o->vc.mem)
			return parse_error(err, errlen, "--mem: '%s' is not a size (like 1G or 2G)",
					   arg);
		return 0;
	case OPT_KERNEL:
		o->vc.kernel = arg;
		return 0;
	case OPT_INITRD:
		o->vc.initrd = arg;
		return 0;
	case OPT_APPEND:
		o->vc.append = arg;
		return 0;
	case OPT_TRANSPORT:
		o->vc.transport_given = true;
		return vc_spec_parse_transport(arg, &o->vc.transport, err, errlen);
	case OPT_VC:
		o->vc.vc_path = arg;
		return 0;
	case OPT_CHECK:
		o->check = true;
		return 0;
	}
	return 1;
}

/* Network boot; returns 0, 1 when c is not one of its options, or -EINVAL. */
static int parse_pxe_option(int c, const char *arg, struct sim_opts *o, char *err, size_t errlen)
{
	switch (c) {
	case OPT_PXE:
		o->pxe = true;
		return 0;
	case OPT_PXE_ROM:
		/* Goes into QEMU's -device option list, where a comma separates options. */
		if (arg[0] != '/' || strchr(arg, ','))
			return parse_error(err, errlen,
					   "--pxe-rom: '%s' is not an absolute path without commas",
					   arg);
		o->pxe_rom = arg;
		return 0;
	case OPT_PXE_PORT:
		return parse_count("pxe-port", arg, 1, 65535, &o->pxe_port, err, errlen);
	}
	return 1;
}

/* VC mode or a command, each with the options that belong to it. */
static int check_mode(struct sim_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	const struct vc_spec *v = &o->vc;
	const char *vc_only = v->cpus		   ? "--cpus"
			      : v->mem		   ? "--mem"
			      : v->initrd	   ? "--initrd"
			      : v->append	   ? "--append"
			      : v->transport_given ? "--transport"
			      : o->check	   ? "--check"
						   : NULL;

	o->vc_mode = v->kernel || v->vc_path;
	if (!o->vc_mode) {
		if (vc_only)
			return parse_error(err, errlen,
					   "%s: only in VC mode, with --kernel or --vc", vc_only);
		if (optind >= argc)
			return parse_error(err, errlen,
					   "no command given: cvmm sim [OPTIONS] -- COMMAND "
					   "(or --kernel BZIMAGE for VC mode)");
		o->argv = argv + optind;
		o->argc = argc - optind;
		return SIM_OPTS_OK;
	}
	if (optind < argc)
		return parse_error(
			err, errlen,
			"%s: VC mode runs cvmm node on every node and takes no COMMAND ('%s')",
			v->vc_path ? "--vc" : "--kernel", argv[optind]);
	if (o->all)
		return parse_error(err, errlen, "--all: VC mode runs on every node already");
	if (v->vc_path && (v->cpus || v->mem))
		return parse_error(err, errlen, "%s: --vc %s places the vCPUs and sizes the memory",
				   v->cpus ? "--cpus" : "--mem", v->vc_path);
	if (v->transport_given && v->transport == VC_TRANSPORT_RDMA)
		o->rdma = true;
	o->vc.name = "sim";
	o->vc.nodes = o->nodes_given || !v->vc_path ? o->nodes : 0;
	return SIM_OPTS_OK;
}

int sim_opts_parse(int argc, char **argv, struct sim_opts *o, char *err, size_t errlen)
{
	int c, ret;

	*o = (struct sim_opts){
		.nodes = 2,
		.node_cpus = 1,
		.node_mem = 1ull << 30,
		.boot_timeout = 300,
	};
	optind = 0; /* reset getopt, which keeps state across calls */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:n:c:m:ars:t:kvh", long_opts, NULL)) != -1) {
		ret = 0;
		switch (c) {
		case 'n':
			ret = parse_count("nodes", optarg, 1, SIM_MAX_NODES, &o->nodes, err,
					  errlen);
			o->nodes_given = true;
			break;
		case 'c':
			ret = parse_count("node-cpus", optarg, 1, SIM_MAX_NODE_CPUS, &o->node_cpus,
					  err, errlen);
			o->node_cpus_given = true;
			break;
		case 'm':
			if (parse_size(optarg, &o->node_mem))
				return parse_error(
					err, errlen,
					"--node-mem: '%s' is not a size (like 512M or 1G)", optarg);
			if (o->node_mem < SIM_MIN_NODE_MEM)
				return parse_error(err, errlen,
						   "--node-mem: %s is below the minimum of 256M",
						   optarg);
			if (o->node_mem & ((1 << 20) - 1))
				return parse_error(err, errlen,
						   "--node-mem: %s is not a whole number of MiB",
						   optarg);
			o->node_mem_given = true;
			break;
		case 'a':
			o->all = true;
			break;
		case 'r':
			o->rdma = true;
			break;
		case 's':
			if (optarg[0] != '/')
				return parse_error(err, errlen,
						   "--share: '%s' is not an absolute path", optarg);
			if (o->nshares == SIM_MAX_SHARES)
				return parse_error(err, errlen, "--share: more than %d paths",
						   SIM_MAX_SHARES);
			o->shares[o->nshares++] = optarg;
			break;
		case 't':
			ret = parse_count("timeout", optarg, 1, 7 * 24 * 3600, &o->timeout, err,
					  errlen);
			break;
		case OPT_BOOT_TIMEOUT:
			ret = parse_count("boot-timeout", optarg, 1, 24 * 3600, &o->boot_timeout,
					  err, errlen);
			break;
		case OPT_KVM_AMD:
			ret = check_kvm_amd(optarg, err, errlen);
			o->kvm_amd = optarg;
			break;
		case OPT_CACHE:
			o->cache_dir = optarg;
			break;
		case OPT_SECRET:
			/* It goes on the nodes' kernel command line, its folder is shared. */
			if (optarg[0] != '/' || strpbrk(optarg, ": \t\n"))
				return parse_error(err, errlen,
						   "--secret: '%s' is not an absolute path without "
						   "':' or white space",
						   optarg);
			o->secret = optarg;
			break;
		case 'k':
			o->keep = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			return SIM_OPTS_HELP;
		case ':':
			return parse_error(err, errlen, "%s needs an argument", argv[optind - 1]);
		default:
			ret = parse_vc_option(c, optarg, o, err, errlen);
			if (ret == 1)
				ret = parse_pxe_option(c, optarg, o, err, errlen);
			if (ret == 1)
				return parse_error(err, errlen, "unknown option '%s' (see --help)",
						   argv[optind - 1]);
			break;
		}
		if (ret)
			return ret;
	}
	if (!o->pxe && (o->pxe_rom || o->pxe_port))
		return parse_error(err, errlen, "%s: only with --pxe",
				   o->pxe_rom ? "--pxe-rom" : "--pxe-port");
	return check_mode(o, argc, argv, err, errlen);
}

int sim_opts_check_memory(const struct sim_opts *o, uint64_t avail, char *err, size_t errlen)
{
	uint64_t need = o->nodes * (o->node_mem + SIM_NODE_OVERHEAD);

	if (need <= avail)
		return 0;
	snprintf(err, errlen,
		 "not enough memory for %u nodes of %llu MiB: they need about %llu MiB, "
		 "the host has %llu MiB available (use fewer --nodes or a smaller --node-mem)",
		 o->nodes, (unsigned long long)(o->node_mem >> 20),
		 (unsigned long long)(need >> 20), (unsigned long long)(avail >> 20));
	return -ENOMEM;
}
