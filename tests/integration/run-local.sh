#!/bin/bash
# cvmm run --nodes K (local mode) on this host: bad input refused before
# anything starts; then, with /dev/kvm, the node processes' plumbing: a
# memory node's output prefixed on stderr, the I/O node's status returned, a
# killed node named, SIGTERM forwarded, the VC file removed and no process
# left behind. The guest only starts (no hardware virtualization here): each
# run ends at its --timeout. With --check, such a guest (no initramfs, so no
# init either way) is classified "no boot", status 10, by the real binary.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/node-monitor.sh"
tmp=$(mktemp -d)
out=$tmp/out
err=$tmp/err
trap 'pkill -KILL -f "$tmp/t/cvmm-vc" 2>/dev/null; rm -rf "$tmp"' EXIT
# The launcher writes its VC under TMPDIR: a private one shows what it leaves.
export TMPDIR=$tmp/t
mkdir -p "$TMPDIR"

"$cvmm" run --nodes 2 --mem 768M --kernel /dev/null >/dev/null 2>"$err"
ok $([ $? = 1 ] && grep -q -- "--mem: 768M does not split into 2 NUMA nodes" "$err"; echo $?) \
	"--mem 768M for 2 nodes: bad input naming --mem"
"$cvmm" run --nodes 2 --numa 0:cpus=0,mem=512M --kernel /dev/null >/dev/null 2>"$err"
ok $([ $? = 2 ] && grep -q -- "unknown option '--numa' in local mode" "$err"; echo $?) \
	"--numa in local mode: usage error naming it"
"$cvmm" run --nodes 2 --kernel /nonexistent/bz >/dev/null 2>"$err"
ok $([ $? = 1 ] && grep -q -- "--kernel /nonexistent/bz: No such file" "$err"; echo $?) \
	"a kernel that cannot be read: refused before any node starts"
"$cvmm" run --nodes 1 --help >"$out" 2>&1
ok $([ $? = 0 ] && grep -q -- "--transport tcp" "$out" && grep -q -- "--check" "$out" &&
	grep -q "11 wrong CPU count, 12 wrong NUMA layout, 13 workload mismatch" "$out"; echo $?) \
	"cvmm run --nodes 1 --help documents local mode and --check's statuses"
[ -z "$(ls -A "$TMPDIR")" ]
ok $? "no VC file left behind by refused runs"

need_kvm_guest "local-mode runs"
vc=$tmp/vc.json
cat >"$vc" <<JSON
{
  "name": "run-local",
  "guest": { "kernel": "$guest/bzImage", "cmdline": "console=ttyS0" },
  "nodes": [
    { "id": 0, "address": "node0", "cpus": [0], "memory": "512M" },
    { "id": 1, "address": "node1", "cpus": [], "memory": "512M" }
  ]
}
JSON
left() { pgrep -f "$TMPDIR/cvmm-vc" >/dev/null; }

"$cvmm" run --nodes 2 --vc "$vc" --timeout 3 --stats </dev/null >"$out" 2>"$err"
rc=$?
ok $([ $rc = 6 ]; echo $?) "the I/O node's status is returned: 6, its --timeout (status $rc)"
grep -q "^node1: cvmm node: node1: homing 512M of guest memory" "$err"
ok $? "the memory node's output is on stderr, prefixed node1:"
! grep -q "node1" "$out"
ok $? "nothing of node1 on stdout, the console"
grep -q "^cvmm run: NUMA placement skipped: the host has one NUMA node" "$err" ||
	grep -q "^cvmm run: node1: host NUMA node" "$err"
ok $? "NUMA placement is done or said to be skipped"
! left && [ -z "$(ls -A "$TMPDIR")" ]
ok $? "no node process and no VC file left"
[ "$tap_failed" = 0 ] || diag_file "$err" 30

# --check: no init line before the timeout is "no boot". One node: with two,
# the memory node's own --timeout can end it first (8, a failed peer).
"$cvmm" run --nodes 1 --kernel "$guest/bzImage" --append console=ttyS0 --timeout 3 --check \
	</dev/null >"$out" 2>"$err"
rc=$?
ok $([ $rc = 10 ] && grep -q "^cvmm run: error: check: no boot: expected the guest's init to start, the guest timed out (status 6) without a 'cvmm-guest: init' line (status 10)$" "$err"; echo $?) \
	"--check without an init line: status 10, no boot, said in one line (status $rc)"
! left && [ -z "$(ls -A "$TMPDIR")" ]
ok $? "no node process and no VC file left after a checked run"
[ "$tap_failed" = 0 ] || diag_file "$err" 30

# A node killed from outside is named, and its status returned.
"$cvmm" run --nodes 2 --vc "$vc" --timeout 8 </dev/null >"$out" 2>"$err" &
pid=$!
for _ in $(seq 50); do pgrep -f "$TMPDIR/cvmm-vc.* --id 1" >/dev/null && break; sleep 0.1; done
sleep 1
pkill -KILL -f "$TMPDIR/cvmm-vc.* --id 1"
wait $pid
rc=$?
ok $([ $rc = 137 ] && grep -q "^cvmm run: error: node1 was killed by signal 9" "$err"; echo $?) \
	"a killed node is named and its status returned (status $rc)"
! left && [ -z "$(ls -A "$TMPDIR")" ]
ok $? "no node process and no VC file left after a node was killed"

# SIGTERM reaches every node.
"$cvmm" run --nodes 2 --vc "$vc" --timeout 60 </dev/null >"$out" 2>"$err" &
pid=$!
for _ in $(seq 50); do pgrep -f "$TMPDIR/cvmm-vc.* --id 1" >/dev/null && break; sleep 0.1; done
sleep 1
start=$(date +%s)
kill -TERM $pid
wait $pid
rc=$?
took=$(($(date +%s) - start))
! left && [ -z "$(ls -A "$TMPDIR")" ] && [ "$took" -lt 30 ]
ok $? "SIGTERM stops every node within ${took}s (status $rc), nothing left"
! grep -q "killed by signal" "$err"
ok $? "nodes stopped by a forwarded signal are not reported as failed"
[ "$tap_failed" = 0 ] || diag_file "$err" 30
tap_done
