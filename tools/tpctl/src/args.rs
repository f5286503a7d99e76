//! The values of tpctl's arguments, checked before any netlink traffic:
//! addresses, ports, numbers, MACs, keys, modes, and the ip-style
//! `keyword value` pairs. Each error is the reason, for a usage error.
//!
//! What is left to the kernel: rules its netlink policy states (ids not 0,
//! ports not 0, timer and replica ranges, `dead` at least twice
//! `heartbeat`), rules that depend on the node's configuration (unicast
//! addresses, a multicast cluster MAC, duplicates, table sizes, `replicas`
//! only for replicate services), and `node set` without anything to change.
//! Their refusals carry the kernel's reason.

use std::{net::Ipv4Addr, str::FromStr};

/// The `keyword value` pairs of `words`, each keyword one of `known` and
/// given at most once, in the order given.
pub(crate) fn pairs<'a>(
    words: &'a [String],
    known: &[&str],
) -> Result<Vec<(&'a str, &'a str)>, String> {
    let allowed = || known.join(", ");
    let mut out: Vec<(&str, &str)> = Vec::new();
    let mut rest = words;
    while let [key, tail @ ..] = rest {
        if !known.contains(&key.as_str()) {
            return Err(format!(
                "unknown keyword '{key}' (expected one of: {})",
                allowed()
            ));
        }
        let [value, tail @ ..] = tail else {
            return Err(format!("'{key}' needs a value"));
        };
        if out.iter().any(|(k, _)| k == key) {
            return Err(format!(
                "'{key}' given twice (each of {} at most once)",
                allowed()
            ));
        }
        out.push((key, value));
        rest = tail;
    }
    Ok(out)
}

/// An IPv4 address in dotted-quad form.
pub(crate) fn ipv4(what: &str, s: &str) -> Result<Ipv4Addr, String> {
    s.parse()
        .map_err(|_| format!("invalid {what} '{s}': not an IPv4 address"))
}

/// The number types tpctl reads, with their largest value for messages.
pub(crate) trait Number: FromStr {
    const MAX: u64;
}

impl Number for u16 {
    const MAX: u64 = u16::MAX as u64;
}

impl Number for u32 {
    const MAX: u64 = u32::MAX as u64;
}

impl Number for u64 {
    const MAX: u64 = u64::MAX;
}

/// A decimal number of type `T`.
pub(crate) fn number<T: Number>(what: &str, s: &str) -> Result<T, String> {
    // Digits only: no sign, no spaces, as `ip` takes numbers.
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = s.parse() {
            return Ok(n);
        }
    }
    Err(format!(
        "invalid {what} '{s}': not a number from 0 to {}",
        T::MAX
    ))
}

/// A MAC address: six bytes of one or two hex digits, `:`-separated.
pub(crate) fn mac(s: &str) -> Result<[u8; 6], String> {
    let bad = || format!("invalid MAC address '{s}': six hex bytes, as 01:00:5e:00:00:64");
    let mut out = [0u8; 6];
    let mut parts = s.split(':');
    for byte in &mut out {
        let p = parts.next().ok_or_else(bad)?;
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        *byte = u8::from_str_radix(p, 16).map_err(|_| bad())?;
    }
    match parts.next() {
        None => Ok(out),
        Some(_) => Err(bad()),
    }
}

/// The cluster key's length in bytes (the spec's `key-len`).
pub(crate) const KEY_LEN: usize = 32;

/// The cluster key: exactly 64 hex digits.
pub(crate) fn key(s: &str) -> Result<[u8; KEY_LEN], String> {
    let bad = || "the key is 64 hexadecimal digits (32 bytes)".to_string();
    if s.len() != 2 * KEY_LEN || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let mut out = [0u8; KEY_LEN];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// `ADDR:PORT`: a VIP and a service port, or a client's address and port.
pub(crate) fn endpoint(what: &str, s: &str) -> Result<(Ipv4Addr, u16), String> {
    let bad = || format!("invalid {what} '{s}': expected ADDR:PORT, as 10.0.0.100:80");
    let (a, p) = s.rsplit_once(':').ok_or_else(bad)?;
    let addr = a.parse().map_err(|_| bad())?;
    let port = number::<u16>("port", p).map_err(|_| bad())?;
    Ok((addr, port))
}

/// An interface name, as the kernel accepts them (`dev_valid_name`).
pub(crate) fn ifname(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() < libc::IFNAMSIZ
        && s != "."
        && s != ".."
        && !s.contains(|c: char| c == '/' || c == ':' || c.is_whitespace());
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("invalid interface name '{s}'"))
    }
}

/// A service's mode, as the spec's `service-mode` enum numbers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Balance = 0,
    Splice = 1,
    Replicate = 2,
}

impl Mode {
    pub(crate) const ALL: [Mode; 3] = [Mode::Balance, Mode::Splice, Mode::Replicate];

