/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/tpcluster.yaml */
/* YNL-GEN uapi header */

#ifndef _UAPI_LINUX_TPCLUSTER_H
#define _UAPI_LINUX_TPCLUSTER_H

#define TPCLUSTER_FAMILY_NAME		"tpcluster"
#define TPCLUSTER_FAMILY_VERSION	1

#define TPCLUSTER_KEY_LEN	32

/**
 * enum tpcluster_service_mode - How the connections of a service are served.
 * @TPCLUSTER_SERVICE_MODE_BALANCE: each new connection is owned by one live
 *   node
 * @TPCLUSTER_SERVICE_MODE_SPLICE: balance, and connections can be handed to
 *   another node
 * @TPCLUSTER_SERVICE_MODE_REPLICATE: connections are served by a primary and
 *   backups
 */
enum tpcluster_service_mode {
	TPCLUSTER_SERVICE_MODE_BALANCE,
	TPCLUSTER_SERVICE_MODE_SPLICE,
	TPCLUSTER_SERVICE_MODE_REPLICATE,
};

/**
 * enum tpcluster_service_affinity - Which connections of a service go to one
 *   node.
 * @TPCLUSTER_SERVICE_AFFINITY_NONE: each connection on its own, hashed by its
 *   whole 5-tuple
 * @TPCLUSTER_SERVICE_AFFINITY_SOURCE: every connection of one client address
 *   to one node, while the members and their policies stay as they are
 */
enum tpcluster_service_affinity {
	TPCLUSTER_SERVICE_AFFINITY_NONE,
	TPCLUSTER_SERVICE_AFFINITY_SOURCE,
};

/**
 * enum tpcluster_member_state - What this node knows of a member of the
 *   cluster.
 * @TPCLUSTER_MEMBER_STATE_SELF: this node
 * @TPCLUSTER_MEMBER_STATE_LIVE: a peer heard from within the dead-node timeout
 * @TPCLUSTER_MEMBER_STATE_DEAD: a peer not heard from within the timeout, or
 *   never
 */
enum tpcluster_member_state {
	TPCLUSTER_MEMBER_STATE_SELF,
	TPCLUSTER_MEMBER_STATE_LIVE,
	TPCLUSTER_MEMBER_STATE_DEAD,
};

/**
 * enum tpcluster_conn_role - This node's role on a replicated connection.
 * @TPCLUSTER_CONN_ROLE_PRIMARY: it sends to the client
 * @TPCLUSTER_CONN_ROLE_BACKUP: its stack processes the client's segments
 *   silently
 * @TPCLUSTER_CONN_ROLE_FENCED: a replica counted it out of the set; silent for
 *   good
 */
enum tpcluster_conn_role {
	TPCLUSTER_CONN_ROLE_PRIMARY,
	TPCLUSTER_CONN_ROLE_BACKUP,
	TPCLUSTER_CONN_ROLE_FENCED,
};

/**
 * enum tpcluster_replica_role - A replica's role in its connection's replica
 *   set.
 * @TPCLUSTER_REPLICA_ROLE_PRIMARY: the first replica not excluded; it sends to
 *   the client
 * @TPCLUSTER_REPLICA_ROLE_BACKUP: in the set, silent, ready to take over
 * @TPCLUSTER_REPLICA_ROLE_EXCLUDED: out of the set for good (declared dead, or
 *   silent)
 * @TPCLUSTER_REPLICA_ROLE_JOINING: brought into the set after a failure
 *   (catch-up), not yet caught up: its application is given the client's
 *   stream again and the primary's writes do not wait for it
 */
enum tpcluster_replica_role {
	TPCLUSTER_REPLICA_ROLE_PRIMARY,
	TPCLUSTER_REPLICA_ROLE_BACKUP,
	TPCLUSTER_REPLICA_ROLE_EXCLUDED,
	TPCLUSTER_REPLICA_ROLE_JOINING,
};

