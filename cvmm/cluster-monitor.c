// SPDX-License-Identifier: GPL-2.0
/*
 * The monitor commands of one node of a virtual computer (cvmm node
 * --monitor; docs/man/cvmm-node.md), next to cvmm/monitor.c's own:
 *
 *   placement          -> "vcpu I node N" per vCPU, then "ok"
 *   vcpu-move V NODE   -> "ok vcpu V node NODE downtime_us D restore_us R"
 *   rtt NODE [COUNT]   -> "ok rtt_us min=A median=B max=C count=N": DSM
 *                         round trips to NODE (an empty message and its
 *                         answer), the unit of the move's downtime
 *   checksum           -> "ok checksum HEX pages N paused_ms P": every vCPU
 *                         paused, the checksum of all guest memory
 *                         (dsm_checksum), every vCPU resumed (under this
 *                         node's `pause`: paused already, and kept so)
 *   pause              -> "ok paused_ms P": every vCPU of every node paused,
 *                         and kept so until `resume` here; meanwhile a
 *                         checksum or a leave on any node waits for it
 *   resume             -> "ok": undoes this node's `pause`
 *   rehome NODE [verify] -> "progress pages D/T R/s" lines, then "ok rehomed
 *                         to nodeN pages P pushed X zero Z rehome_ms H
 *                         paused_ms Q [checksum S/N before S/N after]": NODE,
 *                         which joined, homes its NUMA node's memory now
 *                         (run on the node that homed it meanwhile)
 *   leave NODE [verify] -> "progress pages D/T R/s" lines, then "ok left to
 *                         nodeN vcpus V pages P pushed X zero Z handover_ms H
 *                         paused_ms Q max_move_us M [checksum S/N before S/N
 *                         after]";
 *                         this node then stops (status 0)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmm/cluster-priv.h"
#include "cvmm/lib/clock.h"
#include "cvmm/lib/fdio.h"
#include "cvmm/lib/parse.h"
#include "dsm/dsm.h"

#define RTT_MAX 1000

static void placement(struct cluster *c, char *out, size_t len)
{
	size_t n = 0;

	for (unsigned int i = 0; i < c->cfg.ncpus && n < len; i++)
		n += (size_t)snprintf(out + n, len - n, "vcpu %u node %u\n", i,
				      cluster__vcpu_node(c, i));
	if (n < len)
		snprintf(out + n, len - n, "ok\n");
}

static void move(struct cluster *c, unsigned long vcpu, unsigned long to, char *out, size_t len)
{
	uint64_t downtime = 0;
	unsigned int at;
	int ret;

	if (vcpu >= c->cfg.ncpus || to >= c->cfg.nnodes) {
		snprintf(out, len, "error no vCPU %lu or no node%lu (vCPUs 0-%u, nodes 0-%u)\n",
			 vcpu, to, c->cfg.ncpus - 1, c->cfg.nnodes - 1);
		return;
	}
	at = cluster__vcpu_node(c, (unsigned int)vcpu);
	if (at != c->cfg.node) {
		snprintf(out, len, "error vCPU %lu runs on node%u, not here: ask node%u\n", vcpu,
			 at, at);
		return;
	}
	if (to == c->cfg.node) {
		snprintf(out, len, "error vCPU %lu already runs here, on node%lu\n", vcpu, to);
		return;
	}
	ret = cluster__move_vcpu(c, (unsigned int)vcpu, (unsigned int)to, &downtime);
	if (ret == -EHOSTUNREACH)
		snprintf(out, len, "error node%lu has no VM to run a vCPU\n", to);
	else if (ret == -EBUSY)
		snprintf(out, len, "error another vCPU move from this node is under way\n");
	else if (ret == -EAGAIN)
		snprintf(out, len,
			 "error the guest is paused (a hand-over, a checksum or a "
			 "monitor's pause): try again\n");
	else if (ret)
		snprintf(out, len, "error %s\n", strerror(-ret));
	else
		snprintf(out, len, "ok vcpu %lu node %lu downtime_us %llu restore_us %u\n", vcpu,
			 to, (unsigned long long)downtime / 1000, c->departures[vcpu].restore_us);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void rtt(struct cluster *c, unsigned long to, unsigned long count, char *out, size_t len)
{
	uint64_t *ns;
	int ret = 0;

	if (to >= c->cfg.nnodes || to == c->cfg.node || !c->dsm) {
		snprintf(out, len, "error no peer node%lu\n", to);
		return;
	}
	ns = calloc(count, sizeof(*ns));
	if (!ns) {
		snprintf(out, len, "error %s\n", strerror(ENOMEM));
		return;
	}
	for (unsigned long i = 0; i < count && !ret; i++)
		ret = dsm_echo(c->dsm, (unsigned int)to, 0, 0, &ns[i]);
	if (ret) {
		snprintf(out, len, "error round trip to node%lu: %s\n", to, strerror(-ret));
	} else {
		qsort(ns, count, sizeof(*ns), cmp_u64);
		snprintf(out, len, "ok rtt_us min=%.1f median=%.1f max=%.1f count=%lu\n",
			 ns[0] / 1e3, ns[count / 2] / 1e3, ns[count - 1] / 1e3, count);
	}
	free(ns);
}

/* The error line of a failed cluster__pause_all(). */
static void pause_error(int ret, char *out, size_t len)
{
	if (ret == -EBUSY)
		snprintf(out, len,
			 "error another pause (a hand-over, a checksum or a monitor's "
			 "pause) still holds the guest\n");
	else
		snprintf(out, len, "error pausing every vCPU: %s\n", strerror(-ret));
}

