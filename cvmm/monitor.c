// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "cvmm/hypercall.h"
#include "cvmm/lib/fdio.h"
#include "cvmm/lib/log.h"
#include "cvmm/lib/parse.h"
#include "cvmm/monitor.h"
#include "cvmm/vm.h"

#define POLL_MS	 200 /* how soon the thread notices monitor__stop() */
#define LINE_MAX 128

static const struct {
	const char *name;
	uint32_t type;
} posts[] = {
	{ "cpu-offline", HC_MSG_CPU_OFFLINE },	       { "cpu-online", HC_MSG_CPU_ONLINE },
	{ "node-leave", HC_MSG_NODE_LEAVE },	       { "node-join", HC_MSG_NODE_JOIN },
	{ "node-leave-keep", HC_MSG_NODE_LEAVE_KEEP },
};

static const char *errno_name(int err)
{
	switch (err) {
	case ENODEV:
		return "ENODEV (the guest has not registered a message page)";
	case EBUSY:
		return "EBUSY (the previous message is not acknowledged)";
	case EINVAL:
		return "EINVAL";
	case ENOENT:
		return "ENOENT (no such message)";
	default:
		return strerror(err);
	}
}

void monitor__command(struct vm *vm, const char *line, char *out, size_t len, int client)
{
	char cmd[LINE_MAX] = "", arg[LINE_MAX] = "";
	unsigned long n = 0;
	int fields = sscanf(line, "%127s %127s", cmd, arg);

	if (fields == 2 && parse_uint(arg, 0, UINT32_MAX, &n)) {
		snprintf(out, len, "error bad number '%s'\n", arg);
		return;
	}
	for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++) {
		int64_t seq;

		if (strcmp(cmd, posts[i].name))
			continue;
		if (fields != 2) {
			snprintf(out, len, "error usage: %s N\n", cmd);
			return;
		}
		seq = hypercall__post(vm, posts[i].type, (uint32_t)n);
		if (seq < 0)
			snprintf(out, len, "error %s\n", errno_name((int)-seq));
		else
			snprintf(out, len, "ok seq %lld\n", (long long)seq);
		return;
	}
	if (!strcmp(cmd, "status") && fields == 2) {
		int32_t status = 0;
		int ret = hypercall__msg_status(vm, (uint32_t)n, &status);

		if (ret == -EINPROGRESS)
			snprintf(out, len, "pending %lu\n", n);
		else if (ret)
			snprintf(out, len, "error %s\n", errno_name(-ret));
		else
			snprintf(out, len, "acked %lu status %d\n", n, status);
		return;
	}
	if (!strcmp(cmd, "stats") && fields == 1) {
		FILE *f = fmemopen(out, len, "w");

		if (!f) {
			snprintf(out, len, "error %s\n", strerror(errno));
			return;
		}
		hypercall__print_stats(vm, f);
		fputs("ok\n", f);
		fclose(f);
		return;
	}
	if (vm->cluster && vm->cluster->command && vm->cluster->command(vm, line, out, len, client))
		return;
	snprintf(out, len,
		 "error unknown command '%s' (cpu-offline N, cpu-online N, node-leave N, "
		 "node-leave-keep N, node-join N, status SEQ, stats)\n",
		 cmd);
}

/* Serves one client until it hangs up or the VM stops. */
static void serve_client(struct monitor *m, int fd)
{
	char line[LINE_MAX];
	size_t have = 0;

	while (!atomic_load(&m->stop)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char *nl;
		ssize_t n;

		if (poll(&p, 1, POLL_MS) <= 0)
			continue;
		n = read(fd, line + have, sizeof(line) - 1 - have);
		if (n <= 0)
			return;
		have += (size_t)n;
		line[have] = '\0';
		while ((nl = strchr(line, '\n'))) {
			char reply[2048];

			*nl = '\0';
			monitor__command(m->vm, line, reply, sizeof(reply), fd);
			if (write_full(fd, reply, strlen(reply)))
				return;
			have -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, have + 1);
		}
		if (have == sizeof(line) - 1)
			return; /* a line too long: drop the client */
	}
}

static void *monitor_thread(void *arg)
{
	struct monitor *m = arg;

	while (!atomic_load(&m->stop)) {
		struct pollfd p = { .fd = m->fd, .events = POLLIN };
		int fd;

		if (poll(&p, 1, POLL_MS) <= 0)
			continue;
		fd = accept4(m->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_client(m, fd);
		close(fd);
	}
	return NULL;
}

int monitor__start(struct monitor *m, struct vm *vm, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int ret;

	*m = (struct monitor){ .vm = vm, .path = path, .fd = -1 };
	if (strlen(path) >= sizeof(addr.sun_path)) {
		pr_err("--monitor %s: path too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);
	m->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (m->fd < 0)
		goto out_errno;
	unlink(path); /* a socket left by an earlier run */
	if (bind(m->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(m->fd, 4) < 0)
		goto out_errno;
	ret = pthread_create(&m->thread, NULL, monitor_thread, m);
	if (ret) {
		errno = ret;
		goto out_errno;
	}
	m->running = true;
	return 0;

out_errno:
	ret = -errno;
	pr_err("--monitor %s: %s", path, strerror(-ret));
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	return ret;
}

void monitor__stop(struct monitor *m)
{
	atomic_store(&m->stop, true);
	if (m->running)
		pthread_join(m->thread, NULL);
	m->running = false;
	if (m->fd >= 0) {
		close(m->fd);
		unlink(m->path);
	}
	m->fd = -1;
}
