#!/bin/sh
# vc-node.sh VC TIMEOUT - runs inside every sim node (busybox sh): this node's
# `cvmm node --vc VC --stats`, and meanwhile, once a second, one line on
# standard error (the guest's console is on standard output: the two must
# not mix within a line)
#   cvmm-bench: dsm faults=N wait_ms=M
#   cvmm-bench: hot ADDR=F ADDR=F ...
# N: the node's DSM faults so far (read, write and upgrade), M: the time they
# took, estimated from the live statistics file's latency histogram (each
# fault counted at 3/4 of its power-of-two bucket's bound), so that the bench
# can tell how many faults fell in a phase of the guest's run and how long
# the node's vCPUs waited on them; the hot line: the pages the node faulted
# on most since the file's previous sample, F faults each (the second line
# only when there were any).
vc=$1
timeout=$2
stats=/tmp/cvmm-bench-stats.$$
CVMM_STATS_FILE=$stats cvmm node --vc "$vc" --id "$CVMM_NODE_ID" --stats --timeout "$timeout" &
node=$!
while kill -0 "$node" 2>/dev/null; do
	sleep 1
	[ -f "$stats" ] && awk '
	/^cvmm_dsm_faults_total/ { n += $NF }
	/^cvmm_dsm_fault_latency_seconds_bucket/ {
		kind = $0
		sub(/.*kind="/, "", kind)
		sub(/".*/, "", kind)
		le = $0
		sub(/.*le="/, "", le)
		sub(/".*/, "", le)
		if (kind != last_kind)
			prev = 0
		c = $NF - prev
		prev = $NF
		last_kind = kind
		if (le == "+Inf")
			bound *= 2
		else
			bound = le + 0
		ms += c * 0.75 * bound * 1000
	}
	/^cvmm_dsm_hot_page_faults\{/ {
		page = $0
		sub(/.*page="/, "", page)
		sub(/".*/, "", page)
		hot = hot " " page "=" $NF
	}
	END {
		printf "cvmm-bench: dsm faults=%d wait_ms=%.0f\n", n, ms
		if (hot)
			print "cvmm-bench: hot" hot
	}' "$stats" >&2
done
wait "$node"
rc=$?
rm -f "$stats"
exit $rc
