"""make bench works: its quick setting prints both tables and writes the CSV and the chart.
(Figures are never asserted here; they belong to make bench.)"""
import os
import subprocess
import sys

from qemu import ROOT, BUILD


def quick():
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bench.py"), "--quick"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    assert "cycles per operation" in p.stdout and "instructions per operation" in p.stdout, p.stdout
    for op in ("syscall", "pgfault"):
        assert sum(1 for l in p.stdout.splitlines() if l.startswith(op + " ")) == 2, p.stdout
    csv = open(os.path.join(BUILD, "bench", "results.csv")).read().splitlines()
    assert csv[0].startswith("op,native_tsc") and len(csv) == 3, csv
    assert open(os.path.join(BUILD, "bench", "ratios.svg")).read().startswith("<svg"), "no chart"


def cases():
    return [("quick", quick)]
