#!/bin/bash
# cvmm sim refuses bad input before it starts anything, with a message that
# names what is wrong (no node boots in this tier).
. "$(dirname "$0")/../lib/tap.sh"
out=$(mktemp)
trap 'rm -f "$out"' EXIT

"$cvmm" sim --nodes 0 -- true >/dev/null 2>"$out"
ok $([ $? = 2 ] && grep -q -- "--nodes: '0'" "$out"; echo $?) "--nodes 0: usage error naming --nodes"

"$cvmm" sim --node-mem 12X -- true >/dev/null 2>"$out"
ok $([ $? = 2 ] && grep -q -- "--node-mem: '12X' is not a size" "$out"; echo $?) \
	"--node-mem 12X: usage error naming --node-mem"

"$cvmm" sim --nodes 2 >/dev/null 2>"$out"
ok $([ $? = 2 ] && grep -q "no command given" "$out"; echo $?) "no command: usage error"

"$cvmm" sim --nodes 16 --node-mem 1T -- true >/dev/null 2>"$out"
rc=$?
ok $([ $rc = 125 ] && grep -q "not enough memory for 16 nodes" "$out"; echo $?) \
	"16 nodes of 1T: refused before starting, saying how much memory is needed (status $rc)"

PATH=/nonexistent "$cvmm" sim --nodes 1 -- true >/dev/null 2>"$out"
rc=$?
ok $([ $rc = 125 ] && grep -q "install the Debian package qemu-system-x86" "$out"; echo $?) \
	"no QEMU on PATH: says which package to install (status $rc)"

"$cvmm" sim --pxe --pxe-rom /nonexistent/efi-e1000.rom --nodes 1 --node-mem 256M -- true \
	>/dev/null 2>"$out"
rc=$?
ok $([ $rc = 125 ] && grep -q -- "--pxe-rom /nonexistent/efi-e1000.rom: No such file" "$out" &&
	! grep -q "node image" "$out"; echo $?) \
	"--pxe with a missing iPXE ROM: refused before the image or a node, naming the ROM (status $rc)"

"$cvmm" sim --pxe-port 8080 -- true >/dev/null 2>"$out"
ok $([ $? = 2 ] && grep -q -- "--pxe-port: only with --pxe" "$out"; echo $?) \
	"--pxe-port without --pxe: usage error"

"$cvmm" sim --help >"$out" 2>&1
ok $([ $? = 0 ] && grep -q -- "--node-cpus" "$out"; echo $?) "cvmm sim --help documents the options"

"$cvmm" frobnicate >/dev/null 2>"$out"
ok $([ $? = 2 ] && grep -q "unknown command 'frobnicate'" "$out"; echo $?) "unknown command is named"

"$cvmm" --help >"$out" 2>&1
ok $([ $? = 0 ] && grep -q "sim" "$out" && grep -q "agent" "$out"; echo $?) "cvmm --help lists the commands"

tap_done
