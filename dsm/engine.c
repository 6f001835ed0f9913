// SPDX-License-Identifier: GPL-2.0
/*
 * The DSM engine: one thread per node that owns the protocol state, reads
 * userfaultfd events and transport messages, and performs the protocol's
 * actions on memory. See docs/dsm.md.
 *
 * Memory, for a region of the caller's memfd:
 *   - vm: the caller's mapping (KVM, device models). Registered with
 *     userfaultfd MISSING|WP. A page is INVALID = a hole in the memfd,
 *     SHARED = present and write-protected, MODIFIED = present.
 *   - alias: our own mapping of the same memfd, never registered. The engine
 *     reads page contents for sending through it, and only for pages that
 *     are present, so it never faults on guest memory and never fills a hole
 *     (which would make the page present without the protocol's consent).
 *   Pages are installed with UFFDIO_COPY (MODE_WP for read-only), which puts
 *   the contents in the memfd and maps them in one step, so no local thread
 *   can write a page that is meant to be read-only.
 *
 * Threads: only the engine thread touches the protocol state and the uffd.
 * Any thread may call dsm_get_stats, dsm_echo and dsm_leave; transports'
 * send() is thread-safe.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cvmm/lib/log.h"
#include "dsm/engine.h"
#include "dsm/uffd.h"

static uint64_t now_ms(void)
{
	return dsm_now_ns() / 1000000;
}

/* --- sending ------------------------------------------------------------ */

int engine_send(struct dsm *d, unsigned to, uint8_t type, uint16_t flags, uint64_t page,
		const void *payload, uint32_t len)
{
	struct dsm_msg m = {
		.type = type, .flags = flags, .page = page, .len = len, .payload = payload
	};
	int ret;

	if (__atomic_load_n(&d->peer[to].failed, __ATOMIC_RELAXED))
		return -ENOTCONN;
	ret = d->tp.ops->send(&d->tp, to, &m);
	if (ret)
		return ret; /* the link's failure is reported by progress() */
	__atomic_store_n(&d->peer[to].last_tx_ms, now_ms(), __ATOMIC_RELAXED);
	stat_add(&d->st.msgs_sent, 1);
	stat_add(&d->st.bytes_sent, len);
	if (len == DSM_PAGE_SIZE)
		stat_add(&d->st.pages_sent, 1);
	if (type == DSM_MSG_INV)
		stat_add(&d->st.inv_sent, 1);
	return 0;
}

/* --- failures ----------------------------------------------------------- */

static void engine_fail_peer(struct dsm *d, unsigned peer, const char *field, const char *what)
{
	char why[160];

	pthread_mutex_lock(&d->lock);
	if (d->peer[peer].failed) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	__atomic_store_n(&d->peer[peer].failed, true, __ATOMIC_RELAXED);
	d->failed_mask |= 1ull << peer;
	__atomic_fetch_or(&d->st.failed_peers, 1ull << peer, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);

	snprintf(why, sizeof(why), "%s: %s", field, what);
	pr_err("dsm: node %u: peer %u failed: %s", d->cfg.node, peer, why);
	if (d->cfg.on_peer_failed)
		d->cfg.on_peer_failed(d->cfg.cb_arg, peer, why);
}

void engine_local_error(struct dsm *d, const char *op, uint64_t page, int err)
{
	stat_add(&d->local_errors, 1);
	pr_err("dsm: node %u: %s of page %llu failed: %s (local state %s)", d->cfg.node, op,
	       (unsigned long long)page, strerror(-err),
	       dsm_pstate_name(d->proto.page[page].state));
}

/* --- actions ------------------------------------------------------------ */

static unsigned lat_bucket(uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned b = 0;

	while (us && b < DSM_LAT_BUCKETS - 1) {
		us >>= 1;
		b++;
	}
	return b;
}

/* A fault on page starts a wait (t_fault is set): engine_tick watches it. */
static void engine_wait_start(struct dsm *d, uint64_t page, uint64_t now)
{
	struct dsm_wait *w = engine_grow(d->waits, d->nwaits, &d->waits_cap, sizeof(*w), 16);

	d->t_fault[page] = now;
	if (!w) { /* the wait is still resolved; only its stuck report is lost */
		stat_add(&d->local_errors, 1);
		pr_err("dsm: node %u: no memory to watch the wait for page %llu", d->cfg.node,
		       (unsigned long long)page);
		return;
	}
	d->waits = w;
	d->waits[d->nwaits++] = (struct dsm_wait){ .page = page };
}

