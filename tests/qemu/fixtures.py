"""Small guest images for the VM tests, built from tests/fixtures/*.asm into build/fixtures/."""
import os
import subprocess
import threading

from qemu import ROOT, BUILD

OUT = os.path.join(BUILD, "fixtures")
SRC = os.path.join(ROOT, "tests", "fixtures")


def _ld():
    for ld in ("i686-linux-gnu-ld", "ld"):
        if subprocess.run(["which", ld], capture_output=True).returncode == 0:
            return [ld] if ld != "ld" else ["ld", "-m", "elf_i386"]
    raise RuntimeError("no linker")


def build(name, asm="hello.asm", defines=(), base=0x100000, elf64=False):
    """Assemble and link a fixture; returns the path of the ELF. Several test jobs may build
    the same fixture at once (vm/paging and the pool tests): each works on files of its own and
    moves the ELF into place in one step, so no run ever sees a half-written one."""
    os.makedirs(OUT, exist_ok=True)
    own = ".%d-%d" % (os.getpid(), threading.get_ident())
    obj = os.path.join(OUT, name + own + ".o")
    elf = os.path.join(OUT, name + ".elf")
    fmt = "elf64" if elf64 else "elf32"
    subprocess.run(["nasm", "-f", fmt, "-I", SRC + "/", *["-D" + d for d in defines], "-o", obj, os.path.join(SRC, asm)],
                   check=True)
    ld = ["ld"] if elf64 else _ld()
    subprocess.run([*ld, "-Ttext=0x%x" % base, "-o", elf + own, obj], check=True, capture_output=True)
    os.remove(obj)
    os.replace(elf + own, elf)
    return elf


def text_file(name, content):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        f.write(content)
    return path
