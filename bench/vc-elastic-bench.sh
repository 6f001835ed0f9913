#!/bin/bash
# vc-elastic-bench.sh - the cost of elasticity (issue 8), in one run on two
# sim nodes, one vCPU each, with the guest's memory workload running:
#   - vCPU move downtime (pause on one node to running on the other, as the
#     old node sees it) against one DSM round trip between the nodes, median
#     of 6 moves (3 each way) and of 50 round trips;
#   - the eviction's hand-over: pages whose contents were pushed, per second,
#     against the interconnect's bandwidth measured in the same run with a
#     raw TCP stream (busybox dd | nc, 64 MiB, timed with the node's
#     /proc/uptime), sent with the guest paused as during the hand-over (and
#     once running, for comparison). So that there is something
#     to push, the guest first keeps 8 MiB of data on each node (fill:8).
# Prints its figures and the two ratios.
top=$(cd "$(dirname "$0")/.." && pwd)
cvmm=$top/build/bin/cvmm
guest=$top/build/guest
dir=$top/build/test-tmp
mkdir -p "$dir"
[ -f "$guest/bzImage" ] || { echo "vc-elastic-bench: no guest (make guest)" >&2; exit 1; }
vc=$dir/bench-elastic.$$.json
script=$dir/bench-elastic.$$.sh
out=$dir/bench-elastic.$$.out
trap 'rm -f "$vc" "$script" "$out"' EXIT
cat >"$vc" <<JSON
{
  "name": "bench-elastic",
  "guest": { "kernel": "$guest/bzImage", "initrd": "$guest/initrd.cpio.gz",
             "cmdline": "console=ttyS0 panic=-1 maxcpus=1 cvmm.test=online,fill:8,memory:300,locks:300" },
  "nodes": [ { "id": 0, "address": "10.77.0.1", "cpus": [0], "memory": "512M" },
             { "id": 1, "address": "10.77.0.2", "cpus": [1], "memory": "512M" } ]
}
JSON
echo ". $top/tests/lib/node-steps.sh" >"$script"
cat >>"$script" <<'SH'
id=$CVMM_NODE_ID
mon=/tmp/cvmm-node.mon
# Node 0's output (the guest's console) is also kept, to see the fill end.
cvmm node --vc "$1" --id "$id" --monitor $mon --timeout 1100 2>&1 | tee /tmp/node.out &
pid=$!
if [ "$id" = 0 ]; then
	# (busybox nc -l with stdin at EOF may stop before the stream: keep it open)
	# (one listener per stream: busybox nc -l takes one connection)
	sleep 3000 | nc -l -p 7602 >/dev/null &
	sleep 3000 | nc -l -p 7604 >/dev/null &
	for k in 1 2 3; do
		wait_for 900 placement '^vcpu 1 node 0$' || break
		sleep 1
		echo "move: $(cvmm monitor $mon vcpu-move 1 1)"
	done
	# Node 1 leaves once the guest's fill:8 is done, so that it has data to push.
	i=0
	while [ $i -lt 900 ] && ! grep -q "cvmm-guest: fill " /tmp/node.out; do
		sleep 1
		i=$((i + 1))
	done
	echo "bench: fill done after ${i}s more"
	# (node 1 listens once its stream is done: until then, refused)
	for i in $(seq 300); do echo go | nc 10.77.0.2 7603 && break; sleep 1; done
