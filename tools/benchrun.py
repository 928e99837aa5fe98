"""Running the benchmark guests for tools/bench.py: natively under QEMU, inside umbra alone (for
figures), and many at once inside one umbra (for trap counts)."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "qemu"))
from qemu import qemu, BUILD, UMBRA_ELF  # noqa: E402

# Every workload and the guest that has it (tests/guests/NAME.c).
GUEST_OF = {"compute": "bench", "syscall": "bench", "cli_sti": "bench", "port_read": "bench",
            "lapic_read": "bench", "lapic_eoi": "bench", "pgfault": "bench", "pgfault_user": "bench", "ptemod": "bench", "invlpg": "bench",
            "cr3_switch": "bench", "fork": "bench_mm", "exec": "bench_mm", "pingpong": "bench_mm"}
ALL = list(GUEST_OF)
# The workloads the shadow-paging settings change.
PAGING = ["pgfault", "pgfault_user", "ptemod", "invlpg", "cr3_switch", "fork", "exec", "pingpong"]
# The settings compared on them: label, module words. Every word is spelled out, so a changed
# default does not change what a label means.
SETTINGS = [
    ("vtlb", "pt=vtlb"),
    ("emulate-ro", "pt=shadow pt.write=emulate pt.protect=ro pt.prefault=8"),
    ("emulate-us", "pt=shadow pt.write=emulate pt.protect=us pt.prefault=8"),
    ("singlestep-ro", "pt=shadow pt.write=singlestep pt.protect=ro pt.prefault=8"),
    ("singlestep-us", "pt=shadow pt.write=singlestep pt.protect=us pt.prefault=8"),
    ("emulate-ro-pf0", "pt=shadow pt.write=emulate pt.protect=ro pt.prefault=0"),
]
GUEST_MEM = "20M"          # the guests use 0-16 MiB; small, so that 16 fit in one umbra
MAX_VMS = 16               # supervisor/vm.h
TIMEOUT = 120              # seconds for one QEMU run; the longest takes a few


class BenchError(Exception):
    """A run that did not give its figures: what was run and what it printed; `short` is one
    line for a table (the guest's or umbra's own reason when it gave one)."""

    def __init__(self, what, r, vm=None):
        super().__init__("%s\n%s" % (what, r.describe()))
        prefix, name = ("%s: " % re.escape(vm), re.escape(vm)) if vm else ("", r"\S+")
        why = re.search(r"^%s(bench \w+ failed: .*)$|^(umbra: vm %s stopped: .*)$|^(umbra: module \d+ '[^']* vm=%s .*)$"
                        % (prefix, name, vm and name or "bench"), r.text() + "\n" + r.text("com2"), re.M)
        self.short = (re.sub(r"module \d+ '[^']*': ", "", next(g for g in why.groups() if g)) if why else
                      "timed out" if r.timed_out else "no figures (exit code %s)" % r.code)


def elf(guest):
    """The built guest kernel."""
    return os.path.join(BUILD, "guests", guest + ".elf")


def parse(com1, prefix=""):
    """{name: (ops, per-op figure)} from the bench lines (in a shared umbra, after 'VM: ')."""
    res = {}
    for m in re.finditer(r"^%sbench (\w+) +(\d+) +(\d+)$" % re.escape(prefix), com1, re.M):
        res[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return res


def trap_counts(log):
    """{vm: {cause: traps}} from umbra's counter lines 'vm NAME: traps: #13=... int=...'.
    Host interrupts (vectors 32-47) are umbra's own business and not counted."""
    out = {}
    for m in re.finditer(r"^vm (\S+): traps:(.*)$", log, re.M):
        out[m.group(1)] = {v: int(c) for v, c in re.findall(r"(#\d+|int)=(\d+)", m.group(2))
                           if v == "int" or not 32 <= int(v[1:]) < 48}
    return out


