// SPDX-License-Identifier: GPL-2.0
/* The QEMU command line of a node. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mgmt/sim/qemu.h"

static struct sim_argv a;

/* The value following flag, the n-th time flag appears (0-based). */
static const char *arg_after(const char *flag, int n)
{
	for (int i = 0; i + 1 < a.argc; i++)
		if (!strcmp(a.argv[i], flag) && n-- == 0)
			return a.argv[i + 1];
	return NULL;
}

static const struct sim_node_cfg base = {
	.qemu = "/usr/bin/qemu-system-x86_64",
	.node = 2,
	.nodes = 3,
	.cpus = 2,
	.mem = 1536ull << 20,
	.kernel = "/cache/node-k/vmlinuz",
	.initrd = "/run/x/initrd.img",
	.rundir = "/run/x",
	.mcast_port = 40123,
};

static void node_with_kvm_capable_cpu(void **state)
{
	assert_int_equal(sim_node_argv(&base, &a), 0);
	assert_string_equal(a.argv[0], "/usr/bin/qemu-system-x86_64");
	assert_null(a.argv[a.argc]);
	assert_string_equal(arg_after("-accel", 0), "tcg");
	assert_string_equal(arg_after("-cpu", 0), "qemu64,+svm,+npt");
	assert_string_equal(arg_after("-smp", 0), "2");
	assert_string_equal(arg_after("-m", 0), "1536M");
	assert_string_equal(arg_after("-name", 0), "cvmm-node2");
	assert_string_equal(arg_after("-kernel", 0), "/cache/node-k/vmlinuz");
	assert_string_equal(arg_after("-initrd", 0), "/run/x/initrd.img");
}

static void cmdline_carries_identity(void **state)
{
	struct sim_node_cfg c = base;
	const char *append;

	assert_int_equal(sim_node_argv(&c, &a), 0);
	append = arg_after("-append", 0);
	assert_non_null(strstr(append, "console=ttyS0"));
	assert_non_null(strstr(append, "cvmm.node=2 cvmm.nodes=3 cvmm.rdma=0"));
	assert_null(strstr(append, "cvmm.kvm_amd"));
	assert_null(strstr(append, "cvmm.share"));
	assert_null(strstr(append, "cvmm.secret"));

	c.secret = "/work/build/secret";
	assert_int_equal(sim_node_argv(&c, &a), 0);
	assert_non_null(strstr(arg_after("-append", 0), " cvmm.secret=/work/build/secret"));
	c.secret = NULL;

	c.rdma = true;
	c.kvm_amd = "npt=0";
	c.shares = "/work:/root/.cache/cvmm";
	assert_int_equal(sim_node_argv(&c, &a), 0);
	append = arg_after("-append", 0);
	assert_non_null(strstr(append, "cvmm.rdma=1"));
	assert_non_null(strstr(append, " cvmm.kvm_amd=npt=0"));
	assert_non_null(strstr(append, " cvmm.share=/work:/root/.cache/cvmm"));
}

static void sockets_and_interconnect(void **state)
{
	assert_int_equal(sim_node_argv(&base, &a), 0);
	assert_string_equal(arg_after("-chardev", 0),
			    "socket,id=con,path=/run/x/node2.console,server=on,wait=off");
	assert_string_equal(arg_after("-serial", 0), "chardev:con");
	assert_string_equal(arg_after("-chardev", 1),
			    "socket,id=ctl,path=/run/x/node2.ctl,server=on,wait=off");
	assert_string_equal(arg_after("-device", 1),
			    "virtserialport,bus=vser.0,chardev=ctl,name=cvmm.ctl");
	assert_string_equal(arg_after("-netdev", 0),
			    "socket,id=ic,mcast=239.77.0.1:40123,localaddr=127.0.0.1");
	/* MAC ends in the node's address byte: 10.77.0.3 for node 2. */
	assert_string_equal(arg_after("-device", 2),
			    "virtio-net-pci,netdev=ic,mac=52:54:00:77:00:03");
	assert_string_equal(arg_after("-fsdev", 0),
			    "local,id=hostfs,path=/,security_model=none,readonly=on");
	assert_string_equal(arg_after("-monitor", 0),
			    "unix:/run/x/node2.monitor,server=on,wait=off");
}

static void paths_helpers(void **state)
{
	char buf[64];

	sim_node_ctl_path("/tmp/r", 7, buf, sizeof(buf));
	assert_string_equal(buf, "/tmp/r/node7.ctl");
	sim_node_console_path("/tmp/r", 0, buf, sizeof(buf));
	assert_string_equal(buf, "/tmp/r/node0.console");
	sim_node_monitor_path("/tmp/r", 3, buf, sizeof(buf));
	assert_string_equal(buf, "/tmp/r/node3.monitor");
}

static void too_long_is_refused(void **state)
{
	static char huge[9000];
	struct sim_node_cfg c = base;

	memset(huge, 'a', sizeof(huge) - 1);
	c.shares = huge;
	assert_int_equal(sim_node_argv(&c, &a), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(node_with_kvm_capable_cpu),
		cmocka_unit_test(cmdline_carries_identity),
		cmocka_unit_test(sockets_and_interconnect),
		cmocka_unit_test(paths_helpers),
		cmocka_unit_test(too_long_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
