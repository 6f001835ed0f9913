/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cvmmctl's side of the control channel: one signed HTTP request to a node
 * agent (libcurl), its status and body back.
 */
#ifndef CVMM_MGMT_CTL_CLIENT_H
#define CVMM_MGMT_CTL_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#include "mgmt/auth.h"

/* Called with each line of a streamed 2xx reply as it arrives (no newline). */
typedef void (*ctl_line_fn)(void *arg, const char *line);

struct ctl_reply {
	long status; /* HTTP status */
	char *body;  /* NUL-terminated (malloc'd) */
	size_t len;
	char offset[24]; /* X-Cvmm-Offset, console replies */
	char state[16];	 /* X-Cvmm-State, console replies */
	/* Streaming (ctl_request_lines): */
	ctl_line_fn on_line;
	void *arg;
	size_t line_off; /* where the next line starts in body */
};

/* curl_global_init(); 0 or -EIO. */
int ctl_client_init(void);

/*
 * Sends METHOD TARGET (with body, a JSON text, or NULL) to the agent at addr
 * (HOST:PORT), signed with k. Returns 0 with the reply (any HTTP status), or
 * -errno when no reply came, with err naming the agent and the reason.
 */
int ctl_request(const struct auth_key *k, const char *addr, const char *method, const char *target,
		const char *body, long timeout_s, struct ctl_reply *r, char *err, size_t errlen);

/*
 * ctl_request() whose reply body is text, passed to on_line a line at a time
 * while it comes when the status is 2xx (the whole body is in r too).
 */
int ctl_request_lines(const struct auth_key *k, const char *addr, const char *method,
		      const char *target, const char *body, long timeout_s, ctl_line_fn on_line,
		      void *arg, struct ctl_reply *r, char *err, size_t errlen);

void ctl_reply_free(struct ctl_reply *r);

/* The reply's JSON object (a new reference), or NULL. */
json_t *ctl_reply_json(const struct ctl_reply *r);

/* The agent's "error" message, or the body itself, for a reply that is not 2xx. */
const char *ctl_reply_error(const struct ctl_reply *r, char *buf, size_t len);

#endif
