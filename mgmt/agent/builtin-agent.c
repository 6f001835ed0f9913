// SPDX-License-Identifier: GPL-2.0
/*
 * `cvmm agent`: the node agent. In an emulated node it is started by /init
 * and serves the launcher over a virtio-serial port: it reports that the node
 * is up (HELLO, with an inventory), runs the commands it is sent (EXEC),
 * streams their output back and reports their exit status, feeds their
 * standard input from STDIN frames until STDIN_EOF (mgmt/agent/stdin-pipe.c),
 * and powers the node off when told (POWEROFF).
 *
 * One command runs at a time; the launcher never sends a second EXEC before
 * the first EXIT.
 *
 * With --listen it also (or only) serves the control service on the node's
 * control address: cvmmctl starts and stops the node's part of a virtual
 * computer through it, and Prometheus reads /metrics (mgmt/agent/control.c,
 * docs/management.md). That service runs on its own thread; the virtio-serial
 * loop below does not know it exists.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cvmm/commands.h"
#include "cvmm/lib/log.h"
#include "mgmt/agent/control.h"
#include "mgmt/agent/inventory.h"
#include "mgmt/agent/kvm-keys.h"
#include "mgmt/agent/stdin-pipe.h"
#include "mgmt/chan.h"

#define AGENT_STATE_DIR "/var/lib/cvmm/agent"

struct agent {
	int port; /* the control channel */
	struct chan_rx rx;
	pid_t child;	      /* running command, or 0 */
	int out[2];	      /* child's stdout and stderr, -1 once at EOF */
	struct stdin_pipe in; /* child's stdin */
	int status;	      /* child's wait status once reaped */
	bool reaped;
};

/* Finds /dev/vportNpM whose virtio-serial name is `name`. */
static int open_port(const char *name)
{
	char path[512], buf[128];
	struct dirent *de;
	DIR *d = opendir("/sys/class/virtio-ports");
	int fd = -ENOENT;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && !strcmp(strtok(buf, "\n"), name)) {
			snprintf(path, sizeof(path), "/dev/%s", de->d_name);
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd < 0)
				fd = -errno;
		}
		fclose(f);
		if (fd != -ENOENT)
			break;
	}
	closedir(d);
	return fd;
}

