// SPDX-License-Identifier: GPL-2.0
/*
 * cvmm run: boot one guest on this node's KVM (docs/man/cvmm-run.md).
 *
 * Every input is read and checked before /dev/kvm is opened, so a bad
 * kernel, initrd or size costs one error line and starts nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cvmm/commands.h"
#include "cvmm/kvm.h"
#include "cvmm/lib/fdio.h"
#include "cvmm/lib/log.h"
#include "cvmm/lib/parse.h"
#include "cvmm/x86/arch.h"
#include "cvmm/x86/boot.h"

/* Exit statuses, documented in docs/man/cvmm-run.md. */
enum run_status {
	RUN_POWEROFF = 0,
	RUN_BAD_INPUT = 1,
	RUN_USAGE = 2,
	RUN_RESET = 3,
	RUN_TRIPLE_FAULT = 4,
	RUN_KVM_FAILURE = 5,
	RUN_TIMEOUT = 6,
	RUN_SIGNAL = 7,
};

static const int status_of_stop[] = {
	[VM_STOP_POWEROFF] = RUN_POWEROFF,     [VM_STOP_RESET] = RUN_RESET,
	[VM_STOP_SHUTDOWN] = RUN_TRIPLE_FAULT, [VM_STOP_KVM] = RUN_KVM_FAILURE,
	[VM_STOP_TIMEOUT] = RUN_TIMEOUT,       [VM_STOP_SIGNAL] = RUN_SIGNAL,
};

#define MAX_CPUS    255 /* xAPIC IDs, one byte in the MADT */
#define DEFAULT_MEM (512ull << 20)

struct run_opts {
	const char *kernel;
	const char *initrd;
	const char *append;
	unsigned long cpus;
	uint64_t mem;
	unsigned long timeout;
};

struct file_buf {
	uint8_t *data;
	size_t size;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: cvmm run --kernel BZIMAGE [--initrd FILE] [--append CMDLINE]\n"
		   "                [--cpus N] [--mem SIZE] [--timeout SECONDS] [-v]\n"
		   "\n"
		   "Boots a Linux guest on this node's KVM with its serial console on\n"
		   "stdin/stdout. Exit status: 0 poweroff, 1 bad input, 2 usage, 3 reset,\n"
		   "4 triple fault, 5 KVM failure, 6 timeout, 7 signal.\n");
}

/* Reads a whole file; a one-line error names it on failure. */
static int read_file(const char *what, const char *path, struct file_buf *out)
{
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_err("%s %s: %s", what, path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		pr_err("%s %s: not a regular file", what, path);
		close(fd);
		return -EINVAL;
	}
	out->size = (size_t)st.st_size;
	out->data = malloc(out->size ? out->size : 1);
	if (!out->data) {
		close(fd);
		return -ENOMEM;
	}
	ret = read_full(fd, out->data, out->size);
	close(fd);
	if (ret) {
		pr_err("%s %s: %s", what, path, strerror(-ret));
		free(out->data);
		out->data = NULL;
	}
	return ret;
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

/* A terminal on stdin goes raw, so keys reach the guest as typed. */
static bool raw_terminal(struct termios *saved)
{
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, saved) < 0)
		return false;
	raw = *saved;
	cfmakeraw(&raw);
	raw.c_lflag |= ISIG; /* Ctrl-C still stops cvmm */
	raw.c_oflag |= OPOST | ONLCR;
	return tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
}

static int boot(const struct run_opts *o, const struct boot_input *in)
{
	struct vm_config cfg = {
		.mem_size = o->mem,
		.nr_cpus = (unsigned int)o->cpus,
		.console_in = STDIN_FILENO,
		.console_out = STDOUT_FILENO,
	};
	struct boot_input input = *in;
	struct boot_entry entry;
	struct termios saved;
	unsigned long rsdp;
	enum vm_stop stop;
	bool raw;
	struct vm vm;
	int ret;

	if (kvm__vm_create(&vm, &cfg))
		return RUN_KVM_FAILURE;
	ret = arch__setup_firmware(&vm, &rsdp);
	if (ret)
		goto out_kvm;
	input.rsdp_addr = rsdp;
	ret = x86_boot__load(&vm.mem, &input, &entry);
	if (ret) {
		kvm__vm_destroy(&vm);
		return RUN_BAD_INPUT;
	}
	ret = arch__boot_bsp(&vm.vcpus[0], &entry);
	if (ret) {
		pr_err("BSP registers: %s", strerror(-ret));
		goto out_kvm;
	}
	pr_debug("boot protocol %u.%02u, entry 0x%x, initrd at 0x%x", entry.protocol >> 8,
		 entry.protocol & 0xff, entry.eip, entry.initrd_addr);

	raw = raw_terminal(&saved);
	stop = kvm__vm_run(&vm, (unsigned int)o->timeout);
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	kvm__vm_destroy(&vm);
	if (stop != VM_STOP_POWEROFF)
		pr_info("guest stopped: %s", vm_stop__name(stop));
	if ((unsigned int)stop >= sizeof(status_of_stop) / sizeof(status_of_stop[0]))
		return RUN_KVM_FAILURE;
	return status_of_stop[stop];

out_kvm:
	kvm__vm_destroy(&vm);
	return RUN_KVM_FAILURE;
}

int cmd_run(int argc, char **argv)
{
	struct file_buf kernel = { 0 }, initrd = { 0 };
	struct boot_input in;
	struct run_opts o;
	int ret, status = RUN_BAD_INPUT;

	ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret > 0 ? 0 : RUN_USAGE;
	if (read_file("kernel", o.kernel, &kernel))
		goto out;
	if (o.initrd && read_file("initrd", o.initrd, &initrd))
		goto out;
	in = (struct boot_input){
		.kernel = kernel.data,
		.kernel_size = kernel.size,
		.initrd = initrd.data,
		.initrd_size = initrd.size,
		.cmdline = o.append,
	};
	if (x86_boot__check(&in, o.mem))
		goto out;
	status = boot(&o, &in);
out:
	free(initrd.data);
	free(kernel.data);
	return status;
}
