// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cvmm/lib/log.h"
#include "cvmm/lib/parse.h"
#include "mgmt/agent/control.h"
#include "mgmt/agent/inventory.h"
#include "mgmt/agent/metrics.h"
#include "mgmt/agent/monitor-cmd.h"
#include "mgmt/agent/monitor-stream.h"
#include "mgmt/agent/nodelog.h"
#include "mgmt/vc/vc.h"

#define MAX_BODY       (256 * 1024)
#define LOG_TAIL       (64 * 1024)
#define CONSOLE_CHUNK  (64 * 1024)
#define STOP_GRACE_MS  5000
#define STATS_FILE_MAX (256 * 1024)

/* One request: made when its URI arrives, freed when it completes. */
struct req {
	struct MHD_Connection *conn;
	char *target; /* as sent: path and query, what the signature covers */
	char *body;
	size_t len;
	bool too_big;
	bool headers_seen;
};

struct reply {
	unsigned int status;
	char *body; /* malloc'd */
	size_t len;
	const char *type;
	char offset[24]; /* X-Cvmm-Offset of a console reply, or "" */
	const char *state;
	struct monitor_stream *stream; /* a monitor reply to stream instead of body */
};

static void reply_json(struct reply *r, unsigned int status, json_t *obj)
{
	r->status = status;
	r->body = json_dumps(obj, JSON_INDENT(2));
	r->len = r->body ? strlen(r->body) : 0;
	r->type = "application/json";
	json_decref(obj);
}

static void reply_error(struct reply *r, unsigned int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reply_error(struct reply *r, unsigned int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply_json(r, status, json_pack("{s:s}", "error", msg));
}

/* The last LOG_TAIL bytes of the node's output, scanned for stats and errors. */
static void scan_log(const struct vcpart *p, struct nodelog *log)
{
	char *buf = malloc(LOG_TAIL);
	off_t size = 0;
	ssize_t n = -1;

	if (buf && vcpart_read_log(p, 0, buf, 0, &size) == 0)
		n = vcpart_read_log(p, size > LOG_TAIL ? size - LOG_TAIL : 0, buf, LOG_TAIL, &size);
	nodelog_scan(buf, n > 0 ? (size_t)n : 0, log);
	free(buf);
}

/* The node's stats file (NULL if it writes none). */
static char *read_stats_file(const struct vcpart *p)
{
	char path[PATH_MAX], *text = NULL;
	size_t n = 0;
	FILE *f;

	vcpart_path(p, "stats.prom", path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return NULL;
	text = malloc(STATS_FILE_MAX + 1);
	if (text) {
		n = fread(text, 1, STATS_FILE_MAX, f);
		text[n] = '\0';
	}
	fclose(f);
	return text;
}

static json_t *string_array(char (*lines)[NODELOG_LINE_LEN], unsigned int n)
{
	json_t *a = json_array();

	for (unsigned int i = 0; i < n; i++)
		json_array_append_new(a, json_string(lines[i]));
	return a;
}

/*
 * Request handlers. Each fills the reply; its status is the HTTP status. The
 * caller has checked the method and, for /v1/, the signature.
 */
typedef void (*handler_fn)(struct agent_ctl *c, struct req *q, struct reply *r);

static void do_metrics(struct agent_ctl *c, struct req *q, struct reply *r)
{
	struct inventory inv;
	struct nodelog log;
	char *live = NULL;
	FILE *f;

	vcpart_poll(&c->part);
	inventory_read(&inv);
	nodelog_scan(NULL, 0, &log);
	if (c->part.state != VCPART_IDLE) {
		scan_log(&c->part, &log);
		live = read_stats_file(&c->part);
	}
	f = open_memstream(&r->body, &r->len);
	if (!f) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		free(live);
		return;
	}
	metrics_render(f, &inv, &c->part, &log, live);
	fclose(f);
	free(live);
	r->status = MHD_HTTP_OK;
	r->type = "text/plain; version=0.0.4";
}

static json_t *split_list(const char *s)
{
	json_t *a = json_array();
	char item[256];

	if (!strcmp(s, "none"))
		return a;
	while (*s) {
		size_t n = strcspn(s, ",");

		snprintf(item, sizeof(item), "%.*s", (int)n, s);
		json_array_append_new(a, json_string(item));
		s += n + (s[n] == ',');
	}
	return a;
}

static void do_inventory(struct agent_ctl *c, struct req *q, struct reply *r)
{
	struct inventory inv;

	vcpart_poll(&c->part);
	inventory_read(&inv);
	reply_json(r, MHD_HTTP_OK,
		   json_pack("{s:s,s:s,s:s,s:I,s:I,s:b,s:b,s:o,s:o,s:o,s:s*,s:s}", "hostname",
			     inv.hostname, "node", inv.node, "addr", inv.addr, "cpus",
			     (json_int_t)inv.cpus, "mem_mib", (json_int_t)inv.mem_mib, "kvm",
			     inv.kvm, "kvm_hw", inv.kvm_hw, "rdma", split_list(inv.rdma), "gids",
			     split_list(inv.gids), "interfaces", split_list(inv.ifaddrs), "vc",
			     c->part.state == VCPART_IDLE ? NULL : c->part.vc, "state",
			     vcpart_state_name(c->part.state)));
}

static void do_start(struct agent_ctl *c, struct req *q, struct reply *r)
{
	json_error_t jerr;
	json_t *root = json_loadb(q->body ? q->body : "", q->len, 0, &jerr), *jvc, *jnode;
	char err[512], *text = NULL;
	struct vc *vc = NULL;
	json_int_t node;
	int ret;

	if (!root) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "body: %s", jerr.text);
		return;
	}
	jvc = json_object_get(root, "vc");
	jnode = json_object_get(root, "node");
	if (!json_is_object(jvc) || !json_is_integer(jnode)) {
		reply_error(r, MHD_HTTP_BAD_REQUEST,
			    "body: expected {\"vc\": DESCRIPTION, \"node\": ID}");
		goto out;
	}
	node = json_integer_value(jnode);
	text = json_dumps(jvc, JSON_INDENT(2));
	vc = malloc(sizeof(*vc));
	if (!text || !vc) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		goto out;
	}
	if (vc_parse(text, vc, err, sizeof(err))) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "vc: %s", err);
		goto out;
	}
	if (node < 0 || node >= vc->nnodes) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "node: %lld is not one of VC %s's %u nodes",
			    (long long)node, vc->name, vc->nnodes);
		goto out;
	}
	ret = vcpart_start(&c->part, vc->name, text, (unsigned int)node, err, sizeof(err));
	if (ret) {
		pr_err("start of VC %s node %lld: %s", vc->name, (long long)node, err);
		reply_error(r, ret == -EBUSY ? MHD_HTTP_CONFLICT : MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "%s", err);
		goto out;
	}
	pr_info("started node %u of VC %s (pid %d)", c->part.node, c->part.vc, (int)c->part.pid);
	reply_json(r, MHD_HTTP_CREATED,
		   json_pack("{s:s,s:i,s:i,s:s}", "vc", c->part.vc, "node", (int)c->part.node,
			     "pid", (int)c->part.pid, "state", "running"));
