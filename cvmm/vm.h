/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One virtual machine on this node: everything cvmm knows about it lives in
 * struct vm and is passed explicitly. There is no file-scope state, so a test
 * can hold several VMs (or several simulated nodes) in one process.
 */
#ifndef CVMM_VM_H
#define CVMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cvmm/bus.h"
#include "cvmm/mem.h"

struct kvm_run;
struct uart8250;
struct ioapic;
struct acpi_pm;
struct hypercalls;
struct numa_topology;
struct vm;

/*
 * Why the VM stopped. The numbering is internal; cmd_run maps each reason
 * to the exit status documented in docs/man/cvmm-run.md.
 */
enum vm_stop {
	VM_RUNNING = 0,
	VM_STOP_POWEROFF, /* the guest powered off (ACPI S5) */
	VM_STOP_RESET,	  /* the guest asked for a reset (ACPI reset register) */
	VM_STOP_SHUTDOWN, /* triple fault: KVM_EXIT_SHUTDOWN */
	VM_STOP_KVM,	  /* KVM failed, or an exit cvmm cannot handle */
	VM_STOP_TIMEOUT,  /* --timeout expired */
	VM_STOP_SIGNAL,	  /* SIGINT or SIGTERM to cvmm */
	VM_STOP_PEER,	  /* another node of the virtual computer failed */
	VM_STOP_LEFT,	  /* this node left the virtual computer, which goes on */
};

const char *vm_stop__name(enum vm_stop reason);

/*
 * What leaves this node when the VM is one node of a virtual computer
 * (cvmm/cluster.c). NULL when the VM is the whole computer. MSIs have their
 * own hook, vm->signal_msi.
 */
struct vm_cluster_ops {
	/* Ends the SPIN_WAIT of a vCPU, if another node runs it. */
	void (*kick)(struct vm *vm, unsigned int vcpu);
	/*
	 * A port-I/O (mmio false) or MMIO access that no device of this node
	 * claims: the I/O node's devices answer it. Blocks for a read. 0 or
	 * -errno; a failed read leaves zeros.
	 */
	int (*io)(struct vm *vm, bool mmio, uint64_t addr, uint8_t *data, uint32_t len,
		  bool is_write);
	/* The EOI of a level-triggered vector, on a node without the IOAPIC. */
	void (*eoi)(struct vm *vm, unsigned int vector);
	/* The VM stops for reason: called once, on the thread that stopped it. */
	void (*stopping)(struct vm *vm, enum vm_stop reason);
	/*
	 * A monitor command of the virtual computer (placement, vcpu-move,
	 * rtt, checksum, leave): writes the reply into out and returns true,
	 * or returns false for a command it does not know. Progress lines go
	 * to the client fd (-1: none) while it runs.
	 */
	bool (*command)(struct vm *vm, const char *line, char *out, size_t len, int client);
};

struct vcpu {
	struct vm *vm;
	unsigned int id;     /* vCPU index == APIC ID == ACPI processor UID */
	int fd;		     /* -1 until created */
	struct kvm_run *run; /* the vCPU's shared kvm_run page(s) */
	pthread_t thread;
	_Atomic bool started; /* read by vm__request_stop() from any thread */
	_Atomic bool pause;   /* vcpu__pause(): the thread leaves its loop */
	_Atomic bool remote;  /* another node runs it: no thread here (cvmm/cluster.c) */
};

struct vm_devices {
	struct uart8250 *com1;
	struct ioapic *ioapic;
	struct acpi_pm *pm;
};

struct vm {
	int kvm_fd;
	int vm_fd;
	int run_mmap_size;
	unsigned int nr_cpus;
	struct vcpu *vcpus;

	struct guest_mem mem;
	struct io_bus pio;
	struct io_bus mmio;
	/*
	 * Device models are not on any fast path (the console and power
	 * management), so one lock serialises every access to every device.
	 */
	pthread_mutex_t dev_lock;
	struct vm_devices dev;
	/* Starting and stopping vCPU threads while the VM runs (vCPU moves). */
	pthread_mutex_t vcpu_lock;

	/* The guest's console. */
	int console_in;
	int console_out;

	/*
	 * Delivers an MSI to the in-kernel LAPICs. A pointer, not a direct
	 * ioctl, so unit tests record interrupts without /dev/kvm and the
	 * multi-node monitor can route to remote vCPUs (DESIGN.md §3.8).
	 */
	int (*signal_msi)(struct vm *vm, uint64_t addr, uint32_t data);

	/* The rest of the virtual computer; NULL ops on a single node. */
	const struct vm_cluster_ops *cluster;
	void *cluster_priv;

	/* Hypercall state and counters (cvmm/hypercall.c). */
	struct hypercalls *hc;
	/* The guest's NUMA topology for the firmware tables; NULL: none. */
	const struct numa_topology *numa;
	/* One node of several, each with its own KVM and clock (docs/abi.md). */
	bool node_clocks;

	_Atomic int stop_reason; /* enum vm_stop; the first reason wins */
	int stop_event;		 /* eventfd, written once on stop; -1 if none */
	bool vcpu_stuck;	 /* a vCPU thread did not stop (kvm__vm_run) */
};

/* Initialises the parts of struct vm that need no KVM (buses, lock, fds). */
void vm__init_struct(struct vm *vm);

/*
 * Records why the VM stops (only the first reason counts) and kicks every
 * vCPU out of KVM_RUN. Safe from any thread, device handlers included.
 */
void vm__request_stop(struct vm *vm, enum vm_stop reason);
enum vm_stop vm__stop_reason(struct vm *vm);

/* Raises or lowers a GSI line (an IOAPIC pin). Called with dev_lock held. */
void vm__set_irq(struct vm *vm, unsigned int gsi, bool level);

/*
 * The EOI of a level-triggered IOAPIC vector: to this node's IOAPIC, or to the
 * I/O node's. Takes dev_lock.
 */
void vm__eoi(struct vm *vm, unsigned int vector);

#endif
