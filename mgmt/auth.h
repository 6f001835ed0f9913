/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Signed control requests between cvmmctl and the node agents
 * (docs/management.md). Every request carries three headers:
 *
 *   X-Cvmm-Time       seconds since the epoch, decimal
 *   X-Cvmm-Nonce      32 hex digits, random per request
 *   X-Cvmm-Signature  HMAC-SHA256 (hex) with the cluster secret over
 *                     "cvmm1\n" METHOD "\n" TARGET "\n" TIME "\n" NONCE "\n" BODY
 *
 * TARGET is the request target as sent (path and query). None of the fields
 * before BODY can hold a newline, so the message is unambiguous.
 *
 * A verifier refuses a request whose headers are missing or malformed, whose
 * time is more than AUTH_WINDOW_S away from its own clock, whose signature
 * does not match, or whose nonce it accepted before. A nonce is remembered
 * for as long as its time is inside the window, so a replay is refused until
 * the timestamp is stale, when the stale check refuses it instead.
 */
#ifndef CVMM_MGMT_AUTH_H
#define CVMM_MGMT_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_HDR_TIME	  "X-Cvmm-Time"
#define AUTH_HDR_NONCE	  "X-Cvmm-Nonce"
#define AUTH_HDR_SIG	  "X-Cvmm-Signature"
#define AUTH_WINDOW_S	  60
#define AUTH_NONCE_LEN	  32 /* hex digits */
#define AUTH_SIG_LEN	  64 /* hex digits of a SHA-256 MAC */
#define AUTH_KEY_MIN	  16
#define AUTH_KEY_MAX	  256
#define AUTH_REPLAY_SLOTS 4096

struct auth_key {
	uint8_t key[AUTH_KEY_MAX];
	size_t len;
};

/* The three header values of a signed request. */
struct auth_headers {
	char time[24];
	char nonce[AUTH_NONCE_LEN + 1];
	char sig[AUTH_SIG_LEN + 1];
};

/* The parts of a received request a verifier looks at; absent headers are NULL. */
struct auth_request {
	const char *method;
	const char *target;
	const char *time;
	const char *nonce;
	const char *sig;
	const void *body;
	size_t body_len;
};

/* Nonces accepted within the window, with their request times. */
struct auth_replay {
	struct {
		char nonce[AUTH_NONCE_LEN + 1];
		uint64_t time;
	} seen[AUTH_REPLAY_SLOTS];
	unsigned int n;
};

/* Initialises libsodium; 0 or -EIO. Call once before anything below. */
int auth_init(void);

/*
 * The cluster secret: the bytes of a file, without trailing white space, at
 * least AUTH_KEY_MIN of them. -errno with a message naming the file in err.
 */
int auth_key_load(const char *path, struct auth_key *k, char *err, size_t errlen);
int auth_key_set(struct auth_key *k, const void *secret, size_t len);

/* The hex signature of a request (sig has AUTH_SIG_LEN + 1 bytes). */
void auth_sign(const struct auth_key *k, const char *method, const char *target, const char *time,
	       const char *nonce, const void *body, size_t body_len, char *sig);

/* Fills h for a request sent at `now` (seconds), with a fresh random nonce. */
void auth_make_headers(const struct auth_key *k, const char *method, const char *target,
		       const void *body, size_t body_len, uint64_t now, struct auth_headers *h);

/*
 * Checks a request received at `now`. Returns 0 and remembers its nonce, or
 * -EACCES (unsigned, malformed, stale, bad signature, replayed) or -EAGAIN
 * (too many requests inside one window to remember them all) with *why
 * naming the reason in a few words.
 */
int auth_verify(const struct auth_key *k, struct auth_replay *r, const struct auth_request *req,
		uint64_t now, const char **why);

#endif
