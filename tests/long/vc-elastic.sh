#!/bin/bash
# Issue 8's acceptance on three emulated nodes: hot-add and eviction of nodes
# in a running virtual computer, without losing the guest or its memory.
#   - The guest boots across nodes 0 and 1 (one vCPU each). Node 2 is part of
#     the description but joins later ("join": "later"): its vCPU 2 is
#     declared to the guest, offline, and its NUMA node's memory is served by
#     node 0 meanwhile.
#   - While the guest's workloads run, node 2 starts and joins the DSM; node 0
#     tells the guest (node-join 2), which brings CPU 2 online on node 2; the
#     workloads after that run with three threads.
#   - Node 1 then leaves while the workload runs (`leave 0 verify`): its vCPU
#     moves to node 0, its pages go to node 0, and the checksum of the paused
#     guest's memory before and after the hand-over must match.
#   - Node 0 checksums the running guest at the end; the workloads
#     self-verify; the guest powers off; every node exits 0.
# The nodes coordinate over the interconnect with busybox nc. Three emulated
# nodes on two cores take ~12 min: this runs in `make test-long`.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/console.sh"
guest=${CVMM_GUEST_DIR:-$CVMM_TOP/build/guest}
[ -f "$guest/bzImage" ] || { ok 1 "no guest kernel in $guest (make guest builds it)"; tap_done; }
dir=$CVMM_TOP/build/test-tmp
mkdir -p "$dir"
vc=$dir/vc-elastic.$$.json
script=$dir/vc-elastic.$$.sh
out=$CVMM_TOP/build/test-logs/long/vc-elastic.console
mkdir -p "$(dirname "$out")"
trap 'rm -f "$vc" "$script"' EXIT
ops=${CVMM_VC_ELASTIC_OPS:-60}
cat >"$vc" <<JSON
{
  "name": "vc-elastic",
  "transport": "tcp",
  "guest": {
    "kernel": "$guest/bzImage",
    "initrd": "$guest/initrd.cpio.gz",
    "cmdline": "console=ttyS0 panic=-1 maxcpus=1 cvmm.test=online,memory,hotadd,memory,locks,sleep:40 cvmm.ops=$ops"
  },
  "nodes": [
    { "id": 0, "address": "10.77.0.1", "cpus": [0], "memory": "512M" },
    { "id": 1, "address": "10.77.0.2", "cpus": [1], "memory": "512M" },
    { "id": 2, "address": "10.77.0.3", "cpus": [2], "memory": "512M", "join": "later" }
  ]
}
JSON
echo ". $CVMM_TOP/tests/lib/node-steps.sh" >"$script"
cat >>"$script" <<'SH'
id=$CVMM_NODE_ID
mon=/tmp/cvmm-node.mon
case $id in
2)
	sleep "${3:-60}" # the guest is running its first workload by now
	echo "step 1: node 2 starts"
	cvmm node --vc "$1" --id 2 --stats --timeout "$2" &
	pid=$!
	;;
1)
	cvmm node --vc "$1" --id 1 --stats --monitor $mon --timeout "$2" &
	pid=$!
	nc -l -p 7601 >/dev/null # node 0: the guest uses CPU 2 now
	step 3 "leave 0 verify"
	;;
0)
	cvmm node --vc "$1" --id 0 --stats --monitor $mon --timeout "$2" &
	pid=$!
	wait_for 1200 "rtt 2 1" '^ok' || echo "step 2: node 2 never joined"
	step 2 "node-join 2"
	echo go | nc 10.77.0.2 7601
	wait_for 600 placement '^vcpu 1 node 0$' || echo "step 4: node 1 never left"
	step 4 placement
	step 5 checksum
	;;
esac
wait $pid
rc=$?
echo "node $id: cvmm node exited $rc"
exit $rc
SH

start=$(date +%s)
flock /tmp/cvmm-sim.lock "$cvmm" sim --nodes 3 --node-cpus 2 --node-mem 2G --kvm-amd npt=0 --all \
	--timeout 2400 -- sh "$script" "$vc" "${CVMM_VC_ELASTIC_TIMEOUT:-2200}" \
	"${CVMM_VC_ELASTIC_JOIN_AFTER:-60}" >"$out" 2>&1
rc=$?
secs=$(($(date +%s) - start))

before=$(node_line 1 'step 3: .*checksum ([0-9a-f]+/[0-9]+) before.*')
after=$(node_line 1 'step 3: .*checksum [0-9a-f]+/[0-9]+ before ([0-9a-f]+/[0-9]+) after.*')

ok $rc "every node exits 0: node 2 joined, node 1 left, the guest powered off (status $rc, ${secs}s)"
has "^\[node0\] cvmm-guest: online cpus=0-1 "
ok $? "the guest booted across nodes 0 and 1 (CPU 2, declared, stayed offline): $(node_line 0 'cvmm-guest: (online cpus=.*)')"
has "^\[node0\] cvmm-guest-test: memory: PASS threads=2"
ok $? "the first workload ran on CPUs 0 and 1"
has "^\[node2\] cvmm node: node2: guest clock set to node0's"
ok $? "node 2 joined the running virtual computer and aligned its clock"
has "^\[node0\] step 2: ok seq [0-9]+ acked [0-9]+ status 0"
ok $? "the guest acknowledged node-join 2: $(node_line 0 'step 2: (.*)')"
has "^\[node0\] cvmm-guest: hotadd online cpus=0-2$" && has "^\[node0\] cvmm-guest: node2 cpus=2$"
ok $? "the guest brought CPU 2 online, in NUMA node 2"
has "^\[node1\] step 3: .*ok left to node0 vcpus 1 pages [1-9][0-9]* "
ok $? "node 1 left while the workload ran: $(node_line 1 'step 3: .*(ok left.*)')"
[ -n "$before" ] && [ "$before" = "$after" ] && [ "${before#*/}" -gt 0 ]
ok $? "the paused guest's memory checksum matches before and after node 1's hand-over ($before, $after)"
has "^\[node0\] step 4: vcpu 0 node 0 vcpu 1 node 0 vcpu 2 node 2 ok"
ok $? "placement after the eviction: $(node_line 0 'step 4: (.*)')"
has "^\[node0\] step 5: ok checksum [0-9a-f]+ pages [1-9]"
ok $? "node 0 checksums the guest's memory after the eviction: $(node_line 0 'step 5: (.*)')"
has "^\[node0\] cvmm-guest-test: memory: PASS threads=3" && has "^\[node0\] cvmm-guest-test: locks: PASS threads=3"
ok $? "the workloads after the hot-add used the 3 CPUs and self-verified across the eviction"
for n in 0 1 2; do
	has "^\[node$n\] node $n: cvmm node exited 0$"
	ok $? "node $n's cvmm node exited 0"
done
if [ "$tap_failed" = 0 ]; then
	grep -E "step|moved|runs here|left|joined|handed|cvmm-guest|cluster node" "$out" | sed 's/^/# /'
else
	diag_file "$out" 150
fi
echo "# console: $out"
tap_done