def event_counts(log):
    """{vm: {event: count}} from umbra's other counter lines: 'vm NAME: interrupts injected 0,
    shadow fills 5768, flushes 0, ...' and the shadow engine's 'vm NAME: shadow: roots built 43
    reused 40 dropped 40, table writes emulated 2873 stepped 0, ...'. Within one comma-separated
    item a later name takes the first one's stem: 'roots reused', 'table writes stepped'. And the
    software TLB's hits and misses (the monitor's own accesses to guest memory)."""
    out = {}
    for m in re.finditer(r"^vm (\S+): (interrupts injected .*|shadow: .*)$", log, re.M):
        ev = out.setdefault(m.group(1), {})
        for item in m.group(2).split(": ", 1)[-1].split(","):
            pairs = re.findall(r"([a-zA-Z][a-zA-Z ]*?) (\d+)", item)
            stem = pairs[0][0].rsplit(" ", 1)[0] + " " if pairs and " " in pairs[0][0] else ""
            for i, (name, v) in enumerate(pairs):
                ev[name if i == 0 else stem + name] = int(v)
    for m in re.finditer(r"^vm (\S+): .*software TLB hits (\d+) misses (\d+)", log, re.M):
        out.setdefault(m.group(1), {}).update({"software TLB hits": int(m.group(2)), "software TLB misses": int(m.group(3))})
    return out


def run(where, ops, n, icount, setting=""):
    """Run the guest of ops (one guest) natively or alone inside umbra; {op: (count, per-op)}."""
    guest = GUEST_OF[ops[0]]
    extra = ["-icount", "shift=0"] if icount else []
    args = "n=%d only=%s" % (n, ",".join(ops))     # QEMU's -initrd: ",," is a comma inside a module
    if where == "native":
        r = qemu(kernel=elf(guest), append=guest + " " + args, mem=64, timeout=TIMEOUT, extra=extra)
    else:
        r = qemu(kernel=UMBRA_ELF, append="log=com2 onexit=qemu", mem=512, timeout=TIMEOUT, extra=extra,
                 initrd="%s vm=bench mem=%s %s -- %s" % (elf(guest), GUEST_MEM, setting, args.replace(",", ",,")))
    res = parse(r.text())
    if r.exit_status != 0 or any(op not in res for op in ops):
        raise BenchError("%s %s (%s%s) gave no figures" % (where, ",".join(ops), "icount" if icount else "tsc",
                                                          ", " + setting if setting else ""), r)
    return res


def traps_per_op(ops, n, setting="", failed=None):
    """{op: (traps per operation, {cause: per operation}, {event: per operation})} inside umbra
    (events: event_counts, shadow fills, flushes, the engine's): each op in a VM of
    its own with n repetitions and again with n=0 (the same setup and the same bytes printed),
    many VMs in one umbra; the difference of the two VMs' traps over the operations counted is
    what the operations cost. A VM without figures raises BenchError, or with `failed` (a dict)
    is noted there as {op: BenchError} and left out."""
    vms = [(op, k) for op in ops for k in (n, 0)]       # twins stay together: MAX_VMS is even
    out = {}
    for i in range(0, len(vms), MAX_VMS):
        part = vms[i:i + MAX_VMS]
        mods = ["%s vm=%s%s mem=%s %s -- n=%d only=%s" % (elf(GUEST_OF[op]), op, "_0" if k == 0 else "", GUEST_MEM,
                                                          setting, k, op) for op, k in part]
        r = qemu(kernel=UMBRA_ELF, append="log=com2 onexit=qemu", mem=512, timeout=TIMEOUT, initrd=",".join(mods))
        log, com1 = r.text("com2"), r.text()
        traps, events = trap_counts(log), event_counts(log)
        for op, k in part:
            name = op + ("_0" if k == 0 else "")
            figures = parse(com1, name + ": ")
            if op not in figures or ("umbra: vm %s ended with status 0" % name) not in log or name not in traps:
                e = BenchError("umbra (%s) with many VMs: %s gave no figures" % (setting or "defaults", name), r, name)
                if failed is None:
                    raise e
                failed.setdefault(op, e)
                continue
            if op in (failed or {}):
                continue
            if k:
                out[op] = (dict(traps[name]), dict(events.get(name, {})), figures[op][0])
            else:
                for have, minus in ((out[op][0], traps[name]), (out[op][1], events.get(name, {}))):
                    for key, c in minus.items():
                        have[key] = have.get(key, 0) - c
    res = {}
    for op, (causes, evs, count) in out.items():
        if failed and op in failed:
            continue
        per = {c: t / count for c, t in sorted(causes.items(), key=lambda ct: -ct[1]) if t} if count else {}
        per_ev = {e: t / count for e, t in evs.items() if t} if count else {}
        res[op] = (sum(per.values()) if count else float("nan"), per, per_ev)
    return res
