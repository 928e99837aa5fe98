"""Bochs as a second reference: a different x86 implementation (its own CPU model, no UMIP,
its own PC devices). umbra's ISO boots in it and runs the demo guest; and guest test kernels
booted natively in Bochs (through GRUB) and inside umbra in Bochs print the same checks.
Skips, saying why, when Bochs is not installed."""
import os
import re
import select
import shutil
import subprocess
import tempfile
import time

from qemu import ROOT, BUILD, UMBRA_ISO, UMBRA_ELF

BIOS = "/usr/share/bochs/BIOS-bochs-latest"
VGA = "/usr/share/bochs/VGABIOS-lgpl-latest"


def available():
    if not shutil.which("bochs") or not os.path.exists(BIOS) or not os.path.exists(VGA):
        return "bochs, bochsbios, vgabios or bochs-term is not installed (make deps installs them)"
    return None


def bochs(iso, until, timeout=240):
    """Boot iso in Bochs until COM1 shows `until` (bytes); returns COM1's bytes."""
    with tempfile.TemporaryDirectory(prefix="umbra-bochs-") as tmp:
        com1 = os.path.join(tmp, "com1")
        rc = os.path.join(tmp, "bochsrc")
        with open(rc, "w") as f:
            f.write("megs: 256\nromimage: file=%s\nvgaromimage: file=%s\n"
                    "ata0-master: type=cdrom, path=%s, status=inserted\nboot: cdrom\n"
                    "com1: enabled=1, mode=file, dev=%s\ndisplay_library: term\n"
                    "log: /dev/null\npanic: action=fatal\nerror: action=ignore\ninfo: action=ignore\n"
                    "debug: action=ignore\nclock: sync=none, time0=local\ncpu: ips=50000000\n"
                    % (BIOS, VGA, iso, com1))
        # Debian's Bochs starts in its debugger: 'c' continues. Its terminal display wants a TERM.
        p = subprocess.Popen(["bochs", "-q", "-f", rc], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=dict(os.environ, TERM="dumb"))
        p.stdin.write(b"c\n")
        p.stdin.flush()
        deadline = time.time() + timeout
        out = b""
        try:
            while time.time() < deadline and p.poll() is None:
                time.sleep(0.5)
                if os.path.exists(com1):
                    out = open(com1, "rb").read()
                    if until in out:
                        time.sleep(0.5)
                        out = open(com1, "rb").read()
                        break
        finally:
            p.kill()
            p.wait()
        return out.replace(b"\r", b"")


def make_iso(name, tag, entry):
    """An ISO with guest `name` whose only GRUB entry is `entry` (multiboot and module lines)."""
    d = os.path.join(BUILD, "bochs", name + tag)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "root", "boot", "grub"))
    shutil.copy(UMBRA_ELF, os.path.join(d, "root", "boot", "umbra.elf"))
    shutil.copy(os.path.join(BUILD, "guests", name + ".elf"), os.path.join(d, "root", "boot", "guest.elf"))
    with open(os.path.join(d, "root", "boot", "grub", "grub.cfg"), "w") as f:
        f.write("set timeout=0\nserial --unit=0 --speed=115200\nterminal_output serial\n"
                "menuentry test {\n%s\nboot\n}\n" % entry)
    iso = os.path.join(d, name + ".iso")
    subprocess.run(["grub-mkrescue", "-o", iso, os.path.join(d, "root")], check=True, capture_output=True)
    return iso


def checks(com1):
    """The guest's check lines and its summary. Bochs's CPU has no UMIP, so SGDT, SIDT, SLDT,
    STR and SMSW would read the real tables at CPL3; scan-before-execute patches them in the
    guest kernel's code, so every line must match, those included."""
    return [l for l in com1.decode("latin-1").split("\n") if l.startswith(("ok -", "not ok -")) or " passed, " in l]


def demo_iso():
    why = available()
    if why:
        return "skip: " + why
    out = bochs(UMBRA_ISO, b"nothing left to run")
    for want in (b"task B (CR3 #2): round 4", b"demo: goodbye", b"umbra: vm demo ended with status 0", b"audit ok"):
        assert want in out, "missing %r in Bochs's COM1:\n%s" % (want, out.decode("latin-1")[-3000:])


def guest(name):
    def case():
        why = available()
        if why:
            return "skip: " + why
        # The summary line, "NAME: N passed, M failed" (not "NAME: start", which some print first).
        summary = b" passed, "
        nat = bochs(make_iso(name, "-native", "multiboot /boot/guest.elf guest.elf alpha beta=2"), summary)
        assert summary in nat, "no summary natively in Bochs:\n" + nat.decode("latin-1")[-2000:]
        assert b"not ok" not in nat, "fails natively in Bochs:\n" + nat.decode("latin-1")[-3000:]
        um = bochs(make_iso(name, "-umbra", "multiboot /boot/umbra.elf log=none onexit=halt\n"
                                  "module /boot/guest.elf guest.elf vm=%s mem=64M -- alpha beta=2" % name), summary)
        assert summary in um, ("umbra in Bochs gave no summary within the time limit (a slow machine, or a "
                               "hang); its COM1 so far:\n" + um.decode("latin-1")[-2000:])
        n, u = checks(nat), checks(um)
        assert n == u, "umbra in Bochs differs from Bochs:\nnative: %s\numbra:  %s" % (n, u)
    return case


def spurious():
    # Bochs's 8259 drops an edge request when its input falls, as the chip does: a CPU that
    # acknowledges INTR in the PIT's one low clock per period gets IR7's vector with nothing in
    # service. umbra provokes that at boot (testfault=spurious), counts and ignores it, and runs
    # its guest to the end. Before it did, vector 0x27 was an unhandled exception: a panic.
    why = available()
    if why:
        return "skip: " + why
    out = bochs(make_iso("iflags", "-spurious", "multiboot /boot/umbra.elf log=com1 onexit=halt testfault=spurious\n"
                                               "module /boot/guest.elf guest.elf vm=iflags mem=64M"),
                b"nothing left to run")
    text = out.decode("latin-1")
    assert "while the PIT holds it low: 1 spurious interrupt(s)" in text, "no spurious interrupt provoked:\n" + text[-3000:]
    assert "pic: 1 spurious interrupts" in text and "umbra: nothing left to run" in text, text[-3000:]
    assert re.search(r"iflags: \d+ passed, \d+ failed", text) and "exception 39" not in text, text[-3000:]


def cases():
    return [("demo_iso", demo_iso)] + [(g, guest(g)) for g in ("exceptions", "rings", "iflags", "priv", "io",
                                                               "ptexact", "ptwrite", "pit", "scan", "scanedge")] + [("spurious", spurious)]
