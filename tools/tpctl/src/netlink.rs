//! The `tpcluster` generic netlink family: requests, dumps and
//! notifications over a netlink-sys socket. netlink-packet-core frames the
//! messages and their attributes, netlink-packet-generic adds the generic
//! header and asks the controller for the family's id and groups; only the
//! extended acknowledgement is read here (`extack.rs`).

use crate::{extack, uapi};
use netlink_packet_core::{
    parse_u16, parse_u32, parse_u64, parse_u8, DecodeError, Emitable, NetlinkMessage,
    NetlinkPayload, Nla, NlasIterator, ParseableParametrized, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_generic::{
    ctrl::{
        nlas::{GenlCtrlAttrs, McastGrpAttrs},
        GenlCtrl, GenlCtrlCmd,
    },
    GenlFamily, GenlHeader, GenlMessage,
};
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};
use std::{fmt::Debug, net::Ipv4Addr, os::fd::AsRawFd};

/// A refusal or failure, as tpctl reports it: the system's text for the
/// error, then the kernel's reason if it gave one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Error {
    /// The kernel's error number, 0 for a failure of tpctl's own.
    pub(crate) errno: i32,
    pub(crate) text: String,
}

impl Error {
    fn other(text: impl Into<String>) -> Self {
        Self {
            errno: 0,
            text: text.into(),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The generic netlink controller's fixed family id.
const GENL_ID_CTRL: u16 = 0x10;

/// What `connect` says when the family is not registered.
pub(crate) const NOT_LOADED: &str =
    "the tpcluster netlink family is not registered: is the tpcluster module loaded?";

/// One attribute: its type (flags included) and value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Attr {
    pub(crate) kind: u16,
    pub(crate) value: Vec<u8>,
}

impl Attr {
    pub(crate) fn bytes(kind: u16, value: Vec<u8>) -> Self {
        Self { kind, value }
    }

    pub(crate) fn u8(kind: u16, v: u8) -> Self {
        Self::bytes(kind, vec![v])
    }

    pub(crate) fn u16(kind: u16, v: u16) -> Self {
        Self::bytes(kind, v.to_ne_bytes().to_vec())
    }

    pub(crate) fn u32(kind: u16, v: u32) -> Self {
        Self::bytes(kind, v.to_ne_bytes().to_vec())
    }

    pub(crate) fn u64(kind: u16, v: u64) -> Self {
        Self::bytes(kind, v.to_ne_bytes().to_vec())
    }

    /// An IPv4 address: the spec's big-endian u32, the address's octets.
    pub(crate) fn ipv4(kind: u16, a: Ipv4Addr) -> Self {
        Self::bytes(kind, a.octets().to_vec())
    }
}

impl Nla for Attr {
    fn value_len(&self) -> usize {
        self.value.len()
    }

    fn kind(&self) -> u16 {
        self.kind
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        buffer.copy_from_slice(&self.value);
    }
}

/// The attributes of a message (or of a nested attribute), in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Attrs(pub(crate) Vec<Attr>);

impl Attrs {
    /// Parses a run of attributes; types are kept without their flags.
    pub(crate) fn parse(buf: &[u8]) -> Result<Self, DecodeError> {
        NlasIterator::new(buf)
            .map(|nla| {
                nla.map(|nla| Attr {
                    kind: nla.kind(),
                    value: nla.value().to_vec(),
                })
            })
            .collect::<Result<_, _>>()
            .map(Attrs)
    }

    /// The value of the first attribute of type `kind`.
    pub(crate) fn get(&self, kind: u16) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|a| a.kind == kind)
            .map(|a| a.value.as_slice())
    }

    pub(crate) fn u8(&self, kind: u16) -> Option<u8> {
        parse_u8(self.get(kind)?).ok()
    }

    pub(crate) fn u16(&self, kind: u16) -> Option<u16> {
        parse_u16(self.get(kind)?).ok()
    }

    pub(crate) fn u32(&self, kind: u16) -> Option<u32> {
        parse_u32(self.get(kind)?).ok()
    }

    pub(crate) fn u64(&self, kind: u16) -> Option<u64> {
        parse_u64(self.get(kind)?).ok()
    }

    pub(crate) fn ipv4(&self, kind: u16) -> Option<Ipv4Addr> {
        <[u8; 4]>::try_from(self.get(kind)?)
            .ok()
            .map(Ipv4Addr::from)
    }

