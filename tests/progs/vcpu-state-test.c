// SPDX-License-Identifier: GPL-2.0
/*
 * vcpu-state-test: vCPU state save/restore against a real KVM, the way vCPU
 * migration will use it (cvmm/x86/vcpu_state.h). A long-mode guest
 * (vcpu-state-guest.S) counts steps on port 0x20 with state in general, SSE
 * and x87 registers, an MSR, the LAPIC and the TSC. The test runs it in VM A
 * to step K1, then settles, saves, serializes, parses and restores that state
 * into a fresh vCPU of a new VM B with a copy of A's RAM, runs B to step K2,
 * moves it the same way to VM C and runs C to the end. The guest must report
 * every step exactly once and finish with the values a straight run gives.
 * Prints TAP; exits 0 only if every check passed. Needs /dev/kvm (a sim node).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "cvmm/x86/vcpu_state.h"

#define MEM_SIZE   (4u << 20)
#define CODE_GPA   0x1000u
#define PML4_GPA   0x2000u /* then PDPT, PD for 0-2M, PD for 3-4G */
#define STACK_GPA  0x7000u
#define RESULT_GPA 0x8000u /* VST_RESULT in the guest */
#define PORT_STEP  0x20
#define PORT_DONE  0x21
#define STEPS	   3000u
#define MOVE_AT_1  1000u
#define MOVE_AT_2  2000u
#define LCG_MUL	   0x5851f42d4c957f2dull
#define KGSBASE	   0x00007eefcafef00dull
#define MAX_CPUID  256

extern const uint8_t vst_guest[], vst_guest_end[];

struct tvm {
	int vm, vcpu;
	uint8_t *mem;
	struct kvm_run *run;
	size_t run_size;
};

static int kvm_fd;
static unsigned int nr_test, failed;

static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %u - ", cond ? "" : "not ", ++nr_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		failed++;
}

static void tvm_destroy(struct tvm *t)
{
	if (t->run)
		munmap(t->run, t->run_size);
	if (t->mem)
		munmap(t->mem, MEM_SIZE);
	if (t->vcpu >= 0)
		close(t->vcpu);
	if (t->vm >= 0)
		close(t->vm);
}

/* A VM like cvmm's (split irqchip: LAPIC in KVM), one vCPU with KVM's CPUID. */
static int tvm_create(struct tvm *t, const uint8_t *ram)
{
	struct kvm_enable_cap split = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 } };
	struct kvm_userspace_memory_region region = { .memory_size = MEM_SIZE };
	struct kvm_cpuid2 *cpuid;
	int ret;

	*t = (struct tvm){ .vm = -1, .vcpu = -1 };
	t->vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (t->vm < 0)
		return -errno;
	t->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->mem == MAP_FAILED) {
		t->mem = NULL;
		return -errno;
	}
	if (ram)
		memcpy(t->mem, ram, MEM_SIZE); /* what migration copies */
	region.userspace_addr = (uintptr_t)t->mem;
	if (ioctl(t->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0 ||
	    ioctl(t->vm, KVM_ENABLE_CAP, &split) < 0)
		return -errno;
	t->vcpu = ioctl(t->vm, KVM_CREATE_VCPU, 0);
	if (t->vcpu < 0)
		return -errno;
	t->run_size = (size_t)ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	t->run = mmap(NULL, t->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, t->vcpu, 0);
	if (t->run == MAP_FAILED) {
		t->run = NULL;
		return -errno;
	}
	cpuid = calloc(1, sizeof(*cpuid) + MAX_CPUID * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = MAX_CPUID;
	ret = ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0 ||
			      ioctl(t->vcpu, KVM_SET_CPUID2, cpuid) < 0
		      ? -errno
		      : 0;
	free(cpuid);
	return ret;
}

static void set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int code)
{
	*s = (struct kvm_segment){ .limit = 0xffffffff,
				   .selector = sel,
				   .type = type,
				   .present = 1,
				   .s = 1,
				   .l = code,
				   .db = !code,
				   .g = 1 };
}

