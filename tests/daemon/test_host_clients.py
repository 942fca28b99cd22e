#!/usr/bin/env python3
"""host.sock against the real vmbufd: a host-group user cannot lock root out (the last
slots are root's), and STATUS of a daemon holding 8192 buffers reaches a client whole
(the answer goes out as fast as the client reads it).

Usage: test_host_clients.py VMBUFD VMBUFCTL. Prints TAP and "N passed, N failed".
"""

import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

import daemonkit

REQ = struct.Struct("<IIQQ32s")        # struct vmbuf_host_req
RESP = struct.Struct("<iIII")          # struct vmbuf_host_resp
OP_STATUS, OP_REQUEST = 1, 3

n = failed = 0


def check(ok, what):
    global n, failed
    n += 1
    failed += not ok
    print("%s %d - %s" % ("ok" if ok else "not ok", n, what))


def connect(sockdir):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(os.path.join(sockdir, "host.sock"))
    s.settimeout(10)
    return s


def status_answered(s):
    """Ask STATUS; True when an answer came (a refused client reads end of stream)."""
    try:
        s.send(REQ.pack(OP_STATUS, 0, 0, 0, b""))
        return len(s.recv(65536 + RESP.size)) > 0
    except OSError:
        return False


def vm_request(s, payload):
    s.send(REQ.pack(OP_REQUEST, 0, 0, len(payload), b"") + payload)
    while True:
        pkt = s.recv(65536 + RESP.size)
        st, flags, length, _ = RESP.unpack_from(pkt)
        if not flags & 2:    # not an event
            return struct.unpack_from("<i", pkt, RESP.size + 4)[0]


def as_nobody(sockdir, count, out):
    """In a child running as nobody:nogroup, open @count clients; write how many answered."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            socks = [connect(sockdir) for _ in range(count)]
            time.sleep(0.3)
            answered = sum(status_answered(s) for s in socks)
            os.write(out, b"%d\n" % answered)
            os.read(out_hold_r, 1)    # keep the connections until told
        finally:
            os._exit(0)
    return pid


def main():
    global out_hold_r
    vmbufd, vmbufctl = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        conf, sockdir = daemonkit.write_config(tmp, "[vm a]\n[pool p]\nsize = 64M\nmembers = a\n",
                                               "host-group = nogroup\n")
        log = open(os.path.join(tmp, "vmbufd.log"), "w")
        d = daemonkit.start(vmbufd, conf, sockdir, log)
        try:
            # 1. A host-group user takes every slot it can: root still gets in.
            r, w = os.pipe()
            out_hold_r, hold_w = os.pipe()
            child = as_nobody(sockdir, 32, w)
            answered = int(os.read(r, 16))
            check(answered == 28, "a host-group user gets 28 of the 32 slots (%d)" % answered)
            roots = [connect(sockdir) for _ in range(4)]
            check(all(status_answered(s) for s in roots), "root still gets the last 4")
            extra = connect(sockdir)
            check(not status_answered(extra), "all 32 taken: the next client is refused")
            extra.close()
            os.write(hold_w, b"x")
            os.waitpid(child, 0)
            for s in roots:
                s.close()

            # 2. STATUS of 8192 buffers (two host clients at their 4096 each): streamed,
            # not dropped when it outgrows the socket's buffer.
            holders = [connect(sockdir), connect(sockdir)]
            hello = struct.pack("<IIQIIQ", 1, 0, 1, 2, 0, 0)
            check(all(vm_request(s, hello) == 0 for s in holders), "two host clients say HELLO")
            ok = 0
            for s in holders:
                for i in range(4096):
                    ok += vm_request(s, struct.pack("<IIQIIQ", 2, 0, i + 2, 1, 0, 4096)) == 0
            check(ok == 8192, "they hold 8192 buffers of 4 KiB (%d)" % ok)
            r = subprocess.run([vmbufctl, "-s", sockdir, "status", "--json"],
                               capture_output=True, text=True)
            bufs = json.loads(r.stdout)["pools"][0]["buffers"] if r.returncode == 0 else []
            check(len(bufs) == 8192, "vmbufctl status --json lists all 8192 (%d bytes; %s)"
                  % (len(r.stdout), r.stderr.strip() or "ok"))
            check(all(status_answered(s) for s in holders), "the holders are still served")
            for s in holders:
                s.close()
            # 3. An export to more VMs than an access list holds is refused, not cut short.
            nine = ",".join("vm%d" % i for i in range(9))
            r = subprocess.run([vmbufctl, "-s", sockdir, "export", "-p", "p", "-s", "4K",
                                "-t", nine], capture_output=True, text=True)
            check(r.returncode == 2 and "at most 8" in r.stderr,
                  "vmbufctl export -t with 9 VMs: usage error (%d, %s)"
                  % (r.returncode, r.stderr.strip()))
            check(d.poll() is None, "vmbufd is still running")
        finally:
            d.terminate()
            d.wait(10)
    print("1..%d\n%d passed, %d failed" % (n, n - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
