"""VM launch tests: a guest runs inside umbra exactly as natively; modules and settings that
cannot make a guest are reported with their cause while the other VMs go on."""
import re

import fixtures
from qemu import qemu, UMBRA_ELF

UMBRA = "log=com2 onexit=qemu"


def in_umbra(modules, mem=512, timeout=30):
    return qemu(kernel=UMBRA_ELF, append=UMBRA, initrd=",".join(modules), mem=mem, timeout=timeout)


def same_as_native(status):
    def case():
        elf = fixtures.build("hello%d" % status, defines=["EXIT_STATUS=%d" % status])
        native = qemu(kernel=elf, mem=64)
        assert native.exit_status == status, "native run: " + native.describe()
        r = in_umbra([elf + " vm=t mem=64M"])
        assert r.com1 == native.com1, "COM1 differs\nnative: %r\numbra: %r\n%s" % (native.com1, r.com1, r.describe())
        assert r.exit_status == status, r.describe()
        assert "audit ok" in r.text("com2"), r.describe()
    return case


def bad_modules():
    good = fixtures.build("hello0", defines=["EXIT_STATUS=0"])
    far = fixtures.build("far", base=0x8000000)            # 128 MiB: outside a 64 MiB guest
    nomb = fixtures.build("nomb", asm="nomb.asm")
    elf64 = fixtures.build("hello64", asm="nomb.asm", elf64=True)
    text = fixtures.text_file("notelf.txt", "this is not a kernel\n")
    mods = [text + " vm=a", elf64 + " vm=b", far + " vm=c mem=64M", nomb + " vm=d",
            good + " vm=e mem=lots", good + " vm=f colour=blue", good + " nothing=here",
            good + " vm=g mem=16M", good + " vm=g mem=16M", good + " vm=h mem=900M", good + " vm=i mem=100000M"]
    r = in_umbra(mods)
    log = r.text("com2")
    expect = ["'%s vm=a': not an ELF file; this VM does not start" % text,
              "not a 32-bit little-endian x86 ELF",
              "lies outside the guest's 64 MiB of RAM",
              "no Multiboot header in its first 8 KiB",
              "mem=lots: expected a size such as 64M",
              "unknown setting 'colour=blue'",
              "has no vm= setting; not a guest, ignored",
              "another VM is already named 'g'",
              "vm h: not enough memory", "mem=100000M is more than the 960 MiB a VM can have"]
    for e in expect:
        assert e in log, "missing %r in the log\n%s" % (e, r.describe())
    # The one good VM ran to the end, alone on COM1, and nothing leaked.
    assert r.com1 == b"hello from a guest\n", r.describe()
    assert r.exit_status == 0, r.describe()
    assert "audit ok" in log, r.describe()


def bad_disks():
    # disk= naming no module, a module of a size that is not whole sectors, one disk for two
    # VMs: each such VM is refused with the cause; the one good VM runs and its disk module
    # is not reported as an ignored module.
    good = fixtures.build("hello0", defines=["EXIT_STATUS=0"])
    odd = fixtures.text_file("odd-disk.img", "x" * 1000)
    ok = fixtures.text_file("ok-disk.img", "y" * 1024)
    missing = ok.replace("ok-disk", "no-disk")
    r = in_umbra([good + " vm=j disk=" + missing, good + " vm=k disk=" + odd, odd,
                  good + " vm=l mem=8M disk=" + ok, ok, good + " vm=m disk=" + ok])
    log = r.text("com2")
    expect = ["disk=%s: no boot module is named %s; this VM does not start" % (missing, missing),
              "disk=%s: its 1000 bytes are not a whole number of 512-byte sectors" % odd,
              "disk=%s is another VM's disk; this VM does not start" % ok]
    for e in expect:
        assert e in log, "missing %r in the log\n%s" % (e, r.describe())
    assert "'%s' has no vm= setting" % ok not in log, r.describe()
    assert r.com1 == b"hello from a guest\n", r.describe()
    assert r.exit_status == 0 and "audit ok" in log, r.describe()


