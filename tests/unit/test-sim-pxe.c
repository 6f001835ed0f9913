// SPDX-License-Identifier: GPL-2.0
/*
 * Network boot of the emulated nodes: the iPXE script, the request paths,
 * the boot NIC on the QEMU command line, and the boot server over a real
 * socket on 127.0.0.1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "mgmt/sim/ipxe.h"
#include "mgmt/sim/opts.h"
#include "mgmt/sim/pxe.h"
#include "mgmt/sim/qemu.h"

static const struct sim_node_cfg node1 = {
	.qemu = "/usr/bin/qemu-system-x86_64",
	.node = 1,
	.nodes = 2,
	.cpus = 1,
	.mem = 1024ull << 20,
	.kernel = "/cache/node-k/vmlinuz",
	.initrd = "/run/x/initrd.img",
	.rundir = "/run/x",
	.mcast_port = 40123,
	.kvm_amd = "npt=0",
	.shares = "/work/main:/tmp/r",
};

static void script_boots_the_nodes_files(void **state)
{
	char buf[1024];
	int n = sim_ipxe_script(8123, 1, "console=ttyS0 cvmm.node=1", buf, sizeof(buf));

	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf, "#!ipxe\n"
				 "echo cvmm: node1 boots over the network\n"
				 "kernel http://10.0.2.2:8123/node1/vmlinuz initrd=initrd.img "
				 "console=ttyS0 cvmm.node=1\n"
				 "initrd http://10.0.2.2:8123/node1/initrd.img\n"
				 "boot\n");
}

/* The script's kernel line carries what direct boot passes with -append. */
static void script_has_the_direct_boot_cmdline(void **state)
{
	static struct sim_argv a;
	char cmdline[4096], script[8192], line[8192];
	const char *append = NULL;

	assert_true(sim_node_cmdline(&node1, cmdline, sizeof(cmdline)) > 0);
	assert_non_null(strstr(cmdline, "cvmm.node=1 cvmm.nodes=2"));
	assert_non_null(strstr(cmdline, "cvmm.kvm_amd=npt=0"));
	assert_non_null(strstr(cmdline, "cvmm.share=/work/main:/tmp/r"));
	assert_int_equal(sim_node_argv(&node1, &a), 0);
	for (int i = 0; i + 1 < a.argc; i++)
		if (!strcmp(a.argv[i], "-append"))
			append = a.argv[i + 1];
	assert_non_null(append);
	assert_string_equal(append, cmdline);

	assert_true(sim_ipxe_script(80, 1, cmdline, script, sizeof(script)) > 0);
	snprintf(line, sizeof(line),
		 "kernel http://10.0.2.2:80/node1/vmlinuz initrd=initrd.img %s\n", cmdline);
	assert_non_null(strstr(script, line));
}

static void too_long_is_refused(void **state)
{
	char small[40], url[20];

	assert_int_equal(sim_ipxe_script(80, 0, "console=ttyS0", small, sizeof(small)), -E2BIG);
	assert_int_equal(sim_pxe_url(80, 0, SIM_PXE_SCRIPT, url, sizeof(url)), -E2BIG);
}

static void urls_name_node_and_file(void **state)
{
	char url[96];

	assert_true(sim_pxe_url(65535, 15, SIM_PXE_SCRIPT, url, sizeof(url)) > 0);
	assert_string_equal(url, "http://10.0.2.2:65535/node15/boot.ipxe");
	sim_pxe_url(1, 0, SIM_PXE_KERNEL, url, sizeof(url));
	assert_string_equal(url, "http://10.0.2.2:1/node0/vmlinuz");
	sim_pxe_url(1, 0, SIM_PXE_INITRD, url, sizeof(url));
	assert_string_equal(url, "http://10.0.2.2:1/node0/initrd.img");
}

static void paths_parse(void **state)
{
	static const char *const bad[] = {
		"/",
		"/node2/vmlinuz",
		"/node01/vmlinuz",
		"/node/vmlinuz",
		"/node0/",
		"/node0",
		"/node0/../node0/vmlinuz",
		"/nodex/vmlinuz",
		"/node-1/vmlinuz",
		"/node+1/vmlinuz",
		"/node0/vmlinuz/x",
		"/node0/boot.ipxe?",
		"node0/boot.ipxe",
		"/node99999999999/vmlinuz",
	};
	enum sim_pxe_file f = SIM_PXE_NFILES;
	unsigned int node = 99;

	assert_int_equal(sim_pxe_parse_path("/node0/boot.ipxe", 2, &node, &f), 0);
	assert_int_equal(node, 0);
	assert_int_equal(f, SIM_PXE_SCRIPT);
	assert_int_equal(sim_pxe_parse_path("/node1/vmlinuz", 2, &node, &f), 0);
	assert_int_equal(node, 1);
	assert_int_equal(f, SIM_PXE_KERNEL);
	assert_int_equal(sim_pxe_parse_path("/node15/initrd.img", 16, &node, &f), 0);
	assert_int_equal(node, 15);
	assert_int_equal(f, SIM_PXE_INITRD);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		node = 99;
		if (sim_pxe_parse_path(bad[i], 2, &node, &f) != -ENOENT)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(node, 99);
	}
}

