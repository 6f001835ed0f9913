// SPDX-License-Identifier: GPL-2.0
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mgmt/ctl/client.h"

int ctl_client_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

/* Passes the complete lines received so far to the reply's line callback. */
static void pass_lines(struct ctl_reply *r)
{
	char *nl;

	if (!r->on_line || r->status < 200 || r->status > 299)
		return;
	while ((nl = memchr(r->body + r->line_off, '\n', r->len - r->line_off))) {
		*nl = '\0';
		r->on_line(r->arg, r->body + r->line_off);
		*nl = '\n';
		r->line_off = (size_t)(nl + 1 - r->body);
	}
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct ctl_reply *r = arg;
	size_t n = size * nmemb;
	char *b = realloc(r->body, r->len + n + 1);

	if (!b)
		return 0; /* curl fails the transfer */
	memcpy(b + r->len, data, n);
	r->body = b;
	r->len += n;
	r->body[r->len] = '\0';
	pass_lines(r);
	return n;
}

/* Copies the value of header `name` from a raw header line into out. */
static void take_header(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name), vlen;

	if (len <= nlen + 1 || strncasecmp(line, name, nlen) || line[nlen] != ':')
		return;
	line += nlen + 1;
	len -= nlen + 1;
	while (len && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	vlen = len;
	while (vlen && (line[vlen - 1] == '\r' || line[vlen - 1] == '\n'))
		vlen--;
	snprintf(out, outlen, "%.*s", (int)vlen, line);
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct ctl_reply *r = arg;
	size_t n = size * nmemb;

	if (n > 9 && !strncmp(data, "HTTP/", 5))
		sscanf(data, "HTTP/%*s %ld", &r->status);
	take_header(data, n, "X-Cvmm-Offset", r->offset, sizeof(r->offset));
	take_header(data, n, "X-Cvmm-State", r->state, sizeof(r->state));
	return n;
}

int ctl_request(const struct auth_key *k, const char *addr, const char *method, const char *target,
		const char *body, long timeout_s, struct ctl_reply *r, char *err, size_t errlen)
{
	return ctl_request_lines(k, addr, method, target, body, timeout_s, NULL, NULL, r, err,
				 errlen);
}

int ctl_request_lines(const struct auth_key *k, const char *addr, const char *method,
		      const char *target, const char *body, long timeout_s, ctl_line_fn on_line,
		      void *arg, struct ctl_reply *r, char *err, size_t errlen)
{
	struct auth_headers ah;
	struct curl_slist *hdrs = NULL;
	char url[512], line[128], cerr[CURL_ERROR_SIZE] = "";
	size_t blen = body ? strlen(body) : 0;
	CURL *curl;
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	r->on_line = on_line;
	r->arg = arg;
	curl = curl_easy_init();
	if (!curl) {
		snprintf(err, errlen, "%s: cannot make an HTTP request (libcurl)", addr);
		return -ENOMEM;
	}
	snprintf(url, sizeof(url), "http://%s%s", addr, target);
	auth_make_headers(k, method, target, body, blen, (uint64_t)time(NULL), &ah);
	snprintf(line, sizeof(line), "%s: %s", AUTH_HDR_TIME, ah.time);
	hdrs = curl_slist_append(hdrs, line);
	snprintf(line, sizeof(line), "%s: %s", AUTH_HDR_NONCE, ah.nonce);
	hdrs = curl_slist_append(hdrs, line);
	snprintf(line, sizeof(line), "%s: %s", AUTH_HDR_SIG, ah.sig);
	hdrs = curl_slist_append(hdrs, line);
	/* No 100-continue round trip: bodies are small. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (body)
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(curl, CURLOPT_PROXY, ""); /* agents are never behind a proxy */
	if (!strcmp(method, "POST")) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)blen);
	} else {
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	}
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
		if (r->on_line && r->body && r->line_off < r->len) { /* no final newline */
			char *b = realloc(r->body, r->len + 2);

			if (b) {
				r->body = b;
				r->body[r->len++] = '\n';
				r->body[r->len] = '\0';
				pass_lines(r);
			}
		}
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(curl);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "agent %s: %s", addr,
			 cerr[0] ? cerr : curl_easy_strerror(rc));
		ctl_reply_free(r);
		return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
	}
	if (!r->body) {
		r->body = strdup("");
		if (!r->body)
			return -ENOMEM;
	}
	return 0;
}

void ctl_reply_free(struct ctl_reply *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

json_t *ctl_reply_json(const struct ctl_reply *r)
{
	json_t *j = r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;

	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

const char *ctl_reply_error(const struct ctl_reply *r, char *buf, size_t len)
{
	json_t *j = ctl_reply_json(r);
	const char *msg = j ? json_string_value(json_object_get(j, "error")) : NULL;

	if (msg)
		snprintf(buf, len, "%s", msg);
	else
		snprintf(buf, len, "HTTP %ld: %.200s", r->status, r->body ? r->body : "");
	json_decref(j);
	return buf;
}
