// SPDX-License-Identifier: GPL-2.0
/*
 * Local mode of `cvmm run`: K `cvmm node` processes on this host, one per
 * node of the virtual computer, the DSM between them over TCP on 127.0.0.1.
 *
 * The launcher execs itself (/proc/self/exe node --vc FILE --id I), so the
 * nodes run exactly the code a cluster node runs. The VC is written to a
 * private temporary file that is removed at the end.
 *
 * Threads: one. A single poll() waits on a signalfd (SIGCHLD, SIGINT,
 * SIGTERM) and on one pipe per node other than the I/O node, which carries
 * that node's stdout and stderr to our stderr, each line prefixed "nodeI: ".
 * The I/O node inherits stdin, stdout and stderr: its serial console is ours;
 * with --check, its stdout comes through one more pipe, copied to ours as it
 * is and read by the guest check (guest-check.c).
 * What to do about exits, signals and the timer is decided by sup_step()
 * (supervise.c); this file only carries it out.
 *
 * No orphans: every node gets PR_SET_PDEATHSIG(SIGKILL), so even a launcher
 * killed with SIGKILL takes its nodes with it; on every other path the loop
 * runs until every node has been reaped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cvmm/guest.h"
#include "cvmm/lib/fdio.h"
#include "cvmm/lib/log.h"
#include "cvmm/lib/parse.h"
#include "mgmt/launch/guest-check.h"
#include "mgmt/launch/lines.h"
#include "mgmt/launch/local.h"
#include "mgmt/launch/placement.h"
#include "mgmt/launch/supervise.h"

_Static_assert(VC_NODE_PEER_FAILED == RUN_PEER_FAILED, "cvmm node's peer-failed status");

struct local_node {
	pid_t pid; /* 0 once reaped, or never started */
	int out;   /* read end of its output pipe; -1 for the I/O node, or closed */
	int con;   /* --check, the I/O node: read end of its console (stdout); else -1 */
	struct lines lines;
	char tag[24]; /* "nodeI: " */
};

struct local_run {
	const struct local_opts *opts;
	struct vc vc;
	struct placement place;
	char vc_path[512];
	int sigfd;
	struct sup_state sup;
	struct guest_check check; /* --check */
	double deadline;	  /* of the supervisor's timer; 0: none */
	struct local_node node[VC_MAX_NODES];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Free TCP ports on 127.0.0.1, one per node: all probe sockets are held open
 * together so that the ports differ. Another program could take one between
 * here and the node's bind(); `--port BASE` avoids that race.
 */
static int free_ports(unsigned int n, uint16_t *ports)
{
	int fds[VC_MAX_NODES], ret = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t sl = sizeof(sa);

		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) ||
		    getsockname(fds[i], (struct sockaddr *)&sa, &sl)) {
			ret = -errno;
			if (fds[i] >= 0)
				close(fds[i]);
			break;
		}
		ports[i] = ntohs(sa.sin_port);
	}
	while (i--)
		close(fds[i]);
	return ret;
}

static int build_vc(struct local_run *r)
{
	const char *addrs[VC_MAX_NODES];
	uint16_t ports[VC_MAX_NODES];
	char err[512];
	int ret;

	for (unsigned int i = 0; i < VC_MAX_NODES; i++) {
		addrs[i] = "127.0.0.1";
		ports[i] = (uint16_t)(r->opts->port + i);
	}
	if (!r->opts->port && r->opts->vc.nodes <= VC_MAX_NODES) {
		ret = free_ports(r->opts->vc.nodes, ports);
		if (ret) {
			pr_err("no free TCP port on 127.0.0.1 for the DSM: %s (try --port)",
			       strerror(-ret));
			return ret;
		}
	}
	ret = vc_spec_build(&r->opts->vc, addrs, ports, &r->vc, err, sizeof(err));
	if (!ret)
		ret = vc_spec_check_guest(&r->opts->vc, &r->vc, err, sizeof(err));
	if (ret)
		pr_err("%s", err);
	return ret;
}

