// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-smoke: proves that a node's KVM runs guests. It runs the guests of
 * kvm-smoke-guest.S twice, once in 32-bit protected mode with paging (PSE)
 * and once in long mode, and checks what they did:
 *   - the mode signature on port 0x10,
 *   - the sum 1..1000 on port 0x11 (the guest really executed a loop),
 *   - the value read back through a remapped virtual address on port 0x12,
 *   - the 16 dwords in guest-physical memory where paging put them,
 *   - a clean HLT exit.
 * Prints one TAP line per mode; exits 0 only when every check passed.
 *
 * Written directly against the KVM API, like the kernel's KVM selftests, so
 * that it tests the node and nothing of ours.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEM_SIZE   (16u << 20)
#define CODE_GPA   0x1000u
#define PT_GPA	   0x2000u /* page tables from here */
#define SUM_1_1000 500500u
#define PATTERN	   0xa5a50000u

extern const uint8_t smoke_guest32[], smoke_guest32_end[];
extern const uint8_t smoke_guest64[], smoke_guest64_end[];

struct mode {
	const char *name;
	const uint8_t *code, *code_end;
	uint32_t signature;
	uint32_t data_gpa; /* where the guest's virtual data page lands */
	void (*setup)(uint8_t *mem, struct kvm_sregs *s);
};

struct smoke_vm {
	int kvm, vm, vcpu;
	uint8_t *mem;
	struct kvm_run *run;
	size_t run_size;
};

static void set_flat_segments(struct kvm_sregs *s, int long_mode)
{
	struct kvm_segment code = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = 0x08,
		.type = 11,
		.present = 1,
		.dpl = 0,
		.db = !long_mode,
		.s = 1,
		.l = long_mode,
		.g = 1,
	};
	struct kvm_segment data = code;

	data.selector = 0x10;
	data.type = 3;
	data.db = 1;
	data.l = 0;
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
}

/* 32-bit paging with 4 MiB pages: 0-4 MiB identity, 4-8 MiB -> 8-12 MiB. */
static void setup32(uint8_t *mem, struct kvm_sregs *s)
{
	uint32_t *pd = (uint32_t *)(mem + PT_GPA);

	pd[0] = 0x00000000 | 0x83; /* present, writable, 4 MiB */
	pd[1] = 0x00800000 | 0x83;
	set_flat_segments(s, 0);
	s->cr3 = PT_GPA;
	s->cr4 = 0x10;		    /* PSE */
	s->cr0 = 0x80000001 | 0x10; /* PG, PE, ET */
	s->efer = 0;
}

/* 4-level paging with 2 MiB pages: 0-2 MiB identity, 1 GiB -> 2 MiB. */
static void setup64(uint8_t *mem, struct kvm_sregs *s)
{
	uint64_t *pml4 = (uint64_t *)(mem + PT_GPA);
	uint64_t *pdpt = (uint64_t *)(mem + PT_GPA + 0x1000);
	uint64_t *pd0 = (uint64_t *)(mem + PT_GPA + 0x2000);
	uint64_t *pd1 = (uint64_t *)(mem + PT_GPA + 0x3000);

	pml4[0] = (PT_GPA + 0x1000) | 0x3;
	pdpt[0] = (PT_GPA + 0x2000) | 0x3;
	pdpt[1] = (PT_GPA + 0x3000) | 0x3;
	pd0[0] = 0x000000 | 0x83;
	pd1[0] = 0x200000 | 0x83;
	set_flat_segments(s, 1);
	s->cr3 = PT_GPA;
	s->cr4 = 0x20;		    /* PAE */
	s->cr0 = 0x80000001 | 0x10; /* PG, PE, ET */
	s->efer = 0x500;	    /* LME, LMA */
}

static const struct mode modes[] = {
	{ "32-bit protected mode with paging", smoke_guest32, smoke_guest32_end, 0xc0de0032,
	  0x800000, setup32 },
	{ "long mode", smoke_guest64, smoke_guest64_end, 0xc0de0064, 0x200000, setup64 },
};

static int check(int ok, const char *what, char *why, size_t len)
{
	if (!ok && !why[0])
		snprintf(why, len, "%s", what);
	return ok;
}

