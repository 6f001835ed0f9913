#!/bin/bash
# The management plane on one machine: two node agents on 127.0.0.1 with their
# own state folders and a shared secret, driven by cvmmctl as a user would.
# Checks the inventory, the refusal of unsigned, forged, stale and replayed
# requests, VC definitions, and a VC started, observed and stopped: node 0
# boots a kernel that does not exist (so it exits 1 at once, as no guest
# could boot quickly here), node 1 homes memory until it is stopped.
# Elasticity: the refusals of vc evict and vc add-node, the agent's monitor
# endpoint (allowed and refused commands), and vc add-node, vc evict (its
# progress streamed while it runs) and vc checksum through three agents whose
# `cvmm node` is a scripted monitor (mgmt-fake-node.py).
. "$(dirname "$0")/../lib/tap.sh"
cvmmctl=$CVMM_BIN/cvmmctl
work=$(mktemp -d)
agent_pids=()
cleanup()
{
	for p in "${agent_pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

head -c 32 /dev/urandom | base64 >"$work/secret"
export CVMM_SECRET_FILE=$work/secret
ctl()
{
	"$cvmmctl" --db "$work/cvmmctl.db" "$@"
}

# start_agent NAME: an agent on a free port; sets port_NAME.
start_agent()
{
	local name=$1 port="" i
	"$cvmm" agent --listen 127.0.0.1:0 --secret-file "$work/secret" \
		--state-dir "$work/state-$name" >"$work/agent-$name.log" 2>&1 &
	agent_pids+=($!)
	for i in $(seq 50); do
		port=$(sed -n 's/.*control service on .*(port \([0-9]*\)).*/\1/p' "$work/agent-$name.log")
		[ -n "$port" ] && break
		sleep 0.1
	done
	eval "port_$name=$port"
	[ -n "$port" ]
}

"$cvmm" agent --listen 127.0.0.1:0 >/dev/null 2>"$work/out"
ok $([ $? = 2 ] && grep -q "needs --secret-file" "$work/out"; echo $?) \
	"an agent with --listen and no secret is a usage error"

start_agent a && start_agent b
ok $? "two agents listen on 127.0.0.1 (ports $port_a, $port_b)"
if [ -z "$port_a" ] || [ -z "$port_b" ]; then
	diag_file "$work/agent-a.log"
	tap_done
fi

# --- inventory ---------------------------------------------------------------
ctl node add a "127.0.0.1:$port_a" >/dev/null && ctl node add b "127.0.0.1:$port_b" >/dev/null
ok $? "cvmmctl node add registers both agents"
ctl node add c "127.0.0.1:$port_a" >/dev/null 2>"$work/out"
ok $([ $? = 1 ] && grep -q "already known" "$work/out"; echo $?) \
	"a second node at the same agent address is refused"

ctl nodes >"$work/out" 2>&1
rc=$?
ok $([ $rc = 0 ] && grep -Eq "^a +127\.0\.0\.1:$port_a +idle +[0-9]+ +[0-9]+M (emulated|hardware|no) " \
	"$work/out" && grep -Eq "^b +127\.0\.0\.1:$port_b +idle " "$work/out"; echo $?) \
	"cvmmctl nodes lists both with CPUs, memory and KVM kind"
[ $rc = 0 ] || diag_file "$work/out"
ctl nodes -o json >"$work/out"
ok $([ "$(grep -c '"reachable": true' "$work/out")" = 2 ] && grep -q '"kvm_hw": ' "$work/out" &&
	grep -q '"mem_mib": ' "$work/out"; echo $?) "cvmmctl nodes -o json: both reachable, with inventory"

# --- authentication ------------------------------------------------------------
url=http://127.0.0.1:$port_a
code=$(curl -s -o "$work/out" -w '%{http_code}' "$url/v1/inventory")
ok $([ "$code" = 401 ] && grep -q "unsigned request" "$work/out" &&
	grep -q "refused GET /v1/inventory from 127.0.0.1:[0-9]*: unsigned request" \
		"$work/agent-a.log"; echo $?) "an unsigned request gets 401, and the agent logs why and who"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' "$url/v1/vc/start")
ok $([ "$code" = 401 ]; echo $?) "an unsigned start gets 401"

# sign METHOD TARGET TIME NONCE: the signature cvmmctl would send (docs/management.md).
sign()
{
	printf 'cvmm1\n%s\n%s\n%s\n%s\n' "$1" "$2" "$3" "$4" |
		openssl dgst -sha256 -hmac "$(cat "$work/secret")" -r | cut -d' ' -f1
}
# signed_get TARGET TIME NONCE [SIG]: the HTTP status of a signed GET.
signed_get()
{
	local sig=${4:-$(sign GET "$1" "$2" "$3")}
	curl -s -o "$work/out" -w '%{http_code}' -H "X-Cvmm-Time: $2" -H "X-Cvmm-Nonce: $3" \
		-H "X-Cvmm-Signature: $sig" "$url$1"
}
if command -v openssl >/dev/null; then
	now=$(date +%s)
	nonce=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	code=$(signed_get /v1/inventory "$now" "$nonce")
	ok $([ "$code" = 200 ]; echo $?) "a request signed with the secret is served (HTTP $code)"
	code=$(signed_get /v1/inventory "$now" "$nonce")
	ok $([ "$code" = 401 ] && grep -q "replayed nonce" "$work/agent-a.log"; echo $?) \
		"the same signed request replayed gets 401 (logged: replayed nonce)"
	nonce2=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
	code=$(signed_get /v1/vc/status "$now" "$nonce2" "$(sign GET /v1/inventory "$now" "$nonce2")")
	ok $([ "$code" = 401 ] && grep -q "bad signature" "$work/agent-a.log"; echo $?) \
		"a signature for another path gets 401 (bad signature)"
	old=$((now - 300))
	code=$(signed_get /v1/inventory "$old" "$nonce2")
	ok $([ "$code" = 401 ] && grep -q "stale timestamp" "$work/agent-a.log"; echo $?) \
		"a request signed 5 minutes ago gets 401 (stale timestamp)"
else
	skip "signed and replayed requests" "no openssl command to sign with"
fi
echo "not-the-secret-but-long-enough" >"$work/other"
ctl --secret-file "$work/other" nodes >"$work/out" 2>&1
ok $([ $? = 1 ] && grep -q "refused: bad signature" "$work/out"; echo $?) \
	"cvmmctl with another secret is refused, and says so"

# --- VC definitions ----------------------------------------------------------
vc()
{ # vc NAME MEM1: a 2-node VC on loopback, node 0 with vCPU 0 and a missing kernel
	cat <<EOF
{ "name": "$1", "guest": { "kernel": "$work/no-such-bzImage" },
  "nodes": [ { "id": 0, "address": "127.0.0.1", "port": $((20000 + RANDOM % 20000)),
               "cpus": [0], "memory": "512M" },
             { "id": 1, "address": "127.0.0.1", "port": $((40000 + RANDOM % 20000)),
               "cpus": [], "memory": "$2" } ] }
EOF
}
vc bad 768M >"$work/bad.json"
ctl vc create "$work/bad.json" --on a,b >/dev/null 2>"$work/out"
ok $([ $? = 1 ] && grep -q "bad.json: nodes\[1\].memory: 768M is not a multiple of 512M" "$work/out"; echo $?) \
	"vc create of a bad description names the file and the field"
vc t1 512M >"$work/t1.json"
ctl vc create "$work/t1.json" >/dev/null 2>"$work/out"
ok $([ $? = 1 ] && grep -q "nodes\[0\].address: nodes a and b both have agents at 127.0.0.1" "$work/out"; echo $?) \
	"vc create without --on says which address is ambiguous"
ctl vc create "$work/t1.json" --on a,b >"$work/out" 2>&1
ok $([ $? = 0 ] && grep -q "VC t1 defined: 1 vCPUs on 2 nodes (node0 on a, node1 on b)" "$work/out"; echo $?) \
	"vc create --on a,b defines the VC"
ctl vc list -o json >"$work/out"
ok $(grep -q '"name": "t1"' "$work/out"; echo $?) "vc list -o json shows it"

# --- a VC's life -------------------------------------------------------------
ctl vc start t1 >"$work/start" 2>&1
rc=$?
ok $([ $rc = 0 ] && grep -q "node1 (b): started, pid" "$work/start" &&
	grep -q "node0 (a): started, pid" "$work/start" && [ "$(grep -n started "$work/start" |
	head -1 | cut -d: -f2 | cut -c1-5)" = node1 ]; echo $?) \
	"vc start starts both nodes, the memory node before the I/O node"
[ $rc = 0 ] || diag_file "$work/start"
pid1=$(sed -n 's/^node1 (b): started, pid \([0-9]*\)$/\1/p' "$work/start")
ok $([ -n "$pid1" ] && tr '\0' ' ' </proc/"$pid1"/cmdline | grep -q "node --vc $work/state-b/vc.json --id 1 --stats"; echo $?) \
	"node b's agent runs cvmm node --vc <its saved copy> --id 1 --stats"

for i in $(seq 50); do
	ctl vc status t1 >"$work/status" 2>&1
	grep -Eq "^0 +a .* exited +1 " "$work/status" && break
	sleep 0.2
done
ok $(grep -Eq "^0 +a +127\.0\.0\.1:$port_a +exited +1 +0 +131072 " "$work/status" &&
	grep -Eq "^1 +b +127\.0\.0\.1:$port_b +(running +-|exited +8) +- +131072 " "$work/status"; echo $?) \
	"vc status: node 0 exited with status 1, node 1 runs; vCPUs and pages homed per node"
# (node 1 gives up waiting for node 0 after 10 s and exits 8: a slow machine may see that.)
grep -q "exited" "$work/status" || diag_file "$work/status"
grep -q "node0: cvmm node: error: kernel .*no-such-bzImage" "$work/status"
ok $? "vc status shows node 0's error message"
ctl vc status t1 -o json >"$work/out"
ok $(tr -d ' \n' <"$work/out" | grep -q '"placement":\[0\]' &&
	grep -q '"exit_status": 1' "$work/out"; echo $?) "vc status -o json shows the placement and the exit status"

# Node 1 (memory only) writes its live statistics file from the start, waiting
# for node 0 included; its agent passes it to /metrics and to vc status. The
# pages it homes are counted once its DSM starts (0 in a file written before).
for i in $(seq 30); do
	grep -q '^cvmm_dsm_pages_homed{vc="t1",node="1"} 131072$' "$work/state-b/stats.prom" 2>/dev/null &&
		break
	sleep 0.2
done
ok $(grep -q '^cvmm_dsm_pages_homed{vc="t1",node="1"} 131072$' "$work/state-b/stats.prom" &&
	[ ! -e "$work/state-b/stats.prom.tmp" ]; echo $?) \
	"node 1 writes CVMM_STATS_FILE (stats.prom in its agent's state dir): 131072 pages homed"
curl -s "http://127.0.0.1:$port_b/metrics" >"$work/out"
grep -q '^cvmm_dsm_pages_owned{vc="t1",node="1"} 131072$' "$work/out" &&
	grep -q '^cvmm_dsm_faults_total{vc="t1",node="1",kind="read"} 0$' "$work/out" &&
	grep -q '^# TYPE cvmm_dsm_fault_latency_seconds histogram$' "$work/out" &&
	grep -q '^cvmm_agent_stats_lines_dropped 0$' "$work/out" &&
	! grep -q '^cvmm_vcpu_node' "$work/out"
rc=$?
ok $rc "agent b's /metrics passes node 1's live figures through: pages owned, faults, no vCPU"
[ $rc = 0 ] || diag_file "$work/out"
ctl vc status t1 -o json >"$work/out"
ok $(tr -d ' \n' <"$work/out" | grep -q '"live":{"faults":{"read":0,"write":0,"upgrade":0},"remote_fetches":0,"pages_owned":131072,"pages_homed":131072,"vcpus":\[\]}'; echo $?) \
	"vc status -o json gives node 1's live figures: no faults, all its pages owned and homed, no vCPU"

curl -s "$url/metrics" >"$work/out"
ok $(grep -q '^cvmm_vc_part_exit_status{vc="t1",node="0"} 1$' "$work/out" &&
	grep -q '^cvmm_node_cpus [0-9]' "$work/out" && grep -q '^# TYPE cvmm_vc_member gauge' "$work/out"; echo $?) \
	"/metrics (unauthenticated) shows the node's part and its exit status"

ctl vc start t1 >/dev/null 2>"$work/out"
ok $([ $? = 1 ] && grep -q "node1 (b): this node belongs to VC t1" "$work/out" &&
	! grep -q "stopping" "$work/out"; echo $?) \
	"a second vc start is refused by the agents (one VC per node), and nothing is stopped"

ctl vc console t1 >"$work/out" 2>&1
ok $([ $? = 0 ] && grep -q "error: kernel .*no-such-bzImage" "$work/out"; echo $?) \
	"vc console prints the I/O node's output and returns once that node has exited"

ctl vc stop t1 >"$work/out" 2>&1
ok $([ $? = 0 ] && grep -q "node0 (a): stopped (was exited, exit status 1)" "$work/out" &&
	grep -Eq "node1 \(b\): stopped \(was (running|exited)" "$work/out"; echo $?) "vc stop stops both nodes, the I/O node first"
sleep 0.2
ok $(! kill -0 "$pid1" 2>/dev/null; echo $?) "node 1's cvmm node is gone"
ctl vc status t1 >"$work/out" 2>&1
ok $([ "$(grep -Ec '^[01] .* stopped ' "$work/out")" = 2 ]; echo $?) "vc status then shows both nodes stopped"

# --- elasticity: refusals made before any agent is asked ------------------------
ctl vc evict t1 a >/dev/null 2>"$work/out"
ok $([ $? = 1 ] && grep -q "node 0 is the I/O node of VC t1: its devices cannot move" "$work/out"; echo $?) \
	"vc evict of the I/O node (named by its agent) is refused, exit status 1"
ctl vc evict t1 node7 >/dev/null 2>"$work/out"
ok $([ $? = 1 ] && grep -q "'node7' is not a node of VC t1" "$work/out"; echo $?) \
	"vc evict of a node not in the VC is refused"
ctl vc add-node t1 1 >/dev/null 2>"$work/out"
ok $([ $? = 1 ] && grep -q 'node 1 of VC t1 is not marked "join": "later"' "$work/out"; echo $?) \
	"vc add-node of a node that starts with the VC is refused"
cat >"$work/solo.json" <<EOF
{ "name": "solo", "guest": { "kernel": "$work/no-such-bzImage" },
  "nodes": [ { "id": 0, "address": "127.0.0.1", "cpus": [0], "memory": "512M" } ] }
EOF
ctl vc create "$work/solo.json" --on a >/dev/null && ctl vc evict solo 0 >/dev/null 2>"$work/out"
ok $([ $? = 1 ] && grep -q "node 0 is the last node of VC solo" "$work/out"; echo $?) \
	"vc evict of a VC's last node is refused"
ctl vc evict t1 b --to c >/dev/null 2>"$work/out"
ok $([ $? = 1 ] && grep -q "^cvmmctl: error: --to: 'c' is not a node of VC t1" "$work/out"; echo $?) \
	"vc evict --to a node not in the VC is refused"
ctl vc add-node t1 >/dev/null 2>"$work/out"
ok $([ $? = 2 ] && grep -q "missing NAME NODE" "$work/out"; echo $?) "vc add-node without a node: usage error"
ctl vc evict t1 b --on a >/dev/null 2>"$work/out"
ok $([ $? = 2 ] && grep -q "does not take --on" "$work/out"; echo $?) "vc evict --on: usage error"

# --- the agent's monitor endpoint ----------------------------------------------
if command -v openssl >/dev/null; then
	# signed_post TARGET BODY: the HTTP status of a signed POST (body in $work/out).
	signed_post()
	{
		local now nonce sig
		now=$(date +%s)
		nonce=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
		sig=$(printf 'cvmm1\n%s\n%s\n%s\n%s\n%s' POST "$1" "$now" "$nonce" "$2" |
			openssl dgst -sha256 -hmac "$(cat "$work/secret")" -r | cut -d' ' -f1)
		curl -s -o "$work/out" -w '%{http_code}' -H "X-Cvmm-Time: $now" -H "X-Cvmm-Nonce: $nonce" \
			-H "X-Cvmm-Signature: $sig" -H "Content-Type: application/json" --data-binary "$2" \
			"$url$1"
	}
	code=$(signed_post /v1/vc/monitor '{"command": "cpu-offline 0"}')
	ok $([ "$code" = 400 ] && grep -q "'cpu-offline' is not a command the agent passes" "$work/out"; echo $?) \
		"POST /v1/vc/monitor refuses a command outside its set (400)"
	code=$(signed_post /v1/vc/monitor '{"command": "leave x verify"}')
	ok $([ "$code" = 400 ] && grep -q "'x' is not a node id" "$work/out"; echo $?) \
		"POST /v1/vc/monitor checks the arguments (400)"
	code=$(signed_post /v1/vc/monitor '{"command": "placement\nleave 0"}')
	ok $([ "$code" = 400 ]; echo $?) "POST /v1/vc/monitor refuses a second line smuggled in (400)"
	code=$(signed_post /v1/vc/monitor '{"command": "placement"}')
	ok $([ "$code" = 409 ] && grep -q "this node belongs to no VC" "$work/out"; echo $?) \
		"POST /v1/vc/monitor to an agent whose node runs nothing: 409"
else
	skip "the monitor endpoint's refusals" "no openssl command to sign with"
fi
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"command": "placement"}' "$url/v1/vc/monitor")
ok $([ "$code" = 401 ]; echo $?) "an unsigned monitor command gets 401"

# --- elasticity driven through agents whose node is a scripted stand-in ----------
# (mgmt-fake-node.py answers the monitor commands as cvmm node does, and
# withholds a leave's answer until told, to show that progress streams.)
if command -v python3 >/dev/null; then
	export CVMM_AGENT_NODE_PROGRAM=$(cd "$(dirname "$0")" && pwd)/mgmt-fake-node.py
	start_agent d && start_agent e && start_agent f
	unset CVMM_AGENT_NODE_PROGRAM
	ctl node add d "127.0.0.1:$port_d" >/dev/null && ctl node add e "127.0.0.1:$port_e" >/dev/null &&
		ctl node add f "127.0.0.1:$port_f" >/dev/null
	cat >"$work/el.json" <<EOF
{ "name": "el", "guest": { "kernel": "$work/no-such-bzImage" },
  "nodes": [ { "id": 0, "address": "127.0.0.1", "port": 21001, "cpus": [0], "memory": "512M" },
             { "id": 1, "address": "127.0.0.1", "port": 21002, "cpus": [1], "memory": "512M" },
             { "id": 2, "address": "127.0.0.1", "port": 21003, "cpus": [2], "memory": "512M",
               "join": "later" } ] }
EOF
	ctl vc create "$work/el.json" --on d,e,f >/dev/null
	ctl vc add-node el 2 >/dev/null 2>"$work/out"
	ok $([ $? = 1 ] && grep -q "VC el does not run: its boot node0 (d) is idle" "$work/out"; echo $?) \
		"vc add-node before vc start is refused: the VC does not run"
	ctl vc start el >"$work/out" 2>&1
	ok $([ $? = 0 ] && grep -q "node0 (d): started" "$work/out" && grep -q "node1 (e): started" "$work/out" &&
		! grep -q "node2 (f): started" "$work/out" &&
		grep -q "node2 (f) joins later: cvmmctl vc add-node el 2" "$work/out"; echo $?) \
		"vc start starts every node but the one marked \"join\": \"later\""
	for i in $(seq 50); do [ -S "$work/state-d/monitor.sock" ] && break; sleep 0.1; done
	ok $(grep -q "monitor $work/state-d/monitor.sock" "$work/state-d/node.log"; echo $?) \
		"the agent starts cvmm node with --monitor <state dir>/monitor.sock"
	ctl vc checksum el >"$work/out" 2>&1
	ok $([ $? = 0 ] && grep -q "^VC el: memory checksum 00c0ffee00c0ffee over 42 non-zero pages (guest paused 3 ms, asked node0)" "$work/out"; echo $?) \
		"vc checksum asks the I/O node's monitor and prints its answer"
	ctl vc checksum el -o json | tr -d ' \n' >"$work/out"
	ok $(grep -q '"checksum":"00c0ffee00c0ffee","pages":42,"paused_ms":3' "$work/out"; echo $?) "vc checksum -o json"
	touch "$work/state-d/reach"
	ctl vc add-node el f --rebalance >"$work/out" 2>&1
	rc=$?
	ok $([ $rc = 0 ] && grep -q "^node2 (f): started, pid" "$work/out" &&
		grep -q "^node2 (f): joined VC el (boot node0 reaches it: rtt_us" "$work/out" &&
		grep -q "^node-join 2: acknowledged by the guest" "$work/out" &&
		[ "$(tr '\n' ' ' <"$work/state-d/commands.log")" = "checksum checksum rtt 2 1 node-join 2 status 7 status 7 rehome 2 verify " ]; echo $?) \
		"vc add-node: starts node 2's part, polls rtt on node 0, posts node-join 2 there and waits for the guest's answer"
	ok $(grep -q "^node2 (f) homes its NUMA node's memory now: 40 pages from node0 (2 pushed, 30 zero)$" "$work/out" &&
		grep -q "^node2: \[#*\] 40/40 pages 100% 1000 pages/s$" "$work/out" &&
		grep -q "^memory checksum before 00ab/40, after 00ab/40: equal$" "$work/out"; echo $?) \
		"vc add-node --rebalance: then rehome 2 verify on node 0, its progress, equal checksums"
	[ $rc = 0 ] || { diag_file "$work/out"; diag_file "$work/state-d/commands.log"; }
	ctl vc add-node el 2 >/dev/null 2>"$work/out"
	ok $([ $? = 1 ] && grep -q "node 2 has already joined VC el" "$work/out"; echo $?) "a second vc add-node is refused"

	rm -f "$work/state-d/status-seen"
	ctl vc evict el 1 --offline-cpus >"$work/evict" 2>&1 &
	evict=$!
	for i in $(seq 100); do grep -q "20/40 pages" "$work/evict" && break; sleep 0.1; done
	ok $(grep -q "^node1: \[#*\.*\] 10/40 pages  25% 1000 pages/s$" "$work/evict" &&
		grep -q "^node1: \[#*\.*\] 20/40 pages  50% 1000 pages/s$" "$work/evict" &&
		kill -0 $evict 2>/dev/null && ! grep -q "left VC" "$work/evict"; echo $?) \
		"vc evict shows the hand-over's progress while it runs (the agent streams the monitor's lines)"
	touch "$work/state-e/release"
	wait $evict
	rc=$?
	ok $([ $rc = 0 ] && grep -q "^node-leave 1: acknowledged by the guest" "$work/evict" &&
		grep -q "^node1 (e) left VC el: 1 vCPU(s) moved to node0, 40 pages handed over" "$work/evict" &&
		grep -q "^memory checksum before 00ab/40, after 00ab/40: equal" "$work/evict" &&
		[ "$(tail -n 3 "$work/state-d/commands.log" | tr '\n' ' ')" = "node-leave 1 status 7 status 7 " ] &&
		[ "$(cat "$work/state-e/commands.log")" = "leave 0 verify" ]; echo $?) \
		"vc evict --offline-cpus: node-leave 1 on node 0 acknowledged, then leave 0 verify on node 1, checksums equal"
	[ $rc = 0 ] || diag_file "$work/evict"
	for i in $(seq 50); do ctl vc status el >"$work/out" 2>&1; grep -Eq "^1 +e .* left " "$work/out" && break; sleep 0.1; done
	ok $(grep -Eq "^1 +e +127\.0\.0\.1:$port_e +left +0 +- " "$work/out" &&
		grep -Eq "^2 +f +127\.0\.0\.1:$port_f +running " "$work/out"; echo $?) \
		"vc status shows node 1 as left (its part exited 0), not failed; node 2 running"
	ctl vc status el -o json | tr -d ' \n' >"$work/out"
	ok $(grep -q '"placement_defined":\[0,1,2\]' "$work/out" && grep -q '"member":"left","left_at":' "$work/out" &&
		grep -q '"member":"joined","joined_at":' "$work/out"; echo $?) \
		"vc status -o json records node 1 as left and node 2 as joined"
	ctl vc evict el 1 >/dev/null 2>"$work/out"
	ok $([ $? = 1 ] && grep -q "node 1 already left VC el" "$work/out"; echo $?) "a node that left cannot be evicted again"

	# Without --offline-cpus the guest is told too, and keeps the CPUs; a
	# hand-over whose checksums differ is an error.
	ctl vc stop el >/dev/null 2>&1
	ctl vc start el >/dev/null 2>&1
	for i in $(seq 50); do [ -S "$work/state-e/monitor.sock" ] && break; sleep 0.1; done
	touch "$work/state-e/release" "$work/state-e/mismatch"
	ctl vc evict el e --to 0 >"$work/out" 2>&1
	ok $([ $? = 1 ] && grep -q "^node-leave-keep 1: acknowledged by the guest" "$work/out" &&
		grep -q "the guest's memory changed across the hand-over (checksum 00ab/40 before, 00ff/40 after)" "$work/out"; echo $?) \
		"vc evict without --offline-cpus posts node-leave-keep 1 first; checksums that differ: exit 1, said"
	ctl vc stop el >/dev/null 2>&1
else
	skip "elasticity through stand-in nodes" "no python3 for mgmt-fake-node.py"
fi

ctl vc start >/dev/null 2>"$work/out"
ok $([ $? = 2 ] && grep -q "missing NAME" "$work/out"; echo $?) "vc start without a name: usage error"
ctl vc status --help >"$work/out"
ok $([ $? = 0 ] && grep -q "usage: cvmmctl vc status NAME \[-o json\]" "$work/out"; echo $?) \
	"every command has --help"
ctl vc evict --help >"$work/out" && ctl vc add-node --help >>"$work/out" && ctl vc checksum --help >>"$work/out"
ok $([ $? = 0 ] && grep -q "usage: cvmmctl vc evict NAME NODE \[--to NODE\] \[--offline-cpus\]" "$work/out" &&
	grep -q "usage: cvmmctl vc add-node NAME NODE" "$work/out" &&
	grep -q "usage: cvmmctl vc checksum NAME \[-o json\]" "$work/out" && grep -q '"join": "later"' "$work/out"; echo $?) \
	"vc evict, vc add-node and vc checksum have --help"

kill -TERM "${agent_pids[0]}"
wait "${agent_pids[0]}"
ok $? "an agent stops cleanly on SIGTERM"

# The I/O node's agent is gone: vc console tries again, then says so.
start=$(date +%s)
ctl vc console t1 >"$work/out" 2>&1
rc=$? secs=$(($(date +%s) - start))
ok $([ $rc = 1 ] && [ $secs -ge 4 ] && grep -q "node0 (a): .*(5 tries in a row)" "$work/out"; echo $?) \
	"vc console with its agent gone retries for 4 s, then fails naming the node (status $rc, ${secs}s)"

tap_done
