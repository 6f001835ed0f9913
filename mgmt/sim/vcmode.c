// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmm/lib/log.h"
#include "mgmt/sim/launcher.h"
#include "mgmt/sim/vcmode.h"

int sim_vc_prepare(struct sim_opts *o, struct vc *vc, char *err, size_t errlen)
{
	char store[VC_MAX_NODES][16];
	const char *addrs[VC_MAX_NODES];
	int ret;

	/* The interconnect addresses every node gets (mgmt/image/init). */
	for (unsigned int i = 0; i < VC_MAX_NODES; i++) {
		snprintf(store[i], sizeof(store[i]), "10.77.0.%u", i + 1);
		addrs[i] = store[i];
	}
	ret = vc_spec_build(&o->vc, addrs, NULL, vc, err, errlen);
	if (ret)
		return ret;
	o->nodes = vc->nnodes;
	if (vc->transport == VC_TRANSPORT_RDMA)
		o->rdma = true;
	if (!o->node_cpus_given) {
		/* A host CPU for each vCPU thread of the busiest node. */
		o->node_cpus = 1;
		for (unsigned int i = 0; i < vc->nnodes; i++)
			if (vc->node[i].ncpus > o->node_cpus)
				o->node_cpus = vc->node[i].ncpus;
		if (o->node_cpus > SIM_MAX_NODE_CPUS)
			o->node_cpus = SIM_MAX_NODE_CPUS;
	}
	if (!o->node_mem_given)
		o->node_mem = vc->mem + SIM_VC_NODE_OWN;
	if (!o->kvm_amd)
		o->kvm_amd = SIM_VC_KVM_AMD;
	return 0;
}

static int resolve(char *path, size_t len, char *err, size_t errlen)
{
	char abs[PATH_MAX];

	if (!realpath(path, abs)) {
		int ret = -errno;

		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (strlen(abs) >= len) {
		snprintf(err, errlen, "%s: the absolute path is longer than %zu characters", abs,
			 len - 1);
		return -ENAMETOOLONG;
	}
	strcpy(path, abs);
	return 0;
}

int sim_vc_resolve_guest(const struct sim_opts *o, struct vc *vc, char *err, size_t errlen)
{
	int ret = vc_spec_check_guest(&o->vc, vc, err, errlen);

	if (!ret)
		ret = resolve(vc->kernel, sizeof(vc->kernel), err, errlen);
	if (!ret && vc->initrd[0])
		ret = resolve(vc->initrd, sizeof(vc->initrd), err, errlen);
	return ret;
}

void sim_vc_argv(const char *vc_path, unsigned int id, char *idbuf, size_t idlen, const char **argv)
{
	int k = 0;

	snprintf(idbuf, idlen, "%u", id);
	argv[k++] = "cvmm";
	argv[k++] = "node";
	argv[k++] = "--vc";
	argv[k++] = vc_path;
	argv[k++] = "--id";
	argv[k++] = idbuf;
	argv[k] = NULL;
}

int sim_vc_check(struct guest_check *c, int sim_result)
{
	int vc_status = sim_result == SIM_EXIT_TIMEOUT ? GUEST_CHECK_TIMEOUT : sim_result;
	char msg[600];
	int status = guest_check_verdict(c, vc_status, msg, sizeof(msg));

	if (!msg[0])
		pr_info("check: skipped: the run failed before the guest could be judged (status "
			"%d)",
			sim_result);
	else if (status)
		pr_err("check: %s (status %d)", msg, status);
	else
		pr_info("check: %s", msg);
	return status;
}
