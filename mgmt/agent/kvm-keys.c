// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mgmt/agent/kvm-keys.h"

void kvm_keys_release(struct kvm_keys *k)
{
	int *fds[] = { &k->vcpu, &k->vm, &k->kvm };

	for (unsigned int i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

int kvm_keys_hold(struct kvm_keys *k)
{
	int ret;

	k->kvm = k->vm = k->vcpu = -1;
	k->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->kvm < 0)
		return -errno;
	/* KVM's fds are close-on-exec: the agent's commands do not inherit them. */
	k->vm = ioctl(k->kvm, KVM_CREATE_VM, 0);
	if (k->vm < 0)
		goto fail;
	/* An in-kernel local APIC, so that the vCPU holds apic_sw_disabled. */
	if (ioctl(k->vm, KVM_CREATE_IRQCHIP, 0) < 0)
		goto fail;
	k->vcpu = ioctl(k->vm, KVM_CREATE_VCPU, 0);
	if (k->vcpu < 0)
		goto fail;
	return 0;
fail:
	ret = -errno;
	kvm_keys_release(k);
	return ret;
}