else
	wait_for 600 stats 'calls=[1-9]' || echo "bench: CPU 1 never ran here"
	echo "rtt: $(cvmm monitor $mon rtt 0 50)"
	for k in 1 2 3; do
		wait_for 60 placement '^vcpu 1 node 1$' || break
		sleep 1
		echo "move: $(cvmm monitor $mon vcpu-move 1 0)"
	done
	wait_for 60 placement '^vcpu 1 node 1$'
	# Timed with the node's clock: busybox dd reports no rate. Once with the
	# guest running, once paused as it is during a hand-over.
	for state in running paused; do
		port=7602
		[ $state = paused ] && port=7604 && echo "pause: $(cvmm monitor $mon pause)"
		t0=$(cut -d' ' -f1 /proc/uptime)
		dd if=/dev/zero bs=1M count=64 2>/dev/null | nc 10.77.0.1 $port
		t1=$(cut -d' ' -f1 /proc/uptime)
		echo "stream: 67108864 bytes from uptime $t0 to $t1, guest $state"
		[ $state = paused ] && echo "resume: $(cvmm monitor $mon resume)"
	done
	nc -l -p 7603 >/dev/null # node 0: the guest's fill:8 is done
	echo "leave: $(cvmm monitor $mon leave 0 | tail -n 1)"
fi
wait $pid
SH
flock /tmp/cvmm-sim.lock "$cvmm" sim --nodes 2 --node-cpus 2 --node-mem 2G --kvm-amd npt=0 --all \
	--timeout 1200 -- sh "$script" "$vc" >"$out" 2>&1

rtt=$(sed -nE 's/.*rtt: ok rtt_us min=[0-9.]+ median=([0-9.]+).*/\1/p' "$out" | head -n 1)
moves=$(sed -nE 's/.*move: ok vcpu 1 node [01] downtime_us ([0-9]+).*/\1/p' "$out" | sort -n)
n=$(echo "$moves" | grep -c .)
median=$(echo "$moves" | sed -n "$(((n + 1) / 2))p")
# stream_rate STATE: the stream's MB/s with the guest in STATE.
stream_rate() {
	sed -nE "s/.*stream: ([0-9]+) bytes from uptime ([0-9.]+) to ([0-9.]+), guest $1.*/\1 \2 \3/p" "$out" |
		tail -n 1 | awk '$3 > $2 { printf "%.1f", $1 / ($3 - $2) / 1e6 }'
}
stream_running=$(stream_rate running)
stream=$(stream_rate paused)
leave=$(sed -nE 's/.*leave: (ok left .*)/\1/p' "$out" | head -n 1)
pushed=$(echo "$leave" | sed -nE 's/.* pushed ([0-9]+) .*/\1/p')
hms=$(echo "$leave" | sed -nE 's/.* handover_ms ([0-9]+) .*/\1/p')
if [ -z "$rtt" ] || [ -z "$median" ] || [ -z "$stream" ] || [ -z "$pushed" ] || [ -z "$hms" ]; then
	echo "vc-elastic-bench: incomplete run (rtt '$rtt', moves '$median', stream '$stream', leave '$leave')" >&2
	grep -E "rtt:|move:|stream:|leave:|error" "$out" | head -20 >&2
	exit 1
fi
echo "vc-elastic-bench: DSM round trip node1->node0: median ${rtt} us (50)"
echo "vc-elastic-bench: vCPU move downtime: median ${median} us of $n moves ($(echo $moves | tr ' ' ','))"
awk -v d="$median" -v r="$rtt" 'BEGIN { printf "vc-elastic-bench: move downtime / round trip: %.1fx\n", d / r }'
echo "vc-elastic-bench: raw TCP stream node1->node0: ${stream} MB/s with the guest paused, ${stream_running:-?} MB/s running (64 MiB, dd | nc)"
echo "vc-elastic-bench: guest: $(tr -d '\r' <"$out" | sed -n 's/.*cvmm-guest: \(fill .*\)/\1/p' | head -n 1)"
echo "vc-elastic-bench: eviction of node1: $leave"
awk -v p="$pushed" -v ms="$hms" -v bw="$stream" 'BEGIN {
	rate = ms > 0 ? p * 4096 / (ms / 1000) / 1e6 : 0
	printf "vc-elastic-bench: hand-over pushed %d pages in %d ms: %.1f MB/s = %.2f of the stream (guest paused in both)\n", p, ms, rate, rate / bw }'
