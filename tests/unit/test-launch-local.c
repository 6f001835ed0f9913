// SPDX-License-Identifier: GPL-2.0
/*
 * `cvmm run --nodes K` (local mode): its options, the VC it generates or
 * reads, what it does with its node processes (supervise.c) and the exit
 * status it returns (verdict.c). No process is started.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mgmt/launch/lines.h"
#include "mgmt/launch/local-opts.h"
#include "mgmt/launch/supervise.h"
#include "mgmt/launch/vcspec.h"
#include "mgmt/launch/verdict.h"

static struct local_opts o;
static char err[512];

/* getopt wants writable strings: copies the NULL-terminated literals first. */
static char **argv_of(const char *const *list, int *argc)
{
	static char store[4096], *argv[64];
	size_t used = 0;

	*argc = 0;
	for (; *list; list++) {
		size_t n = strlen(*list) + 1;

		assert_true(used + n <= sizeof(store) && *argc < 63);
		argv[(*argc)++] = memcpy(store + used, *list, n);
		used += n;
	}
	argv[*argc] = NULL;
	return argv;
}

static int parse_list(const char *const *list)
{
	int argc;
	char **argv = argv_of(list, &argc);

	err[0] = '\0';
	return local_opts_parse(argc, argv, &o, err, sizeof(err));
}

static bool wanted_list(const char *const *list)
{
	int argc;
	char **argv = argv_of(list, &argc);

	return local_opts_wanted(argc, argv);
}

#define parse(...)  parse_list((const char *const[]){ "run", __VA_ARGS__, NULL })
#define wanted(...) wanted_list((const char *const[]){ "run", __VA_ARGS__, NULL })

static void local_mode_only_with_nodes(void **state)
{
	assert_true(wanted("--kernel", "k", "--nodes", "2"));
	assert_true(wanted("--nodes=2", "-k", "k"));
	assert_false(wanted("--kernel", "k", "--cpus", "2"));
	/* An option's value is not an option. */
	assert_false(wanted("--append", "--nodes", "--kernel", "k"));
	assert_false(wanted("-a", "--nodes", "-k", "k"));
	assert_false(wanted("--kernel", "k", "--", "--nodes"));
}

static void defaults(void **state)
{
	assert_int_equal(parse("--nodes", "2", "--kernel", "bz"), LOCAL_OPTS_OK);
	assert_int_equal(o.vc.nodes, 2);
	assert_int_equal(o.vc.cpus, 0);
	assert_int_equal(o.vc.mem, 0);
	assert_string_equal(o.vc.kernel, "bz");
	assert_null(o.vc.initrd);
	assert_null(o.vc.vc_path);
	assert_false(o.vc.transport_given);
	assert_int_equal(o.port, 0);
	assert_int_equal(o.timeout, 0);
	assert_false(o.stats);
	assert_false(o.check);
}

static void every_option(void **state)
{
	assert_int_equal(parse("--nodes", "3", "--cpus", "6", "--mem", "3G", "-k", "bz", "-i", "rd",
			       "-a", "console=ttyS0", "--transport", "tcp", "--port", "9000",
			       "--timeout", "60", "--stats", "--check", "-v"),
			 LOCAL_OPTS_OK);
	assert_int_equal(o.vc.nodes, 3);
	assert_int_equal(o.vc.cpus, 6);
	assert_int_equal(o.vc.mem, 3ull << 30);
	assert_string_equal(o.vc.initrd, "rd");
	assert_string_equal(o.vc.append, "console=ttyS0");
	assert_true(o.vc.transport_given);
	assert_int_equal(o.vc.transport, VC_TRANSPORT_TCP);
	assert_int_equal(o.port, 9000);
	assert_int_equal(o.timeout, 60);
	assert_true(o.stats);
	assert_true(o.check);
	assert_true(o.verbose);
	assert_int_equal(parse("--nodes", "1", "--help"), LOCAL_OPTS_HELP);
}

