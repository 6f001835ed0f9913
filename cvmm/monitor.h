/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The monitor socket of `cvmm run --monitor PATH`: a Unix stream socket
 * that takes one command per line and answers with one line (docs/man/
 * cvmm-run.md). It is how an operator or a test posts hotplug messages to
 * the guest and reads the hypercall counters while the guest runs;
 * `cvmm monitor PATH COMMAND` is its client.
 *
 *   cpu-offline N | cpu-online N | node-leave N | node-leave-keep N |
 *   node-join N       -> "ok seq S" or "error ERRNO-NAME"
 *   status S          -> "acked S status X", "pending S" or "error ..."
 *   stats             -> the --stats lines, then "ok"
 *   placement, vcpu-move, rtt, checksum, leave: on a node of a virtual
 *                        computer (cvmm/cluster-monitor.c)
 *
 * The server is one thread; it serves one client at a time, which is all a
 * debug hook needs, and polls so that it notices monitor__stop() soon.
 */
#ifndef CVMM_MONITOR_H
#define CVMM_MONITOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct vm;

struct monitor {
	struct vm *vm;
	const char *path;
	int fd; /* the listening socket; -1 when closed */
	pthread_t thread;
	bool running;
	_Atomic bool stop;
};

/* Binds PATH (replacing a stale socket) and starts the thread. 0 or -errno. */
int monitor__start(struct monitor *m, struct vm *vm, const char *path);
/*
 * Stops the thread and removes the socket; call it before the VM is
 * destroyed. Safe on a monitor never started, and twice.
 */
void monitor__stop(struct monitor *m);

/*
 * Runs one command line; the reply (several lines for stats) goes into out.
 * A long command (a node leaving) writes "progress ..." lines to the client
 * fd (-1: none) while it runs.
 */
void monitor__command(struct vm *vm, const char *line, char *out, size_t len, int client);

#endif
