//! `nl-fuzz COUNT SEED [check]`: random and mutated requests of the
//! tpcluster netlink family, as a hostile or broken control program sends
//! them: any command number, `do` or `dump`, any attribute set (known and
//! unknown types, every length, nested flags, duplicates), and valid
//! requests with bytes flipped, cut or repeated. With `check`, the
//! configuration (node, peers, VIPs, services) is dumped after every
//! request, and one the kernel refused must have left it as it was.
//! Prints `requests=N ok=A refused=R changed_by_refused=C`, then the
//! first such change, if any.

use crate::{client::Client, genl::Attr, uapi};

/// xorshift64*: the same requests for the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Requests a real client could send, to mutate.
fn templates() -> Vec<(u8, Vec<Attr>)> {
    let vip = vec![10, 0, 0, 100];
    vec![
        (
            uapi::CMD_NODE_SET,
            vec![(uapi::A_NODE_HEARTBEAT_MS, 100u32.to_ne_bytes().to_vec())],
        ),
        (
            uapi::CMD_PEER_ADD,
            vec![
                (uapi::A_PEER_ID, 9u32.to_ne_bytes().to_vec()),
                (uapi::A_PEER_ADDR, vec![10, 0, 0, 9]),
            ],
        ),
        (
            uapi::CMD_PEER_DEL,
            vec![(uapi::A_PEER_ID, 9u32.to_ne_bytes().to_vec())],
        ),
        (
            uapi::CMD_VIP_ADD,
            vec![
                (uapi::A_VIP_ADDR, vec![10, 0, 0, 101]),
                (uapi::A_VIP_MAC, vec![1, 0, 0x5e, 0, 0, 101]),
                (uapi::A_VIP_IFINDEX, 2u32.to_ne_bytes().to_vec()),
            ],
        ),
        (
            uapi::CMD_VIP_DEL,
            vec![(uapi::A_VIP_ADDR, vec![10, 0, 0, 101])],
        ),
        (
            uapi::CMD_SERVICE_ADD,
            vec![
                (uapi::A_SERVICE_VIP, vip.clone()),
                (uapi::A_SERVICE_PORT, 8000u16.to_ne_bytes().to_vec()),
                (uapi::A_SERVICE_MODE, 2u32.to_ne_bytes().to_vec()),
                (uapi::A_SERVICE_REPLICAS, 2u32.to_ne_bytes().to_vec()),
            ],
        ),
        (
            uapi::CMD_SERVICE_DEL,
            vec![
                (uapi::A_SERVICE_VIP, vip),
                (uapi::A_SERVICE_PORT, 8000u16.to_ne_bytes().to_vec()),
            ],
        ),
        (
            uapi::CMD_HANDOVER,
            vec![
                (uapi::A_HANDOVER_COOKIE, 1u64.to_ne_bytes().to_vec()),
                (uapi::A_HANDOVER_TARGET, 2u32.to_ne_bytes().to_vec()),
            ],
        ),
    ]
}

/// An attribute of any type and length; sometimes flagged nested, with
/// attributes inside.
fn random_attr(rng: &mut Rng, depth: u32) -> Attr {
    let ty = match rng.below(10) {
        0..=6 => 1 + rng.below(10) as u16,
        7 => rng.next() as u16 & 0x7fff,
        _ => 0x8000 | (1 + rng.below(10) as u16),
    };
    let len = match rng.below(8) {
        0 => 0,
        1 => 1,
        2 => 2,
        3 | 4 => 4,
        5 => 6,
        6 => 8,
        _ => rng.below(300) as usize,
    };
    if ty & 0x8000 != 0 && depth < 2 {
        let mut inner = Vec::new();
        for _ in 0..rng.below(4) {
            let (t, v) = random_attr(rng, depth + 1);
            inner.extend_from_slice(&((v.len() + 4) as u16).to_ne_bytes());
            inner.extend_from_slice(&t.to_ne_bytes());
            inner.extend_from_slice(&v);
            inner.resize(inner.len().next_multiple_of(4), 0);
        }
        return (ty, inner);
    }
    (ty, rng.bytes(len))
}

/// One request: a command and its attributes, and whether it is a dump.
fn random_request(rng: &mut Rng, templates: &[(u8, Vec<Attr>)]) -> (u8, Vec<Attr>, bool) {
    let dump = rng.below(8) == 0;
    if rng.below(2) == 0 {
        // A valid request, mutated.
        let (cmd, mut attrs) = templates[rng.below(templates.len() as u64) as usize].clone();
        match rng.below(5) {
            0 if !attrs.is_empty() => {
                let i = rng.below(attrs.len() as u64) as usize;
                let v = &mut attrs[i].1;
                if !v.is_empty() {
                    let at = rng.below(v.len() as u64) as usize;
                    v[at] ^= 1 << rng.below(8);
                }
            }
            1 if !attrs.is_empty() => {
                let i = rng.below(attrs.len() as u64) as usize;
                let keep = rng.below(attrs[i].1.len() as u64 + 1) as usize;
                attrs[i].1.truncate(keep);
            }
            2 if !attrs.is_empty() => {
                let i = rng.below(attrs.len() as u64) as usize;
                attrs.push(attrs[i].clone());
            }
            3 if !attrs.is_empty() => {
                attrs.remove(rng.below(attrs.len() as u64) as usize);
            }
            _ => attrs.push(random_attr(rng, 0)),
        }
        return (cmd, attrs, dump);
    }
    let cmd = if rng.below(4) == 0 {
        rng.next() as u8
    } else {
        rng.below(18) as u8
    };
    let attrs = (0..rng.below(7)).map(|_| random_attr(rng, 0)).collect();
    (cmd, attrs, dump)
}

/// The configuration as the dumps show it.
fn snapshot(c: &mut Client) -> Result<String, String> {
    let mut out = format!("{:?}", c.request(uapi::CMD_NODE_GET, &[]).map_err(|e| e.0)?);
    for cmd in [uapi::CMD_PEER_GET, uapi::CMD_VIP_GET, uapi::CMD_SERVICE_GET] {
        out += &format!("{:?}", c.dump(cmd).map_err(|e| e.0)?);
    }
    Ok(out)
}

pub(crate) fn nl_fuzz(count: u64, seed: u64, check: bool) -> Result<String, String> {
    let mut rng = Rng(seed | 1);
    let templates = templates();
    let mut c = Client::connect().map_err(|e| e.0)?;
    let mut before = if check {
        snapshot(&mut c)?
    } else {
        String::new()
    };
    let (mut ok, mut refused, mut changed) = (0u64, 0u64, 0u64);
    let mut first_change = String::new();
    for i in 0..count {
        let (cmd, attrs, dump) = random_request(&mut rng, &templates);
        let result = if dump {
            c.dump(cmd)
        } else {
            c.request(cmd, &attrs)
        };
        match result {
            Ok(_) => ok += 1,
            Err(_) => refused += 1,
        }
        if check {
            let after = snapshot(&mut c)?;
            if result.is_err() && after != before {
                changed += 1;
                if first_change.is_empty() {
                    first_change = format!("\nrequest {i}: cmd {cmd} dump {dump} attrs {attrs:?}\nbefore {before}\nafter {after}");
                }
            }
            before = after;
        }
    }
    Ok(format!(
        "requests={count} ok={ok} refused={refused} changed_by_refused={changed}{first_change}"
    ))
}
