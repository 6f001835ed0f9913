// SPDX-License-Identifier: GPL-2.0
/* Virtual computer descriptions: parsing, validation, generation, round trip. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mgmt/vc/vc.h"

static struct vc vc;
static char err[512];

static const char good[] =
	"{\n"
	"  \"name\": \"demo\",\n"
	"  \"transport\": \"rdma\",\n"
	"  \"guest\": { \"kernel\": \"/k/bzImage\", \"initrd\": \"/k/initrd\",\n"
	"             \"cmdline\": \"console=ttyS0\" },\n"
	"  \"io_node\": 1,\n"
	"  \"nodes\": [\n"
	"    { \"id\": 0, \"address\": \"10.77.0.1\", \"cpus\": [0, 1], \"memory\": \"512M\" },\n"
	"    { \"id\": 1, \"address\": \"node1\", \"port\": 7000, \"cpus\": [3, 2],\n"
	"      \"memory\": 1073741824 }\n"
	"  ]\n"
	"}\n";

static void a_full_description(void **state)
{
	assert_int_equal(vc_parse(good, &vc, err, sizeof(err)), 0);
	assert_string_equal(vc.name, "demo");
	assert_int_equal(vc.transport, VC_TRANSPORT_RDMA);
	assert_string_equal(vc.kernel, "/k/bzImage");
	assert_string_equal(vc.initrd, "/k/initrd");
	assert_string_equal(vc.cmdline, "console=ttyS0");
	assert_int_equal(vc.io_node, 1);
	assert_int_equal(vc.nnodes, 2);
	assert_string_equal(vc.node[1].address, "node1");
	assert_int_equal(vc.node[0].port, VC_DEFAULT_PORT);
	assert_int_equal(vc.node[1].port, 7000);
	/* Derived: totals, placement, where each node's memory starts. */
	assert_int_equal(vc.ncpus, 4);
	assert_int_equal(vc.mem, 1536ull << 20);
	assert_int_equal(vc.cpu_node[0], 0);
	assert_int_equal(vc.cpu_node[2], 1);
	assert_int_equal(vc.cpu_node[3], 1);
	assert_int_equal(vc.node[0].mem_start, 0);
	assert_int_equal(vc.node[1].mem_start, 512ull << 20);
}

static void defaults(void **state)
{
	const char *min =
		"{\"name\":\"m\",\"guest\":{\"kernel\":\"k\"},"
		"\"nodes\":[{\"id\":0,\"address\":\"10.0.0.1\",\"cpus\":[0],\"memory\":\"1G\"}]}";

	assert_int_equal(vc_parse(min, &vc, err, sizeof(err)), 0);
	assert_int_equal(vc.transport, VC_TRANSPORT_TCP);
	assert_int_equal(vc.io_node, 0);
	assert_string_equal(vc.initrd, "");
}

/* Replaces the first occurrence of `from` in the good description. */
static const char *good_with(const char *from, const char *to)
{
	static char buf[2048];
	const char *at = strstr(good, from);

	assert_non_null(at);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
	return buf;
}

/* Every bad description is refused, and the message names the field. */
static void errors_name_the_field(void **state)
{
	static const struct {
		const char *from, *to, *want;
	} cases[] = {
		{ "\"name\": \"demo\"", "\"name\": \"de mo\"", "name: 'de mo'" },
		{ "\"name\": \"demo\",", "", "name: missing" },
		{ "\"rdma\"", "\"udp\"", "transport: 'udp' is not tcp or rdma" },
		{ "\"kernel\": \"/k/bzImage\", ", "", "guest.kernel: missing" },
		{ "\"io_node\": 1", "\"io_node\": 2", "io_node: 2 is not one of the 2 nodes" },
		{ "\"512M\"", "\"768M\"", "nodes[0].memory: 768M is not a multiple of 512M" },
		{ "\"512M\"", "\"lots\"", "nodes[0].memory: not a size" },
		{ "1073741824", "268435456", "nodes[1].memory: 256M is not a multiple of 512M" },
		{ "[3, 2]", "[3, 1]", "nodes[1].cpus[1]: vCPU 1 is placed twice" },
		{ "[3, 2]", "[4, 2]", "nodes: vCPU 3 is on no node" },
		{ "[0, 1]", "[1, 2]", "nodes[1].cpus[1]: vCPU 2 is placed twice" },
		{ "[3, 2]", "[3, 2, 0]", "nodes[1].cpus[2]: vCPU 0 is placed twice" },
		{ "[3, 2]", "[\"x\"]", "nodes[1].cpus[0]: must be a vCPU number" },
		{ "\"id\": 1", "\"id\": 5", "nodes[1].id: must be 1" },
		{ "\"node1\"", "\"no de\"", "nodes[1].address: 'no de' is not an IP address" },
		{ "\"node1\", \"port\": 7000", "\"10.77.0.1\"",
		  "nodes[1].address: 10.77.0.1 port 7470 is also nodes[0]'s" },
		{ "\"port\": 7000", "\"port\": 70000",
		  "nodes[1].port: must be a number from 1 to 65535" },
		{ "\"cpus\": [0, 1], ", "\"cpu\": [0, 1], ", "nodes[0]: unknown key 'cpu'" },
		{ "\"io_node\": 1", "\"io_nodes\": 1", "description: unknown key 'io_nodes'" },
		{ "\"name\": \"demo\",", "\"name\": \"demo\"", "line 3" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *text = good_with(cases[i].from, cases[i].to);

		err[0] = '\0';
		if (vc_parse(text, &vc, err, sizeof(err)) != -EINVAL)
			fail_msg("case %zu (%s) was accepted", i, cases[i].want);
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i].want);
	}
	assert_int_equal(vc_parse("{\"name\":\"m\",\"guest\":{\"kernel\":\"k\"},\"nodes\":3}", &vc,
				  err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "nodes: must be an array"));
	assert_int_equal(vc_parse("[1]", &vc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "must be a JSON object"));
}