out:
	free(vc);
	free(text);
	json_decref(root);
}

static void do_stop(struct agent_ctl *c, struct req *q, struct reply *r)
{
	json_t *root = q->len ? json_loadb(q->body, q->len, 0, NULL) : NULL;
	const char *want = root ? json_string_value(json_object_get(root, "vc")) : NULL;
	const char *was;
	char name[sizeof(c->part.vc)];

	vcpart_poll(&c->part);
	if (q->len && !root) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "body: expected {\"vc\": NAME} or nothing");
		return;
	}
	if (c->part.state == VCPART_IDLE) {
		reply_error(r, MHD_HTTP_NOT_FOUND, "this node belongs to no VC");
	} else if (want && strcmp(want, c->part.vc)) {
		reply_error(r, MHD_HTTP_CONFLICT, "this node belongs to VC %s, not %s", c->part.vc,
			    want);
	} else {
		was = vcpart_state_name(c->part.state);
		snprintf(name, sizeof(name), "%s", c->part.vc);
		vcpart_stop(&c->part, STOP_GRACE_MS);
		pr_info("stopped node %u of VC %s (it was %s; exit status %d)", c->part.node, name,
			was, vcpart_exit_code(&c->part));
		reply_json(r, MHD_HTTP_OK,
			   json_pack("{s:s,s:i,s:s,s:s,s:i}", "vc", name, "node", (int)c->part.node,
				     "state", "stopped", "was", was, "exit_status",
				     vcpart_exit_code(&c->part)));
	}
	json_decref(root);
}

