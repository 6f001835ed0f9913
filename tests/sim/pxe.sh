#!/bin/bash
# Network boot of the emulated nodes (issue 8): `cvmm sim --pxe` boots both
# nodes with their boot NIC's iPXE ROM from the launcher's HTTP server, which
# serves each node its generated script, the node image's kernel and the
# run's initrd; the cluster then reaches the same guest boot as with direct
# kernel boot: one guest in VC mode across the two network-booted nodes,
# its init reached on node 0 and CPU 1 brought online on node 1.
. "$(dirname "$0")/../lib/tap.sh"
guest=${CVMM_GUEST_DIR:-$CVMM_TOP/build/guest}
[ -f "$guest/bzImage" ] || { ok 1 "no guest kernel in $guest (make guest builds it)"; tap_done; }
out=$CVMM_TOP/build/test-logs/sim/pxe.console
mkdir -p "$(dirname "$out")"

start=$(date +%s)
flock /tmp/cvmm-sim.lock "$cvmm" sim --pxe --nodes 2 --cpus 2 --mem 1G --kvm-amd npt=0 --keep \
	--kernel "$guest/bzImage" --initrd "$guest/initrd.cpio.gz" \
	--append "console=ttyS0 panic=-1 maxcpus=1 cvmm.test=online" --timeout 600 \
	>"$out" 2>&1
rc=$?
secs=$(($(date +%s) - start))
rundir=$(sed -n 's/^cvmm sim: node logs kept in //p' "$out" | tail -n 1)
log=$rundir/pxe.log
trap '[ -n "$rundir" ] && rm -rf "$rundir"' EXIT

# The guest's console lines end in CR LF.
has() { tr -d '\r' <"$out" | grep -qE "$1"; }

ok $rc "cvmm sim --pxe exits 0: the guest powered off (status $rc, ${secs}s)"
[ -n "$rundir" ] && [ -f "$log" ]
ok $? "the boot server's request log is kept: ${log:-(no run directory named)}"
for n in 0 1; do
	for f in boot.ipxe vmlinuz initrd.img; do
		grep -qE "^node$n GET /node$n/$f 200 [1-9][0-9]*$" "$log" 2>/dev/null
		ok $? "node$n fetched /node$n/$f from our server (HTTP 200, completed)"
	done
	has "^cvmm sim: node$n fetched its boot script, kernel \(.*\) and initrd \(.*\) over HTTP"
	ok $? "the user is told node$n fetched its image"
done
grep -vqE "^node[01] GET /node[01]/(boot.ipxe|vmlinuz|initrd.img) 200 [0-9]+$" "$log" 2>/dev/null
ok $([ $? = 1 ]; echo $?) "no request failed or went unanswered"
has "^cvmm-guest: init uptime="
ok $? "the guest reached its init on the network-booted nodes"
has "^cvmm-guest: online cpus=0-1 "
ok $? "CPU 1 came online on node 1: $(tr -d '\r' <"$out" | sed -n 's/^cvmm-guest: online //p')"
if [ "$tap_failed" != 0 ]; then
	diag_file "$out" 60
	[ -f "$log" ] && diag_file "$log" 20
fi
echo "# output: $out"
tap_done
