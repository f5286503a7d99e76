//! Numbers of the `tpcluster` netlink family, as in the UAPI header
//! `include/uapi/linux/tpcluster.h` generated from the YNL spec (a test
//! checks that they agree).

pub(crate) const FAMILY_NAME: &str = "tpcluster";
pub(crate) const FAMILY_VERSION: u8 = 1;

pub(crate) const CMD_NODE_GET: u8 = 1;
pub(crate) const CMD_NODE_SET: u8 = 2;
pub(crate) const CMD_PEER_ADD: u8 = 3;
pub(crate) const CMD_PEER_DEL: u8 = 4;
pub(crate) const CMD_PEER_GET: u8 = 5;
pub(crate) const CMD_VIP_ADD: u8 = 6;
pub(crate) const CMD_VIP_DEL: u8 = 7;
pub(crate) const CMD_VIP_GET: u8 = 8;
pub(crate) const CMD_SERVICE_ADD: u8 = 9;
pub(crate) const CMD_SERVICE_DEL: u8 = 10;
pub(crate) const CMD_SERVICE_GET: u8 = 11;
pub(crate) const CMD_MEMBER_GET: u8 = 12;
pub(crate) const CMD_MEMBER_NTF: u8 = 13;
pub(crate) const CMD_STATS_GET: u8 = 14;
pub(crate) const CMD_HANDOVER: u8 = 15;
pub(crate) const CMD_REPLICA_GET: u8 = 16;
pub(crate) const CMD_SERVICE_SET: u8 = 17;
pub(crate) const CMD_REPLICA_SET_PRIMARY: u8 = 18;
pub(crate) const CMD_REPLICA_NTF: u8 = 19;

/// The multicast group of membership notifications.
pub(crate) const MCGRP_MONITOR: &str = "monitor";

pub(crate) const A_NODE_ID: u16 = 1;
pub(crate) const A_NODE_ADDR: u16 = 2;
pub(crate) const A_NODE_PORT: u16 = 3;
pub(crate) const A_NODE_KEY: u16 = 4;
pub(crate) const A_NODE_KEY_SET: u16 = 5;
pub(crate) const A_NODE_HEARTBEAT_MS: u16 = 6;
pub(crate) const A_NODE_DEAD_MS: u16 = 7;
pub(crate) const A_NODE_FULL_MEMBER: u16 = 8;
pub(crate) const A_NODE_WEIGHT: u16 = 9;
pub(crate) const A_NODE_DRAIN: u16 = 10;

pub(crate) const A_PEER_ID: u16 = 1;
pub(crate) const A_PEER_ADDR: u16 = 2;

pub(crate) const A_VIP_ADDR: u16 = 1;
pub(crate) const A_VIP_MAC: u16 = 2;
pub(crate) const A_VIP_IFINDEX: u16 = 3;

pub(crate) const A_SERVICE_VIP: u16 = 1;
pub(crate) const A_SERVICE_PORT: u16 = 2;
pub(crate) const A_SERVICE_MODE: u16 = 3;
pub(crate) const A_SERVICE_REPLICAS: u16 = 4;
pub(crate) const A_SERVICE_CONNECTIONS: u16 = 5;
pub(crate) const A_SERVICE_AFFINITY: u16 = 6;
pub(crate) const A_SERVICE_READY: u16 = 7;
pub(crate) const A_SERVICE_CANDIDATES: u16 = 8;
pub(crate) const A_SERVICE_HEALTHY: u16 = 9;
pub(crate) const A_SERVICE_BACKEND_PORT: u16 = 10;

pub(crate) const A_MEMBER_ID: u16 = 1;
pub(crate) const A_MEMBER_ADDR: u16 = 2;
pub(crate) const A_MEMBER_STATE: u16 = 3;
pub(crate) const A_MEMBER_INCARNATION: u16 = 4;
pub(crate) const A_MEMBER_LAST_HEARD_MS: u16 = 5;
pub(crate) const A_MEMBER_WEIGHT: u16 = 6;
pub(crate) const A_MEMBER_READY_SERVICES: u16 = 7;