static int vm_create(struct smoke_vm *v, char *why, size_t len)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[128];
	} cpuid = { .c.nent = 128 };
	struct kvm_userspace_memory_region region = { 0 };

	v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm < 0)
		return snprintf(why, len, "open /dev/kvm: %s", strerror(errno)), -1;
	v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
	if (v->vm < 0)
		return snprintf(why, len, "KVM_CREATE_VM: %s", strerror(errno)), -1;
	v->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v->mem == MAP_FAILED)
		return snprintf(why, len, "mmap: %s", strerror(errno)), -1;
	region.memory_size = MEM_SIZE;
	region.userspace_addr = (uintptr_t)v->mem;
	if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &region))
		return snprintf(why, len, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno)), -1;
	v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
	if (v->vcpu < 0)
		return snprintf(why, len, "KVM_CREATE_VCPU: %s", strerror(errno)), -1;
	/* Long mode needs CPUID to say the CPU has it (KVM checks EFER against it). */
	if (ioctl(v->kvm, KVM_GET_SUPPORTED_CPUID, &cpuid) ||
	    ioctl(v->vcpu, KVM_SET_CPUID2, &cpuid))
		return snprintf(why, len, "CPUID setup: %s", strerror(errno)), -1;
	v->run_size = (size_t)ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	if (v->run == MAP_FAILED)
		return snprintf(why, len, "mmap kvm_run: %s", strerror(errno)), -1;
	return 0;
}

static void vm_destroy(struct smoke_vm *v)
{
	if (v->run && v->run != MAP_FAILED)
		munmap(v->run, v->run_size);
	if (v->mem && v->mem != MAP_FAILED)
		munmap(v->mem, MEM_SIZE);
	if (v->vcpu > 0)
		close(v->vcpu);
	if (v->vm > 0)
		close(v->vm);
	if (v->kvm > 0)
		close(v->kvm);
}

/* Runs one mode; returns 1 when every check passed, else 0 with why set. */
static int run_mode(const struct mode *m, char *why, size_t len)
{
	struct smoke_vm v = { 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = CODE_GPA, .rflags = 0x2, .rsp = 0x1000 };
	uint32_t port_val[3] = { 0 };
	int seen[3] = { 0 }, ok = 0, halted = 0;

	why[0] = '\0';
	if (vm_create(&v, why, len))
		goto out;
	memcpy(v.mem + CODE_GPA, m->code, (size_t)(m->code_end - m->code));
	if (ioctl(v.vcpu, KVM_GET_SREGS, &sregs)) {
		snprintf(why, len, "KVM_GET_SREGS: %s", strerror(errno));
		goto out;
	}
	m->setup(v.mem, &sregs);
	if (ioctl(v.vcpu, KVM_SET_SREGS, &sregs) || ioctl(v.vcpu, KVM_SET_REGS, &regs)) {
		snprintf(why, len, "setting registers: %s", strerror(errno));
		goto out;
	}
	for (int exits = 0; exits < 100 && !halted; exits++) {
		if (ioctl(v.vcpu, KVM_RUN, 0)) {
			snprintf(why, len, "KVM_RUN: %s", strerror(errno));
			goto out;
		}
		switch (v.run->exit_reason) {
		case KVM_EXIT_IO: {
			uint16_t port = v.run->io.port;

			if (v.run->io.direction != KVM_EXIT_IO_OUT || v.run->io.size != 4 ||
			    port < 0x10 || port > 0x12) {
				snprintf(why, len, "unexpected I/O on port %#x", port);
				goto out;
			}
			memcpy(&port_val[port - 0x10], (uint8_t *)v.run + v.run->io.data_offset, 4);
			seen[port - 0x10] = 1;
			break;
		}
		case KVM_EXIT_HLT:
			halted = 1;
			break;
		default:
			snprintf(why, len, "unexpected exit reason %u", v.run->exit_reason);
			goto out;
		}
	}
	ok = check(halted, "the guest did not halt", why, len);
	ok &= check(seen[0] && port_val[0] == m->signature, "wrong or missing mode signature", why,
		    len);
	ok &= check(seen[1] && port_val[1] == SUM_1_1000, "wrong sum of 1..1000", why, len);
	ok &= check(seen[2] && port_val[2] == PATTERN + 15, "wrong value read back", why, len);
	for (uint32_t i = 0; i < 16; i++) {
		uint32_t word;

		memcpy(&word, v.mem + m->data_gpa + 4 * i, 4);
		ok &= check(word == PATTERN + i, "guest data not at the paged address", why, len);
	}
	if (ok)
		snprintf(why, len, "signature %#x, sum %u, paged write at GPA %#x", port_val[0],
			 port_val[1], m->data_gpa);
out:
	vm_destroy(&v);
	return ok;
}

int main(void)
{
	char why[256];
	int failed = 0;

	printf("1..%zu\n", sizeof(modes) / sizeof(modes[0]));
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		int ok = run_mode(&modes[i], why, sizeof(why));

		printf("%sok %zu - kvm-smoke: %s: %s\n", ok ? "" : "not ", i + 1, modes[i].name,
		       why);
		failed |= !ok;
	}
	return failed;
}
