"""Host-side checks of spliced connections from the capture on the hub
(hub.pcap), as the client's link carried them.

For every TCP connection to a service port: the client saw one SYN-ACK
(one initial sequence number, however many times it was sent), no reset,
no FIN but at the end of the stream from the node that sent the end,
and one consistent server sequence space: every byte any server segment
carried at a sequence number is the byte every other segment carried
there (as far as the capture keeps them), the segments cover the stream
without a hole from the first byte to the last,
and the server's timestamps never go back when another node takes
over. Also counts the connections whose server segments came from more than one node (MAC address): those
that were handed over.

Used by a test's check.py: `splicecheck.run(run_dir, port, want_moved)`
prints PASS/FAIL lines; `port_never_seen` checks that a backend port
never shows on the wire."""

import struct


def packets(path):
    """(src MAC, IPv4 packet bytes) of each Ethernet frame in a pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    at = 24
    while at + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[at:at + 16])
        frame = data[at + 16:at + 16 + incl]
        at += 16 + incl
        if len(frame) < 34 or frame[12:14] != b"\x08\x00":
            continue
        yield frame[6:12], frame[14:]


def tcp_segments(path, port):
    """Per connection (client addr, client port): list of segments, each a
    dict: dir ('up' client to server, 'down' server to client), mac, seq,
    ack, flags, payload, tsval."""
    conns = {}
    # A client that reuses its port for a new connection (a SYN with
    # another sequence number than the one that opened the current one) is
    # another connection: keyed by the ports and that SYN's sequence number.
    opened = {}
    for mac, ip in packets(path):
        if ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        tcp = ip[ihl:total]
        if len(tcp) < 20 or len(tcp) < (tcp[12] >> 4) * 4:
            continue
        sport, dport, seq, ack = struct.unpack(">HHII", tcp[:12])
        doff = (tcp[12] >> 4) * 4
        flags = tcp[13]
        if dport == port:
            ends, direction = (ip[12:16], sport), "up"
            if flags & 0x12 == 0x02:
                opened[ends] = seq
        elif sport == port:
            ends, direction = (ip[16:20], dport), "down"
        else:
            continue
        key = (ends[0], ends[1], opened.get(ends, -1))
        tsval = None
        o = 20
        while o < doff:
            kind = tcp[o]
            if kind == 0:
                break
            if kind == 1:
                o += 1
                continue
            if o + 1 >= doff:
                break
            olen = tcp[o + 1]
            if olen < 2:
                break
            if kind == 8 and olen == 10:
                tsval = struct.unpack(">I", tcp[o + 2:o + 6])[0]
            o += olen
        conns.setdefault(key, []).append({
            "dir": direction, "mac": mac, "seq": seq, "ack": ack, "flags": flags,
            "payload": tcp[doff:], "length": total - ihl - doff, "tsval": tsval,
        })
    return conns


def check_connection(segs):
    """The problems of one connection's capture (empty if none), and the
    number of distinct nodes (MACs) that sent its server segments."""
    problems = []
    down = [s for s in segs if s["dir"] == "down"]
    # A reset from the cluster is a failure; one the client sends after its
    # own FIN (a late retransmission reaching a socket it closed, under
    # loss) is the client's business.
    if any(s["flags"] & 0x04 for s in down):
        problems.append("a reset from the server side")
    isns = {s["seq"] for s in down if s["flags"] & 0x12 == 0x12}
    if len(isns) != 1:
        return ["%d server initial sequence numbers" % len(isns)], 0
    base = (isns.pop() + 1) & 0xFFFFFFFF
    pieces = []
    for s in down:
        if s["flags"] & 0x02 or not s["length"]:
            continue
        off = (s["seq"] - base) & 0xFFFFFFFF
        if off >= 1 << 31:
            problems.append("a server segment before the first byte (offset %d)" % (off - (1 << 32)))
            continue
        pieces.append((off, s["length"], s["payload"]))
    # The capture keeps each frame's head only: bytes are compared where
    # two segments start at the same sequence number (a resend), coverage
    # is checked from the lengths.
    first_bytes = {}
    for off, _, p in pieces:
        prev = first_bytes.setdefault(off, p)
        n = min(len(prev), len(p))
        if prev[:n] != p[:n]:
            problems.append("server bytes at %d carried two values" % off)
    covered = 0
    for off, n, _ in sorted(pieces):
        if off > covered:
            problems.append("a hole in the server stream at byte %d" % covered)
            break
        covered = max(covered, off + n)
    # A node that handed the connection away never closed it: a server FIN
    # comes only at the end of the stream, from the node that sent the end.
    last_mac = None
    for s in down:
        if s["length"] and ((s["seq"] - base) & 0xFFFFFFFF) + s["length"] == covered:
            last_mac = s["mac"]
    for s in down:
        fin_at = ((s["seq"] - base) & 0xFFFFFFFF) + s["length"]
        if s["flags"] & 0x01 and (fin_at != covered or (last_mac and s["mac"] != last_mac)):
            problems.append("a server FIN before the end of the stream or from another node")
            break
    # The server's timestamps never go back across a change of holder:
    # every TSval a holder sent is at least every TSval its predecessor
    # sent (the client would drop the segment as old, PAWS). Within one
    # holder's run, the capture's order may differ from the sending order
    # (reordering on the links), so runs are compared by their extremes.
    runs = []
    for s in down:
        if s["tsval"] is None:
            continue
        if runs and runs[-1][0] == s["mac"]:
            runs[-1][1].append(s["tsval"])
        else:
            runs.append((s["mac"], [s["tsval"]]))
    for (_, before), (_, after) in zip(runs, runs[1:]):
        hi = max(before, key=lambda t: (t - before[0]) & 0xFFFFFFFF)
        lo = min(after, key=lambda t: (t - hi + (1 << 31)) & 0xFFFFFFFF)
        if ((lo - hi) & 0xFFFFFFFF) >= 1 << 31:
            problems.append("server TSval went back from %d to %d at a change of holder" % (hi, lo))
            break
    nodes = len({s["mac"] for s in down})
    return problems, nodes


def run(run_dir, port, want_moved, most_nodes=3):
    conns = tcp_segments(run_dir + "/hub.pcap", port)
    bad = 0
    moved = 0
    most = 0
    for key, segs in sorted(conns.items()):
        problems, nodes = check_connection(segs)
        if problems:
            bad += 1
            if bad <= 5:
                print("INFO connection from port %d: %s" % (key[1], "; ".join(problems)))
        if nodes > 1:
            moved += 1
        most = max(most, nodes)
    print("INFO %d connections to port %d; %d moved between nodes, up to %d nodes on one"
          % (len(conns), port, moved, most))
    print("%s every connection saw one consistent server sequence space and no reset (%d did not)"
          % ("PASS" if bad == 0 and conns else "FAIL", bad))
    print("%s connections handed over, as the capture shows: %d (at least %d), one across %d nodes (at least %d)"
          % ("PASS" if moved >= want_moved and most >= most_nodes else "FAIL", moved, want_moved,
             most, most_nodes))


def port_never_seen(run_dir, port):
    """PASS if no TCP segment on the hub has `port` as either port: a
    backend port stays inside the nodes' stacks."""
    seen = 0
    for _, ip in packets(run_dir + "/hub.pcap"):
        if ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        if len(ip) < ihl + 4:
            continue
        sport, dport = struct.unpack(">HH", ip[ihl:ihl + 4])
        if port in (sport, dport):
            seen += 1
    print("%s segments on the wire with port %d (the backend port): %d"
          % ("PASS" if seen == 0 else "FAIL", port, seen))
