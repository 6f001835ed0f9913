# tap.sh - a few TAP helpers for the shell test scripts (source it).
#
#   ok CONDITION-EXIT-STATUS "what"    e.g.  [ "$rc" = 0 ]; ok $? "exits 0"
#   check "what" COMMAND...            runs COMMAND; ok when it succeeds
#   skip "what" "why"
#   tap_done                           prints the plan, exits 1 if anything failed
#
# Every script that sources this ends with tap_done, so a failed check always
# makes the script fail.

tap_n=0
tap_failed=0

ok()
{
	local status=$1
	shift
	tap_n=$((tap_n + 1))
	if [ "$status" = 0 ]; then
		echo "ok $tap_n - $*"
	else
		echo "not ok $tap_n - $*"
		tap_failed=$((tap_failed + 1))
	fi
}

check()
{
	local what=$1
	shift
	"$@" >/dev/null 2>&1
	ok $? "$what"
}

skip()
{
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

# Shows a file's content as TAP comments (for diagnosing a failure).
diag_file()
{
	sed 's/^/# /' "$1" | tail -n "${2:-40}"
}

tap_done()
{
	echo "1..$tap_n"
	[ "$tap_failed" = 0 ]
	exit $?
}

: "${CVMM_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${CVMM_BIN:=$CVMM_TOP/build/bin}"
cvmm=$CVMM_BIN/cvmm
