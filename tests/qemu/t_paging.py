"""The paging guests (tests/guests/pt*.c) under every setting of umbra's paging engine.

Each guest runs natively under QEMU once (it must pass); then inside umbra once per setting
(pt=vtlb, the baseline; pt=shadow with pt.write emulate or singlestep and pt.protect ro or
us, pt.prefault=8; pt.prefault=0 at the defaults; and a few settings for one guest: fewer
shadow roots than address spaces, a tight page pool). Every umbra run must give COM1 bytes
and an exit status identical to the native run, and the frame audit must pass. From umbra's
log (COM2): ptspaces under pt=shadow must have reused shadow roots (once the engine prints
`roots built N reused M`), and ptpool must have made the monitor refill its pool."""
import os
import re
import threading

from qemu import qemu, BUILD, UMBRA_ELF

GUESTS = ["ptexact", "ptwrite", "ptspaces", "pttorture", "ptuser", "ptpool"]
ARGS = "alpha beta=2"

# (name, umbra settings): every guest runs under each: the baseline, and every combination of
# pt.write, pt.protect and pt.prefault (0, the default 8, and 1: a single neighbour).
SETTINGS = [("vtlb", "pt=vtlb")] + [
    ("%s-%s%s" % (w, p, "" if n == 8 else "-pf%d" % n),
     "pt=shadow pt.write=%s pt.protect=%s pt.prefault=%d" % (w, p, n))
    for n in (8, 0) for w in ("emulate", "singlestep") for p in ("ro", "us")
]
# (guest, name, settings): one guest under a setting of its own.
EXTRA = [
    ("ptspaces", "roots4", "pt.roots=4"),
    ("ptpool", "pool-tight", "pool.min=2 pool.max=8"),
    ("ptpool", "pool-tight-vtlb", "pt=vtlb pool.min=2 pool.max=8"),
]


_native = {}                        # guest name -> its native Run
_native_lock = {}                   # guest name -> the lock its first case holds while running it
_lock = threading.Lock()


def elf(name):
    return os.path.join(BUILD, "guests", name + ".elf")


def native(name):
    """The native run of a guest, made once and shared by all its cases."""
    with _lock:
        lock = _native_lock.setdefault(name, threading.Lock())
    with lock:
        if name not in _native:
            n = qemu(kernel=elf(name), append=ARGS, mem=64, timeout=30)
            assert n.exit_status == 0 and b"not ok" not in n.com1, "fails natively:\n" + n.describe()
            _native[name] = n
        return _native[name]


def in_umbra(name, settings):
    return qemu(kernel=UMBRA_ELF, append="log=com2 onexit=qemu",
                initrd="%s vm=%s mem=64M %s -- %s" % (elf(name), name, settings, ARGS), mem=512, timeout=60)


def counters(log, pattern):
    m = re.search(pattern, log)
    return tuple(int(g) for g in m.groups()) if m else None


def case(name, label, settings):
    def run():
        n = native(name)
        u = in_umbra(name, settings)
        log = u.text("com2")
        if u.com1 != n.com1 or u.exit_status != n.exit_status:
            nl, ul = n.text().splitlines(), u.text().splitlines()
            diff = [l for l in ul if l not in nl][:8] + ["-- missing: " + l for l in nl if l not in ul][:8]
            raise AssertionError("umbra (%s) differs from native (exit %s vs %s):\n%s\n%s"
                                 % (settings, u.exit_status, n.exit_status, "\n".join(diff), u.describe()))
        assert "audit ok" in log, u.describe()
        if name == "ptspaces" and label not in ("vtlb", "roots4"):
            # The baseline has no roots to reuse; the lazy engine must find its 64 again.
            roots = counters(log, r"roots built (\d+),? reused (\d+)")
            assert roots is not None, "no shadow root counters in the log:\n" + u.describe()
            assert roots[1] >= 64, "64 address spaces switched 1280 times reused only %d roots:\n%s" % (
                roots[1], u.describe())
        if name == "ptpool":
            pool = counters(log, r"pool: refills (\d+), pages given (\d+), returned (\d+)")
            assert pool, "no pool counters in the log:\n" + u.describe()
            refills, given, returned = pool
            assert refills >= (2 if "tight" in label else 1), "expected pool refills:\n" + u.describe()
            if label == "pool-tight-vtlb":
                # The baseline drops every shadow on a CR3 write: with pool.max=8 the freed
                # pages must go back to the supervisor.
                assert returned > 0, "expected pages handed back:\n" + u.describe()
    return run


def pressure():
    """Two VMs with 64 address spaces each under poolmem=2400K (600 pages for both, where one
    alone would hold about 510): refills come up short, the supervisor asks the other monitor
    to drop cold roots and hand pages back, and both still print exactly what they print
    natively."""
    n = native("ptspaces")
    want = [l for l in n.text().splitlines() if l]
    mods = ",".join("%s vm=%s mem=32M -- %s" % (elf("ptspaces"), v, ARGS) for v in ("a", "b"))
    u = qemu(kernel=UMBRA_ELF, append="log=com2 onexit=qemu poolmem=2400K", initrd=mods, mem=512, timeout=120)
    log = u.text("com2")
    for v in ("a", "b"):
        got = [l[len(v) + 2:] for l in u.text().splitlines() if l.startswith(v + ": ")]
        assert got == want, "vm %s under memory pressure differs from native:\n%s" % (v, u.describe())
        assert "vm %s ended with status 0" % v in log, u.describe()
    assert "audit ok" in log, u.describe()
    short = [int(x) for x in re.findall(r"refills short (\d+)", log)]
    asked = [int(x) for x in re.findall(r"asked to shrink (\d+)", log)]
    dropped = [int(x) for x in re.findall(r"resets \d+, shrinks (\d+)", log)]
    assert sum(short) > 0 and sum(asked) > 0, "no memory pressure seen:\n" + u.describe()
    assert sum(dropped) > 0, "no monitor dropped cold roots:\n" + u.describe()


def cases():
    out = [("ptspaces/two_vms_poolmem", pressure)] + [("%s/%s" % (g, label), case(g, label, s)) for g in GUESTS for label, s in SETTINGS]
    out += [("%s/%s" % (g, label), case(g, label, s)) for g, label, s in EXTRA]
    return out
