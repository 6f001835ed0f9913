#!/usr/bin/env python3
# A scripted stand-in for `cvmm node --vc FILE --id I --stats --monitor SOCKET`
# (tests/integration/mgmt-agents.sh runs agents with CVMM_AGENT_NODE_PROGRAM
# pointing here): it serves the monitor socket with canned answers, one
# client at a time as the real one does, and logs each command it gets to
# commands.log beside the socket.
#   placement           -> "vcpu I node N" for the VC's vCPUs, "ok"
#   checksum            -> "ok checksum 00c0ffee00c0ffee pages 42 paused_ms 3"
#   rtt N [C]           -> "ok rtt_us ..." once a file "reach" is in its folder
#   node-join/leave/leave-keep N -> "ok seq 7"; status 7 -> "pending 7" once, then acked
#   rehome N verify     -> a progress line, then "ok rehomed to nodeN ..."
#   leave N verify      -> two progress lines, then waits for a file "release"
#                          in its folder before "ok left ..." and exits 0;
#                          a file "mismatch" makes the checksums differ
import json, os, socket, sys, time

args = sys.argv[1:]
if not args or args[0] != "node":
    sys.exit(2)
opt = {args[i]: args[i + 1] for i in range(1, len(args) - 1) if args[i].startswith("--")}
sock, node = opt["--monitor"], int(opt["--id"])
folder = os.path.dirname(sock)
vc = json.load(open(opt["--vc"]))
print("fake cvmm node %d of VC %s, monitor %s" % (node, vc["name"], sock), flush=True)

def log(line):
    with open(os.path.join(folder, "commands.log"), "a") as f:
        f.write(line + "\n")

def answer(conn, words):
    send = lambda s: conn.sendall((s + "\n").encode())
    cmd = words[0]
    if cmd == "placement":
        for n in vc["nodes"]:
            for c in n.get("cpus", []):
                send("vcpu %d node %d" % (c, n["id"]))
        send("ok")
    elif cmd == "checksum":
        send("ok checksum 00c0ffee00c0ffee pages 42 paused_ms 3")
    elif cmd == "rtt":
        if os.path.exists(os.path.join(folder, "reach")):
            send("ok rtt_us min=90 median=100 max=110 count=1")
        else:
            send("error node%s is not connected" % words[1])
    elif cmd in ("node-join", "node-leave", "node-leave-keep"):
        send("ok seq 7")
    elif cmd == "status":
        seen = os.path.join(folder, "status-seen")
        if os.path.exists(seen):
            send("acked %s status 0" % words[1])
        else:
            open(seen, "w").close()
            send("pending %s" % words[1])
    elif cmd == "rehome":
        send("progress pages 40/40 1000/s")
        send("ok rehomed to node%s pages 40 pushed 2 zero 30 rehome_ms 4 paused_ms 5 "
             "checksum 00ab/40 before 00ab/40 after" % words[1])
    elif cmd == "leave":
        send("progress pages 10/40 1000/s")
        send("progress pages 20/40 1000/s")
        while not os.path.exists(os.path.join(folder, "release")):
            time.sleep(0.05)
        after = "00ab/40" if not os.path.exists(os.path.join(folder, "mismatch")) else "00ff/40"
        send("progress pages 40/40 1000/s")
        send("ok left to node%s vcpus 1 pages 40 handover_ms 5 paused_ms 6 max_move_us 7 "
             "checksum 00ab/40 before %s after" % (words[1], after))
        return True
    else:
        send("error unknown command '%s'" % cmd)
    return False

srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    os.unlink(sock)
except FileNotFoundError:
    pass
srv.bind(sock)
srv.listen(4)
while True:
    conn, _ = srv.accept()
    buf = b""
    while not buf.endswith(b"\n"):
        data = conn.recv(256)
        if not data:
            break
        buf += data
    line = buf.decode().strip()
    if not line:
        conn.close()
        continue
    log(line)
    left = answer(conn, line.split())
    conn.close()
    if left:
        os.unlink(sock)
        print("fake cvmm node %d: left" % node, flush=True)
        sys.exit(0)
