/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A vCPU's complete architectural state, as KVM exposes it, and its
 * serialized form: what vCPU migration between nodes sends.
 *
 * Byte format, version 1 (all integers little-endian; x86 only):
 *   "CVMMVCPU"  8 bytes magic
 *   u32 version (1), u32 section count
 *   per section: u32 id, u32 length, length bytes of payload
 * Payloads are the KVM uapi structs byte for byte (they are kernel ABI and
 * so stable), except MSRS: u32 count, then count x (u32 index, u64 value).
 * A reader rejects a wrong magic, another version, a truncated buffer, a
 * fixed-size section of the wrong length or a missing section; it skips
 * section ids it does not know, so version 1 readers tolerate additions.
 */
#ifndef CVMM_X86_VCPU_STATE_H
#define CVMM_X86_VCPU_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#define VCPU_STATE_MAGIC    "CVMMVCPU"
#define VCPU_STATE_VERSION  1
#define VCPU_STATE_MAX_MSRS 256

enum vcpu_state_section {
	VCPU_SEC_REGS = 1,
	VCPU_SEC_SREGS,
	VCPU_SEC_FPU,
	VCPU_SEC_XSAVE,
	VCPU_SEC_XCRS,
	VCPU_SEC_MSRS,
	VCPU_SEC_LAPIC,
	VCPU_SEC_EVENTS,
	VCPU_SEC_DEBUGREGS,
	VCPU_SEC_MP_STATE,
	VCPU_SEC_COUNT = VCPU_SEC_MP_STATE
};

struct vcpu_msr {
	uint32_t index;
	uint64_t value;
};

struct vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_debugregs debugregs;
	struct kvm_mp_state mp_state;
	uint32_t nr_msrs;
	struct vcpu_msr msrs[VCPU_STATE_MAX_MSRS];
};

/* Bytes vcpu_state__serialize() needs for st. */
size_t vcpu_state__size(const struct vcpu_state *st);

/* Writes st into buf. Returns the bytes written, or -ENOSPC. */
long vcpu_state__serialize(const struct vcpu_state *st, uint8_t *buf, size_t len);

/* Parses buf into st. 0, -EBADMSG (not ours / damaged) or -EPROTONOSUPPORT. */
int vcpu_state__deserialize(const uint8_t *buf, size_t len, struct vcpu_state *st);

/*
 * Reads the state of vCPU fd; msr_index lists the MSRs to save
 * (KVM_GET_MSR_INDEX_LIST). 0 or -errno. The vCPU must not be running.
 */
int vcpu_state__save(int fd, const uint32_t *msr_index, uint32_t nr_msr_index,
		     struct vcpu_state *st);

/* Writes st into vCPU fd, in the order KVM needs. 0 or -errno. */
int vcpu_state__restore(int fd, const struct vcpu_state *st);

/*
 * Completes the instruction of the last exit before a save. After an IO or
 * MMIO exit the guest is mid-instruction (RIP still at the OUT, an IN's
 * result not yet in RAX) until KVM_RUN is entered again; KVM finishes it and
 * returns -EINTR at once when run->immediate_exit is set. Without this a
 * restored guest repeats the OUT or loses the IN (KVM's api.rst, "kvm_run").
 * Call it from the vCPU's own thread, after the exit was handled.
 * 0 or -errno.
 */
int vcpu_state__settle(int fd, struct kvm_run *run);

/*
 * The MSRs to save: KVM_GET_MSR_INDEX_LIST of kvm_fd, keeping those vCPU fd
 * (its CPUID already set) can read; KVM lists some that depend on CPUID
 * features or host support, and KVM_GET_MSRS stops at the first it cannot
 * read. Returns how many went into index (at most max), or -errno.
 */
int vcpu_state__msr_list(int kvm_fd, int fd, uint32_t *index, uint32_t max);

#endif
