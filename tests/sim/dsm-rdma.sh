#!/bin/bash
# dsm-rdma.sh - the DSM over the rdma transport (dsm/tp-rdma.c) on soft-RoCE
# between sim nodes. One 3-node --rdma cluster runs the stages of
# lib/dsm-rdma-node.sh (2-node and 3-node dsm-stress, maximum contention, a
# killed peer, no verbs objects leaked after it, no rxe link); one node
# without --rdma checks the "no RDMA device" error.
#   CVMM_BIN=build/san/bin (after make SAN=1) runs it all under ASan/UBSan.
#   OPS, HOT_OPS size the stress runs (a 3000-op run takes ~10-20 s on a
#   loaded 2-core host).
. "$(dirname "$0")/../lib/tap.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
here=$(cd "$(dirname "$0")" && pwd)
export CVMM_OPS=${OPS:-3000} CVMM_HOT_OPS=${HOT_OPS:-2000}

# CVMM_* variables pass into the nodes; the node script reads OPS/HOT_OPS.
t0=$(date +%s)
"$cvmm" sim --nodes 3 --rdma --all --timeout 420 -- \
	sh -c "OPS=\$CVMM_OPS HOT_OPS=\$CVMM_HOT_OPS $here/lib/dsm-rdma-node.sh" \
	>"$work/c.out" 2>&1
rc=$?
mkdir -p "$CVMM_TOP/build/test-tmp" && cp "$work/c.out" "$CVMM_TOP/build/test-tmp/dsm-rdma-cluster.out"
ok $rc "3-node --rdma cluster ran every stage (status $rc, $(($(date +%s) - t0)) s)"

# stage_rc NODE STAGE: the status the node printed for the stage.
stage_rc() { sed -n "s/^\[node$1\] STAGE $2 rc=\([0-9]*\).*/\1/p" "$work/c.out" | head -1; }

for n in 0 1; do
	r=$(stage_rc $n two)
	ok $([ "$r" = 0 ]; echo $?) "node$n: 2-node dsm-stress over rdma (payload=write) passes (status ${r:-none})"
done
grep -q "^\[node0\] node 0: .* mismatches 0" "$work/c.out"
ok $? "node0 reports 0 mismatches"
for n in 0 1 2; do
	r=$(stage_rc $n three)
	ok $([ "$r" = 0 ]; echo $?) "node$n: 3-node dsm-stress over rdma (payload=send, the default) passes (status ${r:-none})"
done
for n in 0 1 2; do
	r=$(stage_rc $n hot)
	ok $([ "$r" = 0 ]; echo $?) "node$n: 3-node maximum contention (8 hot pages) passes (status ${r:-none})"
done
grep -q "^\[node0\] dsm-stress\[0\]: dsm rdma: node 0: device rxe0 port 1 active .*gid\[1\] ::ffff:10.77.0.1 RoCE v2 eth0" "$work/c.out"
ok $? "inventory: dsm-stress reports rxe0, its port state and its GIDs"
grep -q "node0 up after .* rdma=rxe0 gids=.*rxe0/1/1=::ffff:10.77.0.1/v2/eth0" "$work/c.out"
ok $? "inventory: the node agent reports rxe0's GIDs"
grep -q "^\[node1\] dsm-stress\[1\]: dsm rdma: node 1: using rxe0 port 1 gid\[1\] ::ffff:10.77.0.2 mtu 1024, payload send" "$work/c.out"
ok $? "the RoCE v2 GID of the node's own address is chosen, payload send by default"

for n in 0 1; do
	r=$(stage_rc $n kill)
	ok $([ "$r" = 3 ]; echo $?) "node$n: dsm-stress exits 3 when node 2 is killed (status ${r:-none})"
	grep -q "^\[node$n\] dsm-stress: node $n: FAIL: peer 2 failed" "$work/c.out"
	ok $? "node$n: reports 'peer 2 failed'"
done
grep "FAIL: peer 2 failed" "$work/c.out" | sed 's/^/# /'

for n in 0 1; do
	r=$(stage_rc $n leak)
	ok $([ "$r" = 0 ]; echo $?) "node$n: survives a killed peer, reports it and tears down (status ${r:-none})"
	grep -q "^\[node$n\] dsm-rdma-bench: node $n: no leaked PD, CQ, QP or MR" "$work/c.out"
	ok $? "node$n: no verbs object leaked after the peer failed (rdma res before/after)"
done
grep "peer 2 failed, reported\|verbs objects" "$work/c.out" | sed 's/^/# /'

r=$(stage_rc 2 norxe)
ok $([ "$r" = 1 ]; echo $?) "node2 without an rxe link: dsm-stress fails at start (status ${r:-none})"
grep -q "^\[node2\] .*no RDMA device: rdma_rxe is loaded but no rxe link exists" "$work/c.out"
ok $? "... and the message names the missing rxe link"
[ $rc = 0 ] && [ $tap_failed = 0 ] ||
	echo "# the cluster's output is in build/test-tmp/dsm-rdma-cluster.out"

# A node booted without --rdma: no device at all.
"$cvmm" sim --nodes 1 --timeout 120 -- \
	dsm-stress --join 10.77.0.1,10.77.0.2 --transport rdma --ops 10 \
	>"$work/n.out" 2>&1
rc=$?
ok $([ $rc = 1 ]; echo $?) "no --rdma: dsm-stress --transport rdma fails at start with status 1 (got $rc)"
grep -q "no RDMA device" "$work/n.out"
ok $? "... naming what is missing: $(grep -o 'no RDMA device.*' "$work/n.out" | head -1)"
tap_done
