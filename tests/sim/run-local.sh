#!/bin/bash
# cvmm run --nodes 2 (local mode) inside one emulated node: the two nodes of a
# virtual computer as two processes on one KVM host, the DSM between them
# over TCP loopback. Every vCPU is on node 0; node 1 homes the upper half of
# guest memory. The guest must boot and pass its workloads, the console must
# carry the guest only, and node 1's output must come prefixed on stderr.
. "$(dirname "$0")/../lib/tap.sh"
guest=${CVMM_GUEST_DIR:-$CVMM_TOP/build/guest}
[ -f "$guest/bzImage" ] || { ok 1 "no guest kernel in $guest (make guest builds it)"; tap_done; }
# The description must be readable inside the node: put it in this tree.
dir=$CVMM_TOP/build/test-tmp
mkdir -p "$dir"
vc=$dir/run-local.$$.json
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err" "$vc"' EXIT
cat >"$vc" <<JSON
{
  "name": "run-local",
  "guest": {
    "kernel": "$guest/bzImage",
    "initrd": "$guest/initrd.cpio.gz",
    "cmdline": "console=ttyS0 panic=-1 cvmm.test=memory,locks"
  },
  "nodes": [
    { "id": 0, "address": "node0", "cpus": [0, 1], "memory": "512M" },
    { "id": 1, "address": "node1", "cpus": [], "memory": "512M" }
  ]
}
JSON

"$cvmm" sim --nodes 1 --node-cpus 2 --node-mem 3G --kvm-amd npt=0 --timeout 900 -- \
	cvmm run --nodes 2 --vc "$vc" --stats --timeout 800 >"$out" 2>"$err"
rc=$?
ok $rc "cvmm run --nodes 2 exits 0: the guest powered off, node 1 left cleanly (status $rc)"
grep -q "^cvmm-guest: cpus=2 online=0-1" "$out"
ok $? "the guest booted to init with its 2 vCPUs, its console on stdout"
grep -q "^cvmm-guest-test: memory: PASS threads=2" "$out"
ok $? "memory workload self-verifies on DSM-backed memory"
grep -q "^cvmm-guest-test: locks: PASS threads=2" "$out"
ok $? "lock workload self-verifies"
! grep -q "node1" "$out"
ok $? "nothing of node 1 on the console"
fetched=$(sed -n 's/^cvmm node: node0 stats: .*remote fetches \([0-9]*\);.*/\1/p' "$err")
sent=$(sed -n 's/^node1: cvmm node: node1 stats: .*pages in [0-9]* out \([0-9]*\);.*/\1/p' "$err")
[ -n "$fetched" ] && [ "$fetched" -gt 0 ]
ok $? "node 0 fetched pages homed on node 1 (${fetched:-none})"
[ -n "$sent" ] && [ "$sent" = "$fetched" ]
ok $? "node 1, its output prefixed node1: on stderr, sent exactly those pages (${sent:-none})"
[ "$tap_failed" = 0 ] || { diag_file "$out" 30; diag_file "$err" 40; }
tap_done