/* Long mode, identity 0-2M and the LAPIC page, 2M pages; RIP at the guest. */
static int tvm_boot(struct tvm *t)
{
	uint64_t *pml4 = (uint64_t *)(t->mem + PML4_GPA);
	uint64_t *pdpt = pml4 + 512, *pd0 = pml4 + 1024, *pd3 = pml4 + 1536;
	struct kvm_regs regs = { .rip = CODE_GPA, .rsp = STACK_GPA, .rflags = 2, .r11 = STEPS };
	struct kvm_sregs sregs;

	memcpy(t->mem + CODE_GPA, vst_guest, (size_t)(vst_guest_end - vst_guest));
	pml4[0] = (PML4_GPA + 0x1000) | 3;
	pdpt[0] = (PML4_GPA + 0x2000) | 3;
	pdpt[3] = (PML4_GPA + 0x3000) | 3;
	pd0[0] = 0x83;
	pd3[(0xfee00000u >> 21) & 511] = 0xfee00000u | 0x83 | 0x10; /* PCD */
	if (ioctl(t->vcpu, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	set_seg(&sregs.cs, 0x08, 11, 1);
	set_seg(&sregs.ds, 0x10, 3, 0);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.cr3 = PML4_GPA;
	sregs.cr4 = 0x20 | 0x200 | 0x400; /* PAE, OSFXSR, OSXMMEXCPT */
	sregs.cr0 = 0x80000000 | 0x33;	  /* PG, NE, ET, MP, PE */
	sregs.efer = 0x500;		  /* LME, LMA */
	if (ioctl(t->vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(t->vcpu, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

enum { RUN_PAUSED, RUN_DONE, RUN_ERROR };

/*
 * Runs until the guest reports step stop_at (RUN_PAUSED, the OUT not yet
 * complete) or finishes. Every step must be *next, the one after the last.
 */
static int tvm_run(struct tvm *t, uint32_t stop_at, uint32_t *next, char *why, size_t len)
{
	for (;;) {
		struct kvm_run *r = t->run;
		uint32_t v;

		if (ioctl(t->vcpu, KVM_RUN, 0) < 0) {
			snprintf(why, len, "KVM_RUN: %s", strerror(errno));
			return RUN_ERROR;
		}
		if (r->exit_reason != KVM_EXIT_IO || r->io.direction != KVM_EXIT_IO_OUT ||
		    r->io.size != 4) {
			struct kvm_regs regs = { 0 };

			ioctl(t->vcpu, KVM_GET_REGS, &regs);
			snprintf(why, len, "unexpected exit %u at rip 0x%llx", r->exit_reason,
				 (unsigned long long)regs.rip);
			return RUN_ERROR;
		}
		memcpy(&v, (uint8_t *)r + r->io.data_offset, 4);
		if (r->io.port == PORT_DONE)
			return RUN_DONE;
		if (r->io.port != PORT_STEP || v != *next) {
			snprintf(why, len, "port 0x%x value %u, expected step %u", r->io.port, v,
				 *next);
			return RUN_ERROR;
		}
		(*next)++;
		if (v == stop_at)
			return RUN_PAUSED;
	}
}

/* Every field vcpu_state__restore() writes back unchanged must read back equal. */
static int same_state(const struct vcpu_state *a, const struct vcpu_state *b, char *why, size_t len)
{
	struct kvm_sregs sa = a->sregs, sb = b->sregs;

	sa.tr.type = sb.tr.type = 0; /* restore writes a busy TR as available */
	if (memcmp(&a->regs, &b->regs, sizeof(a->regs)))
		return snprintf(why, len, "REGS differ"), 0;
	if (memcmp(&sa, &sb, sizeof(sa)))
		return snprintf(why, len, "SREGS differ"), 0;
	if (memcmp(&a->fpu, &b->fpu, sizeof(a->fpu)))
		return snprintf(why, len, "FPU differs"), 0;
	if (memcmp(&a->xcrs, &b->xcrs, sizeof(a->xcrs)))
		return snprintf(why, len, "XCRS differ"), 0;
	if (a->lapic.regs[0x80] != b->lapic.regs[0x80])
		return snprintf(why, len, "LAPIC TPR differs"), 0;
	if (a->nr_msrs != b->nr_msrs)
		return snprintf(why, len, "%u MSRs, then %u", a->nr_msrs, b->nr_msrs), 0;
	for (uint32_t i = 0; i < a->nr_msrs; i++) {
		/*
		 * Clocks move on by themselves: the TSC (its monotony is the
		 * guest's check), Hyper-V's VP runtime and reference counter.
		 */
		if (a->msrs[i].index == 0x10 || a->msrs[i].index == 0x40000010 ||
		    a->msrs[i].index == 0x40000020)
			continue;
		if (a->msrs[i].value != b->msrs[i].value)
			return snprintf(why, len, "MSR 0x%x: 0x%llx, then 0x%llx", a->msrs[i].index,
					(unsigned long long)a->msrs[i].value,
					(unsigned long long)b->msrs[i].value),
			       0;
	}
	return 1;
}

/*
 * Moves the guest from *from into a new VM *to: settle, save, serialize,
 * parse, new VM with a copy of the RAM, restore. Reports each stage.
 */
static int move(struct tvm *from, struct tvm *to, const char *name)
{
	static struct vcpu_state saved, parsed, readback;
	static uint8_t buf[sizeof(struct vcpu_state) + 4096];
	uint32_t msrs[VCPU_STATE_MAX_MSRS];
	char why[160] = "";
	long len;
	int n, ret, same;

	ret = vcpu_state__settle(from->vcpu, from->run);
	n = ret ? ret : vcpu_state__msr_list(kvm_fd, from->vcpu, msrs, VCPU_STATE_MAX_MSRS);
	ret = n < 0 ? n : vcpu_state__save(from->vcpu, msrs, (uint32_t)n, &saved);
	len = ret ? ret : vcpu_state__serialize(&saved, buf, sizeof(buf));
	ret = len < 0 ? (int)len : vcpu_state__deserialize(buf, (size_t)len, &parsed);
	ok(!ret && !memcmp(&saved, &parsed, sizeof(saved)),
	   "%s: settled, saved (%d MSRs), %ld bytes serialized, parsed back identical%s%s", name, n,
	   len, ret ? ": " : "", ret ? strerror(-ret) : "");
	if (ret)
		return ret;

	ret = tvm_create(to, from->mem);
	if (!ret)
		ret = vcpu_state__restore(to->vcpu, &parsed);
	if (!ret)
		ret = vcpu_state__save(to->vcpu, msrs, (uint32_t)n, &readback);
	same = !ret && same_state(&saved, &readback, why, sizeof(why));
	ok(same, "%s: restored into a fresh vCPU of a new VM, state reads back equal%s%s", name,
	   same ? "" : ": ", ret ? strerror(-ret) : why);
	tvm_destroy(from);
	return ret;
}

int main(void)
{
	struct tvm a, b, c;
	uint32_t next = 1;
	uint64_t want_lcg = 0x9e3779b97f4a7c15ull, res[6];
	char why[160] = "";
	int ret;

	printf("1..9\n");
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		printf("Bail out! /dev/kvm: %s\n", strerror(errno));
		return 1;
	}
	ret = tvm_create(&a, NULL);
	if (!ret)
		ret = tvm_boot(&a);
	if (ret) {
		printf("Bail out! VM A: %s\n", strerror(-ret));
		return 1;
	}
	ret = tvm_run(&a, MOVE_AT_1, &next, why, sizeof(why));
	ok(ret == RUN_PAUSED, "VM A runs the guest to step %u%s%s", MOVE_AT_1, why[0] ? ": " : "",
	   why);
	if (ret != RUN_PAUSED || move(&a, &b, "A -> B"))
		return 1;
	ret = tvm_run(&b, MOVE_AT_2, &next, why, sizeof(why));
	ok(ret == RUN_PAUSED, "VM B continues the guest from step %u to step %u%s%s", MOVE_AT_1 + 1,
	   MOVE_AT_2, why[0] ? ": " : "", why);
	if (ret != RUN_PAUSED || move(&b, &c, "B -> C"))
		return 1;
	ret = tvm_run(&c, 0, &next, why, sizeof(why));
	ok(ret == RUN_DONE && next == STEPS + 1,
	   "the guest continued in B and C and reported each of steps 1..%u once%s%s", STEPS,
	   why[0] ? ": " : "", why);

	memcpy(res, c.mem + RESULT_GPA, sizeof(res));
	for (uint64_t i = 1; i <= STEPS; i++)
		want_lcg = want_lcg * LCG_MUL + i;
	ok(res[0] == want_lcg && res[1] == STEPS && res[2] == STEPS,
	   "registers survived: LCG 0x%llx (want 0x%llx), SSE count %llu, x87 count %llu",
	   (unsigned long long)res[0], (unsigned long long)want_lcg, (unsigned long long)res[1],
	   (unsigned long long)res[2]);
	ok(res[3] == 0 && res[4] == KGSBASE && res[5] == 0x30,
	   "TSC never went backwards (%llu times), KERNEL_GS_BASE 0x%llx, LAPIC TPR 0x%llx",
	   (unsigned long long)res[3], (unsigned long long)res[4], (unsigned long long)res[5]);
	tvm_destroy(&c);
	close(kvm_fd);
	return failed ? 1 : 0;
}
