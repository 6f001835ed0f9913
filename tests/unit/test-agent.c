// SPDX-License-Identifier: GPL-2.0
/*
 * The node agent's pure parts: reading a node's output, the /metrics page,
 * hardware virtualization from /proc/cpuinfo, the --listen address.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mgmt/agent/control.h"
#include "mgmt/agent/inventory.h"
#include "mgmt/agent/metrics.h"
#include "mgmt/agent/nodelog.h"

static const char node_output[] =
	"cvmm node: node0: joining 2 nodes over tcp\n"
	"guest says hello\r\n"
	"cvmm node: error: kernel: /no/bzImage: No such file or directory\n"
	"cvmm node: node0 stats: faults read 3 write 3684 upgrade 1; remote fetches 3684; "
	"pages in 3684 out 2; invalidations sent 5 received 6; bytes in 15089664 out 8192\n"
	"tail without newline";

static void scan_finds_stats_and_errors(void **state)
{
	struct nodelog log;
	struct node_stats st;

	nodelog_scan(node_output, strlen(node_output), &log);
	assert_int_equal(log.nstats, 1);
	assert_int_equal(log.nerrors, 1);
	assert_string_equal(log.errors[0],
			    "cvmm node: error: kernel: /no/bzImage: No such file or directory");
	assert_int_equal(nodelog_parse_stats(log.stats[0], &st), 0);
	assert_int_equal(st.faults_read, 3);
	assert_int_equal(st.faults_write, 3684);
	assert_int_equal(st.faults_upgrade, 1);
	assert_int_equal(st.remote_fetches, 3684);
	assert_int_equal(st.pages_in, 3684);
	assert_int_equal(st.pages_out, 2);
	assert_int_equal(st.inv_sent, 5);
	assert_int_equal(st.inv_received, 6);
	assert_int_equal(st.bytes_in, 15089664);
	assert_int_equal(st.bytes_out, 8192);
	assert_int_equal(nodelog_parse_stats("cvmm node: node0 stats: faults read x", &st),
			 -EINVAL);
	assert_int_equal(nodelog_parse_stats("no stats here", &st), -EINVAL);
}

static void scan_keeps_the_last_lines(void **state)
{
	char text[4096] = "";
	struct nodelog log;

	for (int i = 0; i < NODELOG_MAX_LINES + 3; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "cvmm node: error: number %d\n", i);
	nodelog_scan(text, strlen(text), &log);
	assert_int_equal(log.nerrors, NODELOG_MAX_LINES);
	assert_string_equal(log.errors[0], "cvmm node: error: number 3");
	assert_string_equal(log.errors[NODELOG_MAX_LINES - 1], "cvmm node: error: number 10");
	nodelog_scan(NULL, 0, &log);
	assert_int_equal(log.nerrors + log.nstats, 0);
}

static const struct inventory inv = {
	.node = "1",
	.addr = "10.77.0.2",
	.hostname = "node1",
	.cpus = 4,
	.mem_mib = 2048,
	.kvm = true,
	.kvm_hw = false,
	.rdma = "rxe0,mlx5_0",
	.ifaddrs = "eth0=10.77.0.2",
};

static char *render(const struct vcpart *p, const struct nodelog *log, const char *live)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	metrics_render(f, &inv, p, log, live);
	fclose(f);
	return text;
}

static void metrics_of_an_idle_node(void **state)
{
	struct vcpart p;
	char *text;

	vcpart_init(&p, "/nonexistent", "/bin/false");
	text = render(&p, NULL, NULL);
	assert_non_null(strstr(text, "# TYPE cvmm_node_cpus gauge\ncvmm_node_cpus 4\n"));
	assert_non_null(strstr(text, "\ncvmm_node_memory_bytes 2147483648\n"));
	assert_non_null(strstr(text, "\ncvmm_node_kvm 1\n"));
	assert_non_null(strstr(text, "\ncvmm_node_kvm_hardware 0\n"));
	assert_non_null(strstr(text, "\ncvmm_node_rdma_devices 2\n"));
	assert_non_null(strstr(text, "cvmm_node_info{hostname=\"node1\",addr=\"10.77.0.2\"} 1\n"));
	assert_non_null(strstr(text, "\ncvmm_vc_member 0\n"));
	assert_null(strstr(text, "cvmm_vc_part_running"));
	free(text);
}

static void metrics_of_an_exited_part(void **state)
{
	struct nodelog log;
	struct vcpart p;
	char *text;

	vcpart_init(&p, "/nonexistent", "/bin/false");
	p.state = VCPART_EXITED;
	snprintf(p.vc, sizeof(p.vc), "demo");
	p.node = 1;
	p.started = 1800000000;
	p.wait_status = 1 << 8; /* exited with status 1 */
	nodelog_scan(node_output, strlen(node_output), &log);
	text = render(&p, &log, NULL);
	assert_non_null(strstr(text, "\ncvmm_vc_member 1\n"));
	assert_non_null(strstr(text, "\ncvmm_vc_part_running{vc=\"demo\",node=\"1\"} 0\n"));
	assert_non_null(strstr(text, "\ncvmm_vc_part_exit_status{vc=\"demo\",node=\"1\"} 1\n"));
	assert_non_null(strstr(
		text, "\ncvmm_vc_part_start_time_seconds{vc=\"demo\",node=\"1\"} 1800000000\n"));
	assert_non_null(strstr(
		text, "\ncvmm_dsm_faults_total{vc=\"demo\",node=\"1\",kind=\"write\"} 3684\n"));
	assert_non_null(strstr(
		text,
		"\ncvmm_dsm_bytes_total{vc=\"demo\",node=\"1\",direction=\"in\"} 15089664\n"));
	assert_non_null(strstr(text, "# TYPE cvmm_dsm_faults_total counter\n"));
	free(text);
}