/* A page this node waited for is now mapped as needed: account the latency. */
static void engine_resolved(struct dsm *d, uint64_t page)
{
	uint64_t t = d->t_fault[page], now;

	if (!t)
		return;
	now = dsm_now_ns();
	dsm_hold_mapped(&d->hold, page, now);
	d->t_fault[page] = 0;
	for (uint64_t i = 0; i < d->nwaits; i++) {
		if (d->waits[i].page != page)
			continue;
		if (d->waits[i].reported)
			pr_err("dsm: node %u: page %llu came after %llu ms", d->cfg.node,
			       (unsigned long long)page, (unsigned long long)((now - t) / 1000000));
		d->waits[i] = d->waits[--d->nwaits];
		break;
	}
	stat_add(&d->st.lat_hist[d->fault_kind[page]][lat_bucket(now - t)], 1);
}

/*
 * Performs the protocol's actions in order. `incoming` is the payload of the
 * message being handled (NULL for a fault). The order matters and is the
 * protocol's: e.g. DOWNGRADE before the SEND that reads the page, so that no
 * local write can slip in after the contents were copied.
 */
static void engine_apply(struct dsm *d, const struct dsm_actions *acts, const void *incoming)
{
	for (unsigned i = 0; i < acts->n; i++) {
		const struct dsm_action *a = &acts->a[i];
		uint64_t off = a->page << DSM_PAGE_SHIFT;
		uint8_t *vmp = d->vm + off;
		const void *payload = NULL;
		int ret = 0;

		switch (a->kind) {
		case DSM_ACT_SEND:
			if (a->data == DSM_DATA_LOCAL)
				payload = d->alias + off;
			else if (a->data == DSM_DATA_INCOMING)
				payload = incoming;
			engine_send(d, a->to, a->type, a->flags, a->page, payload,
				    payload ? DSM_PAGE_SIZE : 0);
			d->coh_sent++;
			break;
		case DSM_ACT_INSTALL_RO:
		case DSM_ACT_INSTALL_RW:
			ret = uffd_copy(d->uffd, vmp, incoming, DSM_PAGE_SIZE,
					a->kind == DSM_ACT_INSTALL_RO);
			if (ret) {
				engine_local_error(d, "UFFDIO_COPY", a->page, ret);
				break;
			}
			stat_add(&d->st.remote_fetches, 1);
			engine_resolved(d, a->page);
			break;
		case DSM_ACT_UPGRADE:
			ret = uffd_writeprotect(d->uffd, vmp, DSM_PAGE_SIZE, false);
			if (ret)
				engine_local_error(d, "write-unprotect", a->page, ret);
			engine_resolved(d, a->page);
			break;
		case DSM_ACT_DOWNGRADE:
			ret = uffd_writeprotect(d->uffd, vmp, DSM_PAGE_SIZE, true);
			if (ret)
				engine_local_error(d, "write-protect", a->page, ret);
			break;
		case DSM_ACT_INVALIDATE:
			/* Drops the page from the memfd and from every mapping of it. */
			if (fallocate(d->cfg.memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				      (off_t)off, DSM_PAGE_SIZE))
				engine_local_error(d, "hole punch", a->page, -errno);
			break;
		case DSM_ACT_WAKE:
			ret = uffd_wake(d->uffd, vmp, DSM_PAGE_SIZE);
			if (ret)
				engine_local_error(d, "UFFDIO_WAKE", a->page, ret);
			break;
		}
	}
}

/* --- events ------------------------------------------------------------- */

/*
 * A page this node holds (SHARED or MODIFIED) that is missing from the memfd
 * is all zero: a run given by a departing node (XFER_ZERO) stays a hole
 * until it is touched, rather than making the DSM thread allocate it all at
 * once. Fill it now; -EEXIST means it was installed meanwhile.
 */
static bool engine_zero_fill(struct dsm *d, uint64_t page)
{
	static const uint8_t zero[DSM_PAGE_SIZE];
	uint8_t state = d->proto.page[page].state;
	int ret;

	off_t off = (off_t)(page << DSM_PAGE_SHIFT);

	/*
	 * Only a hole: a spurious fault on a present page is an ordinary race.
	 * A write-protect marker left on a punched page can make the fault on
	 * such a hole a WP fault, so its flags do not tell.
	 */
	if (state == DSM_INVALID || lseek(d->cfg.memfd, off, SEEK_DATA) == off)
		return false;
	ret = uffd_copy(d->uffd, d->vm + (page << DSM_PAGE_SHIFT), zero, DSM_PAGE_SIZE,
			state == DSM_SHARED);
	if (ret && ret != -EEXIST)
		engine_local_error(d, "UFFDIO_COPY of a zero page", page, ret);
	return true;
}

