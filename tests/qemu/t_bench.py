"""make bench works: its quick setting prints all three tables with a row for every workload
(and every compared setting), and writes both CSV files and both charts. Figures are never
asserted here; they belong to make bench. Only the shape is: a number where a number goes."""
import os
import re
import subprocess
import sys

from qemu import ROOT, BUILD

sys.path.insert(0, os.path.join(ROOT, "tools"))
from benchrun import ALL, PAGING, parse, trap_counts, event_counts  # noqa: E402

QUICK_SETTINGS = ["vtlb", "emulate-ro"]
NUM = r"\d+(?:\.\d+)?"


def table(out, title):
    """The lines of the table whose heading starts with title, up to the next blank line."""
    assert title in out, "no table '%s' in:\n%s" % (title, out)
    body = out.split(title, 1)[1].split("\n\n", 1)[0]
    return body.splitlines()[1:]


def quick():
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bench.py"), "--quick"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    out = p.stdout
    # cycles: op native umbra ratio spread traps; instructions: the same and instr/trap
    for title, cols in (("cycles per operation", 6), ("instructions per operation", 7)):
        rows = {l.split()[0]: l.split() for l in table(out, title) if l.split() and l.split()[0] in ALL}
        assert sorted(rows) == sorted(ALL), "%s: rows %s" % (title, sorted(rows))
        for op, cells in rows.items():
            assert len(cells) == cols and all(re.fullmatch(NUM, c) for c in cells[1:4]), cells
            assert re.fullmatch(NUM, cells[5]), cells          # traps/op, measured for every workload
    # instr/trap is a number wherever there are traps (not for compute), and the traps have causes
    rows = {l.split()[0]: l.split() for l in table(out, "instructions per operation")}
    assert all(re.fullmatch(NUM, rows[op][6]) for op in ALL if op != "compute"), rows
    rows = {l.split()[0]: l.split()[1:] for l in table(out, "traps per operation by cause") if not l.startswith(" ")}
    assert sorted(rows) == sorted(ALL), rows
    # (a cause may come out a little below 0: scanning is a one-time cost whose share depends
    # on the path the first run of the code took, so the twins can differ by a trap or so)
    assert all(re.fullmatch(r"(#\d+|int)=-?" + NUM, c) for op in ALL if op != "compute" for c in rows[op]), rows
    lines = table(out, "paging settings")
    pairs, op = [], None
    for l in lines:
        cells = l.split()
        if cells and cells[0] in PAGING:
            op, cells = cells[0], cells[1:]
        if op and cells and cells[0] in QUICK_SETTINGS:
            assert len(cells) >= 5 and re.fullmatch(r"\d+", cells[1]) and re.fullmatch(NUM, cells[3]), l
            pairs.append((op, cells[0]))
    assert sorted(pairs) == sorted((o, s) for o in PAGING for s in QUICK_SETTINGS), pairs
    csv = open(os.path.join(BUILD, "bench", "results.csv")).read().splitlines()
    assert csv[0].startswith("op,native_tsc") and "monitor_instr_per_trap,trap_causes" in csv[0], csv[0]
    assert [l.split(",")[0] for l in csv[1:]] == ALL, csv
    csv = open(os.path.join(BUILD, "bench", "settings.csv")).read().splitlines()
    assert csv[0].startswith("op,setting,words") and len(csv) == 1 + len(PAGING) * len(QUICK_SETTINGS), csv
    for chart in ("ratios.svg", "settings.svg"):
        svg = open(os.path.join(BUILD, "bench", chart)).read()
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>") and svg.count("<rect") > 10, chart


def counters():
    """The runner reads umbra's counter lines per VM and leaves host interrupts out; it reads
    bench lines alone or behind a VM's name, and nothing else."""
    log = ("vm fork: traps: #13=184 #14=8147 #32=7\nvm fork: emulated: in=1\n"
           "vm fork_0: traps: #11=1 #13=104 #47=2 #48=3 int=5\n")
    assert trap_counts(log) == {"fork": {"#13": 184, "#14": 8147},
                                "fork_0": {"#11": 1, "#13": 104, "#48": 3, "int": 5}}, trap_counts(log)
    log = ("vm a: interrupts injected 0, shadow fills 5768, flushes 2\n"
           "vm a: shadow: roots built 43 reused 40 dropped 40, table writes emulated 2873 stepped 0, unshadowed 9\n"
           "vm a: shadow pages 14 (most 15), protected tables at most 7, software TLB hits 6016 misses 5828\n")
    assert event_counts(log) == {"a": {"interrupts injected": 0, "shadow fills": 5768, "flushes": 2, "roots built": 43,
                                       "roots reused": 40, "roots dropped": 40, "table writes emulated": 2873,
                                       "table writes stepped": 0, "unshadowed": 9, "software TLB hits": 6016,
                                       "software TLB misses": 5828}}, event_counts(log)
    com1 = ("fork: bench fork         40     769579\nfork_0: bench fork          0      39520\n"
            "bench exec        100      77377\nbench pingpong failed: the tasks' turns do not add up\n")
    assert parse(com1, "fork: ") == {"fork": (40, 769579)}, parse(com1, "fork: ")
    assert parse(com1) == {"exec": (100, 77377)}, parse(com1)


def bad_setting():
    """A setting under which a workload fails gives a row that says why, the others go on, and
    the runner ends with status 1."""
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bench.py"), "--only", "pgfault", "--runs", "1",
                        "--n", "50", "--settings", "vtlb,bad:pt=shadow pt.prefault=99"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 1, p.stdout[-2000:] + p.stderr[-2000:]
    rows = [c for c in (l.split(None, 6) for l in table(p.stdout, "paging settings"))
            if c and (c[0] == "pgfault" or c[0] == "bad" and c[1] == "-")]
    assert len(rows) == 2 and rows[0][:2] == ["pgfault", "vtlb"] and re.fullmatch(r"\d+", rows[0][2]), rows
    assert rows[1][0] == "bad" and rows[1][1] == "-", rows
    assert "failed: umbra: pt.prefault=99: expected a number from 0 to 32" in p.stdout, p.stdout
    assert "bench: 1 workload(s) failed under a setting" in p.stdout, p.stdout


def cases():
    return [("quick", quick), ("counters", counters), ("bad_setting", bad_setting)]