/**
 * enum tpcluster_log_state - The client log a replica keeps of a replicated
 *   connection, to bring another replica in later (catch-up).
 * @TPCLUSTER_LOG_STATE_NONE: not begun (no read yet), or replica_log_bytes is
 *   0
 * @TPCLUSTER_LOG_STATE_KEPT: the client's whole stream so far; the connection
 *   can be re-protected
 * @TPCLUSTER_LOG_STATE_PAST_BOUND: the client sent more than
 *   replica_log_bytes: the log is freed and the connection is no longer
 *   re-protected
 * @TPCLUSTER_LOG_STATE_LOST: freed for want of memory or for a read it could
 *   not record: the connection is no longer re-protected
 */
enum tpcluster_log_state {
	TPCLUSTER_LOG_STATE_NONE,
	TPCLUSTER_LOG_STATE_KEPT,
	TPCLUSTER_LOG_STATE_PAST_BOUND,
	TPCLUSTER_LOG_STATE_LOST,
};

enum {
	TPCLUSTER_A_NODE_ID = 1,
	TPCLUSTER_A_NODE_ADDR,
	TPCLUSTER_A_NODE_PORT,
	TPCLUSTER_A_NODE_KEY,
	TPCLUSTER_A_NODE_KEY_SET,
	TPCLUSTER_A_NODE_HEARTBEAT_MS,
	TPCLUSTER_A_NODE_DEAD_MS,
	TPCLUSTER_A_NODE_FULL_MEMBER,
	TPCLUSTER_A_NODE_WEIGHT,
	TPCLUSTER_A_NODE_DRAIN,

	__TPCLUSTER_A_NODE_MAX,
	TPCLUSTER_A_NODE_MAX = (__TPCLUSTER_A_NODE_MAX - 1)
};

enum {
	TPCLUSTER_A_PEER_ID = 1,
	TPCLUSTER_A_PEER_ADDR,

	__TPCLUSTER_A_PEER_MAX,
	TPCLUSTER_A_PEER_MAX = (__TPCLUSTER_A_PEER_MAX - 1)
};

enum {
	TPCLUSTER_A_VIP_ADDR = 1,
	TPCLUSTER_A_VIP_MAC,
	TPCLUSTER_A_VIP_IFINDEX,

	__TPCLUSTER_A_VIP_MAX,
	TPCLUSTER_A_VIP_MAX = (__TPCLUSTER_A_VIP_MAX - 1)
};

enum {
	TPCLUSTER_A_SERVICE_VIP = 1,
	TPCLUSTER_A_SERVICE_PORT,
	TPCLUSTER_A_SERVICE_MODE,
	TPCLUSTER_A_SERVICE_REPLICAS,
	TPCLUSTER_A_SERVICE_CONNECTIONS,
	TPCLUSTER_A_SERVICE_AFFINITY,
	TPCLUSTER_A_SERVICE_READY,
	TPCLUSTER_A_SERVICE_CANDIDATES,
	TPCLUSTER_A_SERVICE_HEALTHY,
	TPCLUSTER_A_SERVICE_BACKEND_PORT,

	__TPCLUSTER_A_SERVICE_MAX,
	TPCLUSTER_A_SERVICE_MAX = (__TPCLUSTER_A_SERVICE_MAX - 1)
};

enum {
	TPCLUSTER_A_MEMBER_ID = 1,
	TPCLUSTER_A_MEMBER_ADDR,
	TPCLUSTER_A_MEMBER_STATE,
	TPCLUSTER_A_MEMBER_INCARNATION,
	TPCLUSTER_A_MEMBER_LAST_HEARD_MS,
	TPCLUSTER_A_MEMBER_WEIGHT,
	TPCLUSTER_A_MEMBER_READY_SERVICES,

	__TPCLUSTER_A_MEMBER_MAX,
	TPCLUSTER_A_MEMBER_MAX = (__TPCLUSTER_A_MEMBER_MAX - 1)
};

