// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cvmm/lib/parse.h"

static void sizes_with_suffixes(void **state)
{
	uint64_t v;

	assert_int_equal(parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("512M", &v), 0);
	assert_int_equal(v, 512ull << 20);
	assert_int_equal(parse_size("1G", &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(parse_size("2k", &v), 0);
	assert_int_equal(v, 2048);
	assert_int_equal(parse_size("3GiB", &v), 0);
	assert_int_equal(v, 3ull << 30);
	assert_int_equal(parse_size("1T", &v), 0);
	assert_int_equal(v, 1ull << 40);
}

static void sizes_rejected(void **state)
{
	uint64_t v = 7;

	assert_int_equal(parse_size("", &v), -EINVAL);
	assert_int_equal(parse_size("G", &v), -EINVAL);
	assert_int_equal(parse_size("-1G", &v), -EINVAL);
	assert_int_equal(parse_size("1X", &v), -EINVAL);
	assert_int_equal(parse_size("1GG", &v), -EINVAL);
	assert_int_equal(parse_size("1 G", &v), -EINVAL);
	assert_int_equal(parse_size("99999999999T", &v), -ERANGE);
	assert_int_equal(v, 7); /* untouched on error */
}

static void uints_in_range(void **state)
{
	unsigned long v;

	assert_int_equal(parse_uint("3", 1, 16, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(parse_uint("0", 1, 16, &v), -ERANGE);
	assert_int_equal(parse_uint("17", 1, 16, &v), -ERANGE);
	assert_int_equal(parse_uint("3x", 1, 16, &v), -EINVAL);
	assert_int_equal(parse_uint("", 1, 16, &v), -EINVAL);
	assert_int_equal(parse_uint("+3", 1, 16, &v), -EINVAL);
}

static void sizes_formatted(void **state)
{
	char buf[32];

	assert_string_equal(format_size(1ull << 30, buf, sizeof(buf)), "1G");
	assert_string_equal(format_size(1536ull << 20, buf, sizeof(buf)), "1536M");
	assert_string_equal(format_size(4096, buf, sizeof(buf)), "4K");
	assert_string_equal(format_size(1000, buf, sizeof(buf)), "1000");
	assert_string_equal(format_size(0, buf, sizeof(buf)), "0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes_with_suffixes),
		cmocka_unit_test(sizes_rejected),
		cmocka_unit_test(uints_in_range),
		cmocka_unit_test(sizes_formatted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