static void child_exec(const struct chan_exec *ex, int in_r, int out_w, int err_w)
{
	/* The agent ignores SIGPIPE (see run_sim_channel); the command must not. */
	signal(SIGPIPE, SIG_DFL);
	dup2(in_r, STDIN_FILENO);
	dup2(out_w, STDOUT_FILENO);
	dup2(err_w, STDERR_FILENO);
	for (const char *const *e = ex->envp; *e; e++) {
		const char *eq = strchr(*e, '=');
		char name[256];

		if (!eq || eq - *e >= (long)sizeof(name))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(eq - *e), *e);
		setenv(name, eq + 1, 1);
	}
	if (chdir(ex->cwd)) {
		fprintf(stderr, "cvmm agent: cannot enter %s: %s\n", ex->cwd, strerror(errno));
		_exit(126);
	}
	/* The command is its own process group, so that a stop reaches all of it. */
	setpgid(0, 0);
	execvp(ex->argv[0], (char *const *)ex->argv);
	fprintf(stderr, "cvmm agent: %s: %s\n", ex->argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

static int agent_exec(struct agent *a, const uint8_t *payload, size_t len)
{
	struct chan_exec ex;
	const char *what = "";
	int in[2], out[2], err[2], ret;

	ret = chan_exec_decode(payload, len, &ex, &what);
	if (ret) {
		pr_err("bad EXEC request from the launcher: %s", what);
		return ret;
	}
	if (a->child) {
		pr_err("EXEC while a command runs");
		free((void *)ex.argv);
		return -EBUSY;
	}
	/*
	 * Every command's stdin is a pipe: the launcher sends STDIN_EOF right
	 * after EXEC to the nodes it gives no input, so they read end of file
	 * as they did from /dev/null.
	 */
	if (pipe2(in, O_CLOEXEC)) {
		ret = -errno;
		goto out_free;
	}
	if (pipe2(out, O_CLOEXEC)) {
		ret = -errno;
		goto out_in;
	}
	if (pipe2(err, O_CLOEXEC)) {
		ret = -errno;
		goto out_out;
	}
	a->child = fork();
	if (a->child == 0)
		child_exec(&ex, in[0], out[1], err[1]);
	ret = a->child < 0 ? -errno : 0;
	close(in[0]);
	close(out[1]);
	close(err[1]);
	free((void *)ex.argv);
	if (ret) {
		a->child = 0;
		close(in[1]);
		close(out[0]);
		close(err[0]);
		return ret;
	}
	a->out[0] = out[0];
	a->out[1] = err[0];
	a->reaped = false;
	/* F_SETFL on a pipe just made has no error to report (EBADF is its only one). */
	stdin_pipe_init(&a->in, in[1]);
	return 0;

out_out:
	close(out[0]);
	close(out[1]);
out_in:
	close(in[0]);
	close(in[1]);
out_free:
	free((void *)ex.argv);
	return ret;
}

/* Input for a command that has exited, or that never ran, is dropped. */
static int agent_stdin(struct agent *a, const struct chan_hdr *h, const uint8_t *payload)
{
	int ret;

	if (!a->child)
		return 0;
	if (h->type == CHAN_STDIN)
		ret = stdin_pipe_push(&a->in, payload, h->len);
	else
		ret = stdin_pipe_eof(&a->in);
	if (ret)
		pr_err("command's stdin: %s", strerror(-ret));
	return ret;
}

static int forward_output(struct agent *a, int i)
{
	uint8_t buf[CHAN_MAX_PAYLOAD];
	ssize_t n = read(a->out[i], buf, sizeof(buf));

	if (n < 0 && errno == EINTR)
		return 0;
	if (n <= 0) {
		close(a->out[i]);
		a->out[i] = -1;
		return 0;
	}
	return chan_send(a->port, i == 0 ? CHAN_STDOUT : CHAN_STDERR, buf, (size_t)n);
}

/* Once the child is reaped and both pipes are drained, reports its status. */
static int maybe_finish(struct agent *a)
{
	uint8_t st[4];
	uint32_t code;

	if (!a->child || a->out[0] >= 0 || a->out[1] >= 0)
		return 0;
	if (!a->reaped) {
		if (waitpid(a->child, &a->status, 0) < 0)
			return -errno;
		a->reaped = true;
	}
	if (WIFEXITED(a->status))
		code = WEXITSTATUS(a->status);
	else
		code = 128 + WTERMSIG(a->status);
	st[0] = code;
	st[1] = code >> 8;
	st[2] = code >> 16;
	st[3] = code >> 24;
	a->child = 0;
	stdin_pipe_close(&a->in);
	return chan_send(a->port, CHAN_EXIT, st, sizeof(st));
}

static void power_off(struct agent *a)
{
	if (a->child)
		kill(-a->child, SIGKILL);
	sync();
	reboot(RB_POWER_OFF);
	/* Only reached when not PID 1's child in a real node (e.g. a test). */
	exit(0);
}

static int handle_frame(struct agent *a, const struct chan_hdr *h, const uint8_t *payload)
{
	switch (h->type) {
	case CHAN_EXEC:
		return agent_exec(a, payload, h->len);
	case CHAN_STDIN:
	case CHAN_STDIN_EOF:
		return agent_stdin(a, h, payload);
	case CHAN_POWEROFF:
		power_off(a);
		return 0;
	default:
		pr_err("unexpected message type %u from the launcher", h->type);
		return -EPROTO;
	}
}

static int read_port(struct agent *a)
{
	uint8_t buf[4096];
	size_t room = chan_rx_room(&a->rx);
	ssize_t n = read(a->port, buf, room < sizeof(buf) ? room : sizeof(buf));
	struct chan_hdr h;
	const uint8_t *payload;
	const char *what = "";
	int ret;

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (n == 0)
		return -EPIPE; /* the launcher went away */
	chan_rx_feed(&a->rx, buf, (size_t)n);
	while ((ret = chan_rx_next(&a->rx, &h, &payload, &what)) == 1) {
		ret = handle_frame(a, &h, payload);
		if (ret)
			return ret;
	}
	if (ret < 0)
		pr_err("corrupt frame from the launcher: bad %s", what);
	return ret;
}

static int agent_loop(struct agent *a)
{
	for (;;) {
		/* A full stdin queue pauses the channel: see mgmt/agent/stdin-pipe.h. */
		struct pollfd p[4] = {
			{ .fd = stdin_pipe_full(&a->in) ? -1 : a->port, .events = POLLIN },
			{ .fd = a->child ? a->out[0] : -1, .events = POLLIN },
			{ .fd = a->child ? a->out[1] : -1, .events = POLLIN },
			{ .fd = stdin_pipe_pending(&a->in) ? a->in.fd : -1, .events = POLLOUT },
		};
		int ret;

		if (poll(p, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[3].revents) {
			ret = stdin_pipe_flush(&a->in);
			if (ret) {
				pr_err("command's stdin: %s", strerror(-ret));
				return ret;
			}
		}
		for (int i = 0; i < 2; i++) {
			if (p[1 + i].revents) {
				ret = forward_output(a, i);
				if (ret)
					return ret;
			}
		}
		ret = maybe_finish(a);
		if (ret)
			return ret;
		if (p[0].revents) {
			ret = read_port(a);
			if (ret)
				return ret;
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cvmm agent [--sim-channel NAME] [--listen ADDR:PORT --secret-file FILE\n"
		"                  [--state-dir DIR]]\n"
		"\n"
		"The node agent. With --sim-channel it serves the `cvmm sim` launcher over\n"
		"the virtio-serial port NAME: it reports the node's inventory, runs the\n"
		"commands it is sent and powers the node off when asked.\n"
		"\n"
		"With --listen it serves cvmmctl over HTTP on ADDR:PORT (\":PORT\" for every\n"
		"address; port 0 picks a free one): the inventory, starting and stopping this\n"
		"node's part of a virtual computer, its status and output, and Prometheus\n"
		"metrics at /metrics. Requests are signed with the cluster secret in FILE.\n"
		"DIR (default " AGENT_STATE_DIR ") keeps the VC description and the node's log.\n"
		"Both modes may run together.\n");
}

struct agent_opts {
	const char *channel;
	struct agent_ctl_config ctl;
};

/* 0, 1 after --help, or -EINVAL (usage printed). */
static int parse_opts(int argc, char **argv, struct agent_opts *o)
{
	static const struct option opts[] = {
		{ "sim-channel", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "secret-file", required_argument, NULL, 'k' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct agent_opts){ .ctl.state_dir = AGENT_STATE_DIR };
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:l:k:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->channel = optarg;
			break;
		case 'l':
			o->ctl.listen = optarg;
			break;
		case 'k':
			o->ctl.secret_file = optarg;
			break;
		case 'd':
			o->ctl.state_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		pr_err("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!o->channel && !o->ctl.listen) {
		usage(stderr);
		return -EINVAL;
	}
	if (o->ctl.listen && !o->ctl.secret_file) {
		pr_err("--listen needs --secret-file: every control request is signed");
		return -EINVAL;
	}
	return 0;
}

static int run_sim_channel(const char *channel)
{
	struct kvm_keys keys;
	struct agent *a;
	char inv[1024];
	int ret;

	/* An emulated node: no KVM static key may switch once guests run (kvm-keys.h). */
	ret = kvm_keys_hold(&keys);
	if (ret && ret != -ENOENT)
		pr_warn("cannot hold KVM's static keys on (an idle VM): %s", strerror(-ret));

	a = calloc(1, sizeof(*a));
	if (!a) {
		kvm_keys_release(&keys);
		return 1;
	}
	a->out[0] = a->out[1] = -1;
	a->in.fd = -1;
	chan_rx_init(&a->rx);
	/* A command that closes its stdin early must not kill the agent that feeds it. */
	signal(SIGPIPE, SIG_IGN);
	a->port = open_port(channel);
	if (a->port < 0) {
		pr_err("no virtio-serial port named %s: %s", channel, strerror(-a->port));
		free(a);
		kvm_keys_release(&keys);
		return 1;
	}
	inventory_describe(inv, sizeof(inv));
	/* Blocks until the launcher has connected its end of the port. */
	ret = chan_send(a->port, CHAN_HELLO, inv, strlen(inv));
	if (!ret)
		ret = agent_loop(a);
	if (ret == -EPIPE)
		pr_err("the launcher closed the control channel");
	else
		pr_err("control channel: %s", strerror(-ret));
	power_off(a);
	return 1;
}

/* Serves the control service until SIGTERM or SIGINT. */
static int run_control_only(struct agent_ctl *ctl, const sigset_t *stop)
{
	int sig = 0;

	sigwait(stop, &sig);
	pr_info("%s: shutting down", strsignal(sig));
	agent_ctl_stop(ctl);
	return 0;
}

int cmd_agent(int argc, char **argv)
{
	struct agent_opts o;
	struct agent_ctl *ctl = NULL;
	char self[PATH_MAX], err[512];
	sigset_t stop, old;
	ssize_t n;
	int ret;

	ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret > 0 ? 0 : 2;
	if (!o.ctl.listen)
		return run_sim_channel(o.channel);

	/* `cvmm node` is this very program. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		pr_err("cannot find this program (/proc/self/exe): %s", strerror(errno));
		return 1;
	}
	self[n] = '\0';
	o.ctl.cvmm = self;
	/* Tests stand a scripted node in for it (tests/integration/mgmt-agents.sh). */
	if (getenv("CVMM_AGENT_NODE_PROGRAM") && getenv("CVMM_AGENT_NODE_PROGRAM")[0])
		o.ctl.cvmm = getenv("CVMM_AGENT_NODE_PROGRAM");
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return 1;
	/* Only the main thread takes the stop signals: block them before the server's starts. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	ret = agent_ctl_start(ctl, &o.ctl, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		free(ctl);
		return 1;
	}
	pr_info("control service on %s (port %u), state in %s", o.ctl.listen, ctl->port,
		o.ctl.state_dir);
	if (o.channel) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return run_sim_channel(o.channel);
	}
	ret = run_control_only(ctl, &stop);
	free(ctl);
	return ret;
}
