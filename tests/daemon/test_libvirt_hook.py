#!/usr/bin/env python3
"""vmbufctl libvirt-hook against the real vmbufd, called the way libvirtd calls a QEMU
hook (DOMAIN OPERATION SUBOPERATION -, the domain XML on standard input), for what a
real libvirtd cannot easily be made to send: every refusal the hook documents
(docs/libvirt.md, section 7) and the calls it must leave alone. The happy path with a
real libvirtd is tests/libvirt/libvirt_test.py hook@ivshmem.

Usage: test_libvirt_hook.py VMBUFD VMBUFCTL. Prints TAP and "N passed, N failed".
"""

import json
import os
import subprocess
import sys
import tempfile

import daemonkit

n = failed = 0
NS = "urn:vmbuf:libvirt:1"


def check(ok, what):
    global n, failed
    n += 1
    failed += not ok
    print("%s %d - %s" % ("ok" if ok else "not ok", n, what))


def domain(element, name="dom1"):
    return ("<domain type='qemu'><name>%s</name><metadata>%s</metadata>"
            "<memory unit='MiB'>64</memory></domain>" % (name, element))


def vm(attrs="", pools=("p",), extra=""):
    inner = "".join("<vmbuf:pool name='%s'/>" % p for p in pools) + extra
    return "<vmbuf:vm xmlns:vmbuf='%s' %s>%s</vmbuf:vm>" % (NS, attrs, inner)


def main():
    vmbufd, vmbufctl = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="vmbuf-hook-")
    conf, run = daemonkit.write_config(tmp, "[vm fixed]\nquota = 2M\n\n[pool p]\nsize = 8M\n"
                                       "members = fixed\n")
    log = open(os.path.join(tmp, "vmbufd.log"), "wb")
    d = daemonkit.start(vmbufd, conf, run, log, ["-v"])

    def hook(xml, op="prepare", sub="begin", dom="dom1", config=conf):
        r = subprocess.run([vmbufctl, "libvirt-hook", "-c", config, dom, op, sub, "-"],
                           input=xml, capture_output=True, text=True)
        return r.returncode, r.stdout, r.stderr

    def vms():
        r = subprocess.run([vmbufctl, "-s", run, "status", "--json"], capture_output=True, text=True)
        return {v["name"]: v for v in json.loads(r.stdout)["vms"]}

    dropins = os.path.join(tmp, "state", "vmbufd.conf.d")

    # Left alone: no element, other calls, a release of what is not there.
    rc, out, err = hook(domain(""))
    check(rc == 0 and not out and not err and sorted(vms()) == ["fixed"],
          "a domain without <vmbuf:vm>: exit 0, nothing said, nothing added")
    rc, out, err = hook(domain(vm("name='x'")), op="started")
    check(rc == 0 and not err and "x" not in vms(), "'started begin' is not ours: nothing added")
    rc, out, err = hook(domain(vm("name='x'")), op="migrate")
    check(rc == 0 and not out, "'migrate begin' prints no XML (libvirt would take it as the "
          "new domain)")
    rc, out, err = hook(domain(vm("name='x'")), op="release", sub="end")
    check(rc == 0 and not err, "release of a VM that is not there: exit 0, quietly (%r)" % err)

    # Set at prepare, again at reconnect, removed at release.
    rc, out, err = hook(domain(vm("quota='4M' max-buffers='16'")))
    v = vms().get("dom1")
    check(rc == 0 and v and v["quota"] == 4 << 20 and not err,
          "prepare: VM named after the domain, quota 4M (%r)" % err)
    text = open(os.path.join(dropins, "vm-dom1.conf")).read()
    check(text.startswith("# Set by libvirt's hook for domain 'dom1'") and "pools = p" in text
          and "max-buffers = 16" in text, "its drop-in says who set it and holds the element")
    check(os.path.exists(os.path.join(run, "dom1", "pool-p.sock")), "its sockets exist")
    rc, out, err = hook(domain(vm("quota='4M' max-buffers='16'")), op="reconnect")
    check(rc == 0 and "dom1" in vms(), "reconnect begin: the same section again, exit 0")
    rc, out, err = hook(domain(vm("quota='4M'")), op="release", sub="end")
    check(rc == 0 and "dom1" not in vms() and not os.path.exists(os.path.join(dropins, "vm-dom1.conf"))
          and not os.path.exists(os.path.join(run, "dom1")),
          "release end: VM, drop-in and sockets gone")

    # Refusals at prepare: exit 1, the message names the cause; nothing added.
    cases = [
        (vm("colour='red'"), "unknown attribute 'colour'", "an unknown attribute"),
        (vm("", extra="<vmbuf:disk/>"), "unknown element <disk>", "an unknown element"),
        (vm("quota='1M&#10;[pool evil]'"), "is not a value", "a value with a line break"),
        (vm("quota='1M # x'"), "is not a value", "a value with '#'"),
        (vm("", pools=("nope",)), "names unknown pool 'nope'", "an unknown pool (the daemon's "
         "parser says so)"),
        (vm("quota='lots'"), "quota must be a size", "a bad size (the daemon's parser)"),
        (vm("", pools=("a b",)), "without spaces or commas", "a pool name with a space"),
        (vm("name='has space'"), "not a vm name", "a VM name with a space"),
        (vm("") + vm(""), "two <vmbuf:vm> elements", "two elements"),
    ]
    for element, want, what in cases:
        rc, out, err = hook(domain(element))
        check(rc == 1 and want in err and set(vms()) == {"fixed"},
              "refused: %s (%s)" % (what, err.strip()))
    rc, out, err = hook("<domain><name>x</name><metadata>")
    check(rc == 1 and "does not parse" in err, "XML that does not parse: refused")
    rc, out, err = hook("<!DOCTYPE d [<!ENTITY e SYSTEM 'file:///etc/shadow'>]><domain>"
                        "<metadata>%s</metadata></domain>" % vm("quota='&e;'"))
    check(rc == 1 and "shadow" not in err and set(vms()) == {"fixed"},
          "an external entity is not read (%s)" % err.strip())
    rc, out, err = hook("<domainsnapshot/>")
    check(rc == 1 and "not a <domain>" in err, "another root element: refused")

    # A VM vmbufd.conf defines: the operator's section stands, the domain starts.
    rc, out, err = hook(domain(vm("name='fixed' quota='7M'")))
    check(rc == 0 and "configured by hand" in err and vms()["fixed"]["quota"] == 2 << 20,
          "a VM of vmbufd.conf: exit 0, noted, its quota stays 2M (%s)" % err.strip())
    rc, out, err = hook(domain(vm("name='fixed'")), op="release", sub="end")
    check(rc == 0 and "fixed" in vms(), "and its release does not remove it")

    # The daemon is not there: prepare fails, release does not.
    missing = os.path.join(tmp, "elsewhere.conf")
    with open(missing, "w") as f:
        f.write("[vmbufd]\nsocket-dir = %s/none\nstate-dir = %s/state2\n" % (tmp, tmp))
    rc, out, err = hook(domain(vm("")), config=missing)
    check(rc == 1 and "cannot reach vmbufd" in err, "prepare with no daemon: refused (%s)" % err.strip())
    rc, out, err = hook(domain(vm("")), op="release", sub="end", config=missing)
    check(rc == 0 and "not removed" in err, "release with no daemon: exit 0, noted")

    d.terminate()
    d.wait(timeout=20)
    check(d.returncode == 0, "the daemon stops cleanly")
    print("1..%d" % n)
    print("%d passed, %d failed" % (n - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