static void boot_cpu_must_be_on_node0(void **state)
{
	/* Swap vCPUs 0 and 3 between the nodes: all placed once, boot CPU on node 1. */
	assert_int_equal(vc_parse(good, &vc, err, sizeof(err)), 0);
	vc.node[0].cpus[0] = 3;
	vc.node[1].cpus[0] = 0;
	assert_int_equal(vc_validate(&vc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "must hold vCPU 0"));
}

static void generate_spreads_cpus_and_memory(void **state)
{
	const char *addrs[] = { "10.77.0.1", "10.77.0.2", "10.77.0.3" };

	assert_int_equal(vc_generate(&vc, 3, addrs, 5, 3ull << 30, err, sizeof(err)), 0);
	assert_int_equal(vc.ncpus, 5);
	assert_int_equal(vc.node[0].ncpus, 2); /* 5 = 2 + 2 + 1 */
	assert_int_equal(vc.node[1].ncpus, 2);
	assert_int_equal(vc.node[2].ncpus, 1);
	assert_int_equal(vc.node[1].cpus[0], 2);
	assert_int_equal(vc.node[2].cpus[0], 4);
	assert_int_equal(vc.node[2].mem, 1ull << 30);
	assert_int_equal(vc.node[2].mem_start, 2ull << 30);
	assert_string_equal(vc.node[2].address, "10.77.0.3");
}

static void generate_refuses_what_cannot_split(void **state)
{
	const char *addrs[] = { "a", "b" };

	assert_int_equal(vc_generate(&vc, 2, addrs, 4, 1536ull << 20, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--mem: 1536M does not split into 2 NUMA nodes"));
	assert_int_equal(vc_generate(&vc, 2, addrs, 1, 1ull << 30, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--cpus"));
	assert_int_equal(vc_generate(&vc, 0, addrs, 1, 1ull << 30, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--nodes"));
}

static void json_round_trip(void **state)
{
	struct vc again;
	char *text;

	assert_int_equal(vc_parse(good, &vc, err, sizeof(err)), 0);
	text = vc_to_json(&vc);
	assert_non_null(text);
	assert_int_equal(vc_parse(text, &again, err, sizeof(err)), 0);
	free(text);
	assert_memory_equal(&vc, &again, sizeof(vc));
}

/* A node that joins later: tcp only, not the boot or I/O node; it round-trips. */
static const char *three(const char *top, const char *join)
{
	static char text[1024];

	snprintf(text, sizeof(text),
		 "{ \"name\": \"hot\", %s \"guest\": { \"kernel\": \"/k\" },\n"
		 "  \"nodes\": [ { \"id\": 0, \"address\": \"a\", \"cpus\": [0], \"memory\": "
		 "\"512M\" },\n"
		 "    { \"id\": 1, \"address\": \"b\", \"cpus\": [1], \"memory\": \"512M\" },\n"
		 "    { \"id\": 2, \"address\": \"c\", \"cpus\": [2], \"memory\": \"512M\",\n"
		 "      \"join\": \"%s\" } ] }\n",
		 top, join);
	return text;
}

static void join_later(void **state)
{
	struct vc again;
	char *json;

	assert_int_equal(vc_parse(three("", "later"), &vc, err, sizeof(err)), 0);
	assert_true(vc.node[2].later && !vc.node[1].later);
	assert_int_equal(vc.later_mask, 1u << 2);
	json = vc_to_json(&vc);
	assert_non_null(json);
	assert_int_equal(vc_parse(json, &again, err, sizeof(err)), 0);
	free(json);
	assert_memory_equal(&vc, &again, sizeof(vc));
	assert_int_equal(vc_parse(three("", "start"), &vc, err, sizeof(err)), 0);
	assert_int_equal(vc.later_mask, 0);

	assert_int_equal(vc_parse(three("", "soon"), &vc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "nodes[2].join: must be \"start\" or \"later\""));
	assert_int_equal(vc_parse(three("\"io_node\": 2,", "later"), &vc, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "nodes[2].join: the I/O node must be there at the start"));
	assert_int_equal(
		vc_parse(three("\"transport\": \"rdma\",", "later"), &vc, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "nodes[2].join: a node can join later over tcp only"));
}

static void missing_file_is_named(void **state)
{
	assert_int_equal(vc_load("/nonexistent/vc.json", &vc, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/vc.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_full_description),
		cmocka_unit_test(defaults),
		cmocka_unit_test(errors_name_the_field),
		cmocka_unit_test(boot_cpu_must_be_on_node0),
		cmocka_unit_test(generate_spreads_cpus_and_memory),
		cmocka_unit_test(generate_refuses_what_cannot_split),
		cmocka_unit_test(json_round_trip),
		cmocka_unit_test(join_later),
		cmocka_unit_test(missing_file_is_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
