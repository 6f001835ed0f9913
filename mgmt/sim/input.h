/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The launcher's standard input, forwarded to the one node whose command is
 * interactive (the node whose output `cvmm sim` shows as it is): in VC mode
 * the I/O node, whose `cvmm node` feeds it to the guest's serial console;
 * otherwise node 0, unless --all runs the command on several nodes. Every
 * other node's command reads end of file at once.
 *
 * In VC mode a terminal goes raw while the command runs, so that keys reach
 * the guest's console as typed (the guest echoes and edits lines itself);
 * Ctrl-C still interrupts `cvmm sim`. A command of command mode reads a pipe,
 * not a terminal, so there the host's terminal keeps its line editing and
 * echo, and Ctrl-D ends the command's input.
 */
#ifndef CVMM_MGMT_SIM_INPUT_H
#define CVMM_MGMT_SIM_INPUT_H

#include <stdbool.h>
#include <termios.h>

/* Bytes per STDIN frame: small enough that a writable channel takes a whole frame. */
#define SIM_INPUT_CHUNK 4096

struct sim_input {
	int fd; /* STDIN_FILENO while it is forwarded, else -1 */
	bool raw;
	struct termios saved; /* the terminal as it was, while raw */
};

/*
 * Decides whether stdin is worth reading: not when it is closed, nor when it
 * is a terminal whose foreground is another process group (a background
 * `cvmm sim &` must not be stopped by SIGTTIN). Sets in->fd.
 */
void sim_input_open(struct sim_input *in);
/* Puts a terminal on in->fd in raw mode, Ctrl-C still a signal. Does nothing otherwise. */
void sim_input_raw(struct sim_input *in);
/* Stops forwarding and gives the terminal back as it was; safe to call twice. */
void sim_input_close(struct sim_input *in);

#endif
