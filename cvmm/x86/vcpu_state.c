// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <x86intrin.h>

#include "cvmm/x86/vcpu_state.h"

#define HDR_LEN		      16
#define SEC_HDR_LEN	      8
#define MSR_REC_LEN	      12
#define MSR_IA32_TSC	      0x10
#define MSR_IA32_TSC_DEADLINE 0x6e0

/* Fixed-size sections: where each lives in struct vcpu_state. */
static const struct {
	size_t offset;
	size_t size;
} fixed[VCPU_SEC_COUNT + 1] = {
	[VCPU_SEC_REGS] = { offsetof(struct vcpu_state, regs), sizeof(struct kvm_regs) },
	[VCPU_SEC_SREGS] = { offsetof(struct vcpu_state, sregs), sizeof(struct kvm_sregs) },
	[VCPU_SEC_FPU] = { offsetof(struct vcpu_state, fpu), sizeof(struct kvm_fpu) },
	[VCPU_SEC_XSAVE] = { offsetof(struct vcpu_state, xsave), sizeof(struct kvm_xsave) },
	[VCPU_SEC_XCRS] = { offsetof(struct vcpu_state, xcrs), sizeof(struct kvm_xcrs) },
	[VCPU_SEC_LAPIC] = { offsetof(struct vcpu_state, lapic), sizeof(struct kvm_lapic_state) },
	[VCPU_SEC_EVENTS] = { offsetof(struct vcpu_state, events), sizeof(struct kvm_vcpu_events) },
	[VCPU_SEC_DEBUGREGS] = { offsetof(struct vcpu_state, debugregs),
				 sizeof(struct kvm_debugregs) },
	[VCPU_SEC_MP_STATE] = { offsetof(struct vcpu_state, mp_state),
				sizeof(struct kvm_mp_state) },
};

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static size_t msrs_len(const struct vcpu_state *st)
{
	return 4 + (size_t)st->nr_msrs * MSR_REC_LEN;
}

size_t vcpu_state__size(const struct vcpu_state *st)
{
	size_t n = HDR_LEN + SEC_HDR_LEN + msrs_len(st);

	for (unsigned int id = 1; id <= VCPU_SEC_COUNT; id++)
		if (fixed[id].size)
			n += SEC_HDR_LEN + fixed[id].size;
	return n;
}

long vcpu_state__serialize(const struct vcpu_state *st, uint8_t *buf, size_t len)
{
	uint8_t *p = buf;

	if (st->nr_msrs > VCPU_STATE_MAX_MSRS || len < vcpu_state__size(st))
		return -ENOSPC;
	memcpy(p, VCPU_STATE_MAGIC, 8);
	put32(p + 8, VCPU_STATE_VERSION);
	put32(p + 12, VCPU_SEC_COUNT);
	p += HDR_LEN;
	for (unsigned int id = 1; id <= VCPU_SEC_COUNT; id++) {
		if (id == VCPU_SEC_MSRS) {
			put32(p, id);
			put32(p + 4, (uint32_t)msrs_len(st));
			put32(p + 8, st->nr_msrs);
			p += SEC_HDR_LEN + 4;
			for (uint32_t i = 0; i < st->nr_msrs; i++, p += MSR_REC_LEN) {
				put32(p, st->msrs[i].index);
				put64(p + 4, st->msrs[i].value);
			}
			continue;
		}
		put32(p, id);
		put32(p + 4, (uint32_t)fixed[id].size);
		memcpy(p + SEC_HDR_LEN, (const uint8_t *)st + fixed[id].offset, fixed[id].size);
		p += SEC_HDR_LEN + fixed[id].size;
	}
	return p - buf;
}

