/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Handling of one vCPU exit, apart from the KVM_RUN call that produced it
 * (as in Firecracker's handle_kvm_exit): a pure function of the VM's devices
 * and the kvm_run page, so unit tests feed it hand-built struct kvm_run
 * values without /dev/kvm.
 */
#ifndef CVMM_EXIT_H
#define CVMM_EXIT_H

#include "cvmm/vm.h"

struct kvm_run;

/*
 * Returns VM_RUNNING to re-enter the guest, or the reason the VM must stop.
 * Common exits are handled here in one switch; the rest go to
 * arch__handle_exit().
 */
enum vm_stop vcpu__handle_exit(struct vm *vm, struct kvm_run *run);

/*
 * The architecture's exits. Same convention, plus -EOPNOTSUPP (as an int)
 * for an exit it does not know, which the caller reports once as unexpected.
 */
int arch__handle_exit(struct vm *vm, struct kvm_run *run);

/*
 * A hypercall: an OUT to HC_PORT (cvmm/hypercall.h). The arch code reads the
 * arguments from the vCPU's registers, dispatches, and writes the result
 * back. Same return convention as vcpu__handle_exit().
 */
enum vm_stop arch__hypercall(struct vm *vm, struct kvm_run *run);

#endif