def keyboard_reset():
    # The guest pulses the reset line through the i8042 (command 0xfe). QEMU with -no-reboot
    # stops there; umbra ends that VM with a message and status 0, and the others run on.
    import os
    from qemu import BUILD
    elf = os.path.join(BUILD, "guests", "kbd.elf")
    native = qemu(kernel=elf, append="reset", mem=64)
    assert native.code == 0 and native.com1 == b"kbd: pulsing the reset line\n", native.describe()
    good = fixtures.build("hello0", defines=["EXIT_STATUS=0"])
    r = in_umbra([elf + " vm=kbd mem=8M -- reset", good + " vm=good mem=8M"])
    log = r.text("com2")
    assert "kbd: kbd: pulsing the reset line\n" in r.text(), r.describe()
    assert "still running" not in r.text(), r.describe()
    assert "umbra: vm kbd reset its machine through the keyboard controller; it ends" in log, r.describe()
    assert "vm good ended with status 0" in log, r.describe()
    # Alone, the guest's reset resets the machine: QEMU with -no-reboot exits 0, as natively.
    r = in_umbra([elf + " vm=kbd mem=8M -- reset"])
    assert r.code == 0 and r.com1 == native.com1, r.describe()
    assert "resetting the machine, as the last VM did" in r.text("com2"), r.describe()
    assert "audit ok" in log, r.describe()


def port92_reset():
    # A reset through port 0x92 ends the VM like the i8042's; as the last VM its reset makes
    # QEMU stop with the exit code a native reset gives (0), not the exit device's.
    elf = fixtures.build("reset92", asm="reset92.asm")
    native = qemu(kernel=elf, mem=64)
    assert native.code == 0 and native.com1 == b"resetting through port 0x92\n", native.describe()
    r = in_umbra([elf + " vm=r mem=8M"])
    assert r.com1 == native.com1 and r.code == native.code, r.describe()
    assert "umbra: vm r reset its machine through port 0x92 (fast reset); it ends" in r.text("com2"), r.describe()
    assert "audit ok" in r.text("com2"), r.describe()


def two_vms():
    a = fixtures.build("hello3", defines=["EXIT_STATUS=3"])
    b = fixtures.build("hello0", defines=["EXIT_STATUS=0"])
    r = in_umbra([a + " vm=first mem=8M", b + " vm=second mem=8M"])
    out = r.text()
    assert "first: hello from a guest\n" in out and "second: hello from a guest\n" in out, r.describe()
    log = r.text("com2")
    assert "vm first ended with status 3" in log and "vm second ended with status 0" in log, r.describe()
    assert r.exit_status in (0, 3), r.describe()
    assert "audit ok" in log, r.describe()


def guest_words():
    # Words after -- reach the guest's command line; umbra's own settings do not.
    elf = fixtures.build("hello0", defines=["EXIT_STATUS=0"])
    r = in_umbra([elf + " vm=w mem=4M -- console=ttyS0 quiet"])
    assert "command line '%s console=ttyS0 quiet'" % elf in r.text("com2"), r.describe()


def triple_fault():
    crash = fixtures.build("crash", asm="crash.asm")
    good = fixtures.build("hello0", defines=["EXIT_STATUS=0"])
    r = in_umbra([crash + " vm=bad mem=8M", good + " vm=good mem=8M"])
    log = r.text("com2")
    assert "umbra: vm bad stopped: triple fault" in log, r.describe()
    assert "eax deadbeef" in log, "no register report\n" + r.describe()
    assert "vm good ended with status 0" in log, r.describe()
    assert "good: hello from a guest" in r.text(), r.describe()
    assert "audit ok" in log, r.describe()



def run_paging(extra):
    """The paging fixture natively and in umbra: same COM1, status 0, audit ok. Returns the log."""
    if True:
        elf = fixtures.build("paging", asm="paging.asm")
        native = qemu(kernel=elf, mem=64)
        assert native.exit_status == 0 and b"written and read back" in native.com1, native.describe()
        r = in_umbra([elf + " vm=p mem=64M" + extra])
        assert r.com1 == native.com1, "COM1 differs\nnative: %r\numbra: %r\n%s" % (native.com1, r.com1, r.describe())
        assert r.exit_status == 0, r.describe()
        log = r.text("com2")
        assert "audit ok" in log, r.describe()
        return log


def paging(extra):
    def case():
        run_paging(extra)
    return case


def pool_refills():
    # A small pool under the virtual TLB: the 12288 shadow fills need many page tables, and
    # every CR3 write drops them, so the monitor must suspend for refills and hand pages
    # back; the result is the same.
    import re
    log = run_paging(" pool.min=4 pool.max=8 pt=vtlb")
    m = re.search(r"pool: refills (\d+), pages given (\d+), returned (\d+)", log)
    assert m, log
    assert int(m.group(1)) >= 2 and int(m.group(3)) > 0, "expected refills and hand-backs:\n" + log