static int parse_msrs(const uint8_t *p, uint32_t len, struct vcpu_state *st)
{
	uint32_t n;

	if (len < 4)
		return -EBADMSG;
	n = get32(p);
	if (n > VCPU_STATE_MAX_MSRS || len != 4 + (size_t)n * MSR_REC_LEN)
		return -EBADMSG;
	st->nr_msrs = n;
	for (uint32_t i = 0; i < n; i++) {
		st->msrs[i].index = get32(p + 4 + i * MSR_REC_LEN);
		st->msrs[i].value = get64(p + 8 + i * MSR_REC_LEN);
	}
	return 0;
}

int vcpu_state__deserialize(const uint8_t *buf, size_t len, struct vcpu_state *st)
{
	bool seen[VCPU_SEC_COUNT + 1] = { false };
	const uint8_t *p = buf, *end = buf + len;
	uint32_t nsec;

	if (len < HDR_LEN || memcmp(buf, VCPU_STATE_MAGIC, 8))
		return -EBADMSG;
	if (get32(buf + 8) != VCPU_STATE_VERSION)
		return -EPROTONOSUPPORT;
	nsec = get32(buf + 12);
	memset(st, 0, sizeof(*st));
	p += HDR_LEN;
	for (uint32_t s = 0; s < nsec; s++) {
		uint32_t id, slen;

		if ((size_t)(end - p) < SEC_HDR_LEN)
			return -EBADMSG;
		id = get32(p);
		slen = get32(p + 4);
		p += SEC_HDR_LEN;
		if ((size_t)(end - p) < slen)
			return -EBADMSG;
		if (id == VCPU_SEC_MSRS) {
			if (parse_msrs(p, slen, st))
				return -EBADMSG;
			seen[id] = true;
		} else if (id >= 1 && id <= VCPU_SEC_COUNT) {
			if (slen != fixed[id].size || seen[id])
				return -EBADMSG;
			memcpy((uint8_t *)st + fixed[id].offset, p, slen);
			seen[id] = true;
		}
		/* Unknown ids are skipped: a newer writer may add sections. */
		p += slen;
	}
	if (p != end)
		return -EBADMSG;
	for (unsigned int id = 1; id <= VCPU_SEC_COUNT; id++)
		if (!seen[id])
			return -EBADMSG;
	return 0;
}

/* Thin ioctl wrapper: -1 becomes -errno. */
static int vcpu_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

static int save_msrs(int fd, const uint32_t *index, uint32_t n, struct vcpu_state *st)
{
	struct kvm_msrs *msrs;
	int got;

	if (n > VCPU_STATE_MAX_MSRS)
		return -E2BIG;
	msrs = calloc(1, sizeof(*msrs) + n * sizeof(struct kvm_msr_entry));
	if (!msrs)
		return -ENOMEM;
	msrs->nmsrs = n;
	for (uint32_t i = 0; i < n; i++)
		msrs->entries[i].index = index[i];
	/* KVM_GET_MSRS returns how many it read; it stops at the first it cannot. */
	got = ioctl(fd, KVM_GET_MSRS, msrs);
	if (got < 0) {
		got = -errno;
		free(msrs);
		return got;
	}
	st->nr_msrs = (uint32_t)got;
	for (int i = 0; i < got; i++)
		st->msrs[i] = (struct vcpu_msr){ msrs->entries[i].index, msrs->entries[i].data };
	free(msrs);
	return got == (int)n ? 0 : -EIO;
}

int vcpu_state__save(int fd, const uint32_t *msr_index, uint32_t nr_msr_index,
		     struct vcpu_state *st)
{
	int ret;

