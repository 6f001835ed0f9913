#!/bin/bash
# Elasticity on a running guest (issue 8): one guest across two emulated
# nodes, one vCPU each, as in vc-smp.sh. While the guest's workloads run:
#   1. node 1 moves its running vCPU 1 to node 0 (`cvmm monitor SOCKET
#      vcpu-move 1 0`), and node 0 moves it back;
#   2. node 1 leaves the virtual computer (`leave 0 verify`): vCPU 1 moves to
#      node 0, every vCPU pauses, node 1 hands every page it homes or owns
#      over to node 0, and the guest memory's checksum before and after the
#      hand-over (guest paused) must match; node 1's `cvmm node` exits 0;
#   3. node 0 checksums the running guest's memory (`checksum`): asked for as
#      soon as vCPU 1 runs there, while node 1 may still be handing over, it
#      waits for the hand-over's end (one cluster-wide pause at a time).
# The workloads must self-verify with threads on both vCPUs, and the guest
# must power off normally on node 0.
#
# In the long tier (make test-long), not make test: in 1 of 3 runs on
# 2026-11-22 the guest stopped making progress after the moves (its
# workloads never finished; every step above passed, checksums equal). The
# likely cause, found by vc-elastic, was step 3's pause and resume letting
# the vCPUs run in the middle of node 1's hand-over; fixed since
# (cvmm/cluster-pause.c), not yet re-run here.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/console.sh"
guest=${CVMM_GUEST_DIR:-$CVMM_TOP/build/guest}
[ -f "$guest/bzImage" ] || { ok 1 "no guest kernel in $guest (make guest builds it)"; tap_done; }
dir=$CVMM_TOP/build/test-tmp
mkdir -p "$dir"
vc=$dir/vc-evict.$$.json
script=$dir/vc-evict.$$.sh
out=$CVMM_TOP/build/test-logs/long/vc-evict.console
mkdir -p "$(dirname "$out")"
trap 'rm -f "$vc" "$script"' EXIT
cat >"$vc" <<JSON
{
  "name": "vc-evict",
  "transport": "tcp",
  "guest": {
    "kernel": "$guest/bzImage",
    "initrd": "$guest/initrd.cpio.gz",
    "cmdline": "console=ttyS0 panic=-1 maxcpus=1 cvmm.test=online,memory,locks,sleep:40 cvmm.ops=${CVMM_VC_EVICT_OPS:-150}"
  },
  "nodes": [
    { "id": 0, "address": "10.77.0.1", "cpus": [0], "memory": "512M" },
    { "id": 1, "address": "10.77.0.2", "cpus": [1], "memory": "512M" }
  ]
}
JSON
# Run on each node: its part of the VC with a monitor socket, and its steps.
echo ". $CVMM_TOP/tests/lib/node-steps.sh" >"$script"
cat >>"$script" <<'SH'
id=$CVMM_NODE_ID
mon=/tmp/cvmm-node.mon
cvmm node --vc "$1" --id "$id" --stats --monitor $mon --timeout "$2" &
pid=$!
if [ "$id" = 1 ]; then
	# CPU 1 runs here once it makes hypercalls (IPIs, spinlock waits).
	wait_for 600 stats 'calls=[1-9]' || echo "step 1: CPU 1 never ran on node 1"
	step 1 "vcpu-move 1 0"
	wait_for 120 placement '^vcpu 1 node 1$' || echo "step 3: vCPU 1 never came back"
	sleep 2
	step 3 "leave 0 verify"
else
	wait_for 900 placement '^vcpu 1 node 0$' || echo "step 2: vCPU 1 never came to node 0"
	sleep 1 # the workloads run fast with both vCPUs here: move it back soon
	step 2 "vcpu-move 1 1"
	sleep 5
	wait_for 300 placement '^vcpu 1 node 0$' || echo "step 4: node 1 never left"
	sleep 2
	step 4 checksum
fi
wait $pid
rc=$?
echo "node $id: cvmm node exited $rc"
exit $rc
SH

start=$(date +%s)
flock /tmp/cvmm-sim.lock "$cvmm" sim --nodes 2 --node-cpus 2 --node-mem 2G --kvm-amd npt=0 --all \
	--timeout 1500 -- sh "$script" "$vc" "${CVMM_VC_EVICT_TIMEOUT:-1400}" >"$out" 2>&1
rc=$?
secs=$(($(date +%s) - start))

before=$(node_line 1 'step 3: .*checksum ([0-9a-f]+/[0-9]+) before.*')
after=$(node_line 1 'step 3: .*checksum [0-9a-f]+/[0-9]+ before ([0-9a-f]+/[0-9]+) after.*')

ok $rc "both nodes exit 0: node 1 left, the guest powered off on node 0 (status $rc, ${secs}s)"
has "^\[node1\] step 1: ok vcpu 1 node 0 downtime_us [0-9]+"
ok $? "node 1 moved the running vCPU 1 to node 0: $(node_line 1 'step 1: (.*)')"
has "^\[node0\] step 2: ok vcpu 1 node 1 downtime_us [0-9]+"
ok $? "node 0 moved it back to node 1: $(node_line 0 'step 2: (.*)')"
has "^\[node1\] step 3: .*ok left to node0 vcpus 1 pages [1-9][0-9]* "
ok $? "node 1 left: its vCPU moved, its pages went to node 0: $(node_line 1 'step 3: .*(ok left.*)')"
has "^\[node1\] step 3: .*progress pages [0-9]+/[0-9]+ "
ok $? "the hand-over showed its progress: $(node_line 1 'step 3: (progress [^p]*).*')"
[ -n "$before" ] && [ "$before" = "$after" ] && [ "${before#*/}" -gt 0 ]
ok $? "the paused guest's memory checksum is the same before and after the hand-over ($before, $after)"
has "^\[node1\] node 1: cvmm node exited 0$"
ok $? "node 1's cvmm node exited 0 after leaving"
has "^\[node0\] step 4: ok checksum [0-9a-f]+ pages [1-9]"
ok $? "node 0 alone checksums the running guest's memory: $(node_line 0 'step 4: (.*)')"
has "^\[node0\] cvmm-guest-test: memory: PASS threads=2"
ok $? "memory workload self-verifies across the moves and the hand-over"
has "^\[node0\] cvmm-guest-test: locks: PASS threads=2"
ok $? "lock workload self-verifies with both vCPUs on node 0"
has "^\[node0\] node 0: cvmm node exited 0$"
ok $? "node 0 ran the guest to its poweroff"
if [ "$tap_failed" = 0 ]; then
	grep -E "step|moved|runs here|left|handed|cvmm-guest|cluster node" "$out" | sed 's/^/# /'
else
	diag_file "$out" 120
fi
echo "# console: $out"
tap_done
