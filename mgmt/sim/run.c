// SPDX-License-Identifier: GPL-2.0
/*
 * The launcher's event loop: starts one QEMU per node, connects to each
 * node's console and control channel, and turns what happens into events for
 * the state machine in launcher.c, whose actions it then carries out.
 *
 * Threads: one. Everything waits in a single poll(): control channels,
 * consoles, our stdin while it is forwarded (mgmt/sim/input.h), and a
 * signalfd for SIGCHLD, SIGINT and SIGTERM. Timers are deadlines checked
 * after every wake-up (poll wakes at least every 250 ms).
 *
 * The loop never blocks on a control channel: the commands' input is read
 * only while the channel takes a whole STDIN frame, and a node whose channel
 * is full when it is asked to power off is killed instead.
 *
 * No orphans: every QEMU gets PR_SET_PDEATHSIG(SIGKILL), so even a launcher
 * killed with SIGKILL takes its nodes with it; on every other path the loop
 * runs until the state machine reaches DONE, which needs every QEMU reaped.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cvmm/lib/fdio.h"
#include "cvmm/lib/log.h"
#include "cvmm/lib/parse.h"
#include "mgmt/chan.h"
#include "mgmt/launch/lines.h"
#include "mgmt/sim/image.h"
#include "mgmt/sim/input.h"
#include "mgmt/sim/launcher.h"
#include "mgmt/sim/node-cpus.h"
#include "mgmt/sim/pxe.h"
#include "mgmt/sim/qemu.h"
#include "mgmt/sim/run.h"
#include "mgmt/sim/vcmode.h"

#define GRACE_SECONDS	 15 /* for nodes to power off when asked */
#define CONNECT_SECONDS	 20 /* for a started QEMU to offer its sockets */
#define PROGRESS_SECONDS 30 /* between "still waiting" lines while booting */

struct sim_node {
	pid_t pid;
	int ctl;     /* control channel socket, -1 when closed */
	int con;     /* serial console socket, -1 when closed */
	int con_log; /* console log file */
	struct chan_rx *rx;
	/*
	 * Where the command's stdout [0] and stderr [1] go, and the tag in front
	 * of each line (NULL: as they are): see route_output().
	 */
	int out_fd[2];
	const char *out_tag;
	char tag[24];
	struct lines out[2];
	struct lines con_line;
	char con_tag[24];		   /* "[nodeI] " for --verbose consoles */
	const char *const *cmd;		   /* the command this node runs */
	const char *argv[SIM_VC_ARGC + 1]; /* VC mode: its cvmm node, cmd points here */
	char id[8];
	double started;
	bool announced;
};

struct sim_run {
	const struct sim_opts *opts;
	const struct vc *vc; /* VC mode, else NULL */
	char vc_path[512];   /* VC mode: the description, in the run directory */
	const char *what;    /* what the nodes run, for messages */
	struct sim_state st;
	struct guest_check check; /* VC mode, --check: the I/O node's console */
	struct sim_node node[SIM_MAX_NODES];
	char rundir[256];
	char bindir[512];
	char shares[2048];
	int sigfd;
	struct sim_input in;
	int input_node;	    /* the node given our stdin, or -1 */
	bool input_blocked; /* its channel is full: wait for POLLOUT */
	double boot_deadline, cmd_deadline, grace_deadline, next_progress;
	/* --pxe: the boot server, the boot NIC's ROM, each node's boot file URL. */
	struct sim_pxe pxe;
	char pxe_rom[512];
	char boot_url[SIM_MAX_NODES][96];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long kb = 0;
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return (uint64_t)kb << 10;
}

/* Finds a program on PATH; returns 0 and its path, or -ENOENT. */
static int find_program(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	char dirs[4096];

	snprintf(dirs, sizeof(dirs), "%s", path ? path : "/usr/bin:/bin");
	for (char *d = strtok(dirs, ":"); d; d = strtok(NULL, ":")) {
		snprintf(buf, len, "%s/%s", d, name);
		if (!access(buf, X_OK))
			return 0;
	}
	return -ENOENT;
}