/* Under this node's own `pause`, the guest is paused already. */
static void checksum(struct cluster *c, char *out, size_t len)
{
	uint64_t t0 = clock_now_ns(), sum = 0, pages = 0;
	int ret = c->monitor_paused ? 0 : cluster__pause_all(c, 15000);

	if (ret) {
		pause_error(ret, out, len);
		return;
	}
	ret = dsm_quiesce(c->dsm, 30000);
	if (!ret)
		ret = dsm_checksum(c->dsm, &sum, &pages);
	if (!c->monitor_paused)
		cluster__resume_all(c);
	if (ret)
		snprintf(out, len, "error checksum: %s\n", strerror(-ret));
	else
		snprintf(out, len, "ok checksum %016llx pages %llu paused_ms %llu\n",
			 (unsigned long long)sum, (unsigned long long)pages,
			 (unsigned long long)(clock_now_ns() - t0) / 1000000);
}

/* Held from `pause` to `resume`: nothing else of this node's uses it. */
static void pause_cmd(struct cluster *c, char *out, size_t len)
{
	uint64_t t0 = clock_now_ns();
	int ret;

	if (c->monitor_paused) {
		snprintf(out, len, "error already paused from this node\n");
		return;
	}
	ret = cluster__pause_all(c, 15000);
	if (ret)
		pause_error(ret, out, len);
	else
		snprintf(out, len, "ok paused_ms %llu\n",
			 (unsigned long long)(clock_now_ns() - t0) / 1000000);
	c->monitor_paused = !ret;
}

static void resume_cmd(struct cluster *c, char *out, size_t len)
{
	if (!c->monitor_paused) {
		snprintf(out, len, "error not paused from this node\n");
		return;
	}
	cluster__resume_all(c);
	c->monitor_paused = false;
	snprintf(out, len, "ok\n");
}

struct progress_out {
	int fd;
	uint64_t t0;
};

static void progress_line(void *arg, uint64_t done, uint64_t total)
{
	struct progress_out *p = arg;
	double s = (clock_now_ns() - p->t0) / 1e9;
	char line[128];
	int n;

	if (p->fd < 0)
		return;
	n = snprintf(line, sizeof(line), "progress pages %llu/%llu %.0f/s\n",
		     (unsigned long long)done, (unsigned long long)total, s > 0 ? done / s : 0.0);
	(void)!write_full(p->fd, line, (size_t)n);
}

/* The checksums (or why the one after failed) after the answer in out, and its newline. */
static void add_sums(char *out, size_t len, const struct cluster_step_stats *st)
{
	size_t n = strlen(out);

	if (st->verify && st->after_err && n < len) /* not cvmmctl's " checksum " */
		snprintf(out + n, len - n, " checksum-failed-after %s (before %016llx/%llu)",
			 strerror(-st->after_err), (unsigned long long)st->sum_before,
			 (unsigned long long)st->pages_before);
	else if (st->verify && n < len)
		snprintf(out + n, len - n, " checksum %016llx/%llu before %016llx/%llu after",
			 (unsigned long long)st->sum_before, (unsigned long long)st->pages_before,
			 (unsigned long long)st->sum_after, (unsigned long long)st->pages_after);
	if (strlen(out) + 1 < len)
		strcat(out, "\n");
}

