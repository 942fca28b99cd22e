#!/usr/bin/env python3
"""libvirt end to end, through a real libvirtd (domain type qemu, direct kernel boot):

share_fence: two domains defined from XML made by 'vmbufctl libvirt-xml', validated with
    virt-xml-validate, share a buffer and a timeline through vmbufd.
hook: the QEMU hook that 'meson install' puts in /etc/libvirt/hooks/qemu.d registers
    domains whose <metadata> holds a <vmbuf:vm> element (the VMs are in no vmbufd.conf),
    they share a buffer, and destroying one removes its VM from vmbufd and frees what
    only it held; a domain whose metadata names an unknown pool does not start.

Usage: libvirt_test.py SCENARIO@TRANSPORT --build-dir DIR (TRANSPORT: ivshmem, vhost-user)

The test runs in a mount namespace of its own: /etc, /usr and libvirt's state directories
are overlays on a tmpfs, /run/libvirt a tmpfs. The build is 'meson install'ed into them
(the hook with it) and a private virtlogd and libvirtd are started there; nothing of this
reaches the machine's own files, and a libvirtd the machine runs is not disturbed.
Prints PASS or FAIL.
"""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time

import vmkit

MiB = 1 << 20
OVERLAID = ("/etc", "/usr", "/var/lib/libvirt", "/var/log/libvirt", "/var/cache/libvirt")


def build_dir():
    return sys.argv[sys.argv.index("--build-dir") + 1]


def mount(*args):
    subprocess.run(["mount"] + list(args), check=True)


def wait_path(path, what, timeout=30):
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > deadline:
            raise RuntimeError("%s did not start (no %s)" % (what, path))
        time.sleep(0.1)