	memset(st, 0, sizeof(*st));
	if ((ret = vcpu_ioctl(fd, KVM_GET_MP_STATE, &st->mp_state)) ||
	    (ret = vcpu_ioctl(fd, KVM_GET_REGS, &st->regs)) ||
	    (ret = vcpu_ioctl(fd, KVM_GET_SREGS, &st->sregs)) ||
	    (ret = vcpu_ioctl(fd, KVM_GET_FPU, &st->fpu)) ||
	    (ret = vcpu_ioctl(fd, KVM_GET_XSAVE, &st->xsave)) ||
	    (ret = vcpu_ioctl(fd, KVM_GET_XCRS, &st->xcrs)) ||
	    (ret = vcpu_ioctl(fd, KVM_GET_LAPIC, &st->lapic)) ||
	    (ret = vcpu_ioctl(fd, KVM_GET_VCPU_EVENTS, &st->events)) ||
	    (ret = vcpu_ioctl(fd, KVM_GET_DEBUGREGS, &st->debugregs)))
		return ret;
	return save_msrs(fd, msr_index, nr_msr_index, st);
}

static int restore_msrs(int fd, const struct vcpu_state *st)
{
	struct kvm_msrs *msrs;
	int put;

	msrs = calloc(1, sizeof(*msrs) + st->nr_msrs * sizeof(struct kvm_msr_entry));
	if (!msrs)
		return -ENOMEM;
	msrs->nmsrs = st->nr_msrs;
	for (uint32_t i = 0; i < st->nr_msrs; i++) {
		msrs->entries[i].index = st->msrs[i].index;
		msrs->entries[i].data = st->msrs[i].value;
	}
	put = ioctl(fd, KVM_SET_MSRS, msrs);
	put = put < 0 ? -errno : put == (int)st->nr_msrs ? 0 : -EIO;
	free(msrs);
	return put;
}

/*
 * The TSC goes on from the saved value. Restoring IA32_TSC alone is not
 * enough: KVM treats a host write within one second of the VM's expected TSC
 * as an attempt to synchronise vCPUs (kvm_synchronize_tsc()) and matches the
 * VM's offset instead, so a guest moved in its first second sees its TSC
 * jump back (seen in tests/progs/vcpu-state-test). KVM_VCPU_TSC_OFFSET (Linux
 * 5.16+) sets the offset directly: guest TSC = saved value now, i.e. the TSC
 * stands still while the vCPU is away, as with the MSR write. It assumes the
 * guest's TSC runs at this host's rate (no TSC scaling). Without the
 * attribute the MSR write stands.
 */
/*
 * The TSC-deadline timer, written again once the LAPIC is restored and the
 * TSC goes on from the saved value. KVM drops a write of TSC_DEADLINE while
 * the LAPIC timer is not in TSC-deadline mode, which it is not in a fresh
 * vCPU when the MSRs are restored; and a deadline armed against the TSC the
 * vCPU had before its offset was set would fire late by as much as two
 * VMs' TSCs differ. Without this a vCPU moved to another node lost its timer
 * and could wait forever (CPU bring-up hung in tests/sim/vc-evict.sh).
 */
static int rearm_deadline(int fd, const struct vcpu_state *st)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} one = { .hdr.nmsrs = 1, .e.index = MSR_IA32_TSC_DEADLINE };

	for (uint32_t i = 0; i < st->nr_msrs; i++) {
		if (st->msrs[i].index != MSR_IA32_TSC_DEADLINE)
			continue;
		one.e.data = st->msrs[i].value;
		return ioctl(fd, KVM_SET_MSRS, &one) == 1 ? 0 : -EIO;
	}
	return 0;
}

static int restore_tsc(int fd, const struct vcpu_state *st)
{
	struct kvm_device_attr attr = { .group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET };
	uint64_t offset;

	if (ioctl(fd, KVM_HAS_DEVICE_ATTR, &attr) < 0)
		return 0;
	for (uint32_t i = 0; i < st->nr_msrs; i++) {
		if (st->msrs[i].index != MSR_IA32_TSC)
			continue;
		offset = st->msrs[i].value - __rdtsc();
		attr.addr = (uintptr_t)&offset;
		return vcpu_ioctl(fd, KVM_SET_DEVICE_ATTR, &attr);
	}
	return 0;
}

