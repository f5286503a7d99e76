// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/tpcluster.yaml */
/* YNL-GEN kernel source */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "netlink_gen.h"

#include <uapi/linux/tpcluster.h>

/* Integer value ranges */
static const struct netlink_range_validation tpcluster_a_node_dead_ms_range = {
	.min	= 30ULL,
	.max	= 60000ULL,
};

/* TPCLUSTER_CMD_NODE_SET - do */
static const struct nla_policy tpcluster_node_set_nl_policy[TPCLUSTER_A_NODE_DRAIN + 1] = {
	[TPCLUSTER_A_NODE_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[TPCLUSTER_A_NODE_ADDR] = { .type = NLA_U32, },
	[TPCLUSTER_A_NODE_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[TPCLUSTER_A_NODE_KEY] = NLA_POLICY_EXACT_LEN(TPCLUSTER_KEY_LEN),
	[TPCLUSTER_A_NODE_HEARTBEAT_MS] = NLA_POLICY_RANGE(NLA_U32, 10, 10000),
	[TPCLUSTER_A_NODE_DEAD_MS] = NLA_POLICY_FULL_RANGE(NLA_U32, &tpcluster_a_node_dead_ms_range),
	[TPCLUSTER_A_NODE_WEIGHT] = { .type = NLA_U16, },
	[TPCLUSTER_A_NODE_DRAIN] = NLA_POLICY_MAX(NLA_U8, 1),
};

/* TPCLUSTER_CMD_PEER_ADD - do */
static const struct nla_policy tpcluster_peer_add_nl_policy[TPCLUSTER_A_PEER_ADDR + 1] = {
	[TPCLUSTER_A_PEER_ID] = NLA_POLICY_MIN(NLA_U32, 1),
	[TPCLUSTER_A_PEER_ADDR] = { .type = NLA_U32, },
};

/* TPCLUSTER_CMD_PEER_DEL - do */
static const struct nla_policy tpcluster_peer_del_nl_policy[TPCLUSTER_A_PEER_ID + 1] = {
	[TPCLUSTER_A_PEER_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* TPCLUSTER_CMD_VIP_ADD - do */
static const struct nla_policy tpcluster_vip_add_nl_policy[TPCLUSTER_A_VIP_IFINDEX + 1] = {
	[TPCLUSTER_A_VIP_ADDR] = { .type = NLA_U32, },
	[TPCLUSTER_A_VIP_MAC] = NLA_POLICY_EXACT_LEN(6),
	[TPCLUSTER_A_VIP_IFINDEX] = { .type = NLA_U32, },
};

/* TPCLUSTER_CMD_VIP_DEL - do */
static const struct nla_policy tpcluster_vip_del_nl_policy[TPCLUSTER_A_VIP_ADDR + 1] = {
	[TPCLUSTER_A_VIP_ADDR] = { .type = NLA_U32, },
};

/* TPCLUSTER_CMD_SERVICE_ADD - do */
static const struct nla_policy tpcluster_service_add_nl_policy[TPCLUSTER_A_SERVICE_BACKEND_PORT + 1] = {
	[TPCLUSTER_A_SERVICE_VIP] = { .type = NLA_U32, },
	[TPCLUSTER_A_SERVICE_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[TPCLUSTER_A_SERVICE_MODE] = NLA_POLICY_MAX(NLA_U32, 2),
	[TPCLUSTER_A_SERVICE_REPLICAS] = NLA_POLICY_RANGE(NLA_U32, 1, 32),
	[TPCLUSTER_A_SERVICE_CONNECTIONS] = { .type = NLA_U64, },
	[TPCLUSTER_A_SERVICE_AFFINITY] = NLA_POLICY_MAX(NLA_U32, 1),
	[TPCLUSTER_A_SERVICE_BACKEND_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
};

/* TPCLUSTER_CMD_SERVICE_DEL - do */
static const struct nla_policy tpcluster_service_del_nl_policy[TPCLUSTER_A_SERVICE_PORT + 1] = {
	[TPCLUSTER_A_SERVICE_VIP] = { .type = NLA_U32, },
	[TPCLUSTER_A_SERVICE_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
};

/* TPCLUSTER_CMD_HANDOVER - do */
static const struct nla_policy tpcluster_handover_nl_policy[TPCLUSTER_A_HANDOVER_REPLAY + 1] = {
	[TPCLUSTER_A_HANDOVER_CLIENT_ADDR] = { .type = NLA_U32, },
	[TPCLUSTER_A_HANDOVER_CLIENT_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[TPCLUSTER_A_HANDOVER_VIP] = { .type = NLA_U32, },
	[TPCLUSTER_A_HANDOVER_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[TPCLUSTER_A_HANDOVER_COOKIE] = { .type = NLA_U64, },
	[TPCLUSTER_A_HANDOVER_TARGET] = NLA_POLICY_MIN(NLA_U32, 1),
	[TPCLUSTER_A_HANDOVER_REPLAY] = { .type = NLA_BINARY, },
};

/* TPCLUSTER_CMD_SERVICE_SET - do */
static const struct nla_policy tpcluster_service_set_nl_policy[TPCLUSTER_A_SERVICE_HEALTHY + 1] = {
	[TPCLUSTER_A_SERVICE_VIP] = { .type = NLA_U32, },
	[TPCLUSTER_A_SERVICE_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[TPCLUSTER_A_SERVICE_AFFINITY] = NLA_POLICY_MAX(NLA_U32, 1),
	[TPCLUSTER_A_SERVICE_HEALTHY] = NLA_POLICY_MAX(NLA_U8, 1),
};

/* TPCLUSTER_CMD_REPLICA_SET_PRIMARY - do */
static const struct nla_policy tpcluster_replica_set_primary_nl_policy[TPCLUSTER_A_REPLICA_CONN_PRIMARY_TO + 1] = {
	[TPCLUSTER_A_REPLICA_CONN_CLIENT_ADDR] = { .type = NLA_U32, },
	[TPCLUSTER_A_REPLICA_CONN_CLIENT_PORT] = { .type = NLA_U16, },
	[TPCLUSTER_A_REPLICA_CONN_VIP] = { .type = NLA_U32, },
	[TPCLUSTER_A_REPLICA_CONN_PORT] = { .type = NLA_U16, },
	[TPCLUSTER_A_REPLICA_CONN_PRIMARY_TO] = { .type = NLA_U32, },
};

/* Ops table for tpcluster */
static const struct genl_split_ops tpcluster_nl_ops[] = {
	{
		.cmd	= TPCLUSTER_CMD_NODE_GET,
		.doit	= tpcluster_nl_node_get_doit,
		.flags	= GENL_CMD_CAP_DO,
	},
	{
		.cmd		= TPCLUSTER_CMD_NODE_SET,
		.doit		= tpcluster_nl_node_set_doit,
		.policy		= tpcluster_node_set_nl_policy,
		.maxattr	= TPCLUSTER_A_NODE_DRAIN,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= TPCLUSTER_CMD_PEER_ADD,
		.doit		= tpcluster_nl_peer_add_doit,
		.policy		= tpcluster_peer_add_nl_policy,
		.maxattr	= TPCLUSTER_A_PEER_ADDR,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= TPCLUSTER_CMD_PEER_DEL,
		.doit		= tpcluster_nl_peer_del_doit,
		.policy		= tpcluster_peer_del_nl_policy,
		.maxattr	= TPCLUSTER_A_PEER_ID,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= TPCLUSTER_CMD_PEER_GET,
		.dumpit	= tpcluster_nl_peer_get_dumpit,
		.flags	= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= TPCLUSTER_CMD_VIP_ADD,
		.doit		= tpcluster_nl_vip_add_doit,
		.policy		= tpcluster_vip_add_nl_policy,
		.maxattr	= TPCLUSTER_A_VIP_IFINDEX,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= TPCLUSTER_CMD_VIP_DEL,
		.doit		= tpcluster_nl_vip_del_doit,
		.policy		= tpcluster_vip_del_nl_policy,
		.maxattr	= TPCLUSTER_A_VIP_ADDR,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= TPCLUSTER_CMD_VIP_GET,
		.dumpit	= tpcluster_nl_vip_get_dumpit,
		.flags	= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= TPCLUSTER_CMD_SERVICE_ADD,
		.doit		= tpcluster_nl_service_add_doit,
		.policy		= tpcluster_service_add_nl_policy,
		.maxattr	= TPCLUSTER_A_SERVICE_BACKEND_PORT,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= TPCLUSTER_CMD_SERVICE_DEL,
		.doit		= tpcluster_nl_service_del_doit,
		.policy		= tpcluster_service_del_nl_policy,
		.maxattr	= TPCLUSTER_A_SERVICE_PORT,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= TPCLUSTER_CMD_SERVICE_GET,
		.dumpit	= tpcluster_nl_service_get_dumpit,
		.flags	= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd	= TPCLUSTER_CMD_MEMBER_GET,
		.dumpit	= tpcluster_nl_member_get_dumpit,
		.flags	= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd	= TPCLUSTER_CMD_STATS_GET,
		.dumpit	= tpcluster_nl_stats_get_dumpit,
		.flags	= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= TPCLUSTER_CMD_HANDOVER,
		.doit		= tpcluster_nl_handover_doit,
		.policy		= tpcluster_handover_nl_policy,
		.maxattr	= TPCLUSTER_A_HANDOVER_REPLAY,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd	= TPCLUSTER_CMD_REPLICA_GET,
		.dumpit	= tpcluster_nl_replica_get_dumpit,
		.flags	= GENL_ADMIN_PERM | GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= TPCLUSTER_CMD_SERVICE_SET,
		.doit		= tpcluster_nl_service_set_doit,
		.policy		= tpcluster_service_set_nl_policy,
		.maxattr	= TPCLUSTER_A_SERVICE_HEALTHY,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
	{
		.cmd		= TPCLUSTER_CMD_REPLICA_SET_PRIMARY,
		.doit		= tpcluster_nl_replica_set_primary_doit,
		.policy		= tpcluster_replica_set_primary_nl_policy,
		.maxattr	= TPCLUSTER_A_REPLICA_CONN_PRIMARY_TO,
		.flags		= GENL_ADMIN_PERM | GENL_CMD_CAP_DO,
	},
};

static const struct genl_multicast_group tpcluster_nl_mcgrps[] = {
	[TPCLUSTER_NLGRP_MONITOR] = { "monitor", },
};

struct genl_family tpcluster_nl_family __ro_after_init = {
	.name		= TPCLUSTER_FAMILY_NAME,
	.version	= TPCLUSTER_FAMILY_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.split_ops	= tpcluster_nl_ops,
	.n_split_ops	= ARRAY_SIZE(tpcluster_nl_ops),
	.mcgrps		= tpcluster_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(tpcluster_nl_mcgrps),
};
