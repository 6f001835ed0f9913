// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <linux/kvm.h>

#include "cvmm/hypercall.h"
#include "cvmm/kvm.h"
#include "cvmm/lib/log.h"
#include "cvmm/x86/arch.h"
#include "drivers/serial8250.h"

/* How long a stop waits for the vCPU threads to leave KVM_RUN. */
#define VCPU_STOP_GRACE_S 10

static int kvm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};

	/* > 0 delivered, 0 blocked by the guest (e.g. LAPIC disabled). */
	return ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -errno : 0;
}

int kvm__get_clock(struct vm *vm, uint64_t *ns)
{
	struct kvm_clock_data data = { 0 };

	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &data) < 0)
		return -errno;
	*ns = data.clock;
	return 0;
}

int kvm__set_clock(struct vm *vm, uint64_t ns)
{
	struct kvm_clock_data data = { .clock = ns };

	return ioctl(vm->vm_fd, KVM_SET_CLOCK, &data) < 0 ? -errno : 0;
}

static int set_memory(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->mem.nr_regions; i++) {
		const struct guest_mem_region *r = &vm->mem.regions[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uintptr_t)r->host,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
			int ret = -errno;

			pr_err("KVM_SET_USER_MEMORY_REGION %u: %s", i, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int create_vcpus(struct vm *vm)
{
	vm->vcpus = calloc(vm->nr_cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (unsigned int i = 0; i < vm->nr_cpus; i++)
		vm->vcpus[i].fd = -1;
	for (unsigned int i = 0; i < vm->nr_cpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		int ret;

		v->vm = vm;
		v->id = i;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (v->fd < 0) {
			ret = -errno;
			pr_err("KVM_CREATE_VCPU %u: %s", i, strerror(-ret));
			return ret;
		}
		v->run = mmap(NULL, (size_t)vm->run_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			      v->fd, 0);
		if (v->run == MAP_FAILED) {
			v->run = NULL;
			ret = -errno;
			pr_err("vCPU %u: mmap kvm_run: %s", i, strerror(-ret));
			return ret;
		}
		ret = arch__vcpu_init(vm, v);
		if (ret)
			return ret;
	}
	return arch__vcpus_created(vm);
}

static void destroy_vcpus(struct vm *vm)
{
	if (!vm->vcpus)
		return;
	for (unsigned int i = 0; i < vm->nr_cpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->run)
			munmap(v->run, (size_t)vm->run_mmap_size);
		if (v->fd >= 0)
			close(v->fd);
	}
	free(vm->vcpus);
	vm->vcpus = NULL;
}

static int open_kvm(struct vm *vm)
{
	int ret;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		ret = -errno;
		pr_err("/dev/kvm: %s", strerror(-ret));
		return ret;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		pr_err("/dev/kvm: unexpected KVM API version");
		return -EPROTO;
	}
	vm->run_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_mmap_size < (int)sizeof(struct kvm_run)) {
		pr_err("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		return -EPROTO;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = -errno;
		pr_err("KVM_CREATE_VM: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

int kvm__vm_create(struct vm *vm, const struct vm_config *cfg)
{
	int ret;

	vm__init_struct(vm);
	vm->nr_cpus = cfg->nr_cpus;
	vm->console_in = cfg->console_in;
	vm->console_out = cfg->console_out;
	vm->node_clocks = cfg->node_clocks;
	vm->signal_msi = kvm_signal_msi;

	ret = open_kvm(vm);
	if (ret)
		goto out;
	ret = guest_mem__init(&vm->mem, cfg->mem_size);
	if (ret) {
		pr_err("guest RAM (%llu bytes): %s", (unsigned long long)cfg->mem_size,
		       strerror(-ret));
		goto out;
	}
	ret = arch__vm_init(vm);
	if (ret)
		goto out;
	ret = set_memory(vm);
	if (ret)
		goto out;
	ret = hypercall__init(vm);
	if (ret)
		goto out;
	ret = create_vcpus(vm);
	if (ret)
		goto out;
	if (!cfg->no_devices) {
		ret = devices__init(vm);
		if (ret)
			goto out;
	}
	vm->stop_event = eventfd(0, EFD_CLOEXEC);
	if (vm->stop_event < 0) {
		ret = -errno;
		goto out;
	}
	return 0;
out:
	kvm__vm_destroy(vm);
	return ret;
}

void kvm__vm_destroy(struct vm *vm)
{
	if (vm->stop_event >= 0)
		close(vm->stop_event);
	vm->stop_event = -1;
	/* Devices only exist if every vCPU does; exit functions accept NULL state. */
	devices__exit(vm);
	destroy_vcpus(vm);
	hypercall__exit(vm);
	guest_mem__exit(&vm->mem);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
	pthread_mutex_destroy(&vm->dev_lock);
	pthread_mutex_destroy(&vm->vcpu_lock);
}

static void on_kick(int sig)
{
	(void)sig; /* only there to interrupt KVM_RUN */
}

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Moves what the user typed into the UART, never more than its FIFO takes. */
static bool console_input(struct vm *vm)
{
	char buf[64];
	size_t room;
	ssize_t n;

	pthread_mutex_lock(&vm->dev_lock);
	room = serial8250__rx_room(vm);
	pthread_mutex_unlock(&vm->dev_lock);
	if (!room) {
		/* The guest is not reading; look again shortly. */
		poll(NULL, 0, 10);
		return true;
	}
	n = read(vm->console_in, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN);
	pthread_mutex_lock(&vm->dev_lock);
	serial8250__rx(vm, buf, (size_t)n);
	pthread_mutex_unlock(&vm->dev_lock);
	return true;
}

/*
 * The console loop on the calling thread: waits for the stop eventfd,
 * SIGINT/SIGTERM (through a signalfd, so no async handler touches the VM),
 * console input and the deadline.
 */
static void serve(struct vm *vm, int sigfd, unsigned int timeout_s)
{
	struct timespec deadline;
	bool input = vm->console_in >= 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_s;
	while (vm__stop_reason(vm) == VM_RUNNING) {
		struct pollfd fds[3] = {
			{ .fd = vm->stop_event, .events = POLLIN },
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = input ? vm->console_in : -1, .events = POLLIN },
		};
		long wait = -1;

		if (timeout_s) {
			wait = ms_left(&deadline);
			if (wait <= 0) {
				vm__request_stop(vm, VM_STOP_TIMEOUT);
				break;
			}
		}
		if (poll(fds, 3, (int)(wait > 60000 ? 60000 : wait)) < 0 && errno != EINTR)
			break;
		if (fds[1].revents & POLLIN) {
			vm__request_stop(vm, VM_STOP_SIGNAL);
			break;
		}
		if (fds[2].revents & (POLLIN | POLLHUP))
			input = console_input(vm);
		else if (fds[2].revents)
			input = false;
	}
}

/* `who` did not leave KVM_RUN within the stop's grace: said once, and the VM marked. */
static void report_stuck(struct vm *vm, const char *who)
{
	pr_err("%s did not stop within %d s (the guest stops: %s): it is blocked in KVM_RUN, "
	       "most likely on a page of guest memory that never came",
	       who, VCPU_STOP_GRACE_S, vm_stop__name(vm__stop_reason(vm)));
	vm->vcpu_stuck = true;
}

enum vm_stop kvm__vm_run(struct vm *vm, unsigned int timeout_s)
{
	struct sigaction sa = { .sa_handler = on_kick }; /* no SA_RESTART */
	struct timespec grace;
	sigset_t block, old;
	int sigfd;

	sigaction(SIGUSR1, &sa, NULL);
	/* Threads inherit this mask: SIGINT/SIGTERM only reach the signalfd. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	sigfd = signalfd(-1, &block, SFD_CLOEXEC);

	for (unsigned int i = 0; i < vm->nr_cpus; i++) {
		int ret = vm->vcpus[i].remote ? 0 : vcpu__start(&vm->vcpus[i]);

		if (ret) {
			pr_err("vCPU %u: thread: %s", i, strerror(-ret));
			vm__request_stop(vm, VM_STOP_KVM);
			break;
		}
	}
	serve(vm, sigfd, timeout_s);
	/* serve() may return on a poll error without a reason; make sure. */
	vm__request_stop(vm, VM_STOP_KVM);
	/*
	 * No vCPU can start or pause any more (vcpu__resume/vcpu__pause see the
	 * stop). A vCPU blocked in the kernel on a page of guest memory that
	 * never comes (a userfault waits for it or SIGKILL) cannot be joined:
	 * it is named, and the caller exits without it.
	 */
	clock_gettime(CLOCK_REALTIME, &grace);
	grace.tv_sec += VCPU_STOP_GRACE_S;
	/* A pause (a vCPU move) holds the lock while it waits for its vCPU: the same. */
	if (pthread_mutex_timedlock(&vm->vcpu_lock, &grace)) {
		report_stuck(vm, "a vCPU being paused");
	} else {
		for (unsigned int i = 0; i < vm->nr_cpus && !vm->vcpu_stuck; i++) {
			if (vcpu__join(&vm->vcpus[i], &grace)) {
				char who[32];

				snprintf(who, sizeof(who), "vCPU %u", i);
				report_stuck(vm, who);
			}
		}
		pthread_mutex_unlock(&vm->vcpu_lock);
	}

	if (sigfd >= 0)
		close(sigfd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return vm__stop_reason(vm);
}
