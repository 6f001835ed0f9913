// SPDX-License-Identifier: GPL-2.0
/* The live statistics file of cvmm node: the Prometheus text of a sample. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cvmm/stats-file.h"

static char buf[65536];

/* Whether text has exactly this line. */
static bool has_line(const char *text, const char *line)
{
	size_t len = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[len] == '\n')
			return true;
	return false;
}

static unsigned int count(const char *text, const char *what)
{
	unsigned int n = 0;

	for (const char *p = text; (p = strstr(p, what)); p++)
		n++;
	return n;
}

static void a_node(struct stats_sample *s)
{
	memset(s, 0, sizeof(*s));
	s->vc = "demo";
	s->node = 1;
	s->have_dsm = true;
	s->dsm.faults[DSM_STAT_SPURIOUS] = 99;
	s->dsm.faults[DSM_STAT_READ] = 10;
	s->dsm.faults[DSM_STAT_WRITE] = 20;
	s->dsm.faults[DSM_STAT_UPGRADE] = 30;
	s->dsm.remote_fetches = 25;
	s->dsm.pages_received = 26;
	s->dsm.pages_sent = 7;
	s->dsm.inv_sent = 3;
	s->dsm.inv_received = 4;
	s->dsm.bytes_received = 26 * 4096;
	s->dsm.bytes_sent = 7 * 4096 + 100;
	s->pages_owned = 1500;
	s->pages_homed = 131072;
	s->nvcpus = 2;
	s->vcpu[0].vcpu = 2;
	s->vcpu[0].node = 1;
	s->vcpu[1].vcpu = 3;
	s->vcpu[1].node = 1;
	s->have_calls = true;
	s->ncalls = 2;
	s->call[0].name = "send_ipi";
	s->call[0].count = 41;
	s->call[1].name = "cpu_start";
	s->call[1].count = 1;
	s->nhot = 2;
	s->hot[0] = (struct dsm_hot_page){ .page = 0x36e84, .faults = 97 };
	s->hot[1] = (struct dsm_hot_page){ .page = 0x12a5, .faults = 3 };
}

