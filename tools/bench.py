#!/usr/bin/env python3
"""make bench: each benchmark of tests/guests/bench.c natively under QEMU and inside umbra, in
the same invocation, alternating, several times; once with the TSC (cycles) and once under
-icount shift=0 (instructions, free of noise). Prints both tables with ratios and traps per
operation from umbra's counters, writes build/bench/results.csv and build/bench/ratios.svg.
Usage: tools/bench.py [--quick] [--runs N] [--n N] [--only a,b]"""
import argparse
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "qemu"))
from qemu import qemu, BUILD, UMBRA_ELF  # noqa: E402

ALL = ["compute", "syscall", "cli_sti", "port_read", "lapic_read", "lapic_eoi", "pgfault", "pgfault_user", "ptemod", "invlpg", "cr3_switch"]
GUEST = os.path.join(BUILD, "guests", "bench.elf")
OUT = os.path.join(BUILD, "bench")


def parse(com1):
    """{name: (ops, per-op figure)} from the guest's bench lines."""
    res = {}
    for m in re.finditer(r"bench (\w+) (\d+) (\d+)", com1.decode("latin-1")):
        res[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return res


def traps(log):
    """Total traps of the VM, from umbra's counter line 'vm NAME: traps: #13=... #14=...'."""
    m = re.search(r"traps:([^\n]*)", log)
    return sum(int(x) for x in re.findall(r"(?:#\d+|int)=(\d+)", m.group(1))) if m else 0


def run(where, only, n, icount):
    extra = ["-icount", "shift=0"] if icount else []
    args = "n=%d only=%s" % (n, only)
    if where == "native":
        r = qemu(kernel=GUEST, append="bench " + args, mem=64, timeout=300, extra=extra)
        return parse(r.com1), None
    r = qemu(kernel=UMBRA_ELF, append="log=com2 onexit=qemu", mem=512, timeout=300, extra=extra,
             initrd="%s vm=bench mem=64M -- %s" % (GUEST, args))
    return parse(r.com1), traps(r.text("com2"))


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def svg(rows, path):
    """A bar chart of the umbra/native ratios (log scale), one bar per operation and mode."""
    import math
    w, bar, gap, left = 760, 14, 10, 110
    h = 40 + len(rows) * (2 * bar + gap)
    top = max([r["ratio_tsc"] for r in rows] + [r["ratio_icount"] for r in rows] + [10])
    scale = (w - left - 60) / math.log10(max(top, 10) * 1.5)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">' % (w, h),
           '<text x="%d" y="16" font-size="13">umbra / native (log scale): cycles (blue), instructions (orange)</text>' % left]
    y = 30
    for r in rows:
        out.append('<text x="4" y="%d">%s</text>' % (y + bar, r["op"]))
        for k, color in (("ratio_tsc", "#3b6fb6"), ("ratio_icount", "#e08a2c")):
            v = max(r[k], 1.0)
            ww = max(1, math.log10(v) * scale) if v == v else 1
            out.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>' % (left, y, ww, bar - 2, color))
            out.append('<text x="%.1f" y="%d">%.1f</text>' % (left + ww + 4, y + bar - 4, r[k]))
            y += bar
        y += gap
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="a short check that everything works")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--only", default=",".join(ALL))
    a = ap.parse_args()
    if a.quick:
        a.runs, a.n, a.only = 1, 200, "syscall,pgfault"
    ops = a.only.split(",")
    os.makedirs(OUT, exist_ok=True)
    start = time.time()
    rows = []
    # Boot overhead of the guest and of umbra, to subtract from the trap counts.
    _, base_traps = run("umbra", "none", a.n, False)
    for op in ops:
        row = {"op": op}
        for mode, icount in (("tsc", False), ("icount", True)):
            nat, umb, tr = [], [], []
            for i in range(a.runs):
                for where in (("native", "umbra") if i % 2 == 0 else ("umbra", "native")):
                    res, t = run(where, op, a.n, icount)
                    if op not in res:
                        print("bench: %s did not report %s (%s)" % (where, op, mode), file=sys.stderr)
                        return 1
                    (nat if where == "native" else umb).append(res[op][1])
                    if t is not None:
                        tr.append((t - base_traps) / res[op][0])
            row["native_" + mode] = median(nat)
            row["umbra_" + mode] = median(umb)
            row["ratio_" + mode] = median(umb) / max(median(nat), 1)
            ratios = sorted(u / max(v, 1) for u, v in zip(umb, nat))
            row["spread_" + mode] = "%.1f-%.1f" % (ratios[0], ratios[-1])
            row["traps_per_op"] = median(tr)
        rows.append(row)
        print("bench: %-13s done (%.0f s)" % (op, time.time() - start), flush=True)

    for mode, unit in (("tsc", "cycles"), ("icount", "instructions")):
        print("\n%s per operation (%s; median of %d runs each)" % (unit, "TSC" if mode == "tsc" else "-icount shift=0", a.runs))
        print("%-13s %12s %12s %8s %12s %10s" % ("operation", "native", "umbra", "ratio", "spread", "traps/op"))
        for r in rows:
            print("%-13s %12.0f %12.0f %8.1f %12s %10.2f" % (r["op"], r["native_" + mode], r["umbra_" + mode],
                                                           r["ratio_" + mode], r["spread_" + mode], r["traps_per_op"]))
    with open(os.path.join(OUT, "results.csv"), "w") as f:
        keys = ["op", "native_tsc", "umbra_tsc", "ratio_tsc", "spread_tsc", "native_icount", "umbra_icount",
                "ratio_icount", "spread_icount", "traps_per_op"]
        f.write(",".join(keys) + "\n")
        for r in rows:
            f.write(",".join(str(r[k]) for k in keys) + "\n")
    svg(rows, os.path.join(OUT, "ratios.svg"))
    print("\nbench: wrote %s/results.csv and ratios.svg in %.0f s" % (OUT, time.time() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