/* A free UDP port on 127.0.0.1, so that concurrent clusters never share a wire. */
static int free_udp_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), port;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl)) {
		port = -errno;
		close(fd);
		return port;
	}
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* A host path worth binding inside the nodes (the node's own tree excluded). */
static bool shareable(const char *p)
{
	static const char *const system[] = { "/proc", "/sys",	"/dev",	 "/usr",
					      "/bin",  "/sbin", "/lib",	 "/lib64",
					      "/etc",  "/run",	"/host", "/opt/cvmm" };

	if (p[0] != '/' || !strcmp(p, "/") || strpbrk(p, ": \t\n"))
		return false;
	for (size_t i = 0; i < sizeof(system) / sizeof(system[0]); i++) {
		size_t n = strlen(system[i]);

		if (!strncmp(p, system[i], n) && (p[n] == '/' || p[n] == '\0'))
			return false;
	}
	return true;
}

static void add_share(struct sim_run *r, const char *p)
{
	size_t used = strlen(r->shares);

	if (!shareable(p))
		return;
	snprintf(r->shares + used, sizeof(r->shares) - used, "%s%s", used ? ":" : "", p);
}

static void collect_shares(struct sim_run *r, const struct sim_image *img)
{
	char top[600], cwd[1024];

	/* This tree (datadir is TOP/mgmt/image), the cache, the caller's directory. */
	snprintf(top, sizeof(top), "%s", img->datadir);
	add_share(r, dirname(dirname(top)));
	add_share(r, img->cachedir);
	if (getcwd(cwd, sizeof(cwd)))
		add_share(r, cwd);
	for (unsigned int i = 0; i < r->opts->nshares; i++) {
		if (!shareable(r->opts->shares[i]))
			pr_warn("--share %s: not shared: it is the node's own system path, "
				"or has ':' or white space",
				r->opts->shares[i]);
		add_share(r, r->opts->shares[i]);
	}
	if (r->opts->secret) {
		char dir[1024];

		snprintf(dir, sizeof(dir), "%s", r->opts->secret);
		add_share(r, dirname(dir));
	}
}

static void print_file_tail(const char *path, int lines)
{
	char cmd[1024];

	fprintf(stderr, "---- last %d lines of %s ----\n", lines, path);
	fflush(stderr);
	snprintf(cmd, sizeof(cmd), "tail -n %d '%s' >&2", lines, path);
	if (system(cmd) != 0)
		fprintf(stderr, "(cannot read %s)\n", path);
	fprintf(stderr, "----\n");
}

/* Where node i's CPUs are, from its QEMU: said on stderr, all registers in nodeI.cpus.log. */
static void report_cpus(struct sim_run *r, unsigned int i)
{
	char sock[512], log[600];

	if (r->node[i].pid <= 0)
		return;
	sim_node_monitor_path(r->rundir, i, sock, sizeof(sock));
	snprintf(log, sizeof(log), "%s/node%u.cpus.log", r->rundir, i);
	sim_node_report_cpus(sock, log, i);
}

static pid_t spawn_qemu(struct sim_run *r, unsigned int i, const struct sim_argv *a)
{
	char log[512];
	pid_t parent = getpid(), pid;
	int fd;

	snprintf(log, sizeof(log), "%s/node%u.qemu.log", r->rundir, i);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		sigset_t none;
		int devnull = open("/dev/null", O_RDONLY);

		/* Dies with the launcher, however the launcher dies. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		/* Its own process group: a terminal's Ctrl-C reaches the launcher only. */
		setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(devnull, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execv(a->argv[0], a->argv);
		_exit(127);
	}
	close(fd);
	return pid < 0 ? -errno : pid;
}

/* Connects to a QEMU chardev socket once QEMU has created it. */
static int connect_socket(pid_t pid, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	double deadline = now() + CONNECT_SECONDS;
	int fd, status;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	while (now() < deadline) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		close(fd);
		if (errno != ENOENT && errno != ECONNREFUSED)
			return -errno;
		if (waitpid(pid, &status, WNOHANG) == pid)
			return -ECHILD; /* QEMU is gone */
		usleep(20000);
	}
	return -ETIMEDOUT;
}

/* What node i boots, and how: the same for direct and network boot but for the last two. */
static struct sim_node_cfg node_cfg(const struct sim_run *r, unsigned int i,
				    const struct sim_image *img, const char *initrd,
				    const char *qemu, int port)
{
	return (struct sim_node_cfg){
		.qemu = qemu,
		.node = i,
		.nodes = r->opts->nodes,
		.cpus = r->opts->node_cpus,
		.mem = r->opts->node_mem,
		.kernel = img->kernel,
		.initrd = initrd,
		.rundir = r->rundir,
		.mcast_port = (uint16_t)port,
		.rdma = r->opts->rdma,
		.kvm_amd = r->opts->kvm_amd,
		.shares = r->shares[0] ? r->shares : NULL,
		.secret = r->opts->secret,
		.boot_url = r->opts->pxe ? r->boot_url[i] : NULL,
		.boot_rom = r->pxe_rom,
	};
}

