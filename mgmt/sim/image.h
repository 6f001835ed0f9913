/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The node image: Debian's amd64 kernel and an initramfs (see
 * mgmt/image/mkimage.sh). The base image is cached under
 * CACHE/node-KEY/ where KEY hashes everything it is built from, so a cache
 * entry is never stale: changed inputs give a new key.
 */
#ifndef CVMM_MGMT_SIM_IMAGE_H
#define CVMM_MGMT_SIM_IMAGE_H

#include <stddef.h>

#define SIM_KEY_HEX 16 /* hex digits of the key (64 bits of SHA-256) */

struct sim_image_input {
	const char *name;
	const char *value;
};

/*
 * The key of a set of inputs: SHA-256 over "name\0value\0" for each input in
 * name order, so the order they are listed in does not matter. Duplicate
 * names are an error (-EINVAL): they would make the key ambiguous.
 * key receives SIM_KEY_HEX hex digits and a NUL.
 */
int sim_image_key(struct sim_image_input *in, size_t n, char key[SIM_KEY_HEX + 1]);

/* SHA-256 of a file's contents, as 64 hex digits and a NUL. */
int sim_hash_file(const char *path, char hex[65]);

struct sim_image {
	char datadir[512]; /* mgmt/image of this tree */
	char cachedir[512];
	char key[SIM_KEY_HEX + 1];
	char dir[600]; /* CACHE/node-KEY */
	char kernel[640];
	char base[640];
};

/*
 * Finds the image data (mgmt/image) next to the running program, computes the
 * key, and builds the base image if the cache lacks it, showing progress.
 * cache_dir may be NULL for the default. Returns 0 or a negative errno after
 * reporting the error.
 */
int sim_image_prepare(struct sim_image *img, const char *cache_dir);

/* Packs bindir's programs into out (a cpio.gz) and writes base+overlay to initrd. */
int sim_image_initrd(const struct sim_image *img, const char *bindir, const char *rundir,
		     char *initrd, size_t len);

#endif
