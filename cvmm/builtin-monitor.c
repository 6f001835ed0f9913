// SPDX-License-Identifier: GPL-2.0
/*
 * cvmm monitor: send one command to the monitor socket of a running
 * `cvmm run --monitor PATH` and print the reply (docs/man/cvmm-run.md).
 * For a hotplug message it then waits for the guest's acknowledgement, so
 * a script can offline a CPU and know when the guest is done.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "cvmm/commands.h"
#include "cvmm/lib/fdio.h"
#include "cvmm/lib/log.h"
#include "cvmm/lib/parse.h"

/* Exit statuses. */
enum {
	MON_OK = 0,	 /* reply "ok" or an acknowledgement with status 0 */
	MON_REFUSED = 1, /* "error ...", or the guest acknowledged with an error */
	MON_USAGE = 2,
	MON_CONNECT = 3, /* no monitor at PATH */
	MON_TIMEOUT = 4, /* no acknowledgement within --wait */
};

#define REPLY_MAX 4096

static void usage(FILE *f)
{
	fprintf(f, "usage: cvmm monitor [--wait SECONDS] SOCKET COMMAND [ARG...]\n"
		   "\n"
		   "COMMAND: cpu-offline N, cpu-online N, node-leave N, node-leave-keep N,\n"
		   "node-join N (then waits for the guest's acknowledgement), status SEQ,\n"
		   "stats;\n"
		   "on a node of a virtual computer (cvmm node --monitor) also placement,\n"
		   "vcpu-move VCPU NODE, rtt NODE [COUNT], checksum, leave NODE.\n"
		   "Exit status: 0 ok, 1 refused or failed in the guest, 2 usage,\n"
		   "3 cannot connect, 4 no acknowledgement in time.\n");
}

/* Prints the "progress" lines at the start of reply as they come; returns what is left. */
static size_t print_progress(char *reply, size_t have)
{
	char *nl;

	while (!strncmp(reply, "progress", 8) && (nl = strchr(reply, '\n'))) {
		size_t n = (size_t)(nl + 1 - reply);

		fwrite(reply, 1, n, stdout);
		fflush(stdout);
		have -= n;
		memmove(reply, nl + 1, have + 1);
	}
	return have;
}

/* Sends one line and reads the reply up to its last line. */
static int request(int fd, const char *line, char *reply, size_t len)
{
	size_t have = 0;

	if (write_full(fd, line, strlen(line)) || write_full(fd, "\n", 1))
		return -EIO;
	while (have < len - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 30000) <= 0) /* a vcpu-move waits up to 10 s */
			return -ETIMEDOUT;
		n = read(fd, reply + have, len - 1 - have);
		if (n <= 0)
			return -EIO;
		have += (size_t)n;
		reply[have] = '\0';
		have = print_progress(reply, have);
		/* Every reply ends with a line starting ok, error, acked or pending. */
		if (have && reply[have - 1] == '\n') {
			const char *last = reply + have - 1;

			while (last > reply && last[-1] != '\n')
				last--;
			if (!strncmp(last, "ok", 2) || !strncmp(last, "error", 5) ||
			    !strncmp(last, "acked", 5) || !strncmp(last, "pending", 7))
				return 0;
		}
	}
	return -EMSGSIZE;
}

static int wait_ack(int fd, unsigned long seq, unsigned long wait_s)
{
	char line[64], reply[REPLY_MAX];
	struct timespec start, now;
	int status;

	snprintf(line, sizeof(line), "status %lu", seq);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (request(fd, line, reply, sizeof(reply)))
			return MON_CONNECT;
		if (sscanf(reply, "acked %*u status %d", &status) == 1) {
			fputs(reply, stdout);
			return status ? MON_REFUSED : MON_OK;
		}
		if (strncmp(reply, "pending", 7)) {
			fputs(reply, stdout);
			return MON_REFUSED;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((unsigned long)(now.tv_sec - start.tv_sec) >= wait_s) {
			printf("timeout: message %lu not acknowledged in %lus\n", seq, wait_s);
			return MON_TIMEOUT;
		}
		poll(NULL, 0, 100);
	}
}

int cmd_monitor(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char line[256], reply[REPLY_MAX];
	unsigned long wait_s = 60, seq;
	int fd, i = 1, ret;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return MON_OK;
	}
	if (argc > 2 && !strcmp(argv[1], "--wait")) {
		if (parse_uint(argv[2], 1, 3600, &wait_s)) {
			pr_err("--wait '%s': expected 1 to 3600 seconds", argv[2]);
			return MON_USAGE;
		}
		i = 3;
	}
	if (argc - i < 2 || strlen(argv[i]) >= sizeof(addr.sun_path)) {
		usage(stderr);
		return MON_USAGE;
	}
	strcpy(addr.sun_path, argv[i]);
	line[0] = '\0';
	for (int a = i + 1; a < argc; a++) {
		size_t used = strlen(line);

		if (snprintf(line + used, sizeof(line) - used, "%s%s", a > i + 1 ? " " : "",
			     argv[a]) >= (int)(sizeof(line) - used)) {
			pr_err("command too long");
			return MON_USAGE;
		}
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		pr_err("%s: %s", argv[i], strerror(errno));
		if (fd >= 0)
			close(fd);
		return MON_CONNECT;
	}
	ret = request(fd, line, reply, sizeof(reply));
	if (ret) {
		pr_err("%s: %s", argv[i], strerror(-ret));
		close(fd);
		return MON_CONNECT;
	}
	fputs(reply, stdout);
	if (!strncmp(reply, "error", 5))
		ret = MON_REFUSED;
	else if (sscanf(reply, "ok seq %lu", &seq) == 1)
		ret = wait_ack(fd, seq, wait_s);
	else
		ret = MON_OK;
	close(fd);
	return ret;
}
