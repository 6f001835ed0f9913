# mgmt/: the management plane: emulated cluster (sim), node agent, control channel.
MGMT_SRCS :=
MGMT_LIBS :=
