// SPDX-License-Identifier: GPL-2.0
/* C shims (see shims.h). */

#include <linux/if_ether.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/etherdevice.h>
#include <net/arp.h>
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

void tpc_spin_lock_bh(spinlock_t *lock)
{
	spin_lock_bh(lock);
}

void tpc_spin_unlock_bh(spinlock_t *lock)
{
	spin_unlock_bh(lock);
}

/* @len bytes at @offset from skb->data, copied into @buffer if not linear; NULL if short. */
const void *tpc_skb_header_pointer(const struct sk_buff *skb, int offset, int len, void *buffer)
{
	return skb_header_pointer(skb, offset, len, buffer);
}

unsigned int tpc_skb_len(const struct sk_buff *skb)
{
	return skb->len;
}

/* The stack delivers a multicast frame's unicast datagram only as PACKET_HOST. */
void tpc_skb_set_pkt_type_host(struct sk_buff *skb)
{
	skb->pkt_type = PACKET_HOST;
}

struct net *tpc_dev_net(const struct net_device *dev)
{
	return dev_net(dev);
}

int tpc_dev_ifindex(const struct net_device *dev)
{
	return dev->ifindex;
}

void tpc_dev_put(struct net_device *dev)
{
	dev_put(dev);
}

/*
 * An ARP reply saying that @ip (4 bytes) is at @mac, to @to_ip at @to_mac.
 * arp_create() also puts the sender hardware address in the Ethernet
 * source; @mac is a multicast cluster MAC, which is no valid source on the
 * wire (a bridge drops the frame), so the frame goes out from the device's
 * own address while the ARP payload names @mac, as CLUSTERIP did.
 */
void tpc_arp_reply(struct net_device *dev, const u8 *ip, const u8 *mac, const u8 *to_ip, const u8 *to_mac)
{
	__be32 sip, tip;
	struct sk_buff *skb;

	memcpy(&sip, ip, sizeof(sip));
	memcpy(&tip, to_ip, sizeof(tip));
	skb = arp_create(ARPOP_REPLY, ETH_P_ARP, tip, dev, sip, to_mac, mac, to_mac);
	if (!skb)
		return;
	ether_addr_copy(((struct ethhdr *)skb->data)->h_source, dev->dev_addr);
	arp_xmit(skb);
}

static struct packet_type tpc_arp_tap;

void tpc_arp_tap_register(tpc_packet_func func)
{
	tpc_arp_tap.type = htons(ETH_P_ARP);
	tpc_arp_tap.func = func;
	dev_add_pack(&tpc_arp_tap);
}

/* Returns once no call of the tap's function is running (synchronize_net). */
void tpc_arp_tap_unregister(void)
{
	dev_remove_pack(&tpc_arp_tap);
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