/* Whether the page's mapping is write-protected (the uffd-wp bit of /proc/self/pagemap). */
static bool engine_write_protected(struct dsm *d, uint64_t page)
{
	uintptr_t va = (uintptr_t)(d->vm + (page << DSM_PAGE_SHIFT));
	uint64_t entry = 0;

	if (d->pagemap < 0 || pread(d->pagemap, &entry, sizeof(entry),
				    (off_t)(va / DSM_PAGE_SIZE * sizeof(entry))) != sizeof(entry))
		return false;
	return entry & PAGEMAP_UFFD_WP;
}

/*
 * A spurious fault: the protocol says this node may already access the page
 * as the vCPU asked. Usually a race (the page came after the fault was
 * raised), and the WAKE that follows lets the vCPU retry. Two cases would
 * make it retry forever, and are repaired here: a hole (engine_zero_fill),
 * and a write to a page held MODIFIED whose mapping is still
 * write-protected, a mismatch that must not happen: it is also reported,
 * and counted as a local error.
 */
static void engine_fix_spurious(struct dsm *d, uint64_t page, uint64_t flags)
{
	int ret;

	if (engine_zero_fill(d, page) || !(flags & UFFD_PAGEFAULT_FLAG_WP) ||
	    d->proto.page[page].state != DSM_MODIFIED || !engine_write_protected(d, page))
		return;
	ret = uffd_writeprotect(d->uffd, d->vm + (page << DSM_PAGE_SHIFT), DSM_PAGE_SIZE, false);
	stat_add(&d->local_errors, 1);
	pr_err("dsm: node %u: write fault on page %llu, held MODIFIED but mapped write-protected: "
	       "%s",
	       d->cfg.node, (unsigned long long)page,
	       ret ? strerror(-ret) : "unprotected (a state/mapping mismatch)");
}

static void engine_faults(struct dsm *d)
{
	static const uint8_t kind_stat[] = {
		[DSM_FAULT_SPURIOUS] = DSM_STAT_SPURIOUS,
		[DSM_FAULT_READ] = DSM_STAT_READ,
		[DSM_FAULT_WRITE] = DSM_STAT_WRITE,
		[DSM_FAULT_UPGRADE] = DSM_STAT_UPGRADE,
	};
	struct uffd_msg msgs[32];
	struct dsm_actions acts;
	enum dsm_fault_kind kind;
	int n, i;

	while ((n = uffd_read(d->uffd, msgs, 32)) > 0) {
		for (i = 0; i < n; i++) {
			uint64_t addr = msgs[i].arg.pagefault.address;
			uint64_t flags = msgs[i].arg.pagefault.flags;
			uint64_t page = (addr - (uintptr_t)d->vm) >> DSM_PAGE_SHIFT;
			bool write = flags & (UFFD_PAGEFAULT_FLAG_WRITE | UFFD_PAGEFAULT_FLAG_WP);

			if (msgs[i].event != UFFD_EVENT_PAGEFAULT)
				continue;
			if (dsm_proto_fault(&d->proto, page, write, &kind, &acts)) {
				pr_err("dsm: node %u: fault at %#llx outside the region",
				       d->cfg.node, (unsigned long long)addr);
				continue;
			}
			if (kind == DSM_FAULT_SPURIOUS)
				engine_fix_spurious(d, page, flags);
			stat_add(&d->st.faults[kind_stat[kind]], 1);
			heat_note(d, page);
			if (kind != DSM_FAULT_SPURIOUS && !d->t_fault[page]) {
				engine_wait_start(d, page, dsm_now_ns());
				d->fault_kind[page] = kind_stat[kind];
			}
			engine_apply(d, &acts, NULL);
		}
	}
	if (n < 0)
		pr_err("dsm: node %u: reading userfaultfd: %s", d->cfg.node, strerror(-n));
}

static void engine_coherence(struct dsm *d, unsigned peer, const struct dsm_msg *m);

