#!/bin/bash
# A short fixed-seed run of the libFuzzer target for the DSM receive path
# (frame decoder + protocol state machine). `make fuzz` runs it longer.
. "$(dirname "$0")/../lib/tap.sh"
fuzz=$CVMM_TOP/build/fuzz/dsm-fuzz-wire
out=$(mktemp)
trap 'rm -f "$out"' EXIT

if [ ! -x "$fuzz" ]; then
	skip "dsm wire fuzzer" "not built (needs clang: make build/fuzz/dsm-fuzz-wire)"
	tap_done
fi
timeout 120 "$fuzz" -seed=1 -runs=100000 -max_len=8400 >"$out" 2>&1
rc=$?
ok $rc "decoder + state machine: 100000 fuzzed inputs, seed 1, no crash or oracle failure (status $rc)"
[ $rc = 0 ] || diag_file "$out"
tap_done
