#!/bin/bash
# dsm-rdma-bench.sh - the DSM's read-fault latency over rdma and over tcp
# against the verbs round trip, on the same two soft-RoCE sim nodes in ONE
# sim run (dsm/rdma-bench.c, dsm/tp-rdma.c). Figures go to docs/performance.md
# ("RDMA"); compare ratios, not absolute numbers (TCG nodes, shared cores).
#   ITERS   perftest iterations (default 500)
#   PAGES   read faults timed per transport (default 300)
#   ECHOES  DSM round trips timed per size (default 300)
# The verbs round trip is ib_read_lat -s 4096 (a request and 4 KiB back:
# what a read fault moves) and 2 x ib_send_lat -s 4096 (perftest's _lat
# ping-pongs report half the round trip).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${CVMM_BIN:-$top/build/bin}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
iters=${ITERS:-500} pages=${PAGES:-300} echoes=${ECHOES:-300}

cat >"$work/node.sh" <<NODE
#!/bin/sh
me=\$CVMM_NODE_ID
perf() { # TOOL SIZE PORT
	if [ \$me = 0 ]; then \$1 -d rxe0 -x 1 -s \$2 -n $iters -p \$3 >/dev/null 2>&1
	else sleep 3; echo "PERF \$1 \$2"; \$1 -d rxe0 -x 1 -s \$2 -n $iters -p \$3 10.77.0.1; fi
}
[ \$me = 1 ] && echo "ODP \$(ibv_devinfo -v -d rxe0 | grep -i -A2 odp | tr -s ' \t\n' ' ')"
perf ib_send_lat 4096 18515
perf ib_read_lat 4096 18516
port=7481
# Three rounds, the middle one mirrored, so that drift in the host's load
# (shared cores) does not favour whichever transport runs first.
for t in rdma:payload=send rdma:payload=write tcp  tcp rdma:payload=write rdma:payload=send  rdma:payload=send rdma:payload=write tcp; do
	dsm-rdma-bench --join 10.77.0.1:\$port,10.77.0.2:\$port --transport \$t \
		--pages $pages --echoes $echoes || echo "FAILED \$t"
	port=\$((port + 1))
done
NODE
chmod +x "$work/node.sh"

echo "== dsm-rdma: 2 sim nodes (TCG, 1 vCPU, soft-RoCE rxe0) on $(uname -r), $(nproc) host cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$bin/cvmm" sim --nodes 2 --rdma --all --share "$work" --timeout 900 -- "$work/node.sh" \
	>"$work/out" 2>&1
rc=$?
if [ $rc != 0 ] || grep -q FAILED "$work/out"; then
	echo "dsm-rdma-bench: the sim run failed (status $rc)" >&2
	tail -40 "$work/out" >&2
	exit 1
fi

# perftest: the line after the column header; t_typical is the 5th field.
typical() {
	awk -v t="$1" '/^\[node1\] PERF/ { on = ($3 == t) } on && /t_typical/ { getline; print $6; exit }' "$work/out"
}
send_lat=$(typical ib_send_lat)
odp=$(sed -n 's/^\[node1\] ODP //p' "$work/out")
read_lat=$(typical ib_read_lat)
grep "^\[node1\] RESULT" "$work/out" | sed 's/^\[node1\] RESULT //' >"$work/res"
if [ -z "$send_lat" ] || [ -z "$read_lat" ] || [ "$(wc -l <"$work/res")" != 9 ]; then
	echo "dsm-rdma-bench: missing figures" >&2
	tail -40 "$work/out" >&2
	exit 1
fi
awk -v sl="$send_lat" -v rl="$read_lat" '
function val(k,   i, e) { for (i = 1; i <= NF; i++) { e = index($i, "="); if (substr($i, 1, e - 1) == k) return substr($i, e + 1) } }
{
	k = val("transport")
	if (!(k in n)) order[++nt] = k
	n[k]++; r0[k] += val("rtt0_us"); r4[k] += val("rtt4k_us"); f[k] += val("fault_us"); p[k] += val("fault_p99_us")
}
END {
	srtt = 2 * sl
	printf "  verbs (perftest, busy-polling): ib_send_lat 4 KiB t_typical %.1f us (round trip %.1f us); ib_read_lat 4 KiB t_typical %.1f us\n", sl, srtt, rl
	printf "  dsm (mean of the medians of %d runs each):\n", n[order[1]]
	printf "  %-20s %12s %12s %12s %10s %9s %15s %15s\n", "transport", "rtt 0B->0B", "rtt 0B->4K", "read fault", "p99", "fault/rtt", "fault/read_lat", "fault/send_rtt"
	for (i = 1; i <= nt; i++) {
		k = order[i]; c = n[k]
		F[k] = f[k] / c
		printf "  %-20s %9.1f us %9.1f us %9.1f us %7.0f us %8.2fx %14.2fx %14.2fx\n", k, r0[k] / c, r4[k] / c, F[k], p[k] / c, F[k] / (r4[k] / c), F[k] / rl, F[k] / srtt
	}
	a = "rdma:payload=send"; b = "rdma:payload=write"
	if (F[a] <= F[b]) { w = a; l = b } else { w = b; l = a }
	printf "  payload method: %s is faster than %s by %.1f%% (read fault %.1f vs %.1f us)\n", w, l, 100 * (F[l] - F[w]) / F[l], F[w], F[l]
	printf "  read fault, rdma (faster method) / tcp: %.2fx\n", F[w] / F["tcp"]
}' "$work/res"
echo "  rxe on-demand paging (ibv_devinfo -v): ${odp:-no ODP capabilities listed}"
