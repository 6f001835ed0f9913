#!/bin/bash
# The emulated cluster itself: nodes boot with working KVM, reach each other
# over the interconnect, commands' output and status come back, and nothing is
# left running after Ctrl-C, a kill or a timeout; stdin reaches the command.
. "$(dirname "$0")/../lib/tap.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Run directories (and so QEMU's socket paths) land here: a QEMU whose
# command line mentions $work belongs to this test.
export TMPDIR=$work

qemus_left() { pgrep -f "qemu-system-x86_64 .*$work/" >/dev/null; }

# Waits up to $2 seconds for file $1 to contain $3.
wait_for() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		grep -q "$3" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# 1. Two nodes: KVM guests in 32-bit paged and long mode on each, TCP both ways.
"$cvmm" sim --nodes 2 --node-cpus 1 --node-mem 1G --all -- smoke >"$work/smoke.out" 2>"$work/smoke.err"
rc=$?
ok $rc "cvmm sim --nodes 2 --all -- smoke exits 0 (status $rc)"
for n in 0 1; do
	grep -q "^\[node$n\] ok 1 - kvm-smoke: 32-bit protected mode with paging: signature 0xc0de0032, sum 500500" "$work/smoke.out"
	ok $? "node$n: KVM guest in 32-bit protected mode with paging ran and wrote its values"
	grep -q "^\[node$n\] ok 2 - kvm-smoke: long mode: signature 0xc0de0064, sum 500500" "$work/smoke.out"
	ok $? "node$n: KVM guest in long mode ran and wrote its values"
	grep -q "^\[node$n\] ok 1 - node$n -> node$((1 - n)) (10.77.0.$((2 - n))): 4 KiB echoed" "$work/smoke.out"
	ok $? "node$n reaches node$((1 - n)) at 10.77.0.$((2 - n)) over the interconnect"
done
grep -q "node1 up after .* kvm=yes" "$work/smoke.err"
ok $? "the node's inventory reports /dev/kvm"
[ $rc = 0 ] || { diag_file "$work/smoke.out"; diag_file "$work/smoke.err"; }

# 2. Output streams and exit status come back unchanged; host files are visible
#    at their host paths (this tree is shared with the nodes).
mkdir -p "$CVMM_TOP/build/test-tmp"
probe=$CVMM_TOP/build/test-tmp/probe.$$
head -c 3000 /dev/urandom | od -An -tx1 >"$probe"
"$cvmm" sim --nodes 1 -- sh -c "cat '$probe'; echo to-stderr >&2; exit 7" \
	>"$work/st.out" 2>"$work/st.err"
rc=$?
ok $([ $rc = 7 ]; echo $?) "the command's exit status (7) is cvmm sim's (got $rc)"
[ -s "$probe" ] && cmp -s "$probe" "$work/st.out"
ok $? "stdout carries a host file read at its host path inside the node"
rm -f "$probe"
grep -q "^to-stderr$" "$work/st.err"
ok $? "stderr is carried separately"

# Stdin reaches node 0's command, all of it and then end of file: ~900 KB,
# far more than the agent queues (64 KiB) or the channel holds, so the
# back-pressure from the command to cvmm sim's own stdin is exercised.
head -c 300000 /dev/urandom | od -An -tx1 >"$work/in"
"$cvmm" sim --nodes 1 -- sha256sum <"$work/in" >"$work/in.out" 2>"$work/in.err"
rc=$?
want=$(sha256sum <"$work/in")
ok $([ $rc = 0 ] && [ "$(cat "$work/in.out")" = "$want" ]; echo $?) \
	"stdin reaches the command whole, then end of file (status $rc)"
[ $rc = 0 ] || diag_file "$work/in.err"

"$cvmm" sim --nodes 1 -- no-such-command >/dev/null 2>"$work/nf.err"
rc=$?
ok $([ $rc = 127 ] && grep -q "no-such-command" "$work/nf.err"; echo $?) \
	"a missing command gives status 127 and is named (got $rc)"

# 3. --timeout stops a command that runs too long.
"$cvmm" sim --nodes 1 --timeout 3 -- sleep 300 >/dev/null 2>"$work/to.err"
rc=$?
ok $([ $rc = 124 ]; echo $?) "--timeout 3 on 'sleep 300' gives status 124 (got $rc)"
sleep 1
! qemus_left
ok $? "no QEMU left after the timeout"
grep -qE "node0: CPU 0: RIP=ffffffff[0-9a-f]{8} CPL=0 HLT=[01] CS64$" "$work/to.err"
ok $? "the timeout shows where node0's CPU was (its QEMU's registers): $(sed -n 's/.*node0: CPU 0: //p' "$work/to.err")"

# The node agent holds an idle VM with one vCPU, so that KVM's static keys
# never switch while guests come and go (mgmt/agent/kvm-keys.h).
"$cvmm" sim --nodes 1 -- sh -c 'for d in /proc/[0-9]*; do
	[ "$(cat $d/comm)" = cvmm ] && ls -l $d/fd; done' >"$work/keys.out" 2>&1
grep -q "anon_inode:kvm-vm" "$work/keys.out" && grep -q "anon_inode:kvm-vcpu:0" "$work/keys.out"
ok $? "the node agent holds an idle KVM VM and vCPU"

# 4. Ctrl-C (SIGINT) stops every node cleanly.
"$cvmm" sim --nodes 2 -- sleep 600 >/dev/null 2>"$work/int.err" &
pid=$!
if wait_for "$work/int.err" 120 "running 'sleep'"; then
	qemus_left
	ok $? "two QEMUs run while the command runs"
	kill -INT $pid
	wait $pid
	rc=$?
	ok $([ $rc = 130 ]; echo $?) "SIGINT: cvmm sim exits 130 (got $rc)"
	! qemus_left
	ok $? "SIGINT: no QEMU left behind"
else
	kill -KILL $pid
	ok 1 "nodes did not come up for the SIGINT test"
	diag_file "$work/int.err"
fi

# 5. Even SIGKILL, which the launcher cannot catch, leaves no QEMU behind.
"$cvmm" sim --nodes 2 -- sleep 600 >/dev/null 2>"$work/kill.err" &
pid=$!
if wait_for "$work/kill.err" 120 "starting 2 nodes"; then
	sleep 2
	qemus_left
	ok $? "QEMUs run before the launcher is killed"
	kill -KILL $pid
	wait $pid 2>/dev/null
	for _ in $(seq 50); do qemus_left || break; sleep 0.1; done
	! qemus_left
	ok $? "SIGKILL of the launcher: its QEMUs die with it"
else
	kill -KILL $pid
	ok 1 "the launcher did not start nodes for the SIGKILL test"
fi

tap_done
