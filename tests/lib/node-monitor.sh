# shellcheck shell=bash disable=SC2034,SC2154 # $reply/$rc are for the caller; $cvmm, $tmp come from it
# node-monitor.sh - for tests that run `cvmm node` processes on this host and
# talk to their monitors (source it after tap.sh; $tmp is the test's folder,
# where node I's monitor socket is $tmp/monI).
#
#   need_kvm_guest WHAT   sets $guest; without /dev/kvm or the guest kernel,
#                         skips WHAT, saying why, and ends the test
#   free_ports N          N free TCP ports on 127.0.0.1, on one line
#   mon NODE COMMAND...   node NODE's monitor's reply in $reply, its exit status in $rc

need_kvm_guest()
{
	guest=${CVMM_GUEST_DIR:-$CVMM_TOP/build/guest}
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ] || [ ! -f "$guest/bzImage" ]; then
		skip "$1" "needs /dev/kvm and the guest kernel ($guest/bzImage)"
		tap_done
	fi
}

free_ports()
{
	python3 -c 'import socket, sys
s = [socket.socket() for _ in range(int(sys.argv[1]))]
[x.bind(("127.0.0.1", 0)) for x in s]
print(*[x.getsockname()[1] for x in s])' "$1"
}

mon()
{
	local node=$1
	shift
	reply=$("$cvmm" monitor "$tmp/mon$node" "$@" 2>&1)
	rc=$?
}
