"""Guest test kernels (tests/guests/*.c), each run natively under QEMU and inside umbra:
the guest checks itself and must pass natively; umbra must give byte-identical COM1 and
the same exit status. That comparison is umbra's strongest oracle."""
import glob
import os

from qemu import qemu, require_same, BUILD, UMBRA_ELF, ROOT

# Words passed to every guest's command line (after the kernel path).
ARGS = "alpha beta=2"
# Bytes typed on COM1 for the guests that read it.
INPUT = {"echo": (b"type a line\n", b"hello, umbra\n")}


def guest_list():
    return sorted(os.path.splitext(os.path.basename(p))[0]
                  for p in glob.glob(os.path.join(ROOT, "tests", "guests", "*.c"))
                  if not os.path.basename(p).startswith(("demo.", "bench")))


def elf(name):
    return os.path.join(BUILD, "guests", name + ".elf")


def modules(name):
    """The boot modules a guest gets: (path, words) pairs. mbinfo gets two."""
    if name != "mbinfo":
        return []
    d = os.path.join(BUILD, "fixtures")
    os.makedirs(d, exist_ok=True)
    out = []
    for i, text in enumerate(["first guest module\n", "second one, with more bytes in it\n"]):
        path = os.path.join(d, "mbmod%d.txt" % i)
        with open(path, "w") as f:
            f.write(text)
        out.append((path, "modarg=%d" % i))
    return out


# Guests with an IDE disk: the number of 512-byte sectors of their image.
DISKS = {"ide": 256}


def disk_byte(n, i):
    """Byte i of sector n of a test disk (tests/guests/ide.c computes the same)."""
    if i < 4:
        return (n >> (8 * i)) & 0xff
    return (n * 31 + i * 7 + (i >> 8)) & 0xff


def disk(name):
    """A fresh disk image for the guest (QEMU writes to it), or None. No commas or spaces in
    the path: it appears in an -initrd list and as a module's first word."""
    if name not in DISKS:
        return None
    d = os.path.join(BUILD, "fixtures")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "%s-disk.img" % name)
    with open(path, "wb") as f:
        f.write(bytes(disk_byte(n, i) for n in range(DISKS[name]) for i in range(512)))
    return path


def native(name):
    mods = ",".join("%s %s" % m for m in modules(name))
    img = disk(name)
    extra = ["-drive", "file=%s,format=raw,if=ide,index=0" % img] if img else []
    return qemu(kernel=elf(name), append=ARGS, initrd=mods or None, mem=64, timeout=30,
                com1_input=INPUT.get(name), extra=extra)


# Extra guest settings for every run inside umbra, e.g. UMBRA_GUEST_SETTINGS='pt.write=singlestep'
# to run the whole suite under another shadow-paging setting.
EXTRA = os.environ.get("UMBRA_GUEST_SETTINGS", "")


def in_umbra(name):
    mods = "".join(",%s for=%s %s" % (p, name, w) for p, w in modules(name))
    img = disk(name)
    setting = " disk=%s" % img if img else ""
    mods += ",%s" % img if img else ""
    return qemu(kernel=UMBRA_ELF, append="log=com2 onexit=qemu",
                initrd="%s vm=%s mem=64M%s %s -- %s%s" % (elf(name), name, setting, EXTRA, ARGS, mods), mem=512,
                timeout=60, com1_input=INPUT.get(name))


def compare(name):
    def case():
        n = native(name)
        # A guest that ran ends with its summary line (QEMU's own failure also reads as status 0).
        assert n.exit_status == 0 and b"not ok" not in n.com1 and b" passed" in n.com1, \
            "fails natively:\n" + n.describe()
        u = in_umbra(name)
        require_same(n, u)
        assert "audit ok" in u.text("com2"), u.describe()
    return case


def cases():
    return [(g, compare(g)) for g in guest_list()]
