/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C shims for what Rust cannot reach directly: kernel inline functions and
 * macros, and fields of structures the kernel crate binds as opaque. Each
 * is a one-line wrapper with the same contract as what it wraps.
 */
#ifndef TPC_SHIMS_H
#define TPC_SHIMS_H

#include <linux/spinlock_types.h>
#include <linux/types.h>

struct genl_info;
struct net;
struct net_device;
struct packet_type;
struct netlink_callback;
struct netlink_ext_ack;
struct proc_dir_entry;
struct sk_buff;

/* Namespaces. */
void *tpc_net_generic(const struct net *net, unsigned int id);
struct proc_dir_entry *tpc_net_proc_dir(const struct net *net);

/* Locks. */
void tpc_spin_lock_bh(spinlock_t *lock);
void tpc_spin_unlock_bh(spinlock_t *lock);

/* Socket buffers and devices. */
const void *tpc_skb_header_pointer(const struct sk_buff *skb, int offset, int len, void *buffer);
unsigned int tpc_skb_len(const struct sk_buff *skb);
void tpc_skb_set_pkt_type_host(struct sk_buff *skb);
struct net *tpc_dev_net(const struct net_device *dev);
int tpc_dev_ifindex(const struct net_device *dev);
void tpc_dev_put(struct net_device *dev);

/* ARP. */
void tpc_arp_reply(struct net_device *dev, const u8 *ip, const u8 *mac, const u8 *to_ip, const u8 *to_mac);

/* The ARP tap: one packet_type for ETH_P_ARP, calling @func. */
typedef int (*tpc_packet_func)(struct sk_buff *skb, struct net_device *dev,
			       struct packet_type *pt, struct net_device *orig_dev);
void tpc_arp_tap_register(tpc_packet_func func);
void tpc_arp_tap_unregister(void);

/* Generic netlink requests (tpcluster_nl_family). */
struct net *tpc_genl_info_net(const struct genl_info *info);
int tpc_genl_info_attr(const struct genl_info *info, unsigned int type, const void **data);
void tpc_genl_info_set_err(struct genl_info *info, const char *static_msg, int missing_type);
struct sk_buff *tpc_genlmsg_new(void);
void *tpc_genlmsg_put_reply(struct sk_buff *skb, struct genl_info *info, u8 cmd);
void tpc_genlmsg_end(struct sk_buff *skb, void *hdr);
void tpc_genlmsg_cancel(struct sk_buff *skb, void *hdr);
int tpc_genlmsg_reply(struct sk_buff *skb, struct genl_info *info);
void tpc_nlmsg_free(struct sk_buff *skb);

/* Generic netlink dumps. */
struct net *tpc_dump_net(const struct netlink_callback *cb);
void *tpc_genlmsg_put_dump(struct sk_buff *skb, struct netlink_callback *cb, u8 cmd);
long tpc_dump_cursor(const struct netlink_callback *cb);
void tpc_dump_set_cursor(struct netlink_callback *cb, long cursor);

#endif
