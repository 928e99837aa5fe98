#!/usr/bin/env python3
"""make bench: the workloads of the benchmark guests (tests/guests/bench.c, bench_mm.c) natively
under QEMU and inside umbra, in the same invocation, alternating, several times; once with the
TSC (cycles) and once under -icount shift=0 (instructions, free of noise). Traps per operation
come from umbra's counters; monitor instructions per trap from the instruction counts. Then the
paging workloads under each shadow-paging setting (instructions and traps). Prints three tables
and writes build/bench/results.csv, settings.csv, ratios.svg and settings.svg.
Usage: tools/bench.py [--quick] [--runs N] [--n N] [--only a,b] [--settings all|none|a,b,LABEL:WORDS]
(docs/performance.md)."""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import benchchart  # noqa: E402
from benchrun import ALL, GUEST_OF, PAGING, SETTINGS, BenchError, run, traps_per_op, BUILD  # noqa: E402

OUT = os.path.join(BUILD, "bench")
NAN = float("nan")


def median(xs):
    """The median, NaN for none."""
    return statistics.median(xs) if xs else NAN


def per_trap(umbra, native, traps):
    """Monitor instructions per trap: what umbra added to an operation, over its traps."""
    return (umbra - native) / traps if traps >= 0.01 else NAN


def causes(per):
    """Traps per operation by cause, the commonest first: '#14=9.00 #13=1.00'."""
    return " ".join("%s=%.2f" % cp for cp in per.items() if abs(cp[1]) >= 0.005)


def events(per):
    """umbra's other counters per operation, as umbra orders them: 'shadow fills 9.00, ...'."""
    return ", ".join("%s %.2f" % ev for ev in per.items() if abs(ev[1]) >= 0.005)


def num(v, fmt):
    """v in fmt, or '-' when it was not measured (NaN). A difference of twins that rounds to
    zero from below (timer noise) is shown as 0, not -0."""
    if v != v:
        return "-"
    s = fmt % v
    return s[1:] if s.startswith("-") and float(s) == 0 else s


def batches(ops, batch):
    """The workload lists to run together: each alone, or (--quick) all of a guest's at once."""
    if not batch:
        return [[op] for op in ops]
    return [[op for op in ops if GUEST_OF[op] == g] for g in dict.fromkeys(GUEST_OF[op] for op in ops)]


def measure(ops, a, log):
    """Table rows for ops: native and umbra (default settings) per operation in both modes."""
    figs = {op: {} for op in ops}
    for mode, icount in (("tsc", False), ("icount", True)):
        for group in batches(ops, a.batch):
            for i in range(a.runs):
                for where in (("native", "umbra") if i % 2 == 0 else ("umbra", "native")):
                    res = run(where, group, a.n, icount)
                    for op in group:
                        figs[op].setdefault(where + "_" + mode, []).append(res[op][1])
            log("%s %s" % (mode, ",".join(group)))
    traps = traps_per_op(ops, a.n)
    log("traps")
    rows = []
    for op in ops:
        row = {"op": op, "traps_per_op": traps[op][0], "trap_causes": causes(traps[op][1]),
               "events": events(traps[op][2])}
        for mode in ("tsc", "icount"):
            nat, umb = figs[op]["native_" + mode], figs[op]["umbra_" + mode]
            row["native_" + mode], row["umbra_" + mode] = median(nat), median(umb)
            row["ratio_" + mode] = median(umb) / max(median(nat), 1)
            spread = sorted(u / max(v, 1) for u, v in zip(umb, nat))
            row["spread_" + mode] = "%.1f-%.1f" % (spread[0], spread[-1])
        row["monitor_instr_per_trap"] = per_trap(row["umbra_icount"], row["native_icount"], traps[op][0])
        rows.append(row)
    return rows


