#!/bin/sh
# dsm-rdma-node.sh - the node side of tests/sim/dsm-rdma.sh: runs inside every
# node of a 3-node --rdma cluster (cvmm sim --all). Each stage prints
# "STAGE NAME rc=N" on the nodes taking part; the host script checks those
# and the messages. Every stage uses its own port, so no stage waits for the
# previous one's sockets. Sizes: OPS (default 3000), HOT_OPS (2000).
me=${CVMM_NODE_ID:?not in a cvmm sim node}
n0=10.77.0.1 n1=10.77.0.2 n2=10.77.0.3
ops=${OPS:-3000}
hot_ops=${HOT_OPS:-2000}

# All three nodes line up before a stage (node 2 sits out stage 1): a tcp
# DSM that only joins and leaves, waiting up to 60 s for the others.
bport=7490
barrier() {
	dsm-rdma-bench --join $n0:$bport,$n1:$bport,$n2:$bport --transport tcp --barrier ||
		echo "BARRIER $bport failed"
	bport=$((bport + 1))
}

stage() {
	name=$1
	shift
	"$@"
	echo "STAGE $name rc=$?"
}

# 1. Two nodes (of the three), the write payload method.
if [ "$me" != 2 ]; then
	stage two dsm-stress --join $n0:7471,$n1:7471 --transport rdma:payload=write \
		--pages 512 --workers 2 --ops "$ops" --timeout 150
fi

barrier
# 2. Three nodes, the default (send) method.
stage three dsm-stress --join $n0:7472,$n1:7472,$n2:7472 --transport rdma \
	--pages 512 --workers 2 --ops "$ops" --timeout 150

barrier
# 3. Maximum contention: every worker of every node on 8 pages.
stage hot dsm-stress --join $n0:7473,$n1:7473,$n2:7473 --transport rdma \
	--pages 512 --hot 8 --workers 2 --ops "$hot_ops" --timeout 150

barrier
# 4. Peer failure: node 2's dsm-stress is SIGKILLed mid-run; nodes 0 and 1
#    must exit 3 ("peer failed") naming node 2.
if [ "$me" = 2 ]; then
	dsm-stress --join $n0:7474,$n1:7474,$n2:7474 --transport rdma --pages 512 \
		--workers 2 --ops 1000000 --timeout 150 >/dev/null 2>&1 &
	pid=$!
	sleep "${KILL_AFTER:-6}"
	kill -9 $pid
	wait $pid
	echo "STAGE kill rc=$? (killed)"
else
	stage kill dsm-stress --join $n0:7474,$n1:7474,$n2:7474 --transport rdma \
		--pages 512 --workers 2 --ops 1000000 --timeout 150
fi

barrier
# 5. After a peer failure, survivors tear down without leaking verbs objects
#    (rdma res counts before and after; LeakSanitizer too in a SAN=1 build).
stage leak dsm-rdma-bench --join $n0:7475,$n1:7475,$n2:7475 --kill-node 2 --kill-after-ms 2000

# 6. No rxe link: node 2 deletes its rxe0; dsm-stress must fail at start.
if [ "$me" = 2 ]; then
	rdma link delete rxe0
	stage norxe dsm-stress --join $n0:7476,$n1:7476,$n2:7476 --transport rdma --ops 10
fi
exit 0
