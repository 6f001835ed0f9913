// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cvmm/lib/log.h"
#include "dsm/uffd.h"

#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif

/*
 * Features the engine relies on, all present in Debian's 6.1 and in 6.18
 * (docs/dsm.md explains the choice of MISSING|WP over MINOR|WP).
 */
static const struct {
	uint64_t bit;
	const char *name;
} needed_features[] = {
	{ UFFD_FEATURE_MISSING_SHMEM, "UFFD_FEATURE_MISSING_SHMEM (missing faults on a memfd)" },
	{ UFFD_FEATURE_PAGEFAULT_FLAG_WP, "UFFD_FEATURE_PAGEFAULT_FLAG_WP (write-protect faults)" },
	{ UFFD_FEATURE_WP_HUGETLBFS_SHMEM,
	  "UFFD_FEATURE_WP_HUGETLBFS_SHMEM (write protection of a memfd, Linux 5.19+)" },
};

static const struct {
	uint64_t bit;
	const char *name;
} needed_ioctls[] = {
	{ 1ull << _UFFDIO_COPY, "UFFDIO_COPY" },
	{ 1ull << _UFFDIO_WRITEPROTECT, "UFFDIO_WRITEPROTECT" },
	{ 1ull << _UFFDIO_WAKE, "UFFDIO_WAKE" },
};

int uffd_open(int *out)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd, dev, ret;
	size_t i;

	/* No UFFD_USER_MODE_ONLY: the faults that matter are taken by KVM in the kernel. */
	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == EPERM) {
		/* vm.unprivileged_userfaultfd=0: /dev/userfaultfd may still be allowed. */
		dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
		if (dev >= 0) {
			fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
			close(dev);
		}
	}
	if (fd < 0) {
		ret = -errno;
		pr_err("dsm: userfaultfd: %s (needs root, CAP_SYS_PTRACE or access to "
		       "/dev/userfaultfd)",
		       strerror(errno));
		return ret;
	}
	/* Enable nothing optional; UFFDIO_API reports what the kernel has. */
	if (ioctl(fd, UFFDIO_API, &api)) {
		ret = -errno;
		pr_err("dsm: UFFDIO_API: %s", strerror(errno));
		close(fd);
		return ret;
	}
	for (i = 0; i < sizeof(needed_features) / sizeof(needed_features[0]); i++) {
		if (!(api.features & needed_features[i].bit)) {
			pr_err("dsm: this kernel lacks %s", needed_features[i].name);
			close(fd);
			return -EOPNOTSUPP;
		}
	}
	*out = fd;
	return 0;
}

int uffd_register(int fd, void *addr, size_t len)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP,
	};
	size_t i;

	if (ioctl(fd, UFFDIO_REGISTER, &reg)) {
		int ret = -errno;

		pr_err("dsm: UFFDIO_REGISTER (MISSING|WP) of %zu bytes: %s (the range must be a "
		       "MAP_SHARED mapping of a memfd)",
		       len, strerror(errno));
		return ret;
	}
	for (i = 0; i < sizeof(needed_ioctls) / sizeof(needed_ioctls[0]); i++) {
		if (!(reg.ioctls & needed_ioctls[i].bit)) {
			pr_err("dsm: registered range does not offer %s", needed_ioctls[i].name);
			uffd_unregister(fd, addr, len);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

int uffd_unregister(int fd, void *addr, size_t len)
{
	struct uffdio_range r = { .start = (uintptr_t)addr, .len = len };

	return ioctl(fd, UFFDIO_UNREGISTER, &r) ? -errno : 0;
}

int uffd_copy(int fd, void *dst, const void *src, size_t len, bool wp)
{
	struct uffdio_copy c = {
		.dst = (uintptr_t)dst,
		.src = (uintptr_t)src,
		.len = len,
		.mode = wp ? UFFDIO_COPY_MODE_WP : 0,
	};

	/* EAGAIN: the mm changed under us (e.g. a concurrent fork); retry. */
	while (ioctl(fd, UFFDIO_COPY, &c)) {
		if (errno != EAGAIN)
			return -errno;
		if (c.copy > 0) {
			c.dst += (uint64_t)c.copy;
			c.src += (uint64_t)c.copy;
			c.len -= (uint64_t)c.copy;
		}
		c.copy = 0;
	}
	return 0;
}

int uffd_writeprotect(int fd, void *addr, size_t len, bool wp)
{
	struct uffdio_writeprotect w = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = wp ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	while (ioctl(fd, UFFDIO_WRITEPROTECT, &w))
		if (errno != EAGAIN)
			return -errno;
	return 0;
}

int uffd_wake(int fd, void *addr, size_t len)
{
	struct uffdio_range r = { .start = (uintptr_t)addr, .len = len };

	return ioctl(fd, UFFDIO_WAKE, &r) ? -errno : 0;
}

int uffd_read(int fd, struct uffd_msg *msgs, int max)
{
	ssize_t n = read(fd, msgs, sizeof(*msgs) * (size_t)max);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	return (int)((size_t)n / sizeof(*msgs));
}