pub(crate) const A_HANDOVER_CLIENT_ADDR: u16 = 1;
pub(crate) const A_HANDOVER_CLIENT_PORT: u16 = 2;
pub(crate) const A_HANDOVER_VIP: u16 = 3;
pub(crate) const A_HANDOVER_PORT: u16 = 4;
pub(crate) const A_HANDOVER_COOKIE: u16 = 5;
pub(crate) const A_HANDOVER_TARGET: u16 = 6;
pub(crate) const A_HANDOVER_REPLAY: u16 = 7;

pub(crate) const A_COUNTER_NAME: u16 = 1;
pub(crate) const A_COUNTER_VALUE: u16 = 2;

pub(crate) const A_REPLICA_ID: u16 = 1;
pub(crate) const A_REPLICA_ROLE: u16 = 2;
pub(crate) const A_REPLICA_RECEIVED: u16 = 3;
pub(crate) const A_REPLICA_SENT: u16 = 4;

pub(crate) const A_REPLICA_CONN_CLIENT_ADDR: u16 = 1;
pub(crate) const A_REPLICA_CONN_CLIENT_PORT: u16 = 2;
pub(crate) const A_REPLICA_CONN_VIP: u16 = 3;
pub(crate) const A_REPLICA_CONN_PORT: u16 = 4;
pub(crate) const A_REPLICA_CONN_ROLE: u16 = 5;
pub(crate) const A_REPLICA_CONN_REPLICA: u16 = 6;
pub(crate) const A_REPLICA_CONN_PRIMARY_TO: u16 = 7;
pub(crate) const A_REPLICA_CONN_DIVERGED: u16 = 8;
pub(crate) const A_REPLICA_CONN_LOG: u16 = 9;
pub(crate) const A_REPLICA_CONN_LOG_BYTES: u16 = 10;

pub(crate) const MODES: [&str; 3] = ["balance", "splice", "replicate"];
/// `enum tpcluster_service_affinity`, by value.
pub(crate) const AFFINITIES: [&str; 2] = ["none", "source"];
pub(crate) const MEMBER_STATES: [&str; 3] = ["self", "live", "dead"];
/// `conn-role`: this node's role on a replicated connection.
pub(crate) const CONN_ROLES: [&str; 3] = ["primary", "backup", "fenced"];
/// `replica-role`: a replica's role in its connection's set.
pub(crate) const REPLICA_ROLES: [&str; 4] = ["primary", "backup", "excluded", "joining"];
/// `log-state`: the client log a node keeps of a replicated connection.
pub(crate) const LOG_STATES: [&str; 4] = ["none", "kept", "past-bound", "lost"];

#[cfg(test)]
mod tests {
    use super::*;

    /// Each `NAME = N` or implicit successor in the C header's enums.
    fn header_values() -> std::collections::HashMap<String, u32> {
        let text = include_str!("../../../include/uapi/linux/tpcluster.h");
        let mut values = std::collections::HashMap::new();
        let mut next = 0;
        for line in text.lines().map(str::trim) {
            if line.starts_with("enum") {
                next = 0;
            }
            let Some(name) = line.strip_suffix(',') else {
                continue;
            };
            let (name, value) = match name.split_once(" = ") {
                Some((n, v)) => (n, v.parse().unwrap_or(u32::MAX)),
                None => (name, next),
            };
            if name.starts_with("TPCLUSTER_") && !name.starts_with("__") {
                values.insert(name.to_string(), value);
                next = value.wrapping_add(1);
            }
        }
        values
    }

