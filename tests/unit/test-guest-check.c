// SPDX-License-Identifier: GPL-2.0
/*
 * `--check` (mgmt/launch/guest-check.c): console transcripts of the guest's
 * /init, as guest-port/initramfs/init prints them, against the VC the guest
 * ran on; one test per exit status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mgmt/launch/guest-check.h"

static struct vc vc;
static struct guest_check chk;
static char msg[512];

/* A VC of nnodes nodes with ncpus vCPUs in blocks (what cvmm run --nodes generates). */
static void make_vc(unsigned int nnodes, unsigned int ncpus)
{
	static const char *const addrs[] = { "a", "b", "c", "d" };
	char err[256];

	assert_int_equal(
		vc_generate(&vc, nnodes, addrs, ncpus, nnodes * VC_NODE_MEM_UNIT, err, sizeof(err)),
		0);
	guest_check_init(&chk, &vc);
}

static void feed(const char *text)
{
	guest_check_feed(&chk, text, strlen(text));
}

static int verdict(int vc_status)
{
	int s = guest_check_verdict(&chk, vc_status, msg, sizeof(msg));

	print_message("status %d: %s\n", s, msg);
	return s;
}

/* The transcript of a good run: 2 nodes, maxcpus=1, cvmm.test=online,memory,locks. */
static const char boot_maxcpus1[] = "[    0.000000] Linux version 6.1.0 (cvmm) #1 SMP\r\n"
				    "cvmm-guest: init uptime=3.21\r\n"
				    "cvmm-guest: cpus=1 online=0\r\n"
				    "cvmm-guest: node0 cpus=0 mem_kb=480000\r\n"
				    "cvmm-guest: node1 cpus= mem_kb=520000\r\n"
				    "cvmm-guest: dmesg: cvmm: pv clock online=0 cpus=9\r\n";
static const char online_both[] = "cvmm-guest: online cpus=0-1 after 0.52s\r\n"
				  "cvmm-guest: node0 cpus=0\r\n"
				  "cvmm-guest: node1 cpus=1\r\n";
static const char tests_pass[] = "cvmm-guest-test: memory: PASS threads=2 ops=60\r\n"
				 "cvmm-guest-test: locks: PASS threads=2 ops=60\r\n"
				 "cvmm-guest: done status=0\r\n";

static void good_run_passes_with_the_vc_status(void **state)
{
	(void)state;
	make_vc(2, 2);
	feed(boot_maxcpus1);
	feed(online_both);
	feed(tests_pass);
	assert_int_equal(verdict(0), 0);
	assert_non_null(strstr(msg, "node0 cpus=0 node1 cpus=1"));
	/* It said done but did not power off in time: still cvmm's timeout. */
	make_vc(2, 2);
	feed(boot_maxcpus1);
	feed(online_both);
	feed(tests_pass);
	assert_int_equal(verdict(6), 6);
}

static void bytes_split_anywhere(void **state)
{
	char all[1024];

	(void)state;
	make_vc(2, 2);
	snprintf(all, sizeof(all), "%s%s%s", boot_maxcpus1, online_both, tests_pass);
	for (size_t k = 0; all[k]; k++)
		guest_check_feed(&chk, &all[k], 1);
	assert_int_equal(verdict(0), 0);
	/* A last line without its end counts too. */
	make_vc(1, 1);
	feed("cvmm-guest: init uptime=1\ncvmm-guest: cpus=1 online=0\n"
	     "cvmm-guest: node0 cpus=0 mem_kb=1\ncvmm-guest: done status=0");
	assert_int_equal(verdict(0), 0);
}

static void no_init_line_is_no_boot(void **state)
{
	(void)state;
	make_vc(2, 2);
	feed("[    0.000000] Linux version 6.1.0\r\nKernel panic - not syncing: VFS\r\n");
	assert_int_equal(verdict(3), GUEST_CHECK_NO_BOOT);
	assert_non_null(strstr(msg, "no boot"));
	assert_non_null(strstr(msg, "reset"));
	/* Timed out before init: no boot, not a timeout. */
	make_vc(2, 2);
	assert_int_equal(verdict(6), GUEST_CHECK_NO_BOOT);
	assert_string_equal(guest_check_name(GUEST_CHECK_NO_BOOT), "no boot");
}

static void init_without_done_timed_out(void **state)
{
	(void)state;
	make_vc(2, 2);
	feed(boot_maxcpus1);
	feed("cvmm-guest-test: memory: PASS threads=2\r\n");
	assert_int_equal(verdict(6), GUEST_CHECK_TIMEOUT);
	assert_non_null(strstr(msg, "timeout"));
	assert_string_equal(guest_check_name(GUEST_CHECK_TIMEOUT), "timeout");
}

