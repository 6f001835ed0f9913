// SPDX-License-Identifier: GPL-2.0
/*
 * The boot server of `cvmm sim --pxe` (see pxe.h). Requests are handled by
 * libmicrohttpd's own thread, which starts with the launcher's signals
 * already blocked (run.c takes them through a signalfd), and which alone
 * touches the per-node fetch state once it runs. What it shares with the
 * main thread is read-only: the file paths and the command lines.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cvmm/lib/log.h"
#include "mgmt/sim/pxe.h"

#define SIM_PXE_ROM "efi-e1000.rom" /* QEMU's ROM for an e1000: iPXE, BIOS and UEFI */

/* Where Debian's ipxe-qemu puts the ROMs, and where QEMU's own data may have them. */
static const char *const rom_dirs[] = { "/usr/lib/ipxe/qemu", "/usr/share/qemu" };

/* One request: what was asked, and what was answered. */
struct pxe_req {
	int node; /* -1: not a node's file */
	enum sim_pxe_file file;
	unsigned int status;
	uint64_t bytes;
	char method[8];
	char path[64]; /* as asked, cut short if longer */
};

void sim_pxe_init(struct sim_pxe *s)
{
	*s = (struct sim_pxe){ .fd = -1, .log = -1 };
}

int sim_pxe_find_rom(const char *rom, char *buf, size_t len)
{
	if (rom) {
		if (access(rom, R_OK)) {
			pr_err("--pxe-rom %s: %s", rom, strerror(errno));
			return -ENOENT;
		}
		snprintf(buf, len, "%s", rom);
		return 0;
	}
	for (size_t i = 0; i < sizeof(rom_dirs) / sizeof(rom_dirs[0]); i++) {
		snprintf(buf, len, "%s/" SIM_PXE_ROM, rom_dirs[i]);
		if (!access(buf, R_OK))
			return 0;
	}
	pr_err("--pxe: no iPXE ROM for the boot NIC (%s/%s and %s/%s are missing): install "
	       "the Debian package ipxe-qemu, or give --pxe-rom FILE",
	       rom_dirs[0], SIM_PXE_ROM, rom_dirs[1], SIM_PXE_ROM);
	return -ENOENT;
}