/*
 * --pxe: serves each node its script (with the command line direct boot
 * would pass), the kernel and this run's initrd. Started once our signals
 * are blocked, so that the server's thread never takes one.
 */
static int start_pxe(struct sim_run *r, const struct sim_image *img, const char *initrd,
		     const char *qemu, int port)
{
	char *cmdline[SIM_MAX_NODES] = { NULL };
	char log[600];
	int ret = 0;

	for (unsigned int i = 0; i < r->opts->nodes && !ret; i++) {
		struct sim_node_cfg cfg = node_cfg(r, i, img, initrd, qemu, port);

		cmdline[i] = malloc(4096);
		if (!cmdline[i] || sim_node_cmdline(&cfg, cmdline[i], 4096) < 0 ||
		    sim_pxe_url(r->pxe.port, i, SIM_PXE_SCRIPT, r->boot_url[i],
				sizeof(r->boot_url[i])) < 0) {
			pr_err("node%u: the kernel command line is too long", i);
			ret = -E2BIG;
		}
	}
	snprintf(log, sizeof(log), "%s/pxe.log", r->rundir);
	if (!ret)
		ret = sim_pxe_start(&r->pxe, &(struct sim_pxe_cfg){
						     .nodes = r->opts->nodes,
						     .kernel = img->kernel,
						     .initrd = initrd,
						     .cmdline = (const char *const *)cmdline,
						     .log_path = log,
					     });
	for (unsigned int i = 0; i < r->opts->nodes; i++)
		free(cmdline[i]);
	return ret;
}