    /// A string attribute, without its NUL.
    pub(crate) fn string(&self, kind: u16) -> Option<String> {
        let text = self.get(kind)?.split(|&c| c == 0).next()?;
        Some(String::from_utf8_lossy(text).into_owned())
    }

    /// Every attribute of type `kind` (a multi-attr nest), each parsed as
    /// nested attributes; malformed ones are left out.
    pub(crate) fn nested(&self, kind: u16) -> impl Iterator<Item = Attrs> + '_ {
        self.0
            .iter()
            .filter(move |a| a.kind == kind)
            .filter_map(|a| Attrs::parse(&a.value).ok())
    }
}

/// A message of the `tpcluster` family: command and attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Message {
    pub(crate) cmd: u8,
    pub(crate) attrs: Attrs,
}

impl GenlFamily for Message {
    fn family_name() -> &'static str {
        uapi::FAMILY_NAME
    }

    fn command(&self) -> u8 {
        self.cmd
    }

    fn version(&self) -> u8 {
        uapi::FAMILY_VERSION
    }
}

impl Emitable for Message {
    fn buffer_len(&self) -> usize {
        self.attrs.0.as_slice().buffer_len()
    }

    fn emit(&self, buffer: &mut [u8]) {
        self.attrs.0.as_slice().emit(buffer)
    }
}

impl ParseableParametrized<[u8], GenlHeader> for Message {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        Ok(Self {
            cmd: header.cmd,
            attrs: Attrs::parse(buf)?,
        })
    }
}

/// What a received message means to the request it answers.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reply<F> {
    /// A message of the family (of a dump, or a `do` reply).
    Data(F),
    /// The request succeeded: acknowledged, or the dump ended.
    End,
    /// The request was refused; the text says why.
    Refused(Error),
}

/// The system's text for `errno`, as strerror(3) gives it.
fn os_error(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    match text.rsplit_once(" (os error ") {
        Some((message, _)) => message.to_string(),
        None => text,
    }
}

/// `errno`'s text and the kernel's reason, as tpctl prints a refusal.
fn refusal(errno: i32, ack: extack::ExtAck) -> Error {
    let base = os_error(errno);
    Error {
        errno,
        text: match (ack.msg, ack.missing_type) {
            (Some(m), _) => format!("{base}: {m}"),
            (None, Some(t)) => format!("{base}: missing attribute {t}"),
            (None, None) => base,
        },
    }
}

/// A request of `payload` to family `family`, sequence `seq`.
pub(crate) fn encode<F>(payload: F, family: u16, flags: u16, seq: u32) -> Vec<u8>
where
    F: GenlFamily + Emitable + Debug,
{
    let mut genl = GenlMessage::from_payload(payload);
    genl.set_resolved_family_id(family);
    let mut msg = NetlinkMessage::from(genl);
    msg.header.flags = NLM_F_REQUEST | flags;
    msg.header.sequence_number = seq;
    msg.finalize();
    let mut buf = vec![0; msg.buffer_len()];
    msg.serialize(&mut buf);
    buf
}

/// The messages of one datagram, each with its sequence number.
pub(crate) fn decode<F>(mut buf: &[u8]) -> Result<Vec<(u32, Reply<F>)>, Error>
where
    F: ParseableParametrized<[u8], GenlHeader> + Debug,
{
    let mut out = Vec::new();
    while !buf.is_empty() {
        let msg = NetlinkMessage::<GenlMessage<F>>::deserialize(buf)
            .map_err(|e| Error::other(format!("malformed netlink reply: {e}")))?;
        let (flags, seq) = (msg.header.flags, msg.header.sequence_number);
        let reply = match msg.payload {
            NetlinkPayload::InnerMessage(genl) => Some(Reply::Data(genl.payload)),
            NetlinkPayload::Error(e) => Some(match e.code {
                None => Reply::End,
                Some(code) => {
                    Reply::Refused(refusal(-code.get(), extack::of_error(flags, &e.header)))
                }
            }),
            NetlinkPayload::Done(d) if d.code != 0 => Some(Reply::Refused(refusal(
                -d.code,
                extack::of_done(flags, &d.extended_ack),
            ))),
            NetlinkPayload::Done(_) => Some(Reply::End),
            NetlinkPayload::Overrun(_) => {
                return Err(Error::other("netlink receive: buffer overrun"))
            }
            _ => None,
        };
        out.extend(reply.map(|r| (seq, r)));
        let len = (msg.header.length as usize + 3) & !3;
        buf = buf.get(len.max(16)..).unwrap_or(&[]);
    }
    Ok(out)
}

