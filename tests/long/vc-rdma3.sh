#!/bin/bash
# One guest across three emulated nodes over soft-RoCE (issue 7's rdma
# acceptance): one vCPU per node, the DSM on the rdma transport, the guest's
# init brings CPUs 1 and 2 online (on nodes 1 and 2) and runs its workloads.
# Three emulated nodes on two cores are slow (a remote fault costs ~3 ms and
# each node gets two thirds of a core): ~15 min, so this runs in
# `make test-long`, not in `make test`.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/console.sh"
guest=${CVMM_GUEST_DIR:-$CVMM_TOP/build/guest}
[ -f "$guest/bzImage" ] || { ok 1 "no guest kernel in $guest (make guest builds it)"; tap_done; }
dir=$CVMM_TOP/build/test-tmp
mkdir -p "$dir"
vc=$dir/vc-rdma3.$$.json
out=$CVMM_TOP/build/test-logs/long/vc-rdma3.console
mkdir -p "$(dirname "$out")"
trap 'rm -f "$vc"' EXIT
cat >"$vc" <<JSON
{
  "name": "vc-rdma3",
  "transport": "rdma",
  "guest": {
    "kernel": "$guest/bzImage",
    "initrd": "$guest/initrd.cpio.gz",
    "cmdline": "console=ttyS0 panic=-1 maxcpus=1 nohz_full=1-N cvmm.test=online,memory,locks cvmm.ops=${CVMM_VC_RDMA3_OPS:-10}"
  },
  "nodes": [
    { "id": 0, "address": "10.77.0.1", "cpus": [0], "memory": "512M" },
    { "id": 1, "address": "10.77.0.2", "cpus": [1], "memory": "512M" },
    { "id": 2, "address": "10.77.0.3", "cpus": [2], "memory": "512M" }
  ]
}
JSON
start=$(date +%s)
flock /tmp/cvmm-sim.lock "$cvmm" sim --nodes 3 --rdma --node-cpus 2 --node-mem 2G --kvm-amd npt=0 \
	--all --timeout 2400 -- sh -c "cvmm node --vc '$vc' --id \$CVMM_NODE_ID --stats --timeout 2200" \
	>"$out" 2>&1
rc=$?
secs=$(($(date +%s) - start))

ok $rc "all three nodes exit 0: the guest powered off (status $rc, ${secs}s)"
has "^\[node0\] cvmm node: node0: joining 3 nodes over rdma"
ok $? "the DSM runs over rdma (soft-RoCE)"
has "^\[node0\] cvmm-guest: online cpus=0-2 "
ok $? "CPUs 1 and 2 came online on nodes 1 and 2"
has "^\[node0\] cvmm-guest: node0 cpus=0$" && has "^\[node0\] cvmm-guest: node1 cpus=1$" &&
	has "^\[node0\] cvmm-guest: node2 cpus=2$"
ok $? "one guest NUMA node per cluster node"
has "^\[node0\] cvmm-guest-test: memory: PASS threads=3"
ok $? "memory workload self-verifies with threads on the three nodes"
has "^\[node0\] cvmm-guest-test: locks: PASS threads=3"
ok $? "lock workload self-verifies with threads on the three nodes"
if [ "$tap_failed" = 0 ]; then
	grep -E "cvmm-guest|cluster node|stats:|clock set" "$out" | sed 's/^/# /'
else
	diag_file "$out" 80
fi
echo "# console: $out"
tap_done