static void maxcpus1_without_online_is_wrong_cpu_count(void **state)
{
	(void)state;
	make_vc(2, 2);
	feed(boot_maxcpus1);
	feed(tests_pass);
	assert_int_equal(verdict(0), GUEST_CHECK_WRONG_CPUS);
	assert_non_null(strstr(msg, "expected 2 vCPUs online, the guest showed 1 online (0)"));
	assert_string_equal(guest_check_name(GUEST_CHECK_WRONG_CPUS), "wrong CPU count");
}

static void the_last_cpu_report_counts(void **state)
{
	(void)state;
	/* Booted with both, then one went offline and the online step reported it. */
	make_vc(2, 2);
	feed("cvmm-guest: init uptime=1\r\ncvmm-guest: cpus=2 online=0-1\r\n"
	     "cvmm-guest: node0 cpus=0 mem_kb=1\r\ncvmm-guest: node1 cpus=1 mem_kb=1\r\n"
	     "cvmm-guest: online cpus=0 after 0s\r\n");
	feed(tests_pass);
	assert_int_equal(verdict(0), GUEST_CHECK_WRONG_CPUS);
	/* Init without any CPU report. */
	make_vc(1, 1);
	feed("cvmm-guest: init uptime=1\r\n");
	feed(tests_pass);
	assert_int_equal(verdict(0), GUEST_CHECK_WRONG_CPUS);
	assert_non_null(strstr(msg, "no CPU report"));
}

static void cpus_in_the_wrong_nodes_is_wrong_numa(void **state)
{
	(void)state;
	make_vc(2, 2);
	feed(boot_maxcpus1);
	feed("cvmm-guest: online cpus=0-1 after 0.5s\r\n"
	     "cvmm-guest: node0 cpus=0-1\r\ncvmm-guest: node1 cpus=\r\n");
	feed(tests_pass);
	assert_int_equal(verdict(0), GUEST_CHECK_WRONG_NUMA);
	assert_non_null(strstr(msg, "expected node0 cpus=0 node1 cpus=1, the guest showed "
				    "node0 cpus=0-1 node1 cpus=none"));
	assert_string_equal(guest_check_name(GUEST_CHECK_WRONG_NUMA), "wrong NUMA layout");
}

static void one_guest_node_for_two_is_wrong_numa(void **state)
{
	(void)state;
	make_vc(2, 2);
	feed("cvmm-guest: init uptime=1\r\ncvmm-guest: cpus=2 online=0-1\r\n"
	     "cvmm-guest: node0 cpus=0-1 mem_kb=1\r\n");
	feed(tests_pass);
	assert_int_equal(verdict(0), GUEST_CHECK_WRONG_NUMA);
	/* No node lines at all: a kernel without NUMA. Fine for one node only. */
	make_vc(2, 2);
	feed("cvmm-guest: init uptime=1\r\ncvmm-guest: cpus=2 online=0-1\r\n");
	feed(tests_pass);
	assert_int_equal(verdict(0), GUEST_CHECK_WRONG_NUMA);
	assert_non_null(strstr(msg, "the guest showed no NUMA node"));
	make_vc(1, 2);
	feed("cvmm-guest: init uptime=1\r\ncvmm-guest: cpus=2 online=0-1\r\n");
	feed(tests_pass);
	assert_int_equal(verdict(0), 0);
	/* An extra guest node, and a cpulist that does not parse. */
	make_vc(1, 1);
	feed("cvmm-guest: init uptime=1\r\ncvmm-guest: cpus=1 online=0\r\n"
	     "cvmm-guest: node0 cpus=0\r\ncvmm-guest: node1 cpus=\r\n");
	feed(tests_pass);
	assert_int_equal(verdict(0), GUEST_CHECK_WRONG_NUMA);
	make_vc(1, 1);
	feed("cvmm-guest: init uptime=1\r\ncvmm-guest: cpus=1 online=0\r\n"
	     "cvmm-guest: node0 cpus=zero\r\n");
	feed(tests_pass);
	assert_int_equal(verdict(0), GUEST_CHECK_WRONG_NUMA);
}

