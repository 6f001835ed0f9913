// SPDX-License-Identifier: GPL-2.0
/* The reset-vector stub: its bytes, the port and value it writes, its loop. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cvmm/x86/bios.h"

static void stub_byte_for_byte(void **state)
{
	static const uint8_t want[] = {
		0xfa,		  /* cli */
		0xb0, 0x01,	  /* mov al, 1 */
		0xba, 0x02, 0x06, /* mov dx, 0x602 */
		0xee,		  /* out dx, al */
		0xf4,		  /* hlt */
		0xeb, 0xfd,	  /* jmp back to the hlt */
	};
	uint8_t buf[BIOS_RESET_VECTOR_LEN];

	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(x86_bios__reset_stub(buf, sizeof(buf), 0x602, 1), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(buf[sizeof(want)], 0xee); /* nothing written past it */
}

/* The short jump's target is the hlt: offset of the next byte + rel8. */
static void loop_returns_to_hlt(void **state)
{
	uint8_t buf[BIOS_RESET_VECTOR_LEN];
	int len = x86_bios__reset_stub(buf, sizeof(buf), 0xcf9, 0x0e);

	assert_int_equal(buf[len - 2], 0xeb);
	assert_int_equal(buf[len + (int8_t)buf[len - 1]], 0xf4);
	assert_int_equal(buf[2], 0x0e);
	assert_int_equal(buf[4] | buf[5] << 8, 0xcf9);
}

/* It must fit between F000:FFF0 and the end of the first MiB. */
static void fits_the_reset_vector(void **state)
{
	uint8_t buf[BIOS_RESET_VECTOR_LEN];
	int len = x86_bios__reset_stub(buf, sizeof(buf), 0x602, 1);

	assert_true(len > 0 && len <= BIOS_RESET_VECTOR_LEN);
	assert_int_equal(BIOS_RESET_VECTOR + BIOS_RESET_VECTOR_LEN, 0x100000);
	assert_int_equal(x86_bios__reset_stub(buf, (size_t)len - 1, 0x602, 1), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stub_byte_for_byte),
		cmocka_unit_test(loop_returns_to_hlt),
		cmocka_unit_test(fits_the_reset_vector),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