@contextlib.contextmanager
def private_libvirt():
    """The build installed into overlays of this namespace; our own virtlogd and libvirtd."""
    root = tempfile.mkdtemp(prefix="vmbuf-libvirt-root-")
    mount("-t", "tmpfs", "tmpfs", root)
    for i, d in enumerate(OVERLAID):
        os.makedirs(d, exist_ok=True)
        up, work = os.path.join(root, "up%d" % i), os.path.join(root, "work%d" % i)
        os.makedirs(up)
        os.makedirs(work)
        mount("-t", "overlay", "overlay", "-o",
              "lowerdir=%s,upperdir=%s,workdir=%s" % (d, up, work), d)
    os.makedirs("/run/libvirt", exist_ok=True)	# libvirtd makes it too; ours is a tmpfs on it
    mount("-t", "tmpfs", "-o", "mode=755", "tmpfs", "/run/libvirt")
    r = subprocess.run(["meson", "install", "-C", build_dir(), "--no-rebuild", "--quiet"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("meson install: " + r.stdout + r.stderr)
    hook = "/etc/libvirt/hooks/qemu.d/vmbuf"
    assert os.access(hook, os.X_OK), "meson install did not install the hook " + hook
    pids = []
    try:
        for daemon, sock in (("virtlogd", "/run/libvirt/virtlogd-sock"),
                             ("libvirtd", "/run/libvirt/libvirt-sock")):
            pidfile = os.path.join(root, daemon + ".pid")
            subprocess.run([daemon, "-d", "-p", pidfile], check=True)
            wait_path(sock, daemon)
            wait_path(pidfile, daemon)
            pids.append(int(open(pidfile).read()))
        yield
    finally:
        # A domain a failed scenario left running: its QEMU must not outlive our libvirtd.
        if len(pids) == 2:
            r = subprocess.run(["virsh", "-c", "qemu:///system", "list", "--name"],
                               capture_output=True, text=True)
            for dom in r.stdout.split():
                subprocess.run(["virsh", "-c", "qemu:///system", "destroy", dom],
                               capture_output=True)
        for pid in reversed(pids):
            os.kill(pid, signal.SIGTERM)
            deadline = time.time() + 20
            while time.time() < deadline and os.path.exists("/proc/%d" % pid):
                time.sleep(0.1)


def scenario_share_fence(t):
    with t.kit("libvirt", {"a": {}, "b": {}}, {"p": ("8M", ["a", "b"])}, libvirt=True) as kit:
        a, b = kit.boot("a", "b")
        for vm in (a, b):
            state = vmkit.virsh("domstate", vm.domain).strip()
            assert state == "running", state
            xml = vmkit.virsh("dumpxml", vm.domain)
            if t.transport == "ivshmem":
                assert xml.count("ivshmem-doorbell") == 2, "libvirt lost a <shmem> device"
            else:
                assert "vhost-user-test-device-pci" in xml and "memfd" in xml, \
                    "libvirt lost the vhost-user device or the shared memfd"
                assert "custom-argv" in vm.read_file("qemu.log"), \
                    "libvirt did not mark the domain tainted (custom-argv)"
        # Share: A fills and exports to B, who may signal too.
        out = a.hold("7", "vmbuf export -p p -s 1M -f seq:4 -n frame -t b -S")
        h = vmkit.handle_in(out)
        out = b.hold("7", "vmbuf import -n frame -c seq:4")
        assert "check seq:4 ok" in out, out
        b.run("echo 'fill seq:6' >&7")
        b.wait_file("/tmp/o7", "filled seq:6")
        a.run("echo 'check seq:6' >&7")
        a.wait_file("/tmp/o7", "check seq:6 ok")
        # Fence both ways.
        b.spawn("vmbuf wait %s 1 -t 20000 > /tmp/w1 2>&1" % h)
        a.run("vmbuf signal %s 1" % h)
        b.wait_file("/tmp/w1", "reached 1")
        a.spawn("vmbuf wait %s 2 -t 20000 > /tmp/w2 2>&1" % h)
        b.run("vmbuf signal %s 2" % h)
        a.wait_file("/tmp/w2", "reached 2")
        assert kit.pool_status("p")["used"] == MiB
        for vm in (a, b):
            vm.release("7")
        kit.wait_used("p", 0)
        # Destroy and undefine through libvirt; the daemon notices both QEMUs leave.
        for vm in (a, b):
            vm.stop()
            r = subprocess.run(["virsh", "-c", "qemu:///system", "domstate", vm.domain],
                               capture_output=True)
            assert r.returncode != 0, "domain %s still defined" % vm.domain
        deadline = time.time() + 10
        while any(v["connected"] for v in kit.status()["vms"]):
            assert time.time() < deadline, "vmbufd still sees a connected VM"
            time.sleep(0.1)
        assert kit.pool_status("p")["used"] == 0


def scenario_hook(t):
    with t.kit("libvirt-hook", {"a": {"quota": "4M"}, "b": {}}, {"p": ("8M", ["a", "b"])},
               libvirt="hook") as kit:
        assert kit.status()["vms"] == [], "VMs before any domain started"
        # A domain whose metadata names a pool vmbufd does not have: not started.
        bad = os.path.join(kit.tmp, "bad.xml")
        with open(bad, "w") as f:
            f.write("<domain type='qemu'><name>vmbuf-bad-%d</name><metadata>"
                    "<vmbuf:vm xmlns:vmbuf='urn:vmbuf:libvirt:1' name='c'>"
                    "<vmbuf:pool name='nope'/></vmbuf:vm></metadata>"
                    "<memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os>"
                    "<devices><emulator>%s</emulator></devices></domain>"
                    % (os.getpid(), kit.transport.libvirt_emulator(kit)))
        vmkit.virsh("define", bad)
        r = subprocess.run(["virsh", "-c", "qemu:///system", "start", "vmbuf-bad-%d" % os.getpid()],
                           capture_output=True, text=True)
        if r.returncode == 0:
            vmkit.virsh("destroy", "vmbuf-bad-%d" % os.getpid())
        vmkit.virsh("undefine", "vmbuf-bad-%d" % os.getpid())
        assert r.returncode != 0 and "names unknown pool 'nope'" in r.stderr, \
            "a domain with a bad vmbuf element started, or libvirt hid why: " + r.stderr
        assert kit.status()["vms"] == [], "the refused domain left a VM behind"

        a, b = kit.boot("a", "b")
        vms = {v["name"]: v for v in kit.status()["vms"]}
        assert sorted(vms) == ["a", "b"] and vms["a"]["connected"] and vms["b"]["connected"], vms
        assert vms["a"]["quota"] == 4 * MiB, vms["a"]
        assert "urn:vmbuf:libvirt:1" in vmkit.virsh("dumpxml", a.domain), \
            "libvirt dropped the vmbuf metadata"
        # A shares a buffer with B and holds one of its own.
        out = a.hold("7", "vmbuf export -p p -s 1M -f seq:9 -n frame -t b")
        out = b.hold("7", "vmbuf import -n frame -c seq:9")
        assert "check seq:9 ok" in out, out
        a.hold("8", "vmbuf alloc -p p -s 2M -f 0x5a")
        kit.wait_used("p", 3 * MiB)
        # Destroy A: the hook removes it, its own buffer is freed, B's import lives on.
        a.stop()
        deadline = time.time() + 20
        while [v for v in kit.status()["vms"] if v["name"] == "a"]:
            assert time.time() < deadline, "vm a still in vmbufctl status after its release"
            time.sleep(0.1)
        assert not os.path.exists(os.path.join(kit.sockdir, "a")), "a's sockets are still there"
        kit.wait_used("p", MiB)
        b.tell("7", "check seq:9", "check seq:9 ok")
        b.release("7")
        kit.wait_used("p", 0)
        b.stop()
        deadline = time.time() + 20
        while kit.status()["vms"]:
            assert time.time() < deadline, "vm b still registered after its release"
            time.sleep(0.1)


if __name__ == "__main__":
    if os.environ.get("VMBUF_PRIVATE_LIBVIRT") != "1":
        os.environ["VMBUF_PRIVATE_LIBVIRT"] = "1"
        os.execvp("unshare", ["unshare", "--mount", "--propagation", "private",
                              sys.executable] + sys.argv)
    sys.exit(vmkit.main(globals(), around=private_libvirt))
