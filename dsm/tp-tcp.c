// SPDX-License-Identifier: GPL-2.0
/*
 * tcp transport: one connection per pair of nodes, framed by dsm/wire.h.
 *
 * Mesh set-up (dsm/tp-setup.c, shared with rdma) is deterministic and
 * deadlock-free: node i connects to every node j < i and accepts every node
 * j > i. Lower nodes reach their accept loop without waiting on higher ones,
 * so by induction everyone gets there. The connecting side sends HELLO
 * first; the accepting side checks it and answers with its own.
 *
 * Hot-add: nodes in dsm_config.absent are skipped at set-up, and the
 * listening socket stays in the epoll set: an absent node that joins later
 * connects to every node, and progress() accepts it (a joining node
 * connects to every present node, whatever their ids).
 *
 * After set-up all sockets are non-blocking. Sends never block the caller
 * (the DSM thread must keep receiving, or two nodes sending to each other
 * could both stall on full socket buffers): what the kernel does not take
 * is queued and flushed on EPOLLOUT.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "cvmm/lib/log.h"
#include "dsm/tp-setup.h"
#include "dsm/transport.h"
#include "dsm/wire.h"

#define TCP_RX_BUF  (64 * 1024)
#define TCP_OUT_MAX (64u << 20) /* queued bytes beyond which a peer is failed */

struct tcp_peer {
	int fd; /* -1: not connected or down */
	pthread_mutex_t tx_lock;
	uint32_t tx_seq;
	uint8_t *out; /* queued bytes not yet taken by the kernel */
	size_t out_len, out_cap;
	bool out_armed; /* EPOLLOUT requested */
	int tx_err;	/* first send error, reported by progress() */
	uint32_t rx_seq;
	uint8_t *in;
	size_t in_len;
};

#define LISTEN_TAG DSM_MAX_NODES /* the listening socket's tag in the epoll set */
#define JOIN_MS	   2000		 /* for a late joiner's HELLO */

struct tcp_priv {
	int ep;
	int listen_fd;
	bool own_listen;
	uint64_t may_join; /* absent nodes that have not joined yet */
	struct tcp_peer peer[DSM_MAX_NODES];
};

static int accept_peers(struct dsm_transport *tp, unsigned count, uint64_t deadline)
{
	struct tcp_priv *t = tp->priv;
	unsigned node;
	int fd, ret;

	for (; count; count--) {
		fd = tp_setup_accept(tp, t->listen_fd, deadline, &node);
		if (fd == -ETIMEDOUT)
			pr_err("dsm tcp: node %u: %u peer(s) did not connect", tp->hello.node,
			       count);
		if (fd < 0)
			return fd;
		ret = 0;
		if (node < tp->hello.node || t->peer[node].fd >= 0) {
			pr_err("dsm tcp: node %u: unexpected connection from node %u",
			       tp->hello.node, node);
			ret = -EPROTO;
		}
		if (!ret)
			ret = tp_setup_send_hello(tp, fd, deadline);
		if (ret) {
			close(fd);
			return ret;
		}
		t->peer[node].fd = fd;
	}
	return 0;
}

static void peer_down(struct dsm_transport *tp, unsigned peer, int err, const char *field,
		      const char *what);

/* A connected peer (HELLO exchanged) joins the epoll set, non-blocking. */
static int setup_peer(struct tcp_priv *t, unsigned j)
{
	struct tcp_peer *p = &t->peer[j];
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = j };
	int one = 1;

	p->tx_seq = 1; /* HELLO was 1 in each direction */
	p->rx_seq = 2;
	p->in = p->in ?: malloc(TCP_RX_BUF);
	if (!p->in)
		return -ENOMEM;
	setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK);
	if (epoll_ctl(t->ep, EPOLL_CTL_ADD, p->fd, &ev))
		return -errno;
	return 0;
}

/* On the DSM thread: an absent node connects to join. */
static void accept_late(struct dsm_transport *tp)
{
	struct tcp_priv *t = tp->priv;
	unsigned node = 0;
	int fd, ret;

	fd = accept4(t->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return; /* EAGAIN, or a connection aborted meanwhile */
	ret = tp_setup_recv_hello(tp, fd, tp_setup_now_ms() + JOIN_MS, "a joining node", &node);
	if (!ret && !(t->may_join & (1ull << node))) {
		pr_err("dsm tcp: node %u: node %u may not join (not absent, or joined before)",
		       tp->hello.node, node);
		ret = -EPROTO;
	}
	if (!ret)
		ret = tp_setup_send_hello(tp, fd, tp_setup_now_ms() + JOIN_MS);
	if (ret) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&t->peer[node].tx_lock);
	t->peer[node].fd = fd;
	ret = setup_peer(t, node);
	pthread_mutex_unlock(&t->peer[node].tx_lock);
	if (ret) {
		pr_err("dsm tcp: node %u: node %u joining: %s", tp->hello.node, node,
		       strerror(-ret));
		peer_down(tp, node, ret, "connection", "set-up failed");
		return;
	}
	t->may_join &= ~(1ull << node);
	tp->handler.up(tp->handler.arg, node);
}

