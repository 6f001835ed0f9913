#!/bin/bash
# Elasticity through the management plane (issue 8), end to end on three
# emulated nodes started with their agents (cvmm sim --secret): cvmmctl
# inside node 0 drives a VC whose node 2 is marked "join": "later", as a user
# would:
#   vc start       nodes 0 and 1 start, node 2 does not;
#   vc add-node 2  once the guest has booted (its `online` step): node 2's
#                  part starts through its agent, node 0 reaches it, the
#                  guest is told (node-join 2) and brings CPU 2 online, which
#                  its `hotadd` step then finds; with --rebalance, node 2
#                  then takes the homes of its NUMA node's memory from node
#                  0, the guest memory's checksums before and after equal;
#   vc status      -o json: vCPU 2 runs on node 2 and it homes 512 MiB (the
#                  nodes' live figures);
#   vc evict 1     while the workloads run on three CPUs: the guest is told
#                  first (node-leave-keep 1) and answers, keeping CPU 1;
#                  the progress, then the guest memory's checksums before
#                  and after, equal;
#   vc status      -o json: vCPU 1 on node 0 now, node 1 shown as left;
#   vc checksum    the running guest's memory;
# then the guest's workloads self-verify and it powers off. Three emulated
# nodes on two cores are slow: bringing CPU 1 up alone takes ~4 min, so the
# workloads are small (cvmm.ops=10, CVMM_MGMT_ELASTIC_OPS).
. "$(dirname "$0")/../lib/tap.sh"
guest=${CVMM_GUEST_DIR:-$CVMM_TOP/build/guest}
[ -f "$guest/bzImage" ] || { ok 1 "no guest kernel in $guest (make guest builds it)"; tap_done; }
dir=$CVMM_TOP/build/test-tmp/mgmt-elastic.$$
out=$CVMM_TOP/build/test-logs/long/mgmt-elastic.out
mkdir -p "$dir" "$(dirname "$out")"
trap 'rm -rf "$dir"' EXIT
head -c 32 /dev/urandom | base64 >"$dir/secret"

cat >"$dir/vc.json" <<JSON
{
  "name": "elastic",
  "transport": "tcp",
  "guest": {
    "kernel": "$guest/bzImage",
    "initrd": "$guest/initrd.cpio.gz",
    "cmdline": "console=ttyS0 panic=-1 maxcpus=1 cvmm.test=online,memory,hotadd,memory,locks cvmm.ops=${CVMM_MGMT_ELASTIC_OPS:-10}"
  },
  "nodes": [
    { "id": 0, "address": "10.77.0.1", "cpus": [0], "memory": "512M" },
    { "id": 1, "address": "10.77.0.2", "cpus": [1], "memory": "512M" },
    { "id": 2, "address": "10.77.0.3", "cpus": [2], "memory": "512M", "join": "later" }
  ]
}
JSON

# What node 0 runs (busybox sh): each step's output after a "=== STEP rc=N" line.
cat >"$dir/inside.sh" <<'SH'
export CVMM_SECRET_FILE=$1
vc=$2
ctl() { cvmmctl --db /tmp/cvmmctl.db "$@"; }
step() { name=$1; shift; "$@" >/tmp/step 2>&1; rc=$?; echo "=== $name rc=$rc"; cat /tmp/step; }
# wait_console SECONDS REGEX: until the guest's console shows it.
wait_console() {
	i=0
	while [ $i -lt "$1" ]; do
		grep -qE "$2" /tmp/console && return 0
		kill -0 $console 2>/dev/null || return 1
		sleep 1
		i=$((i + 1))
	done
	return 1
}
ctl node add n0 10.77.0.1:7480 >/dev/null && ctl node add n1 10.77.0.2:7480 >/dev/null &&
	ctl node add n2 10.77.0.3:7480 >/dev/null
for i in $(seq 30); do ctl nodes >/dev/null 2>&1 && break; sleep 1; done
step create ctl vc create "$vc"
step start ctl vc start elastic
# The console is also streamed, each line marked, so that a run that is stopped
# early still shows where the guest was.
ctl vc console elastic 2>&1 | while IFS= read -r l; do
	echo "$l" >>/tmp/console
	echo "console| $l"
