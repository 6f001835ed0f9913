#!/bin/bash
# A virtual computer of two emulated nodes: node 0 runs the guest's vCPUs,
# node 1 homes the upper half of guest memory, and the DSM keeps it coherent.
# The guest must boot and pass its workloads on that memory, and the pages
# node 0 fetched must be the pages node 1 sent.
. "$(dirname "$0")/../lib/tap.sh"
guest=${CVMM_GUEST_DIR:-$CVMM_TOP/build/guest}
[ -f "$guest/bzImage" ] || { ok 1 "no guest kernel in $guest (make guest builds it)"; tap_done; }
# The description must be readable inside the nodes: put it in this tree.
dir=$CVMM_TOP/build/test-tmp
mkdir -p "$dir"
vc=$dir/vc-memory.$$.json
out=$(mktemp)
trap 'rm -f "$out" "$vc"' EXIT
cat >"$vc" <<JSON
{
  "name": "vc-memory",
  "transport": "tcp",
  "guest": {
    "kernel": "$guest/bzImage",
    "initrd": "$guest/initrd.cpio.gz",
    "cmdline": "console=ttyS0 panic=-1 cvmm.test=memory,locks"
  },
  "nodes": [
    { "id": 0, "address": "10.77.0.1", "cpus": [0, 1], "memory": "512M" },
    { "id": 1, "address": "10.77.0.2", "cpus": [], "memory": "512M" }
  ]
}
JSON

"$cvmm" sim --nodes 2 --node-cpus 2 --node-mem 2G --kvm-amd npt=0 --all --timeout 900 -- \
	sh -c "cvmm node --vc '$vc' --id \$CVMM_NODE_ID --stats --timeout 800" >"$out" 2>&1
rc=$?
ok $rc "both nodes exit 0: the guest powered off and the memory node saw it leave (status $rc)"
grep -q "^\[node0\] cvmm-guest: cpus=2 online=0-1" "$out"
ok $? "the guest booted to init with its 2 vCPUs"
grep -q "^\[node0\] cvmm-guest-test: memory: PASS threads=2" "$out"
ok $? "memory workload self-verifies on DSM-backed memory"
grep -q "^\[node0\] cvmm-guest-test: locks: PASS threads=2" "$out"
ok $? "lock workload self-verifies"
fetched=$(sed -n 's/^\[node0\] cvmm node: node0 stats: .*remote fetches \([0-9]*\);.*/\1/p' "$out")
sent=$(sed -n 's/^\[node1\] cvmm node: node1 stats: .*pages in [0-9]* out \([0-9]*\);.*/\1/p' "$out")
[ -n "$fetched" ] && [ "$fetched" -gt 0 ]
ok $? "node 0 fetched pages homed on node 1 (${fetched:-none})"
[ -n "$sent" ] && [ "$sent" = "$fetched" ]
ok $? "node 1 sent exactly the pages node 0 fetched (${sent:-none})"
[ "$tap_failed" = 0 ] || diag_file "$out" 60
tap_done
