/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Thin userfaultfd wrappers: -1/errno becomes -errno, EAGAIN from a racing
 * mm change is retried, and the feature check at start names what is missing.
 */
#ifndef CVMM_DSM_UFFD_H
#define CVMM_DSM_UFFD_H

#include <linux/userfaultfd.h>
#include <stdbool.h>
#include <stddef.h>

/* Opens a non-blocking userfaultfd that reports kernel-mode faults (KVM's). */
int uffd_open(int *fd);

/* Registers [addr, addr+len) for MISSING|WP faults and checks the ioctls we use. */
int uffd_register(int fd, void *addr, size_t len);
int uffd_unregister(int fd, void *addr, size_t len);

/* Installs a page from src, read-only if wp. Wakes waiters. */
int uffd_copy(int fd, void *dst, const void *src, size_t len, bool wp);
/* Sets (wp) or clears write protection; clearing wakes waiters. */
int uffd_writeprotect(int fd, void *addr, size_t len, bool wp);
int uffd_wake(int fd, void *addr, size_t len);

/* Reads up to max messages. Returns the count (0 if none) or -errno. */
int uffd_read(int fd, struct uffd_msg *msgs, int max);

#endif