def compare(ops, chosen, native, a, log):
    """Settings rows: each paging workload under each chosen setting, -icount, one run (it is
    exact): umbra's instructions and traps per operation, monitor instructions per trap. A
    workload that fails under a setting gets a row saying why; the others go on."""
    rows, failures = [], []
    for label, words in chosen:
        figs, failed = {}, {}
        for group in batches(ops, a.batch):
            try:
                figs.update(run("umbra", group, a.n, True, words))
            except BenchError as e:
                failed.update((op, e) for op in group)
        traps = traps_per_op([op for op in ops if op not in failed], a.n, words, failed)
        for op in ops:
            if op in failed:
                failures.append("%s under %s: %s" % (op, label, failed[op]))
                rows.append({"op": op, "setting": label, "words": words, "native_icount": native[op],
                             "umbra_icount": NAN, "traps_per_op": NAN, "monitor_instr_per_trap": NAN,
                             "trap_causes": "failed: " + failed[op].short, "events": ""})
                continue
            u = figs[op][1]
            rows.append({"op": op, "setting": label, "words": words, "native_icount": native[op], "umbra_icount": u,
                         "traps_per_op": traps[op][0], "trap_causes": causes(traps[op][1]),
                         "events": events(traps[op][2]), "monitor_instr_per_trap": per_trap(u, native[op], traps[op][0])})
        log("setting %s%s" % (label, " (%d failed)" % len(failed) if failed else ""))
    base = {r["op"]: r["umbra_icount"] for r in rows if r["setting"] == "vtlb"}
    for r in rows:
        r["vs_vtlb"] = r["umbra_icount"] / base[r["op"]] if r["op"] in base else NAN
    return rows, failures


def print_main(rows, runs):
    """The cycles table, the instructions table and the traps by cause."""
    for mode, unit in (("tsc", "cycles"), ("icount", "instructions")):
        print("\n%s per operation (%s; median of %d runs each; umbra with its default settings)"
              % (unit, "TSC" if mode == "tsc" else "-icount shift=0", runs))
        print("%-13s %12s %12s %8s %13s %9s%s" % ("operation", "native", "umbra", "ratio", "spread", "traps/op",
                                                 " %11s" % "instr/trap" if mode == "icount" else ""))
        for r in rows:
            print("%-13s %12.0f %12.0f %8.1f %13s %9s%s" % (
                r["op"], r["native_" + mode], r["umbra_" + mode], r["ratio_" + mode], r["spread_" + mode],
                num(r["traps_per_op"], "%.2f"),
                " %11s" % num(r["monitor_instr_per_trap"], "%.0f") if mode == "icount" else ""))
    print("\ntraps per operation by cause (vector, or int for INT n the monitor handles); umbra's other counters")
    for r in rows:
        print("%-13s %s" % (r["op"], r["trap_causes"] or "-"))
        if r["events"]:
            print("%-13s   %s" % ("", r["events"]))


def print_settings(rows, chosen):
    """The settings table: a legend of the labels, then per workload one row per setting."""
    print("\npaging settings (-icount shift=0): umbra instructions per operation, against the vtlb baseline; "
          "traps per operation; monitor instructions per trap")
    for label, words in chosen:
        print("  %-15s %s" % (label, words))
    print("%-13s %-15s %12s %8s %9s %11s  %s" % ("operation", "setting", "instructions", "vs vtlb", "traps/op",
                                                "instr/trap", "traps by cause"))
    last = None
    for r in sorted(rows, key=lambda r: PAGING.index(r["op"])):
        print("%-13s %-15s %12s %8s %9s %11s  %s" % (
            r["op"] if r["op"] != last else "", r["setting"], num(r["umbra_icount"], "%d"), num(r["vs_vtlb"], "%.2f"),
            num(r["traps_per_op"], "%.2f"), num(r["monitor_instr_per_trap"], "%.0f"), r["trap_causes"]))
        if r["events"]:
            print("%-29s %s" % ("", r["events"]))
        last = r["op"]


