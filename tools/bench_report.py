#!/usr/bin/env python3
"""bench_report.py RESULTS_DIR: gathers the METRIC lines the benchmark
scripts printed (tp_metric: `DATA METRIC NAME UNIT VALUE`, one measurement
each) from every control log under RESULTS_DIR into RESULTS_DIR/bench.json
(per part and figure: unit, every raw value, count, median, p99, min, max)
and a Markdown table, RESULTS_DIR/bench.md, which it also prints.
tools/bench-compare puts two runs' JSON side by side."""

import glob
import json
import os
import re
import statistics
import sys

LINE = re.compile(r"^>> DATA METRIC (\S+) (\S+) (\S+)$")


def percentile(values, p):
    """The p-th percentile, nearest rank."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def gather(results):
    parts = {}
    for log in sorted(glob.glob(os.path.join(results, "*", "*.ctl.log"))):
        part = os.path.basename(os.path.dirname(log))
        for line in open(log, errors="replace"):
            m = LINE.match(line.rstrip("\n"))
            if not m:
                continue
            name, unit, value = m.groups()
            try:
                v = float(value)
            except ValueError:
                continue
            fig = parts.setdefault(part, {}).setdefault(name, {"unit": unit, "values": []})
            fig["values"].append(v)
    for figs in parts.values():
        for fig in figs.values():
            vs = fig["values"]
            fig.update(n=len(vs), median=statistics.median(vs), p99=percentile(vs, 99),
                       min=min(vs), max=max(vs))
    return parts


def markdown(run, parts):
    out = ["# Benchmark %s" % run, "",
           "| part | figure | unit | n | median | p99 | min | max |",
           "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for part, figs in sorted(parts.items()):
        for name, f in sorted(figs.items()):
            out.append("| %s | %s | %s | %d | %.3g | %.3g | %.3g | %.3g |"
                       % (part, name, f["unit"], f["n"], f["median"], f["p99"], f["min"], f["max"]))
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    results = sys.argv[1]
    run = os.path.basename(os.path.normpath(results))
    parts = gather(results)
    with open(os.path.join(results, "bench.json"), "w") as f:
        json.dump({"run": run, "parts": parts}, f, indent=1, sort_keys=True)
    md = markdown(run, parts)
    with open(os.path.join(results, "bench.md"), "w") as f:
        f.write(md)
    sys.stdout.write(md)


if __name__ == "__main__":
    main()
