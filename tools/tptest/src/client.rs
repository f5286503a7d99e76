//! A generic netlink socket talking to the `tpcluster` family.
//!
//! tptest's own: tpctl speaks to the family through netlink-packet-core and
//! netlink-packet-generic, which build only well-formed requests; the
//! fuzzer needs to send any bytes.

use crate::genl::{self, Attr, Reply};
use crate::uapi;
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};

/// A refusal or failure, as tpctl reports it.
pub(crate) struct NlError(pub(crate) String);

pub(crate) struct Client {
    socket: Socket,
    family: u16,
    seq: u32,
    /// The controller's description of the family.
    family_attrs: Vec<Attr>,
}

/// The system's text for `errno`, as strerror(3) gives it.
fn os_error(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    match text.rsplit_once(" (os error ") {
        Some((message, _)) => message.to_string(),
        None => text,
    }
}

impl Client {
    /// Connects and resolves the family.
    pub(crate) fn connect() -> Result<Self, NlError> {
        let io = |e: std::io::Error| NlError(format!("netlink socket: {e}"));
        let mut socket = Socket::new(NETLINK_GENERIC).map_err(io)?;
        socket.bind_auto().map_err(io)?;
        socket.connect(&SocketAddr::new(0, 0)).map_err(io)?;
        socket.set_ext_ack(true).map_err(io)?;
        socket.set_cap_ack(true).map_err(io)?;
        let mut client = Self {
            socket,
            family: genl::GENL_ID_CTRL,
            seq: 0,
            family_attrs: Vec::new(),
        };
        let mut name = uapi::FAMILY_NAME.as_bytes().to_vec();
        name.push(0);
        let replies = client
            .exchange(genl::CTRL_CMD_GETFAMILY, 1, 0, &[(genl::CTRL_ATTR_FAMILY_NAME, name)])
            .map_err(|e| match e.0.as_str() {
                m if m.contains("No such file or directory") => {
                    NlError("the tpcluster netlink family is not registered: is the tpcluster module loaded?".into())
                }
                _ => e,
            })?;
        client.family = replies
            .first()
            .and_then(|a| genl::get_u16(a, genl::CTRL_ATTR_FAMILY_ID))
            .ok_or_else(|| NlError("no family id in the controller's reply".into()))?;
        client.family_attrs = replies.into_iter().next().unwrap_or_default();
        Ok(client)
    }

    /// Sends a request and collects the attributes of every data reply,
    /// until the ack, the end of the dump, or an error.
    fn exchange(
        &mut self,
        cmd: u8,
        version: u8,
        flags: u16,
        attrs: &[Attr],
    ) -> Result<Vec<Vec<Attr>>, NlError> {
        self.seq += 1;
        let msg = genl::request(
            self.family,
            cmd,
            version,
            flags | genl::NLM_F_ACK,
            self.seq,
            attrs,
        );
        self.socket
            .send(&msg, 0)
            .map_err(|e| NlError(format!("netlink send: {e}")))?;
        let mut data = Vec::new();
        loop {
            let (buf, _) = self
                .socket
                .recv_from_full()
                .map_err(|e| NlError(format!("netlink receive: {e}")))?;
            for reply in genl::parse(&buf).map_err(NlError)? {
                match reply {
                    Reply::Data { attrs, .. } => data.push(attrs),
                    Reply::Ack | Reply::Done => return Ok(data),
                    Reply::Error { errno, msg, .. } => {
                        return Err(NlError(match msg {
                            Some(m) => format!("{}: {m}", os_error(errno)),
                            None => os_error(errno),
                        }))
                    }
                }
            }
        }
    }

    /// A `do` request of the family.
    pub(crate) fn request(&mut self, cmd: u8, attrs: &[Attr]) -> Result<Vec<Vec<Attr>>, NlError> {
        self.exchange(cmd, uapi::FAMILY_VERSION, 0, attrs)
    }

    /// Joins multicast group `name` of the family.
    pub(crate) fn subscribe(&mut self, name: &str) -> Result<(), NlError> {
        let group = genl::mcast_group(&self.family_attrs, name)
            .ok_or_else(|| NlError(format!("the family has no multicast group '{name}'")))?;
        self.socket
            .add_membership(group)
            .map_err(|e| NlError(format!("joining group '{name}': {e}")))
    }

    /// Waits for the next notifications: (command, attributes) of each.
    pub(crate) fn notifications(&mut self) -> Result<Vec<(u8, Vec<Attr>)>, NlError> {
        let (buf, _) = self
            .socket
            .recv_from_full()
            .map_err(|e| NlError(format!("netlink receive: {e}")))?;
        Ok(genl::parse(&buf)
            .map_err(NlError)?
            .into_iter()
            .filter_map(|r| match r {
                Reply::Data { cmd, attrs } => Some((cmd, attrs)),
                _ => None,
            })
            .collect())
    }

    /// A `dump` request of the family.
    pub(crate) fn dump(&mut self, cmd: u8) -> Result<Vec<Vec<Attr>>, NlError> {
        self.exchange(cmd, uapi::FAMILY_VERSION, genl::NLM_F_DUMP, &[])
    }
}
