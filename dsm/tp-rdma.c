// SPDX-License-Identifier: GPL-2.0
/*
 * rdma transport: libibverbs reliable-connected QPs, one per peer, behind the
 * same ops table as tcp. docs/dsm.md ("RDMA transport") describes it; the
 * pure parts (options, connection record, immediate, credits) are in
 * dsm/rdma-conn.c.
 *
 * Set-up is out of band over TCP, the way rc_pingpong does it: the mesh is
 * formed by the tcp transport's code (dsm/tp-setup.c: node i connects to
 * j < i and accepts j > i, on the same host:port addresses and listening
 * socket, with the same HELLO frames), and then each side sends a connection
 * record (QPN, PSN, GID, MTU, receive depth, landing ring) and brings its QP
 * to RTS. A last byte each way says "my QP is ready to receive"; then the
 * socket is closed. We use the control path rather than rdma_cm because it
 * already exists (addresses, listening socket, version check), keeps one code
 * path for every transport's addressing, and needs no second event loop.
 *
 * Data path, per peer: `depth` receives posted (+1 for the close notice),
 * credits so that a SEND never finds none (dsm/rdma-conn.h), a ring of
 * registered send slots, and a backlog in ordinary memory for what cannot be
 * posted yet. send() never blocks: the DSM thread must keep receiving.
 * Every message is a dsm/wire.h frame (the same decoder as tcp, so the same
 * checks, sequence numbers and fuzzing) and carries a 32-bit immediate:
 * kind + credits returned.
 *
 * Payload methods (option payload=; default send, the faster over five runs
 * of bench/dsm-rdma-bench.sh, by a margin within noise: docs/performance.md):
 *   send   header + page SENT from a registered send slot into a pre-posted
 *          receive buffer of the peer; the engine installs from there.
 *   write  header + page RDMA-WRITTEN with immediate from the send slot (the
 *          registered staging area) into slot k mod depth of the peer's
 *          registered landing ring; header-only messages are still SENT.
 * Guest RAM is never registered (pinning would defeat invalidation): pages
 * are copied from the engine's alias mapping into the staging slot.
 *
 * Progress: one CQ for every QP and direction, armed on one completion
 * channel whose fd is poll_fd(); progress() drains it. No busy polling.
 *
 * Failure: a completion in error (retry counter exceeded when the peer has
 * vanished, a flush, a protection error) fails that peer with the verbs
 * status; its QP is moved to ERR and nothing more is sent. An orderly close
 * sends a CLOSE immediate first, which the peer reports as -EPIPE, like a TCP
 * FIN.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <infiniband/verbs.h>
#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cvmm/lib/log.h"
#include "dsm/rdma-conn.h"
#include "dsm/tp-setup.h"
#include "dsm/transport.h"
#include "dsm/wire.h"

#define SLOT_SIZE     4160 /* DSM_WIRE_MAX_FRAME rounded up to 64 */
#define SMALL_RX      64   /* write mode: receives only hold header-only frames */
#define INLINE_WANT   64
#define TX_EXTRA      2 /* send queue beyond depth: a credit update, the close notice */
#define OUT_MAX	      (64u << 20)
#define CLOSE_WAIT_MS 300
/*
 * Local ACK timeout 4.096 us * 2^14 = 67 ms, 6 retries: a vanished peer is
 * reported about 0.5 s after our first unanswered message, before the engine's
 * 1.5 s silence timeout; shorter would misfire on a loaded soft-RoCE node,
 * whose tail latency is many milliseconds. Not 7: rxe (like the spec for
 * rnr_retry) treats a retry count of 7 as "retry for ever".
 */
#define QP_TIMEOUT   14
#define QP_RETRY     6
#define QP_RNR_RETRY 3 /* credits make RNR impossible; if it happens, fail loudly */

#define WR_RECV	      (1ull << 63)
#define WR_PEER(id)   ((uint64_t)(id) << 32)
#define WR_PEER_OF(w) ((unsigned)((w) >> 32) & 0xff)
#define WR_IDX_OF(w)  ((uint32_t)(w))

static_assert(SLOT_SIZE >= DSM_WIRE_MAX_FRAME, "a slot holds a frame");

struct backlog {
	struct backlog *next;
	uint32_t len;
	uint8_t frame[];
};

struct rdma_peer {
	bool used; /* a peer (not us, < nnodes) */
	bool up;   /* set under tx_lock; the DSM thread reads it without */
	struct ibv_qp *qp;
	struct dsm_rdma_info local, remote;

	/* Receive side: the DSM thread only. */
	uint8_t *rx;
	struct ibv_mr *rx_mr;
	uint32_t rx_size, nrx;
	uint8_t *land; /* write mode */
	struct ibv_mr *land_mr;
	uint32_t rx_seq;  /* DSM sequence number expected next */
	uint32_t rx_msgs; /* credit-consuming messages received */

	/* Send side: under tx_lock. */
	pthread_mutex_t tx_lock;
	uint8_t *tx;
	struct ibv_mr *tx_mr;
	uint32_t ntx, tx_head, tx_tail; /* slots posted / completed */
	uint32_t tx_seq;
	uint32_t tx_msgs; /* credit-consuming messages posted: landing slot index */
	struct dsm_rdma_credits cr;
	struct backlog *bl_head, *bl_tail;
	size_t bl_bytes;
	int tx_err;
};

struct rdma_priv {
	struct dsm_rdma_opts opt;
	struct ibv_context *ctx;
	char dev[64];
	struct ibv_pd *pd;
	struct ibv_comp_channel *ch;
	struct ibv_cq *cq;
	union ibv_gid gid;
	int gid_index;
	enum ibv_mtu mtu;
	uint16_t lid;
	uint32_t max_inline;
	int listen_fd;
	bool own_listen;
	struct rdma_peer peer[DSM_MAX_NODES];
};

