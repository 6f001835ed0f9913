/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Booting a guest on this node's KVM: the part of `cvmm run` that `cvmm node`
 * shares. Every input is read and checked before /dev/kvm is opened, so a bad
 * kernel, initrd or size costs one error line and starts nothing.
 */
#ifndef CVMM_GUEST_H
#define CVMM_GUEST_H

#include <stdint.h>

#include "cvmm/numa.h"
#include "cvmm/vm.h"

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
	RUN_PEER_FAILED = 8, /* cvmm node: another node of the virtual computer failed */
};

/*
 * Hooks for a node of a multi-node virtual computer: mem_ready runs once
 * guest RAM exists and before anything is written to it (the DSM attaches
 * there); stopped runs after the VM stopped, or failed to boot after
 * mem_ready, before it is destroyed. Either may be NULL; a mem_ready failure
 * stops the boot (RUN_KVM_FAILURE), and mem_ready cleans up after itself.
 */
struct guest_hooks {
	int (*mem_ready)(struct vm *vm, void *arg);
	void (*stopped)(struct vm *vm, enum vm_stop stop, void *arg);
	void *arg;
};

struct guest_spec {
	const char *kernel;
	const char *initrd; /* NULL: none */
	const char *append;
	unsigned int cpus;
	uint64_t mem;
	unsigned int timeout;		  /* seconds; 0: none */
	const struct guest_hooks *hooks;  /* NULL: none */
	const struct numa_topology *numa; /* NULL: no SRAT/SLIT */
	/*
	 * One node of several (cvmm node): a joining node loads nothing and
	 * runs no boot CPU, its vCPUs wait for the guest's PV start; a node
	 * without devices has no console and forwards device accesses.
	 */
	bool joining;
	bool no_devices;
	bool node_clocks; /* one node of several: tell the guest (docs/abi.md) */
};

/* Reads and checks the inputs, boots, runs until the guest stops. A run_status. */
int guest__run(const struct guest_spec *spec);

#endif
