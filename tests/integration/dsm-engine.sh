#!/bin/bash
# The DSM engine with real userfaultfd in one process: three nodes over the
# loop transport, and wire safety against a fake tcp peer (dsm-engine-test
# prints its own TAP).
. "$(dirname "$0")/../lib/tap.sh"

if [ "$(id -u)" != 0 ] && [ "$(cat /proc/sys/vm/unprivileged_userfaultfd 2>/dev/null)" != 1 ] &&
	! [ -w /dev/userfaultfd ]; then
	skip "dsm engine" "userfaultfd needs root here"
	tap_done
fi
exec timeout 120 "$CVMM_BIN/dsm-engine-test"
