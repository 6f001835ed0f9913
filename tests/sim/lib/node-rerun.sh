# node-rerun.sh - sourced by a sim test that runs one emulated node.
#
#   rerun_if_node_failed ALIVE_REGEX
#
# After the test's sim_run (which sets rc, secs and out), runs it once more,
# and says so, when the emulated node itself failed rather than what ran in
# it: a node reset (cvmm sim 125, QEMU exited 0 with nothing on its console),
# or a timeout (124) whose output has no line matching ALIVE_REGEX (extended),
# the line a node that still ran would have printed (its watchdog's dump).
# Only those two cases: anything else is the test's to judge.
rerun_if_node_failed() {
	if [ "$rc" = 125 ] && grep -q "node0 stopped unexpectedly (QEMU exit status 0)" "$out"; then
		echo "# the emulated node reset after ${secs}s (QEMU exited 0; log below); running again"
	elif [ "$rc" = 124 ] && ! grep -qE -- "$1" "$out"; then
		echo "# the emulated node stopped answering: nothing for ${secs}s, not even the watchdog's dump (log below); running again"
	else
		return 0
	fi
	diag_file "$out" 16
	sim_run
}
