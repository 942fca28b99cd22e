#!/usr/bin/env python3
"""meson install --destdir puts every file where docs/install.md says; libvmbuf
exports only vmbuf_* and links from its pkg-config file; systemd-analyze verify
accepts the unit; dkms builds the installed module sources for the test kernel.

Usage: test_install.py --build-dir DIR  (a build configured with --prefix=/usr,
--sysconfdir=/etc and -Ddkms=true, as tests/run.sh does). TAP output.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

EXPECTED = [
    "usr/sbin/vmbufd",
    "usr/bin/vmbufctl",
    "usr/bin/vmbuf",
    "usr/include/libvmbuf.h",
    "usr/include/vmbuf/linux/vmbuf.h",
    "usr/lib/x86_64-linux-gnu/libvmbuf.so",
    "usr/lib/x86_64-linux-gnu/libvmbuf.so.0",
    "usr/lib/x86_64-linux-gnu/libvmbuf.so.0.1.0",
    "usr/lib/x86_64-linux-gnu/pkgconfig/libvmbuf.pc",
    "usr/lib/systemd/system/vmbufd.service",
    "etc/vmbuf/vmbufd.conf",
    "etc/libvirt/hooks/qemu.d/vmbuf",
    "usr/share/man/man8/vmbufd.8",
    "usr/share/man/man5/vmbufd.conf.5",
    "usr/share/man/man1/vmbufctl.1",
    "usr/share/man/man1/vmbuf.1",
    "usr/share/man/man1/vmbuf-view.1",
    "usr/bin/vmbuf-view",
    "usr/share/man/man1/vmbuf-capture.1",
    "usr/bin/vmbuf-capture",
    "usr/share/man/man1/vmbuf-render.1",
    "usr/bin/vmbuf-render",
    "usr/src/vmbuf-0.1.0/dkms.conf",
    "usr/src/vmbuf-0.1.0/Kbuild",
    "usr/src/vmbuf-0.1.0/Makefile",
    "usr/src/vmbuf-0.1.0/vmbuf_main.c",
    "usr/src/vmbuf-0.1.0/include/uapi/linux/virtio_vmbuf.h",
    "usr/src/vmbuf-0.1.0/include/uapi/linux/vmbuf.h",
    "usr/src/vmbuf-0.1.0/include/uapi/linux/vmbuf_ivshmem.h",
    "usr/src/vmbuf-0.1.0/include/vmbuf/wire.h",
]

n = failed = 0


def check(ok, what, detail=""):
    global n, failed
    n += 1
    if not ok:
        failed += 1
    print("%s %d - %s%s" % ("ok" if ok else "not ok", n, what, (": " + detail) if detail and not ok else ""))


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build-dir", required=True)
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    tmp = tempfile.mkdtemp(prefix="vmbuf-install-")
    dest = os.path.join(tmp, "dest")
    try:
        r = run(["meson", "install", "-C", args.build_dir, "--destdir", dest, "--no-rebuild"])
        check(r.returncode == 0, "meson install --destdir", r.stderr[-2000:])
        for path in EXPECTED:
            check(os.path.exists(os.path.join(dest, path)), "installed /" + path)
        extra = [p for p in glob.glob(os.path.join(dest, "usr/src/vmbuf-0.1.0/**/.*"), recursive=True)]
        check(not extra, "no hidden files in the module sources", " ".join(extra))

        # Only vmbuf_* leaves the library.
        lib = os.path.join(dest, "usr/lib/x86_64-linux-gnu/libvmbuf.so.0.1.0")
        r = run(["nm", "-D", "--defined-only", lib])
        syms = [l.split()[-1] for l in r.stdout.splitlines() if l.split()[-2:-1] == ["T"]]
        check(syms and all(s.startswith("vmbuf_") for s in syms), "libvmbuf exports only vmbuf_*",
              " ".join(syms))

        # A consumer builds against the installed header and library via pkg-config.
        env = dict(os.environ, PKG_CONFIG_SYSROOT_DIR=dest,
                   PKG_CONFIG_LIBDIR=os.path.join(dest, "usr/lib/x86_64-linux-gnu/pkgconfig"))
        flags = run(["pkg-config", "--cflags", "--libs", "libvmbuf"], env=env)
        check(flags.returncode == 0, "pkg-config libvmbuf", flags.stderr)
        prog = os.path.join(tmp, "consumer.c")
        with open(prog, "w") as f:
            # The guest UAPI and the library's header together: one struct vmbuf_meta.
            f.write('#include <linux/vmbuf.h>\n#include <libvmbuf.h>\n#include <stdio.h>\n'
                    'int main(void) { struct vmbuf_meta m = { .width = 64 };\n'
                    '  struct vmbuf_client *c = vmbuf_client_connect("/nonexistent");\n'
                    '  return c == NULL && m.width == 64 && VMBUF_HANDLE_SIZE == 16 ? 0 : 1; }\n')
        # A sanitizer build of the library needs the same runtime in the program.
        san = ["-fsanitize=address,undefined"] if "__asan" in r.stdout + run(
            ["nm", "-D", lib]).stdout else []
        r = run(["cc", "-Wall", "-Werror", prog, "-o", os.path.join(tmp, "consumer")] + san +
                flags.stdout.split())
        check(r.returncode == 0, "a program compiles and links against libvmbuf", r.stderr)
        r = run([os.path.join(tmp, "consumer")],
                env=dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(lib)))
        check(r.returncode == 0, "and runs (connect to a missing daemon fails cleanly)", r.stderr)

        # The unit, with its paths pointed into the destdir so the commands exist.
        unit = os.path.join(tmp, "vmbufd.service")
        with open(os.path.join(dest, "usr/lib/systemd/system/vmbufd.service")) as f:
            text = f.read()
        check("RuntimeDirectory=vmbuf" in text and "KillSignal=SIGTERM" in text,
              "unit has a runtime directory and stops with SIGTERM")
        with open(unit, "w") as f:
            f.write(text.replace("/usr/sbin/vmbufd", os.path.join(dest, "usr/sbin/vmbufd"))
                        .replace("/etc/vmbuf", os.path.join(dest, "etc/vmbuf")))
        r = run(["systemd-analyze", "verify", "--man=no", unit])
        check(r.returncode == 0 and not r.stderr.strip(), "systemd-analyze verify", r.stderr)
        r = run([os.path.join(dest, "usr/sbin/vmbufd"), "--check", "-c",
                 os.path.join(dest, "etc/vmbuf/vmbufd.conf")])
        check(r.returncode == 0, "the example configuration passes vmbufd --check", r.stderr)
        with open(os.path.join(dest, "etc/vmbuf/vmbufd.conf")) as f:
            text = f.read()
        head, _, example = text.partition("An example:")
        example = re.sub(r"(?m)^#(\[|[a-z-]+ = )", r"\1", example)
        conf = os.path.join(tmp, "example.conf")
        with open(conf, "w") as f:
            f.write(head + "\n" + example)
        r = run([os.path.join(dest, "usr/sbin/vmbufd"), "--check", "-c", conf])
        check(r.returncode == 0 and "\n[vm camera]" in example,
              "and so does its commented example, uncommented", r.stderr)

        # The libvirt hook: executable, runs the installed vmbufctl with the installed config.
        hook = os.path.join(dest, "etc/libvirt/hooks/qemu.d/vmbuf")
        with open(hook) as f:
            text = f.read()
        check(os.stat(hook).st_mode & 0o111 and text.startswith("#!/bin/sh") and
              "exec /usr/bin/vmbufctl libvirt-hook -c /etc/vmbuf/vmbufd.conf" in text,
              "the libvirt hook is executable and runs the installed vmbufctl", text)

        # DKMS: build the installed sources for the test kernel, in private trees.
        kver = open(os.path.join(here, "..", "vm", ".kernel-version")).read().strip()
        src = os.path.join(tmp, "dkms-src")
        shutil.copytree(os.path.join(dest, "usr/src"), src)
        os.makedirs(os.path.join(tmp, "dkms-tree"))
        r = run(["dkms", "build", "-m", "vmbuf", "-v", "0.1.0", "-k", kver, "--sourcetree", src,
                 "--dkmstree", os.path.join(tmp, "dkms-tree")])
        kos = glob.glob(os.path.join(tmp, "dkms-tree", "vmbuf", "0.1.0", kver, "*", "module",
                                     "vmbuf.ko*"))
        check(r.returncode == 0 and kos, "dkms build for %s" % kver, (r.stdout + r.stderr)[-2000:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d\n%d passed, %d failed" % (n, n - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