static int start_node(struct sim_run *r, unsigned int i, const struct sim_image *img,
		      const char *initrd, const char *qemu, int port)
{
	struct sim_node *n = &r->node[i];
	struct sim_node_cfg cfg = node_cfg(r, i, img, initrd, qemu, port);
	struct sim_argv *a = malloc(sizeof(*a));
	char path[512];
	int ret;

	if (!a)
		return -ENOMEM;
	ret = sim_node_argv(&cfg, a);
	if (ret) {
		pr_err("node%u: the QEMU command line is too long", i);
		goto out;
	}
	if (log_verbose()) {
		fprintf(stderr, "cvmm sim: node%u:", i);
		for (int k = 0; k < a->argc; k++)
			fprintf(stderr, " %s", a->argv[k]);
		fprintf(stderr, "\n");
	}
	n->started = now();
	n->pid = spawn_qemu(r, i, a);
	if (n->pid < 0) {
		ret = n->pid;
		n->pid = 0;
		pr_err("node%u: cannot start %s: %s", i, qemu, strerror(-ret));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/node%u.console.log", r->rundir, i);
	n->con_log = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	sim_node_console_path(r->rundir, i, path, sizeof(path));
	n->con = connect_socket(n->pid, path);
	sim_node_ctl_path(r->rundir, i, path, sizeof(path));
	n->ctl = n->con < 0 ? n->con : connect_socket(n->pid, path);
	if (n->con < 0 || n->ctl < 0) {
		ret = n->con < 0 ? n->con : n->ctl;
		pr_err("node%u: QEMU did not open its sockets: %s", i,
		       ret == -ECHILD ? "it exited" : strerror(-ret));
		snprintf(path, sizeof(path), "%s/node%u.qemu.log", r->rundir, i);
		print_file_tail(path, 20);
		goto out;
	}
	n->rx = malloc(sizeof(*n->rx));
	if (!n->rx) {
		ret = -ENOMEM;
		goto out;
	}
	chan_rx_init(n->rx);
out:
	free(a);
	return ret;
}

/*
 * Where each node's output goes. One node running a command: its streams, as
 * they are. Several: the same streams, each line tagged "[nodeI] ". VC mode:
 * the I/O node's console is the output of `cvmm sim`, as it is, and the
 * other nodes' output goes to stderr tagged "nodeI: ", as in `cvmm run --nodes`.
 */
static void route_output(struct sim_run *r)
{
	/* Stdin goes where the console is: one node, shown as it is. */
	r->input_node = -1;
	if (r->vc)
		r->input_node = (int)r->vc->io_node;
	else if (!(r->opts->all && r->opts->nodes > 1))
		r->input_node = 0;
	for (unsigned int i = 0; i < r->opts->nodes; i++) {
		struct sim_node *n = &r->node[i];
		bool console = r->vc ? i == r->vc->io_node : !(r->opts->all && r->opts->nodes > 1);

		snprintf(n->con_tag, sizeof(n->con_tag), "[node%u] ", i);
		n->out_fd[0] = STDOUT_FILENO;
		n->out_fd[1] = STDERR_FILENO;
		n->out_tag = NULL;
		if (console)
			continue;
		if (r->vc) {
			n->out_fd[0] = STDERR_FILENO;
			snprintf(n->tag, sizeof(n->tag), "node%u: ", i);
		} else {
			snprintf(n->tag, sizeof(n->tag), "[node%u] ", i);
		}
		n->out_tag = n->tag;
	}
}

static void flush_lines(struct sim_run *r)
{
	for (unsigned int i = 0; i < r->opts->nodes; i++) {
		struct sim_node *n = &r->node[i];

		for (int s = 0; s < 2; s++)
			lines_flush(&n->out[s], n->out_fd[s], n->out_tag);
		lines_flush(&n->con_line, STDERR_FILENO, n->con_tag);
	}
}

static void apply(struct sim_run *r, const struct sim_event *ev);

/* pid 0 would be our own process group: never kill a node that has no QEMU. */
static void kill_node(struct sim_node *n)
{
	if (n->pid > 0)
		kill(n->pid, SIGKILL);
}

/* True when a whole STDIN frame (or a small control frame) goes in without blocking. */
static bool ctl_writable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

/*
 * The command on node i has been sent: it gets our stdin if it is the
 * interactive one (a terminal goes raw in VC mode, where the guest's console
 * edits lines), end of file at once otherwise.
 */
static void start_input(struct sim_run *r, unsigned int i)
{
	struct sim_node *n = &r->node[i];

	if ((int)i == r->input_node && r->in.fd >= 0) {
		if (r->vc)
			sim_input_raw(&r->in);
		return;
	}
	if (chan_send(n->ctl, CHAN_STDIN_EOF, NULL, 0)) {
		pr_err("node%u: cannot close the command's stdin (channel broken)", i);
		kill_node(n);
	}
}

static void send_exec(struct sim_run *r, unsigned int i)
{
	static uint8_t payload[CHAN_MAX_PAYLOAD];
	char cwd[1024], path[1200];
	const char *env[64];
	extern char **environ;
	struct chan_exec ex = { .argv = r->node[i].cmd, .envp = env };
	int n = 0, len;

	/* The caller's directory when the node can see it, else the node's home. */
	if (!getcwd(cwd, sizeof(cwd)) || !shareable(cwd))
		snprintf(cwd, sizeof(cwd), "/root");
	ex.cwd = cwd;
	snprintf(path, sizeof(path), "PATH=%s:/opt/cvmm/bin:/usr/sbin:/usr/bin", r->bindir);
	env[n++] = path;
	/* The caller's CVMM_* settings travel, except the node's own identity. */
	for (char **e = environ; *e && n < 62; e++)
		if (!strncmp(*e, "CVMM_", 5) && strncmp(*e, "CVMM_NODE", 9))
			env[n++] = *e;
	env[n] = NULL;
	len = chan_exec_encode(&ex, payload, sizeof(payload));
	if (len < 0 || chan_send(r->node[i].ctl, CHAN_EXEC, payload, (size_t)len)) {
		pr_err("node%u: cannot send the command (%s)", i,
		       len < 0 ? "too long" : "channel broken");
		kill_node(&r->node[i]);
		return;
	}
	start_input(r, i);
}

static void carry_out(struct sim_run *r, const struct sim_actions *act)
{
	for (unsigned int i = 0; i < r->opts->nodes; i++) {
		struct sim_node *n = &r->node[i];

		if (act->exec & (1u << i))
			send_exec(r, i);
		/* A channel still full of input would block us: such a node is killed. */
		if ((act->poweroff & (1u << i)) && (n->ctl < 0 || !ctl_writable(n->ctl) ||
						    chan_send(n->ctl, CHAN_POWEROFF, NULL, 0)))
			kill_node(n);
		if (act->kill & (1u << i))
			kill_node(n);
	}
	if (act->exec) {
		pr_info("all %u nodes up; running '%s' on %s", r->opts->nodes, r->what,
			r->opts->all || r->vc ? "every node" : "node0");
	}
	if (act->arm_cmd_timer && r->opts->timeout)
		r->cmd_deadline = now() + r->opts->timeout;
	if (act->arm_grace_timer && !r->grace_deadline)
		r->grace_deadline = now() + GRACE_SECONDS;
}

static void apply(struct sim_run *r, const struct sim_event *ev)
{
	struct sim_actions act;

	sim_step(&r->st, ev, &act);
	carry_out(r, &act);
}

static void on_frame(struct sim_run *r, unsigned int i, const struct chan_hdr *h, const uint8_t *p)
{
	struct sim_node *n = &r->node[i];

	switch (h->type) {
	case CHAN_HELLO:
		pr_info("node%u up after %.1fs: %.*s", i, now() - n->started, (int)h->len, p);
		apply(r, &(struct sim_event){ .type = EV_HELLO, .node = i });
		break;
	case CHAN_STDOUT:
	case CHAN_STDERR: {
		int s = h->type == CHAN_STDERR;

		lines_emit(&n->out[s], n->out_fd[s], n->out_tag, p, h->len);
		if (r->vc && r->opts->check && !s && i == r->vc->io_node)
			guest_check_feed(&r->check, p, h->len);
		break;
	}
	case CHAN_EXIT:
		if (h->len != 4) {
			pr_err("node%u: EXIT message of %u bytes", i, h->len);
			kill_node(n);
			break;
		}
		apply(r, &(struct sim_event){ .type = EV_EXIT,
					      .node = i,
					      .status = p[0] | p[1] << 8 | p[2] << 16 });
		break;
	default:
		pr_err("node%u: unexpected message type %u on the control channel", i, h->type);
		kill_node(n);
		break;
	}
}

static void read_ctl(struct sim_run *r, unsigned int i)
{
	struct sim_node *n = &r->node[i];
	uint8_t buf[16384];
	size_t room = chan_rx_room(n->rx);
	ssize_t len = read(n->ctl, buf, room < sizeof(buf) ? room : sizeof(buf));
	const uint8_t *payload;
	const char *what = "";
	struct chan_hdr h;
	int ret;

	if (len <= 0) {
		if (len < 0 && errno == EINTR)
			return;
		/* QEMU closed it: it is exiting, and SIGCHLD will say so. */
		close(n->ctl);
		n->ctl = -1;
		return;
	}
	chan_rx_feed(n->rx, buf, (size_t)len);
	while ((ret = chan_rx_next(n->rx, &h, &payload, &what)) == 1)
		on_frame(r, i, &h, payload);
	if (ret < 0) {
		pr_err("node%u: corrupt control channel (bad %s); stopping the node", i, what);
		close(n->ctl);
		n->ctl = -1;
		kill_node(n);
	}
}

static void read_console(struct sim_run *r, unsigned int i)
{
	struct sim_node *n = &r->node[i];
	uint8_t buf[4096];
	ssize_t len = read(n->con, buf, sizeof(buf));

	if (len <= 0) {
		if (len < 0 && errno == EINTR)
			return;
		close(n->con);
		n->con = -1;
		return;
	}
	if (n->con_log >= 0)
		write_full(n->con_log, buf, (size_t)len);
	if (r->opts->verbose)
		lines_emit(&n->con_line, STDERR_FILENO, n->con_tag, buf, (size_t)len);
}

static void reap(struct sim_run *r)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (unsigned int i = 0; i < r->opts->nodes; i++) {
			struct sim_node *n = &r->node[i];

			if (n->pid != pid)
				continue;
			n->pid = 0;
			if (r->st.phase != SIM_SHUTDOWN) {
				char log[600];

				pr_err("node%u stopped unexpectedly (QEMU %s %d)", i,
				       WIFEXITED(status) ? "exit status" : "signal",
				       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
				snprintf(log, sizeof(log), "%s/node%u.console.log", r->rundir, i);
				print_file_tail(log, 15);
			}
			apply(r, &(struct sim_event){ .type = EV_NODE_LOST, .node = i });
		}
	}
}