static void engine_recv(void *arg, unsigned peer, const struct dsm_msg *m)
{
	struct dsm *d = arg;

	d->peer[peer].last_rx_ms = now_ms();
	stat_add(&d->st.msgs_received, 1);
	stat_add(&d->st.bytes_received, m->len);

	switch (m->type) {
	case DSM_MSG_PING:
		return;
	case DSM_MSG_BYE:
		pthread_mutex_lock(&d->lock);
		if (!d->peer[peer].bye) {
			d->peer[peer].bye = true;
			d->byes++;
		}
		pthread_cond_broadcast(&d->cond);
		pthread_mutex_unlock(&d->lock);
		return;
	case DSM_MSG_ECHO:
		if (m->flags & DSM_MF_ECHO_PAGE)
			engine_send(d, peer, DSM_MSG_ECHO_REPLY, 0, 0, d->echo_page, DSM_PAGE_SIZE);
		else
			engine_send(d, peer, DSM_MSG_ECHO_REPLY, 0, 0, NULL, 0);
		return;
	case DSM_MSG_ECHO_REPLY:
		pthread_mutex_lock(&d->lock);
		d->echo_done = true;
		pthread_cond_broadcast(&d->cond);
		pthread_mutex_unlock(&d->lock);
		return;
	case DSM_MSG_APP:
		stat_add(&d->st.app_received, 1);
		if (d->cfg.on_app_msg)
			d->cfg.on_app_msg(d->cfg.cb_arg, peer, m->payload, m->len);
		return;
	case DSM_MSG_QUIET_REQ:
	case DSM_MSG_QUIET_REPLY:
	case DSM_MSG_CSUM_REQ:
	case DSM_MSG_CSUM_REPLY:
		quiesce_recv(d, peer, m);
		return;
	case DSM_MSG_XFER:
	case DSM_MSG_XFER_ZERO:
	case DSM_MSG_PUSH:
	case DSM_MSG_HANDOVER:
	case DSM_MSG_REHOME: {
		const char *why = NULL;

		if (handover_recv(d, peer, m, &why)) {
			engine_fail_peer(d, peer, "type", why);
			d->tp.ops->disconnect(&d->tp, peer);
		}
		return;
	}
	default:
		break;
	}
	d->coh_received++;
	if (dsm_hold_defer(&d->hold, peer, m, dsm_now_ns())) {
		stat_add(&d->st.held, 1);
		return;
	}
	engine_coherence(d, peer, m);
}

/* A coherence message, now or once its page's residency window has passed. */
static void engine_coherence(struct dsm *d, unsigned peer, const struct dsm_msg *m)
{
	struct dsm_actions acts;

	if (m->len)
		stat_add(&d->st.pages_received, 1);
	if (m->type == DSM_MSG_INV)
		stat_add(&d->st.inv_received, 1);
	if (dsm_proto_recv(&d->proto, peer, m, &acts)) {
		char what[160];

		snprintf(what, sizeof(what), "%s for page %llu: %s", dsm_msg_name(m->type),
			 (unsigned long long)m->page, acts.err_what);
		engine_fail_peer(d, peer, acts.err_field, what);
		d->tp.ops->disconnect(&d->tp, peer);
		return;
	}
	engine_apply(d, &acts, m->payload);
}

/* An absent node joined (hot-add): from now on it is a peer like the others. */
static void engine_peer_up(void *arg, unsigned peer)
{
	struct dsm *d = arg;

	pthread_mutex_lock(&d->lock);
	d->peer[peer].absent = false;
	d->peer[peer].last_rx_ms = d->peer[peer].last_tx_ms = now_ms();
	pthread_mutex_unlock(&d->lock);
	pr_info("dsm: node %u: node %u joined", d->cfg.node, peer);
	if (d->cfg.on_peer_joined)
		d->cfg.on_peer_joined(d->cfg.cb_arg, peer);
}

static void engine_link_down(void *arg, unsigned peer, int err, const char *field, const char *what)
{
	struct dsm *d = arg;

	pthread_mutex_lock(&d->lock);
	if (err == -EPIPE && d->peer[peer].bye) {
		/* An orderly close after its BYE: it left, it did not fail. */
		d->peer[peer].gone = true;
		pthread_mutex_unlock(&d->lock);
		return;
	}
	pthread_mutex_unlock(&d->lock);
	engine_fail_peer(d, peer, field, what);
}

/*
 * A vCPU that waited STUCK_NS for one page is reported once per page and
 * wait, with what this node knows of it: a page that never comes is a
 * protocol or transport fault, and its vCPU cannot even be stopped (a
 * userfault in KVM_RUN waits for its page or SIGKILL).
 */
