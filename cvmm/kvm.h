/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VM lifecycle on /dev/kvm: create (KVM, guest RAM, arch setup, vCPUs,
 * devices), run (one thread per vCPU plus the console on the calling
 * thread), destroy (in reverse).
 */
#ifndef CVMM_KVM_H
#define CVMM_KVM_H

#include "cvmm/vm.h"

struct vm_config {
	uint64_t mem_size;
	unsigned int nr_cpus;
	int console_in; /* -1: no input */
	int console_out;
	bool no_devices;  /* another node hosts the devices (cvmm/cluster.c) */
	bool node_clocks; /* one node of several: the guest is told (docs/abi.md) */
};

/* 0 or -errno, with one pr_err() line; on failure vm is torn down. */
int kvm__vm_create(struct vm *vm, const struct vm_config *cfg);
void kvm__vm_destroy(struct vm *vm);

/*
 * Starts every vCPU and serves the console until the VM stops or
 * timeout_s seconds pass (0: no limit). Returns why it stopped.
 */
enum vm_stop kvm__vm_run(struct vm *vm, unsigned int timeout_s);

/* The guest's kvmclock, in ns (KVM_GET_CLOCK, KVM_SET_CLOCK). 0 or -errno. */
int kvm__get_clock(struct vm *vm, uint64_t *ns);
int kvm__set_clock(struct vm *vm, uint64_t ns);

/* vCPU threads (cvmm/vcpu.c). */
int vcpu__start(struct vcpu *vcpu);
/* Waits for the vCPU's thread until `deadline` (CLOCK_REALTIME): 0 or -ETIMEDOUT. */
int vcpu__join(struct vcpu *vcpu, const struct timespec *deadline);

/*
 * While the VM runs, from another thread: vcpu__resume starts the vCPU's
 * thread unless the VM is stopping (-ECANCELED); vcpu__pause stops it
 * between two instructions (the last exit's I/O completed, so the state can
 * be saved) and waits for it. Both serialise with kvm__vm_run()'s teardown.
 */
int vcpu__resume(struct vcpu *vcpu);
int vcpu__pause(struct vcpu *vcpu);

/* The device models of a node, created in order, destroyed in reverse. */
int devices__init(struct vm *vm);
void devices__exit(struct vm *vm);

#endif
