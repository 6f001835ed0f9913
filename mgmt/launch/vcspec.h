/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtual computer a launcher starts, from its command line: generated
 * from a node count, vCPUs and memory (vc_generate()), or read from a
 * description file, then given the guest and the node addresses of where the
 * launcher runs it. Shared by the two launchers that start every node of a
 * VC: `cvmm run --nodes` (mgmt/launch/local.c, processes on this host) and
 * `cvmm sim --kernel` (mgmt/sim/, emulated nodes).
 *
 * Pure except that vc_spec_build() reads the --vc file.
 */
#ifndef CVMM_MGMT_LAUNCH_VCSPEC_H
#define CVMM_MGMT_LAUNCH_VCSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mgmt/vc/vc.h"

struct vc_spec {
	const char *name;     /* the generated VC's name (default "vc") */
	unsigned int nodes;   /* 0: as many as --vc FILE has */
	unsigned int cpus;    /* 0: one per node */
	uint64_t mem;	      /* 0: 512M per node */
	const char *kernel;   /* NULL: --vc FILE's */
	const char *initrd;   /* NULL: --vc FILE's, or none */
	const char *append;   /* NULL: --vc FILE's, or empty */
	const char *vc_path;  /* --vc FILE, or NULL to generate */
	bool transport_given; /* --transport; else FILE's, or tcp */
	enum vc_transport transport;
};

/*
 * Parses a --transport argument. Returns 0, or -EINVAL with a message naming
 * the option.
 */
int vc_spec_parse_transport(const char *arg, enum vc_transport *out, char *err, size_t errlen);

/*
 * Builds the VC of spec into *vc, placing node i at addrs[i] and, when ports
 * is not NULL, ports[i] (else the file's ports, or the default 7470).
 * Returns 0, or -EINVAL (or a read error) with one message in err naming the
 * option or the field at fault.
 */
int vc_spec_build(const struct vc_spec *spec, const char *const *addrs, const uint16_t *ports,
		  struct vc *vc, char *err, size_t errlen);

/*
 * Checks that the guest's kernel and initrd of vc can be read here, before
 * any node starts. Returns 0, or -errno with a message naming the option
 * (or the field of the --vc file) in err.
 */
int vc_spec_check_guest(const struct vc_spec *spec, const struct vc *vc, char *err, size_t errlen);

/*
 * Writes the VC as JSON into a new private file DIR/PREFIX.XXXXXX (mode 0600).
 * Returns 0 and the file's path in path, or -errno with a message in err.
 */
int vc_spec_write(const struct vc *vc, const char *dir, const char *prefix, char *path,
		  size_t pathlen, char *err, size_t errlen);

#endif
