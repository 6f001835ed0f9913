# dsm/: distributed shared memory for guest RAM.
DSM_SRCS :=
