#!/usr/bin/env python3
"""libvirt end to end: two domains defined from XML made by 'vmbufctl libvirt-xml',
validated with virt-xml-validate, started by a real libvirtd (domain type qemu,
direct kernel boot), sharing a buffer and a timeline through vmbufd.

Usage: libvirt_test.py share_fence@TRANSPORT --build-dir DIR (TRANSPORT: ivshmem, vhost-user)
Starts virtlogd and libvirtd when they are not running (and stops what it started).
Prints PASS or FAIL.
"""

import contextlib
import os
import re
import subprocess
import sys
import time

import vmkit

MiB = 1 << 20


@contextlib.contextmanager
def libvirt_daemons():
    """virtlogd and libvirtd for the duration: started unless already running."""
    started = []
    for daemon, sock in (("virtlogd", "/run/libvirt/virtlogd-sock"),
                         ("libvirtd", "/run/libvirt/libvirt-sock")):
        if os.path.exists(sock) and subprocess.run(["pgrep", "-x", daemon],
                                                   capture_output=True).returncode == 0:
            continue
        subprocess.run([daemon, "-d"], check=True)
        started.append(daemon)
        deadline = time.time() + 20
        while not os.path.exists(sock):
            if time.time() > deadline:
                raise RuntimeError("%s did not start" % daemon)
            time.sleep(0.1)
    try:
        yield
    finally:
        for daemon in reversed(started):
            subprocess.run(["pkill", "-x", daemon])


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


if __name__ == "__main__":
    sys.exit(vmkit.main(globals(), around=libvirt_daemons))
