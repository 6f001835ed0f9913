/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DSM transports: one static const ops table per transport (tcp, loop; rdma
 * later), per-instance data in struct dsm_transport.
 *
 * The engine's view is message-oriented and completion-driven so that verbs
 * fit without change:
 *   - send() takes a message and copies its payload before returning: into
 *     the socket buffer for tcp, into a registered send buffer for rdma (the
 *     guest mapping itself is never registered: that would pin pages and
 *     defeat invalidation). Messages to one peer arrive in the order sent.
 *   - poll_fd() is an fd that becomes readable when progress() has work: an
 *     epoll set of sockets, an eventfd, a verbs completion channel.
 *   - progress() reaps completions and delivers each received message to
 *     handler.recv in order; its payload lives in a transport buffer (a
 *     registered receive buffer for rdma) only during the call.
 *   - read_page() is an optional one-sided read of a peer's exported page
 *     (RDMA READ); NULL where the transport has none.
 * Transports own the wire: framing, the sequence number of each direction
 * (checked on receive) and the version handshake (HELLO).
 */
#ifndef CVMM_DSM_TRANSPORT_H
#define CVMM_DSM_TRANSPORT_H

#include <stdint.h>

#include "dsm/dsm.h"
#include "dsm/msg.h"

struct dsm_transport;

struct dsm_tp_handler {
	/* A message from peer; m->seq has been checked. */
	void (*recv)(void *arg, unsigned peer, const struct dsm_msg *m);
	/*
	 * The link to peer is gone: err is -EPIPE for an orderly close by the
	 * peer, -EPROTO for a malformed frame (field names it), or -errno.
	 */
	void (*down)(void *arg, unsigned peer, int err, const char *field, const char *what);
	/* An absent peer (dsm_config.absent) connected: it may be sent to from now on. */
	void (*up)(void *arg, unsigned peer);
	void *arg;
};

struct dsm_transport_ops {
	const char *name;
	/* Connects this node to every peer and exchanges HELLO. Blocking. */
	int (*open)(struct dsm_transport *tp);
	void (*close)(struct dsm_transport *tp);
	/* Thread-safe; -ENOTCONN if the peer's link is down. */
	int (*send)(struct dsm_transport *tp, unsigned peer, const struct dsm_msg *m);
	/* Drops the link to peer without calling handler.down (the engine failed it). */
	void (*disconnect)(struct dsm_transport *tp, unsigned peer);
	int (*poll_fd)(struct dsm_transport *tp);
	/* Called by the DSM thread only. 0 or -errno. */
	int (*progress)(struct dsm_transport *tp);
	int (*read_page)(struct dsm_transport *tp, unsigned peer, uint64_t page, void *buf);
};

struct dsm_transport {
	const struct dsm_transport_ops *ops;
	const struct dsm_config *cfg;
	struct dsm_hello hello; /* ours; peers must match all but .node */
	struct dsm_tp_handler handler;
	void *priv;
};

extern const struct dsm_transport_ops dsm_tcp_ops;
extern const struct dsm_transport_ops dsm_loop_ops;
extern const struct dsm_transport_ops dsm_rdma_ops; /* "rdma[:OPTIONS]", dsm/tp-rdma.c */

/* The transport called name ("name" or "name:options"), or NULL. */
const struct dsm_transport_ops *dsm_transport_find(const char *name);

#endif