    pub(crate) fn name(self) -> &'static str {
        crate::uapi::MODES[self as usize]
    }

    pub(crate) fn from_u32(v: u32) -> Option<Mode> {
        Self::ALL.into_iter().find(|m| *m as u32 == v)
    }

    pub(crate) fn parse(s: &str) -> Result<Mode, String> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown mode '{s}' (expected one of: {})",
                    crate::uapi::MODES.join(", ")
                )
            })
    }
}

/// A service's affinity (`enum tpcluster_service_affinity`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Affinity {
    None = 0,
    Source = 1,
}

impl Affinity {
    pub(crate) const ALL: [Affinity; 2] = [Affinity::None, Affinity::Source];

    pub(crate) fn name(self) -> &'static str {
        crate::uapi::AFFINITIES[self as usize]
    }

    pub(crate) fn from_u32(v: u32) -> Option<Affinity> {
        Self::ALL.into_iter().find(|a| *a as u32 == v)
    }

    pub(crate) fn parse(s: &str) -> Result<Affinity, String> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown affinity '{s}' (expected one of: {})",
                    crate::uapi::AFFINITIES.join(", ")
                )
            })
    }
}

/// `on` or `off`, for `what`.
pub(crate) fn on_off(what: &str, s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("{what} is on or off, not '{s}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn keyword_pairs() {
        let w = words("id 2 addr 10.0.0.2");
        assert_eq!(
            pairs(&w, &["id", "addr"]).unwrap(),
            vec![("id", "2"), ("addr", "10.0.0.2")]
        );
        assert_eq!(pairs(&[], &["id"]).unwrap(), vec![]);
        let e = pairs(&words("id 1 id 2"), &["id", "addr"]).unwrap_err();
        assert!(
            e.contains("'id' given twice") && e.contains("id, addr"),
            "{e}"
        );
        let e = pairs(&words("port 1"), &["id", "addr"]).unwrap_err();
        assert_eq!(e, "unknown keyword 'port' (expected one of: id, addr)");
        assert_eq!(
            pairs(&words("id"), &["id"]).unwrap_err(),
            "'id' needs a value"
        );
    }

    #[test]
    fn values() {
        assert_eq!(ipv4("address", "10.0.0.1"), Ok(Ipv4Addr::new(10, 0, 0, 1)));
        for bad in ["10.0.0.300", "10.0.0", "", "010.0.0.1", "10.0.0.1 "] {
            let e = ipv4("address", bad).unwrap_err();
            assert!(e.contains("not an IPv4 address"), "{e}");
        }
        assert_eq!(number::<u16>("port", "7000"), Ok(7000));
        for bad in ["70000", "-1", "+1", "", "1e3", "٣"] {
            assert!(number::<u16>("port", bad).is_err(), "{bad}");
        }
        assert_eq!(
            number::<u16>("port", "70000").unwrap_err(),
            "invalid port '70000': not a number from 0 to 65535"
        );
        assert_eq!(mac("01:00:5e:00:00:64"), Ok([1, 0, 0x5e, 0, 0, 0x64]));
        assert_eq!(mac("1:0:5e:0:0:a"), Ok([1, 0, 0x5e, 0, 0, 0xa]));
        for bad in [
            "01:00:5e:00:00",
            "01:00:5e:00:00:zz",
            "01:00:5e:00:00:64:00",
            "+1:0:0:0:0:0",
            "001:0:0:0:0:0",
        ] {
            assert!(mac(bad).is_err(), "{bad}");
        }
        assert_eq!(key(&"ab".repeat(32)), Ok([0xab; 32]));
        for bad in [
            "abc".to_string(),
            "g".repeat(64),
            "ab".repeat(33),
            // Non-ASCII of the right byte length: an error, not a panic.
            "é".repeat(32),
            format!("{}é", "a".repeat(62)),
        ] {
            assert_eq!(
                key(&bad).unwrap_err(),
                "the key is 64 hexadecimal digits (32 bytes)"
            );
        }
        assert_eq!(
            endpoint("service", "10.0.0.100:80"),
            Ok((Ipv4Addr::new(10, 0, 0, 100), 80))
        );
        for bad in [
            "10.0.0.100",
            "10.0.0.100:",
            ":80",
            "10.0.0.100:65536",
            "host:80",
        ] {
            assert!(endpoint("service", bad).is_err(), "{bad}");
        }
        assert_eq!(ifname("eth0"), Ok("eth0".into()));
        for bad in ["", "a/b", "..", "averyveryverylongname", "a b"] {
            assert!(ifname(bad).is_err(), "{bad}");
        }
        assert_eq!(Mode::parse("replicate"), Ok(Mode::Replicate));
        assert_eq!(
            Mode::parse("fast").unwrap_err(),
            "unknown mode 'fast' (expected one of: balance, splice, replicate)"
        );
        for m in Mode::ALL {
            assert_eq!(Mode::from_u32(m as u32), Some(m));
        }
    }
}
