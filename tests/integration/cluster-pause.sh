#!/bin/bash
# One cluster-wide pause at a time (cvmm/cluster-pause.c), on two `cvmm node`
# processes of this host: node 0 runs the guest's vCPU 0 (on this host's
# emulated KVM, so it only starts to boot), node 1 vCPU 1 (which waits for
# the guest to start it). Through the nodes' monitors:
#   node 0 `pause`                   holds every vCPU;
#   node 1 `checksum`                must wait for it, and gives up naming it
#                                    (before, its resume undid node 0's pause);
#   node 0 `checksum`, `vcpu-move`   under its own pause: checksummed; the
#                                    move is refused until the resume;
#   node 0 `resume`, node 1 `checksum` the pause is gone;
#   node 1 `leave 0 verify` with node 0 `checksum` at the same time: both
#                                    succeed, one after the other, and the
#                                    guest memory's checksum is the same
#                                    before and after the hand-over.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/node-monitor.sh"
need_kvm_guest "cluster-wide pause"
tmp=$(mktemp -d)
trap 'kill -KILL $n0 $n1 2>/dev/null; rm -rf "$tmp"' EXIT

read -r p0 p1 < <(free_ports 2)
cat >"$tmp/vc.json" <<JSON
{
  "name": "pause",
  "guest": { "kernel": "$guest/bzImage", "cmdline": "console=ttyS0" },
  "nodes": [
    { "id": 0, "address": "127.0.0.1", "port": $p0, "cpus": [0], "memory": "512M" },
    { "id": 1, "address": "127.0.0.1", "port": $p1, "cpus": [1], "memory": "512M" }
  ]
}
JSON
"$cvmm" node --vc "$tmp/vc.json" --id 0 --monitor "$tmp/mon0" --timeout 300 \
	</dev/null >"$tmp/out0" 2>"$tmp/err0" &
n0=$!
"$cvmm" node --vc "$tmp/vc.json" --id 1 --monitor "$tmp/mon1" --timeout 300 \
	</dev/null >"$tmp/out1" 2>"$tmp/err1" &
n1=$!
for _ in $(seq 100); do
	mon 1 rtt 0 1
	[ "$rc" = 0 ] && break
	sleep 0.2
done
ok $rc "both nodes run and reach each other: $reply"

mon 0 pause
ok $([ $rc = 0 ] && echo "$reply" | grep -q "^ok paused_ms [0-9]"; echo $?) "node 0 pauses the guest: $reply"
start=$(date +%s)
mon 1 checksum
took=$(($(date +%s) - start))
ok $([ $rc = 1 ] && [ "$took" -ge 14 ] &&
	echo "$reply" | grep -q "^error another pause (a hand-over, a checksum or a monitor's pause) still holds the guest"; echo $?) \
	"node 1's checksum waits for node 0's pause, then says what holds the guest (${took}s): $reply"
mon 0 checksum
ok $([ $rc = 0 ] && echo "$reply" | grep -Eq "^ok checksum [0-9a-f]{16} pages [0-9]+ "; echo $?) \
	"node 0 checksums under its own pause: $reply"
mon 1 vcpu-move 1 0
ok $([ $rc = 1 ] && echo "$reply" | grep -q "^error the guest is paused .*: try again"; echo $?) \
	"a vCPU does not move while the guest is paused: $reply"
mon 0 pause
ok $([ $rc = 1 ] && echo "$reply" | grep -q "^error already paused from this node"; echo $?) \
	"a second pause from node 0 is refused: $reply"
mon 1 resume
ok $([ $rc = 1 ] && echo "$reply" | grep -q "^error not paused from this node"; echo $?) \
	"node 1 cannot resume node 0's pause: $reply"
mon 0 resume
ok $([ $rc = 0 ]; echo $?) "node 0 resumes the guest: $reply"
mon 1 checksum
ok $([ $rc = 0 ] && echo "$reply" | grep -Eq "^ok checksum [0-9a-f]{16} pages "; echo $?) \
	"then node 1's checksum pauses the guest itself: $reply"

# A checksum asked for while node 1 hands its memory over waits its turn.
"$cvmm" monitor "$tmp/mon1" leave 0 verify >"$tmp/leave" 2>&1 &
leaver=$!
"$cvmm" monitor "$tmp/mon0" checksum >"$tmp/csum" 2>&1
crc=$?
wait $leaver
lrc=$?
l=$(grep "^ok left" "$tmp/leave")
before=$(echo "$l" | sed -n 's/.* checksum \([0-9a-f]*\/[0-9]*\) before .*/\1/p')
after=$(echo "$l" | sed -n 's/.* before \([0-9a-f]*\/[0-9]*\) after$/\1/p')
ok $([ $lrc = 0 ] && [ -n "$before" ] && [ "$before" = "$after" ]; echo $?) \
	"node 1 leaves to node 0, the checksums before and after equal: ${l:-$(tail -n 1 "$tmp/leave")}"
ok $([ $crc = 0 ] && grep -Eq "^ok checksum [0-9a-f]{16} pages " "$tmp/csum"; echo $?) \
	"node 0's checksum at the same time succeeds: $(cat "$tmp/csum")"
for _ in $(seq 100); do kill -0 $n1 2>/dev/null || break; sleep 0.1; done
kill -0 $n1 2>/dev/null && kill -KILL $n1
wait $n1
ok $? "node 1's cvmm node exits 0 within 10 s of leaving"
mon 0 checksum
ok $([ $rc = 0 ]; echo $?) "node 0 runs on alone and checksums the guest: $reply"
kill -TERM $n0
wait $n0
[ "$tap_failed" = 0 ] || { diag_file "$tmp/err0" 20; diag_file "$tmp/err1" 20; }
tap_done
