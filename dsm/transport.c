// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "dsm/transport.h"

static const struct dsm_transport_ops *const transports[] = {
	&dsm_tcp_ops,
	&dsm_loop_ops,
};

const struct dsm_transport_ops *dsm_transport_find(const char *name)
{
	for (size_t i = 0; i < sizeof(transports) / sizeof(transports[0]); i++)
		if (name && !strcmp(transports[i]->name, name))
			return transports[i];
	return NULL;
}
