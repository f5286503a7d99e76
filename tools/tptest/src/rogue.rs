//! `rogue`: a hostile host on the cluster's segment. It captures genuine
//! cluster channel datagrams from the wire (the hub floods every frame) and
//! sends them back replayed, forged or mangled, with the genuine sender's
//! addresses, to see that the nodes drop and count every one.

use std::{collections::BTreeMap, io::Write as _};

const ETH_P_IP: u16 = 0x0800;
const ETH_HLEN: usize = 14;

/// A raw socket on one interface, all its frames, promiscuous.
struct Raw {
    fd: libc::c_int,
    ifindex: libc::c_int,
}

impl Raw {
    fn open(ifname: &str) -> std::io::Result<Self> {
        let name = std::ffi::CString::new(ifname).map_err(std::io::Error::other)?;
        // SAFETY: plain system calls on a socket this function owns, with
        // correctly sized, initialised arguments.
        unsafe {
            let ifindex = libc::if_nametoindex(name.as_ptr()) as libc::c_int;
            if ifindex == 0 {
                return Err(std::io::Error::last_os_error());
            }
            let fd = libc::socket(libc::AF_PACKET, libc::SOCK_RAW, i32::from(ETH_P_IP.to_be()));
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let raw = Raw { fd, ifindex };
            let mut sll: libc::sockaddr_ll = std::mem::zeroed();
            sll.sll_family = libc::AF_PACKET as u16;
            sll.sll_protocol = ETH_P_IP.to_be();
            sll.sll_ifindex = ifindex;
            if libc::bind(
                fd,
                (&sll as *const libc::sockaddr_ll).cast(),
                size_of_val(&sll) as u32,
            ) < 0
            {
                return Err(std::io::Error::last_os_error());
            }
            let mut mreq: libc::packet_mreq = std::mem::zeroed();
            mreq.mr_ifindex = ifindex;
            mreq.mr_type = libc::PACKET_MR_PROMISC as u16;
            if libc::setsockopt(
                fd,
                libc::SOL_PACKET,
                libc::PACKET_ADD_MEMBERSHIP,
                (&mreq as *const libc::packet_mreq).cast(),
                size_of_val(&mreq) as u32,
            ) < 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(raw)
        }
    }

