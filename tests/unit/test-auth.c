// SPDX-License-Identifier: GPL-2.0
/* Signed control requests: good, tampered, stale, replayed, unsigned. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mgmt/auth.h"

#define NOW 1800000000ull

struct fixture {
	struct auth_key key;
	struct auth_replay replay;
	struct auth_headers h;
	struct auth_request req;
};

static const char body[] = "{\"node\": 1}";

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || auth_init())
		return -1;
	assert_int_equal(auth_key_set(&f->key, "0123456789abcdef-cluster\n", 25), 0);
	auth_make_headers(&f->key, "POST", "/v1/vc/start", body, strlen(body), NOW, &f->h);
	f->req = (struct auth_request){
		.method = "POST",
		.target = "/v1/vc/start",
		.time = f->h.time,
		.nonce = f->h.nonce,
		.sig = f->h.sig,
		.body = body,
		.body_len = strlen(body),
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void good_signature_is_accepted(void **state)
{
	struct fixture *f = *state;
	const char *why = NULL;

	assert_int_equal(strlen(f->h.nonce), AUTH_NONCE_LEN);
	assert_int_equal(strlen(f->h.sig), AUTH_SIG_LEN);
	assert_int_equal(auth_verify(&f->key, &f->replay, &f->req, NOW + 5, &why), 0);
	/* Clocks a little behind the sender are fine too. */
	auth_make_headers(&f->key, "GET", "/v1/vc/status", NULL, 0, NOW + 30, &f->h);
	f->req = (struct auth_request){ .method = "GET",
					.target = "/v1/vc/status",
					.time = f->h.time,
					.nonce = f->h.nonce,
					.sig = f->h.sig };
	assert_int_equal(auth_verify(&f->key, &f->replay, &f->req, NOW, &why), 0);
}

static void tampered_body_is_refused(void **state)
{
	struct fixture *f = *state;
	const char *why = NULL;

	f->req.body = "{\"node\": 2}";
	assert_int_equal(auth_verify(&f->key, &f->replay, &f->req, NOW, &why), -EACCES);
	assert_string_equal(why, "bad signature");
}

static void tampered_target_or_method_is_refused(void **state)
{
	struct fixture *f = *state;
	const char *why = NULL;

	f->req.target = "/v1/vc/stop";
	assert_int_equal(auth_verify(&f->key, &f->replay, &f->req, NOW, &why), -EACCES);
	f->req.target = "/v1/vc/start";
	f->req.method = "PUT";
	assert_int_equal(auth_verify(&f->key, &f->replay, &f->req, NOW, &why), -EACCES);
	assert_string_equal(why, "bad signature");
}

static void other_secret_is_refused(void **state)
{
	struct fixture *f = *state;
	struct auth_key other;
	const char *why = NULL;

	assert_int_equal(auth_key_set(&other, "0123456789abcdef-clusteR", 24), 0);
	assert_int_equal(auth_verify(&other, &f->replay, &f->req, NOW, &why), -EACCES);
	assert_string_equal(why, "bad signature");
}

static void stale_request_is_refused(void **state)
{
	struct fixture *f = *state;
	const char *why = NULL;

	assert_int_equal(auth_verify(&f->key, &f->replay, &f->req, NOW + AUTH_WINDOW_S + 1, &why),
			 -EACCES);
	assert_non_null(strstr(why, "stale"));
	assert_int_equal(auth_verify(&f->key, &f->replay, &f->req, NOW - AUTH_WINDOW_S - 1, &why),
			 -EACCES);
	assert_non_null(strstr(why, "stale"));
	/* Refused requests take no replay slot: the request is still good in time. */
	assert_int_equal(auth_verify(&f->key, &f->replay, &f->req, NOW, &why), 0);
}

static void replay_is_refused(void **state)
{
	struct fixture *f = *state;
	const char *why = NULL;

	assert_int_equal(auth_verify(&f->key, &f->replay, &f->req, NOW, &why), 0);
	assert_int_equal(auth_verify(&f->key, &f->replay, &f->req, NOW + 1, &why), -EACCES);
	assert_string_equal(why, "replayed nonce");
	/* At the edge of the window the nonce is still remembered... */
	assert_int_equal(auth_verify(&f->key, &f->replay, &f->req, NOW + AUTH_WINDOW_S, &why),
			 -EACCES);
	assert_string_equal(why, "replayed nonce");
	/* ...and past it, the timestamp refuses it instead. */
	assert_int_equal(auth_verify(&f->key, &f->replay, &f->req, NOW + AUTH_WINDOW_S + 1, &why),
			 -EACCES);
	assert_non_null(strstr(why, "stale"));
}

static void missing_headers_are_named(void **state)
{
	struct fixture *f = *state;
	struct auth_request r = f->req;
	const char *why = NULL;

	r.time = r.nonce = r.sig = NULL;
	assert_int_equal(auth_verify(&f->key, &f->replay, &r, NOW, &why), -EACCES);
	assert_string_equal(why, "unsigned request");
	r = f->req;
	r.sig = NULL;
	assert_int_equal(auth_verify(&f->key, &f->replay, &r, NOW, &why), -EACCES);
	assert_string_equal(why, "missing " AUTH_HDR_SIG);
	r = f->req;
	r.nonce = NULL;
	assert_int_equal(auth_verify(&f->key, &f->replay, &r, NOW, &why), -EACCES);
	assert_string_equal(why, "missing " AUTH_HDR_NONCE);
	r = f->req;
	r.time = "12x";
	assert_int_equal(auth_verify(&f->key, &f->replay, &r, NOW, &why), -EACCES);
	assert_string_equal(why, "malformed signature headers");
}

static void uppercase_hex_signature_is_accepted(void **state)
{
	struct fixture *f = *state;
	const char *why = NULL;

	for (char *p = f->h.sig; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	assert_int_equal(auth_verify(&f->key, &f->replay, &f->req, NOW, &why), 0);
}

static void short_secret_is_refused(void **state)
{
	struct auth_key k;
	char path[] = "/tmp/test-auth-XXXXXX", err[256];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "short\n", 6), 6);
	close(fd);
	assert_int_equal(auth_key_load(path, &k, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, path));
	unlink(path);
	assert_int_equal(auth_key_load(path, &k, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(good_signature_is_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(tampered_body_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(tampered_target_or_method_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(other_secret_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(stale_request_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(replay_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_headers_are_named, setup, teardown),
		cmocka_unit_test_setup_teardown(uppercase_hex_signature_is_accepted, setup,
						teardown),
		cmocka_unit_test(short_secret_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
