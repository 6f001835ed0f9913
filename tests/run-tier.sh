#!/bin/bash
# run-tier.sh TIER... - run the test tiers in order and print one summary line.
#
# Tiers:
#   unit         every cmocka binary in $CVMM_TBIN/unit (TAP output)
#   integration  every executable tests/integration/*.sh (TAP output)
#   sim          every executable tests/sim/*.sh (TAP output; boots emulated nodes)
#   long         every executable tests/long/*.sh: emulated clusters too slow for
#                make test's 60 minutes (make test-long)
#
# Every test prints TAP lines ("ok N - what", "not ok N - what", "... # SKIP why").
# A test program that exits non-zero without reporting a failure counts as one
# failure, so a crash can never pass. Full output of each program is kept in
# build/test-logs/TIER/NAME.log. The last line is "N passed, N failed, N skipped".
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
logs=$top/build/test-logs
: "${CVMM_BIN:=$top/build/bin}"
: "${CVMM_TBIN:=$top/build/tests}"
export CVMM_BIN CVMM_TBIN CVMM_TOP=$top

passed=0
failed=0
skipped=0
failures=()

# run_one TIER NAME CMD... : runs one test program, counts its TAP lines.
run_one()
{
	local tier=$1 name=$2
	shift 2
	local log=$logs/$tier/$name.log
	local p=0 f=0 s=0 rc line
	mkdir -p "$(dirname "$log")"
	: >"$log"
	while IFS= read -r line; do
		printf '%s\n' "$line" >>"$log"
		case "$line" in
		"not ok"*)
			f=$((f + 1))
			failures+=("$tier/$name: ${line#not ok }")
			echo "  [$tier] $name: $line" ;;
		"ok "*"# SKIP"* | "ok "*"# skip"*)
			s=$((s + 1))
			echo "  [$tier] $name: $line" ;;
		"ok "*)
			p=$((p + 1))
			echo "  [$tier] $name: $line" ;;
		"#"*)
			echo "  [$tier] $name: $line" ;;
		esac
	done < <(CMOCKA_MESSAGE_OUTPUT=TAP "$@" 2>&1; echo "__cvmm_rc=$?")
	rc=$(sed -n 's/^__cvmm_rc=//p' "$log" | tail -n 1)
	sed -i '/^__cvmm_rc=/d' "$log"
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
		failures+=("$tier/$name: exited with status $rc and reported no failure (see $log)")
		echo "  [$tier] $name: not ok - exited with status $rc (log: $log)"
	fi
	if [ $((p + f + s)) = 0 ]; then
		f=1
		failures+=("$tier/$name: ran no test (see $log)")
		echo "  [$tier] $name: not ok - ran no test (log: $log)"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
}

run_tier()
{
	local tier=$1 t start
	start=$(date +%s)
	echo "== tier: $tier"
	case "$tier" in
	unit)
		for t in "$CVMM_TBIN"/unit/test-*; do
			[ -x "$t" ] || continue
			run_one unit "$(basename "$t")" "$t"
		done ;;
	integration | sim | long)
		for t in "$top"/tests/"$tier"/*.sh; do
			[ -x "$t" ] || continue
			run_one "$tier" "$(basename "$t" .sh)" "$t"
		done ;;
	*)
		echo "run-tier: unknown tier '$tier' (unit, integration, sim, long)" >&2
		exit 2 ;;
	esac
	echo "== tier $tier took $(( $(date +%s) - start ))s"
}

for tier in "$@"; do
	run_tier "$tier"
done

if [ ${#failures[@]} -gt 0 ]; then
	echo "failures:"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
