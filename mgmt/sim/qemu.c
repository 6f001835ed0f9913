// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "mgmt/sim/qemu.h"

/* The interconnect's multicast group; the port tells one cluster from another. */
#define SIM_MCAST_GROUP "239.77.0.1"

static int add(struct sim_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int add(struct sim_argv *a, const char *fmt, ...)
{
	size_t room = sizeof(a->store) - a->used;
	va_list ap;
	int n;

	if (a->argc == SIM_ARGV_MAX)
		return -E2BIG;
	va_start(ap, fmt);
	n = vsnprintf(a->store + a->used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return -E2BIG;
	a->argv[a->argc++] = a->store + a->used;
	a->argv[a->argc] = NULL;
	a->used += (size_t)n + 1;
	return 0;
}

void sim_node_ctl_path(const char *rundir, unsigned int node, char *buf, size_t len)
{
	snprintf(buf, len, "%s/node%u.ctl", rundir, node);
}

void sim_node_console_path(const char *rundir, unsigned int node, char *buf, size_t len)
{
	snprintf(buf, len, "%s/node%u.console", rundir, node);
}

void sim_node_monitor_path(const char *rundir, unsigned int node, char *buf, size_t len)
{
	snprintf(buf, len, "%s/node%u.monitor", rundir, node);
}

int sim_node_cmdline(const struct sim_node_cfg *c, char *buf, size_t len)
{
	/*
	 * loglevel=5 rather than quiet (4): the boot's info lines stay off the
	 * console, but the stack traces of a soft lockup or a warning (default
	 * level, 4) are printed.
	 */
	int n = snprintf(buf, len,
			 "console=ttyS0 panic=-1 loglevel=5 cvmm.node=%u cvmm.nodes=%u "
			 "cvmm.rdma=%d%s%s%s%s%s%s",
			 c->node, c->nodes, c->rdma, c->kvm_amd ? " cvmm.kvm_amd=" : "",
			 c->kvm_amd ? c->kvm_amd : "", c->shares ? " cvmm.share=" : "",
			 c->shares ? c->shares : "", c->secret ? " cvmm.secret=" : "",
			 c->secret ? c->secret : "");

	return n < 0 || (size_t)n >= len ? -E2BIG : n;
}

/* Direct kernel boot: QEMU loads the node image itself. */
static int add_kernel(const struct sim_node_cfg *c, struct sim_argv *a)
{
	char cmdline[4096];
	int ret = 0;

	if (sim_node_cmdline(c, cmdline, sizeof(cmdline)) < 0)
		return -E2BIG;
	ret |= add(a, "-kernel");
	ret |= add(a, "%s", c->kernel);
	ret |= add(a, "-initrd");
	ret |= add(a, "%s", c->initrd);
	ret |= add(a, "-append");
	ret |= add(a, "%s", cmdline);
	return ret;
}

/*
 * Network boot: a second NIC, on QEMU's user-mode network, whose DHCP hands
 * out the boot script's URL; its iPXE ROM boots first (bootindex). It is an
 * e1000, for which the node image has no driver, so the booted node never
 * sees it and eth0 stays the interconnect. The interconnect NIC carries no
 * ROM: it must not try a network boot on a segment with no DHCP server.
 */
static int add_boot_nic(const struct sim_node_cfg *c, struct sim_argv *a)
{
	int ret = 0;

	ret |= add(a, "-netdev");
	ret |= add(a, "user,id=boot,bootfile=%s", c->boot_url);
	ret |= add(a, "-device");
	ret |= add(a, "e1000,netdev=boot,mac=52:54:00:78:00:%02x,romfile=%s,bootindex=0",
		   c->node + 1, c->boot_rom);
	return ret;
}

int sim_node_argv(const struct sim_node_cfg *c, struct sim_argv *a)
{
	char ctl[512], con[512], mon[512];
	int ret = 0;

	a->argc = 0;
	a->used = 0;
	a->argv[0] = NULL;
	sim_node_ctl_path(c->rundir, c->node, ctl, sizeof(ctl));
	sim_node_console_path(c->rundir, c->node, con, sizeof(con));
	sim_node_monitor_path(c->rundir, c->node, mon, sizeof(mon));

	ret |= add(a, "%s", c->qemu);
	ret |= add(a, "-name");
	ret |= add(a, "cvmm-node%u", c->node);
	/* TCG with AMD SVM and nested paging: kvm_amd loads inside the node. */
	ret |= add(a, "-accel");
	ret |= add(a, "tcg");
	ret |= add(a, "-cpu");
	ret |= add(a, "qemu64,+svm,+npt");
	ret |= add(a, "-smp");
	ret |= add(a, "%u", c->cpus);
	ret |= add(a, "-m");
	ret |= add(a, "%lluM", (unsigned long long)(c->mem >> 20));
	ret |= add(a, "-nodefaults");
	ret |= add(a, "-no-user-config");
	ret |= add(a, "-display");
	ret |= add(a, "none");
	ret |= add(a, "-no-reboot");
	if (c->boot_url)
		ret |= add_boot_nic(c, a);
	else
		ret |= add_kernel(c, a);
	/* Serial console and control channel: Unix sockets the launcher connects to. */
	ret |= add(a, "-chardev");
	ret |= add(a, "socket,id=con,path=%s,server=on,wait=off", con);
	ret |= add(a, "-serial");
	ret |= add(a, "chardev:con");
	ret |= add(a, "-device");
	ret |= add(a, "virtio-serial-pci,id=vser");
	ret |= add(a, "-chardev");
	ret |= add(a, "socket,id=ctl,path=%s,server=on,wait=off", ctl);
	ret |= add(a, "-device");
	ret |= add(a, "virtserialport,bus=vser.0,chardev=ctl,name=cvmm.ctl");
	/* QEMU's human monitor: where the CPUs are when the node stops answering (node-cpus.h). */
	ret |= add(a, "-monitor");
	ret |= add(a, "unix:%s,server=on,wait=off", mon);
	/* The interconnect: one L2 segment shared by the nodes of this cluster only. */
	ret |= add(a, "-netdev");
	ret |= add(a, "socket,id=ic,mcast=" SIM_MCAST_GROUP ":%u,localaddr=127.0.0.1",
		   c->mcast_port);
	ret |= add(a, "-device");
	ret |= add(a, "virtio-net-pci,netdev=ic,mac=52:54:00:77:00:%02x%s", c->node + 1,
		   c->boot_url ? ",romfile=" : "");
	/* The host's files, read-only; the node binds the shared paths in place. */
	ret |= add(a, "-fsdev");
	ret |= add(a, "local,id=hostfs,path=/,security_model=none,readonly=on");
	ret |= add(a, "-device");
	ret |= add(a, "virtio-9p-pci,fsdev=hostfs,mount_tag=hostfs");
	return ret ? -E2BIG : 0;
}
