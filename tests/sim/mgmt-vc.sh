#!/bin/bash
# The management plane end to end on an emulated cluster (issue 8): two sim
# nodes boot with their agents serving cvmmctl (cvmm sim --secret), and
# cvmmctl inside node 0 drives a VC of the ported guest across both nodes,
# one vCPU each, as a user would: nodes, vc create, vc start, vc status while
# it runs (placement, live DSM figures from each node's statistics file),
# /metrics, an unsigned request refused, vc console until the guest powers
# off, vc status (both parts exited 0), vc stop.
. "$(dirname "$0")/../lib/tap.sh"
guest=${CVMM_GUEST_DIR:-$CVMM_TOP/build/guest}
[ -f "$guest/bzImage" ] || { ok 1 "no guest kernel in $guest (make guest builds it)"; tap_done; }
dir=$CVMM_TOP/build/test-tmp/mgmt-vc.$$
out=$CVMM_TOP/build/test-logs/sim/mgmt-vc.out
mkdir -p "$dir" "$(dirname "$out")"
trap 'rm -rf "$dir"' EXIT
head -c 32 /dev/urandom | base64 >"$dir/secret"

cat >"$dir/vc.json" <<JSON
{
  "name": "mgmt-vc",
  "transport": "tcp",
  "guest": {
    "kernel": "$guest/bzImage",
    "initrd": "$guest/initrd.cpio.gz",
    "cmdline": "console=ttyS0 panic=-1 maxcpus=1 cvmm.test=online,memory cvmm.ops=${CVMM_MGMT_VC_OPS:-40}"
  },
  "nodes": [
    { "id": 0, "address": "10.77.0.1", "cpus": [0], "memory": "512M" },
    { "id": 1, "address": "10.77.0.2", "cpus": [1], "memory": "512M" }
  ]
}
JSON

# What node 0 runs (busybox sh): each step's output after a "=== STEP rc=N" line.
cat >"$dir/inside.sh" <<'SH'
export CVMM_SECRET_FILE=$1
vc=$2
ctl() { cvmmctl --db /tmp/cvmmctl.db "$@"; }
step() { name=$1; shift; "$@" >/tmp/step 2>&1; rc=$?; echo "=== $name rc=$rc"; cat /tmp/step; }
ctl node add n0 10.77.0.1:7480 >/dev/null && ctl node add n1 10.77.0.2:7480 >/dev/null
for i in $(seq 30); do ctl nodes >/dev/null 2>&1 && break; sleep 1; done
step nodes ctl nodes
step nodes-json ctl nodes -o json
step create ctl vc create "$vc"
step start ctl vc start mgmt-vc
ctl vc console mgmt-vc >/tmp/console 2>&1 &
console=$!
# While it runs: once CPU 1 is online, node 1's vCPU runs and faults.
for i in $(seq 240); do
	grep -q "cvmm-guest: online" /tmp/console && break
	kill -0 $console 2>/dev/null || break
	sleep 1
done
step status-running ctl vc status mgmt-vc -o json
step metrics-1 wget -q -O - http://10.77.0.2:7480/metrics
step metrics-0 wget -q -O - http://10.77.0.1:7480/metrics
step unsigned wget -O /dev/null http://10.77.0.1:7480/v1/inventory
wait $console
echo "=== console rc=$?"
cat /tmp/console
step status-ended ctl vc status mgmt-vc -o json
step status-text ctl vc status mgmt-vc
step stop ctl vc stop mgmt-vc
echo "=== done"
SH

# The run's time, without the wait for the lock, goes to $dir/secs.
flock /tmp/cvmm-sim.lock bash -c 'start=$(date +%s); "$@"; rc=$?; echo $(($(date +%s) - start)) >"$0"; exit $rc' \
	"$dir/secs" "$cvmm" sim --nodes 2 --node-cpus 2 --node-mem 2G --kvm-amd npt=0 \
	--secret "$dir/secret" --share "$guest" --timeout 600 -- sh "$dir/inside.sh" "$dir/secret" \
	"$dir/vc.json" >"$out" 2>&1
rc=$?
secs=$(cat "$dir/secs" 2>/dev/null)
tr -d '\r' <"$out" >"$dir/out"

# section NAME: that step's output; rc NAME: its exit status.
section() { sed -n "/^=== $1 rc=/,/^=== /p" "$dir/out" | sed '1d;$d'; }
rc_of() { sed -n "s/^=== $1 rc=\([0-9]*\)$/\1/p" "$dir/out"; }
# flat NAME: its JSON on one line, without spaces; row NAME I: node I's object.
flat() { section "$1" | tr -d ' \n'; }
row() { flat "$1" | sed 's/{"id":/\n{"id":/g' | grep "^{\"id\":$2,"; }
num() { sed -n "s/.*\"$1\":\(-\{0,1\}[0-9]*\).*/\1/p"; }
positive() { [ -n "$1" ] && [ "$1" -gt 0 ]; }

ok $([ $rc = 0 ] && grep -q "^=== done" "$dir/out"; echo $?) \
	"cvmm sim ran cvmmctl in node 0 to the end (status $rc, ${secs}s)"
