// SPDX-License-Identifier: GPL-2.0
/*
 * loop transport: nodes in one process, for tests. A fabric holds one inbox
 * per node; send() copies the message into the receiver's inbox and kicks
 * its eventfd. Sequence numbers and the HELLO check work as on the wire, so
 * the engine sees the same contract as with tcp.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "cvmm/lib/log.h"
#include "dsm/transport.h"

struct loop_msg {
	struct loop_msg *next;
	unsigned from;
	bool down; /* not a message: the sender closed */
	struct dsm_msg m;
	uint8_t data[];
};

struct loop_inbox {
	int efd;
	bool open, closed;
	struct dsm_hello hello;
	struct loop_msg *head, *tail;
	uint32_t tx_seq[DSM_MAX_NODES]; /* of messages from node i to this one */
	uint32_t rx_seq[DSM_MAX_NODES];
	bool cut[DSM_MAX_NODES]; /* links dropped by disconnect(): ignore them */
};

struct dsm_loop_fabric {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned nnodes;
	struct loop_inbox node[DSM_MAX_NODES];
};

struct dsm_loop_fabric *dsm_loop_fabric_new(unsigned nnodes)
{
	struct dsm_loop_fabric *f;

	if (!nnodes || nnodes > DSM_MAX_NODES)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	f->nnodes = nnodes;
	for (unsigned i = 0; i < DSM_MAX_NODES; i++)
		f->node[i].efd = -1;
	return f;
}

static void free_list(struct loop_msg *m)
{
	while (m) {
		struct loop_msg *next = m->next;

		free(m);
		m = next;
	}
}