/* --- device: find, diagnose, inventory --------------------------------------------- */

static bool path_exists(const char *p)
{
	return access(p, F_OK) == 0;
}

/* Does dir hold an entry whose name starts with prefix? */
static bool dir_has_entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool any = false;

	if (!d)
		return false;
	while (!any && (e = readdir(d)))
		any = e->d_name[0] != '.' && !strncmp(e->d_name, prefix, strlen(prefix));
	closedir(d);
	return any;
}

/* Why libibverbs found no device: names what is missing. */
static void explain_no_device(unsigned node)
{
	if (!dir_has_entries("/sys/class/infiniband", "")) {
		if (path_exists("/sys/module/rdma_rxe"))
			pr_err("dsm rdma: node %u: no RDMA device: rdma_rxe is loaded but no rxe "
			       "link exists (rdma link add rxe0 type rxe netdev IFACE)",
			       node);
		else
			pr_err("dsm rdma: node %u: no RDMA device: /sys/class/infiniband is empty "
			       "and soft-RoCE is not loaded (modprobe rdma_rxe; rdma link add "
			       "rxe0 type rxe netdev IFACE)",
			       node);
	} else if (!dir_has_entries("/dev/infiniband", "uverbs")) {
		pr_err("dsm rdma: node %u: an RDMA device exists but /dev/infiniband/uverbs* "
		       "does not (modprobe ib_uverbs)",
		       node);
	} else {
		pr_err("dsm rdma: node %u: RDMA devices exist but libibverbs has no provider for "
		       "them (install ibverbs-providers)",
		       node);
	}
}

static const char *gid_type_name(enum ibv_gid_type t)
{
	switch (t) {
	case IBV_GID_TYPE_IB:
		return "IB";
	case IBV_GID_TYPE_ROCE_V1:
		return "RoCE v1";
	case IBV_GID_TYPE_ROCE_V2:
		return "RoCE v2";
	}
	return "?";
}

static bool gid_is_zero(const union ibv_gid *g)
{
	static const uint8_t zero[16];

	return !memcmp(g->raw, zero, 16);
}

/* The IPv4 address of "host:port", or 0. */
static uint32_t addr_ipv4(const char *addr)
{
	char host[64];
	const char *colon = addr ? strrchr(addr, ':') : NULL;
	struct in_addr in;

	if (!colon || (size_t)(colon - addr) >= sizeof(host))
		return 0;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = 0;
	return inet_pton(AF_INET, host, &in) == 1 ? in.s_addr : 0;
}

/*
 * Logs one line per device and port: state, MTU and every GID with its type
 * and netdev. This is the inventory dsm-stress shows.
 */
static void inventory(unsigned node, struct ibv_device **list, int n)
{
	for (int i = 0; i < n; i++) {
		struct ibv_context *ctx = ibv_open_device(list[i]);
		struct ibv_device_attr da;
		struct ibv_gid_entry ge[128];
		char line[900];
		ssize_t ng;

		if (!ctx) {
			pr_info("dsm rdma: node %u: device %s: cannot open: %s", node,
				ibv_get_device_name(list[i]), strerror(errno));
			continue;
		}
		if (ibv_query_device(ctx, &da)) {
			ibv_close_device(ctx);
			continue;
		}
		ng = ibv_query_gid_table(ctx, ge, 128, 0);
		for (unsigned port = 1; port <= da.phys_port_cnt; port++) {
			struct ibv_port_attr pa;
			size_t len;

			if (ibv_query_port(ctx, (uint8_t)port, &pa))
				continue;
			len = (size_t)snprintf(line, sizeof(line), "device %s port %u %s mtu %d",
					       ibv_get_device_name(list[i]), port,
					       ibv_port_state_str(pa.state), 128 << pa.active_mtu);
			for (ssize_t g = 0; g < ng && len < sizeof(line) - 100; g++) {
				char a[INET6_ADDRSTRLEN], ifn[IF_NAMESIZE] = "-";

				if (ge[g].port_num != port)
					continue;
				inet_ntop(AF_INET6, ge[g].gid.raw, a, sizeof(a));
				if (ge[g].ndev_ifindex)
					if_indextoname(ge[g].ndev_ifindex, ifn);
				len += (size_t)snprintf(line + len, sizeof(line) - len,
							"; gid[%u] %s %s %s", ge[g].gid_index, a,
							gid_type_name(ge[g].gid_type), ifn);
			}
			pr_info("dsm rdma: node %u: %s", node, line);
		}
		ibv_close_device(ctx);
	}
}

/*
 * Picks the GID: the one asked for, else a RoCE v2 IPv4-mapped GID of our own
 * address, else the first RoCE v2 IPv4-mapped one, else the first valid one.
 */
static int pick_gid(struct dsm_transport *tp, struct rdma_priv *r)
{
	unsigned node = tp->cfg->node;
	uint32_t ours = tp->cfg->addrs ? addr_ipv4(tp->cfg->addrs[node]) : 0;
	struct ibv_gid_entry ge[128];
	int best = -1, rank = 0;
	ssize_t n;

	if (r->opt.gid_index >= 0) {
		if (ibv_query_gid(r->ctx, (uint8_t)r->opt.port, r->opt.gid_index, &r->gid) ||
		    gid_is_zero(&r->gid)) {
			pr_err("dsm rdma: node %u: %s port %u has no gid[%d]", node, r->dev,
			       r->opt.port, r->opt.gid_index);
			return -ENODEV;
		}
		r->gid_index = r->opt.gid_index;
		return 0;
	}
	n = ibv_query_gid_table(r->ctx, ge, 128, 0);
	for (ssize_t i = 0; i < n; i++) {
		const uint8_t *g = ge[i].gid.raw;
		static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };
		bool v4 = !memcmp(g, v4mapped, 12);
		uint32_t ip;
		int k;

		if (ge[i].port_num != r->opt.port || gid_is_zero(&ge[i].gid))
			continue;
		memcpy(&ip, g + 12, 4);
		if (ge[i].gid_type == IBV_GID_TYPE_ROCE_V2 && v4 && ours && ip == ours)
			k = 4;
		else if (ge[i].gid_type == IBV_GID_TYPE_ROCE_V2 && v4)
			k = 3;
		else if (ge[i].gid_type == IBV_GID_TYPE_ROCE_V2)
			k = 2;
		else
			k = 1;
		if (k > rank) {
			rank = k;
			best = (int)i;
		}
	}
	if (best < 0) {
		pr_err("dsm rdma: node %u: %s port %u has no GID (no IP address on its netdev?)",
		       node, r->dev, r->opt.port);
		return -ENODEV;
	}
	r->gid = ge[best].gid;
	r->gid_index = (int)ge[best].gid_index;
	return 0;
}