ok $([ "$(rc_of nodes)" = 0 ] && section nodes | grep -Eq "^n0 +10\.77\.0\.1:7480 +idle " &&
	section nodes | grep -Eq "^n1 +10\.77\.0\.2:7480 +idle "; echo $?) \
	"cvmmctl nodes: both agents (cvmm.secret= at boot) answer on 10.77.0.x:7480, idle"
ok $([ "$(section nodes-json | grep -c '"reachable": true')" = 2 ] &&
	[ "$(section nodes-json | grep -c '"kvm": true')" = 2 ]; echo $?) \
	"cvmmctl nodes -o json: both inventories, with /dev/kvm"
ok $([ "$(rc_of create)" = 0 ] &&
	section create | grep -q "VC mgmt-vc defined: 2 vCPUs on 2 nodes (node0 on n0, node1 on n1)"; echo $?) \
	"vc create: the guest's VC over both nodes, one vCPU each"
ok $([ "$(rc_of start)" = 0 ] && section start | grep -q "node0 (n0): started" &&
	section start | grep -q "node1 (n1): started"; echo $?) "vc start starts both parts"

r0=$(row status-running 0)
r1=$(row status-running 1)
ok $([ "$(rc_of status-running)" = 0 ] && flat status-running | grep -q '"placement":\[0,1\]' &&
	echo "$r0" | grep -q '"state":"running"' && echo "$r1" | grep -q '"state":"running"'; echo $?) \
	"vc status -o json while the guest runs: both parts running, placement vCPU 0 on node 0, vCPU 1 on node 1"
ok $(echo "$r0" | grep -q '"vcpus":\[0\]}' && echo "$r1" | grep -q '"vcpus":\[1\]}'; echo $?) \
	"each node's live figures report its own vCPU (cvmm_vcpu_node)"
owned0=$(echo "$r0" | sed 's/.*"live"://' | num pages_owned)
owned1=$(echo "$r1" | sed 's/.*"live"://' | num pages_owned)
homed1=$(echo "$r1" | sed 's/.*"live"://' | num pages_homed)
reads1=$(echo "$r1" | num read)
fetch1=$(echo "$r1" | num remote_fetches)
positive "$owned0" && positive "$owned1" && [ "$homed1" = 131072 ] && positive "$reads1" && positive "$fetch1"
ok $? "live DSM figures: pages owned node0 $owned0 node1 $owned1 (node1 homes $homed1), node1 read faults $reads1, remote fetches $fetch1"
[ "$tap_failed" = 0 ] || section status-running | sed 's/^/# /' | head -80

m1=$(section metrics-1)
echo "$m1" | grep -Eq '^cvmm_dsm_faults_total\{vc="mgmt-vc",node="1",kind="read"\} [1-9][0-9]*$' &&
	echo "$m1" | grep -q '^cvmm_vcpu_node{vc="mgmt-vc",node="1",vcpu="1"} 1$' &&
	echo "$m1" | grep -q '^cvmm_dsm_fault_latency_seconds_count{vc="mgmt-vc",node="1",kind="read"} ' &&
	echo "$m1" | grep -q '^cvmm_agent_stats_lines_dropped 0$'
ok $? "node 1's /metrics (unsigned): its live fault counters, latency histogram and vCPU placement"
section metrics-0 | grep -q '^cvmm_vcpu_node{vc="mgmt-vc",node="0",vcpu="0"} 0$' &&
	section metrics-0 | grep -q '^cvmm_hypercalls_total{vc="mgmt-vc",node="0",call="cpu_start"} '
ok $? "node 0's /metrics: vCPU 0 on node 0, hypercall counters"
ok $([ "$(rc_of unsigned)" != 0 ] && section unsigned | grep -q "401"; echo $?) \
	"an unsigned request to an agent's /v1/inventory is refused with HTTP 401"

c=$(section console)
ok $([ "$(rc_of console)" = 0 ] && echo "$c" | grep -q "^cvmm-guest: init uptime=" &&
	echo "$c" | grep -q "^cvmm-guest: online cpus=0-1 " &&
	echo "$c" | grep -q "^cvmm-guest-test: memory: PASS threads=2"; echo $?) \
	"vc console: the guest's output (init line, CPU 1 online, memory PASS on both nodes) until it powers off"
e0=$(row status-ended 0)
e1=$(row status-ended 1)
ok $(echo "$e0" | grep -q '"state":"exited","exit_status":0,' &&
	echo "$e1" | grep -q '"state":"exited","exit_status":0,'; echo $?) \
	"after the guest's poweroff both parts exited with status 0"
freads=$(echo "$e1" | num read)
ok $([ -n "$freads" ] && [ -n "$reads1" ] && [ "$freads" -ge "$reads1" ]; echo $?) \
	"the figures written at exit stay readable: node 1 read faults $freads in all"
ok $([ "$(rc_of stop)" = 0 ] && section stop | grep -q "node0 (n0): stopped (was exited, exit status 0)" &&
	section stop | grep -q "node1 (n1): stopped (was exited, exit status 0)"; echo $?) \
	"vc stop releases both nodes"

if [ "$tap_failed" = 0 ]; then
	section status-text | sed 's/^/# /'
else
	diag_file "$dir/out" 120
fi
cp "$dir/out" "$out"
echo "# output: $out"
tap_done
