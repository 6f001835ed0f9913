# console.sh - reading the console of a virtual computer run on emulated
# nodes, kept in $out (source it after tap.sh). Guest lines end in CR LF; the
# emulated cluster prefixes each node's lines with "[nodeI] ".
#
#   has REGEX          some line of $out matches REGEX
#   node_line I REGEX  the first group of REGEX on node I's first matching line,
#                      e.g. node_line 1 'step 3: (.*)'
#   node_num I REGEX   the first group of REGEX anywhere on node I's lines,
#                      e.g. node_num 0 'remote fetches ([0-9]+);'
#   positive N         N is a number above 0

has() { tr -d '\r' <"$out" | grep -qE "$1"; }
node_line() { tr -d '\r' <"$out" | sed -nE "s|^\[node$1\] $2|\1|p" | head -n 1; }
node_num() { tr -d '\r' <"$out" | sed -nE "s|^\[node$1\] .*$2.*|\1|p" | head -n 1; }
positive() { [ -n "$1" ] && [ "$1" -gt 0 ]; }