static int open_device(struct dsm_transport *tp, struct rdma_priv *r)
{
	unsigned node = tp->cfg->node;
	struct ibv_device **list;
	struct ibv_port_attr pa;
	int n = 0, ret = -ENODEV;

	list = ibv_get_device_list(&n);
	if (!list) {
		/* ENOSYS: no kernel support at all; report what is missing instead. */
		if (errno == ENOSYS || !path_exists("/sys/class/infiniband"))
			explain_no_device(node);
		else
			pr_err("dsm rdma: node %u: cannot list RDMA devices: %s", node,
			       strerror(errno));
		return -ENODEV;
	}
	if (!n) {
		explain_no_device(node);
		goto out;
	}
	inventory(node, list, n);
	for (int i = 0; i < n && !r->ctx; i++) {
		const char *name = ibv_get_device_name(list[i]);

		if (r->opt.dev[0] && strcmp(name, r->opt.dev))
			continue;
		r->ctx = ibv_open_device(list[i]);
		if (!r->ctx) {
			ret = -errno;
			if (ret == -EACCES || ret == -EPERM)
				pr_err("dsm rdma: node %u: no permission to open %s "
				       "(/dev/infiniband/uverbs*): %s",
				       node, name, strerror(-ret));
			else
				pr_err("dsm rdma: node %u: cannot open %s: %s", node, name,
				       strerror(-ret));
			goto out;
		}
		snprintf(r->dev, sizeof(r->dev), "%s", name);
		if (ibv_query_port(r->ctx, (uint8_t)r->opt.port, &pa)) {
			pr_err("dsm rdma: node %u: %s has no port %u", node, name, r->opt.port);
			goto out_close;
		}
		if (pa.state != IBV_PORT_ACTIVE) {
			if (r->opt.dev[0]) {
				pr_err("dsm rdma: node %u: %s port %u is %s, not ACTIVE (is its "
				       "netdev up?)",
				       node, name, r->opt.port, ibv_port_state_str(pa.state));
				goto out_close;
			}
			ibv_close_device(r->ctx); /* try the next device */
			r->ctx = NULL;
			continue;
		}
		r->mtu = pa.active_mtu;
		r->lid = pa.lid;
	}
	if (!r->ctx) {
		if (r->opt.dev[0])
			pr_err("dsm rdma: node %u: no RDMA device named %s", node, r->opt.dev);
		else
			pr_err("dsm rdma: node %u: no RDMA device has port %u ACTIVE (is its "
			       "netdev up?)",
			       node, r->opt.port);
		goto out;
	}
	ret = pick_gid(tp, r);
	if (ret)
		goto out_close;
	ibv_free_device_list(list);
	return 0;

out_close:
	ibv_close_device(r->ctx);
	r->ctx = NULL;
out:
	ibv_free_device_list(list);
	return ret;
}

/* --- per-peer resources: init / connect / close, as in rc_pingpong --------------------- */

static struct ibv_mr *reg(struct rdma_priv *r, void *buf, size_t len, int access)
{
	return ibv_reg_mr(r->pd, buf, len, IBV_ACCESS_LOCAL_WRITE | access);
}

static int post_recv(struct rdma_peer *p, unsigned id, uint32_t idx)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)(p->rx + (size_t)idx * p->rx_size),
		.length = p->rx_size,
		.lkey = p->rx_mr->lkey,
	};
	struct ibv_recv_wr wr = {
		.wr_id = WR_RECV | WR_PEER(id) | idx,
		.sg_list = &sge,
		.num_sge = 1,
	}, *bad;

	return -ibv_post_recv(p->qp, &wr, &bad);
}