def write_csv(path, keys, rows):
    """rows as CSV with the columns keys; free-text columns quoted."""
    with open(path, "w") as f:
        f.write(",".join(keys) + "\n")
        for r in rows:
            cells = ('"%s"' % r[k] if k in ("words", "trap_causes", "events") else
                     "%.6g" % r[k] if isinstance(r[k], float) else str(r[k]) for k in keys)
            f.write(",".join(cells) + "\n")


def options():
    """The command line, checked: unknown workloads and settings are refused before any run."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a short check that everything works (make test)")
    ap.add_argument("--runs", type=int, default=3, help="runs per workload, mode and side (default 3)")
    ap.add_argument("--n", type=int, default=2000, help="repetitions (default 2000; fork does n/50, exec n/20)")
    ap.add_argument("--only", default=",".join(ALL), help="workloads, comma-separated: " + ",".join(ALL))
    ap.add_argument("--settings", default="all",
                    help="paging settings to compare: all, none, or some of " + ",".join(s for s, _ in SETTINGS) +
                    ", and LABEL:WORDS for one of your own ('roots1:pt=shadow pt.roots=1')")
    a = ap.parse_args()
    a.batch = a.quick
    if a.quick:
        a.runs, a.n = 1, 200
        if a.settings == "all":
            a.settings = "vtlb,emulate-ro"
    a.ops = a.only.split(",")
    labels = dict(SETTINGS)
    a.chosen = [] if a.settings == "none" else SETTINGS if a.settings == "all" else \
        [tuple(s.split(":", 1)) if ":" in s else (s, labels.get(s)) for s in a.settings.split(",")]
    bad = [op for op in a.ops if op not in GUEST_OF] + [s for s, w in a.chosen if w is None]
    if bad or a.runs < 1 or a.n < 50:
        ap.error("unknown workload or setting: %s (or --runs < 1, --n < 50)" % ",".join(bad))
    return a


def main():
    """Measure, print, write; 0 when every workload gave its figures."""
    a = options()
    os.makedirs(OUT, exist_ok=True)
    start = time.time()

    def log(what):
        print("bench: %-40s done (%.0f s)" % (what, time.time() - start), flush=True)

    try:
        rows = measure(a.ops, a, log)
        paging = [op for op in a.ops if op in PAGING]
        native = {r["op"]: r["native_icount"] for r in rows}
        srows, failures = compare(paging, a.chosen, native, a, log) if paging and a.chosen else ([], [])
    except BenchError as e:
        print("bench: %s" % e, file=sys.stderr)
        return 1
    print_main(rows, a.runs)
    if srows:
        print_settings(srows, a.chosen)
    write_csv(os.path.join(OUT, "results.csv"),
              ["op", "native_tsc", "umbra_tsc", "ratio_tsc", "spread_tsc", "native_icount", "umbra_icount",
               "ratio_icount", "spread_icount", "traps_per_op", "monitor_instr_per_trap", "trap_causes", "events"], rows)
    benchchart.ratios(rows, os.path.join(OUT, "ratios.svg"))
    files = "results.csv, ratios.svg"
    if srows:
        write_csv(os.path.join(OUT, "settings.csv"), ["op", "setting", "words", "native_icount", "umbra_icount",
                                                      "vs_vtlb", "traps_per_op", "monitor_instr_per_trap", "trap_causes", "events"], srows)
        benchchart.settings(srows, a.chosen, os.path.join(OUT, "settings.svg"))
        files += ", settings.csv, settings.svg"
    else:
        for stale in ("settings.csv", "settings.svg"):
            if os.path.exists(os.path.join(OUT, stale)):
                os.remove(os.path.join(OUT, stale))
    print("\nbench: wrote %s in %s/ in %.0f s" % (files, OUT, time.time() - start))
    for f in failures:
        print("bench: %s" % f, file=sys.stderr)
    if failures:
        print("bench: %d workload(s) failed under a setting (their rows say why)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
