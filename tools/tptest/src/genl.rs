//! Generic netlink messages: requests to build, replies to parse. Pure
//! byte-level code, tested without a kernel; the socket is in `client.rs`.
//!
//! Layout (netlink(7), genetlink): `nlmsghdr` (16 bytes), `genlmsghdr`
//! (4 bytes), then attributes, each `nla_len: u16, nla_type: u16`, payload,
//! padded to 4 bytes. Errors are `nlmsgerr` (error code, the request's
//! header; capped, since we set NETLINK_CAP_ACK), then extended-ack TLVs.
//!
//! tptest's own: tpctl speaks to the family through netlink-packet-core
//! and netlink-packet-generic, which build only well-formed requests; the
//! fuzzer (`nlfuzz.rs`) and `nl-raw` need to send any bytes.

pub(crate) const NLMSG_ERROR: u16 = 2;
pub(crate) const NLMSG_DONE: u16 = 3;
pub(crate) const GENL_ID_CTRL: u16 = 0x10;
pub(crate) const CTRL_CMD_GETFAMILY: u8 = 3;
pub(crate) const CTRL_ATTR_FAMILY_ID: u16 = 1;
pub(crate) const CTRL_ATTR_FAMILY_NAME: u16 = 2;
pub(crate) const CTRL_ATTR_MCAST_GROUPS: u16 = 7;
pub(crate) const CTRL_ATTR_MCAST_GRP_NAME: u16 = 1;
pub(crate) const CTRL_ATTR_MCAST_GRP_ID: u16 = 2;
pub(crate) const NLM_F_REQUEST: u16 = 0x1;
pub(crate) const NLM_F_ACK: u16 = 0x4;
pub(crate) const NLM_F_DUMP: u16 = 0x300;
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const NLMSGERR_ATTR_MISS_TYPE: u16 = 5;
const NLA_TYPE_MASK: u16 = 0x3fff;

/// An attribute: type and payload.
pub(crate) type Attr = (u16, Vec<u8>);

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// A request of `cmd` to `family`, with `attrs`.
pub(crate) fn request(
    family: u16,
    cmd: u8,
    version: u8,
    flags: u16,
    seq: u32,
    attrs: &[Attr],
) -> Vec<u8> {
    let mut out = vec![0u8; 20];
    for (ty, payload) in attrs {
        let len = 4 + payload.len();
        out.extend_from_slice(&(len as u16).to_ne_bytes());
        out.extend_from_slice(&ty.to_ne_bytes());
        out.extend_from_slice(payload);
        out.resize(align4(out.len()), 0);
    }
    let total = out.len() as u32;
    out[0..4].copy_from_slice(&total.to_ne_bytes());
    out[4..6].copy_from_slice(&family.to_ne_bytes());
    out[6..8].copy_from_slice(&(flags | NLM_F_REQUEST).to_ne_bytes());
    out[8..12].copy_from_slice(&seq.to_ne_bytes());
    // pid 0: the kernel. genlmsghdr: cmd, version, reserved.
    out[16] = cmd;
    out[17] = version;
    out
}

/// One message of a reply.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    /// A generic netlink message: command and attributes.
    Data { cmd: u8, attrs: Vec<Attr> },
    /// Success acknowledgement.
    Ack,
    /// The request was refused.
    Error {
        errno: i32,
        msg: Option<String>,
        missing: Option<u16>,
    },
    /// End of a dump.
    Done,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Parses a run of attributes.
pub(crate) fn attrs(mut b: &[u8]) -> Result<Vec<Attr>, String> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let len = usize::from(u16_at(b, 0).unwrap_or(0));
        let ty = u16_at(b, 2).unwrap_or(0) & NLA_TYPE_MASK;
        let payload = b
            .get(4..len)
            .ok_or_else(|| format!("attribute {ty} overruns its message"))?;
        out.push((ty, payload.to_vec()));
        b = b.get(align4(len).min(b.len())..).unwrap_or(&[]);
    }
    Ok(out)
}

/// Parses one datagram of replies.
pub(crate) fn parse(mut b: &[u8]) -> Result<Vec<Reply>, String> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let len = u32_at(b, 0).ok_or("truncated netlink header")? as usize;
        if len < 16 || len > b.len() {
            return Err(format!("bad netlink message length {len}"));
        }
        let ty = u16_at(b, 4).unwrap_or(0);
        let flags = u16_at(b, 6).unwrap_or(0);
        let body = &b[16..len];
        out.push(match ty {
            NLMSG_DONE => Reply::Done,
            NLMSG_ERROR => {
                let code = u32_at(body, 0).ok_or("truncated error")? as i32;
                if code == 0 {
                    Reply::Ack
                } else {
                    let mut tlv_at = 4 + 16;
                    if flags & NLM_F_CAPPED == 0 {
                        tlv_at = 4 + u32_at(body, 4).unwrap_or(16) as usize;
                    }
                    let (mut msg, mut missing) = (None, None);
                    if flags & NLM_F_ACK_TLVS != 0 {
                        for (t, v) in attrs(body.get(tlv_at..).unwrap_or(&[]))? {
                            match t {
                                NLMSGERR_ATTR_MSG => {
                                    let text = v.split(|&c| c == 0).next().unwrap_or(&[]);
                                    msg = Some(String::from_utf8_lossy(text).into_owned());
                                }
                                NLMSGERR_ATTR_MISS_TYPE => {
                                    missing = u32_at(&v, 0).map(|m| m as u16)
                                }
                                _ => {}
                            }
                        }
                    }
                    Reply::Error {
                        errno: -code,
                        msg,
                        missing,
                    }
                }
            }
            _ => Reply::Data {
                cmd: *body.first().ok_or("truncated generic netlink header")?,
                attrs: attrs(body.get(4..).unwrap_or(&[]))?,
            },
        });
        b = &b[align4(len).min(b.len())..];
    }
    Ok(out)
}