/// A socket talking to the `tpcluster` family.
pub(crate) struct Client {
    socket: Socket,
    family: u16,
    seq: u32,
    /// The family's multicast groups: name and id.
    groups: Vec<(String, u32)>,
}

impl Client {
    /// Opens a generic netlink socket in the current network namespace;
    /// its requests go to the controller until the family is resolved.
    fn open() -> Result<Self, Error> {
        let io = |e: std::io::Error| Error::other(format!("netlink socket: {e}"));
        let mut socket = Socket::new(NETLINK_GENERIC).map_err(io)?;
        socket.bind_auto().map_err(io)?;
        socket.connect(&SocketAddr::new(0, 0)).map_err(io)?;
        socket.set_ext_ack(true).map_err(io)?;
        socket.set_cap_ack(true).map_err(io)?;
        Ok(Self {
            socket,
            family: GENL_ID_CTRL,
            seq: 0,
            groups: Vec::new(),
        })
    }

    /// Opens a socket in the current network namespace and resolves the
    /// family.
    pub(crate) fn connect() -> Result<Self, Error> {
        let mut client = Self::open()?;
        let ask = GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(uapi::FAMILY_NAME.into())],
        };
        let replies = match client.exchange(ask, 0) {
            Err(e) if e.errno == libc::ENOENT => return Err(Error::other(NOT_LOADED)),
            r => r?,
        };
        client.family = 0;
        for nla in replies.into_iter().flat_map(|r| r.nlas) {
            match nla {
                GenlCtrlAttrs::FamilyId(id) => client.family = id,
                GenlCtrlAttrs::McastGroups(groups) => {
                    client.groups = groups.iter().filter_map(|g| group(g)).collect()
                }
                _ => {}
            }
        }
        if client.family == 0 {
            return Err(Error::other("no family id in the controller's reply"));
        }
        Ok(client)
    }

    /// Sends `payload` and collects the replies until the ack, the end of
    /// the dump, or a refusal.
    fn exchange<F>(&mut self, payload: F, flags: u16) -> Result<Vec<F>, Error>
    where
        F: GenlFamily + Emitable + ParseableParametrized<[u8], GenlHeader> + Debug,
    {
        self.seq += 1;
        let msg = encode(payload, self.family, flags | NLM_F_ACK, self.seq);
        self.socket
            .send(&msg, 0)
            .map_err(|e| Error::other(format!("netlink send: {e}")))?;
        let mut data = Vec::new();
        loop {
            let (buf, _) = self
                .socket
                .recv_from_full()
                .map_err(|e| Error::other(format!("netlink receive: {e}")))?;
            for (seq, reply) in decode::<F>(&buf)? {
                if seq != self.seq {
                    continue;
                }
                match reply {
                    Reply::Data(d) => data.push(d),
                    Reply::End => return Ok(data),
                    Reply::Refused(e) => return Err(e),
                }
            }
        }
    }

    /// A `do` request of the family: the reply's attributes, if any.
    pub(crate) fn request(&mut self, cmd: u8, attrs: Vec<Attr>) -> Result<Vec<Attrs>, Error> {
        if let Some(a) = attrs
            .iter()
            .find(|a| a.value.len() > usize::from(u16::MAX) - 8)
        {
            return Err(Error::other(format!(
                "attribute {} is too long for a netlink message ({} bytes)",
                a.kind,
                a.value.len()
            )));
        }
        let msg = Message {
            cmd,
            attrs: Attrs(attrs),
        };
        Ok(self
            .exchange(msg, 0)?
            .into_iter()
            .map(|m| m.attrs)
            .collect())
    }

    /// A `dump` request of the family: the attributes of each entry.
    pub(crate) fn dump(&mut self, cmd: u8) -> Result<Vec<Attrs>, Error> {
        let msg = Message {
            cmd,
            attrs: Attrs::default(),
        };
        Ok(self
            .exchange(msg, NLM_F_DUMP)?
            .into_iter()
            .map(|m| m.attrs)
            .collect())
    }

    /// Joins multicast group `name` of the family.
    pub(crate) fn subscribe(&mut self, name: &str) -> Result<(), Error> {
        let id = self
            .groups
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, id)| id)
            .ok_or_else(|| Error::other(format!("the family has no multicast group '{name}'")))?;
        self.socket
            .add_membership(id)
            .map_err(|e| Error::other(format!("joining group '{name}': {e}")))
    }

    /// Waits for the next datagram of notifications: the family's messages
    /// in it.
    pub(crate) fn notifications(&mut self) -> Result<Vec<Message>, Error> {
        let (buf, _) = self
            .socket
            .recv_from_full()
            .map_err(|e| Error::other(format!("netlink receive: {e}")))?;
        Ok(decode::<Message>(&buf)?
            .into_iter()
            .filter_map(|(_, r)| match r {
                Reply::Data(m) => Some(m),
                _ => None,
            })
            .collect())
    }

    /// The socket's descriptor, to wait on it.
    pub(crate) fn fd(&self) -> std::os::fd::RawFd {
        self.socket.as_raw_fd()
    }
}