    #[test]
    fn numbers_match_the_uapi_header() {
        let h = header_values();
        let check = |name: &str, v: u32| assert_eq!(h.get(name), Some(&v), "{name}");
        check("TPCLUSTER_CMD_NODE_GET", CMD_NODE_GET.into());
        check("TPCLUSTER_CMD_NODE_SET", CMD_NODE_SET.into());
        check("TPCLUSTER_CMD_PEER_ADD", CMD_PEER_ADD.into());
        check("TPCLUSTER_CMD_PEER_DEL", CMD_PEER_DEL.into());
        check("TPCLUSTER_CMD_PEER_GET", CMD_PEER_GET.into());
        check("TPCLUSTER_CMD_VIP_ADD", CMD_VIP_ADD.into());
        check("TPCLUSTER_CMD_VIP_DEL", CMD_VIP_DEL.into());
        check("TPCLUSTER_CMD_VIP_GET", CMD_VIP_GET.into());
        check("TPCLUSTER_CMD_SERVICE_ADD", CMD_SERVICE_ADD.into());
        check("TPCLUSTER_CMD_SERVICE_DEL", CMD_SERVICE_DEL.into());
        check("TPCLUSTER_CMD_SERVICE_GET", CMD_SERVICE_GET.into());
        check("TPCLUSTER_A_NODE_ID", A_NODE_ID.into());
        check("TPCLUSTER_A_NODE_ADDR", A_NODE_ADDR.into());
        check("TPCLUSTER_A_NODE_PORT", A_NODE_PORT.into());
        check("TPCLUSTER_A_NODE_KEY", A_NODE_KEY.into());
        check("TPCLUSTER_A_NODE_KEY_SET", A_NODE_KEY_SET.into());
        check("TPCLUSTER_A_NODE_HEARTBEAT_MS", A_NODE_HEARTBEAT_MS.into());
        check("TPCLUSTER_A_NODE_DEAD_MS", A_NODE_DEAD_MS.into());
        check("TPCLUSTER_A_NODE_FULL_MEMBER", A_NODE_FULL_MEMBER.into());
        check("TPCLUSTER_A_PEER_ID", A_PEER_ID.into());
        check("TPCLUSTER_A_PEER_ADDR", A_PEER_ADDR.into());
        check("TPCLUSTER_A_VIP_ADDR", A_VIP_ADDR.into());
        check("TPCLUSTER_A_VIP_MAC", A_VIP_MAC.into());
        check("TPCLUSTER_A_VIP_IFINDEX", A_VIP_IFINDEX.into());
        check("TPCLUSTER_A_SERVICE_VIP", A_SERVICE_VIP.into());
        check("TPCLUSTER_A_SERVICE_PORT", A_SERVICE_PORT.into());
        check("TPCLUSTER_A_SERVICE_MODE", A_SERVICE_MODE.into());
        check("TPCLUSTER_A_SERVICE_REPLICAS", A_SERVICE_REPLICAS.into());
        check(
            "TPCLUSTER_A_SERVICE_CONNECTIONS",
            A_SERVICE_CONNECTIONS.into(),
        );
        check("TPCLUSTER_CMD_MEMBER_GET", CMD_MEMBER_GET.into());
        check("TPCLUSTER_CMD_HANDOVER", CMD_HANDOVER.into());
        check(
            "TPCLUSTER_A_HANDOVER_CLIENT_ADDR",
            A_HANDOVER_CLIENT_ADDR.into(),
        );
        check(
            "TPCLUSTER_A_HANDOVER_CLIENT_PORT",
            A_HANDOVER_CLIENT_PORT.into(),
        );
        check("TPCLUSTER_A_HANDOVER_VIP", A_HANDOVER_VIP.into());
        check("TPCLUSTER_A_HANDOVER_PORT", A_HANDOVER_PORT.into());
        check("TPCLUSTER_A_HANDOVER_COOKIE", A_HANDOVER_COOKIE.into());
        check("TPCLUSTER_A_HANDOVER_TARGET", A_HANDOVER_TARGET.into());
        check("TPCLUSTER_A_HANDOVER_REPLAY", A_HANDOVER_REPLAY.into());
        check("TPCLUSTER_CMD_MEMBER_NTF", CMD_MEMBER_NTF.into());
        check("TPCLUSTER_CMD_STATS_GET", CMD_STATS_GET.into());
        check("TPCLUSTER_A_MEMBER_ID", A_MEMBER_ID.into());
        check("TPCLUSTER_A_MEMBER_ADDR", A_MEMBER_ADDR.into());
        check("TPCLUSTER_A_MEMBER_STATE", A_MEMBER_STATE.into());
        check(
            "TPCLUSTER_A_MEMBER_INCARNATION",
            A_MEMBER_INCARNATION.into(),
        );
        check(
            "TPCLUSTER_A_MEMBER_LAST_HEARD_MS",
            A_MEMBER_LAST_HEARD_MS.into(),
        );
        check("TPCLUSTER_A_COUNTER_NAME", A_COUNTER_NAME.into());
        check("TPCLUSTER_A_COUNTER_VALUE", A_COUNTER_VALUE.into());
        check("TPCLUSTER_CMD_REPLICA_GET", CMD_REPLICA_GET.into());
        check("TPCLUSTER_A_REPLICA_ID", A_REPLICA_ID.into());
        check("TPCLUSTER_A_REPLICA_ROLE", A_REPLICA_ROLE.into());
        check("TPCLUSTER_A_REPLICA_RECEIVED", A_REPLICA_RECEIVED.into());
        check("TPCLUSTER_A_REPLICA_SENT", A_REPLICA_SENT.into());
        check(
            "TPCLUSTER_A_REPLICA_CONN_CLIENT_ADDR",
            A_REPLICA_CONN_CLIENT_ADDR.into(),
        );
        check(
            "TPCLUSTER_A_REPLICA_CONN_CLIENT_PORT",
            A_REPLICA_CONN_CLIENT_PORT.into(),
        );
        check("TPCLUSTER_A_REPLICA_CONN_VIP", A_REPLICA_CONN_VIP.into());
        check("TPCLUSTER_A_REPLICA_CONN_PORT", A_REPLICA_CONN_PORT.into());
        check("TPCLUSTER_A_REPLICA_CONN_ROLE", A_REPLICA_CONN_ROLE.into());
        check(
            "TPCLUSTER_A_REPLICA_CONN_REPLICA",
            A_REPLICA_CONN_REPLICA.into(),
        );
        check(
            "TPCLUSTER_A_REPLICA_CONN_PRIMARY_TO",
            A_REPLICA_CONN_PRIMARY_TO.into(),
        );
        check(
            "TPCLUSTER_A_REPLICA_CONN_DIVERGED",
            A_REPLICA_CONN_DIVERGED.into(),
        );
        check("TPCLUSTER_A_REPLICA_CONN_LOG", A_REPLICA_CONN_LOG.into());
        check(
            "TPCLUSTER_A_REPLICA_CONN_LOG_BYTES",
            A_REPLICA_CONN_LOG_BYTES.into(),
        );
        for (i, s) in LOG_STATES.iter().enumerate() {
            check(
                &format!("TPCLUSTER_LOG_STATE_{}", s.to_uppercase().replace('-', "_")),
                i as u32,
            );
        }
        check("TPCLUSTER_CMD_REPLICA_NTF", CMD_REPLICA_NTF.into());
        check("TPCLUSTER_CMD_SERVICE_SET", CMD_SERVICE_SET.into());
        check(
            "TPCLUSTER_CMD_REPLICA_SET_PRIMARY",
            CMD_REPLICA_SET_PRIMARY.into(),
        );
        check("TPCLUSTER_A_SERVICE_HEALTHY", A_SERVICE_HEALTHY.into());
        check(
            "TPCLUSTER_A_SERVICE_BACKEND_PORT",
            A_SERVICE_BACKEND_PORT.into(),
        );
        for (i, r) in CONN_ROLES.iter().enumerate() {
            check(
                &format!("TPCLUSTER_CONN_ROLE_{}", r.to_uppercase()),
                i as u32,
            );
        }
        for (i, r) in REPLICA_ROLES.iter().enumerate() {
            check(
                &format!("TPCLUSTER_REPLICA_ROLE_{}", r.to_uppercase()),
                i as u32,
            );
        }
        for (i, s) in MEMBER_STATES.iter().enumerate() {
            check(
                &format!("TPCLUSTER_MEMBER_STATE_{}", s.to_uppercase()),
                i as u32,
            );
        }
        let spec = include_str!("../../../Documentation/netlink/specs/tpcluster.yaml");
        assert!(spec.contains(&format!("name: {MCGRP_MONITOR}\n")));
        for (i, m) in MODES.iter().enumerate() {
            check(
                &format!("TPCLUSTER_SERVICE_MODE_{}", m.to_uppercase()),
                i as u32,
            );
        }
    }
}
