/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `cvmm sim --pxe`: the boot server the nodes' iPXE ROMs fetch from, an HTTP
 * server (libmicrohttpd, its own thread) on 127.0.0.1, which the nodes reach
 * as http://10.0.2.2:PORT/ through QEMU's user-mode network. It serves each
 * node its iPXE script (mgmt/sim/ipxe.h) and the node image's kernel and
 * initrd, logs every request to a file, and says on stderr when a node has
 * fetched its whole image.
 *
 * Two steps, so that a port in use is refused before the image is built:
 * sim_pxe_listen() binds the port, sim_pxe_start() starts serving.
 */
#ifndef CVMM_MGMT_SIM_PXE_H
#define CVMM_MGMT_SIM_PXE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mgmt/sim/ipxe.h"
#include "mgmt/sim/opts.h"

struct MHD_Daemon;

struct sim_pxe {
	int fd; /* the listening socket, -1 when none */
	uint16_t port;
	struct MHD_Daemon *mhd;
	unsigned int nodes;
	const char *files[SIM_PXE_NFILES]; /* kernel and initrd paths; no script */
	char *cmdline[SIM_MAX_NODES];	   /* each node's kernel command line */
	int log;			   /* the request log, -1 when none */
	/* Only the server's thread touches these, once it runs. */
	unsigned int fetched[SIM_MAX_NODES]; /* bitmask of enum sim_pxe_file */
	bool announced[SIM_MAX_NODES];
};

/* An empty server: nothing bound, nothing to stop. */
void sim_pxe_init(struct sim_pxe *s);

/*
 * The iPXE ROM of the boot NIC: rom when given, else efi-e1000.rom in the
 * directories Debian's ipxe-qemu and QEMU keep it in. Returns 0 and its path,
 * or -ENOENT after reporting what is missing and which package has it.
 */
int sim_pxe_find_rom(const char *rom, char *buf, size_t len);

/* Binds 127.0.0.1:port (0: a free one). Returns 0, or -errno after reporting it. */
int sim_pxe_listen(struct sim_pxe *s, unsigned int port);

struct sim_pxe_cfg {
	unsigned int nodes;
	const char *kernel;
	const char *initrd;
	const char *const *cmdline; /* nodes command lines */
	const char *log_path;	    /* the request log */
};

/* Starts serving on the bound socket. Returns 0, or -errno after reporting it. */
int sim_pxe_start(struct sim_pxe *s, const struct sim_pxe_cfg *cfg);

/* Stops the server and frees everything; safe on a server never started. */
void sim_pxe_stop(struct sim_pxe *s);

#endif
