// SPDX-License-Identifier: GPL-2.0
/* C shims (see shims.h). */

#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/netns/generic.h>
#include <net/sock.h>

#include "netlink_gen.h"
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

struct net *tpc_genl_info_net(const struct genl_info *info)
{
	return genl_info_net(info);
}

/*
 * Length of attribute @type of the request, its payload in @data; -1 if the
 * request has no such attribute. The policy has validated it.
 */
int tpc_genl_info_attr(const struct genl_info *info, unsigned int type, const void **data)
{
	const struct nlattr *attr = info->attrs ? info->attrs[type] : NULL;

	if (!attr)
		return -1;
	*data = nla_data(attr);
	return nla_len(attr);
}

/*
 * Extended ack for a refused request: @static_msg must live for ever (the
 * ack is sent after the handler returns); a @missing_type > 0 also marks
 * that attribute as missing.
 */
void tpc_genl_info_set_err(struct genl_info *info, const char *static_msg, int missing_type)
{
	if (!info->extack)
		return;
	info->extack->_msg = static_msg;
	if (missing_type > 0)
		NL_SET_ERR_ATTR_MISS(info->extack, NULL, missing_type);
}

struct sk_buff *tpc_genlmsg_new(void)
{
	return genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
}

void *tpc_genlmsg_put_reply(struct sk_buff *skb, struct genl_info *info, u8 cmd)
{
	return genlmsg_put_reply(skb, info, &tpcluster_nl_family, 0, cmd);
}

void tpc_genlmsg_end(struct sk_buff *skb, void *hdr)
{
	genlmsg_end(skb, hdr);
}

void tpc_genlmsg_cancel(struct sk_buff *skb, void *hdr)
{
	genlmsg_cancel(skb, hdr);
}

int tpc_genlmsg_reply(struct sk_buff *skb, struct genl_info *info)
{
	return genlmsg_reply(skb, info);
}

void tpc_nlmsg_free(struct sk_buff *skb)
{
	nlmsg_free(skb);
}

struct net *tpc_dump_net(const struct netlink_callback *cb)
{
	return sock_net(cb->skb->sk);
}

void *tpc_genlmsg_put_dump(struct sk_buff *skb, struct netlink_callback *cb, u8 cmd)
{
	return genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			   &tpcluster_nl_family, NLM_F_MULTI, cmd);
}

long tpc_dump_cursor(const struct netlink_callback *cb)
{
	return cb->args[0];
}

void tpc_dump_set_cursor(struct netlink_callback *cb, long cursor)
{
	cb->args[0] = cursor;
}