static void every_figure_labelled(void **state)
{
	struct stats_sample s;
	int len;

	a_node(&s);
	len = stats_format(&s, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(strlen(buf), len);
	assert_true(
		has_line(buf, "cvmm_dsm_faults_total{vc=\"demo\",node=\"1\",kind=\"read\"} 10"));
	assert_true(
		has_line(buf, "cvmm_dsm_faults_total{vc=\"demo\",node=\"1\",kind=\"write\"} 20"));
	assert_true(
		has_line(buf, "cvmm_dsm_faults_total{vc=\"demo\",node=\"1\",kind=\"upgrade\"} 30"));
	/* Spurious faults cost nothing remote: not a kind the contract names. */
	assert_int_equal(count(buf, "99"), 0);
	assert_true(has_line(buf, "cvmm_dsm_remote_fetches_total{vc=\"demo\",node=\"1\"} 25"));
	assert_true(
		has_line(buf, "cvmm_dsm_pages_total{vc=\"demo\",node=\"1\",direction=\"in\"} 26"));
	assert_true(
		has_line(buf, "cvmm_dsm_pages_total{vc=\"demo\",node=\"1\",direction=\"out\"} 7"));
	assert_true(has_line(
		buf, "cvmm_dsm_invalidations_total{vc=\"demo\",node=\"1\",direction=\"sent\"} 3"));
	assert_true(has_line(
		buf,
		"cvmm_dsm_invalidations_total{vc=\"demo\",node=\"1\",direction=\"received\"} 4"));
	assert_true(has_line(
		buf, "cvmm_dsm_bytes_total{vc=\"demo\",node=\"1\",direction=\"out\"} 28772"));
	assert_true(has_line(buf, "cvmm_dsm_pages_owned{vc=\"demo\",node=\"1\"} 1500"));
	assert_true(has_line(buf, "cvmm_dsm_pages_homed{vc=\"demo\",node=\"1\"} 131072"));
	assert_true(has_line(buf, "cvmm_vcpu_node{vc=\"demo\",node=\"1\",vcpu=\"2\"} 1"));
	assert_true(has_line(buf, "cvmm_vcpu_node{vc=\"demo\",node=\"1\",vcpu=\"3\"} 1"));
	assert_true(has_line(buf,
			     "cvmm_hypercalls_total{vc=\"demo\",node=\"1\",call=\"send_ipi\"} 41"));
	assert_true(has_line(buf,
			     "cvmm_hypercalls_total{vc=\"demo\",node=\"1\",call=\"cpu_start\"} 1"));
	assert_true(has_line(
		buf, "cvmm_dsm_hot_page_faults{vc=\"demo\",node=\"1\",page=\"0x36e84000\"} 97"));
	assert_true(has_line(
		buf, "cvmm_dsm_hot_page_faults{vc=\"demo\",node=\"1\",page=\"0x12a5000\"} 3"));
	assert_int_equal(count(buf, "cvmm_dsm_hot_page_faults{"), 2);
}

/* Every line is a cvmm_* sample or its HELP/TYPE: what the agent passes through. */
static void only_cvmm_lines(void **state)
{
	struct stats_sample s;
	unsigned int types = 0;

	a_node(&s);
	assert_true(stats_format(&s, buf, sizeof(buf)) > 0);
	for (char *l = buf; *l;) {
		size_t len = strcspn(l, "\n");

		assert_true(!strncmp(l, "cvmm_", 5) || !strncmp(l, "# HELP cvmm_", 12) ||
			    !strncmp(l, "# TYPE cvmm_", 12));
		types += !strncmp(l, "# TYPE ", 7);
		assert_int_equal(l[len], '\n');
		l += len + 1;
	}
	/* faults, fetches, pages, invalidations, bytes, owned, homed, latency, hot, vcpu, calls */
	assert_int_equal(types, 11);
	assert_true(has_line(buf, "# TYPE cvmm_dsm_pages_owned gauge"));
	assert_true(has_line(buf, "# TYPE cvmm_dsm_faults_total counter"));
	assert_true(has_line(buf, "# TYPE cvmm_dsm_fault_latency_seconds histogram"));
}

/* Buckets are cumulative, bounded by 2^b us, the last one only by +Inf. */
static void latency_histogram(void **state)
{
	struct stats_sample s;

	a_node(&s);
	s.dsm.lat_hist[DSM_STAT_READ][0] = 1;  /* < 1 us */
	s.dsm.lat_hist[DSM_STAT_READ][12] = 5; /* [2048, 4096) us: a remote fault */
	s.dsm.lat_hist[DSM_STAT_READ][DSM_LAT_BUCKETS - 1] = 2; /* slower than 2^22 us */
	s.dsm.lat_hist[DSM_STAT_UPGRADE][3] = 4;
	assert_true(stats_format(&s, buf, sizeof(buf)) > 0);
	assert_true(has_line(buf, "cvmm_dsm_fault_latency_seconds_bucket{vc=\"demo\",node=\"1\","
				  "kind=\"read\",le=\"1e-06\"} 1"));
	assert_true(has_line(buf, "cvmm_dsm_fault_latency_seconds_bucket{vc=\"demo\",node=\"1\","
				  "kind=\"read\",le=\"0.002048\"} 1"));
	assert_true(has_line(buf, "cvmm_dsm_fault_latency_seconds_bucket{vc=\"demo\",node=\"1\","
				  "kind=\"read\",le=\"0.004096\"} 6"));
	assert_true(has_line(buf, "cvmm_dsm_fault_latency_seconds_bucket{vc=\"demo\",node=\"1\","
				  "kind=\"read\",le=\"4.194304\"} 6"));
	assert_true(has_line(buf, "cvmm_dsm_fault_latency_seconds_bucket{vc=\"demo\",node=\"1\","
				  "kind=\"read\",le=\"+Inf\"} 8"));
	assert_true(has_line(
		buf,
		"cvmm_dsm_fault_latency_seconds_count{vc=\"demo\",node=\"1\",kind=\"read\"} 8"));
	assert_true(has_line(buf, "cvmm_dsm_fault_latency_seconds_bucket{vc=\"demo\",node=\"1\","
				  "kind=\"upgrade\",le=\"8e-06\"} 4"));
	assert_true(has_line(
		buf,
		"cvmm_dsm_fault_latency_seconds_count{vc=\"demo\",node=\"1\",kind=\"write\"} 0"));
	/* 23 bounded buckets and +Inf per kind. */
	assert_int_equal(count(buf, "_bucket{"), 3 * DSM_LAT_BUCKETS);
	assert_int_equal(count(buf, "8.388608"), 0);
}

/* Before the DSM joins, and on a node without vCPUs, only what exists is written. */
static void what_the_node_has(void **state)
{
	struct stats_sample s = { .vc = "m", .node = 0 };
	int len;

	len = stats_format(&s, buf, sizeof(buf));
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");

	s.have_dsm = true;
	s.pages_homed = 4;
	s.pages_owned = 4;
	assert_true(stats_format(&s, buf, sizeof(buf)) > 0);
	assert_true(has_line(buf, "cvmm_dsm_pages_homed{vc=\"m\",node=\"0\"} 4"));
	assert_int_equal(count(buf, "cvmm_vcpu_node"), 0);
	assert_int_equal(count(buf, "cvmm_hypercalls_total"), 0);
}

static void label_escaped(void **state)
{
	struct stats_sample s = { .vc = "a\"b\\c\nd", .node = 3, .have_dsm = true };

	assert_true(stats_format(&s, buf, sizeof(buf)) > 0);
	assert_true(has_line(buf, "cvmm_dsm_pages_owned{vc=\"a\\\"b\\\\c\\nd\",node=\"3\"} 0"));
}

/* A buffer too small is refused whole, never cut in the middle of a line. */
static void too_small(void **state)
{
	struct stats_sample s;
	char small[512];
	int len;

	a_node(&s);
	len = stats_format(&s, buf, sizeof(buf));
	assert_int_equal(stats_format(&s, small, sizeof(small)), -ENOSPC);
	assert_string_equal(small, "");
	assert_int_equal(stats_format(&s, buf, (size_t)len), -ENOSPC);
	assert_int_equal(stats_format(&s, buf, (size_t)len + 1), len);
	assert_int_equal(stats_format(&s, buf, 0), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_figure_labelled), cmocka_unit_test(only_cvmm_lines),
		cmocka_unit_test(latency_histogram),	 cmocka_unit_test(what_the_node_has),
		cmocka_unit_test(label_escaped),	 cmocka_unit_test(too_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