static void read_signals(struct sim_run *r)
{
	struct signalfd_siginfo si;

	while (read(r->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			reap(r);
		} else {
			pr_info("%s: stopping the nodes%s", strsignal((int)si.ssi_signo),
				r->st.phase == SIM_SHUTDOWN ? " now" : "");
			apply(r, &(struct sim_event){ .type = EV_INTERRUPT });
		}
	}
}

static void check_timers(struct sim_run *r)
{
	double t = now();

	if (r->st.phase == SIM_BOOT && t >= r->next_progress) {
		for (unsigned int i = 0; i < r->opts->nodes; i++)
			if (r->st.node[i] == NODE_BOOTING)
				pr_info("waiting for node%u to boot (%.0fs)", i,
					t - r->node[i].started);
		r->next_progress = t + PROGRESS_SECONDS;
	}
	if (r->st.phase == SIM_BOOT && t >= r->boot_deadline) {
		pr_err("the nodes did not come up within %us", r->opts->boot_timeout);
		for (unsigned int i = 0; i < r->opts->nodes; i++) {
			char log[600];

			if (r->st.node[i] != NODE_BOOTING)
				continue;
			snprintf(log, sizeof(log), "%s/node%u.console.log", r->rundir, i);
			pr_err("node%u is still booting", i);
			print_file_tail(log, 15);
			report_cpus(r, i);
		}
		apply(r, &(struct sim_event){ .type = EV_BOOT_TIMEOUT });
	}
	if (r->st.phase == SIM_RUN && r->cmd_deadline && t >= r->cmd_deadline) {
		pr_err("'%s' did not finish within %us", r->what, r->opts->timeout);
		for (unsigned int i = 0; i < r->opts->nodes; i++)
			report_cpus(r, i);
		apply(r, &(struct sim_event){ .type = EV_CMD_TIMEOUT });
	}
	if (r->st.phase == SIM_SHUTDOWN && r->grace_deadline && t >= r->grace_deadline) {
		pr_warn("nodes did not power off within %ds; killing them", GRACE_SECONDS);
		r->grace_deadline = t + GRACE_SECONDS;
		apply(r, &(struct sim_event){ .type = EV_GRACE_TIMEOUT });
	}
}