    fn recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe { libc::recv(self.fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
        usize::try_from(n).map_err(|_| std::io::Error::last_os_error())
    }

    fn send(&self, frame: &[u8]) -> std::io::Result<()> {
        // SAFETY: `frame` is valid for reads of its length; the address is
        // a correctly sized sockaddr_ll.
        unsafe {
            let mut sll: libc::sockaddr_ll = std::mem::zeroed();
            sll.sll_family = libc::AF_PACKET as u16;
            sll.sll_ifindex = self.ifindex;
            sll.sll_halen = 6;
            sll.sll_addr[..6].copy_from_slice(&frame[..6]);
            let n = libc::sendto(
                self.fd,
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&sll as *const libc::sockaddr_ll).cast(),
                size_of_val(&sll) as u32,
            );
            if n < 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        // SAFETY: the socket is ours and closed once.
        unsafe { libc::close(self.fd) };
    }
}

/// Offsets in an Ethernet + IPv4 + UDP frame.
struct Udp {
    ip: usize,
    udp: usize,
    payload: usize,
}

/// The layout of `frame` if it is an unfragmented IPv4 UDP datagram to `port`.
fn udp_to(frame: &[u8], port: u16) -> Option<Udp> {
    if frame.len() < ETH_HLEN + 28 || frame[12..14] != ETH_P_IP.to_be_bytes() {
        return None;
    }
    let ip = ETH_HLEN;
    let ihl = usize::from(frame[ip] & 0x0f) * 4;
    let udp = ip + ihl;
    let fragment = u16::from_be_bytes([frame[ip + 6], frame[ip + 7]]) & 0x3fff != 0;
    if frame[ip] >> 4 != 4 || frame[ip + 9] != 17 || fragment || frame.len() < udp + 8 {
        return None;
    }
    (u16::from_be_bytes([frame[udp + 2], frame[udp + 3]]) == port).then_some(Udp {
        ip,
        udp,
        payload: udp + 8,
    })
}

fn dst_ip(frame: &[u8], l: &Udp) -> String {
    let d = &frame[l.ip + 16..l.ip + 20];
    format!("{}.{}.{}.{}", d[0], d[1], d[2], d[3])
}

/// Sets the IPv4 and UDP lengths for a payload of `len` bytes, the IPv4
/// header checksum, and a UDP checksum of 0 (none, allowed over IPv4).
fn fix_headers(frame: &mut Vec<u8>, l: &Udp, len: usize) {
    frame.truncate(l.payload + len);
    let ip_len = (frame.len() - l.ip) as u16;
    frame[l.ip + 2..l.ip + 4].copy_from_slice(&ip_len.to_be_bytes());
    frame[l.ip + 10..l.ip + 12].copy_from_slice(&[0, 0]);
    let mut sum = 0u32;
    for pair in frame[l.ip..l.udp].chunks(2) {
        sum += u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    frame[l.ip + 10..l.ip + 12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    let udp_len = (len + 8) as u16;
    frame[l.udp + 4..l.udp + 6].copy_from_slice(&udp_len.to_be_bytes());
    frame[l.udp + 6..l.udp + 8].copy_from_slice(&[0, 0]);
}

/// `rogue capture IFNAME PORT COUNT FILE [KIND [DST]]`: saves the next COUNT
/// datagrams to PORT seen on IFNAME (sent by others) to FILE; only those of
/// channel kind KIND (1 heartbeat, 2 handover, 3 progress; 0: any), and
/// only those to address DST, if given.
pub(crate) fn capture(
    ifname: &str,
    port: u16,
    count: u32,
    file: &str,
    kind: u8,
    dst: Option<&str>,
) -> std::io::Result<String> {
    let raw = Raw::open(ifname)?;
    let mut out = std::fs::File::create(file)?;
    let mut buf = vec![0u8; 65536];
    let mut per_dst = BTreeMap::<String, u32>::new();
    let mut got = 0;
    while got < count {
        let n = raw.recv(&mut buf)?;
        let frame = &buf[..n];
        let Some(l) = udp_to(frame, port) else {
            continue;
        };
        if kind != 0 && frame.get(l.payload + 3) != Some(&kind) {
            continue;
        }
        if dst.is_some_and(|d| d != dst_ip(frame, &l)) {
            continue;
        }
        *per_dst.entry(dst_ip(frame, &l)).or_default() += 1;
        out.write_all(&(n as u32).to_be_bytes())?;
        out.write_all(frame)?;
        got += 1;
    }
    Ok(summary("captured", &per_dst))
}

/// `rogue send IFNAME PORT FILE MODE`: sends every frame of FILE back, as
/// MODE makes it: `replay` with the same payload; `forge` with one bit of the body
/// flipped (the MAC no longer verifies); `short` cut to 10 bytes;
/// `magic` with a wrong first byte; `redirect` unchanged but to the node
/// of 10.0.0.1-3 that is neither its sender nor its recipient (the VMs'
/// MACs are 52:54:00:00:00:0N). Prints how many went to each address.
pub(crate) fn send(ifname: &str, port: u16, file: &str, mode: &str) -> std::io::Result<String> {
    let raw = Raw::open(ifname)?;
    let data = std::fs::read(file)?;
    let mut per_dst = BTreeMap::<String, u32>::new();
    let mut rest = data.as_slice();
    while let Some((len, tail)) = rest.split_first_chunk::<4>() {
        let len = u32::from_be_bytes(*len) as usize;
        let Some((frame, tail)) = tail.split_at_checked(len) else {
            break;
        };
        rest = tail;
        let Some(l) = udp_to(frame, port) else {
            continue;
        };
        let mut frame = frame.to_vec();
        let payload_len = frame.len() - l.payload;
        match mode {
            // The payload as it was. The UDP checksum is cleared: a
            // captured checksum may be a partial one left for offload.
            "replay" => fix_headers(&mut frame, &l, payload_len),
            "forge" => {
                // The last byte of the body, just before the 16-byte MAC.
                let at = frame.len().saturating_sub(17).max(l.payload);
                frame[at] ^= 0x01;
                fix_headers(&mut frame, &l, payload_len);
            }
            "short" => fix_headers(&mut frame, &l, payload_len.min(10)),
            "magic" => {
                frame[l.payload] ^= 0xff;
                fix_headers(&mut frame, &l, payload_len);
            }
            "redirect" => {
                let (src, dst) = (frame[l.ip + 15], frame[l.ip + 19]);
                let Some(third) = (1..=3u8).find(|n| *n != src && *n != dst) else {
                    continue;
                };
                frame[..6].copy_from_slice(&[0x52, 0x54, 0, 0, 0, third]);
                frame[l.ip + 19] = third;
                fix_headers(&mut frame, &l, payload_len);
            }
            _ => return Err(std::io::Error::other(format!("unknown mode '{mode}'"))),
        }
        raw.send(&frame)?;
        *per_dst.entry(dst_ip(&frame, &l)).or_default() += 1;
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    Ok(summary(mode, &per_dst))
}

fn summary(what: &str, per_dst: &BTreeMap<String, u32>) -> String {
    let total: u32 = per_dst.values().sum();
    let mut out = format!("{what}={total}");
    for (dst, n) in per_dst {
        out += &format!(" {dst}={n}");
    }
    out
}
