# cvmm/: the per-node monitor, the `cvmm` command table, and shared helpers.
#
# Conventions (every layer's build.mk follows them):
#   BINS += name          a program installed as build/bin/name
#   name_SRCS := ...      its sources (paths from the repository root)
#   name_LIBS := ...      extra linker flags
#   UNIT_TESTS += test-x  a cmocka unit test built as build/tests/unit/test-x
#   test-x_SRCS := ...    its sources; test-x_LIBS := ... its libraries

LIB_SRCS := cvmm/lib/log.c cvmm/lib/parse.c cvmm/lib/fdio.c

CVMM_MAIN_SRCS := cvmm/main.c

BINS += cvmm
cvmm_SRCS = $(CVMM_MAIN_SRCS) $(CVMM_SRCS) $(MGMT_SRCS) $(DRIVERS_SRCS) $(LIB_SRCS)
cvmm_LIBS = $(CVMM_LIBS) $(MGMT_LIBS)