done &
console=$!
step evict-io ctl vc evict elastic 0
step add-early ctl vc add-node elastic 1
# Node 2 joins while the first workload runs (as in tests/long/vc-elastic.sh);
# the guest's hotadd step then finds CPU 2 online.
wait_console 900 "cvmm-guest: online cpus=" || { echo "=== the guest never onlined its CPUs"; tail -n 40 /tmp/console; }
step add-node ctl vc add-node elastic 2 --rebalance
[ "$rc" = 0 ] || { echo "=== console so far"; tail -n 60 /tmp/console; }
sleep 2 # the nodes' statistics files are rewritten every second
step status-added ctl vc status elastic -o json
step evict ctl vc evict elastic 1
# Node 1's cvmm node exits once it has handed everything over.
for i in $(seq 30); do ctl vc status elastic 2>/dev/null | grep -q "^1 .* left " && break; sleep 1; done
step status-evicted ctl vc status elastic -o json
step checksum ctl vc checksum elastic
step checksum-json ctl vc checksum elastic -o json
step evict-again ctl vc evict elastic 1
wait $console
echo "=== console rc=$?"
cat /tmp/console
step status-text ctl vc status elastic
step stop ctl vc stop elastic
echo "=== done"
SH

# The run's time, without the wait for the lock, goes to $dir/secs.
flock /tmp/cvmm-sim.lock bash -c 'start=$(date +%s); "$@"; rc=$?; echo $(($(date +%s) - start)) >"$0"; exit $rc' \
	"$dir/secs" "$cvmm" sim --nodes 3 --node-cpus 2 --node-mem 2G --kvm-amd npt=0 \
	--secret "$dir/secret" --share "$guest" --timeout 2400 -- sh "$dir/inside.sh" "$dir/secret" \
	"$dir/vc.json" >"$out" 2>&1
rc=$?
secs=$(cat "$dir/secs" 2>/dev/null)
tr -d '\r' <"$out" >"$dir/out"

# section NAME: that step's output; rc_of NAME: its exit status.
section() { grep -v "^console| " "$dir/out" | sed -n "/^=== $1 rc=/,/^=== /p" | sed '1d;$d'; }
rc_of() { sed -n "s/^=== $1 rc=\([0-9]*\)$/\1/p" "$dir/out"; }
# flat NAME: its JSON on one line, without spaces; row NAME I: node I's object.
flat() { section "$1" | tr -d ' \n'; }
row() { flat "$1" | sed 's/{"id":/\n{"id":/g' | grep "^{\"id\":$2,"; }

ok $([ $rc = 0 ] && grep -q "^=== done" "$dir/out"; echo $?) \
	"cvmm sim ran cvmmctl in node 0 to the end (status $rc, ${secs}s)"
ok $([ "$(rc_of start)" = 0 ] && section start | grep -q "node0 (n0): started" &&
	section start | grep -q "node1 (n1): started" && ! section start | grep -q "node2 (n2): started" &&
	section start | grep -q "node2 (n2) joins later: cvmmctl vc add-node elastic 2"; echo $?) \
	"vc start starts nodes 0 and 1; node 2, marked \"join\": \"later\", is not started"
ok $([ "$(rc_of evict-io)" = 1 ] && section evict-io | grep -q "node 0 is the I/O node of VC elastic"; echo $?) \
	"vc evict of the I/O node is refused"
ok $([ "$(rc_of add-early)" = 1 ] && section add-early | grep -q "node 1 of VC elastic is not marked \"join\": \"later\""; echo $?) \
	"vc add-node of a node that starts with the VC is refused"
a=$(section add-node)
ok $([ "$(rc_of add-node)" = 0 ] && echo "$a" | grep -q "^node2 (n2): started, pid" &&
	echo "$a" | grep -q "^node2 (n2): joined VC elastic (boot node0 reaches it: rtt_us" &&
	echo "$a" | grep -q "^node-join 2: acknowledged by the guest"; echo $?) \
	"vc add-node 2: its part starts, node 0 reaches it, the guest acknowledges node-join 2"
rb=$(echo "$a" | sed -n 's/^memory checksum before \([0-9a-f]*\/[0-9]*\), after .*/\1/p')
ra=$(echo "$a" | sed -n 's/^memory checksum before .*, after \([0-9a-f]*\/[0-9]*\): .*/\1/p')
ok $(echo "$a" | grep -q "^node2 (n2) homes its NUMA node's memory now: 131072 pages from node0" &&
	[ -n "$rb" ] && [ "$rb" = "$ra" ]; echo $?) \
	"--rebalance: node 2 takes the homes of its 512 MiB from node 0, checksums equal ($rb, $ra)"
