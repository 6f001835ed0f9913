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

int dsm_hello_check(const struct dsm_hello *ours, const struct dsm_hello *theirs,
		    const char **field)
{
	if (theirs->version != ours->version)
		*field = "hello.version";
	else if (theirs->nnodes != ours->nnodes)
		*field = "hello.nnodes";
	else if (theirs->node >= ours->nnodes || theirs->node == ours->node)
		*field = "hello.node";
	else if (theirs->npages != ours->npages)
		*field = "hello.npages";
	else if (theirs->config_hash != ours->config_hash)
		*field = "hello.config_hash";
	else
		return 0;
	return -EPROTO;
}