/*
 * Forwarding lasts while the interactive node's command runs; once it has
 * exited, or the cluster is stopping, the terminal is given back at once, so
 * that what follows is printed as usual.
 */
static bool input_live(struct sim_run *r)
{
	if (r->in.fd < 0 || r->input_node < 0)
		return false;
	if (r->st.phase == SIM_RUN && r->st.node[r->input_node] == NODE_RUNNING)
		return true;
	if (r->st.phase != SIM_BOOT)
		sim_input_close(&r->in);
	return false;
}

/* One read of our stdin, at most one STDIN frame; end of file becomes STDIN_EOF. */
static void forward_input(struct sim_run *r)
{
	struct sim_node *n = &r->node[r->input_node];
	uint8_t buf[SIM_INPUT_CHUNK];
	ssize_t len;

	if (n->ctl < 0) {
		sim_input_close(&r->in);
		return;
	}
	if (!ctl_writable(n->ctl)) {
		r->input_blocked = true;
		return;
	}
	len = read(r->in.fd, buf, sizeof(buf));
	if (len < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (len > 0 && !chan_send(n->ctl, CHAN_STDIN, buf, (size_t)len))
		return;
	if (len < 0)
		pr_warn("stdin: %s; the command's input ends here", strerror(errno));
	/* A broken channel is the node's loss, which the loop sees anyway. */
	if (len <= 0)
		chan_send(n->ctl, CHAN_STDIN_EOF, NULL, 0);
	sim_input_close(&r->in);
}

static void event_loop(struct sim_run *r)
{
	while (r->st.phase != SIM_DONE) {
		struct pollfd p[2 + 2 * SIM_MAX_NODES];
		bool input = input_live(r);
		unsigned int k = 0;

		p[k++] = (struct pollfd){ .fd = r->sigfd, .events = POLLIN };
		for (unsigned int i = 0; i < r->opts->nodes; i++) {
			short out =
				input && r->input_blocked && (int)i == r->input_node ? POLLOUT : 0;

			p[k++] = (struct pollfd){ .fd = r->node[i].ctl, .events = POLLIN | out };
			p[k++] = (struct pollfd){ .fd = r->node[i].con, .events = POLLIN };
		}
		p[k++] = (struct pollfd){ .fd = input && !r->input_blocked ? r->in.fd : -1,
					  .events = POLLIN };
		if (poll(p, k, 250) < 0 && errno != EINTR) {
			pr_err("poll: %s", strerror(errno));
			break;
		}
		for (unsigned int i = 0; i < r->opts->nodes; i++) {
			if (p[1 + 2 * i].revents & POLLOUT)
				r->input_blocked = false;
			if (p[1 + 2 * i].revents & ~POLLOUT)
				read_ctl(r, i);
			if (p[2 + 2 * i].revents)
				read_console(r, i);
		}
		if (p[k - 1].revents && input_live(r))
			forward_input(r);
		if (p[0].revents)
			read_signals(r);
		check_timers(r);
	}
	flush_lines(r);
}

static void describe_failure(const struct sim_run *r)
{
	switch (r->st.failure) {
	case SIM_FAIL_NODE_LOST:
		pr_err("the cluster failed: node%u was lost; logs are in %s", r->st.fail_node,
		       r->rundir);
		break;
	case SIM_FAIL_BOOT_TIMEOUT:
		pr_err("the cluster did not boot; logs are in %s", r->rundir);
		break;
	case SIM_FAIL_CMD_TIMEOUT:
		pr_err("timed out; node consoles are in %s", r->rundir);
		break;
	case SIM_FAIL_INTERRUPTED:
		break;
	case SIM_FAIL_NONE:
		if (r->st.culprit >= 0)
			pr_err("%s", r->st.why);
		break;
	}
}

static void remove_rundir(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		pr_warn("could not remove %s", dir);
}

/* True when p is one of the shares or below one. */
static bool shared_already(const struct sim_run *r, const char *p)
{
	const char *s = r->shares;

	while (*s) {
		size_t n = strcspn(s, ":");

		if (!strncmp(p, s, n) && (p[n] == '/' || p[n] == '\0'))
			return true;
		s += n + (s[n] == ':');
	}
	return false;
}

/* VC mode: the nodes read the description and the guest's files at their host paths. */
static void share_vc_files(struct sim_run *r)
{
	const char *files[] = { r->vc->kernel, r->vc->initrd };
	char dir[1100];

	add_share(r, r->rundir);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!files[i][0])
			continue;
		snprintf(dir, sizeof(dir), "%s", files[i]);
		dirname(dir);
		if (!shared_already(r, dir)) {
			if (!shareable(dir))
				pr_warn("%s: not visible in the nodes (a system path, or ':' or "
					"white space in it)",
					files[i]);
			add_share(r, dir);
		}
	}
}

