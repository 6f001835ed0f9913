// SPDX-License-Identifier: GPL-2.0
#include <fcntl.h>
#include <unistd.h>

#include "cvmm/lib/log.h"
#include "mgmt/sim/input.h"

void sim_input_open(struct sim_input *in)
{
	*in = (struct sim_input){ .fd = -1 };
	if (fcntl(STDIN_FILENO, F_GETFD) < 0)
		return; /* closed */
	if (isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) != getpgrp())
		return; /* a terminal we do not own: reading it would stop us */
	in->fd = STDIN_FILENO;
}

void sim_input_raw(struct sim_input *in)
{
	struct termios raw;

	if (in->fd < 0 || in->raw || !isatty(in->fd) || tcgetattr(in->fd, &in->saved) < 0)
		return;
	raw = in->saved;
	cfmakeraw(&raw);
	/*
	 * Ctrl-C stays a signal, which stops the nodes as it always has; Ctrl-\
	 * and Ctrl-Z go to the guest like any key, instead of killing or
	 * stopping a launcher that has the terminal in raw mode.
	 */
	raw.c_lflag |= ISIG;
	raw.c_cc[VQUIT] = _POSIX_VDISABLE;
	raw.c_cc[VSUSP] = _POSIX_VDISABLE;
	/* Our own messages and the other nodes' lines still end their lines. */
	raw.c_oflag |= OPOST | ONLCR;
	if (tcsetattr(in->fd, TCSANOW, &raw) < 0) {
		pr_warn("cannot put the terminal in raw mode; typed lines reach the guest when "
			"Enter is pressed");
		return;
	}
	in->raw = true;
}

void sim_input_close(struct sim_input *in)
{
	if (in->raw)
		tcsetattr(in->fd, TCSADRAIN, &in->saved);
	in->raw = false;
	in->fd = -1;
}