/// A multicast group of the controller's reply: name and id.
fn group(attrs: &[McastGrpAttrs]) -> Option<(String, u32)> {
    let name = attrs.iter().find_map(|a| match a {
        McastGrpAttrs::Name(n) => Some(n.clone()),
        _ => None,
    })?;
    let id = attrs.iter().find_map(|a| match a {
        McastGrpAttrs::Id(id) => Some(*id),
        _ => None,
    })?;
    Some((name, id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_MULTIPART};

    const FAMILY: u16 = 0x1f;

    fn msg(cmd: u8, attrs: Vec<Attr>) -> Message {
        Message {
            cmd,
            attrs: Attrs(attrs),
        }
    }

    /// A netlink message of `ty` with `flags`, `seq` and `body`.
    fn raw(ty: u16, flags: u16, seq: u32, body: &[u8]) -> Vec<u8> {
        let mut m = ((16 + body.len()) as u32).to_ne_bytes().to_vec();
        m.extend_from_slice(&ty.to_ne_bytes());
        m.extend_from_slice(&flags.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(body);
        m.resize((m.len() + 3) & !3, 0);
        m
    }

    #[test]
    fn request_layout() {
        let r = encode(
            msg(
                uapi::CMD_PEER_ADD,
                vec![
                    Attr::u32(uapi::A_PEER_ID, 2),
                    Attr::ipv4(uapi::A_PEER_ADDR, Ipv4Addr::new(10, 0, 0, 2)),
                    Attr::bytes(9, vec![7]),
                ],
            ),
            FAMILY,
            NLM_F_ACK,
            7,
        );
        assert_eq!(r.len(), 16 + 4 + 8 + 8 + 8);
        assert_eq!(parse_u32(&r[0..4]).unwrap(), r.len() as u32);
        assert_eq!(parse_u16(&r[4..6]).unwrap(), FAMILY);
        assert_eq!(parse_u16(&r[6..8]).unwrap(), NLM_F_REQUEST | NLM_F_ACK);
        assert_eq!(parse_u32(&r[8..12]).unwrap(), 7);
        assert_eq!((r[16], r[17]), (uapi::CMD_PEER_ADD, uapi::FAMILY_VERSION));
        let attrs = Attrs::parse(&r[20..]).unwrap();
        assert_eq!(attrs.u32(uapi::A_PEER_ID), Some(2));
        assert_eq!(
            attrs.ipv4(uapi::A_PEER_ADDR),
            Some(Ipv4Addr::new(10, 0, 0, 2))
        );
        assert_eq!(attrs.get(9), Some(&[7u8][..]));
        // The address goes in network order, as the spec's big-endian u32.
        assert_eq!(&r[32..36], &[10, 0, 0, 2]);
    }

    #[test]
    fn decodes_a_dump_then_its_end() {
        let mut body = vec![uapi::CMD_PEER_GET, 1, 0, 0];
        let attrs = [
            Attr::u32(uapi::A_PEER_ID, 2),
            Attr::ipv4(uapi::A_PEER_ADDR, Ipv4Addr::new(10, 0, 0, 2)),
        ];
        let mut a = vec![0; attrs.as_slice().buffer_len()];
        attrs.as_slice().emit(&mut a);
        body.extend(a);
        let mut dgram = raw(FAMILY, NLM_F_MULTIPART, 5, &body);
        dgram.extend(raw(3, NLM_F_MULTIPART, 5, &0i32.to_ne_bytes()));
        let replies = decode::<Message>(&dgram).unwrap();
        assert_eq!(replies.len(), 2);
        match &replies[0] {
            (5, Reply::Data(m)) => {
                assert_eq!(m.cmd, uapi::CMD_PEER_GET);
                assert_eq!(m.attrs.u32(uapi::A_PEER_ID), Some(2));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(replies[1], (5, Reply::End));
    }

    #[test]
    fn decodes_a_refusal_with_its_reason() {
        let mut body = (-28i32).to_ne_bytes().to_vec();
        body.extend(raw(FAMILY, NLM_F_REQUEST | NLM_F_ACK, 9, &[]));
        let text = b"too many peers\0";
        body.extend_from_slice(&((4 + text.len()) as u16).to_ne_bytes());
        body.extend_from_slice(&1u16.to_ne_bytes());
        body.extend_from_slice(text);
        let dgram = raw(2, NLM_F_CAPPED | NLM_F_ACK_TLVS, 9, &body);
        assert_eq!(
            decode::<Message>(&dgram).unwrap(),
            vec![(
                9,
                Reply::Refused(Error {
                    errno: 28,
                    text: "No space left on device: too many peers".into()
                })
            )]
        );
        // An ack, and a refusal without a reason.
        let ack = raw(2, NLM_F_CAPPED, 9, &[0; 20]);
        assert_eq!(decode::<Message>(&ack).unwrap(), vec![(9, Reply::End)]);
        let mut bare = (-1i32).to_ne_bytes().to_vec();
        bare.extend_from_slice(&[0; 16]);
        assert_eq!(
            decode::<Message>(&raw(2, NLM_F_CAPPED, 9, &bare)).unwrap(),
            vec![(
                9,
                Reply::Refused(Error {
                    errno: 1,
                    text: "Operation not permitted".into()
                })
            )]
        );
    }

    #[test]
    fn rejects_truncation_without_panicking() {
        let r = encode(
            msg(uapi::CMD_NODE_SET, vec![Attr::u32(uapi::A_NODE_ID, 1)]),
            FAMILY,
            0,
            1,
        );
        for cut in 0..r.len() {
            let _ = decode::<Message>(&r[..cut]);
        }
        assert!(decode::<Message>(&r[..10]).is_err());
    }

    #[test]
    fn reads_attributes() {
        let attrs = Attrs(vec![
            Attr::bytes(uapi::A_COUNTER_NAME, b"hook_packets\0".to_vec()),
            Attr::u64(uapi::A_COUNTER_VALUE, 12),
            Attr::bytes(uapi::A_NODE_KEY_SET, vec![1]),
            Attr::bytes(uapi::A_NODE_ID, vec![1, 2]),
        ]);
        assert_eq!(
            attrs.string(uapi::A_COUNTER_NAME).as_deref(),
            Some("hook_packets")
        );
        assert_eq!(attrs.u64(uapi::A_COUNTER_VALUE), Some(12));
        assert_eq!(attrs.u8(uapi::A_NODE_KEY_SET), Some(1));
        // A value of the wrong size is no value.
        assert_eq!(attrs.u32(uapi::A_NODE_ID), None);
        assert_eq!(attrs.u32(99), None);
    }

    /// The running kernel's controller, through the same code: a dump of
    /// several messages, and a refusal with its extended ack.
    #[test]
    fn talks_to_the_kernels_controller() {
        let Ok(mut c) = Client::open() else {
            // No generic netlink here (a sandbox): nothing to talk to.
            return;
        };
        let ask = GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![],
        };
        let families = c.exchange(ask, NLM_F_DUMP).unwrap();
        assert!(families
            .iter()
            .any(|f| f.nlas.contains(&GenlCtrlAttrs::FamilyName("nlctrl".into()))));
        // CTRL_CMD_GETPOLICY validates strictly: an attribute it does not
        // know is refused, and the extended ack says why.
        let ask = Message {
            cmd: 10,
            attrs: Attrs(vec![Attr::bytes(2, b"nlctrl\0".to_vec()), Attr::u32(99, 1)]),
        };
        let e = c.exchange(ask, NLM_F_DUMP).unwrap_err();
        assert_eq!(e.errno, libc::EINVAL);
        assert_eq!(e.text, "Invalid argument: Unknown attribute type");
        let e = c
            .request(3, vec![Attr::bytes(2, b"tpc-nosuch\0".to_vec())])
            .unwrap_err();
        assert_eq!(e.errno, libc::ENOENT, "{e}");
    }
}
