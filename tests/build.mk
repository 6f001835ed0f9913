# tests/: unit tests (cmocka), test programs run inside sim nodes, test tiers.
#
# Unit tests assume nothing of the machine: no /dev/kvm, no root, no network,
# no threads unless the code under test owns them.

UNIT_TESTS += test-parse
test-parse_SRCS := tests/unit/test-parse.c $(LIB_SRCS)