static int tcp_open(struct dsm_transport *tp)
{
	const struct dsm_config *cfg = tp->cfg;
	unsigned self = cfg->node, j;
	uint64_t deadline = tp_setup_now_ms() + (cfg->connect_timeout_ms ?: 10000);
	struct tcp_priv *t;
	unsigned accepts = 0;
	int ret;

	if (!cfg->addrs) {
		pr_err("dsm tcp: no peer addresses given");
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	tp->priv = t;
	t->listen_fd = -1;
	t->ep = -1;
	for (j = 0; j < DSM_MAX_NODES; j++) {
		t->peer[j].fd = -1;
		pthread_mutex_init(&t->peer[j].tx_lock, NULL);
	}

	ret = tp_setup_listen(tp, &t->own_listen);
	if (ret < 0)
		goto out_close;
	t->listen_fd = ret;
	for (j = 0; j < cfg->nnodes; j++) {
		if (j == self || (cfg->absent & (1ull << j)))
			continue;
		if (j > self && !cfg->joining) {
			accepts++;
			continue;
		}
		ret = tp_setup_connect(tp, j, deadline);
		if (ret < 0)
			goto out_close;
		t->peer[j].fd = ret;
	}
	ret = accept_peers(tp, accepts, deadline);
	if (ret)
		goto out_close;

	t->ep = epoll_create1(EPOLL_CLOEXEC);
	if (t->ep < 0) {
		ret = -errno;
		goto out_close;
	}
	for (j = 0; j < cfg->nnodes; j++) {
		if (j == self || (cfg->absent & (1ull << j)))
			continue;
		ret = setup_peer(t, j);
		if (ret)
			goto out_close;
	}
	t->may_join = cfg->absent & ~(1ull << self);
	if (t->may_join) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = LISTEN_TAG };

		fcntl(t->listen_fd, F_SETFL, fcntl(t->listen_fd, F_GETFL) | O_NONBLOCK);
		if (epoll_ctl(t->ep, EPOLL_CTL_ADD, t->listen_fd, &ev)) {
			ret = -errno;
			goto out_close;
		}
	}
	return 0;

out_close:
	tp->ops->close(tp);
	return ret;
}

static void tcp_close(struct dsm_transport *tp)
{
	struct tcp_priv *t = tp->priv;

	if (!t)
		return;
	for (unsigned j = 0; j < DSM_MAX_NODES; j++) {
		struct tcp_peer *p = &t->peer[j];

		if (p->fd >= 0)
			close(p->fd);
		free(p->out);
		free(p->in);
		pthread_mutex_destroy(&p->tx_lock);
	}
	if (t->ep >= 0)
		close(t->ep);
	if (t->own_listen)
		close(t->listen_fd);
	free(t);
	tp->priv = NULL;
}

static int out_append(struct tcp_peer *p, const void *buf, size_t len)
{
	if (p->out_len + len > p->out_cap) {
		size_t cap = p->out_cap ? p->out_cap : 64 * 1024;
		uint8_t *n;

		while (cap < p->out_len + len)
			cap *= 2;
		if (cap > TCP_OUT_MAX)
			return -ENOBUFS;
		n = realloc(p->out, cap);
		if (!n)
			return -ENOMEM;
		p->out = n;
		p->out_cap = cap;
	}
	memcpy(p->out + p->out_len, buf, len);
	p->out_len += len;
	return 0;
}

/* Arms or disarms EPOLLOUT to match the queue. Called with tx_lock held. */
static void out_arm(struct tcp_priv *t, unsigned peer)
{
	struct tcp_peer *p = &t->peer[peer];
	bool want = p->out_len > 0;
	struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.u32 = peer };

	if (want == p->out_armed || p->fd < 0)
		return;
	if (!epoll_ctl(t->ep, EPOLL_CTL_MOD, p->fd, &ev))
		p->out_armed = want;
}

static int tcp_send(struct dsm_transport *tp, unsigned peer, const struct dsm_msg *m)
{
	struct tcp_priv *t = tp->priv;
	struct tcp_peer *p = &t->peer[peer];
	uint8_t hdr[DSM_WIRE_HDR_LEN];
	struct dsm_msg msg = *m;
	size_t total = DSM_WIRE_HDR_LEN + m->len, done = 0;
	int ret = 0;

	pthread_mutex_lock(&p->tx_lock);
	if (p->fd < 0 || p->tx_err) {
		ret = -ENOTCONN;
		goto out;
	}
	msg.seq = ++p->tx_seq;
	dsm_wire_encode(hdr, &msg);
	if (!p->out_len) {
		struct iovec iov[2] = { { hdr, DSM_WIRE_HDR_LEN }, { (void *)m->payload, m->len } };
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = m->len ? 2 : 1 };
		/* A peer that died must fail its link, not kill this process with SIGPIPE. */
		ssize_t n = sendmsg(p->fd, &mh, MSG_NOSIGNAL);

		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			p->tx_err = -errno;
			ret = p->tx_err;
			goto out;
		}
		done = n > 0 ? (size_t)n : 0;
	}
	if (done < total) {
		if (done < DSM_WIRE_HDR_LEN)
			ret = out_append(p, hdr + done, DSM_WIRE_HDR_LEN - done);
		if (!ret && m->len) {
			size_t off = done > DSM_WIRE_HDR_LEN ? done - DSM_WIRE_HDR_LEN : 0;

			ret = out_append(p, (const uint8_t *)m->payload + off, m->len - off);
		}
		if (ret)
			p->tx_err = ret;
		out_arm(t, peer);
	}
