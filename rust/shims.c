// SPDX-License-Identifier: GPL-2.0
/* C shims (see shims.h). */

#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "shims.h"

/* net_generic() takes the RCU read lock itself; the caller keeps @net alive. */
void *tpc_net_generic(const struct net *net, unsigned int id)
{
	return net_generic(net, id);
}

/* struct net is opaque to the kernel crate. */
struct proc_dir_entry *tpc_net_proc_dir(const struct net *net)
{
	return net->proc_net;
}