static void engine_report_stuck(struct dsm *d, struct dsm_wait *w, uint64_t now_ns)
{
	uint64_t page = w->page;
	const struct dsm_page *pg = &d->proto.page[page];

	pr_err("dsm: node %u: a vCPU has waited %llu s for page %llu (gpa %#llx): local state "
	       "%s, request %u outstanding at home node %u",
	       d->cfg.node, (unsigned long long)((now_ns - d->t_fault[page]) / 1000000000ull),
	       (unsigned long long)page, (unsigned long long)(page << DSM_PAGE_SHIFT),
	       dsm_pstate_name(pg->state), pg->req, d->home[page]);
	w->reported = true;
}

/*
 * Publishes the counts of pages this node owns and homes (dsm_count_pages),
 * which the protocol keeps, and reports waits that look stuck: on the DSM
 * thread, or before it runs. Neither looks at every page: a scan of every
 * page ten times a second took half a CPU of an emulated node (1 GiB).
 */
static void engine_watch(struct dsm *d)
{
	uint64_t now = dsm_now_ns();

	for (uint64_t i = 0; i < d->nwaits; i++) {
		struct dsm_wait *w = &d->waits[i];

		if (!w->reported && now - d->t_fault[w->page] > STUCK_NS)
			engine_report_stuck(d, w, now);
	}
	__atomic_store_n(&d->pages_owned, d->proto.owned, __ATOMIC_RELAXED);
	__atomic_store_n(&d->pages_homed, d->proto.homed, __ATOMIC_RELAXED);
}

static void engine_tick(struct dsm *d)
{
	unsigned timeout = d->cfg.peer_timeout_ms ?: DEFAULT_TIMEOUT;
	uint64_t now = now_ms(), ticks;
	char what[64];

	if (read(d->tickfd, &ticks, sizeof(ticks)) < 0)
		return;
	engine_watch(d);
	for (unsigned i = 0; i < d->cfg.nnodes; i++) {
		struct dsm_peer *p = &d->peer[i];

		if (i == d->cfg.node || p->failed || p->gone || p->absent)
			continue;
		if (now - __atomic_load_n(&p->last_tx_ms, __ATOMIC_RELAXED) >= PING_MS)
			engine_send(d, i, DSM_MSG_PING, 0, 0, NULL, 0);
		if (now - p->last_rx_ms > timeout) {
			snprintf(what, sizeof(what), "nothing received for %u ms", timeout);
			engine_fail_peer(d, i, "timeout", what);
			d->tp.ops->disconnect(&d->tp, i);
		}
	}
}

/* EV_CALL: an engine_call() waits for its function to run here. */
static void engine_run_call(struct dsm *d)
{
	void (*fn)(struct dsm * d, void *arg);
	void *arg;
	uint64_t n;

	if (read(d->callfd, &n, sizeof(n)) < 0)
		return;
	pthread_mutex_lock(&d->lock);
	fn = d->call_done ? NULL : d->call_fn;
	arg = d->call_arg;
	pthread_mutex_unlock(&d->lock);
	if (!fn)
		return;
	fn(d, arg); /* the caller waits: call_fn and call_arg stay as they are */
	pthread_mutex_lock(&d->lock);
	d->call_done = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

int engine_call(struct dsm *d, void (*fn)(struct dsm *d, void *arg), void *arg)
{
	uint64_t one = 1;
	int ret = 0;

	if (!d->thread_running) {
		fn(d, arg);
		return 0;
	}
	pthread_mutex_lock(&d->call_lock);
	pthread_mutex_lock(&d->lock);
	d->call_fn = fn;
	d->call_arg = arg;
	d->call_done = false;
	if (write(d->callfd, &one, sizeof(one)) != sizeof(one))
		ret = -errno;
	while (!ret && !d->call_done)
		pthread_cond_wait(&d->cond, &d->lock);
	d->call_fn = NULL;
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->call_lock);
	return ret;
}

static void *engine_main(void *arg)
{
	struct dsm *d = arg;
	struct epoll_event ev[8];
	int n, i, ret;

	for (;;) {
		unsigned peer;
		struct dsm_msg m;

		n = epoll_wait(d->epfd, ev, 8, dsm_hold_timeout_ms(&d->hold, dsm_now_ns()));
		if (n < 0 && errno != EINTR) {
			pr_err("dsm: node %u: epoll_wait: %s", d->cfg.node, strerror(errno));
			return NULL;
		}
		for (i = 0; i < n; i++) {
			switch (ev[i].data.u32) {
			case EV_STOP:
				return NULL;
			case EV_UFFD:
				engine_faults(d);
				break;
			case EV_TP:
				ret = d->tp.ops->progress(&d->tp);
				if (ret)
					pr_err("dsm: node %u: transport: %s", d->cfg.node,
					       strerror(-ret));
				break;
			case EV_TICK:
				engine_tick(d);
				break;
			case EV_CALL:
				engine_run_call(d);
				break;
			}
		}
		while (dsm_hold_pop(&d->hold, dsm_now_ns(), &peer, &m))
			if (!__atomic_load_n(&d->peer[peer].failed, __ATOMIC_RELAXED))
				engine_coherence(d, peer, &m);
	}
}