int sim_pxe_listen(struct sim_pxe *s, unsigned int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons((uint16_t)port) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ret, one = 1;

	if (fd < 0) {
		ret = -errno;
		pr_err("--pxe: cannot create the boot server's socket: %s", strerror(-ret));
		return ret;
	}
	/* A port left in TIME_WAIT by an earlier run is free; one listened on is not. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 32) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl)) {
		ret = -errno;
		if (ret == -EADDRINUSE)
			pr_err("--pxe-port %u: 127.0.0.1:%u is in use by another program (choose "
			       "another port, or leave --pxe-port out for a free one)",
			       port, port);
		else
			pr_err("--pxe: the boot server cannot listen on 127.0.0.1:%u: %s", port,
			       strerror(-ret));
		close(fd);
		return ret;
	}
	s->fd = fd;
	s->port = ntohs(sa.sin_port);
	return 0;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, struct pxe_req *q,
				  unsigned int status, const char *text)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	q->status = status;
	q->bytes = strlen(text);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_file(struct MHD_Connection *conn, struct pxe_req *q, const char *path)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return reply_text(conn, q, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "cannot read the file\n");
	}
	resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd); /* owns fd */
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	q->status = MHD_HTTP_OK;
	q->bytes = (uint64_t)st.st_size;
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct sim_pxe *s = cls;
	struct pxe_req *q = *con_cls;
	char script[8192];
	unsigned int node;
	enum sim_pxe_file f;

	(void)version;
	(void)upload;
	if (!q) {
		/* First call: only the headers are in; answer on the next. */
		q = calloc(1, sizeof(*q));
		if (!q)
			return MHD_NO;
		q->node = -1;
		snprintf(q->method, sizeof(q->method), "%s", method);
		snprintf(q->path, sizeof(q->path), "%s", url);
		*con_cls = q;
		return MHD_YES;
	}
	*upload_size = 0;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(conn, q, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n");
	if (sim_pxe_parse_path(url, s->nodes, &node, &f))
		return reply_text(conn, q, MHD_HTTP_NOT_FOUND, "no such file\n");
	q->node = (int)node;
	q->file = f;
	if (f != SIM_PXE_SCRIPT)
		return reply_file(conn, q, s->files[f]);
	if (sim_ipxe_script(s->port, node, s->cmdline[node], script, sizeof(script)) < 0)
		return reply_text(conn, q, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "the script does not fit\n");
	return reply_text(conn, q, MHD_HTTP_OK, script);
}

/* A node has its image once it has fetched all three files: said once per node. */
static void note_fetched(struct sim_pxe *s, const struct pxe_req *q)
{
	const unsigned int all = (1u << SIM_PXE_NFILES) - 1;
	unsigned int n = (unsigned int)q->node;
	struct stat k, i;

	s->fetched[n] |= 1u << q->file;
	if (s->fetched[n] != all || s->announced[n])
		return;
	s->announced[n] = true;
	if (stat(s->files[SIM_PXE_KERNEL], &k) || stat(s->files[SIM_PXE_INITRD], &i))
		k.st_size = i.st_size = 0;
	pr_info("node%u fetched its boot script, kernel (%.1f MiB) and initrd (%.1f MiB) "
		"over HTTP",
		n, k.st_size / 1048576.0, i.st_size / 1048576.0);
}

static void on_completed(void *cls, struct MHD_Connection *conn __attribute__((unused)),
			 void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct sim_pxe *s = cls;
	struct pxe_req *q = *con_cls;
	bool done = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK;
	char who[16];

	if (!q)
		return;
	if (q->node >= 0)
		snprintf(who, sizeof(who), "node%d", q->node);
	else
		snprintf(who, sizeof(who), "-");
	/* One line per request, in one write: "node0 GET /node0/vmlinuz 200 8123456". */
	if (s->log >= 0)
		dprintf(s->log, "%s %s %s %u %llu%s\n", who, q->method, q->path, q->status,
			(unsigned long long)q->bytes, done ? "" : " incomplete");
	pr_debug("boot server: %s %s %s: %u, %llu bytes%s", who, q->method, q->path, q->status,
		 (unsigned long long)q->bytes, done ? "" : ", not completed");
	/* Only a GET answered in full brings a file to the node (a HEAD does not). */
	if (done && q->node >= 0 && q->status == MHD_HTTP_OK &&
	    !strcmp(q->method, MHD_HTTP_METHOD_GET))
		note_fetched(s, q);
	free(q);
	*con_cls = NULL;
}

int sim_pxe_start(struct sim_pxe *s, const struct sim_pxe_cfg *cfg)
{
	s->nodes = cfg->nodes;
	s->files[SIM_PXE_SCRIPT] = NULL;
	s->files[SIM_PXE_KERNEL] = cfg->kernel;
	s->files[SIM_PXE_INITRD] = cfg->initrd;
	for (unsigned int i = 0; i < cfg->nodes; i++) {
		s->cmdline[i] = strdup(cfg->cmdline[i]);
		if (!s->cmdline[i]) {
			pr_err("--pxe: out of memory");
			return -ENOMEM;
		}
	}
	s->log = open(cfg->log_path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0644);
	if (s->log < 0) {
		int ret = -errno;

		pr_err("--pxe: cannot create the boot server's log %s: %s", cfg->log_path,
		       strerror(-ret));
		return ret;
	}
	s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL,
				  NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, s->fd,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				  MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_END);
	if (!s->mhd) {
		pr_err("--pxe: the boot server on 127.0.0.1:%u did not start", s->port);
		return -EIO;
	}
	s->fd = -1; /* the daemon's now; it closes it when stopped */
	pr_info("boot server on http://127.0.0.1:%u (http://" SIM_PXE_HOST
		":%u/ from the nodes), requests logged in %s",
		s->port, s->port, cfg->log_path);
	return 0;
}

void sim_pxe_stop(struct sim_pxe *s)
{
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	if (s->fd >= 0)
		close(s->fd);
	if (s->log >= 0)
		close(s->log);
	for (unsigned int i = 0; i < SIM_MAX_NODES; i++)
		free(s->cmdline[i]);
	sim_pxe_init(s);
}
