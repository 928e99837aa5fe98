"""Foreign guests (tests/foreign/NAME/): kernels written apart from the guest library and from
umbra, in styles of their own, run with exactly the commands of the issue's check: natively
`qemu-system-i386 ... -m 512 -kernel NAME.elf` (no -append) and inside umbra with
`-kernel umbra.elf -append 'log=com2 onexit=qemu' -initrd 'NAME.elf vm=t mem=64M'`. The native
run must pass (exit status 0, or what tests/foreign/NAME/status says: a number, or `reset` for
a guest that resets the machine); umbra must print the same COM1 bytes and exit with the same
code."""
import glob
import os

from qemu import qemu, require_same, BUILD, UMBRA_ELF, ROOT


def names():
    return sorted(os.path.basename(os.path.dirname(p))
                  for p in glob.glob(os.path.join(ROOT, "tests", "foreign", "*", "")))


def expected_status(name):
    """The status the guest ends with natively: a number, or None when it resets the machine
    (QEMU with -no-reboot then exits with code 0), as tests/foreign/NAME/status says."""
    p = os.path.join(ROOT, "tests", "foreign", name, "status")
    if not os.path.exists(p):
        return 0
    word = open(p).read().split()[0]
    return None if word == "reset" else int(word, 0)


def compare(name):
    def case():
        elf = os.path.join(BUILD, "foreign", name + ".elf")
        assert os.path.exists(elf), "%s was not built" % elf
        n = qemu(kernel=elf, mem=512, timeout=60)
        # QEMU's own failure (exit code 1) reads as status 0: a guest that ran says something.
        assert n.com1, "no output natively:\n" + n.describe()
        want = expected_status(name)
        assert n.exit_status == want and (want is not None or n.code == 0), "fails natively (status %s, want %s):\n%s" % (
            n.exit_status, want, n.describe())
        u = qemu(kernel=UMBRA_ELF, append="log=com2 onexit=qemu", initrd="%s vm=t mem=64M" % elf,
                 mem=512, timeout=90)
        require_same(n, u, by_code=True)
        assert "audit ok" in u.text("com2"), u.describe()
    return case


def cases():
    return [(n, compare(n)) for n in names()]