static void do_status(struct agent_ctl *c, struct req *q, struct reply *r)
{
	struct vcpart *p = &c->part;
	struct nodelog log;
	struct node_stats st;
	json_t *o;
	char *live;

	vcpart_poll(p);
	o = json_pack("{s:s}", "state", vcpart_state_name(p->state));
	if (p->state == VCPART_IDLE) {
		reply_json(r, MHD_HTTP_OK, o);
		return;
	}
	scan_log(p, &log);
	json_object_set_new(o, "vc", json_string(p->vc));
	json_object_set_new(o, "node", json_integer(p->node));
	json_object_set_new(o, "pid", json_integer(p->pid));
	json_object_set_new(o, "started", json_integer(p->started));
	if (p->state == VCPART_EXITED) {
		json_object_set_new(o, "ended", json_integer(p->ended));
		json_object_set_new(o, "exit_status", json_integer(vcpart_exit_code(p)));
	}
	json_object_set_new(o, "stats", string_array(log.stats, log.nstats));
	json_object_set_new(o, "errors", string_array(log.errors, log.nerrors));
	if (log.nstats && !nodelog_parse_stats(log.stats[log.nstats - 1], &st))
		json_object_set_new(
			o, "dsm",
			json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "faults_read",
				  (json_int_t)st.faults_read, "faults_write",
				  (json_int_t)st.faults_write, "faults_upgrade",
				  (json_int_t)st.faults_upgrade, "remote_fetches",
				  (json_int_t)st.remote_fetches, "pages_in",
				  (json_int_t)st.pages_in, "pages_out", (json_int_t)st.pages_out,
				  "inv_sent", (json_int_t)st.inv_sent, "inv_received",
				  (json_int_t)st.inv_received, "bytes_in", (json_int_t)st.bytes_in,
				  "bytes_out", (json_int_t)st.bytes_out));
	live = read_stats_file(p);
	json_object_set_new(o, "live_metrics", live ? json_string(live) : json_null());
	free(live);
	reply_json(r, MHD_HTTP_OK, o);
}

static void do_console(struct agent_ctl *c, struct req *q, struct reply *r)
{
	const char *arg = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "offset");
	const char *want = MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, "vc");
	unsigned long off = 0;
	off_t size = 0;
	ssize_t n;

	vcpart_poll(&c->part);
	if (c->part.state == VCPART_IDLE) {
		reply_error(r, MHD_HTTP_NOT_FOUND, "this node belongs to no VC");
		return;
	}
	if (want && strcmp(want, c->part.vc)) {
		reply_error(r, MHD_HTTP_CONFLICT, "this node belongs to VC %s, not %s", c->part.vc,
			    want);
		return;
	}
	if (arg && parse_uint(arg, 0, ~0ul >> 1, &off)) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "offset: '%s' is not a byte offset", arg);
		return;
	}
	r->body = malloc(CONSOLE_CHUNK);
	if (!r->body) {
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	n = vcpart_read_log(&c->part, (off_t)off, r->body, CONSOLE_CHUNK, &size);
	if (n < 0) {
		free(r->body);
		r->body = NULL;
		reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "node log: %s", strerror((int)-n));
		return;
	}
	r->len = (size_t)n;
	r->status = MHD_HTTP_OK;
	r->type = "application/octet-stream";
	/* Past the end (the log was restarted): the client resumes from its size. */
	snprintf(r->offset, sizeof(r->offset), "%llu",
		 (unsigned long long)((off_t)off > size ? size : (off_t)off + n));
	r->state = vcpart_state_name(c->part.state);
}

/*
 * Passes one monitor command to the node (monitor-cmd.h lists them) and
 * streams its reply lines back as text, as they come.
 */
