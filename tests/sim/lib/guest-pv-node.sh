#!/bin/sh
# guest-pv-node.sh BZIMAGE INITRD - the node side of tests/sim/guest-pv.sh.
# Boots the ported guest with `cvmm run` (4 vCPUs, 1 GiB, two NUMA nodes,
# --stats, a monitor socket). When the guest's init says "hotplug ready", takes
# CPU 3 offline and back online through the monitor, then waits for cvmm. The
# guest runs the locks workload before and after the hotplug (twice the chance
# of spinlock waits, and CPU 3 must work again), the memory workload between.
# Prints "MONITOR <what> rc=N", "CVMM rc=N SECONDSs", then cvmm's whole output.
# A run still going after 200 s (10-25 s is usual) first prints where cvmm's
# threads are ("guest-pv-dump: ", tests/sim/lib/watch-run.sh).
kernel=${1:?usage: guest-pv-node.sh BZIMAGE INITRD}
initrd=${2:?usage: guest-pv-node.sh BZIMAGE INITRD}
. "$(dirname "$0")/watch-run.sh"
dir=$(mktemp -d)
out=/tmp/guest-pv.out
sock=$dir/monitor.sock

cvmm run --kernel "$kernel" --initrd "$initrd" --cpus 4 --mem 1G \
	--numa 0:cpus=0-1,mem=512M --numa 1:cpus=2-3,mem=512M \
	--stats --monitor "$sock" --timeout 300 \
	--append "console=ttyS0 panic=-1 cvmm.lock_selftest cvmm.test=locks,hotplug,memory,locks" \
	</dev/null >"$out" 2>&1 &
pid=$!
start=$(date +%s)
watch_pid $pid guest-pv 200 &
watchdog=$!

# wait_for REGEX SECONDS: until cvmm's output has a line matching REGEX.
wait_for() {
	waited=0
	until grep -q "$1" "$out"; do
		kill -0 $pid 2>/dev/null || return 1
		[ $waited -ge "$2" ] && return 1
		sleep 1
		waited=$((waited + 1))
	done
}

# The guest reaches its hotplug step after boot and the locks workload. CPU 3
# comes back only once the guest has seen it go (init polls every 0.5 s).
if wait_for "^cvmm-guest: hotplug ready" 280; then
	cvmm monitor --wait 120 "$sock" cpu-offline 3
	echo "MONITOR cpu-offline rc=$?"
	wait_for "^cvmm-guest: hotplug changed" 60 || echo "MONITOR the guest did not see CPU 3 go"
	cvmm monitor --wait 120 "$sock" cpu-online 3
	echo "MONITOR cpu-online rc=$?"
else
	echo "MONITOR the guest never got ready for hotplug"
fi
wait $pid
rc=$?
wait $watchdog
echo "CVMM rc=$rc $(($(date +%s) - start))s"
cat "$out"
rm -rf "$dir" "$out"
