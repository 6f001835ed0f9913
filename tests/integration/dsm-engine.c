// SPDX-License-Identifier: GPL-2.0
/*
 * dsm-engine-test: the engine with real userfaultfd, in one process (needs
 * root or CAP_SYS_PTRACE). Prints TAP.
 *
 *   - three nodes over the loop transport share pages; threads on every node
 *     increment counters on every page, and the totals must match exactly;
 *   - wire safety over tcp: a fake peer completes the handshake, then sends
 *     one bad frame; the node must name the peer and the field, drop the
 *     peer, and keep its own pages intact.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cvmm/lib/log.h"
#include "dsm/dsm.h"
#include "dsm/wire.h"

#define PAGES	16
#define THREADS 2
#define INCS	3200 /* a multiple of PAGES */

static unsigned tap_n;
static int tap_failed;

static void tap(int ok, const char *what)
{
	printf("%sok %u - %s\n", ok ? "" : "not ", ++tap_n, what);
	fflush(stdout);
	if (!ok)
		tap_failed = 1;
}

struct region {
	int fd;
	uint8_t *mem;
	size_t size;
};

static int region_new(struct region *r, size_t pages)
{
	r->size = pages * DSM_PAGE_SIZE;
	r->fd = memfd_create("dsm-engine-test", MFD_CLOEXEC);
	if (r->fd < 0 || ftruncate(r->fd, (off_t)r->size))
		return -errno;
	r->mem = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	return r->mem == MAP_FAILED ? -errno : 0;
}

static void region_free(struct region *r)
{
	munmap(r->mem, r->size);
	close(r->fd);
}

/* --- loop cluster ---------------------------------------------------------- */

struct lnode {
	unsigned id;
	struct dsm_loop_fabric *fabric;
	struct region r;
	struct dsm *d;
	int ret;
};

static void *start_node(void *arg)
{
	struct lnode *n = arg;
	struct dsm_config cfg = {
		.node = n->id,
		.nnodes = 3,
		.memfd = n->r.fd,
		.vm_addr = n->r.mem,
		.size = n->r.size,
		.transport = "loop",
		.fabric = n->fabric,
		.listen_fd = -1,
	};

	n->ret = dsm_create(&cfg, &n->d);
	for (unsigned i = 0; !n->ret && i < 3; i++)
		n->ret = dsm_set_home(n->d, (uint64_t)i * (PAGES / 4) * DSM_PAGE_SIZE,
				      (PAGES / 4) * DSM_PAGE_SIZE, i);
	if (!n->ret)
		n->ret = dsm_set_home(n->d, 3 * (PAGES / 4) * DSM_PAGE_SIZE,
				      (PAGES / 4) * DSM_PAGE_SIZE, 0);
	if (!n->ret)
		n->ret = dsm_start(n->d);
	return NULL;
}

