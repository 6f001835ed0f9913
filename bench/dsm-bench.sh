#!/bin/bash
# dsm-bench.sh - DSM fault latency against the raw transport round trip,
# measured in one run (see dsm/bench.c). Figures are recorded in
# docs/performance.md; compare ratios, not absolute numbers.
#   PAGES_PER_CASE  pages per latency case (default 1000)
#   SWEEP_PAGES     pages in the sequential sweep (default 8192)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${CVMM_BIN:-$top/build/bin}
echo "== dsm: $(uname -r), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
exec "$bin/dsm-bench" "${PAGES_PER_CASE:-1000}" "${SWEEP_PAGES:-8192}"
