// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cvmm/guest.h"
#include "cvmm/kvm.h"
#include "cvmm/lib/fdio.h"
#include "cvmm/lib/log.h"
#include "cvmm/x86/arch.h"
#include "cvmm/x86/boot.h"

static const int status_of_stop[] = {
	[VM_STOP_POWEROFF] = RUN_POWEROFF,     [VM_STOP_RESET] = RUN_RESET,
	[VM_STOP_SHUTDOWN] = RUN_TRIPLE_FAULT, [VM_STOP_KVM] = RUN_KVM_FAILURE,
	[VM_STOP_TIMEOUT] = RUN_TIMEOUT,       [VM_STOP_SIGNAL] = RUN_SIGNAL,
	[VM_STOP_PEER] = RUN_PEER_FAILED,      [VM_STOP_LEFT] = RUN_POWEROFF,
};

struct file_buf {
	uint8_t *data;
	size_t size;
};

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

static int boot(const struct guest_spec *o, const struct boot_input *in)
{
	struct vm_config cfg = {
		.mem_size = o->mem,
		.nr_cpus = o->cpus,
		.console_in = o->no_devices ? -1 : STDIN_FILENO,
		.console_out = STDOUT_FILENO,
		.no_devices = o->no_devices,
		.node_clocks = o->node_clocks,
	};
	const struct guest_hooks *hooks = o->hooks;
	struct boot_input input = *in;
	struct boot_entry entry;
	int status = RUN_KVM_FAILURE;
	struct termios saved;
	unsigned long rsdp;
	enum vm_stop stop;
	bool raw;
	struct vm vm;
	int ret;

	if (kvm__vm_create(&vm, &cfg))
		return RUN_KVM_FAILURE;
	vm.numa = o->numa;
	if (hooks && hooks->mem_ready) {
		ret = hooks->mem_ready(&vm, hooks->arg);
		if (ret) {
			kvm__vm_destroy(&vm);
			return RUN_KVM_FAILURE;
		}
	}
	if (o->joining)
		goto run;
	ret = arch__setup_firmware(&vm, &rsdp);
	if (ret)
		goto out_failed;
	input.rsdp_addr = rsdp;
	/* Node 0 holds the first share of guest RAM (cvmm/numa.h); CPU 0 boots. */
	if (o->numa && o->numa->nr_nodes > 1 && o->numa->nodes[0].first_cpu == 0)
		input.initrd_below = o->numa->nodes[0].mem;
	ret = x86_boot__load(&vm.mem, &input, &entry);
	if (ret) {
		status = RUN_BAD_INPUT;
		goto out_failed;
	}
	ret = arch__boot_bsp(&vm.vcpus[0], &entry);
	if (ret) {
		pr_err("BSP registers: %s", strerror(-ret));
		goto out_failed;
	}
	pr_debug("boot protocol %u.%02u, entry 0x%x, initrd at 0x%x", entry.protocol >> 8,
		 entry.protocol & 0xff, entry.eip, entry.initrd_addr);

run:
	raw = !o->no_devices && raw_terminal(&saved);
	stop = kvm__vm_run(&vm, o->timeout);
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	if (vm.vcpu_stuck) {
		/*
		 * Its thread still uses the VM: nothing can be torn down. The
		 * status still says why the guest stopped; other nodes see
		 * this one fail.
		 */
		pr_err("guest stopped: %s; exiting without an orderly stop (a vCPU is stuck)",
		       vm_stop__name(stop));
		fflush(NULL);
		_exit((unsigned int)stop < sizeof(status_of_stop) / sizeof(status_of_stop[0])
			      ? status_of_stop[stop]
			      : RUN_KVM_FAILURE);
	}
	if (hooks && hooks->stopped)
		hooks->stopped(&vm, stop, hooks->arg);
	kvm__vm_destroy(&vm);
	if (stop != VM_STOP_POWEROFF && stop != VM_STOP_LEFT)
		pr_info("guest stopped: %s", vm_stop__name(stop));
	if ((unsigned int)stop >= sizeof(status_of_stop) / sizeof(status_of_stop[0]))
		return RUN_KVM_FAILURE;
	return status_of_stop[stop];

out_failed:
	/* The hooks hear of it like of a stop: other nodes must not wait for this one. */
	vm__request_stop(&vm, VM_STOP_KVM);
	if (hooks && hooks->stopped)
		hooks->stopped(&vm, VM_STOP_KVM, hooks->arg);
	kvm__vm_destroy(&vm);
	return status;
}

int guest__run(const struct guest_spec *spec)
{
	struct file_buf kernel = { 0 }, initrd = { 0 };
	struct boot_input in;
	sigset_t stop, old;
	int status = RUN_BAD_INPUT;

	if (read_file("kernel", spec->kernel, &kernel))
		goto out;
	if (spec->initrd && read_file("initrd", spec->initrd, &initrd))
		goto out;
	in = (struct boot_input){
		.kernel = kernel.data,
		.kernel_size = kernel.size,
		.initrd = initrd.data,
		.initrd_size = initrd.size,
		.cmdline = spec->append,
	};
	if (x86_boot__check(&in, spec->mem))
		goto out;
	/*
	 * Every thread the boot starts (the DSM's, the cluster's workers, the
	 * vCPUs) inherits this mask: SIGINT and SIGTERM reach only the VM's
	 * signalfd (kvm__vm_run), which stops the guest in order, instead of
	 * killing the process in whichever thread takes them.
	 */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	status = boot(spec, &in);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
out:
	free(initrd.data);
	free(kernel.data);
	return status;
}