/* The child's side of spawn(): never returns. */
static void exec_node(struct local_run *r, unsigned int i, pid_t parent, int out, int con,
		      int host_node)
{
	const struct local_opts *o = r->opts;
	char id[16], timeout[16];
	const char *argv[12];
	sigset_t none;
	int k = 0, ret;

	/* Dies with the launcher, however the launcher dies. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(LOCAL_EXIT_LAUNCH);
	if (host_node >= 0) {
		ret = placement_apply(host_node);
		if (ret)
			pr_warn("node%u: cannot bind to host NUMA node %d: %s", i, host_node,
				strerror(-ret));
	}
	if (out >= 0) {
		int devnull = open("/dev/null", O_RDONLY);

		dup2(devnull, STDIN_FILENO);
		dup2(out, STDOUT_FILENO);
		dup2(out, STDERR_FILENO);
	}
	if (con >= 0)
		dup2(con, STDOUT_FILENO);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	snprintf(id, sizeof(id), "%u", i);
	argv[k++] = "cvmm";
	argv[k++] = "node";
	argv[k++] = "--vc";
	argv[k++] = r->vc_path;
	argv[k++] = "--id";
	argv[k++] = id;
	if (o->timeout) {
		snprintf(timeout, sizeof(timeout), "%u", o->timeout);
		argv[k++] = "--timeout";
		argv[k++] = timeout;
	}
	if (o->stats)
		argv[k++] = "--stats";
	if (o->verbose)
		argv[k++] = "-v";
	argv[k] = NULL;
	execv("/proc/self/exe", (char *const *)argv);
	fprintf(stderr, "cvmm run: node%u: cannot run /proc/self/exe: %s\n", i, strerror(errno));
	_exit(LOCAL_EXIT_LAUNCH);
}

static int spawn(struct local_run *r, unsigned int i)
{
	struct local_node *n = &r->node[i];
	int pipefd[2] = { -1, -1 }, confd[2] = { -1, -1 }, ret;
	pid_t parent = getpid();

	snprintf(n->tag, sizeof(n->tag), "node%u: ", i);
	if (i != r->vc.io_node && pipe2(pipefd, O_CLOEXEC))
		return -errno;
	if (i == r->vc.io_node && r->opts->check && pipe2(confd, O_CLOEXEC))
		return -errno;
	n->pid = fork();
	if (n->pid == 0)
		exec_node(r, i, parent, pipefd[1], confd[1], placement_node_for(&r->place, i));
	ret = n->pid < 0 ? -errno : 0;
	for (int k = 0; k < 2; k++) {
		int *end = k ? confd : pipefd;

		if (end[1] >= 0)
			close(end[1]);
		if (ret && end[0] >= 0)
			close(end[0]);
	}
	if (ret) {
		n->pid = 0;
		return ret;
	}
	n->out = pipefd[0];
	n->con = confd[0];
	return 0;
}

static void carry_out(struct local_run *r, const struct sup_actions *act)
{
	if (act->signal_mask && !r->sup.interrupted) {
		char who[VC_MAX_NODES * 8] = "";

		for (unsigned int i = 0; i < r->vc.nnodes; i++)
			if (act->signal_mask & (1u << i))
				snprintf(who + strlen(who), sizeof(who) - strlen(who), " node%u",
					 i);
		pr_warn("still running after the others ended:%s; sending SIG%s", who,
			sigabbrev_np(act->signo));
	}
	for (unsigned int i = 0; i < r->vc.nnodes; i++)
		if ((act->signal_mask & (1u << i)) && r->node[i].pid > 0)
			kill(r->node[i].pid, act->signo);
	if (act->timer_seconds)
		r->deadline = now() + act->timer_seconds;
	if (r->sup.phase == SUP_DONE)
		r->deadline = 0;
}

static void step(struct local_run *r, const struct sup_event *ev)
{
	struct sup_actions act;

	sup_step(&r->sup, ev, &act);
	carry_out(r, &act);
}

static void reap(struct local_run *r)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (unsigned int i = 0; i < r->vc.nnodes; i++) {
			struct sup_event ev = { .type = SUP_EV_ENDED, .node = i };

			if (r->node[i].pid != pid)
				continue;
			r->node[i].pid = 0;
			ev.signaled = WIFSIGNALED(status);
			ev.status = ev.signaled ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
			pr_debug("node%u ended with status %d", i, ev.status);
			step(r, &ev);
		}
	}
}

static void read_signals(struct local_run *r)
{
	struct signalfd_siginfo si;

	while (read(r->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			reap(r);
			continue;
		}
		pr_info("%s: stopping the nodes%s", strsignal((int)si.ssi_signo),
			r->sup.interrupts ? " now" : "");
		step(r,
		     &(struct sup_event){ .type = SUP_EV_INTERRUPT, .signo = (int)si.ssi_signo });
	}
}

/* Copies what a node wrote; returns false at end of file. */
static bool read_output(struct local_node *n)
{
	char buf[4096];
	ssize_t len = read(n->out, buf, sizeof(buf));

	if (len < 0 && errno == EINTR)
		return true;
	if (len <= 0)
		return false;
	lines_emit(&n->lines, STDERR_FILENO, n->tag, buf, (size_t)len);
	return true;
}

/* --check: copies the I/O node's console to our stdout and shows it to the check. */
static bool read_console(struct local_run *r, struct local_node *n)
{
	char buf[4096];
	ssize_t len = read(n->con, buf, sizeof(buf));

	if (len < 0 && errno == EINTR)
		return true;
	if (len <= 0)
		return false;
	(void)write_full(STDOUT_FILENO, buf, (size_t)len);
	guest_check_feed(&r->check, buf, (size_t)len);
	return true;
}

static bool outputs_open(const struct local_run *r)
{
	for (unsigned int i = 0; i < r->vc.nnodes; i++)
		if (r->node[i].out >= 0 || r->node[i].con >= 0)
			return true;
	return false;
}

/* Until every node is reaped and has nothing more to say. */
static void event_loop(struct local_run *r)
{
	while (r->sup.phase != SUP_DONE || outputs_open(r)) {
		struct pollfd p[1 + 2 * VC_MAX_NODES];
		int timeout = 1000;

		p[0] = (struct pollfd){ .fd = r->sigfd, .events = POLLIN };
		for (unsigned int i = 0; i < r->vc.nnodes; i++) {
			p[1 + 2 * i] = (struct pollfd){ .fd = r->node[i].out, .events = POLLIN };
			p[2 + 2 * i] = (struct pollfd){ .fd = r->node[i].con, .events = POLLIN };
		}
		if (r->deadline) {
			double left = r->deadline - now();

			timeout = left <= 0 ? 0 : left < 1 ? (int)(left * 1000) + 1 : 1000;
		}
		if (poll(p, 1 + 2 * r->vc.nnodes, timeout) < 0 && errno != EINTR) {
			pr_err("poll: %s", strerror(errno));
			break;
		}
		for (unsigned int i = 0; i < r->vc.nnodes; i++) {
			struct local_node *n = &r->node[i];

			if (p[1 + 2 * i].revents && !read_output(n)) {
				lines_flush(&n->lines, STDERR_FILENO, n->tag);
				close(n->out);
				n->out = -1;
			}
			if (p[2 + 2 * i].revents && !read_console(r, n)) {
				close(n->con);
				n->con = -1;
			}
		}
		if (p[0].revents)
			read_signals(r);
		if (r->deadline && now() >= r->deadline) {
			r->deadline = 0;
			step(r, &(struct sup_event){ .type = SUP_EV_TIMER });
		}
	}
}

/* After a failed start: the nodes already running are killed and reaped. */
static void kill_started(struct local_run *r)
{
	for (unsigned int i = 0; i < r->vc.nnodes; i++) {
		struct local_node *n = &r->node[i];

		if (n->pid > 0) {
			kill(n->pid, SIGKILL);
			waitpid(n->pid, NULL, 0);
			n->pid = 0;
		}
		if (n->out >= 0) {
			close(n->out);
			n->out = -1;
		}
		if (n->con >= 0) {
			close(n->con);
			n->con = -1;
		}
	}
}

static int start_nodes(struct local_run *r)
{
	char sz[32];
	int ret;

	pr_info("%u node%s on this host: %u vCPU%s, %s of guest RAM, VC in %s", r->vc.nnodes,
		r->vc.nnodes == 1 ? "" : "s", r->vc.ncpus, r->vc.ncpus == 1 ? "" : "s",
		format_size(r->vc.mem, sz, sizeof(sz)), r->vc_path);
	for (unsigned int i = 0; i < r->vc.nnodes; i++) {
		int h = placement_node_for(&r->place, i);

		if (h >= 0)
			pr_info("node%u: host NUMA node %d", i, h);
		ret = spawn(r, i);
		if (ret) {
			pr_err("node%u: cannot start a process: %s", i, strerror(-ret));
			kill_started(r);
			return ret;
		}
	}
	return 0;
}

/* --check: the guest's status, said in one line (guest-check.h). */
static int check_guest(struct local_run *r, int status)
{
	char msg[600];
	int checked = guest_check_verdict(&r->check, status, msg, sizeof(msg));

	if (!msg[0])
		pr_info("check: skipped: the run failed before the guest could be judged (status "
			"%d)",
			status);
	else if (checked != status || status)
		pr_err("check: %s (status %d)", msg, checked);
	else
		pr_info("check: %s", msg);
	return checked;
}

static int report(struct local_run *r)
{
	struct vc_verdict v;
	char why[160];

	vc_verdict(r->sup.end, r->vc.nnodes, r->vc.io_node, &v);
	if (v.culprit >= 0) {
		vc_verdict_describe(r->sup.end, &v, why, sizeof(why));
		pr_err("%s", why);
	}
	return r->opts->check ? check_guest(r, v.status) : v.status;
}

static int run(struct local_run *r)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char err[600];
	sigset_t sigs;
	int ret, status = LOCAL_EXIT_LAUNCH;

	if (build_vc(r))
		return RUN_BAD_INPUT;
	if (vc_spec_write(&r->vc, tmp, "cvmm-vc", r->vc_path, sizeof(r->vc_path), err,
			  sizeof(err))) {
		pr_err("%s", err);
		return LOCAL_EXIT_LAUNCH;
	}
	placement_plan(&r->place);
	if (!r->place.nhost)
		pr_info("NUMA placement skipped: %s", r->place.why_skipped);

	/* From here on, signals arrive through the loop, never asynchronously. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGCHLD);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	r->sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (r->sigfd < 0) {
		pr_err("signalfd: %s", strerror(errno));
		goto out;
	}
	sup_init(&r->sup, r->vc.nnodes, r->vc.io_node);
	guest_check_init(&r->check, &r->vc);
	ret = start_nodes(r);
	if (!ret) {
		event_loop(r);
		status = report(r);
	}
	close(r->sigfd);
out:
	sigprocmask(SIG_UNBLOCK, &sigs, NULL);
	unlink(r->vc_path);
	return status;
}

int local_run(int argc, char **argv)
{
	struct local_opts opts;
	struct local_run *r;
	char err[512];
	int ret;

	ret = local_opts_parse(argc, argv, &opts, err, sizeof(err));
	if (ret == LOCAL_OPTS_HELP) {
		fputs(local_usage, stdout);
		return 0;
	}
	if (ret) {
		pr_err("%s", err);
		return RUN_USAGE;
	}
	log_set_verbose(opts.verbose);
	r = calloc(1, sizeof(*r));
	if (!r)
		return LOCAL_EXIT_LAUNCH;
	r->opts = &opts;
	r->sigfd = -1;
	for (unsigned int i = 0; i < VC_MAX_NODES; i++)
		r->node[i].out = r->node[i].con = -1;
	ret = run(r);
	free(r);
	return ret;
}