def pool_refills_shadow():
    # The shadow engine with a tiny pool and no prefaulting: the shadow tables for 48 MiB
    # outgrow the initial pool, so the monitor must suspend for pages while the guest runs.
    import re
    log = run_paging(" pool.min=2 pool.max=3 pt.prefault=0")
    m = re.search(r"pool: refills (\d+), pages given (\d+), returned (\d+)", log)
    assert m, log
    assert int(m.group(1)) >= 1 and int(m.group(2)) >= 1, "expected refills:\n" + log


def fixture_same_as_native(name, asm, mem="16M", timeout=30):
    """A fixture guest natively and in umbra: identical COM1 and exit status 0."""
    def case():
        elf = fixtures.build(name, asm=asm)
        native = qemu(kernel=elf, mem=64, timeout=timeout)
        assert native.exit_status == 0, "native run: " + native.describe()
        r = in_umbra([elf + " vm=x mem=" + mem], timeout=timeout)
        assert r.com1 == native.com1, "COM1 differs\nnative: %r\numbra: %r\n%s" % (native.com1, r.com1, r.describe())
        assert r.exit_status == 0, r.describe()
        assert "audit ok" in r.text("com2"), r.describe()
    return case


def relocation():
    fixture_same_as_native("reloc", "reloc.asm", mem="64M")()
    elf = fixtures.build("reloc", asm="reloc.asm")
    r = in_umbra([elf + " vm=x mem=64M"])
    assert "monitor moved to" in r.text("com2"), r.describe()


def relocation_window():
    # The same with the 4 MiB below the region, where the code window starts out: the guest's
    # kernel code runs from copies mapped there until the guest maps the range, and then the
    # monitor and the window move together; every word reads back as natively.
    elf = fixtures.build("relocw", asm="reloc.asm", defines=["TOP=0xff800000"])
    native = qemu(kernel=elf, mem=64)
    assert native.exit_status == 0 and b"0xff800000" in native.com1, native.describe()
    r = in_umbra([elf + " vm=x mem=64M"])
    assert r.com1 == native.com1 and r.exit_status == 0, r.describe()
    log = r.text("com2")
    assert "monitor moved to" in log and "vm x: scan: code pages copied" in log and "audit ok" in log, r.describe()



def memory_holes():
    elf = fixtures.build("hole", asm="hole.asm")
    r = in_umbra([elf + " vm=h mem=64M"])
    assert r.com1 == b"ffffffff\nffffffff\n", r.describe()
    assert r.exit_status == 0, r.describe()


def mmio_unsupported():
    # Device-page accesses that cannot be forwarded stop that guest with the cause; another runs on.
    straddle = fixtures.build("mmio_straddle", asm="mmio_bad.asm", defines=["STRADDLE=1"])
    fpu = fixtures.build("mmio_fpu", asm="mmio_bad.asm")
    good = fixtures.build("hello0", defines=["EXIT_STATUS=0"])
    r = in_umbra([straddle + " vm=straddle mem=8M", fpu + " vm=fpu mem=8M", good + " vm=good mem=8M"])
    log = r.text("com2")
    assert "umbra: vm straddle stopped: an instruction at" in log and "straddles a device page" in log, r.describe()
    assert "umbra: vm fpu stopped: an instruction at" in log and "touches a device page" in log, r.describe()
    assert "vm good ended with status 0" in log, r.describe()
    assert "audit ok" in log, r.describe()


def popf_hlt():
    # With scan=off, POPF cannot set IF at CPL3: a guest that enables interrupts that way and
    # halts is stopped with the cause named, and the other VM goes on. With scan-before-execute
    # (the default) the same guest's POPF sets IF and it halts waiting, as on hardware, until
    # stop-after= ends it.
    bad = fixtures.build("popf_hlt", asm="popf_hlt.asm")
    good = fixtures.build("hello0", defines=["EXIT_STATUS=0"])
    r = in_umbra([bad + " vm=popf mem=4M scan=off", bad + " vm=scan mem=4M stop-after=1s",
                  good + " vm=good mem=4M"])
    log = r.text("com2")
    assert "vm popf stopped: the guest halted with interrupts disabled" in log, r.describe()
    assert "POPF in umbra's guest kernel cannot set IF" in log, r.describe()
    assert "vm scan stopped" not in log and "stop-after=1000 ms is up" in log, r.describe()
    assert re.search(r"vm scan: emulated:.* popf=1\b", log), r.describe()
    assert "vm good ended with status 0" in log and "audit ok" in log, r.describe()


