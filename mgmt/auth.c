// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mgmt/auth.h"

int auth_init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

int auth_key_set(struct auth_key *k, const void *secret, size_t len)
{
	const uint8_t *s = secret;

	while (len && isspace(s[len - 1]))
		len--;
	if (len < AUTH_KEY_MIN)
		return -EINVAL;
	if (len > AUTH_KEY_MAX)
		return -E2BIG;
	memcpy(k->key, s, len);
	k->len = len;
	return 0;
}

int auth_key_load(const char *path, struct auth_key *k, char *err, size_t errlen)
{
	uint8_t buf[AUTH_KEY_MAX + 64];
	ssize_t n;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "secret file %s: %s", path, strerror(-ret));
		return ret;
	}
	n = read(fd, buf, sizeof(buf));
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (ret) {
		snprintf(err, errlen, "secret file %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = auth_key_set(k, buf, (size_t)n);
	sodium_memzero(buf, sizeof(buf));
	if (ret == -EINVAL)
		snprintf(err, errlen, "secret file %s: shorter than %d bytes", path, AUTH_KEY_MIN);
	else if (ret)
		snprintf(err, errlen, "secret file %s: longer than %d bytes", path, AUTH_KEY_MAX);
	return ret;
}

void auth_sign(const struct auth_key *k, const char *method, const char *target, const char *time,
	       const char *nonce, const void *body, size_t body_len, char *sig)
{
	const char *const parts[] = { "cvmm1", method, target, time, nonce };
	crypto_auth_hmacsha256_state st;
	uint8_t mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256_init(&st, k->key, k->len);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		crypto_auth_hmacsha256_update(&st, (const uint8_t *)parts[i], strlen(parts[i]));
		crypto_auth_hmacsha256_update(&st, (const uint8_t *)"\n", 1);
	}
	if (body_len)
		crypto_auth_hmacsha256_update(&st, body, body_len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(sig, AUTH_SIG_LEN + 1, mac, sizeof(mac));
}

void auth_make_headers(const struct auth_key *k, const char *method, const char *target,
		       const void *body, size_t body_len, uint64_t now, struct auth_headers *h)
{
	uint8_t raw[AUTH_NONCE_LEN / 2];

	snprintf(h->time, sizeof(h->time), "%" PRIu64, now);
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(h->nonce, sizeof(h->nonce), raw, sizeof(raw));
	auth_sign(k, method, target, h->time, h->nonce, body, body_len, h->sig);
}

static bool all_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return false;
	return true;
}

static int parse_time(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s || strlen(s) > 19)
		return -EINVAL;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* Forgets nonces whose time has left the window: they can only be stale now. */
static void replay_expire(struct auth_replay *r, uint64_t now)
{
	unsigned int j = 0;

	for (unsigned int i = 0; i < r->n; i++)
		if (r->seen[i].time + AUTH_WINDOW_S >= now)
			r->seen[j++] = r->seen[i];
	r->n = j;
}

static bool replay_seen(const struct auth_replay *r, const char *nonce)
{
	for (unsigned int i = 0; i < r->n; i++)
		if (!strcasecmp(r->seen[i].nonce, nonce))
			return true;
	return false;
}

int auth_verify(const struct auth_key *k, struct auth_replay *r, const struct auth_request *req,
		uint64_t now, const char **why)
{
	char expect[AUTH_SIG_LEN + 1], got[AUTH_SIG_LEN + 1];
	uint64_t t;

	if (!req->time || !req->nonce || !req->sig) {
		*why = !req->time && !req->nonce && !req->sig ? "unsigned request"
		       : !req->time			      ? "missing " AUTH_HDR_TIME
		       : !req->nonce			      ? "missing " AUTH_HDR_NONCE
							      : "missing " AUTH_HDR_SIG;
		return -EACCES;
	}
	if (parse_time(req->time, &t) || !all_hex(req->nonce, AUTH_NONCE_LEN) ||
	    !all_hex(req->sig, AUTH_SIG_LEN)) {
		*why = "malformed signature headers";
		return -EACCES;
	}
	if (t + AUTH_WINDOW_S < now || t > now + AUTH_WINDOW_S) {
		*why = "stale timestamp (clocks more than 60 s apart, or an old request)";
		return -EACCES;
	}
	/* Only a correctly signed request may take a replay slot. */
	auth_sign(k, req->method, req->target, req->time, req->nonce, req->body, req->body_len,
		  expect);
	for (size_t i = 0; i <= AUTH_SIG_LEN; i++)
		got[i] = (char)tolower((unsigned char)req->sig[i]);
	if (sodium_memcmp(expect, got, AUTH_SIG_LEN)) {
		*why = "bad signature";
		return -EACCES;
	}
	replay_expire(r, now);
	if (replay_seen(r, req->nonce)) {
		*why = "replayed nonce";
		return -EACCES;
	}
	if (r->n == AUTH_REPLAY_SLOTS) {
		*why = "too many requests within one window";
		return -EAGAIN;
	}
	snprintf(r->seen[r->n].nonce, sizeof(r->seen[r->n].nonce), "%s", req->nonce);
	r->seen[r->n].time = t;
	r->n++;
	return 0;
}