static void the_numa_report_after_the_last_cpu_report_counts(void **state)
{
	(void)state;
	/* The boot's report (node1 empty under maxcpus=1) is replaced by online's. */
	make_vc(4, 4);
	feed("cvmm-guest: init uptime=1\r\ncvmm-guest: cpus=1 online=0\r\n"
	     "cvmm-guest: node0 cpus=0 mem_kb=1\r\ncvmm-guest: node1 cpus= mem_kb=1\r\n"
	     "cvmm-guest: node2 cpus= mem_kb=1\r\ncvmm-guest: node3 cpus= mem_kb=1\r\n"
	     "cvmm-guest: online cpus=0-3 after 1s\r\n"
	     "cvmm-guest: node0 cpus=0\r\ncvmm-guest: node1 cpus=1\r\n"
	     "cvmm-guest: node2 cpus=2\r\ncvmm-guest: node3 cpus=3\r\n");
	feed(tests_pass);
	assert_int_equal(verdict(0), 0);
	/* 3 vCPUs on 2 nodes: node 0 takes two. */
	make_vc(2, 3);
	feed("cvmm-guest: init uptime=1\r\ncvmm-guest: cpus=3 online=0-2\r\n"
	     "cvmm-guest: node0 cpus=0-1 mem_kb=1\r\ncvmm-guest: node1 cpus=2 mem_kb=1\r\n");
	feed(tests_pass);
	assert_int_equal(verdict(0), 0);
}

static void a_fail_line_is_a_workload_mismatch(void **state)
{
	(void)state;
	make_vc(2, 2);
	feed(boot_maxcpus1);
	feed(online_both);
	feed("cvmm-guest-test: memory: FAIL checksum thread 1\r\n"
	     "cvmm-guest-test: locks: PASS threads=2\r\ncvmm-guest: done status=1\r\n");
	assert_int_equal(verdict(0), GUEST_CHECK_WORKLOAD);
	assert_non_null(strstr(msg, "1 FAIL line, the first 'memory: FAIL checksum thread 1'"));
	assert_string_equal(guest_check_name(GUEST_CHECK_WORKLOAD), "workload mismatch");
}

static void done_not_zero_or_missing_is_a_workload_mismatch(void **state)
{
	(void)state;
	make_vc(2, 2);
	feed(boot_maxcpus1);
	feed(online_both);
	feed("cvmm-guest: done status=1\r\n");
	assert_int_equal(verdict(0), GUEST_CHECK_WORKLOAD);
	assert_non_null(strstr(msg, "done status=1"));
	/* Powered off before init said done. */
	make_vc(2, 2);
	feed(boot_maxcpus1);
	feed(online_both);
	assert_int_equal(verdict(0), GUEST_CHECK_WORKLOAD);
	assert_non_null(strstr(msg, "poweroff before"));
}

static void failures_of_cvmm_are_not_checked(void **state)
{
	(void)state;
	/* Bad input, KVM failure, signal, lost peer, a crash: the status stands. */
	static const int kept[] = { 1, 2, 5, 7, 8, 125, 137 };

	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		make_vc(2, 2);
		assert_int_equal(verdict(kept[i]), kept[i]);
		assert_string_equal(msg, "");
	}
	/* A reset after init, before done: the reset's status, said so. */
	make_vc(2, 2);
	feed(boot_maxcpus1);
	assert_int_equal(verdict(3), 3);
	assert_non_null(strstr(msg, "reset"));
	assert_null(guest_check_name(0));
}

static void kernel_lines_around_init_lines(void **state)
{
	(void)state;
	make_vc(2, 2);
	/* A kernel message ends on the same line; dmesg copies never count. */
	feed("[   1.0] random: crng init donecvmm-guest: init uptime=1\r\n"
	     "cvmm-guest: dmesg: cvmm: cpus=7 online=0-6\r\n"
	     "cvmm-guest: cpus=2 online=0-1\r\n"
	     "cvmm-guest: node0 cpus=0 mem_kb=1\r\ncvmm-guest: node1 cpus=1 mem_kb=1\r\n"
	     "cvmm-guest-test: memory: PASS threads=2 note=FAILover\r\n"
	     "cvmm-guest: done status=0\r\n");
	assert_int_equal(verdict(0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_run_passes_with_the_vc_status),
		cmocka_unit_test(bytes_split_anywhere),
		cmocka_unit_test(no_init_line_is_no_boot),
		cmocka_unit_test(init_without_done_timed_out),
		cmocka_unit_test(maxcpus1_without_online_is_wrong_cpu_count),
		cmocka_unit_test(the_last_cpu_report_counts),
		cmocka_unit_test(cpus_in_the_wrong_nodes_is_wrong_numa),
		cmocka_unit_test(one_guest_node_for_two_is_wrong_numa),
		cmocka_unit_test(the_numa_report_after_the_last_cpu_report_counts),
		cmocka_unit_test(a_fail_line_is_a_workload_mismatch),
		cmocka_unit_test(done_not_zero_or_missing_is_a_workload_mismatch),
		cmocka_unit_test(failures_of_cvmm_are_not_checked),
		cmocka_unit_test(kernel_lines_around_init_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