def scan_off_leaks():
    # The scan guest's checks are what scan-before-execute hides. With scan=off the guest
    # kernel runs its own code at CPL3 and they show through: the test can fail, and the
    # setting does what it says. (With the default, guests/scan passes.)
    import os
    from qemu import BUILD
    elf = os.path.join(BUILD, "guests", "scan.elf")
    r = in_umbra([elf + " vm=s mem=64M scan=off"])
    out = r.text()
    for leak in ("not ok - POPF: pushf; cli; popf restores IF=1", "not ok - POPF setting IF takes the waiting interrupt"):
        assert any(l.startswith(leak) for l in out.split("\n")), (leak, r.describe())
    assert re.search(r"scan: \d+ passed, [1-9]\d* failed", out), r.describe()
    assert "vm s: scan:" not in r.text("com2"), r.describe()        # no scan counters: it was off


def bad_cr3():
    # Page tables in a hole: the guest is stopped with its registers, its neighbour finishes.
    bad = fixtures.build("badcr3", asm="badcr3.asm")
    good = fixtures.build("hello0", defines=["EXIT_STATUS=0"])
    r = in_umbra([bad + " vm=bad mem=4M", good + " vm=good mem=4M"])
    log = r.text("com2")
    assert "vm bad stopped: triple fault" in log and "cr3 7ffff000" in log, r.describe()
    assert "monitor fault" not in log, r.describe()
    assert "vm good ended with status 0" in log and "audit ok" in log, r.describe()


def screen_log():
    # screen=log puts the guest's VGA text screen in umbra's log when the VM ends; without it
    # nothing of the screen is printed.
    elf = fixtures.build("vga", asm="vga.asm")
    r = in_umbra([elf + " vm=v mem=4M screen=log", elf + " vm=w mem=4M"])
    log = r.text("com2")
    assert "vm v screen  0: umbra screen test: row 0" in log, r.describe()
    assert "vm v screen  2:   and row 2, indented" in log, r.describe()
    assert "vm v screen  1" not in log and "vm w screen" not in log, r.describe()
    assert "audit ok" in log, r.describe()


def watchdog():
    # A guest that clears IF and spins for ever, next to the timer fixture: the NMI watchdog
    # takes the CPU back from the spinner every 50 ms, so the timer guest runs to its usual
    # end while the spinner still spins, and stop-after= then ends the spinner and the run.
    spin = fixtures.build("spin", asm="spin.asm", defines=["PRINT"])
    timer = fixtures.build("timer", asm="timer.asm")
    native = qemu(kernel=timer, mem=64)
    r = qemu(kernel=UMBRA_ELF, append=UMBRA + " watchdog=50ms", mem=512, timeout=60,
             initrd=",".join([spin + " vm=spin mem=8M stop-after=5s", timer + " vm=timer mem=8M"]))
    out, log = r.text(), r.text("com2")
    assert "spin: spin: interrupts off, spinning\n" in out, r.describe()
    assert "timer: " + native.text() in out, "native: %r\n%s" % (native.text(), r.describe())
    assert "watchdog: 50 ms, an NMI per tick" in log, r.describe()
    ended, stopped = log.find("vm timer ended with status 0"), log.find("vm spin: stop-after=5000 ms is up")
    assert 0 <= ended < stopped, "the timer guest must end while the spinner still spins\n" + r.describe()
    m = re.search(r"vm spin: NMIs: (\d+) in the guest, \d+ in the monitor, \d+ in the switch \(\d+ on its own segment\); "
                  r"the watchdog took the CPU back (\d+) times", log)
    assert m and int(m.group(1)) >= 1000 and int(m.group(2)) >= 20, r.describe()
    assert "the watchdog took the CPU back 0 times" in log.split("vm timer: NMIs:")[1].split("\n")[0], r.describe()
    assert r.exit_status == 0x7e, r.describe()        # the spinner ended last, stopped
    assert "audit ok" in log, r.describe()


def watchdog_off():
    # The same spinner with watchdog=off keeps the CPU: stop-after= never gets to act.
    spin = fixtures.build("spin", asm="spin.asm", defines=["PRINT"])
    r = qemu(kernel=UMBRA_ELF, append=UMBRA + " watchdog=off", mem=512, timeout=8,
             initrd=spin + " vm=spin mem=8M stop-after=1s")
    assert r.timed_out, r.describe()
    assert "watchdog: off" in r.text("com2") and "stop-after" not in r.text("com2"), r.describe()