/* --- API ---------------------------------------------------------------- */

int dsm_create(const struct dsm_config *cfg, struct dsm **out)
{
	struct dsm *d;

	if (!cfg->nnodes || cfg->nnodes > DSM_MAX_NODES || cfg->node >= cfg->nnodes) {
		pr_err("dsm: node %u of %u nodes: out of range (1..%u nodes)", cfg->node,
		       cfg->nnodes, DSM_MAX_NODES);
		return -EINVAL;
	}
	if (!cfg->size || cfg->size % DSM_PAGE_SIZE || !cfg->vm_addr ||
	    (uintptr_t)cfg->vm_addr % DSM_PAGE_SIZE || cfg->memfd < 0) {
		pr_err("dsm: the region must be a page-aligned mapping of a memfd");
		return -EINVAL;
	}
	if (!dsm_transport_find(cfg->transport)) {
		pr_err("dsm: unknown transport '%s' (tcp, loop, rdma[:OPTIONS])",
		       cfg->transport ? cfg->transport : "");
		return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->cfg = *cfg;
	d->npages = cfg->size / DSM_PAGE_SIZE;
	d->vm = cfg->vm_addr;
	d->uffd = d->epfd = d->stopfd = d->tickfd = d->callfd = -1;
	d->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC); /* -1: no check */
	d->alias = MAP_FAILED;
	d->home = malloc(d->npages);
	d->heat = calloc(d->npages, sizeof(*d->heat));
	d->warm_mark = calloc(d->npages, sizeof(*d->warm_mark));
	d->t_fault = calloc(d->npages, sizeof(*d->t_fault));
	d->fault_kind = calloc(d->npages, 1);
	if (!d->home || !d->heat || !d->warm_mark || !d->t_fault || !d->fault_kind ||
	    dsm_hold_init(&d->hold, d->npages,
			  cfg->hold_us == DSM_HOLD_NONE ? 0
			  : cfg->hold_us		? cfg->hold_us * 1000ull
							: DSM_DEFAULT_HOLD_US * 1000ull)) {
		dsm_destroy(d);
		return -ENOMEM;
	}
	memset(d->home, HOME_UNSET, d->npages);
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->echo_lock, NULL);
	pthread_mutex_init(&d->call_lock, NULL);
	pthread_mutex_init(&d->query_lock, NULL);
	pthread_mutex_init(&d->warm_lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	*out = d;
	return 0;
}

int dsm_set_home(struct dsm *d, uint64_t offset, uint64_t len, unsigned node)
{
	if (d->started || node >= d->cfg.nnodes || offset % DSM_PAGE_SIZE || len % DSM_PAGE_SIZE ||
	    offset > d->cfg.size || len > d->cfg.size - offset) {
		pr_err("dsm: bad home range [%#llx, +%#llx) for node %u",
		       (unsigned long long)offset, (unsigned long long)len, node);
		return -EINVAL;
	}
	memset(d->home + offset / DSM_PAGE_SIZE, (int)node, len / DSM_PAGE_SIZE);
	return 0;
}

static uint64_t config_hash(const struct dsm *d)
{
	uint64_t h = 1469598103934665603ull;

	for (uint64_t i = 0; i < d->npages; i++)
		h = (h ^ d->home[i]) * 1099511628211ull;
	return h;
}

/*
 * Makes the memfd match the initial protocol state: pages homed here are
 * present (MODIFIED, their only copy), all others are holes (INVALID).
 */
static int setup_memory(struct dsm *d)
{
	uint64_t i = 0, j;

	while (i < d->npages) {
		bool mine = d->home[i] == d->cfg.node;
		int mode = mine ? 0 : FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;

		for (j = i; j < d->npages && (d->home[j] == d->cfg.node) == mine; j++)
			;
		if (fallocate(d->cfg.memfd, mode, (off_t)(i * DSM_PAGE_SIZE),
			      (off_t)((j - i) * DSM_PAGE_SIZE))) {
			int ret = -errno;

			pr_err("dsm: node %u: fallocate of pages %llu..%llu: %s", d->cfg.node,
			       (unsigned long long)i, (unsigned long long)j - 1, strerror(errno));
			return ret;
		}
		i = j;
	}
	/* 4 KiB faults; a 2 MiB huge page would move 512 pages per fault. */
	madvise(d->vm, d->cfg.size, MADV_NOHUGEPAGE);
	d->alias = mmap(NULL, d->cfg.size, PROT_READ | PROT_WRITE, MAP_SHARED, d->cfg.memfd, 0);
	if (d->alias == MAP_FAILED)
		return -errno;
	madvise(d->alias, d->cfg.size, MADV_NOHUGEPAGE);
	return 0;
}

