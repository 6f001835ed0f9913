// SPDX-License-Identifier: GPL-2.0
/*
 * One thread per vCPU. The loop calls KVM_RUN and hands the exit to
 * vcpu__handle_exit(); it knows nothing about devices, DSM or migration.
 * To stop, vm__request_stop() sets immediate_exit and sends SIGUSR1, whose
 * empty handler makes KVM_RUN return -EINTR. vcpu__pause() does the same
 * for one vCPU, whose thread then completes the last exit's instruction and
 * ends, so that its state can be saved (a move to another node).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "cvmm/exit.h"
#include "cvmm/hypercall.h"
#include "cvmm/kvm.h"
#include "cvmm/lib/log.h"
#include "cvmm/x86/vcpu_state.h"

/*
 * After a triple fault, a KVM failure or a timeout, the registers say where
 * the guest was: one line, enough to tell a loader bug from a guest bug or
 * to look a hang up in the guest's System.map.
 */
static void dump_state(const struct vcpu *vcpu)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return;
	pr_info("vCPU %u: rip 0x%llx rsp 0x%llx cs 0x%x/%u cr0 0x%llx cr3 0x%llx cr4 0x%llx efer "
		"0x%llx",
		vcpu->id, regs.rip, regs.rsp, sregs.cs.selector,
		sregs.cs.db  ? 32
		: sregs.cs.l ? 64
			     : 16,
		sregs.cr0, sregs.cr3, sregs.cr4, sregs.efer);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	sigset_t kick;

	sigemptyset(&kick);
	sigaddset(&kick, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);

	while (vm__stop_reason(vm) == VM_RUNNING) {
		enum vm_stop stop;

		if (atomic_load(&vcpu->pause)) {
			int ret = vcpu_state__settle(vcpu->fd, vcpu->run);

			if (ret) {
				pr_err("vCPU %u: completing its last exit before a pause: %s",
				       vcpu->id, strerror(-ret));
				vm__request_stop(vm, VM_STOP_KVM);
			}
			break;
		}
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			pr_err("vCPU %u: KVM_RUN: %s", vcpu->id, strerror(errno));
			vm__request_stop(vm, VM_STOP_KVM);
			break;
		}
		stop = vcpu__handle_exit(vm, vcpu->run);
		if (stop == VM_STOP_KVM || stop == VM_STOP_SHUTDOWN)
			dump_state(vcpu);
		if (stop != VM_RUNNING)
			vm__request_stop(vm, stop);
	}
	/* A guest that ran out of time: where each vCPU was stuck. */
	if (vm__stop_reason(vm) == VM_STOP_TIMEOUT)
		dump_state(vcpu);
	return NULL;
}

int vcpu__start(struct vcpu *vcpu)
{
	int ret;

	atomic_store(&vcpu->pause, false);
	ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);

	if (ret)
		return -ret;
	vcpu->started = true;
	return 0;
}

int vcpu__join(struct vcpu *vcpu, const struct timespec *deadline)
{
	if (vcpu->started && pthread_timedjoin_np(vcpu->thread, NULL, deadline))
		return -ETIMEDOUT;
	vcpu->started = false;
	return 0;
}

int vcpu__resume(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	int ret = -ECANCELED;

	pthread_mutex_lock(&vm->vcpu_lock);
	if (vm__stop_reason(vm) == VM_RUNNING && !vcpu->started) {
		vcpu->run->immediate_exit = 0;
		ret = vcpu__start(vcpu);
	}
	pthread_mutex_unlock(&vm->vcpu_lock);
	return ret;
}

int vcpu__pause(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	int ret = 0;

	pthread_mutex_lock(&vm->vcpu_lock);
	if (vm__stop_reason(vm) != VM_RUNNING || !vcpu->started) {
		ret = -ECANCELED;
	} else {
		atomic_store(&vcpu->pause, true);
		vcpu->run->immediate_exit = 1;	     /* about to enter KVM_RUN */
		pthread_kill(vcpu->thread, SIGUSR1); /* in KVM_RUN */
		hypercall__kick(vm, vcpu->id);	     /* in a SPIN_WAIT */
		/* Leaving now: vm__request_stop() must not signal a thread being joined. */
		vcpu->started = false;
		pthread_join(vcpu->thread, NULL);
		if (vm__stop_reason(vm) != VM_RUNNING)
			ret = -ECANCELED;
	}
	pthread_mutex_unlock(&vm->vcpu_lock);
	return ret;
}