/*
 * Order matters: SREGS before MSRS and LAPIC (EFER and the APIC base live
 * in sregs), FPU, then XCRS, then XSAVE (XCR0 decides which XSAVE
 * components are valid, and XSAVE is a superset of the FPU state), the
 * TSC-deadline MSR again after the LAPIC (rearm_deadline), MP state and
 * pending events last so nothing above clears them.
 *
 * XCRS: a host without XSAVE (the sim nodes' qemu64 CPU) reports none and
 * refuses KVM_SET_XCRS with EINVAL, so an empty list is not written back.
 *
 * TR: KVM reports a loaded TSS as busy (type 11). Written back, a busy TR
 * aborts QEMU's TCG on the guest's next interrupt from CPL 3 when the node
 * itself is emulated (NOTES-sim.md, "invalid tss type"). Type 9 (available)
 * is what a fresh VMCB holds and KVM accepts it, so restore writes 9.
 */
int vcpu_state__restore(int fd, const struct vcpu_state *st)
{
	struct kvm_sregs sregs = st->sregs;
	struct kvm_lapic_state lapic = st->lapic;
	struct kvm_xsave xsave = st->xsave;
	struct kvm_xcrs xcrs = st->xcrs;
	struct kvm_vcpu_events events = st->events;
	struct kvm_debugregs debugregs = st->debugregs;
	struct kvm_mp_state mp_state = st->mp_state;
	struct kvm_regs regs = st->regs;
	struct kvm_fpu fpu = st->fpu;
	int ret;

	if (sregs.tr.type == 11)
		sregs.tr.type = 9;
	if ((ret = vcpu_ioctl(fd, KVM_SET_SREGS, &sregs)) ||
	    (ret = vcpu_ioctl(fd, KVM_SET_REGS, &regs)) || (ret = restore_msrs(fd, st)) ||
	    (ret = restore_tsc(fd, st)) || (ret = vcpu_ioctl(fd, KVM_SET_FPU, &fpu)) ||
	    (xcrs.nr_xcrs && (ret = vcpu_ioctl(fd, KVM_SET_XCRS, &xcrs))) ||
	    (ret = vcpu_ioctl(fd, KVM_SET_XSAVE, &xsave)) ||
	    (ret = vcpu_ioctl(fd, KVM_SET_LAPIC, &lapic)) || (ret = rearm_deadline(fd, st)) ||
	    (ret = vcpu_ioctl(fd, KVM_SET_DEBUGREGS, &debugregs)) ||
	    (ret = vcpu_ioctl(fd, KVM_SET_VCPU_EVENTS, &events)) ||
	    (ret = vcpu_ioctl(fd, KVM_SET_MP_STATE, &mp_state)))
		return ret;
	return 0;
}

int vcpu_state__settle(int fd, struct kvm_run *run)
{
	int ret;

	run->immediate_exit = 1;
	ret = ioctl(fd, KVM_RUN, 0) < 0 ? -errno : 0;
	run->immediate_exit = 0;
	/* -EINTR is success: KVM completed the I/O and went no further. */
	return ret == -EINTR ? 0 : ret ? ret : -EAGAIN;
}

int vcpu_state__msr_list(int kvm_fd, int fd, uint32_t *index, uint32_t max)
{
	struct kvm_msr_list probe = { .nmsrs = 0 }, *list;
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entry;
	} one;
	uint32_t n = 0;

	/* The first call fails with E2BIG and tells how many there are. */
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return -errno;
	list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(list->indices[0]));
	if (!list)
		return -ENOMEM;
	list->nmsrs = probe.nmsrs;
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		int ret = -errno;

		free(list);
		return ret;
	}
	for (uint32_t i = 0; i < list->nmsrs && n < max; i++) {
		memset(&one, 0, sizeof(one));
		one.hdr.nmsrs = 1;
		one.entry.index = list->indices[i];
		if (ioctl(fd, KVM_GET_MSRS, &one) == 1)
			index[n++] = list->indices[i];
	}
	free(list);
	return (int)n;
}
