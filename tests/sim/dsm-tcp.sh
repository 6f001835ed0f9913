#!/bin/bash
# The DSM over TCP between emulated nodes, on the node kernel (Debian 6.1):
# every node runs dsm-stress joined to the others over the interconnect, and
# every node's totals and records must check out.
. "$(dirname "$0")/../lib/tap.sh"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# Each run on its own port: the first run's sockets may linger in TIME_WAIT.
spread=10.77.0.1:7470,10.77.0.2:7470,10.77.0.3:7470
hot=10.77.0.1:7471,10.77.0.2:7471,10.77.0.3:7471

"$cvmm" sim --nodes 3 --all --timeout 900 -- \
	sh -c "dsm-stress --join $spread --id \$CVMM_NODE_ID --pages 1024 --ops 9000 --seed 7 &&
	       dsm-stress --join $hot --id \$CVMM_NODE_ID --pages 1024 --hot 8 --ops 3000 --seed 8" \
	>"$out" 2>&1
rc=$?
ok $rc "3 sim nodes: dsm-stress over tcp, spread and hot runs, exit 0 (status $rc)"
for n in 0 1 2; do
	[ "$(grep -c "^\[node$n\] node $n: .* mismatches 0$" "$out")" = 2 ]
	ok $? "node$n: both runs end with 0 mismatches"
done
[ "$tap_failed" = 0 ] || diag_file "$out" 40
tap_done
