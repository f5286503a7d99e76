// SPDX-License-Identifier: GPL-2.0
/* C shims for kernel inline functions that Rust cannot call (see shims.h). */

#include <net/netns/generic.h>

#include "shims.h"

/* Caller holds the RCU read lock, or otherwise keeps @net's generic array alive. */
void *tpc_net_generic(const struct net *net, unsigned int id)
{
	return net_generic(net, id);
}