/// The payload of attribute `ty`.
pub(crate) fn get(attrs: &[Attr], ty: u16) -> Option<&[u8]> {
    attrs
        .iter()
        .find(|(t, _)| *t == ty)
        .map(|(_, v)| v.as_slice())
}

/// The payloads of every attribute `ty` (a multi-attr), in order.
pub(crate) fn get_all(attrs: &[Attr], ty: u16) -> impl Iterator<Item = &[u8]> {
    attrs
        .iter()
        .filter(move |(t, _)| *t == ty)
        .map(|(_, v)| v.as_slice())
}

/// Attribute `ty` as a native-endian u32.
pub(crate) fn get_u32(attrs: &[Attr], ty: u16) -> Option<u32> {
    u32_at(get(attrs, ty)?, 0)
}

/// Attribute `ty` as a native-endian u16.
pub(crate) fn get_u16(attrs: &[Attr], ty: u16) -> Option<u16> {
    u16_at(get(attrs, ty)?, 0)
}

/// The id of multicast group `name` in a CTRL_CMD_GETFAMILY reply.
pub(crate) fn mcast_group(family: &[Attr], name: &str) -> Option<u32> {
    let groups = attrs(get(family, CTRL_ATTR_MCAST_GROUPS)?).ok()?;
    groups.iter().find_map(|(_, nested)| {
        let group = attrs(nested).ok()?;
        let n = get(&group, CTRL_ATTR_MCAST_GRP_NAME)?;
        (n.split(|&c| c == 0).next()? == name.as_bytes())
            .then(|| get_u32(&group, CTRL_ATTR_MCAST_GRP_ID))
            .flatten()
    })
}

/// Attribute `ty` as a native-endian `u64`.
pub(crate) fn get_u64(attrs: &[Attr], ty: u16) -> Option<u64> {
    Some(u64::from_ne_bytes(
        get(attrs, ty)?.get(..8)?.try_into().ok()?,
    ))
}

/// Attribute `ty` as a NUL-terminated string.
pub(crate) fn get_str(attrs: &[Attr], ty: u16) -> Option<String> {
    let v = get(attrs, ty)?;
    let text = v.split(|&c| c == 0).next()?;
    Some(String::from_utf8_lossy(text).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_layout() {
        let r = request(
            0x20,
            3,
            1,
            NLM_F_ACK,
            7,
            &[(1, vec![1, 0, 0, 0]), (2, vec![9])],
        );
        assert_eq!(r.len(), 20 + 8 + 8);
        assert_eq!(u32_at(&r, 0), Some(36));
        assert_eq!(u16_at(&r, 4), Some(0x20));
        assert_eq!(u16_at(&r, 6), Some(NLM_F_ACK | NLM_F_REQUEST));
        assert_eq!((r[16], r[17]), (3, 1));
        assert_eq!(
            attrs(&r[20..]).unwrap(),
            vec![(1, vec![1, 0, 0, 0]), (2, vec![9])]
        );
    }

    #[test]
    fn error_with_extack() {
        // nlmsghdr(error) + code -22 + capped request header + MSG + MISS_TYPE.
        let mut m = vec![0u8; 16];
        m[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        m[6..8].copy_from_slice(&(NLM_F_CAPPED | NLM_F_ACK_TLVS).to_ne_bytes());
        m.extend_from_slice(&(-22i32).to_ne_bytes());
        m.extend_from_slice(&[0u8; 16]);
        let text = b"missing peer id\0";
        m.extend_from_slice(&((4 + text.len()) as u16).to_ne_bytes());
        m.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        m.extend_from_slice(text);
        m.extend_from_slice(&8u16.to_ne_bytes());
        m.extend_from_slice(&NLMSGERR_ATTR_MISS_TYPE.to_ne_bytes());
        m.extend_from_slice(&1u32.to_ne_bytes());
        let len = m.len() as u32;
        m[0..4].copy_from_slice(&len.to_ne_bytes());
        assert_eq!(
            parse(&m).unwrap(),
            vec![Reply::Error {
                errno: 22,
                msg: Some("missing peer id".into()),
                missing: Some(1)
            }]
        );
    }

    #[test]
    fn rejects_truncation_without_panicking() {
        let r = request(0x20, 3, 1, 0, 1, &[(1, vec![1, 2, 3, 4])]);
        for cut in 0..r.len() {
            let _ = parse(&r[..cut]);
        }
        assert!(parse(&r[..10]).is_err());
    }
}
