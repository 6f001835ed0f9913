#!/bin/bash
# run.sh - run every bench/*-bench.sh in turn (make bench). Each prints its
# own figures; the exit status is non-zero if any of them failed.
top=$(cd "$(dirname "$0")" && pwd)
rc=0
for b in "$top"/*-bench.sh; do
	[ -x "$b" ] || continue
	"$b" || { echo "bench: $(basename "$b") failed" >&2; rc=1; }
done
exit $rc