/* The value following flag in a, or NULL. */
static const char *arg_after(const struct sim_argv *a, const char *flag, const char *prefix)
{
	for (int i = 0; i + 1 < a->argc; i++)
		if (!strcmp(a->argv[i], flag) && !strncmp(a->argv[i + 1], prefix, strlen(prefix)))
			return a->argv[i + 1];
	return NULL;
}

static void qemu_boots_from_the_boot_nic(void **state)
{
	static struct sim_argv a;
	struct sim_node_cfg c = node1;

	c.boot_url = "http://10.0.2.2:8123/node1/boot.ipxe";
	c.boot_rom = "/usr/lib/ipxe/qemu/efi-e1000.rom";
	assert_int_equal(sim_node_argv(&c, &a), 0);
	/* No direct kernel boot at all: the node gets its kernel over the network. */
	for (int i = 0; i < a.argc; i++) {
		assert_string_not_equal(a.argv[i], "-kernel");
		assert_string_not_equal(a.argv[i], "-initrd");
		assert_string_not_equal(a.argv[i], "-append");
	}
	assert_string_equal(arg_after(&a, "-netdev", "user,"),
			    "user,id=boot,bootfile=http://10.0.2.2:8123/node1/boot.ipxe");
	assert_string_equal(arg_after(&a, "-device", "e1000,"),
			    "e1000,netdev=boot,mac=52:54:00:78:00:02,"
			    "romfile=/usr/lib/ipxe/qemu/efi-e1000.rom,bootindex=0");
	/* The interconnect NIC has no ROM, so it never tries a boot of its own. */
	assert_string_equal(arg_after(&a, "-device", "virtio-net-pci,"),
			    "virtio-net-pci,netdev=ic,mac=52:54:00:77:00:02,romfile=");

	c.boot_url = NULL;
	assert_int_equal(sim_node_argv(&c, &a), 0);
	assert_null(arg_after(&a, "-netdev", "user,"));
	assert_null(arg_after(&a, "-device", "e1000,"));
	assert_string_equal(arg_after(&a, "-device", "virtio-net-pci,"),
			    "virtio-net-pci,netdev=ic,mac=52:54:00:77:00:02");
}

static void missing_rom_is_refused(void **state)
{
	char rom[512];

	assert_int_equal(sim_pxe_find_rom("/nonexistent/efi-e1000.rom", rom, sizeof(rom)), -ENOENT);
}

