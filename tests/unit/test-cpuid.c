// SPDX-License-Identifier: GPL-2.0
/* CPUID: cvmm's hypervisor leaves, KVM's moved to 0x40000100, topology. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "cvmm/x86/cpuid.h"

#define CAP 16

static struct kvm_cpuid2 *host_like(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + CAP * sizeof(c->entries[0]));

	c->nent = 6;
	c->entries[0] = (struct kvm_cpuid_entry2){
		.function = 1, .ebx = 0xff0f0800, .ecx = 0x20, .edx = 1
	};
	c->entries[1] = (struct kvm_cpuid_entry2){ .function = 0x40000000, .eax = 0x40000001 };
	memcpy(&c->entries[1].ebx, "KVMK", 4);
	memcpy(&c->entries[1].ecx, "VMKV", 4);
	memcpy(&c->entries[1].edx, "M\0\0\0", 4);
	c->entries[2] = (struct kvm_cpuid_entry2){ .function = 0x40000001, .eax = 0x1234 };
	c->entries[3] = (struct kvm_cpuid_entry2){ .function = 0xb,
						   .index = 1,
						   .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX };
	c->entries[4] = (struct kvm_cpuid_entry2){ .function = 0x80000008, .ecx = 0x3000 };
	c->entries[5] = (struct kvm_cpuid_entry2){ .function = 0x80000001, .ecx = 0x5 };
	return c;
}

static const struct kvm_cpuid_entry2 *leaf(const struct kvm_cpuid2 *c, uint32_t fn)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn)
			return &c->entries[i];
	return NULL;
}

static void cvmm_leaves_and_signature(void **state)
{
	struct kvm_cpuid2 *c = host_like();
	const struct cpuid_config cfg = { .apic_id = 2, .nr_cpus = 4, .tsc_deadline = true };
	const struct kvm_cpuid_entry2 *e;
	char sig[12];

	assert_int_equal(x86_cpuid__setup(c, CAP, &cfg), 0);
	e = leaf(c, 0x40000000);
	assert_non_null(e);
	assert_int_equal(e->eax, 0x40000001);
	memcpy(sig, &e->ebx, 4);
	memcpy(sig + 4, &e->ecx, 4);
	memcpy(sig + 8, &e->edx, 4);
	assert_memory_equal(sig, "CVMMCVMMCVMM", 12);
	e = leaf(c, 0x40000001);
	assert_int_equal(e->eax, CVMM_ABI_MAJOR << 16 | CVMM_ABI_MINOR);
	assert_int_equal(e->ebx, 0); /* one KVM: no NODE_CLOCKS */
	free(c);
}

/* A node of several tells the guest its clocks are per host (docs/abi.md). */
static void node_clocks_feature(void **state)
{
	struct kvm_cpuid2 *c = host_like();
	const struct cpuid_config cfg = { .apic_id = 1, .nr_cpus = 2, .node_clocks = true };

	assert_int_equal(x86_cpuid__setup(c, CAP, &cfg), 0);
	assert_int_equal(leaf(c, 0x40000001)->ebx, CVMM_FEATURE_NODE_CLOCKS);
	free(c);
}

static void kvm_leaves_move_up(void **state)
{
	struct kvm_cpuid2 *c = host_like();
	const struct cpuid_config cfg = { .apic_id = 0, .nr_cpus = 1 };
	const struct kvm_cpuid_entry2 *e;

	assert_int_equal(x86_cpuid__setup(c, CAP, &cfg), 0);
	e = leaf(c, 0x40000100);
	assert_non_null(e);
	assert_int_equal(e->eax, 0x40000101);
	assert_memory_equal(&e->ebx, "KVMK", 4);
	assert_int_equal(leaf(c, 0x40000101)->eax, 0x1234);
	assert_int_equal(c->nent, 8);
	free(c);
}

static void topology_per_vcpu(void **state)
{
	struct kvm_cpuid2 *c = host_like();
	const struct cpuid_config cfg = { .apic_id = 3, .nr_cpus = 4, .tsc_deadline = true };
	const struct kvm_cpuid_entry2 *e;

	assert_int_equal(x86_cpuid__setup(c, CAP, &cfg), 0);
	e = leaf(c, 1);
	assert_int_equal(e->ebx >> 24, 3);
	assert_int_equal((e->ebx >> 16) & 0xff, 4);
	assert_int_equal(e->ebx & 0xffff, 0x0800); /* the rest untouched */
	assert_true(e->edx & 1u << 28);		   /* HTT */
	assert_true(e->ecx & 1u << 31);		   /* hypervisor */
	assert_true(e->ecx & 1u << 24);		   /* TSC deadline */
	assert_int_equal(leaf(c, 0xb)->edx, 3);
	assert_int_equal(leaf(c, 0x80000008)->ecx, 0x3003);
	free(c);
}

static void no_nested_virtualization(void **state)
{
	struct kvm_cpuid2 *c = host_like();
	const struct cpuid_config cfg = { .apic_id = 0, .nr_cpus = 1 };

	assert_int_equal(x86_cpuid__setup(c, CAP, &cfg), 0);
	assert_false(leaf(c, 1)->ecx & 1u << 5);	 /* VMX */
	assert_int_equal(leaf(c, 0x80000001)->ecx, 0x1); /* SVM gone, LAHF kept */
	free(c);
}

static void no_tsc_deadline_unless_kvm_has_it(void **state)
{
	struct kvm_cpuid2 *c = host_like();
	const struct cpuid_config cfg = { .apic_id = 0, .nr_cpus = 1 };

	assert_int_equal(x86_cpuid__setup(c, CAP, &cfg), 0);
	assert_false(leaf(c, 1)->ecx & 1u << 24);
	assert_false(leaf(c, 1)->edx & 1u << 28);
	free(c);
}

static void full_table_is_an_error(void **state)
{
	struct kvm_cpuid2 *c = host_like();
	const struct cpuid_config cfg = { .apic_id = 0, .nr_cpus = 1 };

	c->entries[1].function = 0x7; /* no KVM leaves: cvmm needs two new entries */
	c->entries[2].function = 0x8;
	assert_int_equal(x86_cpuid__setup(c, 7, &cfg), -ENOSPC);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cvmm_leaves_and_signature),
		cmocka_unit_test(node_clocks_feature),
		cmocka_unit_test(kvm_leaves_move_up),
		cmocka_unit_test(topology_per_vcpu),
		cmocka_unit_test(no_nested_virtualization),
		cmocka_unit_test(no_tsc_deadline_unless_kvm_has_it),
		cmocka_unit_test(full_table_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