static void do_monitor(struct agent_ctl *c, struct req *q, struct reply *r)
{
	json_t *root = json_loadb(q->body ? q->body : "", q->len, 0, NULL);
	const char *want = json_string_value(json_object_get(root, "vc"));
	const char *cmd = json_string_value(json_object_get(root, "command"));
	char line[128], err[256], path[PATH_MAX];
	int ret;

	vcpart_poll(&c->part);
	if (!cmd) {
		reply_error(r, MHD_HTTP_BAD_REQUEST,
			    "body: expected {\"vc\": NAME, \"command\": COMMAND}");
	} else if (monitor_cmd_check(cmd, line, sizeof(line), err, sizeof(err))) {
		reply_error(r, MHD_HTTP_BAD_REQUEST, "command: %s", err);
	} else if (c->part.state == VCPART_IDLE) {
		reply_error(r, MHD_HTTP_CONFLICT, "this node belongs to no VC");
	} else if (want && strcmp(want, c->part.vc)) {
		reply_error(r, MHD_HTTP_CONFLICT, "this node belongs to VC %s, not %s", c->part.vc,
			    want);
	} else if (c->part.state != VCPART_RUNNING) {
		reply_error(r, MHD_HTTP_CONFLICT,
			    "node %u of VC %s is not running (it exited, "
			    "status %d)",
			    c->part.node, c->part.vc, vcpart_exit_code(&c->part));
	} else {
		vcpart_path(&c->part, "monitor.sock", path, sizeof(path));
		ret = monitor_stream_open(path, line, &c->stopping, &r->stream, err, sizeof(err));
		if (ret) {
			reply_error(r, MHD_HTTP_CONFLICT, "node %u of VC %s: %s", c->part.node,
				    c->part.vc, err);
		} else {
			pr_info("monitor command to node %u of VC %s: %s", c->part.node, c->part.vc,
				line);
			r->status = MHD_HTTP_OK;
			r->type = "text/plain";
		}
	}
	json_decref(root);
}

/*
 * The routes. A path served with another method is 405; an unknown path 404.
 * `sign`: the request must carry a valid signature (every /v1/ route).
 */
static const struct route {
	const char *method;
	const char *path;
	bool sign;
	handler_fn fn;
} routes[] = {
	{ "GET", "/metrics", false, do_metrics },
	{ "GET", "/v1/inventory", true, do_inventory },
	{ "POST", "/v1/vc/start", true, do_start },
	{ "POST", "/v1/vc/stop", true, do_stop },
	{ "GET", "/v1/vc/status", true, do_status },
	{ "GET", "/v1/vc/console", true, do_console },
	{ "POST", "/v1/vc/monitor", true, do_monitor },
};

static void peer_name(struct MHD_Connection *conn, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	socklen_t sl = sa && sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						       : sizeof(struct sockaddr_in);

	if (!sa || getnameinfo(sa, sl, host, sizeof(host), serv, sizeof(serv),
			       NI_NUMERICHOST | NI_NUMERICSERV))
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

/* 0 if the request may go on; otherwise the reply is the refusal. */
static int check_signature(struct agent_ctl *c, struct req *q, const char *method, struct reply *r)
{
	const struct auth_request ar = {
		.method = method,
		.target = q->target,
		.time = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, AUTH_HDR_TIME),
		.nonce = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, AUTH_HDR_NONCE),
		.sig = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, AUTH_HDR_SIG),
		.body = q->body,
		.body_len = q->len,
	};
	const char *why = "";
	char peer[NI_MAXHOST + NI_MAXSERV + 4];
	int ret = auth_verify(&c->key, &c->replay, &ar, (uint64_t)time(NULL), &why);

	if (!ret)
		return 0;
	peer_name(q->conn, peer, sizeof(peer));
	pr_warn("refused %s %s from %s: %s", method, q->target, peer, why);
	reply_error(r, ret == -EAGAIN ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_UNAUTHORIZED,
		    "refused: %s", why);
	return ret;
}

static void dispatch(struct agent_ctl *c, struct req *q, const char *url, const char *method,
		     struct reply *r)
{
	const struct route *path_match = NULL;