[ "$(rc_of add-node)" = 0 ] || echo "$a" | sed 's/^/# /'
ok $([ "$(rc_of status-added)" = 0 ] && flat status-added | grep -q '"placement":\[0,1,2\]' &&
	row status-added 2 | grep -q '"state":"running"' && row status-added 2 | grep -q '"vcpus":\[2\]}' &&
	row status-added 2 | grep -q '"member":"joined"' &&
	row status-added 2 | grep -q '"live":{"faults":{[^}]*},"remote_fetches":[0-9]*,"pages_owned":[0-9]*,"pages_homed":131072'; echo $?) \
	"vc status -o json after the add: node 2 runs, reports vCPU 2 (placement [0,1,2]) and homes 131072 pages"
e=$(section evict)
# The guest's console as streamed, complete even if the run was stopped early.
c=$(sed -n 's/^console| //p' "$dir/out")
before=$(echo "$e" | sed -n 's/^memory checksum before \([0-9a-f]*\/[0-9]*\), after .*/\1/p')
after=$(echo "$e" | sed -n 's/^memory checksum before .*, after \([0-9a-f]*\/[0-9]*\): .*/\1/p')
ok $(echo "$e" | grep -q "^node-leave-keep 1: acknowledged by the guest" &&
	echo "$c" | grep -q "NUMA node 1: its cluster node leaves; CPUs 1 stay online"; echo $?) \
	"vc evict 1 told the guest first (node-leave-keep 1), which kept CPU 1 and acknowledged"
ok $([ "$(rc_of evict)" = 0 ] && echo "$e" | grep -q "^node1 (n1) left VC elastic: 1 vCPU(s) moved to node0, [1-9][0-9]* pages handed over"; echo $?) \
	"vc evict 1: node 1 left to node 0 (the I/O node, the default): $(echo "$e" | grep "left VC")"
ok $(echo "$e" | grep -Eq '^node1: \[[#.]+\] [0-9]+/[1-9][0-9]* pages +[0-9]+% [0-9]+ pages/s$'; echo $?) \
	"its progress showed while it ran: $(echo "$e" | grep '^node1: \[' | head -n 1)"
ok $([ -n "$before" ] && [ "$before" = "$after" ] && echo "$e" | grep -q ": equal$"; echo $?) \
	"the paused guest's memory checksum is the same before and after the hand-over ($before, $after)"
[ "$(rc_of evict)" = 0 ] || echo "$e" | sed 's/^/# /'
ok $([ "$(rc_of status-evicted)" = 0 ] && flat status-evicted | grep -q '"placement":\[0,0,2\]' &&
	row status-evicted 0 | grep -q '"vcpus":\[0,1\]}' && row status-evicted 1 | grep -q '"state":"left"' &&
	row status-evicted 1 | grep -q '"member":"left"'; echo $?) \
	"vc status -o json after the eviction: vCPU 1 runs on node 0 (placement [0,0,2]), node 1 shows as left"
ok $([ "$(rc_of checksum)" = 0 ] && section checksum | grep -Eq "^VC elastic: memory checksum [0-9a-f]+ over [1-9][0-9]* non-zero pages" &&
	[ "$(rc_of checksum-json)" = 0 ] && flat checksum-json | grep -Eq '"checksum":"[0-9a-f]+","pages":[1-9]'; echo $?) \
	"vc checksum (and -o json) of the running guest: $(section checksum)"
ok $([ "$(rc_of evict-again)" = 1 ] && section evict-again | grep -q "node 1 already left VC elastic"; echo $?) \
	"a second vc evict of node 1 is refused: it already left"
ok $(echo "$c" | grep -q "^cvmm-guest: hotadd online cpus=0-2$" && echo "$c" | grep -q "^cvmm-guest: node2 cpus=2$"; echo $?) \
	"the guest brought CPU 2 online, in NUMA node 2"
ok $(echo "$c" | grep -q "^cvmm-guest-test: memory: PASS threads=3" && echo "$c" | grep -q "^cvmm-guest-test: locks: PASS threads=3"; echo $?) \
	"the workloads after the hot-add used 3 CPUs and self-verified across the eviction"
ok $(section status-text | grep -Eq "^1 +n1 +10\.77\.0\.2:7480 +left +0 " &&
	section status-text | grep -Eq "^0 +n0 +10\.77\.0\.1:7480 +exited +0 " &&
	section status-text | grep -Eq "^2 +n2 +10\.77\.0\.3:7480 +exited +0 "; echo $?) \
	"vc status after the poweroff: nodes 0 and 2 exited 0, node 1 shows as left"
ok $([ "$(rc_of stop)" = 0 ]; echo $?) "vc stop releases the nodes"

if [ "$tap_failed" = 0 ]; then
	section status-text | sed 's/^/# /'
	echo "$e" | sed 's/^/# /'
else
	diag_file "$dir/out" 150
fi
cp "$dir/out" "$out"
echo "# output: $out"
tap_done
