// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cvmm/lib/fdio.h"
#include "mgmt/agent/vcpart.h"

void vcpart_init(struct vcpart *p, const char *dir, const char *cvmm)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "%s", dir);
	snprintf(p->cvmm, sizeof(p->cvmm), "%s", cvmm);
}

const char *vcpart_state_name(enum vcpart_state s)
{
	static const char *const names[] = {
		[VCPART_IDLE] = "idle",
		[VCPART_RUNNING] = "running",
		[VCPART_EXITED] = "exited",
	};

	return (unsigned int)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

void vcpart_path(const struct vcpart *p, const char *leaf, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", p->dir, leaf);
}

static int write_file(const char *path, const char *text)
{
	char tmp[PATH_MAX + 8];
	int fd, ret;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = write_full(fd, text, strlen(text));
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

/* In the child: never returns. */
static void exec_node(const struct vcpart *p, int log_fd, const char *vc_path)
{
	char id[16], stats[PATH_MAX], mon[PATH_MAX];
	int null = open("/dev/null", O_RDONLY);
	sigset_t none;

	/* The agent blocks its stop signals; the node must take them. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	snprintf(id, sizeof(id), "%u", p->node);
	vcpart_path(p, "stats.prom", stats, sizeof(stats));
	vcpart_path(p, "monitor.sock", mon, sizeof(mon));
	/* Its own process group, so that a stop reaches every process it starts. */
	setpgid(0, 0);
	dup2(null, STDIN_FILENO);
	dup2(log_fd, STDOUT_FILENO);
	dup2(log_fd, STDERR_FILENO);
	setenv("CVMM_STATS_FILE", stats, 1);
	execl(p->cvmm, p->cvmm, "node", "--vc", vc_path, "--id", id, "--stats", "--monitor", mon,
	      (char *)NULL);
	dprintf(STDERR_FILENO, "cvmm agent: error: cannot run %s: %s\n", p->cvmm, strerror(errno));
	_exit(127);
}

int vcpart_start(struct vcpart *p, const char *name, const char *vc_json, unsigned int node,
		 char *err, size_t errlen)
{
	char vc_path[PATH_MAX], log_path[PATH_MAX], stats[PATH_MAX];
	int log_fd, ret;
	pid_t pid;

	vcpart_poll(p);
	if (p->state != VCPART_IDLE) {
		snprintf(err, errlen, "this node belongs to VC %s (node %u, %s); stop it first",
			 p->vc, p->node, vcpart_state_name(p->state));
		return -EBUSY;
	}
	vcpart_path(p, "vc.json", vc_path, sizeof(vc_path));
	vcpart_path(p, "node.log", log_path, sizeof(log_path));
	vcpart_path(p, "stats.prom", stats, sizeof(stats));
	unlink(stats); /* a previous VC's figures must not show */
	ret = write_file(vc_path, vc_json);
	if (ret) {
		snprintf(err, errlen, "cannot save %s: %s", vc_path, strerror(-ret));
		return ret;
	}
	log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (log_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot create %s: %s", log_path, strerror(-ret));
		return ret;
	}
	p->node = node;
	pid = fork();
	if (pid == 0)
		exec_node(p, log_fd, vc_path);
	ret = pid < 0 ? -errno : 0;
	close(log_fd);
	if (ret) {
		snprintf(err, errlen, "cannot start cvmm node: %s", strerror(-ret));
		return ret;
	}
	/* Also in the parent, so that a stop right away cannot miss the group. */
	setpgid(pid, pid);
	p->pid = pid;
	p->state = VCPART_RUNNING;
	snprintf(p->vc, sizeof(p->vc), "%s", name);
	p->started = time(NULL);
	p->ended = 0;
	p->wait_status = 0;
	return 0;
}

void vcpart_poll(struct vcpart *p)
{
	if (p->state != VCPART_RUNNING)
		return;
	if (waitpid(p->pid, &p->wait_status, WNOHANG) == p->pid) {
		p->state = VCPART_EXITED;
		p->ended = time(NULL);
	}
}

int vcpart_stop(struct vcpart *p, unsigned int grace_ms)
{
	vcpart_poll(p);
	if (p->state == VCPART_IDLE)
		return -ENOENT;
	if (p->state == VCPART_RUNNING) {
		kill(-p->pid, SIGTERM);
		for (unsigned int t = 0; t < grace_ms && p->state == VCPART_RUNNING; t += 20) {
			usleep(20000);
			vcpart_poll(p);
		}
		if (p->state == VCPART_RUNNING) {
			kill(-p->pid, SIGKILL);
			if (waitpid(p->pid, &p->wait_status, 0) == p->pid) {
				p->state = VCPART_EXITED;
				p->ended = time(NULL);
			}
		}
		/* The group may outlive its leader: nothing of the VC may stay behind. */
		kill(-p->pid, SIGKILL);
	}
	p->state = VCPART_IDLE;
	return 0;
}

int vcpart_exit_code(const struct vcpart *p)
{
	if (WIFEXITED(p->wait_status))
		return WEXITSTATUS(p->wait_status);
	if (WIFSIGNALED(p->wait_status))
		return 128 + WTERMSIG(p->wait_status);
	return -1;
}

ssize_t vcpart_read_log(const struct vcpart *p, off_t off, char *buf, size_t len, off_t *size)
{
	char path[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd, ret = 0;

	vcpart_path(p, "node.log", path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	*size = st.st_size;
	n = pread(fd, buf, len, off);
	if (n < 0)
		ret = -errno;
	close(fd);
	return ret ? ret : n;
}