static int peer_init(struct dsm_transport *tp, struct rdma_priv *r, unsigned id)
{
	struct rdma_peer *p = &r->peer[id];
	bool write = r->opt.payload == DSM_RDMA_PAYLOAD_WRITE;
	unsigned depth = r->opt.depth;
	struct ibv_qp_init_attr qia;
	struct ibv_qp_attr qa = {
		.qp_state = IBV_QPS_INIT,
		.pkey_index = 0,
		.port_num = (uint8_t)r->opt.port,
		.qp_access_flags = write ? IBV_ACCESS_REMOTE_WRITE : 0,
	};
	uint32_t psn = 0;
	int ret;

	p->nrx = depth + 1;
	p->rx_size = write ? SMALL_RX : SLOT_SIZE;
	p->ntx = depth + TX_EXTRA;
	p->rx = aligned_alloc(64, (size_t)p->nrx * p->rx_size);
	p->tx = aligned_alloc(64, (size_t)p->ntx * SLOT_SIZE);
	if (write)
		p->land = aligned_alloc(64, (size_t)depth * SLOT_SIZE);
	if (!p->rx || !p->tx || (write && !p->land))
		return -ENOMEM;
	memset(p->rx, 0, (size_t)p->nrx * p->rx_size);
	if (write)
		memset(p->land, 0, (size_t)depth * SLOT_SIZE);

	p->rx_mr = reg(r, p->rx, (size_t)p->nrx * p->rx_size, 0);
	p->tx_mr = reg(r, p->tx, (size_t)p->ntx * SLOT_SIZE, 0);
	if (write)
		p->land_mr = reg(r, p->land, (size_t)depth * SLOT_SIZE, IBV_ACCESS_REMOTE_WRITE);
	if (!p->rx_mr || !p->tx_mr || (write && !p->land_mr)) {
		ret = -errno;
		pr_err("dsm rdma: node %u: registering buffers for node %u: %s", tp->cfg->node, id,
		       strerror(-ret));
		return ret;
	}

	qia = (struct ibv_qp_init_attr){
		.send_cq = r->cq,
		.recv_cq = r->cq,
		.cap = { .max_send_wr = p->ntx,
			 .max_recv_wr = p->nrx,
			 .max_send_sge = 1,
			 .max_recv_sge = 1,
			 .max_inline_data = INLINE_WANT },
		.qp_type = IBV_QPT_RC,
		.sq_sig_all = 1,
	};
	p->qp = ibv_create_qp(r->pd, &qia);
	if (!p->qp) {
		/* Some devices have no inline data: retry without. */
		qia.cap.max_inline_data = 0;
		p->qp = ibv_create_qp(r->pd, &qia);
	}
	if (!p->qp) {
		ret = -errno;
		pr_err("dsm rdma: node %u: creating the QP for node %u: %s", tp->cfg->node, id,
		       strerror(-ret));
		return ret;
	}
	r->max_inline = qia.cap.max_inline_data;
	ret = -ibv_modify_qp(p->qp, &qa,
			     IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
	if (ret) {
		pr_err("dsm rdma: node %u: QP for node %u to INIT: %s", tp->cfg->node, id,
		       strerror(-ret));
		return ret;
	}
	for (uint32_t i = 0; i < p->nrx && !ret; i++)
		ret = post_recv(p, id, i);
	if (ret) {
		pr_err("dsm rdma: node %u: posting receives for node %u: %s", tp->cfg->node, id,
		       strerror(-ret));
		return ret;
	}
	if (getrandom(&psn, sizeof(psn), 0) != sizeof(psn))
		psn = (uint32_t)tp_setup_now_ms() * 2654435761u;
	p->local = (struct dsm_rdma_info){
		.qpn = p->qp->qp_num,
		.psn = psn & 0xffffff,
		.lid = r->lid,
		.mtu = (uint8_t)r->mtu,
		.payload = (uint8_t)r->opt.payload,
		.depth = depth,
		.slot_size = write ? SLOT_SIZE : 0,
		.rkey = write ? p->land_mr->rkey : 0,
		.addr = write ? (uintptr_t)p->land : 0,
	};
	memcpy(p->local.gid, r->gid.raw, 16);
	return 0;
}

/* RTR then RTS, against the peer's record. */
static int peer_connect(struct dsm_transport *tp, struct rdma_priv *r, unsigned id)
{
	struct rdma_peer *p = &r->peer[id];
	const struct dsm_rdma_info *rem = &p->remote;
	struct ibv_qp_attr qa = {
		.qp_state = IBV_QPS_RTR,
		.path_mtu = rem->mtu < p->local.mtu ? rem->mtu : p->local.mtu,
		.dest_qp_num = rem->qpn,
		.rq_psn = rem->psn,
		.max_dest_rd_atomic = 1,
		.min_rnr_timer = 12,
		.ah_attr = {
			.is_global = 1,
			.dlid = rem->lid,
			.port_num = (uint8_t)r->opt.port,
			.grh = { .sgid_index = (uint8_t)r->gid_index, .hop_limit = 64 },
		},
	};
	int ret;

	memcpy(qa.ah_attr.grh.dgid.raw, rem->gid, 16);
	ret = -ibv_modify_qp(p->qp, &qa,
			     IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
				     IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC |
				     IBV_QP_MIN_RNR_TIMER);
	if (ret) {
		pr_err("dsm rdma: node %u: QP for node %u to RTR: %s", tp->cfg->node, id,
		       strerror(-ret));
		return ret;
	}
	qa = (struct ibv_qp_attr){
		.qp_state = IBV_QPS_RTS,
		.timeout = QP_TIMEOUT,
		.retry_cnt = QP_RETRY,
		.rnr_retry = QP_RNR_RETRY,
		.sq_psn = p->local.psn,
		.max_rd_atomic = 1,
	};
	ret = -ibv_modify_qp(p->qp, &qa,
			     IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
				     IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
	if (ret) {
		pr_err("dsm rdma: node %u: QP for node %u to RTS: %s", tp->cfg->node, id,
		       strerror(-ret));
		return ret;
	}
	dsm_rdma_credits_init(&p->cr, rem->depth, p->local.depth);
	p->tx_seq = 1; /* HELLO was 1 in each direction, as on tcp */
	p->rx_seq = 2;
	p->up = true;
	return 0;
}

static void free_backlog(struct rdma_peer *p)
{
	while (p->bl_head) {
		struct backlog *b = p->bl_head;

		p->bl_head = b->next;
		free(b);
	}
	p->bl_tail = NULL;
	p->bl_bytes = 0;
}

/* Reverse of peer_init. Returns how many verbs objects would not go. */
static unsigned peer_close(struct rdma_priv *r, struct rdma_peer *p, unsigned *nqp, unsigned *nmr)
{
	unsigned bad = 0;

	if (p->qp) {
		if (ibv_destroy_qp(p->qp))
			bad++;
		else
			(*nqp)++;
	}
	struct ibv_mr *mrs[] = { p->land_mr, p->tx_mr, p->rx_mr };
	for (unsigned i = 0; i < 3; i++) {
		if (!mrs[i])
			continue;
		if (ibv_dereg_mr(mrs[i]))
			bad++;
		else
			(*nmr)++;
	}
	free(p->land);
	free(p->tx);
	free(p->rx);
	free_backlog(p);
	p->qp = NULL;
	p->land_mr = p->tx_mr = p->rx_mr = NULL;
	p->land = p->tx = p->rx = NULL;
	(void)r;
	return bad;
}

/* --- set-up: the mesh and HELLO of dsm/tp-setup.c, then the QP records ---------- */

/*
 * After HELLO: records both ways, QP to RTS, then one byte each way so that
 * neither side sends before the other can receive.
 */
static int exchange(struct dsm_transport *tp, int fd, unsigned id, uint64_t deadline)
{
	struct rdma_priv *r = tp->priv;
	struct rdma_peer *p = &r->peer[id];
	uint8_t out[DSM_RDMA_INFO_LEN], in[DSM_RDMA_INFO_LEN], ready = 'R';
	const char *field = "";
	int ret;

	dsm_rdma_info_put(out, &p->local);
	ret = tp_setup_io(fd, out, sizeof(out), true, deadline);
	ret = ret ?: tp_setup_io(fd, in, sizeof(in), false, deadline);
	if (ret) {
		pr_err("dsm rdma: node %u: exchanging QP records with node %u: %s", tp->hello.node,
		       id, strerror(-ret));
		return ret;
	}
	ret = dsm_rdma_info_get(in, &p->remote, &field);
	if (!ret && p->remote.payload != p->local.payload) {
		pr_err("dsm rdma: node %u: node %u uses payload method %s, we use %s",
		       tp->hello.node, id, dsm_rdma_payload_name(p->remote.payload),
		       dsm_rdma_payload_name(p->local.payload));
		return -EPROTO;
	}
	if (ret) {
		pr_err("dsm rdma: node %u: bad QP record from node %u: field %s", tp->hello.node,
		       id, field);
		return ret;
	}
	ret = peer_connect(tp, r, id);
	if (ret)
		return ret;
	ret = tp_setup_io(fd, &ready, 1, true, deadline);
	ret = ret ?: tp_setup_io(fd, &ready, 1, false, deadline);
	if (ret)
		pr_err("dsm rdma: node %u: node %u did not confirm its QP: %s", tp->hello.node, id,
		       strerror(-ret));
	return ret;
}

static int connect_peer(struct dsm_transport *tp, unsigned j, uint64_t deadline)
{
	int fd = tp_setup_connect(tp, j, deadline), ret;

	if (fd < 0)
		return fd;
	ret = exchange(tp, fd, j, deadline);
	close(fd);
	return ret;
}

static int accept_peers(struct dsm_transport *tp, unsigned count, uint64_t deadline)
{
	struct rdma_priv *r = tp->priv;
	unsigned node;
	uint8_t eof;
	int fd, ret;

	for (; count; count--) {
		fd = tp_setup_accept(tp, r->listen_fd, deadline, &node);
		if (fd == -ETIMEDOUT)
			pr_err("dsm rdma: node %u: %u peer(s) did not connect", tp->hello.node,
			       count);
		if (fd < 0)
			return fd;
		ret = 0;
		if (node <= tp->hello.node || r->peer[node].up) {
			pr_err("dsm rdma: node %u: unexpected connection from node %u",
			       tp->hello.node, node);
			ret = -EPROTO;
		}
		ret = ret ?: tp_setup_send_hello(tp, fd, deadline);
		ret = ret ?: exchange(tp, fd, node, deadline);
		/*
		 * Let the connecting side close first, so that TIME_WAIT lands on
		 * its ephemeral port and not on our listening one: the next run
		 * may bind it again at once.
		 */
		if (!ret)
			tp_setup_io(fd, &eof, 1, false, tp_setup_now_ms() + 1000);
		close(fd);
		if (ret)
			return ret;
	}
	return 0;
}

/* --- ops: open / close --------------------------------------------------------------------- */

static int rdma_open(struct dsm_transport *tp)
{
	const struct dsm_config *cfg = tp->cfg;
	unsigned self = cfg->node, j;
	uint64_t deadline = tp_setup_now_ms() + (cfg->connect_timeout_ms ?: 10000);
	struct rdma_priv *r;
	char err[128];
	int ret, cqe;

	if (!cfg->addrs) {
		pr_err("dsm rdma: no peer addresses given (the set-up path is tcp)");
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	tp->priv = r;
	r->listen_fd = -1;
	for (j = 0; j < DSM_MAX_NODES; j++)
		pthread_mutex_init(&r->peer[j].tx_lock, NULL);
	ret = dsm_rdma_parse_opts(cfg->transport, &r->opt, err, sizeof(err));
	if (ret) {
		pr_err("dsm rdma: transport '%s': %s", cfg->transport, err);
		goto out_close;
	}

	/* Device, PD, completion channel, CQ: rc_pingpong's pp_init_ctx order. */
	ret = open_device(tp, r);
	if (ret)
		goto out_close;
	r->pd = ibv_alloc_pd(r->ctx);
	r->ch = r->pd ? ibv_create_comp_channel(r->ctx) : NULL;
	cqe = (int)(cfg->nnodes * (2 * r->opt.depth + TX_EXTRA + 1));
	r->cq = r->ch ? ibv_create_cq(r->ctx, cqe, NULL, r->ch, 0) : NULL;
	if (!r->cq) {
		ret = -errno ?: -ENOMEM;
		pr_err("dsm rdma: node %u: %s: cannot create %s: %s", self, r->dev,
		       !r->pd	? "a protection domain"
		       : !r->ch ? "a completion channel"
				: "a CQ",
		       strerror(-ret));
		goto out_close;
	}
	ret = -ibv_req_notify_cq(r->cq, 0);
	if (ret)
		goto out_close;
	for (j = 0; j < cfg->nnodes; j++) {
		if (j == self)
			continue;
		r->peer[j].used = true;
		ret = peer_init(tp, r, j);
		if (ret)
			goto out_close;
	}
	{
		char a[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, r->gid.raw, a, sizeof(a));
		pr_info("dsm rdma: node %u: using %s port %u gid[%d] %s mtu %d, payload %s, "
			"depth %u, inline %u",
			self, r->dev, r->opt.port, r->gid_index, a, 128 << r->mtu,
			dsm_rdma_payload_name(r->opt.payload), r->opt.depth, r->max_inline);
	}

	ret = tp_setup_listen(tp, &r->own_listen);
	if (ret >= 0) {
		r->listen_fd = ret;
		ret = 0;
	}
	for (j = 0; j < self && !ret; j++)
		ret = connect_peer(tp, j, deadline);
	ret = ret ?: accept_peers(tp, cfg->nnodes - 1 - self, deadline);
	if (ret)
		goto out_close;
	if (fcntl(r->ch->fd, F_SETFL, fcntl(r->ch->fd, F_GETFL) | O_NONBLOCK)) {
		ret = -errno;
		goto out_close;
	}
	return 0;

out_close:
	tp->ops->close(tp);
	return ret;
}

static int post_locked(struct rdma_priv *r, struct rdma_peer *p, unsigned id,
		       enum dsm_rdma_imm_kind kind, const uint8_t *frame, uint32_t len);

/*
 * Orderly close, in reverse order of open: a CLOSE notice to every live peer
 * (waited for briefly, so that the peer learns of an orderly close and not a
 * vanished node), then the QPs and their buffers, CQ, channel, PD, device.
 */
static void rdma_close(struct dsm_transport *tp)
{
	struct rdma_priv *r = tp->priv;
	unsigned nqp = 0, nmr = 0, bad = 0, j;
	uint64_t deadline = tp_setup_now_ms() + CLOSE_WAIT_MS;
	bool notified[DSM_MAX_NODES] = { false }, waiting;

	if (!r)
		return;
	for (j = 0; j < DSM_MAX_NODES; j++) {
		struct rdma_peer *p = &r->peer[j];

		pthread_mutex_lock(&p->tx_lock);
		if (p->up && !p->tx_err && p->tx_head - p->tx_tail < p->ntx)
			notified[j] = !post_locked(r, p, j, DSM_RDMA_IMM_CLOSE, NULL, 0);
		p->up = false;
		pthread_mutex_unlock(&p->tx_lock);
	}
	/* The DSM thread is gone: poll here for the notices' completions. */
	do {
		struct ibv_wc wc[16];
		int n;

		waiting = false;
		while (r->cq && (n = ibv_poll_cq(r->cq, 16, wc)) > 0)
			for (int i = 0; i < n; i++)
				if (!(wc[i].wr_id & WR_RECV))
					r->peer[WR_PEER_OF(wc[i].wr_id)].tx_tail++;
		for (j = 0; j < DSM_MAX_NODES; j++)
			waiting |= notified[j] && r->peer[j].tx_head != r->peer[j].tx_tail;
		if (waiting)
			usleep(1000);
	} while (waiting && tp_setup_now_ms() < deadline);

	for (j = 0; j < DSM_MAX_NODES; j++) {
		bad += peer_close(r, &r->peer[j], &nqp, &nmr);
		pthread_mutex_destroy(&r->peer[j].tx_lock);
	}
	if (r->cq && ibv_destroy_cq(r->cq))
		bad++;
	if (r->ch && ibv_destroy_comp_channel(r->ch))
		bad++;
	if (r->pd && ibv_dealloc_pd(r->pd))
		bad++;
	if (r->ctx && ibv_close_device(r->ctx))
		bad++;
	if (bad)
		pr_err("dsm rdma: node %u: %u verbs object(s) could not be released",
		       tp->hello.node, bad);
	else if (r->ctx)
		pr_debug("dsm rdma: node %u: released %u QP(s), %u MR(s), the CQ, channel, PD "
			 "and %s",
			 tp->hello.node, nqp, nmr, r->dev);
	if (r->own_listen)
		close(r->listen_fd);
	free(r);
	tp->priv = NULL;
}

/* --- sending ---------------------------------------------------------------------------------- */

/*
 * Posts one message: a frame (header + payload, len bytes; none for CREDIT
 * and CLOSE) into the next send slot. Called with tx_lock held, when
 * dsm_rdma_may_send and a free slot allow it.
 */
static int post_locked(struct rdma_priv *r, struct rdma_peer *p, unsigned id,
		       enum dsm_rdma_imm_kind kind, const uint8_t *frame, uint32_t len)
{
	uint8_t *slot = p->tx + (size_t)(p->tx_head % p->ntx) * SLOT_SIZE;
	uint32_t credits = kind == DSM_RDMA_IMM_CLOSE ? 0 : dsm_rdma_spend(&p->cr);
	struct ibv_sge sge = { .addr = (uintptr_t)slot, .length = len, .lkey = p->tx_mr->lkey };
	struct ibv_send_wr wr = {
		.wr_id = WR_PEER(id),
		.sg_list = len ? &sge : NULL,
		.num_sge = len ? 1 : 0,
		.opcode = IBV_WR_SEND_WITH_IMM,
		.send_flags = IBV_SEND_SIGNALED | (len && len <= r->max_inline ? IBV_SEND_INLINE : 0),
		.imm_data = htobe32(dsm_rdma_imm(kind, credits)),
	}, *bad;
	int ret;

	if (len && frame != slot)
		memcpy(slot, frame, len);
	if (kind == DSM_RDMA_IMM_MSG && len > DSM_WIRE_HDR_LEN &&
	    r->opt.payload == DSM_RDMA_PAYLOAD_WRITE) {
		wr.opcode = IBV_WR_RDMA_WRITE_WITH_IMM;
		wr.wr.rdma.remote_addr = p->remote.addr + (uint64_t)(p->tx_msgs % p->remote.depth) *
								  p->remote.slot_size;
		wr.wr.rdma.rkey = p->remote.rkey;
	}
	ret = -ibv_post_send(p->qp, &wr, &bad);
	if (ret) {
		p->tx_err = ret;
		return ret;
	}
	p->tx_head++;
	if (kind != DSM_RDMA_IMM_CLOSE)
		p->tx_msgs++;
	return 0;
}

static bool can_post(const struct rdma_peer *p, bool credit_only)
{
	return p->tx_head - p->tx_tail < p->ntx && dsm_rdma_may_send(&p->cr, credit_only);
}

/* Posts what the backlog holds and a credit update if one is due. tx_lock held. */
static void flush_locked(struct rdma_priv *r, struct rdma_peer *p, unsigned id)
{
	while (p->up && !p->tx_err && p->bl_head && can_post(p, false)) {
		struct backlog *b = p->bl_head;

		if (post_locked(r, p, id, DSM_RDMA_IMM_MSG, b->frame, b->len))
			return;
		p->bl_head = b->next;
		if (!p->bl_head)
			p->bl_tail = NULL;
		p->bl_bytes -= b->len;
		free(b);
	}
	if (p->up && !p->tx_err && dsm_rdma_update_due(&p->cr) && can_post(p, true))
		post_locked(r, p, id, DSM_RDMA_IMM_CREDIT, NULL, 0);
}

static int rdma_send(struct dsm_transport *tp, unsigned peer, const struct dsm_msg *m)
{
	struct rdma_priv *r = tp->priv;
	struct rdma_peer *p = &r->peer[peer];
	uint32_t len = DSM_WIRE_HDR_LEN + m->len;
	struct dsm_msg msg = *m;
	int ret = 0;

	if (peer >= DSM_MAX_NODES || m->len > DSM_WIRE_MAX_PAYLOAD)
		return -EINVAL;
	pthread_mutex_lock(&p->tx_lock);
	if (!p->up || p->tx_err) {
		ret = -ENOTCONN;
		goto out;
	}
	msg.seq = ++p->tx_seq;
	if (!p->bl_head && can_post(p, false)) {
		/* The common case: encode straight into the registered slot. */
		uint8_t *slot = p->tx + (size_t)(p->tx_head % p->ntx) * SLOT_SIZE;

		dsm_wire_encode(slot, &msg);
		if (m->len)
			memcpy(slot + DSM_WIRE_HDR_LEN, m->payload, m->len);
		ret = post_locked(r, p, peer, DSM_RDMA_IMM_MSG, slot, len);
	} else {
		struct backlog *b;

		if (p->bl_bytes + len > OUT_MAX) {
			ret = p->tx_err = -ENOBUFS;
			goto out;
		}
		b = malloc(sizeof(*b) + len);
		if (!b) {
			ret = -ENOMEM;
			goto out;
		}
		b->next = NULL;
		b->len = len;
		dsm_wire_encode(b->frame, &msg);
		if (m->len)
			memcpy(b->frame + DSM_WIRE_HDR_LEN, m->payload, m->len);
		if (p->bl_tail)
			p->bl_tail->next = b;
		else
			p->bl_head = b;
		p->bl_tail = b;
		p->bl_bytes += len;
	}
out:
	pthread_mutex_unlock(&p->tx_lock);
	return ret;
}

/* --- receiving and progress ------------------------------------------------------------------ */

/* Takes the link down: QP to ERR (outstanding work flushes), nothing more is sent. */
static bool link_cut(struct rdma_priv *r, unsigned id)
{
	struct rdma_peer *p = &r->peer[id];
	struct ibv_qp_attr qa = { .qp_state = IBV_QPS_ERR };
	bool was_up;

	pthread_mutex_lock(&p->tx_lock);
	was_up = p->up;
	p->up = false;
	free_backlog(p);
	pthread_mutex_unlock(&p->tx_lock);
	if (was_up && p->qp)
		ibv_modify_qp(p->qp, &qa, IBV_QP_STATE);
	return was_up;
}

static void peer_down(struct dsm_transport *tp, unsigned id, int err, const char *field,
		      const char *what)
{
	if (link_cut(tp->priv, id))
		tp->handler.down(tp->handler.arg, id, err, field, what);
}

static int wc_errno(enum ibv_wc_status s)
{
	switch (s) {
	case IBV_WC_RETRY_EXC_ERR:
	case IBV_WC_RNR_RETRY_EXC_ERR:
		return -ETIMEDOUT;
	case IBV_WC_WR_FLUSH_ERR:
		return -ECONNRESET;
	case IBV_WC_REM_ACCESS_ERR:
	case IBV_WC_REM_INV_REQ_ERR:
	case IBV_WC_REM_OP_ERR:
	case IBV_WC_LOC_LEN_ERR:
		return -EPROTO;
	default:
		return -EIO;
	}
}

static void wc_error(struct dsm_transport *tp, const struct ibv_wc *wc)
{
	struct rdma_priv *r = tp->priv;
	unsigned id = WR_PEER_OF(wc->wr_id);
	char what[128];

	if (id >= DSM_MAX_NODES || !r->peer[id].up)
		return; /* the flush of a link already down */
	snprintf(what, sizeof(what), "%s completion error: %s%s",
		 wc->wr_id & WR_RECV ? "receive" : "send", ibv_wc_status_str(wc->status),
		 wc->status == IBV_WC_RETRY_EXC_ERR ? " (peer vanished)" : "");
	peer_down(tp, id, wc_errno(wc->status), "completion", what);
}

static void recv_one(struct dsm_transport *tp, const struct ibv_wc *wc)
{
	struct rdma_priv *r = tp->priv;
	unsigned id = WR_PEER_OF(wc->wr_id);
	uint32_t idx = WR_IDX_OF(wc->wr_id), credits;
	struct rdma_peer *p = &r->peer[id];
	enum dsm_rdma_imm_kind kind;
	struct dsm_wire_err err;
	const uint8_t *data;
	struct dsm_msg m;
	size_t avail, flen;
	int ret;

	if (id >= DSM_MAX_NODES || !p->up || idx >= p->nrx)
		return;
	if (!(wc->wc_flags & IBV_WC_WITH_IMM) ||
	    dsm_rdma_imm_parse(be32toh(wc->imm_data), &kind, &credits)) {
		peer_down(tp, id, -EPROTO, "immediate", "message without a valid immediate");
		return;
	}
	pthread_mutex_lock(&p->tx_lock);
	ret = dsm_rdma_returned(&p->cr, credits);
	pthread_mutex_unlock(&p->tx_lock);
	if (ret) {
		peer_down(tp, id, -EPROTO, "credits", "more credits returned than were spent");
		return;
	}
	if (kind == DSM_RDMA_IMM_CLOSE) {
		peer_down(tp, id, -EPIPE, "connection", "closed by peer");
		return;
	}
	if (kind == DSM_RDMA_IMM_MSG) {
		if (wc->opcode == IBV_WC_RECV_RDMA_WITH_IMM) {
			if (r->opt.payload != DSM_RDMA_PAYLOAD_WRITE) {
				peer_down(tp, id, -EPROTO, "opcode", "RDMA write in send mode");
				return;
			}
			data = p->land + (size_t)(p->rx_msgs % p->local.depth) * SLOT_SIZE;
			avail = SLOT_SIZE;
		} else {
			data = p->rx + (size_t)idx * p->rx_size;
			avail = wc->byte_len;
		}
		ret = dsm_wire_decode(data, avail, p->rx_seq, &m, &flen, &err);
		if (ret == -EAGAIN || (!ret && wc->opcode == IBV_WC_RECV && flen != avail)) {
			err.field = "length";
			snprintf(err.what, sizeof(err.what), "%zu bytes received for a frame of %s",
				 avail, ret ? "more" : "fewer");
			ret = -EPROTO;
		}
		if (ret) {
			peer_down(tp, id, ret, err.field, err.what);
			return;
		}
		p->rx_seq++;
		tp->handler.recv(tp->handler.arg, id, &m);
		if (!p->up)
			return; /* the handler failed the peer */
	}
	/* Handled (a MSG) or nothing to handle (CREDIT): the buffer may be reused. */
	p->rx_msgs++;
	ret = post_recv(p, id, idx);
	if (ret) {
		peer_down(tp, id, ret, "receive", "cannot re-post a receive buffer");
		return;
	}
	pthread_mutex_lock(&p->tx_lock);
	dsm_rdma_reposted(&p->cr);
	pthread_mutex_unlock(&p->tx_lock);
}

static int rdma_progress(struct dsm_transport *tp)
{
	struct rdma_priv *r = tp->priv;
	struct ibv_cq *ev_cq;
	void *ev_ctx;
	struct ibv_wc wc[32];
	int n, ret;

	/* Consume the channel's events (non-blocking), re-arm, then drain: no lost wake-up. */
	while (!ibv_get_cq_event(r->ch, &ev_cq, &ev_ctx))
		ibv_ack_cq_events(ev_cq, 1);
	ret = -ibv_req_notify_cq(r->cq, 0);
	if (ret)
		return ret;
	do {
		n = ibv_poll_cq(r->cq, 32, wc);
		if (n < 0)
			return -EIO;
		for (int i = 0; i < n; i++) {
			unsigned id = WR_PEER_OF(wc[i].wr_id);

			if (!(wc[i].wr_id & WR_RECV) && id < DSM_MAX_NODES) {
				/* A send slot is free again, whatever the status. */
				pthread_mutex_lock(&r->peer[id].tx_lock);
				r->peer[id].tx_tail++;
				pthread_mutex_unlock(&r->peer[id].tx_lock);
			}
			if (wc[i].status != IBV_WC_SUCCESS)
				wc_error(tp, &wc[i]);
			else if (wc[i].wr_id & WR_RECV)
				recv_one(tp, &wc[i]);
		}
	} while (n > 0);

	for (unsigned j = 0; j < tp->cfg->nnodes; j++) {
		struct rdma_peer *p = &r->peer[j];
		int err;

		if (!p->used || !p->up)
			continue;
		pthread_mutex_lock(&p->tx_lock);
		flush_locked(r, p, j);
		err = p->tx_err;
		pthread_mutex_unlock(&p->tx_lock);
		if (err)
			peer_down(tp, j, err, "connection",
				  err == -ENOBUFS ? "peer does not read: send backlog full"
						  : strerror(-err));
	}
	return 0;
}

static void rdma_disconnect(struct dsm_transport *tp, unsigned peer)
{
	if (peer < DSM_MAX_NODES)
		link_cut(tp->priv, peer);
}

static int rdma_poll_fd(struct dsm_transport *tp)
{
	return ((struct rdma_priv *)tp->priv)->ch->fd;
}

const struct dsm_transport_ops dsm_rdma_ops = {
	.name = "rdma",
	.open = rdma_open,
	.close = rdma_close,
	.send = rdma_send,
	.disconnect = rdma_disconnect,
	.poll_fd = rdma_poll_fd,
	.progress = rdma_progress,
	/*
	 * A one-sided read of a peer's page would need that page registered
	 * (pinned), which defeats invalidation; pages travel as messages.
	 */
	.read_page = NULL,
};