def watchdog_settings():
    # Malformed times are refused with the cause: umbra keeps its default, the VM does not start.
    good = fixtures.build("hello0", defines=["EXIT_STATUS=0"])
    r = qemu(kernel=UMBRA_ELF, append=UMBRA + " watchdog=soon", mem=512,
             initrd=",".join([good + " vm=a mem=4M stop-after=5", good + " vm=b mem=4M stop-after=1h",
                              good + " vm=c mem=4M stop-after=2s"]))
    log = r.text("com2")
    assert "watchdog=soon: expected a time from 1ms to 60s, or off; keeping 50 ms" in log, r.describe()
    assert "stop-after=5: expected a time such as 5s or 500ms" in log, r.describe()
    assert "stop-after=1h: expected a time such as 5s or 500ms" in log, r.describe()
    assert "vm c ended with status 0" in log and r.exit_status == 0, r.describe()


def watchdog_no_ioapic():
    # QEMU's ISA PC has no I/O APIC: umbra says so and runs its guests without the watchdog.
    good = fixtures.build("hello0", defines=["EXIT_STATUS=0"])
    r = qemu(kernel=UMBRA_ELF, append=UMBRA, mem=512, extra=["-machine", "isapc"], initrd=good + " vm=g mem=8M")
    log = r.text("com2")
    assert "watchdog: no I/O APIC at fec00000" in log and "running without the NMI watchdog" in log, r.describe()
    assert r.com1 == b"hello from a guest\n" and r.exit_status == 0, r.describe()


def nmi_storm():
    # NMIs at 20 kHz (testtick=) strike the world switch at many different instructions: guest
    # test kernels that switch worlds thousands of times must still print exactly what they
    # print natively, and NMIs must have landed in the switch, the monitor and the guest.
    import t_guests
    seen = {"guest": 0, "monitor": 0, "switch": 0, "segment": 0}
    for name in ("io", "iflags", "ptwrite", "rings"):
        n = t_guests.native(name)
        assert n.exit_status == 0, n.describe()
        r = qemu(kernel=UMBRA_ELF, append=UMBRA + " testtick=20000", mem=512, timeout=90,
                 initrd="%s vm=%s mem=64M -- %s" % (t_guests.elf(name), name, t_guests.ARGS))
        assert r.com1 == n.com1 and r.exit_status == n.exit_status, "%s differs from native\n%s" % (name, r.describe())
        log = r.text("com2")
        m = re.search(r"NMIs: (\d+) in the guest, (\d+) in the monitor, (\d+) in the switch \((\d+) on its own segment\)", log)
        assert m, r.describe()
        for k, v in zip(("guest", "monitor", "switch", "segment"), m.groups()):
            seen[k] += int(v)
    # The monitor moving itself reloads its tables and refills the switch's: under the storm too.
    reloc = fixtures.build("reloc", asm="reloc.asm")
    n = qemu(kernel=reloc, mem=64)
    r = qemu(kernel=UMBRA_ELF, append=UMBRA + " testtick=20000", mem=512, timeout=60,
             initrd=reloc + " vm=x mem=64M")
    assert r.com1 == n.com1 and r.exit_status == 0 and "monitor moved to" in r.text("com2"), r.describe()
    assert seen["switch"] >= 100 and seen["monitor"] >= 100 and seen["guest"] >= 10 and seen["segment"] >= 1, seen


def cases():
    return [("same_as_native_0", same_as_native(0)), ("same_as_native_5", same_as_native(5)),
            ("bad_modules", bad_modules), ("bad_disks", bad_disks),
            ("keyboard_reset", keyboard_reset), ("port92_reset", port92_reset), ("two_vms", two_vms), ("guest_words", guest_words),
            ("triple_fault", triple_fault), ("paging", paging("")), ("pool_refills", pool_refills),
            ("pool_refills_shadow", pool_refills_shadow),
            ("timer", fixture_same_as_native("timer", "timer.asm")), ("relocation", relocation), ("relocation_window", relocation_window),
            ("memory_holes", memory_holes), ("mmio_unsupported", mmio_unsupported), ("screen_log", screen_log), ("popf_hlt", popf_hlt), ("scan_off_leaks", scan_off_leaks), ("bad_cr3", bad_cr3),
            ("watchdog", watchdog), ("watchdog_off", watchdog_off), ("watchdog_settings", watchdog_settings),
            ("watchdog_no_ioapic", watchdog_no_ioapic), ("nmi_storm", nmi_storm)]
