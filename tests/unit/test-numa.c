// SPDX-License-Identifier: GPL-2.0
/* --numa: parsing, the checks against the VM, and the SRAT description. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cvmm/numa.h"

#define M (1ull << 20)
#define G (1ull << 30)

static void two_nodes(void **state)
{
	struct numa_topology t = { 0 };
	struct acpi_numa a;

	assert_int_equal(numa__parse(&t, "1:cpus=2-3,mem=512M"), 0);
	assert_int_equal(numa__parse(&t, "0:cpus=0-1,mem=512M"), 0);
	assert_int_equal(t.nr_nodes, 2);
	assert_int_equal(numa__check(&t, 4, 1 * G), 0);
	numa__to_acpi(&t, 4, &a);
	assert_int_equal(a.nr_nodes, 2);
	assert_int_equal(a.cpu_node[0], 0);
	assert_int_equal(a.cpu_node[1], 0);
	assert_int_equal(a.cpu_node[2], 1);
	assert_int_equal(a.cpu_node[3], 1);
	assert_int_equal(a.nr_mem, 2);
	assert_int_equal(a.mem[0].base, 0);
	assert_int_equal(a.mem[0].len, 512 * M);
	assert_int_equal(a.mem[1].base, 512 * M);
	assert_int_equal(a.mem[1].node, 1);
}

/* A node across the 3 GiB hole becomes two ranges; the rest starts at 4 GiB. */
static void node_across_the_hole(void **state)
{
	struct numa_topology t = { 0 };
	struct acpi_numa a;

	assert_int_equal(numa__parse(&t, "0:cpus=0,mem=2G"), 0);
	assert_int_equal(numa__parse(&t, "1:cpus=1,mem=2G"), 0);
	assert_int_equal(numa__parse(&t, "2:cpus=2,mem=1G"), 0);
	assert_int_equal(numa__check(&t, 3, 5 * G), 0);
	numa__to_acpi(&t, 3, &a);
	assert_int_equal(a.nr_mem, 4);
	assert_int_equal(a.mem[1].base, 2 * G);
	assert_int_equal(a.mem[1].len, 1 * G);
	assert_int_equal(a.mem[2].base, 4 * G);
	assert_int_equal(a.mem[2].len, 1 * G);
	assert_int_equal(a.mem[2].node, 1);
	assert_int_equal(a.mem[3].base, 5 * G);
	assert_int_equal(a.mem[3].node, 2);
}

static void bad_arguments(void **state)
{
	struct numa_topology t = { 0 };

	assert_int_equal(numa__parse(&t, "0"), -EINVAL);
	assert_int_equal(numa__parse(&t, "x:cpus=0,mem=512M"), -EINVAL);
	assert_int_equal(numa__parse(&t, "16:cpus=0,mem=512M"), -EINVAL);
	assert_int_equal(numa__parse(&t, "0:cpus=0"), -EINVAL);
	assert_int_equal(numa__parse(&t, "0:mem=512M"), -EINVAL);
	assert_int_equal(numa__parse(&t, "0:cpus=3-1,mem=512M"), -EINVAL);
	assert_int_equal(numa__parse(&t, "0:cpus=0,mem=0"), -EINVAL);
	assert_int_equal(numa__parse(&t, "0:cpus=0,mem=512M,color=red"), -EINVAL);
	assert_int_equal(t.nr_nodes, 0);
	assert_int_equal(numa__parse(&t, "0:cpus=0,mem=512M"), 0);
	assert_int_equal(numa__parse(&t, "0:cpus=1,mem=512M"), -EINVAL); /* twice */
}

static void bad_topologies(void **state)
{
	struct numa_topology t;

	/* 256 MiB nodes: Linux i386 would fall back to one node. */
	memset(&t, 0, sizeof(t));
	numa__parse(&t, "0:cpus=0-1,mem=256M");
	numa__parse(&t, "1:cpus=2-3,mem=256M");
	assert_int_equal(numa__check(&t, 4, 512 * M), -EINVAL);
	/* A missing node 0. */
	memset(&t, 0, sizeof(t));
	numa__parse(&t, "1:cpus=0-3,mem=512M");
	assert_int_equal(numa__check(&t, 4, 512 * M), -EINVAL);
	/* Memory that does not add up to --mem. */
	memset(&t, 0, sizeof(t));
	numa__parse(&t, "0:cpus=0-3,mem=512M");
	assert_int_equal(numa__check(&t, 4, 1 * G), -EINVAL);
	/* A CPU in no node, a CPU in two, a CPU the VM does not have. */
	memset(&t, 0, sizeof(t));
	numa__parse(&t, "0:cpus=0-2,mem=512M");
	assert_int_equal(numa__check(&t, 4, 512 * M), -EINVAL);
	numa__parse(&t, "1:cpus=2-3,mem=512M");
	assert_int_equal(numa__check(&t, 4, 1 * G), -EINVAL);
	memset(&t, 0, sizeof(t));
	numa__parse(&t, "0:cpus=0-4,mem=512M");
	assert_int_equal(numa__check(&t, 4, 512 * M), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_nodes),
		cmocka_unit_test(node_across_the_hole),
		cmocka_unit_test(bad_arguments),
		cmocka_unit_test(bad_topologies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
