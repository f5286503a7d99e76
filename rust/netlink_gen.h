/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/tpcluster.yaml */
/* YNL-GEN kernel header */

#ifndef _LINUX_TPCLUSTER_GEN_H
#define _LINUX_TPCLUSTER_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <uapi/linux/tpcluster.h>

int tpcluster_nl_node_get_doit(struct sk_buff *skb, struct genl_info *info);
int tpcluster_nl_node_set_doit(struct sk_buff *skb, struct genl_info *info);
int tpcluster_nl_peer_add_doit(struct sk_buff *skb, struct genl_info *info);
int tpcluster_nl_peer_del_doit(struct sk_buff *skb, struct genl_info *info);
int tpcluster_nl_peer_get_dumpit(struct sk_buff *skb,
				 struct netlink_callback *cb);
int tpcluster_nl_vip_add_doit(struct sk_buff *skb, struct genl_info *info);
int tpcluster_nl_vip_del_doit(struct sk_buff *skb, struct genl_info *info);
int tpcluster_nl_vip_get_dumpit(struct sk_buff *skb,
				struct netlink_callback *cb);
int tpcluster_nl_service_add_doit(struct sk_buff *skb, struct genl_info *info);
int tpcluster_nl_service_del_doit(struct sk_buff *skb, struct genl_info *info);
int tpcluster_nl_service_get_dumpit(struct sk_buff *skb,
				    struct netlink_callback *cb);
int tpcluster_nl_member_get_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb);
int tpcluster_nl_stats_get_dumpit(struct sk_buff *skb,
				  struct netlink_callback *cb);
int tpcluster_nl_handover_doit(struct sk_buff *skb, struct genl_info *info);
int tpcluster_nl_replica_get_dumpit(struct sk_buff *skb,
				    struct netlink_callback *cb);
int tpcluster_nl_service_set_doit(struct sk_buff *skb, struct genl_info *info);
int tpcluster_nl_replica_set_primary_doit(struct sk_buff *skb,
					  struct genl_info *info);

enum {
	TPCLUSTER_NLGRP_MONITOR,
};

extern struct genl_family tpcluster_nl_family;

#endif /* _LINUX_TPCLUSTER_GEN_H */
