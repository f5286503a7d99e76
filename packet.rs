// SPDX-License-Identifier: GPL-2.0

//! Parsing of the headers the data path decides on: IPv4, the TCP ports and
//! flags, ARP requests. Kernel-independent; every parser takes untrusted
//! bytes and returns `None` for anything malformed, never panicking.

/// What the data path needs of an IPv4 packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ipv4Packet {
    /// Source address, network byte order.
    pub(crate) saddr: [u8; 4],
    /// Destination address, network byte order.
    pub(crate) daddr: [u8; 4],
    /// IP protocol number.
    pub(crate) proto: u8,
    /// A fragment (more fragments follow, or a non-zero offset).
    pub(crate) fragment: bool,
    /// Ports and flags, for an unfragmented TCP segment.
    pub(crate) tcp: Option<TcpPorts>,
    /// The TCP segment an unfragmented ICMP error (destination
    /// unreachable, fragmentation needed among them; source quench; time
    /// exceeded; parameter problem) quotes, when it quotes one.
    pub(crate) icmp_about: Option<QuotedTcp>,
}

/// The addresses and ports of the TCP segment an ICMP error quotes: one
/// this side sent, so `saddr`/`sport` are this side's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct QuotedTcp {
    /// Source address of the quoted segment.
    pub(crate) saddr: [u8; 4],
    /// Its destination address.
    pub(crate) daddr: [u8; 4],
    /// Its source port.
    pub(crate) sport: u16,
    /// Its destination port.
    pub(crate) dport: u16,
}

/// The start of a TCP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TcpPorts {
    /// Source port.
    pub(crate) sport: u16,
    /// Destination port.
    pub(crate) dport: u16,
    /// SYN set.
    pub(crate) syn: bool,
    /// ACK set.
    pub(crate) ack: bool,
}

/// IP protocol number of TCP.
pub(crate) const IPPROTO_TCP: u8 = 6;
/// IP protocol number of ICMP.
pub(crate) const IPPROTO_ICMP: u8 = 1;

/// Bytes a caller must make linear for [`parse_ipv4`] to see the TCP
/// ports and flags behind the longest IPv4 header, or the ports of the TCP
/// segment an ICMP error quotes behind two of them; at least the longest
/// IPv4 and TCP headers together (120), which the hook reads once for the
/// modes' parts too.
pub(crate) const IPV4_TCP_HEADERS_MAX: usize = 60 + 8 + 60 + 4;
const _: () = assert!(IPV4_TCP_HEADERS_MAX >= 60 + 60);

/// ICMP errors that quote the datagram they are about (RFC 792): the
/// types the stack hands to TCP's error handler.
fn icmp_type_quotes(t: u8) -> bool {
    matches!(t, 3 | 4 | 11 | 12)
}

/// The TCP segment the ICMP message at `b[at..]` quotes, if it is an error
/// that quotes one with its ports.
fn quoted_tcp(b: &[u8], at: usize) -> Option<QuotedTcp> {
    if !icmp_type_quotes(*b.get(at)?) {
        return None;
    }
    let inner = at + 8;
    let first = *b.get(inner)?;
    let ihl = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || ihl < 20 || *b.get(inner + 9)? != IPPROTO_TCP {
        return None;
    }
    Some(QuotedTcp {
        saddr: addr(b, inner + 12)?,
        daddr: addr(b, inner + 16)?,
        sport: be16(b, inner + ihl)?,
        dport: be16(b, inner + ihl + 2)?,
    })
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn addr(b: &[u8], at: usize) -> Option<[u8; 4]> {
    b.get(at..at + 4)?.try_into().ok()
}

/// Parses an IPv4 header, and the TCP ports and flags behind it when the
/// packet is an unfragmented TCP segment and `b` holds them, or the TCP
/// segment an unfragmented ICMP error quotes.
pub(crate) fn parse_ipv4(b: &[u8]) -> Option<Ipv4Packet> {
    let first = *b.first()?;
    let ihl = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || ihl < 20 || b.len() < ihl {
        return None;
    }
    let frag = be16(b, 6)?;
    let fragment = frag & 0x3fff != 0;
    let proto = *b.get(9)?;
    let tcp = if proto == IPPROTO_TCP && !fragment {
        let flags = *b.get(ihl + 13)?;
        Some(TcpPorts {
            sport: be16(b, ihl)?,
            dport: be16(b, ihl + 2)?,
            syn: flags & 0x02 != 0,
            ack: flags & 0x10 != 0,
        })
    } else {
        None
    };
    let icmp_about = if proto == IPPROTO_ICMP && !fragment {
        quoted_tcp(b, ihl)
    } else {
        None
    };
    Some(Ipv4Packet {
        saddr: addr(b, 12)?,
        daddr: addr(b, 16)?,
        proto,
        fragment,
        tcp,
        icmp_about,
    })
}

/// An ARP request for an IPv4 address on Ethernet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ArpRequest {
    /// Who asks: hardware address.
    pub(crate) sender_mac: [u8; 6],
    /// Who asks: IPv4 address.
    pub(crate) sender_ip: [u8; 4],
    /// The address asked for.
    pub(crate) target_ip: [u8; 4],
}

/// Parses an ARP packet (from its ARP header on); `Some` only for a request
/// for an IPv4 address over Ethernet.
pub(crate) fn parse_arp_request(b: &[u8]) -> Option<ArpRequest> {
    let well_formed = be16(b, 0)? == 1 // Ethernet
        && be16(b, 2)? == 0x0800 // IPv4
        && *b.get(4)? == 6
        && *b.get(5)? == 4
        && be16(b, 6)? == 1; // request
    if !well_formed {
        return None;
    }
    Some(ArpRequest {
        sender_mac: b.get(8..14)?.try_into().ok()?,
        sender_ip: addr(b, 14)?,
        target_ip: addr(b, 24)?,
    })
}
