/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The set-up mesh that the tcp and rdma transports share (dsm/tp-setup.c):
 * a TCP connection per pair of nodes, node i connecting to every j < i and
 * accepting every j > i, and a HELLO each way on it (docs/protocol.md). tcp
 * then keeps the connection for its messages; rdma exchanges its queue
 * pairs' records on it and closes it.
 *
 * Deadlines are CLOCK_MONOTONIC milliseconds (tp_setup_now_ms). Messages
 * name the transport (tp->ops->name) and this node.
 */
#ifndef DSM_TP_SETUP_H
#define DSM_TP_SETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dsm/transport.h"

uint64_t tp_setup_now_ms(void);

/* "host:port" -> sockaddr. -EINVAL, with a message naming the address. */
int tp_setup_resolve(const struct dsm_transport *tp, const char *addr, struct sockaddr_storage *ss,
		     socklen_t *len);

/* Reads or writes all of buf on a blocking-style set-up socket. 0, -ETIMEDOUT, -EPIPE (EOF). */
int tp_setup_io(int fd, void *buf, size_t len, bool wr, uint64_t deadline);

int tp_setup_send_hello(const struct dsm_transport *tp, int fd, uint64_t deadline);

/* Reads and checks a HELLO from who; *node: the peer's id. Reports its failures. */
int tp_setup_recv_hello(const struct dsm_transport *tp, int fd, uint64_t deadline, const char *who,
			unsigned *node);

/*
 * The listening socket: the one the caller passed (cfg->listen_fd, *own
 * false), or one bound to this node's address (*own true). The fd or -errno.
 */
int tp_setup_listen(const struct dsm_transport *tp, bool *own);

/*
 * Connects to node j, retrying while it does not listen yet, sends our HELLO
 * and checks that j answers as j. The connected fd or -errno (reported).
 */
int tp_setup_connect(const struct dsm_transport *tp, unsigned j, uint64_t deadline);

/*
 * Waits for the next incoming connection and reads its HELLO (not answered:
 * the caller checks *node first). The fd, -ETIMEDOUT (not reported: the
 * caller knows who is missing), or another -errno.
 */
int tp_setup_accept(const struct dsm_transport *tp, int listen_fd, uint64_t deadline,
		    unsigned *node);

#endif
