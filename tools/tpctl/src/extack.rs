//! The kernel's extended acknowledgement: the reason it gives with a
//! refusal (`NLMSGERR_ATTR_MSG`), which tpctl prints after the errno's text.
//!
//! netlink-packet-core hands an `NLMSG_ERROR` over as the error code and
//! the bytes after it, undecoded (`ErrorMessage::header`), and an
//! `NLMSG_DONE` as the code and the bytes after it
//! (`DoneMessage::extended_ack`). This module reads the extended-ack
//! attributes out of those bytes, with the crate's attribute iterator, and
//! nothing else.

use netlink_packet_core::{parse_u32, NlasIterator, NLM_F_ACK_TLVS, NLM_F_CAPPED};

/// `NLMSGERR_ATTR_MSG`: the reason, a NUL-terminated string.
const NLMSGERR_ATTR_MSG: u16 = 1;
/// `NLMSGERR_ATTR_MISS_TYPE`: the type of a missing attribute.
const NLMSGERR_ATTR_MISS_TYPE: u16 = 5;
/// Length of the `nlmsghdr` the kernel echoes back.
const NLMSGHDR_LEN: usize = 16;

/// What the kernel said with a refusal, beyond the error code.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ExtAck {
    /// The kernel's reason, as its code wrote it.
    pub(crate) msg: Option<String>,
    /// The type of a required attribute the request lacked.
    pub(crate) missing_type: Option<u32>,
}

/// Reads the attributes of `tlvs`; ones malformed or unknown are skipped.
fn attributes(tlvs: &[u8]) -> ExtAck {
    let mut ack = ExtAck::default();
    for nla in NlasIterator::new(tlvs) {
        let Ok(nla) = nla else { break };
        match nla.kind() {
            NLMSGERR_ATTR_MSG => {
                let text = nla.value().split(|&c| c == 0).next().unwrap_or(&[]);
                ack.msg = Some(String::from_utf8_lossy(text).into_owned());
            }
            NLMSGERR_ATTR_MISS_TYPE => ack.missing_type = parse_u32(nla.value()).ok(),
            _ => {}
        }
    }
    ack
}

/// The extended ack of an `NLMSG_ERROR` whose header has `flags`, from
/// `payload`, the bytes after the error code: the echoed request (only its
/// header when the kernel capped it), then the attributes if it says there
/// are some.
pub(crate) fn of_error(flags: u16, payload: &[u8]) -> ExtAck {
    if flags & NLM_F_ACK_TLVS == 0 {
        return ExtAck::default();
    }
    let echoed = if flags & NLM_F_CAPPED != 0 {
        NLMSGHDR_LEN
    } else {
        // The whole request came back: its own length says where it ends.
        payload
            .get(..4)
            .and_then(|b| parse_u32(b).ok())
            .map_or(payload.len(), |len| (len as usize + 3) & !3)
    };
    attributes(payload.get(echoed..).unwrap_or(&[]))
}

/// The extended ack of an `NLMSG_DONE` that ends a dump with an error:
/// the attributes follow the code directly.
pub(crate) fn of_done(flags: u16, tlvs: &[u8]) -> ExtAck {
    if flags & NLM_F_ACK_TLVS == 0 {
        return ExtAck::default();
    }
    attributes(tlvs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut out = ((4 + value.len()) as u16).to_ne_bytes().to_vec();
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(value);
        out.resize((out.len() + 3) & !3, 0);
        out
    }

    fn echoed_header(len: u32) -> Vec<u8> {
        let mut h = len.to_ne_bytes().to_vec();
        h.resize(NLMSGHDR_LEN, 0);
        h
    }

    #[test]
    fn reads_the_reason_after_a_capped_request() {
        let mut payload = echoed_header(40);
        payload.extend(tlv(NLMSGERR_ATTR_MSG, b"too many peers\0"));
        payload.extend(tlv(NLMSGERR_ATTR_MISS_TYPE, &1u32.to_ne_bytes()));
        assert_eq!(
            of_error(NLM_F_CAPPED | NLM_F_ACK_TLVS, &payload),
            ExtAck {
                msg: Some("too many peers".into()),
                missing_type: Some(1),
            }
        );
    }

    #[test]
    fn skips_a_whole_echoed_request() {
        // Not capped: the request (header and 6 bytes of body, padded to
        // 24) comes back whole before the attributes.
        let mut payload = echoed_header(22);
        payload.extend_from_slice(&[0xaa; 8]);
        payload.extend(tlv(NLMSGERR_ATTR_MSG, b"missing peer id\0"));
        assert_eq!(
            of_error(NLM_F_ACK_TLVS, &payload).msg.as_deref(),
            Some("missing peer id")
        );
    }

    #[test]
    fn no_attributes_unless_flagged() {
        let mut payload = echoed_header(20);
        payload.extend(tlv(NLMSGERR_ATTR_MSG, b"ignored\0"));
        assert_eq!(of_error(NLM_F_CAPPED, &payload), ExtAck::default());
        assert_eq!(
            of_done(0, &tlv(NLMSGERR_ATTR_MSG, b"x\0")),
            ExtAck::default()
        );
        assert_eq!(
            of_done(NLM_F_ACK_TLVS, &tlv(NLMSGERR_ATTR_MSG, b"dump failed\0"))
                .msg
                .as_deref(),
            Some("dump failed")
        );
    }

    #[test]
    fn survives_any_truncation() {
        let mut payload = echoed_header(20);
        payload.extend(tlv(NLMSGERR_ATTR_MSG, b"a reason\0"));
        payload.extend(tlv(NLMSGERR_ATTR_MISS_TYPE, &3u32.to_ne_bytes()));
        for cut in 0..payload.len() {
            for flags in [0, NLM_F_ACK_TLVS, NLM_F_CAPPED | NLM_F_ACK_TLVS] {
                let _ = of_error(flags, &payload[..cut]);
            }
        }
        // A message without its NUL, an attribute of the wrong size.
        let mut payload = echoed_header(16);
        payload.extend(tlv(NLMSGERR_ATTR_MSG, b"no nul"));
        payload.extend(tlv(NLMSGERR_ATTR_MISS_TYPE, &[1, 2]));
        assert_eq!(
            of_error(NLM_F_CAPPED | NLM_F_ACK_TLVS, &payload),
            ExtAck {
                msg: Some("no nul".into()),
                missing_type: None,
            }
        );
    }
}