static void *incrementer(void *arg)
{
	struct lnode *n = arg;

	for (unsigned i = 0; i < INCS; i++) {
		uint64_t *ctr = (uint64_t *)(n->r.mem + (i % PAGES) * DSM_PAGE_SIZE);

		/* read first: shared copies make the next write an upgrade (INV) */
		if (__atomic_load_n(&ctr[3], __ATOMIC_SEQ_CST) == ~0ull)
			abort();
		__atomic_fetch_add(&ctr[n->id], 1, __ATOMIC_SEQ_CST);
		__atomic_fetch_add(&ctr[3], 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/* All nodes leave at once: each waits for the others' BYE. */
static void *leave_node(void *arg)
{
	struct lnode *n = arg;

	n->ret = dsm_leave(n->d, 5000);
	return NULL;
}

static void loop_cluster(void)
{
	struct dsm_loop_fabric *f = dsm_loop_fabric_new(3);
	struct lnode n[3];
	pthread_t t[3][THREADS];
	int ok = 1;

	for (unsigned i = 0; i < 3; i++) {
		n[i] = (struct lnode){ .id = i, .fabric = f };
		if (region_new(&n[i].r, PAGES))
			ok = 0;
	}
	if (!ok) {
		tap(0, "loop: memfd regions");
		return;
	}
	for (unsigned i = 0; i < 3; i++)
		pthread_create(&t[i][0], NULL, start_node, &n[i]);
	for (unsigned i = 0; i < 3; i++) {
		pthread_join(t[i][0], NULL);
		ok &= !n[i].ret;
	}
	tap(ok, "loop: three nodes start over one fabric");
	if (!ok)
		return;
	for (unsigned i = 0; i < 3; i++)
		for (unsigned j = 0; j < THREADS; j++)
			pthread_create(&t[i][j], NULL, incrementer, &n[i]);
	for (unsigned i = 0; i < 3; i++)
		for (unsigned j = 0; j < THREADS; j++)
			pthread_join(t[i][j], NULL);

	/* Every node sees every page's exact totals. */
	for (unsigned i = 0; i < 3; i++) {
		for (unsigned p = 0; p < PAGES; p++) {
			uint64_t *ctr = (uint64_t *)(n[i].r.mem + p * DSM_PAGE_SIZE);
			uint64_t want = (uint64_t)THREADS * INCS / PAGES;

			for (unsigned k = 0; k < 3; k++)
				if (__atomic_load_n(&ctr[k], __ATOMIC_SEQ_CST) != want)
					ok = 0;
			if (__atomic_load_n(&ctr[3], __ATOMIC_SEQ_CST) != 3 * want)
				ok = 0;
		}
	}
	tap(ok, "loop: concurrent increments from 3 nodes x 2 threads add up on every node");

	struct dsm_stats st;

	dsm_get_stats(n[1].d, &st);
	tap(st.faults[DSM_STAT_READ] + st.faults[DSM_STAT_WRITE] + st.faults[DSM_STAT_UPGRADE] >
			    0 &&
		    st.remote_fetches > 0 && st.inv_received > 0 && dsm_page_faults(n[1].d, 0) > 0,
	    "loop: statistics count faults, fetches, invalidations and page heat");

	uint64_t ns;

	ok = 1;
	tap(!dsm_echo(n[0].d, 2, 0, DSM_PAGE_SIZE, &ns), "loop: echo round trip");
	for (unsigned i = 0; i < 3; i++)
		pthread_create(&t[i][0], NULL, leave_node, &n[i]);
	for (unsigned i = 0; i < 3; i++) {
		pthread_join(t[i][0], NULL);
		ok &= !n[i].ret;
	}
	for (unsigned i = 0; i < 3; i++) {
		ok &= !dsm_failed_peers(n[i].d) && !dsm_local_errors(n[i].d);
		dsm_destroy(n[i].d);
		region_free(&n[i].r);
	}
	tap(ok, "loop: all leave cleanly; no peer failed, no local error");
	dsm_loop_fabric_free(f);
}

/* --- wire safety over tcp --------------------------------------------------- */

struct victim {
	struct region r;
	struct dsm *d;
	char addr0[32], addr1[32];
	const char *addrs[2];
	int lfd;
	int ret;
	char why[200];
	volatile int failed;
};

static void victim_failed(void *arg, unsigned peer, const char *why)
{
	struct victim *v = arg;

	snprintf(v->why, sizeof(v->why), "peer %u: %s", peer, why);
	__atomic_store_n(&v->failed, 1, __ATOMIC_RELEASE);
}

static void *victim_start(void *arg)
{
	struct victim *v = arg;
	struct dsm_config cfg = {
		.node = 0,
		.nnodes = 2,
		.memfd = v->r.fd,
		.vm_addr = v->r.mem,
		.size = v->r.size,
		.transport = "tcp",
		.addrs = v->addrs,
		.listen_fd = v->lfd,
		.connect_timeout_ms = 5000,
		.on_peer_failed = victim_failed,
		.cb_arg = v,
	};

	v->ret = dsm_create(&cfg, &v->d);
	if (!v->ret)
		v->ret = dsm_set_home(v->d, 0, v->r.size / 2, 0);
	if (!v->ret)
		v->ret = dsm_set_home(v->d, v->r.size / 2, v->r.size / 2, 1);
	if (!v->ret)
		v->ret = dsm_start(v->d);
	return NULL;
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	while (n--)
		h = (h ^ *p++) * 1099511628211ull;
	return h;
}

static void send_frame(int fd, uint8_t type, uint16_t flags, uint32_t seq, uint64_t page,
		       const void *payload, uint32_t len)
{
	uint8_t buf[DSM_WIRE_MAX_FRAME];
	struct dsm_msg m = { .type = type,
			     .flags = flags,
			     .seq = seq,
			     .page = page,
			     .len = len,
			     .payload = payload };

	dsm_wire_encode(buf, &m);
	memcpy(buf + DSM_WIRE_HDR_LEN, payload, len);
	if (write(fd, buf, DSM_WIRE_HDR_LEN + len) < 0)
		perror("write");
}

enum bad_kind { BAD_MAGIC, BAD_CSUM, BAD_LEN, BAD_SEQ, BAD_PROTO, BAD_PAGE, BAD_TRUNC };

/*
 * One case: a fresh victim node 0 (4 pages homed here, 4 at the fake peer),
 * its home pages filled with a pattern; the fake node 1 handshakes and sends
 * one bad thing.
 */
static void wire_case(enum bad_kind kind, const char *field, const char *name)
{
	struct victim v = { .lfd = -1 };
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t slen = sizeof(sa);
	uint8_t hello[sizeof(struct dsm_hello)], rbuf[DSM_WIRE_HDR_LEN + sizeof(hello)];
	static uint8_t page[DSM_PAGE_SIZE];
	uint64_t before, h;
	pthread_t t;
	char what[400];
	int fd, ok;

	if (region_new(&v.r, 8)) {
		tap(0, "wire: memfd region");
		return;
	}
	memset(v.r.mem, 0xa5, v.r.size / 2);
	before = fnv(v.r.mem, v.r.size / 2);
	v.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bind(v.lfd, (struct sockaddr *)&sa, sizeof(sa));
	listen(v.lfd, 4);
	getsockname(v.lfd, (struct sockaddr *)&sa, &slen);
	snprintf(v.addr0, sizeof(v.addr0), "127.0.0.1:%u", ntohs(sa.sin_port));
	snprintf(v.addr1, sizeof(v.addr1), "127.0.0.1:1"); /* never dialled: node 1 connects */
	v.addrs[0] = v.addr0;
	v.addrs[1] = v.addr1;
	pthread_create(&t, NULL, victim_start, &v);

	/* The fake node 1: a correct HELLO, with the victim's home-map hash. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	{
		uint8_t map[8] = { 0, 0, 0, 0, 1, 1, 1, 1 };

		h = fnv(map, 8);
	}
	struct dsm_hello hl = {
		.version = DSM_PROTO_VERSION, .node = 1, .nnodes = 2, .npages = 8, .config_hash = h
	};

	dsm_wire_put_hello(hello, &hl);
	send_frame(fd, DSM_MSG_HELLO, 0, 1, 0, hello, sizeof(hello));
	ok = read(fd, rbuf, sizeof(rbuf)) > 0;
	pthread_join(t, NULL);
	if (!ok || v.ret) {
		tap(0, name);
		close(fd);
		return;
	}

	uint8_t bad[DSM_WIRE_HDR_LEN];
	struct dsm_msg m = { .type = DSM_MSG_REQ_READ, .seq = 2, .page = 1 };

	dsm_wire_encode(bad, &m);
	switch (kind) {
	case BAD_MAGIC:
		bad[1] ^= 0xff;
		break;
	case BAD_CSUM:
		bad[24] ^= 1;
		break;
	case BAD_LEN:
		bad[10] = 0x40; /* 4 MiB payload claimed */
		break;
	case BAD_SEQ:
		m.seq = 9;
		dsm_wire_encode(bad, &m);
		break;
	case BAD_PROTO:
		/* a valid frame the protocol does not allow: an unsolicited grant */
		send_frame(fd, DSM_MSG_GRANT_READ, 0, 2, 5, page, DSM_PAGE_SIZE);
		break;
	case BAD_PAGE:
		m.page = 1000;
		dsm_wire_encode(bad, &m);
		break;
	case BAD_TRUNC:
		break;
	}
	if (kind == BAD_TRUNC) {
		if (write(fd, bad, 20) < 0)
			perror("write");
		close(fd);
		fd = -1;
	} else if (kind != BAD_PROTO) {
		if (write(fd, bad, sizeof(bad)) < 0)
			perror("write");
	}
	for (int i = 0; i < 200 && !__atomic_load_n(&v.failed, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	ok = __atomic_load_n(&v.failed, __ATOMIC_ACQUIRE) && strstr(v.why, "peer 1") &&
	     strstr(v.why, field) && dsm_failed_peers(v.d) == 2;
	/* the victim still serves its own memory, unchanged */
	ok = ok && fnv(v.r.mem, v.r.size / 2) == before && !dsm_local_errors(v.d);
	snprintf(what, sizeof(what), "wire: %s -> peer failed naming '%s'%s%s", name, field,
		 ok ? "" : "; got: ", ok ? "" : v.why);
	tap(ok, what);
	if (fd >= 0)
		close(fd);
	dsm_destroy(v.d);
	close(v.lfd);
	region_free(&v.r);
}

int main(void)
{
	log_set_prefix("dsm-engine-test");
	printf("1..12\n");
	loop_cluster();
	wire_case(BAD_MAGIC, "magic", "bad magic");
	wire_case(BAD_CSUM, "checksum", "corrupted checksum");
	wire_case(BAD_LEN, "length", "oversized length");
	wire_case(BAD_SEQ, "seq", "sequence gap");
	wire_case(BAD_PROTO, "type", "out-of-protocol grant");
	wire_case(BAD_PAGE, "page", "page outside the region");
	wire_case(BAD_TRUNC, "connection", "truncated frame then close");
	return tap_failed;
}