out:
	pthread_mutex_unlock(&p->tx_lock);
	return ret;
}

static int flush_out(struct tcp_priv *t, unsigned peer)
{
	struct tcp_peer *p = &t->peer[peer];
	int ret = 0;

	pthread_mutex_lock(&p->tx_lock);
	while (p->out_len && p->fd >= 0) {
		ssize_t n = send(p->fd, p->out, p->out_len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				ret = p->tx_err = -errno;
			break;
		}
		memmove(p->out, p->out + n, p->out_len - (size_t)n);
		p->out_len -= (size_t)n;
	}
	out_arm(t, peer);
	pthread_mutex_unlock(&p->tx_lock);
	return ret;
}

static void peer_down(struct dsm_transport *tp, unsigned peer, int err, const char *field,
		      const char *what)
{
	struct tcp_peer *p = &((struct tcp_priv *)tp->priv)->peer[peer];

	pthread_mutex_lock(&p->tx_lock);
	if (p->fd < 0) {
		pthread_mutex_unlock(&p->tx_lock);
		return;
	}
	close(p->fd); /* also leaves the epoll set */
	p->fd = -1;
	p->out_len = 0;
	pthread_mutex_unlock(&p->tx_lock);
	tp->handler.down(tp->handler.arg, peer, err, field, what);
}

/* Reads what the socket has and delivers every complete frame. */
static void rx_peer(struct dsm_transport *tp, unsigned peer)
{
	struct tcp_peer *p = &((struct tcp_priv *)tp->priv)->peer[peer];
	struct dsm_wire_err err;
	struct dsm_msg m;
	size_t off, flen;
	ssize_t n;
	int ret;

	for (;;) {
		n = recv(p->fd, p->in + p->in_len, TCP_RX_BUF - p->in_len, 0);
		if (n == 0) {
			peer_down(tp, peer, -EPIPE, "connection", "closed by peer");
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			peer_down(tp, peer, -errno, "connection", strerror(errno));
			return;
		}
		p->in_len += (size_t)n;
		for (off = 0;; off += flen) {
			ret = dsm_wire_decode(p->in + off, p->in_len - off, p->rx_seq, &m, &flen,
					      &err);
			if (ret == -EAGAIN)
				break;
			if (ret) {
				peer_down(tp, peer, ret, err.field, err.what);
				return;
			}
			p->rx_seq++;
			tp->handler.recv(tp->handler.arg, peer, &m);
			if (p->fd < 0)
				return; /* the handler failed the peer */
		}
		memmove(p->in, p->in + off, p->in_len - off);
		p->in_len -= off;
	}
}

static int tcp_progress(struct dsm_transport *tp)
{
	struct tcp_priv *t = tp->priv;
	struct epoll_event ev[16];
	int n, i;

	n = epoll_wait(t->ep, ev, 16, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		unsigned peer = ev[i].data.u32;
		struct tcp_peer *p = &t->peer[peer];
		int err;

		if (peer == LISTEN_TAG) {
			accept_late(tp);
			continue;
		}
		if (p->fd < 0)
			continue;
		if (ev[i].events & EPOLLOUT)
			flush_out(t, peer);
		if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			rx_peer(tp, peer);
		pthread_mutex_lock(&p->tx_lock);
		err = p->fd >= 0 ? p->tx_err : 0;
		pthread_mutex_unlock(&p->tx_lock);
		if (err)
			peer_down(tp, peer, err, "connection",
				  err == -ENOBUFS ? "peer does not read: send queue full"
						  : strerror(-err));
	}
	return 0;
}

static void tcp_disconnect(struct dsm_transport *tp, unsigned peer)
{
	struct tcp_peer *p = &((struct tcp_priv *)tp->priv)->peer[peer];

	pthread_mutex_lock(&p->tx_lock);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->out_len = 0;
	pthread_mutex_unlock(&p->tx_lock);
}

static int tcp_poll_fd(struct dsm_transport *tp)
{
	return ((struct tcp_priv *)tp->priv)->ep;
}

const struct dsm_transport_ops dsm_tcp_ops = {
	.name = "tcp",
	.open = tcp_open,
	.close = tcp_close,
	.send = tcp_send,
	.disconnect = tcp_disconnect,
	.poll_fd = tcp_poll_fd,
	.progress = tcp_progress,
	.read_page = NULL, /* a stream has no one-sided reads */
};
