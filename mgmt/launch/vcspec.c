// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cvmm/lib/fdio.h"
#include "mgmt/launch/vcspec.h"

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

int vc_spec_parse_transport(const char *arg, enum vc_transport *out, char *err, size_t errlen)
{
	if (!strcmp(arg, "tcp"))
		*out = VC_TRANSPORT_TCP;
	else if (!strcmp(arg, "rdma"))
		*out = VC_TRANSPORT_RDMA;
	else
		return fail(err, errlen, -EINVAL, "--transport '%s': expected tcp or rdma", arg);
	return 0;
}

/* Copies an option's string into a fixed field of struct vc, refusing truncation. */
static int set_field(char *field, size_t len, const char *opt, const char *val, char *err,
		     size_t errlen)
{
	if (strlen(val) >= len)
		return fail(err, errlen, -EINVAL, "%s: longer than %zu characters", opt, len - 1);
	memcpy(field, val, strlen(val) + 1);
	return 0;
}

static int from_file(const struct vc_spec *s, struct vc *vc, char *err, size_t errlen)
{
	int ret = vc_load(s->vc_path, vc, err, errlen);

	if (ret)
		return ret;
	if (s->nodes && s->nodes != vc->nnodes)
		return fail(err, errlen, -EINVAL, "--nodes %u: %s describes %u node%s", s->nodes,
			    s->vc_path, vc->nnodes, vc->nnodes == 1 ? "" : "s");
	return 0;
}

static int generate(const struct vc_spec *s, struct vc *vc, char *err, size_t errlen)
{
	unsigned int cpus = s->cpus ? s->cpus : s->nodes;
	uint64_t mem = s->mem ? s->mem : s->nodes * VC_NODE_MEM_UNIT;
	/*
	 * Placeholders: vc_generate() validates with one port for every node,
	 * so the launcher's addresses (all 127.0.0.1 in local mode) and ports
	 * are set afterwards, and validated again then.
	 */
	static const char *const names[VC_MAX_NODES] = {
		"node0", "node1", "node2",  "node3",  "node4",	"node5",  "node6",  "node7",
		"node8", "node9", "node10", "node11", "node12", "node13", "node14", "node15",
	};

	if (!s->kernel)
		return fail(err, errlen, -EINVAL, "--kernel is required (or --vc FILE)");
	return vc_generate(vc, s->nodes, names, cpus, mem, err, errlen);
}

int vc_spec_build(const struct vc_spec *s, const char *const *addrs, const uint16_t *ports,
		  struct vc *vc, char *err, size_t errlen)
{
	int ret;

	ret = s->vc_path ? from_file(s, vc, err, errlen) : generate(s, vc, err, errlen);
	if (ret)
		return ret;
	if (!s->vc_path) /* a file keeps its own name */
		ret = set_field(vc->name, sizeof(vc->name), "name", s->name ? s->name : "vc", err,
				errlen);
	if (!ret && s->kernel)
		ret = set_field(vc->kernel, sizeof(vc->kernel), "--kernel", s->kernel, err, errlen);
	if (!ret && s->initrd)
		ret = set_field(vc->initrd, sizeof(vc->initrd), "--initrd", s->initrd, err, errlen);
	if (!ret && s->append)
		ret = set_field(vc->cmdline, sizeof(vc->cmdline), "--append", s->append, err,
				errlen);
	if (ret)
		return ret;
	if (s->transport_given)
		vc->transport = s->transport;
	/* Where this launcher runs the nodes, whatever the file said. */
	for (unsigned int i = 0; i < vc->nnodes; i++) {
		ret = set_field(vc->node[i].address, sizeof(vc->node[i].address), "address",
				addrs[i], err, errlen);
		if (ret)
			return ret;
		if (ports)
			vc->node[i].port = ports[i];
	}
	return vc_validate(vc, err, errlen);
}

static int check_file(const char *path, const char *opt, const char *field, const struct vc_spec *s,
		      char *err, size_t errlen)
{
	int ret;

	if (!access(path, R_OK))
		return 0;
	ret = -errno;
	if (opt)
		return fail(err, errlen, ret, "%s %s: %s", opt, path, strerror(-ret));
	return fail(err, errlen, ret, "%s: guest.%s %s: %s", s->vc_path, field, path,
		    strerror(-ret));
}

int vc_spec_check_guest(const struct vc_spec *s, const struct vc *vc, char *err, size_t errlen)
{
	int ret = check_file(vc->kernel, s->kernel ? "--kernel" : NULL, "kernel", s, err, errlen);

	if (!ret && vc->initrd[0])
		ret = check_file(vc->initrd, s->initrd ? "--initrd" : NULL, "initrd", s, err,
				 errlen);
	return ret;
}

int vc_spec_write(const struct vc *vc, const char *dir, const char *prefix, char *path,
		  size_t pathlen, char *err, size_t errlen)
{
	char *text = vc_to_json(vc);
	int fd, ret;

	if (!text)
		return fail(err, errlen, -ENOMEM, "cannot write the VC as JSON: out of memory");
	if ((size_t)snprintf(path, pathlen, "%s/%s.XXXXXX", dir, prefix) >= pathlen) {
		free(text);
		return fail(err, errlen, -ENAMETOOLONG, "%s: path too long", dir);
	}
	fd = mkstemp(path); /* 0600: the file names the guest and the nodes */
	if (fd < 0) {
		ret = -errno;
		free(text);
		return fail(err, errlen, ret, "cannot create %s: %s", path, strerror(-ret));
	}
	ret = write_full(fd, text, strlen(text));
	if (!ret)
		ret = write_full(fd, "\n", 1);
	if (close(fd) && !ret)
		ret = -errno;
	free(text);
	if (ret) {
		unlink(path);
		return fail(err, errlen, ret, "cannot write %s: %s", path, strerror(-ret));
	}
	return 0;
}
