// SPDX-License-Identifier: GPL-2.0
/*
 * The set-up mesh that the tcp and rdma transports share (dsm/tp-setup.h):
 * resolving node addresses, the listening socket, connecting with retries,
 * accepting, and the HELLO exchange, all bounded by one deadline.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cvmm/lib/log.h"
#include "dsm/tp-setup.h"
#include "dsm/wire.h"

#define CONNECT_RETRY_US (50 * 1000)

uint64_t tp_setup_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int tp_setup_resolve(const struct dsm_transport *tp, const char *addr, struct sockaddr_storage *ss,
		     socklen_t *len)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	int ret;

	if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof(host)) {
		pr_err("dsm %s: address '%s' is not host:port", tp->ops->name, addr);
		return -EINVAL;
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = 0;
	ret = getaddrinfo(host, colon + 1, &hints, &res);
	if (ret) {
		pr_err("dsm %s: cannot resolve '%s': %s", tp->ops->name, addr, gai_strerror(ret));
		return -EINVAL;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* 0 once fd is ready for events, -ETIMEDOUT at the deadline, or -errno. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		uint64_t now = tp_setup_now_ms();
		int ret;

		if (now >= deadline)
			return -ETIMEDOUT;
		ret = poll(&p, 1, (int)(deadline - now));
		if (ret > 0)
			return 0;
		if (ret < 0 && errno != EINTR)
			return -errno;
	}
}

int tp_setup_io(int fd, void *buf, size_t len, bool wr, uint64_t deadline)
{
	uint8_t *p = buf;
	ssize_t n;
	int ret;

	while (len) {
		ret = wait_fd(fd, wr ? POLLOUT : POLLIN, deadline);
		if (ret)
			return ret;
		n = wr ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int tp_setup_send_hello(const struct dsm_transport *tp, int fd, uint64_t deadline)
{
	uint8_t frame[DSM_WIRE_HDR_LEN + sizeof(struct dsm_hello)];
	struct dsm_msg m = { .type = DSM_MSG_HELLO, .seq = 1, .len = sizeof(struct dsm_hello) };

	dsm_wire_put_hello(frame + DSM_WIRE_HDR_LEN, &tp->hello);
	m.payload = frame + DSM_WIRE_HDR_LEN;
	dsm_wire_encode(frame, &m);
	return tp_setup_io(fd, frame, sizeof(frame), true, deadline);
}

int tp_setup_recv_hello(const struct dsm_transport *tp, int fd, uint64_t deadline, const char *who,
			unsigned *node)
{
	uint8_t frame[DSM_WIRE_HDR_LEN + sizeof(struct dsm_hello)];
	struct dsm_wire_err err = { 0 };
	struct dsm_hello h;
	struct dsm_msg m;
	const char *field;
	size_t flen;
	int ret;

	/* The header first: a peer of another version is named, not waited for. */
	ret = tp_setup_io(fd, frame, DSM_WIRE_HDR_LEN, false, deadline);
	if (!ret) {
		ret = dsm_wire_decode(frame, DSM_WIRE_HDR_LEN, 1, &m, &flen, &err);
		if (ret == -EAGAIN)
			ret = tp_setup_io(fd, frame + DSM_WIRE_HDR_LEN, sizeof(h), false, deadline);
		if (!ret)
			ret = dsm_wire_decode(frame, sizeof(frame), 1, &m, &flen, &err);
		if (!ret && m.type != DSM_MSG_HELLO) {
			err.field = "type";
			snprintf(err.what, sizeof(err.what), "%s instead of hello",
				 dsm_msg_name(m.type));
			ret = -EPROTO;
		}
	}
	if (ret == -EPROTO) {
		pr_err("dsm %s: node %u: bad hello from %s: field %s: %s", tp->ops->name,
		       tp->hello.node, who, err.field, err.what);
		return ret;
	}
	if (ret) {
		pr_err("dsm %s: node %u: no hello from %s: %s", tp->ops->name, tp->hello.node, who,
		       strerror(-ret));
		return ret;
	}
	dsm_wire_get_hello(m.payload, &h);
	if (dsm_hello_check(&tp->hello, &h, &field)) {
		pr_err("dsm %s: node %u: hello from %s (node %u) does not match ours: field %s",
		       tp->ops->name, tp->hello.node, who, h.node, field);
		return -EPROTO;
	}
	*node = h.node;
	return 0;
}

int tp_setup_listen(const struct dsm_transport *tp, bool *own)
{
	const char *addr = tp->cfg->addrs[tp->hello.node];
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, ret;

	*own = false;
	if (tp->cfg->listen_fd >= 0)
		return tp->cfg->listen_fd;
	ret = tp_setup_resolve(tp, addr, &ss, &len);
	if (ret)
		return ret;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, DSM_MAX_NODES)) {
		ret = -errno;
		pr_err("dsm %s: node %u: cannot listen on %s: %s", tp->ops->name, tp->hello.node,
		       addr, strerror(-ret));
		close(fd);
		return ret;
	}
	*own = true;
	return fd;
}

int tp_setup_connect(const struct dsm_transport *tp, unsigned j, uint64_t deadline)
{
	const char *addr = tp->cfg->addrs[j];
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned node;
	int fd, ret;

	ret = tp_setup_resolve(tp, addr, &ss, &len);
	if (ret)
		return ret;
	for (;;) {
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&ss, len))
			break;
		ret = -errno;
		close(fd);
		/* The peer may not listen yet: retry until the deadline. */
		if ((ret != -ECONNREFUSED && ret != -ENETUNREACH && ret != -EHOSTUNREACH) ||
		    tp_setup_now_ms() >= deadline) {
			pr_err("dsm %s: node %u: cannot connect to node %u at %s: %s",
			       tp->ops->name, tp->hello.node, j, addr, strerror(-ret));
			return ret;
		}
		usleep(CONNECT_RETRY_US);
	}
	ret = tp_setup_send_hello(tp, fd, deadline);
	if (!ret)
		ret = tp_setup_recv_hello(tp, fd, deadline, addr, &node);
	if (!ret && node != j) {
		pr_err("dsm %s: node %u: %s answered as node %u, expected %u", tp->ops->name,
		       tp->hello.node, addr, node, j);
		ret = -EPROTO;
	}
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

int tp_setup_accept(const struct dsm_transport *tp, int listen_fd, uint64_t deadline,
		    unsigned *node)
{
	int fd, ret;

	for (;;) {
		ret = wait_fd(listen_fd, POLLIN, deadline);
		if (ret)
			return ret;
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			break;
		if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
			return -errno;
	}
	ret = tp_setup_recv_hello(tp, fd, deadline, "an incoming connection", node);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}
