// SPDX-License-Identifier: GPL-2.0
/* vCPU state serialization: round trip, and every way a buffer can be bad. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cvmm/x86/vcpu_state.h"

/* Every byte of the state gets a value that depends on its position. */
static void fill(struct vcpu_state *st, uint32_t nr_msrs)
{
	uint8_t *p = (uint8_t *)st;

	for (size_t i = 0; i < offsetof(struct vcpu_state, nr_msrs); i++)
		p[i] = (uint8_t)(i * 31 + 7);
	memset(&st->nr_msrs, 0, sizeof(*st) - offsetof(struct vcpu_state, nr_msrs));
	st->nr_msrs = nr_msrs;
	for (uint32_t i = 0; i < nr_msrs && i < VCPU_STATE_MAX_MSRS; i++)
		st->msrs[i] = (struct vcpu_msr){ 0xc0000080 + i, 0x0123456789abcdefull ^ i };
}

static void round_trip(void **state)
{
	struct vcpu_state *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	size_t size;
	uint8_t *buf;

	fill(a, 37);
	size = vcpu_state__size(a);
	buf = malloc(size);
	assert_int_equal(vcpu_state__serialize(a, buf, size), (long)size);
	assert_memory_equal(buf, "CVMMVCPU", 8);
	assert_int_equal(vcpu_state__deserialize(buf, size, b), 0);
	assert_memory_equal(a, b, offsetof(struct vcpu_state, msrs) + 37 * sizeof(a->msrs[0]));
	/* Fields really travelled: spot checks of what KVM cares about. */
	assert_int_equal(b->regs.rip, a->regs.rip);
	assert_int_equal(b->sregs.cr3, a->sregs.cr3);
	assert_memory_equal(b->xsave.region, a->xsave.region, sizeof(a->xsave.region));
	assert_int_equal(b->msrs[36].value, 0x0123456789abcdefull ^ 36);
	free(buf);
	free(a);
	free(b);
}

static void size_is_exact(void **state)
{
	struct vcpu_state *a = calloc(1, sizeof(*a));
	uint8_t *buf;
	size_t size;

	fill(a, 0);
	size = vcpu_state__size(a);
	buf = malloc(size);
	assert_int_equal(vcpu_state__serialize(a, buf, size - 1), -ENOSPC);
	assert_int_equal(vcpu_state__serialize(a, buf, size), (long)size);
	fill(a, VCPU_STATE_MAX_MSRS + 1);
	assert_int_equal(vcpu_state__serialize(a, buf, size), -ENOSPC);
	free(buf);
	free(a);
}

struct blob {
	struct vcpu_state *st;
	uint8_t *buf;
	size_t size;
};

static int make_blob(void **state)
{
	struct blob *b = calloc(1, sizeof(*b));

	b->st = calloc(1, sizeof(*b->st));
	fill(b->st, 4);
	b->size = vcpu_state__size(b->st);
	b->buf = malloc(b->size + 64);
	if (vcpu_state__serialize(b->st, b->buf, b->size) != (long)b->size)
		return -1;
	*state = b;
	return 0;
}

static int free_blob(void **state)
{
	struct blob *b = *state;

	free(b->buf);
	free(b->st);
	free(b);
	return 0;
}

static void rejects_bad_magic_and_version(void **state)
{
	struct blob *b = *state;

	b->buf[0] ^= 1;
	assert_int_equal(vcpu_state__deserialize(b->buf, b->size, b->st), -EBADMSG);
	b->buf[0] ^= 1;
	b->buf[8] = 2;
	assert_int_equal(vcpu_state__deserialize(b->buf, b->size, b->st), -EPROTONOSUPPORT);
}

static void rejects_every_truncation(void **state)
{
	struct blob *b = *state;

	for (size_t len = 0; len < b->size; len += 97)
		assert_int_equal(vcpu_state__deserialize(b->buf, len, b->st), -EBADMSG);
	assert_int_equal(vcpu_state__deserialize(b->buf, b->size - 1, b->st), -EBADMSG);
	/* Trailing garbage is damage too. */
	assert_int_equal(vcpu_state__deserialize(b->buf, b->size + 1, b->st), -EBADMSG);
}

static void rejects_wrong_section_length(void **state)
{
	struct blob *b = *state;

	/* The first section is REGS; its length field follows its id. */
	b->buf[16 + 4] ^= 8;
	assert_int_equal(vcpu_state__deserialize(b->buf, b->size, b->st), -EBADMSG);
}

static void rejects_missing_section(void **state)
{
	struct blob *b = *state;

	/* Claim one section fewer: the last (MP state) goes missing. */
	b->buf[12] = VCPU_SEC_COUNT - 1;
	assert_int_equal(
		vcpu_state__deserialize(b->buf, b->size - 8 - sizeof(struct kvm_mp_state), b->st),
		-EBADMSG);
}

static void skips_unknown_sections(void **state)
{
	struct blob *b = *state;
	uint8_t extra[12] = { 99, 0, 0, 0, 4, 0, 0, 0, 'n', 'e', 'w', '!' };
	struct vcpu_state *out = calloc(1, sizeof(*out));

	memcpy(b->buf + b->size, extra, sizeof(extra));
	b->buf[12] = VCPU_SEC_COUNT + 1;
	assert_int_equal(vcpu_state__deserialize(b->buf, b->size + sizeof(extra), out), 0);
	assert_memory_equal(&out->regs, &b->st->regs, sizeof(out->regs));
	free(out);
}

static void rejects_bad_msr_count(void **state)
{
	struct blob *b = *state;
	size_t off = 16;

	/* Walk to the MSRS section and claim more MSRs than it holds. */
	for (;;) {
		uint32_t id, len;

		memcpy(&id, b->buf + off, 4);
		memcpy(&len, b->buf + off + 4, 4);
		if (id == VCPU_SEC_MSRS)
			break;
		off += 8 + len;
	}
	b->buf[off + 8] = 5;
	assert_int_equal(vcpu_state__deserialize(b->buf, b->size, b->st), -EBADMSG);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, make_blob, free_blob)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),	  cmocka_unit_test(size_is_exact),
		T(rejects_bad_magic_and_version), T(rejects_every_truncation),
		T(rejects_wrong_section_length),  T(rejects_missing_section),
		T(skips_unknown_sections),	  T(rejects_bad_msr_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
