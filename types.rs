// SPDX-License-Identifier: GPL-2.0

//! The plain types every layer of the module shares, the binding layer
//! (`rust/`) included: a leaf, which imports nothing, so that `rust/`
//! needs nothing else of the crate above it. Kernel-independent: built
//! into the module and into the host test crate.

/// An IPv4 address, in network byte order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ipv4(pub(crate) [u8; 4]);

/// A TCP connection to a VIP, as the client sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Tuple {
    /// The client's address.
    pub(crate) client: [u8; 4],
    /// The client's port.
    pub(crate) client_port: u16,
    /// The VIP.
    pub(crate) vip: [u8; 4],
    /// The service's port.
    pub(crate) port: u16,
}

/// `client:port -> vip:port`, as log lines name a connection.
impl core::fmt::Display for Tuple {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let ([a, b, c, d], [e, g, h, i]) = (self.client, self.vip);
        write!(
            f,
            "{a}.{b}.{c}.{d}:{} -> {e}.{g}.{h}.{i}:{}",
            self.client_port, self.port
        )
    }
}

/// Length of an Ethernet/IPv4 ARP packet.
pub(crate) const ARP_LEN: usize = 28;
