#!/usr/bin/env python3
"""umbra's test driver: host unit tests, then every QEMU test module; one summary line at the end.

Each module tests/qemu/t_*.py defines cases() -> list of (name, fn). fn() returns None on
success, the string "skip: reason" to skip, or raises/returns a failure message.
Usage: tests/run.py [substring...]   (only run cases whose name contains a substring)
"""
import concurrent.futures
import glob
import importlib.util
import os
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "qemu"))


def load_cases():
    cases = []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "qemu", "t_*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for cname, fn in mod.cases():
            cases.append((name[2:] + "/" + cname, fn))
    return cases


def run_case(fn):
    start = time.time()
    try:
        r = fn()
    except AssertionError as e:
        r = str(e) or "assertion failed"
    except Exception as e:  # a broken test is a failed test
        r = "%s: %s" % (type(e).__name__, e)
    return r, time.time() - start


def main():
    filters = sys.argv[1:]
    passed = failed = skipped = 0

    # Host unit tests: one binary; each "PASS/FAIL unit/x" line counts.
    unit = os.path.join(ROOT, "build", "unit")
    if not filters or any("unit" in f for f in filters):
        p = subprocess.run([unit], capture_output=True, text=True)
        for line in p.stdout.splitlines():
            if line.startswith("PASS "):
                passed += 1
            elif line.startswith("FAIL "):
                failed += 1
                print(line)
            elif line.startswith("  "):
                print(line)
        if p.returncode not in (0, 1) or "unit tests:" not in p.stdout:
            failed += 1
            print("FAIL unit (runner crashed, exit %d)\n%s" % (p.returncode, p.stderr[-3000:]))
        print("unit: %d passed, %d failed so far" % (passed, failed), flush=True)

    cases = [c for c in load_cases() if not filters or any(f in c[0] for f in filters)]
    # Two QEMU runs at a time: the machine has two cores.
    jobs = int(os.environ.get("UMBRA_TEST_JOBS", "2"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        futs = [(name, ex.submit(run_case, fn)) for name, fn in cases]
        for name, fut in futs:
            r, secs = fut.result()
            if r is None:
                passed += 1
                print("PASS %s (%.1fs)" % (name, secs), flush=True)
            elif isinstance(r, str) and r.startswith("skip:"):
                skipped += 1
                print("SKIP %s (%s)" % (name, r[5:].strip()), flush=True)
            else:
                failed += 1
                print("FAIL %s (%.1fs)\n    %s" % (name, secs, str(r).replace("\n", "\n    ")), flush=True)

    line = "%d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
