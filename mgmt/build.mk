# mgmt/: the management plane: emulated cluster (sim), node agent, control channel.
MGMT_SIM_SRCS := mgmt/sim/opts.c mgmt/sim/vcmode.c mgmt/sim/launcher.c mgmt/sim/qemu.c mgmt/sim/image.c \
	mgmt/sim/node-cpus.c mgmt/sim/input.c mgmt/sim/ipxe.c mgmt/sim/pxe.c mgmt/sim/run.c mgmt/sim/builtin-sim.c
MGMT_AUTH_SRCS := mgmt/auth.c
MGMT_AGENT_SRCS := mgmt/agent/inventory.c mgmt/agent/nodelog.c mgmt/agent/vcpart.c \
	mgmt/agent/metrics.c mgmt/agent/control.c mgmt/agent/stdin-pipe.c \
	mgmt/agent/monitor-cmd.c mgmt/agent/monitor-stream.c mgmt/agent/kvm-keys.c \
	mgmt/agent/builtin-agent.c
MGMT_SRCS := mgmt/chan.c $(MGMT_AUTH_SRCS) $(MGMT_SIM_SRCS) $(MGMT_AGENT_SRCS)
MGMT_LIBS := -lsodium -lmicrohttpd

UNIT_TESTS += test-chan test-sim-opts test-sim-launcher test-sim-qemu test-sim-image
UNIT_TESTS += test-stdin-pipe test-agent-monitor-cmd
test-agent-monitor-cmd_SRCS := tests/unit/test-agent-monitor-cmd.c mgmt/agent/monitor-cmd.c \
	$(LIB_SRCS)
test-chan_SRCS := tests/unit/test-chan.c mgmt/chan.c $(LIB_SRCS)
test-stdin-pipe_SRCS := tests/unit/test-stdin-pipe.c mgmt/agent/stdin-pipe.c
test-sim-opts_SRCS := tests/unit/test-sim-opts.c mgmt/sim/opts.c mgmt/sim/vcmode.c \
	mgmt/launch/vcspec.c mgmt/launch/guest-check.c mgmt/vc/vc.c $(LIB_SRCS)
test-sim-opts_LIBS := -ljansson
UNIT_TESTS += test-sim-vc-check
test-sim-vc-check_SRCS := tests/unit/test-sim-vc-check.c mgmt/sim/opts.c mgmt/sim/vcmode.c \
	mgmt/launch/vcspec.c mgmt/launch/guest-check.c mgmt/vc/vc.c $(LIB_SRCS)
test-sim-vc-check_LIBS := -ljansson
test-sim-launcher_SRCS := tests/unit/test-sim-launcher.c mgmt/sim/launcher.c mgmt/launch/verdict.c
test-sim-qemu_SRCS := tests/unit/test-sim-qemu.c mgmt/sim/qemu.c
UNIT_TESTS += test-sim-node-cpus
test-sim-node-cpus_SRCS := tests/unit/test-sim-node-cpus.c mgmt/sim/node-cpus.c $(LIB_SRCS)
test-sim-image_SRCS := tests/unit/test-sim-image.c mgmt/sim/image.c $(LIB_SRCS)
test-sim-image_LIBS := -lsodium
UNIT_TESTS += test-sim-pxe
test-sim-pxe_SRCS := tests/unit/test-sim-pxe.c mgmt/sim/ipxe.c mgmt/sim/pxe.c mgmt/sim/qemu.c \
	mgmt/sim/opts.c mgmt/launch/vcspec.c mgmt/launch/guest-check.c mgmt/vc/vc.c $(LIB_SRCS)
test-sim-pxe_LIBS := -lmicrohttpd -ljansson

# Virtual computer descriptions (JSON, parsed with jansson).
MGMT_VC_SRCS := mgmt/vc/vc.c
MGMT_SRCS += $(MGMT_VC_SRCS)
MGMT_LIBS += -ljansson
UNIT_TESTS += test-vc
test-vc_SRCS := tests/unit/test-vc.c $(MGMT_VC_SRCS) $(LIB_SRCS)
test-vc_LIBS := -ljansson

# The management plane's control channel: signed HTTP requests (libsodium HMAC-SHA256).
UNIT_TESTS += test-auth
test-auth_SRCS := tests/unit/test-auth.c $(MGMT_AUTH_SRCS)
test-auth_LIBS := -lsodium

# Launchers that start every node of a virtual computer: `cvmm run --nodes K`
# (local mode: node processes on this host), and what `cvmm sim --kernel`
# shares with it (the VC from the command line, the exit status, prefixed output).
MGMT_LAUNCH_SRCS := mgmt/launch/vcspec.c mgmt/launch/verdict.c mgmt/launch/lines.c \
	mgmt/launch/guest-check.c mgmt/launch/supervise.c mgmt/launch/local-opts.c \
	mgmt/launch/placement.c mgmt/launch/local.c
MGMT_SRCS += $(MGMT_LAUNCH_SRCS)
MGMT_LIBS += -lnuma
UNIT_TESTS += test-launch-local
test-launch-local_SRCS := tests/unit/test-launch-local.c mgmt/launch/vcspec.c \
	mgmt/launch/verdict.c mgmt/launch/supervise.c mgmt/launch/local-opts.c \
	mgmt/launch/lines.c $(MGMT_VC_SRCS) $(LIB_SRCS)
test-launch-local_LIBS := -ljansson
# --check: the guest's /init lines against the VC, one exit status per failure.
UNIT_TESTS += test-guest-check
test-guest-check_SRCS := tests/unit/test-guest-check.c mgmt/launch/guest-check.c \
	$(MGMT_VC_SRCS) $(LIB_SRCS)
test-guest-check_LIBS := -ljansson

# The node agent's control service: its pure parts (node output, metrics, inventory, --listen).
UNIT_TESTS += test-agent
test-agent_SRCS := tests/unit/test-agent.c $(MGMT_AGENT_SRCS:mgmt/agent/builtin-agent.c=) \
	$(MGMT_AUTH_SRCS) $(MGMT_VC_SRCS) $(LIB_SRCS)
test-agent_LIBS := -lmicrohttpd -ljansson -lsodium

# cvmmctl: the management host's command (SQLite state, libcurl to the agents).
CTL_SRCS := mgmt/ctl/args.c mgmt/ctl/db.c mgmt/ctl/client.c mgmt/ctl/cmd-node.c \
	mgmt/ctl/cmd-vc.c mgmt/ctl/cmd-vc-show.c mgmt/ctl/cmd-vc-elastic.c mgmt/ctl/elastic.c \
	mgmt/ctl/cvmmctl.c
BINS += cvmmctl
cvmmctl_SRCS := $(CTL_SRCS) $(MGMT_AUTH_SRCS) $(MGMT_VC_SRCS) $(LIB_SRCS)
cvmmctl_LIBS := -lsqlite3 -lcurl -ljansson -lsodium
UNIT_TESTS += test-ctl-args test-ctl-db test-ctl-elastic
test-ctl-elastic_SRCS := tests/unit/test-ctl-elastic.c mgmt/ctl/elastic.c mgmt/vc/vc.c $(LIB_SRCS)
test-ctl-elastic_LIBS := -ljansson
test-ctl-args_SRCS := tests/unit/test-ctl-args.c mgmt/ctl/args.c $(LIB_SRCS)
test-ctl-db_SRCS := tests/unit/test-ctl-db.c mgmt/ctl/db.c
test-ctl-db_LIBS := -lsqlite3
