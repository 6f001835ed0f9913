// SPDX-License-Identifier: GPL-2.0
#include <signal.h>
#include <string.h>

#include "mgmt/launch/supervise.h"

void sup_init(struct sup_state *s, unsigned int nnodes, unsigned int io_node)
{
	memset(s, 0, sizeof(*s));
	s->nnodes = nnodes;
	s->io_node = io_node;
	s->phase = SUP_RUN;
}

/* Sends signo to every node still running; they count as stopped by us. */
static void signal_running(struct sup_state *s, int signo, struct sup_actions *act)
{
	act->signo = signo;
	for (unsigned int i = 0; i < s->nnodes; i++) {
		if (s->end[i].ended)
			continue;
		act->signal_mask |= 1u << i;
		s->end[i].by_launcher = true;
	}
}

static bool all_ended(const struct sup_state *s)
{
	for (unsigned int i = 0; i < s->nnodes; i++)
		if (!s->end[i].ended)
			return false;
	return true;
}

void sup_step(struct sup_state *s, const struct sup_event *ev, struct sup_actions *act)
{
	memset(act, 0, sizeof(*act));
	if (s->phase == SUP_DONE)
		return;

	switch (ev->type) {
	case SUP_EV_ENDED: {
		struct vc_node_end *e;

		if (ev->node >= s->nnodes || s->end[ev->node].ended)
			return;
		e = &s->end[ev->node];
		e->ended = true;
		e->status = ev->status;
		e->signaled = ev->signaled;
		/* A forwarded Ctrl-C may reach a node before the launcher forwards it. */
		if (s->interrupted)
			e->by_launcher = true;
		if (s->phase == SUP_RUN && (ev->node == s->io_node || ev->status)) {
			s->phase = SUP_LINGER;
			act->timer_seconds = SUP_LINGER_SECONDS;
		}
		break;
	}
	case SUP_EV_INTERRUPT:
		s->interrupted = true;
		if (++s->interrupts > 1) {
			/* Asked twice: stop waiting for the nodes to end cleanly. */
			signal_running(s, SIGKILL, act);
			s->phase = SUP_STOPPING;
			act->timer_seconds = SUP_STOP_SECONDS;
			break;
		}
		signal_running(s, ev->signo, act);
		if (s->phase != SUP_STOPPING) {
			s->phase = SUP_LINGER;
			act->timer_seconds = SUP_LINGER_SECONDS;
		}
		break;

	case SUP_EV_TIMER:
		if (s->phase == SUP_RUN)
			break; /* no timer is armed in RUN */
		if (s->phase == SUP_LINGER) {
			signal_running(s, SIGTERM, act);
			s->phase = SUP_STOPPING;
		} else if (s->phase == SUP_STOPPING) {
			signal_running(s, SIGKILL, act);
		}
		act->timer_seconds = SUP_STOP_SECONDS;
		break;
	}
	if (all_ended(s)) {
		s->phase = SUP_DONE;
		act->timer_seconds = 0;
	}
}
