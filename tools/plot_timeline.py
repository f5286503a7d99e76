#!/usr/bin/env python3
"""plot_timeline.py CTL_LOG OUT.svg [TITLE]: draws client throughput over
time across a failover as an SVG (no plotting library needed).

Reads the line `TIMELINE kill=MS T:BYTES T:BYTES ...` a VM script printed
(tp_data) into its control log: bytes read so far at every 50 ms since the
connection opened, and when the primary was power-cut. Plots Mbit/s per
100 ms and marks the power cut."""

import re
import sys


def timeline(path):
    for line in open(path, errors="replace"):
        m = re.search(r"TIMELINE kill=(\d+) (.*)", line)
        if m:
            points = [tuple(int(x) for x in p.split(":")) for p in m.group(2).split()]
            return int(m.group(1)), points
    raise SystemExit("plot_timeline: no TIMELINE line in %s" % path)


def main():
    log, out = sys.argv[1], sys.argv[2]
    title = sys.argv[3] if len(sys.argv) > 3 else "client throughput across a failover"
    kill, points = timeline(log)
    step = 2  # 2 x 50 ms: Mbit/s per 100 ms
    rates = []
    for i in range(step, len(points), step):
        (t0, b0), (t1, b1) = points[i - step], points[i]
        rates.append((t1 / 1000, (b1 - b0) * 8 / 1000 / max(t1 - t0, 1)))
    w, h, left, bottom, top, right = 720, 360, 60, 40, 30, 20
    # A margin after the transfer's end, so that its last points and the
    # cut are not on the frame's edge.
    tmax = (max(t for t, _ in rates) if rates else 1) * 1.05
    rmax = max([r for _, r in rates] + [1]) * 1.1
    x = lambda t: left + (w - left - right) * t / tmax  # noqa: E731
    y = lambda r: h - bottom - (h - bottom - top) * r / rmax  # noqa: E731
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
           'font-size="12">' % (w, h),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="18" font-size="14">%s</text>' % (left, title),
           '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (left, h - bottom, w - right, h - bottom),
           '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (left, top, left, h - bottom),
           '<text x="%d" y="%d" text-anchor="middle">time since the connection opened (s)</text>'
           % ((w + left) // 2, h - 6),
           '<text x="14" y="%d" transform="rotate(-90 14 %d)" text-anchor="middle">Mbit/s (per 100 ms)</text>'
           % ((h - bottom + top) // 2, (h - bottom + top) // 2)]
    for i in range(6):
        r = rmax * i / 5
        svg.append('<text x="%d" y="%.0f" text-anchor="end">%.0f</text>' % (left - 4, y(r) + 4, r))
        t = tmax * i / 5
        svg.append('<text x="%.0f" y="%d" text-anchor="middle">%.1f</text>' % (x(t), h - bottom + 16, t))
    svg.append('<polyline fill="none" stroke="#1f5fa8" stroke-width="1.5" points="%s"/>'
               % " ".join("%.1f,%.1f" % (x(t), y(r)) for t, r in rates))
    kx = x(kill / 1000)
    svg.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#c0392b" stroke-dasharray="4 3"/>'
               % (kx, top, kx, h - bottom))
    # The label on the side of the line with room for it, inside the frame.
    label = "primary power-cut at %.2f s" % (kill / 1000)
    if kx + 4 + 7 * len(label) > w - right:
        svg.append('<text x="%.1f" y="%d" fill="#c0392b" text-anchor="end">%s</text>'
                   % (kx - 4, top + 12, label))
    else:
        svg.append('<text x="%.1f" y="%d" fill="#c0392b">%s</text>' % (kx + 4, top + 12, label))
    svg.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(svg) + "\n")


main()