void dsm_loop_fabric_free(struct dsm_loop_fabric *f)
{
	if (!f)
		return;
	for (unsigned i = 0; i < DSM_MAX_NODES; i++) {
		free_list(f->node[i].head);
		if (f->node[i].efd >= 0)
			close(f->node[i].efd);
	}
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static void kick(struct loop_inbox *in)
{
	uint64_t one = 1;

	if (write(in->efd, &one, sizeof(one)) < 0) {
		/* the counter saturating still leaves it readable */
	}
}

/* Appends to node `to`'s inbox. Called with f->lock held. */
static void enqueue(struct dsm_loop_fabric *f, unsigned to, struct loop_msg *lm)
{
	struct loop_inbox *in = &f->node[to];

	lm->next = NULL;
	if (in->tail)
		in->tail->next = lm;
	else
		in->head = lm;
	in->tail = lm;
	kick(in);
}

static int loop_open(struct dsm_transport *tp)
{
	struct dsm_loop_fabric *f = tp->cfg->fabric;
	unsigned self = tp->cfg->node, i, ready;
	struct loop_inbox *me;
	struct timespec dl;
	const char *field;
	int ret = 0;

	if (!f || f->nnodes != tp->cfg->nnodes) {
		pr_err("dsm loop: node %u: no fabric for %u nodes", self, tp->cfg->nnodes);
		return -EINVAL;
	}
	me = &f->node[self];
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += (tp->cfg->connect_timeout_ms ?: 10000) / 1000;

	pthread_mutex_lock(&f->lock);
	if (me->open || me->closed) {
		ret = -EBUSY;
		goto out;
	}
	me->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (me->efd < 0) {
		ret = -errno;
		goto out;
	}
	me->hello = tp->hello;
	me->open = true;
	pthread_cond_broadcast(&f->cond);
	/* Like the tcp mesh set-up: wait for every peer, then compare HELLOs. */
	for (;;) {
		for (ready = 0, i = 0; i < f->nnodes; i++)
			ready += f->node[i].open || f->node[i].closed;
		if (ready == f->nnodes)
			break;
		if (pthread_cond_timedwait(&f->cond, &f->lock, &dl) == ETIMEDOUT) {
			pr_err("dsm loop: node %u: peers did not join", self);
			ret = -ETIMEDOUT;
			goto out;
		}
	}
	for (i = 0; i < f->nnodes; i++) {
		if (i == self)
			continue;
		if (dsm_hello_check(&me->hello, &f->node[i].hello, &field)) {
			pr_err("dsm loop: node %u: hello of node %u does not match: field %s", self,
			       i, field);
			ret = -EPROTO;
			goto out;
		}
	}
out:
	pthread_mutex_unlock(&f->lock);
	return ret;
}

static void loop_close(struct dsm_transport *tp)
{
	struct dsm_loop_fabric *f = tp->cfg->fabric;
	unsigned self = tp->cfg->node;
	struct loop_inbox *me;

	if (!f)
		return;
	me = &f->node[self];
	pthread_mutex_lock(&f->lock);
	if (me->open) {
		for (unsigned i = 0; i < f->nnodes; i++) {
			struct loop_msg *lm;

			if (i == self || !f->node[i].open)
				continue;
			lm = calloc(1, sizeof(*lm));
			if (!lm)
				continue;
			lm->from = self;
			lm->down = true;
			enqueue(f, i, lm);
		}
	}
	me->open = false;
	me->closed = true;
	free_list(me->head);
	me->head = me->tail = NULL;
	pthread_mutex_unlock(&f->lock);
}

static int loop_send(struct dsm_transport *tp, unsigned peer, const struct dsm_msg *m)
{
	struct dsm_loop_fabric *f = tp->cfg->fabric;
	struct loop_msg *lm = malloc(sizeof(*lm) + m->len);
	int ret = 0;

	if (!lm)
		return -ENOMEM;
	*lm = (struct loop_msg){ .from = tp->cfg->node, .m = *m };
	if (m->len)
		memcpy(lm->data, m->payload, m->len);
	pthread_mutex_lock(&f->lock);
	if (!f->node[peer].open || !f->node[tp->cfg->node].open) {
		ret = -ENOTCONN;
		free(lm);
	} else {
		lm->m.seq = ++f->node[peer].tx_seq[tp->cfg->node];
		enqueue(f, peer, lm);
	}
	pthread_mutex_unlock(&f->lock);
	return ret;
}

static int loop_progress(struct dsm_transport *tp)
{
	struct dsm_loop_fabric *f = tp->cfg->fabric;
	struct loop_inbox *me = &f->node[tp->cfg->node];
	struct loop_msg *list, *lm;
	uint64_t cnt;

	if (read(me->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return -errno;
	pthread_mutex_lock(&f->lock);
	list = me->head;
	me->head = me->tail = NULL;
	pthread_mutex_unlock(&f->lock);

	for (lm = list; lm; lm = lm->next) {
		if (me->cut[lm->from])
			continue;
		if (lm->down) {
			me->cut[lm->from] = true;
			tp->handler.down(tp->handler.arg, lm->from, -EPIPE, "connection",
					 "closed by peer");
			continue;
		}
		if (lm->m.seq != me->rx_seq[lm->from] + 1) {
			me->cut[lm->from] = true;
			tp->handler.down(tp->handler.arg, lm->from, -EPROTO, "seq",
					 "sequence number out of order");
			continue;
		}
		me->rx_seq[lm->from] = lm->m.seq;
		lm->m.payload = lm->m.len ? lm->data : NULL;
		tp->handler.recv(tp->handler.arg, lm->from, &lm->m);
	}
	free_list(list);
	return 0;
}

static void loop_disconnect(struct dsm_transport *tp, unsigned peer)
{
	struct dsm_loop_fabric *f = tp->cfg->fabric;

	pthread_mutex_lock(&f->lock);
	f->node[tp->cfg->node].cut[peer] = true;
	pthread_mutex_unlock(&f->lock);
}

static int loop_poll_fd(struct dsm_transport *tp)
{
	return tp->cfg->fabric->node[tp->cfg->node].efd;
}

const struct dsm_transport_ops dsm_loop_ops = {
	.name = "loop",
	.open = loop_open,
	.close = loop_close,
	.send = loop_send,
	.disconnect = loop_disconnect,
	.poll_fd = loop_poll_fd,
	.progress = loop_progress,
	.read_page = NULL,
};
