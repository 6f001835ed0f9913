#!/bin/bash
# Rebalancing onto a node that joined (cvmm/node-rehome.c), on two `cvmm node`
# processes of this host: node 0 runs the guest's vCPU 0 (on this host's
# emulated KVM, so it only starts to boot) and, while node 1 is absent
# ("join": "later"), homes node 1's NUMA memory too. Through the monitors:
#   node 0 `rehome 1`         before node 1 joined: refused, naming it;
#   node 1 starts and joins;
#   node 0 `rehome 1 verify`  node 1 homes its 512 MiB now; the paused guest's
#                             memory checksum is the same before and after;
#   node 1 heard of it, the guest runs on, and both nodes stop cleanly.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/node-monitor.sh"
need_kvm_guest "rehome onto a joined node"
tmp=$(mktemp -d)
trap 'kill -KILL $n0 $n1 2>/dev/null; rm -rf "$tmp"' EXIT

read -r p0 p1 < <(free_ports 2)
cat >"$tmp/vc.json" <<JSON
{
  "name": "rehome",
  "guest": { "kernel": "$guest/bzImage", "cmdline": "console=ttyS0" },
  "nodes": [
    { "id": 0, "address": "127.0.0.1", "port": $p0, "cpus": [0], "memory": "512M" },
    { "id": 1, "address": "127.0.0.1", "port": $p1, "cpus": [1], "memory": "512M",
      "join": "later" }
  ]
}
JSON
"$cvmm" node --vc "$tmp/vc.json" --id 0 --monitor "$tmp/mon0" --timeout 300 \
	</dev/null >"$tmp/out0" 2>"$tmp/err0" &
n0=$!
for _ in $(seq 100); do
	mon 0 placement
	[ "$rc" = 0 ] && break
	sleep 0.2
done
ok $rc "node 0 runs the guest alone: $(echo $reply)"

mon 0 rehome 1
ok $([ $rc = 1 ] && echo "$reply" | grep -q "^error node1 has not joined the virtual computer"; echo $?) \
	"rehome to a node that has not joined is refused: $reply"

"$cvmm" node --vc "$tmp/vc.json" --id 1 --monitor "$tmp/mon1" --timeout 300 \
	</dev/null >"$tmp/out1" 2>"$tmp/err1" &
n1=$!
for _ in $(seq 150); do
	mon 0 rtt 1 1
	[ "$rc" = 0 ] && break
	sleep 0.2
done
ok $rc "node 1 joins: $reply"

mon 0 rehome 1 verify
l=$(echo "$reply" | tail -n 1)
before=$(echo "$l" | sed -n 's/.* checksum \([0-9a-f]*\/[0-9]*\) before .*/\1/p')
after=$(echo "$l" | sed -n 's/.* before \([0-9a-f]*\/[0-9]*\) after$/\1/p')
ok $([ $rc = 0 ] && echo "$l" | grep -q "^ok rehomed to node1 pages 131072 pushed [0-9]* zero [0-9]* " &&
	[ -n "$before" ] && [ "$before" = "$after" ]; echo $?) \
	"node 0 gives node 1 the homes of its 512 MiB, checksums equal: $l"
ok $(echo "$reply" | grep -q "^progress pages [0-9]*/131072 "; echo $?) \
	"its progress showed: $(echo "$reply" | grep -m1 "^progress")"
grep -q "dsm: node 1: node 0 gave the homes of 131072 pages to node 1" "$tmp/err1"
ok $? "node 1 took them: $(grep -m1 "gave the homes" "$tmp/err1")"

mon 0 rehome 1
l=$(echo "$reply" | tail -n 1)
ok $([ $rc = 0 ] && echo "$l" | grep -q "^ok rehomed to node1 pages 0 "; echo $?) \
	"a second rehome finds nothing left to give: $l"
mon 1 checksum
ok $([ $rc = 0 ] && echo "$reply" | grep -Eq "^ok checksum [0-9a-f]{16} pages [1-9]"; echo $?) \
	"the guest runs on; node 1 checksums it: $reply"

kill -TERM $n0 $n1
wait $n0
r0=$?
wait $n1
r1=$?
! grep -q "local error\|failed:" "$tmp/err0" "$tmp/err1"
ok $? "no DSM error or failed peer on either node (exit $r0, $r1)"
[ "$tap_failed" = 0 ] || { diag_file "$tmp/err0" 20; diag_file "$tmp/err1" 20; }
tap_done
