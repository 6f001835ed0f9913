// SPDX-License-Identifier: GPL-2.0
/*
 * cvmm run: boot one guest on this node's KVM (docs/man/cvmm-run.md).
 *
 * Every input is read and checked before /dev/kvm is opened, so a bad
 * kernel, initrd or size costs one error line and starts nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cvmm/commands.h"
#include "cvmm/guest.h"
#include "cvmm/hypercall.h"
#include "cvmm/lib/log.h"
#include "cvmm/lib/parse.h"
#include "cvmm/monitor.h"
#include "cvmm/numa.h"
#include "mgmt/launch/local.h"

#define MAX_CPUS    255 /* xAPIC IDs, one byte in the MADT */
#define DEFAULT_MEM (512ull << 20)

struct run_opts {
	const char *kernel;
	const char *initrd;
	const char *append;
	unsigned long cpus;
	uint64_t mem;
	unsigned long timeout;
	struct numa_topology numa; /* --numa; nr_nodes 0: none */
	bool stats;
	const char *monitor;
	struct monitor mon;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: cvmm run --kernel BZIMAGE [--initrd FILE] [--append CMDLINE]\n"
		   "                [--cpus N] [--mem SIZE] [--timeout SECONDS] [-v]\n"
		   "                [--numa ID:cpus=A[-B],mem=SIZE]... [--stats]\n"
		   "                [--monitor SOCKET]\n"
		   "\n"
		   "Boots a Linux guest on this node's KVM with its serial console on\n"
		   "stdin/stdout. Exit status: 0 poweroff, 1 bad input, 2 usage, 3 reset,\n"
		   "4 triple fault, 5 KVM failure, 6 timeout, 7 signal.\n"
		   "\n"
		   "With --nodes K, a virtual computer of K node processes on this host\n"
		   "(local mode): see cvmm run --nodes 1 --help.\n");
}

static int parse_opts(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'a' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "mem", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "numa", required_argument, NULL, 'N' },
		{ "stats", no_argument, NULL, 'S' },
		{ "monitor", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct run_opts){ .cpus = 1, .mem = DEFAULT_MEM, .append = "" };
	optind = 1;
	while ((c = getopt_long(argc, argv, "k:i:a:c:m:t:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			o->kernel = optarg;
			break;
		case 'i':
			o->initrd = optarg;
			break;
		case 'a':
			o->append = optarg;
			break;
		case 'N':
			if (numa__parse(&o->numa, optarg))
				return -EINVAL;
			break;
		case 'S':
			o->stats = true;
			break;
		case 'M':
			o->monitor = optarg;
			break;
		case 'c':
			if (parse_uint(optarg, 1, MAX_CPUS, &o->cpus)) {
				pr_err("--cpus '%s': expected 1 to %d", optarg, MAX_CPUS);
				return -EINVAL;
			}
			break;
		case 'm':
			if (parse_size(optarg, &o->mem) || o->mem & 0xfff) {
				pr_err("--mem '%s': expected a size such as 512M, a multiple of 4K",
				       optarg);
				return -EINVAL;
			}
			break;
		case 't':
			if (parse_uint(optarg, 1, 1000000, &o->timeout)) {
				pr_err("--timeout '%s': expected seconds, 1 or more", optarg);
				return -EINVAL;
			}
			break;
		case 'v':
			log_set_verbose(true);
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		pr_err("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!o->kernel) {
		pr_err("--kernel is required");
		return -EINVAL;
	}
	return 0;
}

/* Before the firmware is written: the NUMA topology, the monitor socket. */
static int run_mem_ready(struct vm *vm, void *arg)
{
	struct run_opts *o = arg;

	if (o->numa.nr_nodes)
		vm->numa = &o->numa;
	if (o->monitor)
		return monitor__start(&o->mon, vm, o->monitor);
	return 0;
}

/* After the guest stopped, before the VM is destroyed. */
static void run_stopped(struct vm *vm, enum vm_stop stop, void *arg)
{
	struct run_opts *o = arg;

	monitor__stop(&o->mon);
	if (o->stats)
		hypercall__print_stats(vm, stderr);
}

int cmd_run(int argc, char **argv)
{
	static struct run_opts o; /* the hooks keep pointers into it */
	struct guest_hooks hooks = {
		.mem_ready = run_mem_ready,
		.stopped = run_stopped,
		.arg = &o,
	};
	struct guest_spec spec;
	int ret;

	/* Local mode, K node processes, lives with the other launchers in mgmt/launch/. */
	if (local_opts_wanted(argc, argv))
		return local_run(argc, argv);
	ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret > 0 ? 0 : RUN_USAGE;
	o.mon.fd = -1;
	if (o.numa.nr_nodes && numa__check(&o.numa, (unsigned int)o.cpus, o.mem))
		return RUN_BAD_INPUT;
	spec = (struct guest_spec){
		.kernel = o.kernel,
		.initrd = o.initrd,
		.append = o.append,
		.cpus = (unsigned int)o.cpus,
		.mem = o.mem,
		.timeout = (unsigned int)o.timeout,
		.hooks = &hooks,
	};
	ret = guest__run(&spec);
	/* A boot that failed after mem_ready never reached run_stopped. */
	monitor__stop(&o.mon);
	return ret;
}
