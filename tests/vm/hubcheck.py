"""Host-side checks of a test from the capture on the hub (hub.pcap): no
TCP reset, and no connection attempt answered by two nodes.

A connection attempt is a client SYN: its 4-tuple and the client's initial
sequence number, which the SYN-ACK acknowledges. The client reuses a port
once its previous connection is closed, and then another node may own the
new connection; two nodes answering one attempt show as SYN-ACKs for the
same 4-tuple and acknowledgement from two MAC addresses.

Used by the tests' check.py: `hubcheck.run(run_dir, at_least)` prints
PASS/FAIL lines, `at_least` being how many connections the test made;
`only` narrows the capture (a tcpdump filter)."""

import re
import struct
import subprocess

LINE = re.compile(r"^\S+ (\S+) > \S+, .*?: (\S+) > (\S+): Flags \[([^\]]*)\](?:, seq (\d+))?(?:, ack (\d+))?")


def run(run_dir, at_least, only="tcp"):
    out = subprocess.run(["tcpdump", "-nn", "-e", "-r", run_dir + "/hub.pcap", only],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    resets = 0
    synacks = {}
    segments = 0
    for line in out.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        segments += 1
        mac, src, dst, flags, seq, ack = m.groups()
        if "R" in flags:
            resets += 1
        if flags == "S.":
            synacks.setdefault((src, dst, ack), set()).add((mac, seq))
    answered = len(synacks)
    duplicated = sum(1 for answers in synacks.values() if len({mac for mac, _ in answers}) > 1)
    print("INFO %d TCP segments, %d 4-tuples, %d connections answered"
          % (segments, len({(s, d) for s, d, _ in synacks}), answered))
    print("%s connections answered on the hub: %d (at least %d)"
          % ("PASS" if answered >= at_least else "FAIL", answered, at_least))
    print("%s TCP resets on the hub: %d" % ("PASS" if resets == 0 else "FAIL", resets))
    print("%s connections answered by two nodes: %d" % ("PASS" if duplicated == 0 else "FAIL", duplicated))


EMITTED = re.compile(r"^(\S+) (\S+) > \S+, .*?: 10\.0\.0\.100\.(\d+) > (\S+): Flags")


def emitters(run_dir, ports, tail=0.0):
    """Who sent the service's side of each connection on the VIP's ports
    `ports` (a tcpdump port range, "80-86"): per (port, client endpoint),
    the MACs in the order they took turns emitting, and the longest
    silence of the service on it, in seconds.

    `tail`, seconds: a segment of the sender before within that long of the
    new sender's first is not a turn of its own but the old sender's tail
    (printed): segments its stack handed to its device before it learnt
    it was out, which leave late when its guest was starved
    (`Documentation/replicate.rst`, Split brain). 0 counts them as turns."""
    out = subprocess.run(["tcpdump", "-nn", "-e", "-r", run_dir + "/hub.pcap",
                          "tcp and src host 10.0.0.100 and src portrange " + ports],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    turns = {}
    silence = {}
    began = {}
    tails = []
    for line in out.splitlines():
        m = EMITTED.match(line)
        if not m:
            continue
        stamp, mac, port, client = m.groups()
        h, mi, sec = stamp.split(":")
        t = (int(h) * 60 + int(mi)) * 60 + float(sec)
        conn = (port, client)
        gap, last = silence.get(conn, (0.0, t))
        silence[conn] = (max(gap, t - last), t)
        seen = turns.setdefault(conn, [])
        if seen and seen[-1] != mac and len(seen) > 1 and seen[-2] == mac \
                and t - began[conn] <= tail:
            tails.append((conn, int((t - began[conn]) * 1000)))
            continue
        if not seen or seen[-1] != mac:
            seen.append(mac)
            began[conn] = t
    for conn, ms in tails:
        print("INFO the old sender's tail on %s: a segment %d ms after the new sender's first"
              % (conn, ms))
    return turns, {conn: gap for conn, (gap, _) in silence.items()}


def show_turns(run_dir, conn, limit=6):
    """Prints, for connection `conn` (a key of `emitters`), the service's
    segments on either side of each change of sender: what a failed
    one-sender check needs to be understood."""
    port, client = conn
    host, cport = client.rsplit(".", 1)
    out = subprocess.run(["tcpdump", "-nn", "-e", "-r", run_dir + "/hub.pcap",
                          "tcp and host 10.0.0.100 and port %s and host %s and port %s"
                          % (port, host, cport)],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    lines = out.splitlines()
    last = None
    shown = 0
    for i, line in enumerate(lines):
        m = EMITTED.match(line)
        if not m:
            continue
        if last is not None and m.group(2) != last and shown < limit:
            shown += 1
            print("INFO change of sender on %s:" % (conn,))
            for near in lines[max(0, i - 3):i + 3]:
                print("INFO   " + near[:200])
        last = m.group(2)


def attempts(run_dir, port):
    """The client ports that sent a SYN to the VIP's `port`, and those
    that got a SYN-ACK from it, as two sets."""
    out = subprocess.run(["tcpdump", "-nn", "-r", run_dir + "/hub.pcap",
                          "tcp and host 10.0.0.100 and port %d and tcp[tcpflags] & tcp-syn != 0" % port],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    syns, synacks = set(), set()
    for line in out.splitlines():
        m = re.search(r" (\S+) > (\S+): Flags \[(S\.?)\]", line)
        if not m:
            continue
        src, dst, flags = m.groups()
        if flags == "S":
            syns.add(src)
        else:
            synacks.add(dst)
    return syns, synacks


def frames(run_dir):
    """Every IPv4 frame of the capture: (time in s, IP header and payload)."""
    with open(run_dir + "/hub.pcap", "rb") as f:
        head = f.read(24)
        magic = struct.unpack("<I", head[:4])[0]
        order = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
        while True:
            record = f.read(16)
            if len(record) < 16:
                return
            sec, frac, size, _ = struct.unpack(order + "IIII", record)
            frame = f.read(size)
            if len(frame) > 34 and frame[12:14] == b"\x08\x00":
                yield sec + frac / (1e9 if nano else 1e6), frame[14:]


CHANNEL_PORT = 7000
KIND_CATCH_UP = 5
TLV_TUPLE, TLV_CATCHUP_DATA = 17, 31


def catch_up_feed(run_dir, port):
    """The client bytes the channel carried to nodes being brought into a
    connection's set (catch-up, wire-format.rst, kind 5), for connections
    to the VIP's `port`: per client endpoint ("10.0.0.4.PORT"), a list of
    (time, destination, first sequence number, length)."""
    feed = {}
    for t, ip in frames(run_dir):
        ihl = (ip[0] & 15) * 4
        if ip[9] != 17:
            continue
        udp = ip[ihl:]
        if struct.unpack(">H", udp[2:4])[0] != CHANNEL_PORT:
            continue
        msg = udp[8:]
        if len(msg) < 32 or msg[:2] != b"TP" or msg[3] != KIND_CATCH_UP:
            continue
        body_len = struct.unpack(">H", msg[20:22])[0]
        body, at = msg[32:32 + body_len], 0
        tuple_, data = None, None
        while at + 4 <= len(body):
            typ, n = struct.unpack(">HH", body[at:at + 4])
            value = body[at + 4:at + 4 + n]
            if typ == TLV_TUPLE and n == 12:
                tuple_ = value
            elif typ == TLV_CATCHUP_DATA and n > 4:
                data = (struct.unpack(">I", value[:4])[0], n - 4)
            at += 4 + n
        if tuple_ is None or data is None or struct.unpack(">H", tuple_[10:12])[0] != port:
            continue
        client = "%d.%d.%d.%d.%d" % (*tuple_[:4], struct.unpack(">H", tuple_[4:6])[0])
        feed.setdefault(client, []).append((t, "%d.%d.%d.%d" % tuple(ip[16:20]), data[0], data[1]))
    return feed


def service_acks(run_dir, port):
    """What the VIP's `port` acknowledged to each client endpoint: per
    "10.0.0.4.PORT", a list of (time, acknowledgment number)."""
    acks = {}
    for t, ip in frames(run_dir):
        ihl = (ip[0] & 15) * 4
        if ip[9] != 6 or ip[12:16] != bytes([10, 0, 0, 100]):
            continue
        tcp = ip[ihl:]
        if struct.unpack(">H", tcp[:2])[0] != port or not tcp[13] & 0x10:
            continue
        client = "%d.%d.%d.%d.%d" % (*ip[16:20], struct.unpack(">H", tcp[2:4])[0])
        acks.setdefault(client, []).append((t, struct.unpack(">I", tcp[8:12])[0]))
    return acks


def seq_after(a, b):
    """Whether sequence number `a` is after `b` (RFC 1982 arithmetic)."""
    return a != b and (a - b) % (1 << 32) < (1 << 31)