/* Each bad input is refused with a message that starts with the option. */
static void bad_input_names_the_option(void **state)
{
	static const struct {
		const char *args[8];
		const char *msg;
	} cases[] = {
		{ { "--nodes", "0", "-k", "bz" }, "--nodes '0'" },
		{ { "--nodes", "17", "-k", "bz" }, "--nodes '17'" },
		{ { "--nodes", "2", "--cpus", "0", "-k", "bz" }, "--cpus '0'" },
		{ { "--nodes", "2", "--cpus", "65", "-k", "bz" }, "--cpus '65'" },
		{ { "--nodes", "2", "--mem", "lots", "-k", "bz" }, "--mem 'lots'" },
		{ { "--nodes", "2", "--transport", "rdma", "-k", "bz" }, "--transport rdma" },
		{ { "--nodes", "2", "--transport", "udp", "-k", "bz" }, "--transport 'udp'" },
		{ { "--nodes", "2", "--port", "80", "-k", "bz" }, "--port '80'" },
		{ { "--nodes", "4", "--port", "65534", "-k", "bz" }, "--port 65534" },
		{ { "--nodes", "2", "--timeout", "0", "-k", "bz" }, "--timeout '0'" },
		{ { "--nodes", "2", "--vc", "f", "--cpus", "2" }, "--cpus: --vc f" },
		{ { "--nodes", "2", "--vc", "f", "--mem", "1G" }, "--mem: --vc f" },
		{ { "--nodes", "2" }, "--kernel is required" },
		{ { "--kernel", "bz", "--nodes" }, "--nodes needs an argument" },
		{ { "--nodes", "2", "-k", "bz", "--numa", "0:cpus=0" }, "unknown option '--numa'" },
		{ { "--nodes", "2", "-k", "bz", "extra" }, "unexpected argument 'extra'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *list[10] = { "run" };

		memcpy(list + 1, cases[i].args, sizeof(cases[i].args));
		assert_int_equal(parse_list(list), -EINVAL);
		if (strncmp(err, cases[i].msg, strlen(cases[i].msg)))
			fail_msg("case %zu: '%s' does not start with '%s'", i, err, cases[i].msg);
	}
}

static const char *const local_addrs[VC_MAX_NODES] = {
	"127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1",
	"127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1",
	"127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1",
};
static const uint16_t ports[VC_MAX_NODES] = { 9000, 9001, 9002, 9003 };

static void generates_vc_with_defaults(void **state)
{
	static struct vc vc;

	assert_int_equal(parse("--nodes", "2", "--kernel", "bz", "--append", "console=ttyS0"), 0);
	assert_int_equal(vc_spec_build(&o.vc, local_addrs, ports, &vc, err, sizeof(err)), 0);
	assert_int_equal(vc.nnodes, 2);
	assert_int_equal(vc.ncpus, 2); /* one per node */
	assert_int_equal(vc.mem, 1ull << 30);
	assert_int_equal(vc.node[0].ncpus, 1);
	assert_int_equal(vc.node[1].cpus[0], 1);
	assert_int_equal(vc.node[1].mem_start, 512ull << 20);
	assert_string_equal(vc.node[1].address, "127.0.0.1");
	assert_int_equal(vc.node[0].port, 9000);
	assert_int_equal(vc.node[1].port, 9001);
	assert_string_equal(vc.kernel, "bz");
	assert_string_equal(vc.initrd, "");
	assert_string_equal(vc.cmdline, "console=ttyS0");
	assert_string_equal(vc.name, "local");
	assert_int_equal(vc.transport, VC_TRANSPORT_TCP);
}

static void generated_vc_is_checked(void **state)
{
	static struct vc vc;

	assert_int_equal(parse("--nodes", "2", "--mem", "768M", "-k", "bz"), 0);
	assert_int_equal(vc_spec_build(&o.vc, local_addrs, ports, &vc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--mem: 768M"));
	assert_non_null(strstr(err, "multiple of 1024M"));
	assert_int_equal(parse("--nodes", "3", "--cpus", "2", "-k", "bz"), 0);
	assert_int_equal(vc_spec_build(&o.vc, local_addrs, ports, &vc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--cpus: 2 vCPUs"));
	/* One address for every node needs a port for each. */
	assert_int_equal(parse("--nodes", "2", "-k", "bz"), 0);
	assert_int_equal(vc_spec_build(&o.vc, local_addrs, NULL, &vc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "nodes[1].address: 127.0.0.1 port 7470 is also nodes[0]'s"));
}

/* --vc FILE: its placement stays, the launcher's addresses and guest options win. */
static void vc_file_round_trip(void **state)
{
	static struct vc vc, back;
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char path[512], arg[600];

	assert_int_equal(
		parse("--nodes", "2", "--cpus", "3", "--mem", "2G", "-k", "bz", "-i", "rd"), 0);
	assert_int_equal(vc_spec_build(&o.vc, local_addrs, ports, &vc, err, sizeof(err)), 0);
	assert_int_equal(
		vc_spec_write(&vc, tmp, "test-launch", path, sizeof(path), err, sizeof(err)), 0);
	assert_int_equal(access(path, R_OK), 0);
	snprintf(arg, sizeof(arg), "%s", path);

	assert_int_equal(parse("--nodes", "2", "--vc", arg, "--kernel", "other"), 0);
	assert_int_equal(vc_spec_build(&o.vc, local_addrs, NULL, &back, err, sizeof(err)), 0);
	assert_int_equal(back.ncpus, 3);
	assert_int_equal(back.node[0].ncpus, 2);
	assert_int_equal(back.node[1].mem, 1ull << 30);
	assert_int_equal(back.node[1].port, 9001); /* the file's */
	assert_string_equal(back.kernel, "other");
	assert_string_equal(back.initrd, "rd");
	assert_string_equal(back.name, "local");

	assert_int_equal(parse("--nodes", "3", "--vc", arg), 0);
	assert_int_equal(vc_spec_build(&o.vc, local_addrs, NULL, &back, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--nodes 3: "));
	assert_non_null(strstr(err, "describes 2 nodes"));
	unlink(path);

	assert_int_equal(parse("--nodes", "2", "--vc", arg), 0);
	assert_int_not_equal(vc_spec_build(&o.vc, local_addrs, NULL, &back, err, sizeof(err)), 0);
	assert_non_null(strstr(err, path));
}

static void guest_files_are_checked(void **state)
{
	static struct vc vc;

	assert_int_equal(parse("--nodes", "1", "-k", "/nonexistent/bz"), 0);
	assert_int_equal(vc_spec_build(&o.vc, local_addrs, ports, &vc, err, sizeof(err)), 0);
	assert_int_equal(vc_spec_check_guest(&o.vc, &vc, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "--kernel /nonexistent/bz: "));
}

/* --- the exit status (verdict.c) --- */

#define EXITED(s)                                                                                  \
	{                                                                                          \
		.ended = true, .status = (s)                                                       \
	}
#define KILLED(sig)                                                                                \
	{                                                                                          \
		.ended = true, .status = 128 + (sig), .signaled = true                             \
	}
#define STOPPED(sig)                                                                               \
	{                                                                                          \
		.ended = true, .status = 128 + (sig), .signaled = true, .by_launcher = true        \
	}

static void verdict_is(const struct vc_node_end *end, unsigned int n, unsigned int io, int status,
		       int culprit)
{
	struct vc_verdict v;

	vc_verdict(end, n, io, &v);
	assert_int_equal(v.status, status);
	assert_int_equal(v.culprit, culprit);
}

static void verdict_rules(void **state)
{
	/* The guest's own result. */
	verdict_is((struct vc_node_end[]){ EXITED(0), EXITED(0) }, 2, 0, 0, -1);
	verdict_is((struct vc_node_end[]){ EXITED(3), EXITED(0) }, 2, 0, 3, -1);
	/* The I/O node's own failure explains its peers' 8. */
	verdict_is((struct vc_node_end[]){ EXITED(1), EXITED(8), EXITED(8) }, 3, 0, 1, -1);
	/* A crash is named, wherever it is. */
	verdict_is((struct vc_node_end[]){ EXITED(8), KILLED(SIGKILL) }, 2, 0, 137, 1);
	verdict_is((struct vc_node_end[]){ KILLED(SIGSEGV), EXITED(8) }, 2, 0, 139, 0);
	/* Signals the launcher sent are no failure. */
	verdict_is((struct vc_node_end[]){ EXITED(7), STOPPED(SIGINT) }, 2, 0, 7, -1);
	/* The I/O node lost a peer: the peer that failed on its own, else one that said 8. */
	verdict_is((struct vc_node_end[]){ EXITED(8), EXITED(8), EXITED(5) }, 3, 0, 5, 2);
	verdict_is((struct vc_node_end[]){ EXITED(8), EXITED(0), EXITED(8) }, 3, 0, 8, 2);
	verdict_is((struct vc_node_end[]){ EXITED(8), EXITED(0) }, 2, 0, 8, -1);
	/* The guest powered off, but a node did not end cleanly. */
	verdict_is((struct vc_node_end[]){ EXITED(0), EXITED(0), EXITED(8) }, 3, 0, 8, 2);
	/* The I/O node need not be node 0. */
	verdict_is((struct vc_node_end[]){ EXITED(8), EXITED(6) }, 2, 1, 6, -1);
}

static void verdict_describes_the_culprit(void **state)
{
	struct vc_node_end end[] = { EXITED(8), KILLED(SIGKILL) };
	struct vc_verdict v;
	char line[160];

	vc_verdict(end, 2, 0, &v);
	vc_verdict_describe(end, &v, line, sizeof(line));
	assert_string_equal(line, "node1 was killed by signal 9 (Killed)");
	end[1] = (struct vc_node_end)EXITED(8);
	vc_verdict(end, 2, 0, &v);
	vc_verdict_describe(end, &v, line, sizeof(line));
	assert_non_null(strstr(line, "node1 failed"));
	assert_non_null(strstr(line, "status 8"));
}

/* --- the supervisor (supervise.c) --- */

static struct sup_state sup;
static struct sup_actions act;

static void ended(unsigned int node, int status)
{
	struct sup_event ev = {
		.type = SUP_EV_ENDED, .node = node, .status = status, .signaled = status >= 128
	};

	sup_step(&sup, &ev, &act);
}

static void interrupt(int signo)
{
	sup_step(&sup, &(struct sup_event){ .type = SUP_EV_INTERRUPT, .signo = signo }, &act);
}

static void timer(void)
{
	sup_step(&sup, &(struct sup_event){ .type = SUP_EV_TIMER }, &act);
}

static void sup_clean_run(void **state)
{
	sup_init(&sup, 3, 0);
	ended(1, 0); /* a memory node leaving first is no reason to hurry */
	assert_int_equal(sup.phase, SUP_RUN);
	assert_int_equal(act.timer_seconds, 0);
	ended(0, 0);
	assert_int_equal(sup.phase, SUP_LINGER);
	assert_int_equal(act.timer_seconds, SUP_LINGER_SECONDS);
	assert_int_equal(act.signal_mask, 0);
	ended(2, 0);
	assert_int_equal(sup.phase, SUP_DONE);
	assert_int_equal(act.timer_seconds, 0);
}

static void sup_stops_what_lingers(void **state)
{
	sup_init(&sup, 3, 0);
	ended(2, 137); /* a failure starts the clock too */
	assert_int_equal(sup.phase, SUP_LINGER);
	timer();
	assert_int_equal(sup.phase, SUP_STOPPING);
	assert_int_equal(act.signo, SIGTERM);
	assert_int_equal(act.signal_mask, 0x3);
	assert_int_equal(act.timer_seconds, SUP_STOP_SECONDS);
	ended(0, 8);
	timer();
	assert_int_equal(act.signo, SIGKILL);
	assert_int_equal(act.signal_mask, 0x2);
	ended(1, 128 + SIGKILL);
	assert_int_equal(sup.phase, SUP_DONE);
	/* node2's crash stays a crash; what the launcher stopped is no failure. */
	assert_false(sup.end[2].by_launcher);
	assert_true(sup.end[1].by_launcher);
	assert_true(sup.end[0].by_launcher);
}

static void sup_forwards_interrupts(void **state)
{
	sup_init(&sup, 2, 0);
	interrupt(SIGINT);
	assert_int_equal(act.signo, SIGINT);
	assert_int_equal(act.signal_mask, 0x3);
	assert_int_equal(act.timer_seconds, SUP_LINGER_SECONDS);
	ended(1, 128 + SIGINT);
	assert_true(sup.end[1].by_launcher);
	interrupt(SIGINT); /* twice: no more waiting */
	assert_int_equal(act.signo, SIGKILL);
	assert_int_equal(act.signal_mask, 0x1);
	ended(0, 7);
	assert_int_equal(sup.phase, SUP_DONE);
	/* Nothing happens after DONE. */
	interrupt(SIGTERM);
	assert_int_equal(act.signal_mask, 0);
	ended(0, 1);
	assert_int_equal(sup.end[0].status, 7);
}

static void sup_ignores_nonsense(void **state)
{
	sup_init(&sup, 2, 1);
	timer(); /* no timer in RUN */
	assert_int_equal(sup.phase, SUP_RUN);
	assert_int_equal(act.timer_seconds, 0);
	ended(5, 0); /* no such node */
	assert_int_equal(sup.phase, SUP_RUN);
	ended(0, 0);
	ended(0, 3); /* ended twice */
	assert_int_equal(sup.end[0].status, 0);
	assert_int_equal(sup.phase, SUP_RUN); /* node1 is the I/O node */
}

/* --- prefixed lines (lines.c) --- */

static void lines_are_prefixed_whole(void **state)
{
	static struct lines lb;
	char out[256];
	int fd[2];
	ssize_t n;

	assert_int_equal(pipe(fd), 0);
	lines_emit(&lb, fd[1], "node1: ", "one\ntw", 6);
	lines_emit(&lb, fd[1], "node1: ", "o\nthr", 5);
	lines_flush(&lb, fd[1], "node1: ");
	lines_emit(&lb, fd[1], NULL, "raw", 3);
	close(fd[1]);
	n = read(fd[0], out, sizeof(out) - 1);
	close(fd[0]);
	assert_true(n > 0);
	out[n] = '\0';
	assert_string_equal(out, "node1: one\nnode1: two\nnode1: thr\nraw");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(local_mode_only_with_nodes),
		cmocka_unit_test(defaults),
		cmocka_unit_test(every_option),
		cmocka_unit_test(bad_input_names_the_option),
		cmocka_unit_test(generates_vc_with_defaults),
		cmocka_unit_test(generated_vc_is_checked),
		cmocka_unit_test(vc_file_round_trip),
		cmocka_unit_test(guest_files_are_checked),
		cmocka_unit_test(verdict_rules),
		cmocka_unit_test(verdict_describes_the_culprit),
		cmocka_unit_test(sup_clean_run),
		cmocka_unit_test(sup_stops_what_lingers),
		cmocka_unit_test(sup_forwards_interrupts),
		cmocka_unit_test(sup_ignores_nonsense),
		cmocka_unit_test(lines_are_prefixed_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
