#!/bin/bash
# dsm-stress over tcp on 127.0.0.1: exact totals with 3 nodes, maximum
# contention with 4 nodes on 8 hot pages, a multi-process --join run, a
# killed node reported by its peers within 2 s, and the sanitizer build.
#
# Sizes are chosen to keep this script near a minute on 2 cores; the
# acceptance sizes (--ops 1000000) are run by hand (docs/dsm.md).
. "$(dirname "$0")/../lib/tap.sh"
stress=$CVMM_BIN/dsm-stress
san=$CVMM_TOP/build/san/bin/dsm-stress
out=$(mktemp)
trap 'rm -f "$out" "$out".*' EXIT

if [ "$(id -u)" != 0 ] && [ "$(cat /proc/sys/vm/unprivileged_userfaultfd 2>/dev/null)" != 1 ]; then
	skip "dsm-stress" "userfaultfd needs root here"
	tap_done
fi

# run WHAT ARGS...: one dsm-stress run that must pass.
run()
{
	local what=$1 rc
	shift
	timeout 300 "$@" >"$out" 2>&1
	rc=$?
	grep -q "dsm-stress: PASS" "$out"
	[ $rc = 0 ] && [ $? = 0 ]
	ok $? "$what ($(sed -n 's/^dsm-stress: PASS (\(.*\))/\1/p' "$out"), status $rc)"
	[ $rc = 0 ] || diag_file "$out"
}

run "3 nodes, 4096 pages, 2 workers, 100k ops: totals exact" \
	"$stress" --nodes 3 --pages 4096 --workers 2 --ops 100000 --seed 1 --timeout 240
run "4 nodes, 8 hot pages, 2 workers, 40k ops: totals exact" \
	"$stress" --nodes 4 --pages 4096 --hot 8 --workers 2 --ops 40000 --seed 2 --timeout 240

# --join: the same command line for every node; ids come from the address order.
base=$((20000 + RANDOM % 20000))
list=127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))
for i in 0 1 2; do
	timeout 120 "$stress" --join "$list" --pages 512 --workers 1 --ops 30000 --seed 3 \
		>"$out.$i" 2>&1 &
	pids[$i]=$!
	sleep 0.2
done
rcs=""
for i in 0 1 2; do
	wait "${pids[$i]}"
	rcs="$rcs $?"
done
[ "$rcs" = " 0 0 0" ] && [ "$(cat "$out".? | grep -c 'mismatches 0$')" = 3 ]
ok $? "--join: 3 processes form a cluster from one address list (status$rcs)"

timeout 60 "$stress" --nodes 3 --pages 1024 --workers 2 --ops 100000000 \
	--kill-node 1 --kill-after-ms 1500 >"$out" 2>&1
rc=$?
[ $rc = 0 ] && grep -q "dsm: node 0: peer 1 failed: connection" "$out" &&
	grep -q "dsm: node 2: peer 1 failed: connection" "$out"
ok $? "killed node: both peers report 'peer 1 failed' and exit 3 within 2 s (status $rc)"
grep "after the kill" "$out" | sed 's/^/# /'

"$stress" --nodes 0 >/dev/null 2>&1
ok $([ $? = 1 ]; echo $?) "bad arguments: exit status 1"

if [ -x "$san" ]; then
	run "ASan+UBSan: 3 nodes, 1024 pages, 30k ops" \
		"$san" --nodes 3 --pages 1024 --workers 2 --ops 30000 --seed 4 --timeout 240
	run "ASan+UBSan: 4 nodes, 8 hot pages, 10k ops" \
		"$san" --nodes 4 --pages 1024 --hot 8 --workers 2 --ops 10000 --seed 5 --timeout 240
else
	skip "ASan+UBSan runs" "no sanitizer build (make SAN=1 build/san/bin/dsm-stress)"
fi
tap_done
