#!/bin/sh
# vc-node.sh VC TIMEOUT - runs inside every sim node (busybox sh): this node's
# `cvmm node --vc VC --stats`, and meanwhile, once a second, one line
#   cvmm-bench: dsm faults=N
# with the node's DSM faults so far (read, write and upgrade, from the live
# statistics file), so that the bench can tell how many faults fell in a
# phase of the guest's run.
vc=$1
timeout=$2
stats=/tmp/cvmm-bench-stats.$$
CVMM_STATS_FILE=$stats cvmm node --vc "$vc" --id "$CVMM_NODE_ID" --stats --timeout "$timeout" &
node=$!
while kill -0 "$node" 2>/dev/null; do
	sleep 1
	[ -f "$stats" ] && awk '/^cvmm_dsm_faults_total/ { n += $NF } END { print "cvmm-bench: dsm faults=" n + 0 }' "$stats"
done
wait "$node"
rc=$?
rm -f "$stats"
exit $rc
