// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "mgmt/agent/metrics.h"

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with backslash, double quote and newline escaped. */
static void label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* `{vc="NAME",node="I"` without the closing brace, for more labels to follow. */
static void vc_labels(FILE *f, const struct vcpart *p)
{
	fputs("{vc=\"", f);
	label_value(f, p->vc);
	fprintf(f, "\",node=\"%u\"", p->node);
}

static void inventory_metrics(FILE *f, const struct inventory *inv)
{
	unsigned int rdma = 0;

	family(f, "cvmm_node_info", "gauge", "Constant 1, labelled with the node's names.");
	fputs("cvmm_node_info{hostname=\"", f);
	label_value(f, inv->hostname);
	fputs("\",addr=\"", f);
	label_value(f, inv->addr);
	fputs("\"} 1\n", f);
	family(f, "cvmm_node_cpus", "gauge", "Online CPUs.");
	fprintf(f, "cvmm_node_cpus %ld\n", inv->cpus);
	family(f, "cvmm_node_memory_bytes", "gauge", "Total memory.");
	fprintf(f, "cvmm_node_memory_bytes %llu\n", inv->mem_mib << 20);
	family(f, "cvmm_node_kvm", "gauge", "1 if /dev/kvm is usable.");
	fprintf(f, "cvmm_node_kvm %d\n", inv->kvm);
	family(f, "cvmm_node_kvm_hardware", "gauge",
	       "1 if KVM is hardware-backed (the CPU has VMX or SVM).");
	fprintf(f, "cvmm_node_kvm_hardware %d\n", inv->kvm_hw);
	if (strcmp(inv->rdma, "none"))
		for (const char *c = inv->rdma; c; c = strchr(c + 1, ','))
			rdma++;
	family(f, "cvmm_node_rdma_devices", "gauge", "RDMA devices.");
	fprintf(f, "cvmm_node_rdma_devices %u\n", rdma);
}

static void part_metrics(FILE *f, const struct vcpart *p)
{
	family(f, "cvmm_vc_member", "gauge", "1 if this node belongs to a VC.");
	fprintf(f, "cvmm_vc_member %d\n", p->state != VCPART_IDLE);
	if (p->state == VCPART_IDLE)
		return;
	family(f, "cvmm_vc_part_running", "gauge", "1 while this node's cvmm node process runs.");
	fputs("cvmm_vc_part_running", f);
	vc_labels(f, p);
	fprintf(f, "} %d\n", p->state == VCPART_RUNNING);
	family(f, "cvmm_vc_part_start_time_seconds", "gauge", "When the process started.");
	fputs("cvmm_vc_part_start_time_seconds", f);
	vc_labels(f, p);
	fprintf(f, "} %lld\n", (long long)p->started);
	if (p->state == VCPART_EXITED) {
		family(f, "cvmm_vc_part_exit_status", "gauge",
		       "Exit status of the ended process (128+N: signal N).");
		fputs("cvmm_vc_part_exit_status", f);
		vc_labels(f, p);
		fprintf(f, "} %d\n", vcpart_exit_code(p));
	}
}

static void counter(FILE *f, const struct vcpart *p, const char *name, const char *label,
		    const char *value, unsigned long long v)
{
	fputs(name, f);
	vc_labels(f, p);
	if (label)
		fprintf(f, ",%s=\"%s\"", label, value);
	fprintf(f, "} %llu\n", v);
}

/* The counters of the node's last stats line (printed when it leaves the DSM). */
static void final_stats(FILE *f, const struct vcpart *p, const struct nodelog *log)
{
	struct node_stats st;

	if (!log || !log->nstats || nodelog_parse_stats(log->stats[log->nstats - 1], &st))
		return;
	family(f, "cvmm_dsm_faults_total", "counter", "DSM page faults by kind.");
	counter(f, p, "cvmm_dsm_faults_total", "kind", "read", st.faults_read);
	counter(f, p, "cvmm_dsm_faults_total", "kind", "write", st.faults_write);
	counter(f, p, "cvmm_dsm_faults_total", "kind", "upgrade", st.faults_upgrade);
	family(f, "cvmm_dsm_remote_fetches_total", "counter", "Pages fetched from other nodes.");
	counter(f, p, "cvmm_dsm_remote_fetches_total", NULL, NULL, st.remote_fetches);
	family(f, "cvmm_dsm_pages_total", "counter", "Pages moved, by direction.");
	counter(f, p, "cvmm_dsm_pages_total", "direction", "in", st.pages_in);
	counter(f, p, "cvmm_dsm_pages_total", "direction", "out", st.pages_out);
	family(f, "cvmm_dsm_invalidations_total", "counter", "Invalidations, by direction.");
	counter(f, p, "cvmm_dsm_invalidations_total", "direction", "sent", st.inv_sent);
	counter(f, p, "cvmm_dsm_invalidations_total", "direction", "received", st.inv_received);
	family(f, "cvmm_dsm_bytes_total", "counter", "Bytes moved by the DSM, by direction.");
	counter(f, p, "cvmm_dsm_bytes_total", "direction", "in", st.bytes_in);
	counter(f, p, "cvmm_dsm_bytes_total", "direction", "out", st.bytes_out);
}

/* A line the node may contribute: a cvmm_* sample, or its HELP or TYPE comment. */
static bool live_line_ok(const char *line, size_t len)
{
	const char *name = line;

	if (!strncmp(line, "# HELP ", 7) || !strncmp(line, "# TYPE ", 7))
		name = line + 7;
	if ((size_t)(name - line) + 5 > len || strncmp(name, "cvmm_", 5))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isprint((unsigned char)line[i]))
			return false;
	return true;
}

static void live_stats(FILE *f, const char *live)
{
	unsigned int dropped = 0;

	while (*live) {
		size_t len = strcspn(live, "\n");

		if (len && live_line_ok(live, len))
			fprintf(f, "%.*s\n", (int)len, live);
		else if (len)
			dropped++;
		live += len + (live[len] == '\n');
	}
	family(f, "cvmm_agent_stats_lines_dropped", "gauge",
	       "Lines of the node's stats file that were not cvmm_* metrics.");
	fprintf(f, "cvmm_agent_stats_lines_dropped %u\n", dropped);
}

void metrics_render(FILE *f, const struct inventory *inv, const struct vcpart *p,
		    const struct nodelog *log, const char *live)
{
	inventory_metrics(f, inv);
	part_metrics(f, p);
	if (p->state == VCPART_IDLE)
		return;
	if (live)
		live_stats(f, live);
	else
		final_stats(f, p, log);
}