static int epoll_add(int epfd, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int dsm_start(struct dsm *d)
{
	struct itimerspec its = { .it_interval = { 0, TICK_MS * 1000000 },
				  .it_value = { 0, TICK_MS * 1000000 } };
	uint64_t i, now;
	int ret;

	for (i = 0; i < d->npages; i++) {
		if (d->home[i] == HOME_UNSET) {
			pr_err("dsm: node %u: page %llu has no home (dsm_set_home)", d->cfg.node,
			       (unsigned long long)i);
			return -EINVAL;
		}
	}
	if ((d->cfg.absent || d->cfg.joining) && strcmp(d->cfg.transport, "tcp")) {
		pr_err("dsm: node %u: nodes that join later need the tcp transport", d->cfg.node);
		return -EOPNOTSUPP;
	}
	for (i = 0; i < d->cfg.nnodes; i++)
		d->peer[i].absent = i != d->cfg.node && (d->cfg.absent & (1ull << i));
	ret = dsm_proto_init(&d->proto, d->cfg.node, d->cfg.nnodes, d->npages, d->home);
	if (ret)
		return ret;
	d->started = true;
	engine_watch(d);

	ret = setup_memory(d);
	if (ret)
		goto out_fail;
	ret = uffd_open(&d->uffd);
	if (ret)
		goto out_fail;
	ret = uffd_register(d->uffd, d->vm, d->cfg.size);
	if (ret)
		goto out_fail;

	d->tp = (struct dsm_transport){
		.ops = dsm_transport_find(d->cfg.transport),
		.cfg = &d->cfg,
		.hello = { .version = DSM_PROTO_VERSION,
			   .node = d->cfg.node,
			   .nnodes = d->cfg.nnodes,
			   .npages = d->npages,
			   .config_hash = config_hash(d) },
		.handler = { .recv = engine_recv,
			     .down = engine_link_down,
			     .up = engine_peer_up,
			     .arg = d },
	};
	ret = d->tp.ops->open(&d->tp);
	if (ret)
		goto out_fail;
	d->tp_open = true;
	now = now_ms();
	for (i = 0; i < d->cfg.nnodes; i++)
		d->peer[i].last_rx_ms = d->peer[i].last_tx_ms = now;

	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->tickfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d->callfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->epfd < 0 || d->stopfd < 0 || d->tickfd < 0 || d->callfd < 0) {
		ret = -errno;
		goto out_fail;
	}
	if (timerfd_settime(d->tickfd, 0, &its, NULL)) {
		ret = -errno;
		goto out_fail;
	}
	ret = epoll_add(d->epfd, d->stopfd, EV_STOP);
	if (!ret)
		ret = epoll_add(d->epfd, d->uffd, EV_UFFD);
	if (!ret)
		ret = epoll_add(d->epfd, d->tp.ops->poll_fd(&d->tp), EV_TP);
	if (!ret)
		ret = epoll_add(d->epfd, d->tickfd, EV_TICK);
	if (!ret)
		ret = epoll_add(d->epfd, d->callfd, EV_CALL);
	if (ret)
		goto out_fail;
	ret = -pthread_create(&d->thread, NULL, engine_main, d);
	if (ret)
		goto out_fail;
	d->thread_running = true;
	return 0;

out_fail:
	/* dsm_destroy unwinds whatever was set up. */
	if (ret != -EOPNOTSUPP && ret != -EPROTO && ret != -ETIMEDOUT)
		pr_err("dsm: node %u: start failed: %s", d->cfg.node, strerror(-ret));
	return ret;
}