static void leave(struct cluster *c, unsigned long to, bool verify, char *out, size_t len,
		  int client)
{
	struct progress_out p = { .fd = client, .t0 = clock_now_ns() };
	struct cluster_leave_stats st = { .step.verify = verify };
	int ret;

	if (to >= c->cfg.nnodes || to == c->cfg.node) {
		snprintf(out, len, "error no other node%lu to leave to\n", to);
		return;
	}
	if (c->monitor_paused) {
		snprintf(out, len, "error paused from this node: resume first\n");
		return;
	}
	ret = cluster__leave(c, (unsigned int)to, progress_line, &p, &st);
	if (ret == -EPERM)
		snprintf(out, len, "error node%u hosts the devices and cannot leave\n",
			 c->cfg.node);
	else if (ret == -EHOSTUNREACH)
		snprintf(out, len, "error node%lu has no VM to take the vCPUs\n", to);
	else if (ret)
		snprintf(out, len, "error leaving: %s\n", strerror(-ret));
	if (ret)
		return;
	snprintf(out, len,
		 "ok left to node%lu vcpus %u pages %llu pushed %llu zero %llu handover_ms %llu "
		 "paused_ms %llu max_move_us %llu",
		 to, st.vcpus, (unsigned long long)st.pages, (unsigned long long)st.pushed,
		 (unsigned long long)st.zero, (unsigned long long)st.step.step_ns / 1000000,
		 (unsigned long long)st.step.paused_ns / 1000000,
		 (unsigned long long)st.max_move_ns / 1000);
	add_sums(out, len, &st.step);
}

static void rehome(struct cluster *c, unsigned long to, bool verify, char *out, size_t len,
		   int client)
{
	struct progress_out p = { .fd = client, .t0 = clock_now_ns() };
	struct cluster_rehome_stats st = { .step.verify = verify };
	int ret;

	if (to >= c->cfg.nnodes || to == c->cfg.node) {
		snprintf(out, len, "error no other node%lu to give homes to\n", to);
		return;
	}
	if (c->monitor_paused) {
		snprintf(out, len, "error paused from this node: resume first\n");
		return;
	}
	ret = cluster__rehome(c, (unsigned int)to, progress_line, &p, &st);
	if (ret == -ENOTCONN)
		snprintf(out, len, "error node%lu has not joined the virtual computer\n", to);
	else if (ret == -EBUSY)
		pause_error(ret, out, len);
	else if (ret)
		snprintf(out, len, "error giving node%lu its homes: %s\n", to, strerror(-ret));
	if (ret)
		return;
	snprintf(out, len,
		 "ok rehomed to node%lu pages %llu pushed %llu zero %llu rehome_ms %llu "
		 "paused_ms %llu",
		 to, (unsigned long long)st.pages, (unsigned long long)st.pushed,
		 (unsigned long long)st.zero, (unsigned long long)st.step.step_ns / 1000000,
		 (unsigned long long)st.step.paused_ns / 1000000);
	add_sums(out, len, &st.step);
}

bool cluster_command(struct vm *vm, const char *line, char *out, size_t len, int client)
{
	static const char *const names[] = { "placement", "vcpu-move", "rtt",	 "checksum",
					     "pause",	  "resume",    "rehome", "leave" };
	struct cluster *c = vm->cluster_priv;
	char cmd[32] = "", a1[32] = "", a2[32] = "";
	int fields = sscanf(line, "%31s %31s %31s", cmd, a1, a2);
	unsigned long x = 0, y = 10;
	bool known = false;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		known |= !strcmp(cmd, names[i]);
	if (!known)
		return false;
	if ((fields >= 2 && parse_uint(a1, 0, 255, &x)) ||
	    (fields == 3 && strcmp(cmd, "leave") && strcmp(cmd, "rehome") &&
	     parse_uint(a2, !strcmp(cmd, "rtt"), strcmp(cmd, "rtt") ? 255 : RTT_MAX, &y))) {
		snprintf(out, len, "error bad number in '%s'\n", line);
		return true;
	}
	if (!strcmp(cmd, "placement") && fields == 1)
		placement(c, out, len);
	else if (!strcmp(cmd, "vcpu-move") && fields == 3)
		move(c, x, y, out, len);
	else if (!strcmp(cmd, "rtt") && fields >= 2)
		rtt(c, x, y, out, len);
	else if (!strcmp(cmd, "checksum") && fields == 1)
		checksum(c, out, len);
	else if (!strcmp(cmd, "pause") && fields == 1)
		pause_cmd(c, out, len);
	else if (!strcmp(cmd, "resume") && fields == 1)
		resume_cmd(c, out, len);
	else if (!strcmp(cmd, "rehome") && fields >= 2 && (fields == 2 || !strcmp(a2, "verify")))
		rehome(c, x, fields == 3, out, len, client);
	else if (!strcmp(cmd, "leave") && fields >= 2 && (fields == 2 || !strcmp(a2, "verify")))
		leave(c, x, fields == 3, out, len, client);
	else
		snprintf(
			out, len,
			"error usage: placement | vcpu-move VCPU NODE | rtt NODE [COUNT] | "
			"checksum | pause | resume | rehome NODE [verify] | leave NODE [verify]\n");
	return true;
}
