// SPDX-License-Identifier: GPL-2.0
/* The node image's cache key. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "mgmt/sim/image.h"

static int setup(void **state)
{
	return sodium_init() < 0 ? -1 : 0;
}

static void key_is_16_hex_digits_and_stable(void **state)
{
	struct sim_image_input in[] = { { "kernel", "linux-image-6.1.0-50 6.1.176-1" },
					{ "recipe:init", "abc" } };
	char k1[SIM_KEY_HEX + 1], k2[SIM_KEY_HEX + 1];

	assert_int_equal(sim_image_key(in, 2, k1), 0);
	assert_int_equal(strlen(k1), SIM_KEY_HEX);
	assert_int_equal(strspn(k1, "0123456789abcdef"), SIM_KEY_HEX);
	assert_int_equal(sim_image_key(in, 2, k2), 0);
	assert_string_equal(k1, k2);
}

/*
 * The digest is SHA-256 over "name\0value\0" pairs in name order, computed
 * here independently, so that a change in the scheme (which would orphan
 * every cache) is a deliberate one.
 */
static void key_matches_the_documented_scheme(void **state)
{
	struct sim_image_input in[] = { { "a", "1" } };
	unsigned char digest[crypto_hash_sha256_BYTES];
	char key[SIM_KEY_HEX + 1], want[SIM_KEY_HEX + 1];

	crypto_hash_sha256(digest,
			   (const unsigned char *)"a\0"
						  "1",
			   4);
	for (int i = 0; i < SIM_KEY_HEX / 2; i++)
		snprintf(want + 2 * i, 3, "%02x", digest[i]);
	assert_int_equal(sim_image_key(in, 1, key), 0);
	assert_string_equal(key, want);
}

static void order_does_not_matter(void **state)
{
	struct sim_image_input a[] = { { "x", "1" }, { "y", "2" }, { "z", "3" } };
	struct sim_image_input b[] = { { "z", "3" }, { "x", "1" }, { "y", "2" } };
	char ka[SIM_KEY_HEX + 1], kb[SIM_KEY_HEX + 1];

	assert_int_equal(sim_image_key(a, 3, ka), 0);
	assert_int_equal(sim_image_key(b, 3, kb), 0);
	assert_string_equal(ka, kb);
}

static void any_change_changes_the_key(void **state)
{
	struct sim_image_input base[] = { { "kernel", "6.1.0-50" }, { "busybox", "1.35" } };
	struct sim_image_input value[] = { { "kernel", "6.1.0-51" }, { "busybox", "1.35" } };
	struct sim_image_input name[] = { { "kernel2", "6.1.0-50" }, { "busybox", "1.35" } };
	/* Moving bytes between name and value must not collide. */
	struct sim_image_input shift[] = { { "kernel6", ".1.0-50" }, { "busybox", "1.35" } };
	struct sim_image_input more[] = { { "kernel", "6.1.0-50" },
					  { "busybox", "1.35" },
					  { "rdma", "44" } };
	char k0[SIM_KEY_HEX + 1], k[SIM_KEY_HEX + 1];

	assert_int_equal(sim_image_key(base, 2, k0), 0);
	assert_int_equal(sim_image_key(value, 2, k), 0);
	assert_string_not_equal(k0, k);
	assert_int_equal(sim_image_key(name, 2, k), 0);
	assert_string_not_equal(k0, k);
	assert_int_equal(sim_image_key(shift, 2, k), 0);
	assert_string_not_equal(k0, k);
	assert_int_equal(sim_image_key(more, 3, k), 0);
	assert_string_not_equal(k0, k);
}

static void duplicate_names_are_refused(void **state)
{
	struct sim_image_input in[] = { { "kernel", "a" }, { "x", "1" }, { "kernel", "b" } };
	char k[SIM_KEY_HEX + 1];

	assert_int_equal(sim_image_key(in, 3, k), -EINVAL);
}

static void file_hash(void **state)
{
	char path[] = "/tmp/cvmm-test-hash.XXXXXX", hex[65];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	close(fd);
	assert_int_equal(sim_hash_file(path, hex), 0);
	/* FIPS 180-2 test vector for "abc". */
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	unlink(path);
	assert_int_equal(sim_hash_file(path, hex), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(key_is_16_hex_digits_and_stable),
		cmocka_unit_test(key_matches_the_documented_scheme),
		cmocka_unit_test(order_does_not_matter),
		cmocka_unit_test(any_change_changes_the_key),
		cmocka_unit_test(duplicate_names_are_refused),
		cmocka_unit_test(file_hash),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