int dsm_leave(struct dsm *d, unsigned timeout_ms)
{
	struct timespec dl;
	unsigned i, waiting;
	int ret = 0;

	for (i = 0; i < d->cfg.nnodes; i++)
		if (i != d->cfg.node)
			engine_send(d, i, DSM_MSG_BYE, 0, 0, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&d->lock);
	for (;;) {
		for (waiting = 0, i = 0; i < d->cfg.nnodes; i++)
			waiting += i != d->cfg.node && !d->peer[i].bye && !d->peer[i].failed &&
				   !d->peer[i].absent;
		if (!waiting)
			break;
		if (pthread_cond_timedwait(&d->cond, &d->lock, &dl) == ETIMEDOUT) {
			pr_err("dsm: node %u: %u peer(s) did not finish within %u ms", d->cfg.node,
			       waiting, timeout_ms);
			ret = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

void dsm_destroy(struct dsm *d)
{
	uint64_t one = 1;

	if (!d)
		return;
	if (d->thread_running) {
		if (write(d->stopfd, &one, sizeof(one)) != sizeof(one))
			pr_err("dsm: node %u: cannot stop the engine thread", d->cfg.node);
		pthread_join(d->thread, NULL);
	}
	quiesce_join(d);
	if (d->tickfd >= 0)
		close(d->tickfd);
	if (d->callfd >= 0)
		close(d->callfd);
	if (d->stopfd >= 0)
		close(d->stopfd);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->tp_open)
		d->tp.ops->close(&d->tp);
	if (d->uffd >= 0) {
		uffd_unregister(d->uffd, d->vm, d->cfg.size);
		close(d->uffd);
	}
	if (d->pagemap >= 0)
		close(d->pagemap);
	if (d->alias != MAP_FAILED)
		munmap(d->alias, d->cfg.size);
	if (d->started)
		dsm_proto_fini(&d->proto);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->echo_lock);
	pthread_mutex_destroy(&d->call_lock);
	pthread_mutex_destroy(&d->query_lock);
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->warm_lock);
	dsm_hold_fini(&d->hold);
	free(d->fault_kind);
	free(d->t_fault);
	free(d->waits);
	free(d->heat);
	free(d->warm_mark);
	free(d->warm);
	free(d->home);
	free(d);
}

void dsm_get_stats(struct dsm *d, struct dsm_stats *st)
{
	const uint64_t *src = (const uint64_t *)&d->st;
	uint64_t *dst = (uint64_t *)st;

	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

void dsm_count_pages(struct dsm *d, uint64_t *owned, uint64_t *homed)
{
	*owned = __atomic_load_n(&d->pages_owned, __ATOMIC_RELAXED);
	*homed = __atomic_load_n(&d->pages_homed, __ATOMIC_RELAXED);
}

uint64_t dsm_failed_peers(struct dsm *d)
{
	return __atomic_load_n(&d->st.failed_peers, __ATOMIC_RELAXED);
}

uint64_t dsm_local_errors(struct dsm *d)
{
	return __atomic_load_n(&d->local_errors, __ATOMIC_RELAXED);
}

int dsm_send_app(struct dsm *d, unsigned peer, const void *data, unsigned len)
{
	int ret;

	if (peer >= d->cfg.nnodes || peer == d->cfg.node || !len || len > DSM_APP_MAX)
		return -EINVAL;
	ret = engine_send(d, peer, DSM_MSG_APP, 0, 0, data, len);
	if (!ret)
		stat_add(&d->st.app_sent, 1);
	return ret;
}

int dsm_echo(struct dsm *d, unsigned peer, unsigned len, unsigned reply_len, uint64_t *ns)
{
	struct timespec dl;
	uint64_t t0;
	int ret = 0;

	if (peer >= d->cfg.nnodes || peer == d->cfg.node || (len && len != DSM_PAGE_SIZE) ||
	    (reply_len && reply_len != DSM_PAGE_SIZE))
		return -EINVAL;
	pthread_mutex_lock(&d->echo_lock);
	pthread_mutex_lock(&d->lock);
	d->echo_done = false;
	pthread_mutex_unlock(&d->lock);

	t0 = dsm_now_ns();
	ret = engine_send(d, peer, DSM_MSG_ECHO, reply_len ? DSM_MF_ECHO_PAGE : 0, 0,
			  len ? d->echo_page : NULL, len);
	if (ret)
		goto out;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 5;
	pthread_mutex_lock(&d->lock);
	while (!d->echo_done && !d->peer[peer].failed && !ret)
		if (pthread_cond_timedwait(&d->cond, &d->lock, &dl) == ETIMEDOUT)
			ret = -ETIMEDOUT;
	if (!ret && !d->echo_done)
		ret = -ENOTCONN;
	pthread_mutex_unlock(&d->lock);
	*ns = dsm_now_ns() - t0;
out:
	pthread_mutex_unlock(&d->echo_lock);
	return ret;
}