/* GET path from 127.0.0.1:port over HTTP/1.0; returns the whole response. */
static char *get(uint16_t port, const char *path)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons(port) };
	static char resp[65536];
	char req[256];
	size_t used = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while ((n = read(fd, resp + used, sizeof(resp) - 1 - used)) > 0)
		used += (size_t)n;
	resp[used] = '\0';
	close(fd);
	return resp;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void server_serves_and_logs(void **state)
{
	char dir[] = "/tmp/test-sim-pxe.XXXXXX", kernel[64], initrd[64], log[64], script[600];
	const char *cmdline[2] = { "console=ttyS0 cvmm.node=0", "console=ttyS0 cvmm.node=1" };
	struct sim_pxe s, other;
	char *resp, logtext[2048] = "";
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", dir);
	snprintf(initrd, sizeof(initrd), "%s/initrd.img", dir);
	snprintf(log, sizeof(log), "%s/pxe.log", dir);
	write_file(kernel, "KERNEL-BYTES");
	write_file(initrd, "INITRD-BYTES-AND-MORE");

	sim_pxe_init(&s);
	assert_int_equal(sim_pxe_listen(&s, 0), 0);
	assert_true(s.port > 0);
	/* The same port again: in use, said so. */
	sim_pxe_init(&other);
	assert_int_equal(sim_pxe_listen(&other, s.port), -EADDRINUSE);
	sim_pxe_stop(&other);

	assert_int_equal(sim_pxe_start(&s, &(struct sim_pxe_cfg){ .nodes = 2,
								  .kernel = kernel,
								  .initrd = initrd,
								  .cmdline = cmdline,
								  .log_path = log }),
			 0);
	resp = get(s.port, "/node1/boot.ipxe");
	assert_non_null(strstr(resp, " 200 "));
	assert_true(sim_ipxe_script(s.port, 1, cmdline[1], script, sizeof(script)) > 0);
	assert_non_null(strstr(resp, script));
	resp = get(s.port, "/node1/vmlinuz");
	assert_non_null(strstr(resp, " 200 "));
	assert_non_null(strstr(resp, "\r\n\r\nKERNEL-BYTES"));
	resp = get(s.port, "/node1/initrd.img");
	assert_non_null(strstr(resp, "\r\n\r\nINITRD-BYTES-AND-MORE"));
	resp = get(s.port, "/node2/vmlinuz");
	assert_non_null(strstr(resp, " 404 "));
	sim_pxe_stop(&s);

	f = fopen(log, "r");
	assert_non_null(f);
	assert_true(fread(logtext, 1, sizeof(logtext) - 1, f) > 0);
	fclose(f);
	assert_string_equal(logtext, "node1 GET /node1/boot.ipxe 200 185\n"
				     "node1 GET /node1/vmlinuz 200 12\n"
				     "node1 GET /node1/initrd.img 200 21\n"
				     "- GET /node2/vmlinuz 404 13\n");
	unlink(kernel);
	unlink(initrd);
	unlink(log);
	rmdir(dir);
}

/* Parses a NULL-terminated argument list after "sim"; err holds the message. */
static int parse(struct sim_opts *o, char *err, size_t errlen, ...)
{
	static char *argv[16];
	int argc = 0;
	va_list ap;

	argv[argc++] = (char *)"sim";
	va_start(ap, errlen);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	err[0] = '\0';
	return sim_opts_parse(argc, argv, o, err, errlen);
}

static void options(void **state)
{
	struct sim_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, sizeof(err), "--", "true", NULL), 0);
	assert_false(o.pxe);
	assert_int_equal(parse(&o, err, sizeof(err), "--pxe", "--pxe-rom", "/r/e.rom", "--pxe-port",
			       "8080", "--", "true", NULL),
			 0);
	assert_true(o.pxe);
	assert_string_equal(o.pxe_rom, "/r/e.rom");
	assert_int_equal(o.pxe_port, 8080);
	/* VC mode boots over the network as well. */
	assert_int_equal(parse(&o, err, sizeof(err), "--pxe", "--kernel", "/k", NULL), 0);
	assert_true(o.pxe && o.vc_mode);

	assert_int_equal(parse(&o, err, sizeof(err), "--pxe-rom", "/r/e.rom", "--", "true", NULL),
			 -EINVAL);
	assert_string_equal(err, "--pxe-rom: only with --pxe");
	assert_int_equal(parse(&o, err, sizeof(err), "--pxe-port", "80", "--", "true", NULL),
			 -EINVAL);
	assert_string_equal(err, "--pxe-port: only with --pxe");
	assert_int_equal(
		parse(&o, err, sizeof(err), "--pxe", "--pxe-rom", "e.rom", "--", "true", NULL),
		-EINVAL);
	assert_non_null(strstr(err, "--pxe-rom: 'e.rom' is not an absolute path"));
	assert_int_equal(
		parse(&o, err, sizeof(err), "--pxe", "--pxe-rom", "/a,b.rom", "--", "true", NULL),
		-EINVAL);
	assert_non_null(strstr(err, "without commas"));
	assert_int_equal(
		parse(&o, err, sizeof(err), "--pxe", "--pxe-port", "0", "--", "true", NULL),
		-EINVAL);
	assert_non_null(strstr(err, "--pxe-port: '0' is not a whole number from 1 to 65535"));
	assert_int_equal(
		parse(&o, err, sizeof(err), "--pxe", "--pxe-port", "65536", "--", "true", NULL),
		-EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(script_boots_the_nodes_files),
		cmocka_unit_test(script_has_the_direct_boot_cmdline),
		cmocka_unit_test(too_long_is_refused),
		cmocka_unit_test(urls_name_node_and_file),
		cmocka_unit_test(paths_parse),
		cmocka_unit_test(qemu_boots_from_the_boot_nic),
		cmocka_unit_test(missing_rom_is_refused),
		cmocka_unit_test(server_serves_and_logs),
		cmocka_unit_test(options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