static void live_stats_replace_the_final_line(void **state)
{
	static const char live[] = "# HELP cvmm_dsm_pages_owned Pages this node owns.\n"
				   "# TYPE cvmm_dsm_pages_owned gauge\n"
				   "cvmm_dsm_pages_owned{vc=\"demo\",node=\"1\"} 77\n"
				   "evil_metric 1\n"
				   "\n"
				   "cvmm_bad\x01line 2\n"
				   "cvmm_vcpu_node{vcpu=\"0\"} 0";
	struct nodelog log;
	struct vcpart p;
	char *text;

	vcpart_init(&p, "/nonexistent", "/bin/false");
	p.state = VCPART_RUNNING;
	snprintf(p.vc, sizeof(p.vc), "de\"mo");
	nodelog_scan(node_output, strlen(node_output), &log);
	text = render(&p, &log, live);
	assert_non_null(strstr(text, "cvmm_vc_part_running{vc=\"de\\\"mo\",node=\"0\"} 1\n"));
	assert_non_null(strstr(text, "\ncvmm_dsm_pages_owned{vc=\"demo\",node=\"1\"} 77\n"));
	assert_non_null(strstr(text, "\n# TYPE cvmm_dsm_pages_owned gauge\n"));
	assert_non_null(strstr(text, "\ncvmm_vcpu_node{vcpu=\"0\"} 0\n"));
	assert_null(strstr(text, "evil_metric"));
	assert_null(strstr(text, "cvmm_bad"));
	assert_non_null(strstr(text, "\ncvmm_agent_stats_lines_dropped 2\n"));
	assert_null(strstr(text, "cvmm_dsm_faults_total"));
	assert_null(strstr(text, "cvmm_vc_part_exit_status"));
	free(text);
}

static void cpuinfo_flags(void **state)
{
	assert_true(inventory_cpuinfo_has_hw_virt("processor\t: 0\n"
						  "flags\t\t: fpu vme sse2 svm lm\n"
						  "bogomips\t: 1\n"));
	assert_true(inventory_cpuinfo_has_hw_virt("flags\t\t: fpu vmx\n"));
	assert_false(inventory_cpuinfo_has_hw_virt("flags\t\t: fpu vmxx svm_lock lm\n"));
	assert_false(inventory_cpuinfo_has_hw_virt("model name\t: svm\n"));
	assert_false(inventory_cpuinfo_has_hw_virt(""));
}

static void listen_addresses(void **state)
{
	char addr[64];
	unsigned int port;

	assert_int_equal(agent_ctl_parse_listen("127.0.0.1:7480", addr, sizeof(addr), &port), 0);
	assert_string_equal(addr, "127.0.0.1");
	assert_int_equal(port, 7480);
	assert_int_equal(agent_ctl_parse_listen(":7480", addr, sizeof(addr), &port), 0);
	assert_string_equal(addr, "");
	assert_int_equal(agent_ctl_parse_listen("[::1]:0", addr, sizeof(addr), &port), 0);
	assert_string_equal(addr, "::1");
	assert_int_equal(port, 0);
	assert_int_equal(agent_ctl_parse_listen("::1:80", addr, sizeof(addr), &port), -EINVAL);
	assert_int_equal(agent_ctl_parse_listen("host", addr, sizeof(addr), &port), -EINVAL);
	assert_int_equal(agent_ctl_parse_listen("h:70000", addr, sizeof(addr), &port), -EINVAL);
	assert_int_equal(agent_ctl_parse_listen("[::1:80", addr, sizeof(addr), &port), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scan_finds_stats_and_errors),
		cmocka_unit_test(scan_keeps_the_last_lines),
		cmocka_unit_test(metrics_of_an_idle_node),
		cmocka_unit_test(metrics_of_an_exited_part),
		cmocka_unit_test(live_stats_replace_the_final_line),
		cmocka_unit_test(cpuinfo_flags),
		cmocka_unit_test(listen_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