enum {
	TPCLUSTER_A_COUNTER_NAME = 1,
	TPCLUSTER_A_COUNTER_VALUE,

	__TPCLUSTER_A_COUNTER_MAX,
	TPCLUSTER_A_COUNTER_MAX = (__TPCLUSTER_A_COUNTER_MAX - 1)
};

enum {
	TPCLUSTER_A_HANDOVER_CLIENT_ADDR = 1,
	TPCLUSTER_A_HANDOVER_CLIENT_PORT,
	TPCLUSTER_A_HANDOVER_VIP,
	TPCLUSTER_A_HANDOVER_PORT,
	TPCLUSTER_A_HANDOVER_COOKIE,
	TPCLUSTER_A_HANDOVER_TARGET,
	TPCLUSTER_A_HANDOVER_REPLAY,

	__TPCLUSTER_A_HANDOVER_MAX,
	TPCLUSTER_A_HANDOVER_MAX = (__TPCLUSTER_A_HANDOVER_MAX - 1)
};

enum {
	TPCLUSTER_A_REPLICA_ID = 1,
	TPCLUSTER_A_REPLICA_ROLE,
	TPCLUSTER_A_REPLICA_RECEIVED,
	TPCLUSTER_A_REPLICA_SENT,

	__TPCLUSTER_A_REPLICA_MAX,
	TPCLUSTER_A_REPLICA_MAX = (__TPCLUSTER_A_REPLICA_MAX - 1)
};

enum {
	TPCLUSTER_A_REPLICA_CONN_CLIENT_ADDR = 1,
	TPCLUSTER_A_REPLICA_CONN_CLIENT_PORT,
	TPCLUSTER_A_REPLICA_CONN_VIP,
	TPCLUSTER_A_REPLICA_CONN_PORT,
	TPCLUSTER_A_REPLICA_CONN_ROLE,
	TPCLUSTER_A_REPLICA_CONN_REPLICA,
	TPCLUSTER_A_REPLICA_CONN_PRIMARY_TO,
	TPCLUSTER_A_REPLICA_CONN_DIVERGED,
	TPCLUSTER_A_REPLICA_CONN_LOG,
	TPCLUSTER_A_REPLICA_CONN_LOG_BYTES,

	__TPCLUSTER_A_REPLICA_CONN_MAX,
	TPCLUSTER_A_REPLICA_CONN_MAX = (__TPCLUSTER_A_REPLICA_CONN_MAX - 1)
};

enum {
	TPCLUSTER_CMD_NODE_GET = 1,
	TPCLUSTER_CMD_NODE_SET,
	TPCLUSTER_CMD_PEER_ADD,
	TPCLUSTER_CMD_PEER_DEL,
	TPCLUSTER_CMD_PEER_GET,
	TPCLUSTER_CMD_VIP_ADD,
	TPCLUSTER_CMD_VIP_DEL,
	TPCLUSTER_CMD_VIP_GET,
	TPCLUSTER_CMD_SERVICE_ADD,
	TPCLUSTER_CMD_SERVICE_DEL,
	TPCLUSTER_CMD_SERVICE_GET,
	TPCLUSTER_CMD_MEMBER_GET,
	TPCLUSTER_CMD_MEMBER_NTF,
	TPCLUSTER_CMD_STATS_GET,
	TPCLUSTER_CMD_HANDOVER,
	TPCLUSTER_CMD_REPLICA_GET,
	TPCLUSTER_CMD_SERVICE_SET,
	TPCLUSTER_CMD_REPLICA_SET_PRIMARY,
	TPCLUSTER_CMD_REPLICA_NTF,

	__TPCLUSTER_CMD_MAX,
	TPCLUSTER_CMD_MAX = (__TPCLUSTER_CMD_MAX - 1)
};

#define TPCLUSTER_MCGRP_MONITOR	"monitor"

#endif /* _UAPI_LINUX_TPCLUSTER_H */