/* VC mode: the description in the run directory, and each node's cvmm node. */
static int write_vc(struct sim_run *r)
{
	char err[600];
	int ret;

	ret = vc_spec_write(r->vc, r->rundir, "vc.json", r->vc_path, sizeof(r->vc_path), err,
			    sizeof(err));
	if (ret) {
		pr_err("%s", err);
		return ret;
	}
	for (unsigned int i = 0; i < r->opts->nodes; i++) {
		sim_vc_argv(r->vc_path, i, r->node[i].id, sizeof(r->node[i].id), r->node[i].argv);
		r->node[i].cmd = r->node[i].argv;
	}
	pr_info("VC mode: %u vCPUs, %s of guest RAM over %u nodes (%s), described in %s",
		r->vc->ncpus, format_size(r->vc->mem, err, sizeof(err)), r->vc->nnodes,
		vc_transport_name(r->vc->transport), r->vc_path);
	return 0;
}

int sim_run(const struct sim_opts *opts, const struct vc *vc)
{
	struct sim_run *r = calloc(1, sizeof(*r));
	struct sim_image img;
	char qemu[512], initrd[600], err[256], exe[512];
	sigset_t sigs;
	int port, ret, result = SIM_EXIT_CLUSTER;
	ssize_t n;

	if (!r)
		return SIM_EXIT_CLUSTER;
	r->opts = opts;
	r->vc = vc;
	if (vc)
		guest_check_init(&r->check, vc);
	r->what = vc ? "cvmm node" : opts->argv[0];
	r->sigfd = -1;
	sim_pxe_init(&r->pxe);
	for (unsigned int i = 0; i < SIM_MAX_NODES; i++) {
		r->node[i].ctl = r->node[i].con = r->node[i].con_log = -1;
		r->node[i].cmd = (const char *const *)opts->argv; /* VC mode: see write_vc() */
	}
	if (vc)
		sim_state_init_vc(&r->st, opts->nodes, vc->io_node);
	else
		sim_state_init(&r->st, opts->nodes, opts->all);
	route_output(r);
	sim_input_open(&r->in);

	if (find_program("qemu-system-x86_64", qemu, sizeof(qemu))) {
		pr_err("qemu-system-x86_64 not found: install the Debian package "
		       "qemu-system-x86 (or run 'make deps')");
		goto out_free;
	}
	if (sim_opts_check_memory(opts, mem_available(), err, sizeof(err))) {
		pr_err("%s", err);
		goto out_free;
	}
	/* A missing ROM or a port in use is refused before the image is built. */
	if (opts->pxe && (sim_pxe_find_rom(opts->pxe_rom, r->pxe_rom, sizeof(r->pxe_rom)) ||
			  sim_pxe_listen(&r->pxe, opts->pxe_port)))
		goto out_free;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0) {
		pr_err("cannot find this program's directory: %s", strerror(errno));
		goto out_free;
	}
	exe[n] = '\0';
	snprintf(r->bindir, sizeof(r->bindir), "%s", dirname(exe));

	if (sim_image_prepare(&img, opts->cache_dir))
		goto out_free;
	snprintf(r->rundir, sizeof(r->rundir), "%s/cvmm-sim.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(r->rundir)) {
		pr_err("cannot create a run directory %s: %s", r->rundir, strerror(errno));
		goto out_free;
	}
	if (sim_image_initrd(&img, r->bindir, r->rundir, initrd, sizeof(initrd)))
		goto out_rundir;
	collect_shares(r, &img);
	if (vc) {
		if (write_vc(r))
			goto out_rundir;
		share_vc_files(r);
	}
	port = free_udp_port();
	if (port < 0) {
		pr_err("no free UDP port on 127.0.0.1 for the interconnect: %s", strerror(-port));
		goto out_rundir;
	}

	/* From here on, signals arrive through the loop, never asynchronously. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGCHLD);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	r->sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (r->sigfd < 0) {
		pr_err("signalfd: %s", strerror(errno));
		goto out_rundir;
	}
	if (opts->pxe && start_pxe(r, &img, initrd, qemu, port)) {
		close(r->sigfd);
		sigprocmask(SIG_UNBLOCK, &sigs, NULL);
		goto out_rundir;
	}

	pr_info("starting %u node%s (%u vCPU%s, %llu MiB each)", opts->nodes,
		opts->nodes > 1 ? "s" : "", opts->node_cpus, opts->node_cpus > 1 ? "s" : "",
		(unsigned long long)(opts->node_mem >> 20));
	r->boot_deadline = now() + opts->boot_timeout;
	r->next_progress = now() + PROGRESS_SECONDS;
	for (unsigned int i = 0; i < opts->nodes; i++) {
		ret = start_node(r, i, &img, initrd, qemu, port);
		if (ret) {
			/*
			 * Nodes never started count as lost, which stops the
			 * ones that did start; a half-started one is killed and
			 * reported lost when it is reaped.
			 */
			kill_node(&r->node[i]);
			for (unsigned int k = i; k < opts->nodes; k++)
				if (!r->node[k].pid)
					apply(r, &(struct sim_event){ .type = EV_NODE_LOST,
								      .node = k });
			break;
		}
	}
	event_loop(r);
	sim_pxe_stop(&r->pxe);
	sim_input_close(&r->in);
	result = r->st.result;
	describe_failure(r);
	if (vc && opts->check)
		result = sim_vc_check(&r->check, result);

	for (unsigned int i = 0; i < opts->nodes; i++) {
		struct sim_node *nd = &r->node[i];

		if (nd->ctl >= 0)
			close(nd->ctl);
		if (nd->con >= 0)
			close(nd->con);
		if (nd->con_log >= 0)
			close(nd->con_log);
		free(nd->rx);
	}
	close(r->sigfd);
	sigprocmask(SIG_UNBLOCK, &sigs, NULL);
	if (r->st.failure == SIM_FAIL_NONE || r->st.failure == SIM_FAIL_INTERRUPTED) {
		if (opts->keep)
			pr_info("node logs kept in %s", r->rundir);
		else
			remove_rundir(r->rundir);
	}
	free(r);
	return result;

out_rundir:
	remove_rundir(r->rundir);
out_free:
	sim_pxe_stop(&r->pxe);
	free(r);
	return result;
}
