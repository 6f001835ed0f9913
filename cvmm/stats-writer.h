/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live statistics file of `cvmm node` (docs/management.md): when the
 * node's agent sets CVMM_STATS_FILE, a thread samples the node's DSM,
 * placement and hypercall counters every second and replaces the file
 * atomically (FILE.tmp, then rename()), and once more when it stops.
 *
 * The node hands it its DSM and its VM while they exist, and takes them back
 * before destroying them; the writer then keeps their last figures, so the
 * file written at exit holds the node's totals. Every function accepts a
 * NULL writer (no file asked for) and does nothing.
 */
#ifndef CVMM_STATS_WRITER_H
#define CVMM_STATS_WRITER_H

struct dsm;
struct vm;
struct stats_writer;

/*
 * Starts the writer if CVMM_STATS_FILE names a file: *out is NULL if not.
 * Labels vc and node. 0 or -errno (logged).
 */
int stats_writer_start(const char *vc, unsigned int node, struct stats_writer **out);

/* Figures from d from now on; NULL: keep d's last ones (before dsm_destroy). */
void stats_writer_set_dsm(struct stats_writer *w, struct dsm *d);

/*
 * Hypercall counters from vm from now on; NULL: keep the last ones (before
 * the VM is destroyed).
 */
void stats_writer_set_vm(struct stats_writer *w, struct vm *vm);

/* vCPU vcpu runs on node (cvmm_vcpu_node); placed again if already known. */
void stats_writer_place_vcpu(struct stats_writer *w, unsigned int vcpu, unsigned int node);

/* Writes the file a last time, stops the thread, frees w. */
void stats_writer_stop(struct stats_writer *w);

#endif