	if (q->too_big) {
		reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "body larger than %d bytes", MAX_BODY);
		return;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];

		if (strcmp(rt->path, url))
			continue;
		path_match = rt;
		if (strcmp(rt->method, method))
			continue;
		if (rt->sign && check_signature(c, q, method, r))
			return;
		rt->fn(c, q, r);
		return;
	}
	if (path_match)
		reply_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "%s %s: use %s", method, url,
			    path_match->method);
	else
		reply_error(r, MHD_HTTP_NOT_FOUND, "no such resource: %s", url);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct reply *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->stream) {
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
							 monitor_stream_read, r->stream,
							 monitor_stream_free);
		if (!resp) {
			monitor_stream_free(r->stream);
			return MHD_NO;
		}
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->type);
		ret = MHD_queue_response(conn, r->status, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	if (!r->body) {
		r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		r->body = strdup("{\"error\": \"out of memory\"}");
		r->len = r->body ? strlen(r->body) : 0;
		r->type = "application/json";
	}
	resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(r->body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->type);
	if (r->offset[0])
		MHD_add_response_header(resp, "X-Cvmm-Offset", r->offset);
	if (r->state)
		MHD_add_response_header(resp, "X-Cvmm-State", r->state);
	ret = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct agent_ctl *c = cls;
	struct req *q = *con_cls;
	struct reply r = { .status = MHD_HTTP_INTERNAL_SERVER_ERROR };

	if (!q)
		return MHD_NO;
	if (!q->headers_seen) {
		/* First call: headers only. Returning now lets a 100-continue go out. */
		q->conn = conn;
		q->headers_seen = true;
		return MHD_YES;
	}
	if (*upload_size) {
		if (q->len + *upload_size > MAX_BODY) {
			q->too_big = true;
		} else if (!q->too_big) {
			char *b = realloc(q->body, q->len + *upload_size + 1);

			if (!b)
				return MHD_NO;
			memcpy(b + q->len, upload, *upload_size);
			q->body = b;
			q->len += *upload_size;
			q->body[q->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&c->lock);
	dispatch(c, q, url, method, &r);
	pthread_mutex_unlock(&c->lock);
	return send_reply(conn, &r);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct req *q = calloc(1, sizeof(*q));

	if (q && !(q->target = strdup(uri))) {
		free(q);
		q = NULL;
	}
	return q;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req *q = *con_cls;

	if (q) {
		free(q->target);
		free(q->body);
		free(q);
		*con_cls = NULL;
	}
}

int agent_ctl_parse_listen(const char *s, char *addr, size_t addrlen, unsigned int *port)
{
	const char *colon = strrchr(s, ':'), *host = s;
	size_t hlen;
	unsigned long p;

	if (!colon || parse_uint(colon + 1, 0, 65535, &p))
		return -EINVAL;
	hlen = (size_t)(colon - s);
	if (hlen && s[0] == '[') {
		if (hlen < 2 || s[hlen - 1] != ']')
			return -EINVAL;
		host++;
		hlen -= 2;
	} else if (memchr(s, ':', hlen)) {
		return -EINVAL; /* an IPv6 address needs brackets */
	}
	if (hlen >= addrlen)
		return -EINVAL;
	snprintf(addr, addrlen, "%.*s", (int)hlen, host);
	*port = (unsigned int)p;
	return 0;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int agent_ctl_start(struct agent_ctl *c, const struct agent_ctl_config *cfg, char *err,
		    size_t errlen)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM },
			*ai = NULL;
	const union MHD_DaemonInfo *di;
	char host[INET6_ADDRSTRLEN + 2], port_s[8];
	unsigned int port;
	int ret;

	if (agent_ctl_parse_listen(cfg->listen, host, sizeof(host), &port)) {
		snprintf(err, errlen, "--listen '%s': expected ADDR:PORT", cfg->listen);
		return -EINVAL;
	}
	ret = auth_init();
	if (!ret)
		ret = auth_key_load(cfg->secret_file, &c->key, err, errlen);
	else
		snprintf(err, errlen, "libsodium did not initialise");
	if (ret)
		return ret;
	ret = mkdir_p(cfg->state_dir);
	if (ret) {
		snprintf(err, errlen, "state directory %s: %s", cfg->state_dir, strerror(-ret));
		return ret;
	}
	vcpart_init(&c->part, cfg->state_dir, cfg->cvmm);
	snprintf(port_s, sizeof(port_s), "%u", port);
	ret = getaddrinfo(host[0] ? host : NULL, port_s, &hints, &ai);
	if (ret) {
		snprintf(err, errlen, "--listen '%s': %s", cfg->listen, gai_strerror(ret));
		return -EINVAL;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->mhd = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			MHD_USE_ERROR_LOG | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		(uint16_t)port, NULL, NULL, on_request, c, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, c, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
		c, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_LIMIT, 64u,
		MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!c->mhd) {
		snprintf(err, errlen,
			 "cannot listen on %s (in use, or not an address of this node)",
			 cfg->listen);
		return -EADDRNOTAVAIL;
	}
	di = MHD_get_daemon_info(c->mhd, MHD_DAEMON_INFO_BIND_PORT);
	c->port = di ? di->port : port;
	return 0;
}

void agent_ctl_stop(struct agent_ctl *c)
{
	atomic_store(&c->stopping, true); /* monitor replies being streamed end */
	if (c->mhd)
		MHD_stop_daemon(c->mhd);
	c->mhd = NULL;
	if (c->part.state != VCPART_IDLE) {
		pr_info("stopping node %u of VC %s", c->part.node, c->part.vc);
		vcpart_stop(&c->part, STOP_GRACE_MS);
	}
}
