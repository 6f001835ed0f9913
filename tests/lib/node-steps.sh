# node-steps.sh - sourced by the script each emulated node runs in the
# elasticity tests and benches: steps against the node's monitor socket $mon
# while its `cvmm node` ($pid) runs (cvmm-node(1), MONITOR).
#
#   wait_for SECONDS COMMAND REGEX   polls the monitor until COMMAND's reply
#                                    matches; fails if the node exits first
#   step NAME COMMAND                runs COMMAND (waiting up to 600 s for a
#                                    guest's acknowledgement) and prints
#                                    "step NAME: REPLY" on one line

wait_for() {
	i=0
	while [ $i -lt "$1" ]; do
		cvmm monitor "$mon" $2 2>/dev/null | grep -qE "$3" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 1
		i=$((i + 1))
	done
	return 1
}

step() { echo "step $1: $(cvmm monitor --wait 600 "$mon" $2 2>&1 | tr '\n' ' ')"; }
