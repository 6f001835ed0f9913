// SPDX-License-Identifier: GPL-2.0
/* Where a node's CPUs are: the summary of QEMU's "info registers -a", and asking a real QEMU. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "mgmt/sim/node-cpus.h"

/* Abridged from QEMU 7.2: a node CPU in its 64-bit kernel, one in a 32-bit KVM guest, halted. */
static const char regs[] =
	"CPU#0\n"
	"RAX=0000000000000000 RBX=ffff888003a1c000 RCX=0000000000000001 RDX=0000000000000000\n"
	"RIP=ffffffff81a2b3c4 RFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=0\n"
	"ES =0000 0000000000000000 ffffffff 00c00000\n"
	"CS =0010 0000000000000000 ffffffff 00a09b00 DPL=0 CS64 [-RA]\n"
	"EFER=0000000000001d01\n"
	"\n"
	"CPU#1\n"
	"EAX=00000000 EBX=00000000 ECX=c1a00000 EDX=00000000\n"
	"EIP=c1002f01 EFL=00000246 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=1\n"
	"CS =0060 00000000 ffffffff 00cf9b00 DPL=0 CS32 [-RA]\n";

static void summary_names_each_cpu(void **state)
{
	char buf[512];

	assert_int_equal(sim_cpus_summary(regs, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "CPU 0: RIP=ffffffff81a2b3c4 CPL=0 HLT=0 CS64\n"
				 "CPU 1: EIP=c1002f01 CPL=0 HLT=1 CS32\n");
}

static void summary_of_nothing(void **state)
{
	char buf[64];

	assert_int_equal(sim_cpus_summary("unknown command: 'info'\n", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	/* A real-mode CPU: QEMU names no mode. */
	assert_int_equal(sim_cpus_summary("CPU#0\nEIP=0000fff0 EFL=00000002 CPL=0 HLT=0\n"
					  "CS =f000 ffff0000 0000ffff 00009b00\n",
					  buf, sizeof(buf)),
			 1);
	assert_string_equal(buf, "CPU 0: EIP=0000fff0 CPL=0 HLT=0\n");
}

static void summary_that_does_not_fit_stops(void **state)
{
	char buf[48];

	assert_int_equal(sim_cpus_summary(regs, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "CPU 0: RIP=ffffffff81a2b3c4 CPL=0 HLT=0 CS64\n");
}

/* A real QEMU (no guest, 2 CPUs in the firmware) answers through its monitor socket. */
static void asks_a_real_qemu(void **state)
{
	char dir[] = "/tmp/test-node-cpus.XXXXXX", sock[128], log[128], mon[160], buf[4096];
	FILE *f;
	pid_t pid;
	size_t n;
	int ret = -1;

	if (access("/usr/bin/qemu-system-x86_64", X_OK))
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/mon", dir);
	snprintf(log, sizeof(log), "%s/cpus.log", dir);
	snprintf(mon, sizeof(mon), "unix:%s,server=on,wait=off", sock);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/usr/bin/qemu-system-x86_64", "qemu-system-x86_64", "-accel", "tcg", "-smp",
		      "2", "-m", "32", "-nodefaults", "-display", "none", "-monitor", mon, NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && ret; i++) {
		usleep(100000);
		ret = access(sock, F_OK) ? -ENOENT : sim_node_report_cpus(sock, log, 5);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(ret, 0);
	f = fopen(log, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_int_equal(strncmp(buf, "CPU#0\n", 6), 0);
	assert_non_null(strstr(buf, "\nCPU#1\n"));
	assert_null(strchr(buf, '\r'));
	assert_null(strstr(buf, "(qemu)"));
	unlink(log);
	unlink(sock);
	rmdir(dir);
	/* Nobody there: an error, not a hang. */
	assert_int_equal(sim_node_report_cpus(sock, log, 5), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(summary_names_each_cpu),
		cmocka_unit_test(summary_of_nothing),
		cmocka_unit_test(summary_that_does_not_fit_stops),
		cmocka_unit_test(asks_a_real_qemu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
