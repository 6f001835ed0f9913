// SPDX-License-Identifier: GPL-2.0
/*
 * Prometheus text of a node's live statistics (cvmm/stats-file.h). The
 * names and labels are the contract with the agent, cvmmctl and whoever
 * scrapes /metrics: docs/management.md lists them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "cvmm/stats-file.h"

/* The text being built; a write that does not fit marks it full. */
struct out {
	char *buf;
	size_t len, used;
	bool full;
	char labels[160]; /* vc="...",node="I" */
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->used)
		o->full = true;
	else
		o->used += (size_t)n;
}

/* A label value: backslash, double quote and newline escaped. */
static void escape(const char *in, char *out, size_t len)
{
	size_t j = 0;

	for (; *in && j + 3 < len; in++) {
		if (*in == '\\' || *in == '"' || *in == '\n')
			out[j++] = '\\';
		out[j++] = *in == '\n' ? 'n' : *in;
	}
	out[j] = '\0';
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{vc,node[,key="value"]} v */
static void sample(struct out *o, const char *name, const char *key, const char *value, uint64_t v)
{
	if (key)
		put(o, "%s{%s,%s=\"%s\"} %llu\n", name, o->labels, key, value,
		    (unsigned long long)v);
	else
		put(o, "%s{%s} %llu\n", name, o->labels, (unsigned long long)v);
}

static const char *const fault_kind[DSM_STAT_FAULT_KINDS] = {
	[DSM_STAT_READ] = "read",
	[DSM_STAT_WRITE] = "write",
	[DSM_STAT_UPGRADE] = "upgrade",
};

/*
 * Bucket b of dsm_stats.lat_hist counts faults resolved in [2^(b-1), 2^b) us
 * (b = 0: under 1 us), the last one everything slower. Prometheus buckets
 * are cumulative with an inclusive bound: le=2^b us for every bucket but the
 * last, which only +Inf covers. The engine keeps no sum of latencies, so the
 * histogram has _count but no _sum.
 */
static void latency(struct out *o, const struct dsm_stats *st)
{
	const char *name = "cvmm_dsm_fault_latency_seconds";

	family(o, name, "histogram",
	       "Time from a fault read by the DSM thread to the page mapped, by kind.");
	for (unsigned int k = 0; k < DSM_STAT_FAULT_KINDS; k++) {
		uint64_t cum = 0;

		if (!fault_kind[k])
			continue;
		for (unsigned int b = 0; b < DSM_LAT_BUCKETS; b++) {
			cum += st->lat_hist[k][b];
			if (b + 1 < DSM_LAT_BUCKETS)
				put(o, "%s_bucket{%s,kind=\"%s\",le=\"%.9g\"} %llu\n", name,
				    o->labels, fault_kind[k], (double)(1ull << b) * 1e-6,
				    (unsigned long long)cum);
		}
		put(o, "%s_bucket{%s,kind=\"%s\",le=\"+Inf\"} %llu\n", name, o->labels,
		    fault_kind[k], (unsigned long long)cum);
		put(o, "%s_count{%s,kind=\"%s\"} %llu\n", name, o->labels, fault_kind[k],
		    (unsigned long long)cum);
	}
}

static void dsm_figures(struct out *o, const struct stats_sample *s)
{
	const struct dsm_stats *st = &s->dsm;

	family(o, "cvmm_dsm_faults_total", "counter", "DSM page faults by kind.");
	for (unsigned int k = 0; k < DSM_STAT_FAULT_KINDS; k++)
		if (fault_kind[k])
			sample(o, "cvmm_dsm_faults_total", "kind", fault_kind[k], st->faults[k]);
	family(o, "cvmm_dsm_remote_fetches_total", "counter",
	       "Pages fetched from other nodes to resolve a local fault.");
	sample(o, "cvmm_dsm_remote_fetches_total", NULL, NULL, st->remote_fetches);
	family(o, "cvmm_dsm_pages_total", "counter", "Pages moved, by direction.");
	sample(o, "cvmm_dsm_pages_total", "direction", "in", st->pages_received);
	sample(o, "cvmm_dsm_pages_total", "direction", "out", st->pages_sent);
	family(o, "cvmm_dsm_invalidations_total", "counter", "Invalidations, by direction.");
	sample(o, "cvmm_dsm_invalidations_total", "direction", "sent", st->inv_sent);
	sample(o, "cvmm_dsm_invalidations_total", "direction", "received", st->inv_received);
	family(o, "cvmm_dsm_bytes_total", "counter", "Bytes moved by the DSM, by direction.");
	sample(o, "cvmm_dsm_bytes_total", "direction", "in", st->bytes_received);
	sample(o, "cvmm_dsm_bytes_total", "direction", "out", st->bytes_sent);
	family(o, "cvmm_dsm_pages_owned", "gauge",
	       "Pages whose authoritative copy is this node's (MODIFIED, or SHARED at home).");
	sample(o, "cvmm_dsm_pages_owned", NULL, NULL, s->pages_owned);
	family(o, "cvmm_dsm_pages_homed", "gauge", "Pages whose home is this node.");
	sample(o, "cvmm_dsm_pages_homed", NULL, NULL, s->pages_homed);
	latency(o, st);
	family(o, "cvmm_dsm_hot_page_faults", "gauge",
	       "Faults on the pages this node faulted on most since the previous sample"
	       " (about a second), by guest-physical page address.");
	for (unsigned int i = 0; i < s->nhot && i < STATS_MAX_HOT; i++) {
		char page[24];

		snprintf(page, sizeof(page), "0x%llx",
			 (unsigned long long)s->hot[i].page * DSM_PAGE_SIZE);
		sample(o, "cvmm_dsm_hot_page_faults", "page", page, s->hot[i].faults);
	}
}

int stats_format(const struct stats_sample *s, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = len };
	char vc[96], v[16];

	if (!len)
		return -ENOSPC;
	buf[0] = '\0';
	escape(s->vc ? s->vc : "", vc, sizeof(vc));
	snprintf(o.labels, sizeof(o.labels), "vc=\"%s\",node=\"%u\"", vc, s->node);
	if (s->have_dsm)
		dsm_figures(&o, s);
	if (s->nvcpus) {
		family(&o, "cvmm_vcpu_node", "gauge", "The node each vCPU of this node runs on.");
		for (unsigned int i = 0; i < s->nvcpus && i < STATS_MAX_VCPUS; i++) {
			snprintf(v, sizeof(v), "%u", s->vcpu[i].vcpu);
			sample(&o, "cvmm_vcpu_node", "vcpu", v, s->vcpu[i].node);
		}
	}
	if (s->have_calls) {
		family(&o, "cvmm_hypercalls_total", "counter", "Hypercalls of the guest, by call.");
		for (unsigned int i = 0; i < s->ncalls && i < STATS_MAX_CALLS; i++)
			sample(&o, "cvmm_hypercalls_total", "call", s->call[i].name,
			       s->call[i].count);
	}
	if (o.full) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	return (int)o.used;
}
