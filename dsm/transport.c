// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "dsm/transport.h"

static const struct dsm_transport_ops *const transports[] = {
	&dsm_tcp_ops,
	&dsm_loop_ops,
	&dsm_rdma_ops,
};

/* name is NAME or NAME:OPTIONS; the transport parses its options at open. */
const struct dsm_transport_ops *dsm_transport_find(const char *name)
{
	size_t len = name ? strcspn(name, ":") : 0;

	for (size_t i = 0; i < sizeof(transports) / sizeof(transports[0]); i++)
		if (name && strlen(transports[i]->name) == len &&
		    !strncmp(transports[i]->name, name, len))
			return transports[i];
	return NULL;
}
