"""Run QEMU (or Bochs later) on a kernel or ISO, bounded by a timeout, capturing COM1 and COM2."""
import os
import subprocess
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build")
UMBRA_ELF = os.path.join(BUILD, "umbra.elf")
UMBRA_ISO = os.path.join(BUILD, "umbra.iso")


class Run:
    """What one QEMU run produced: exit code, COM1 and COM2 bytes, whether it timed out."""

    def __init__(self, code, com1, com2, timed_out, argv):
        self.code = code
        self.com1 = com1
        self.com2 = com2
        self.timed_out = timed_out
        self.argv = argv

    @property
    def exit_status(self):
        """The value the guest wrote to isa-debug-exit, or None if QEMU did not exit that way."""
        if self.timed_out or self.code is None or self.code % 2 == 0:
            return None
        return self.code >> 1

    def text(self, which="com1"):
        return getattr(self, which).decode("latin-1")

    def describe(self):
        tail1 = self.text("com1")[-1500:]
        tail2 = self.text("com2")[-1500:]
        return ("exit code %s%s\n--- COM1 (tail) ---\n%s\n--- COM2 (tail) ---\n%s"
                % (self.code, " (timed out)" if self.timed_out else "", tail1, tail2))


def _converse(argv, prompt, data, timeout, until=None):
    """Run QEMU with COM1 on stdio: type data after the prompt (if any); stop early once COM1
    shows `until`. Returns (exit code, or None on timeout or early stop, output)."""
    import select
    import time
    deadline = time.time() + timeout
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out, sent = b"", False
    while True:
        left = deadline - time.time()
        if left <= 0:
            p.kill()
            p.wait()
            return None, out
        r, _, _ = select.select([p.stdout], [], [], min(left, 0.5))
        if r:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            out += chunk
        if not sent and prompt is not None and prompt in out:
            p.stdin.write(data)
            p.stdin.flush()
            sent = True
        if until is not None and until in out:
            # let the rest of the line arrive, then stop the machine
            time.sleep(0.2)
            r, _, _ = select.select([p.stdout], [], [], 0.5)
            if r:
                out += os.read(p.stdout.fileno(), 65536)
            p.kill()
            p.wait()
            return None, out
    return p.wait(), out


def qemu(kernel=None, append=None, initrd=None, iso=None, mem=512, timeout=30, cpu="max",
         extra=(), com1_input=None, until=None, com2=True):
    """Boot `kernel` (Multiboot ELF, with -append/-initrd) or `iso`; return a Run.
    com1_input: (prompt, bytes): the bytes are typed on COM1 once COM1 has shown the prompt
    (COM1 then runs on QEMU's stdio). until: stop QEMU once COM1 shows these bytes.
    com2: give the machine a second serial port (captured to a file)."""
    with tempfile.TemporaryDirectory(prefix="umbra-qemu-") as tmp:
        c1 = os.path.join(tmp, "com1")
        c2 = os.path.join(tmp, "com2")
        argv = ["qemu-system-i386", "-accel", "tcg", "-cpu", cpu, "-m", str(mem),
                "-display", "none", "-nodefaults", "-no-reboot",
                "-serial", "stdio" if (com1_input is not None or until) else "file:" + c1,
                *(["-serial", "file:" + c2] if com2 else []),
                "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
        if kernel:
            argv += ["-kernel", kernel]
            if append is not None:
                argv += ["-append", append]
            if initrd:
                argv += ["-initrd", initrd]
        if iso:
            argv += ["-cdrom", iso, "-boot", "d"]
        argv += list(extra)
        timed_out = False
        try:
            if com1_input is not None or until:
                prompt, data = com1_input if com1_input else (None, b"")
                code, out = _converse(argv, prompt, data, timeout, until)
                timed_out = code is None
                with open(c1, "wb") as f:
                    f.write(out)
            else:
                p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, timeout=timeout)
                code = p.returncode
        except subprocess.TimeoutExpired:
            code, timed_out = None, True
        com1 = open(c1, "rb").read() if os.path.exists(c1) else b""
        com2 = open(c2, "rb").read() if os.path.exists(c2) else b""
        return Run(code, com1, com2, timed_out, argv)


def require_same(native, umbra, by_code=False):
    """Raise AssertionError unless umbra's run printed native's COM1 bytes and ended the same
    way (exit status, or with by_code QEMU's exit code itself); the message shows the lines that
    differ, then umbra's output."""
    nv, uv = (native.code, umbra.code) if by_code else (native.exit_status, umbra.exit_status)
    if umbra.com1 == native.com1 and uv == nv:
        return
    nl, ul = native.text().splitlines(), umbra.text().splitlines()
    diff = [l for l in ul if l not in nl][:8] + ["-- missing: " + l for l in nl if l not in ul][:8]
    raise AssertionError("umbra differs from native (exit %s %s vs %s):\n%s\n%s"
                         % ("code" if by_code else "status", uv, nv, "\n".join(diff), umbra.describe()))
