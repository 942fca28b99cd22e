#!/usr/bin/env python3
"""test_notify - vmbufd under systemd's Type=notify: with NOTIFY_SOCKET set it sends
READY=1 once every socket listens (host.sock and the VMs' sockets exist when it comes)
and STOPPING=1 when it stops on SIGTERM. The socket is a real datagram socket speaking
sd_notify's protocol, as systemd's is.

Usage: test_notify.py PATH-TO-VMBUFD
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile

import daemonkit


def main():
    vmbufd = sys.argv[1]
    if os.environ.get("VMBUF_HAVE_LIBSYSTEMD") == "0":
        print("1..0 # SKIP vmbufd was built without libsystemd (no sd_notify)")
        return 77
    tmp = tempfile.mkdtemp(prefix="vmbuf-notify-")
    conf, run = daemonkit.write_config(tmp, "[vm a]\n[pool p]\nsize = 2M\nmembers = a\n")
    path = os.path.join(tmp, "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(20)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    d = subprocess.Popen([vmbufd, "-c", conf], env=env, stderr=subprocess.DEVNULL)
    ok = True
    try:
        msg = s.recv(4096).decode()
        ready = "READY=1" in msg.split("\n")
        sockets = all(os.path.exists(os.path.join(run, p))
                      for p in ("host.sock", "a/ctl.sock", "a/vhost-user.sock", "a/pool-p.sock"))
        print("%s - READY=1 once every socket listens (%r)" % ("ok" if ready and sockets else
                                                               "not ok", msg))
        ok &= ready and sockets
        d.send_signal(signal.SIGTERM)
        msg = s.recv(4096).decode()
        stopping = "STOPPING=1" in msg.split("\n")
        print("%s - STOPPING=1 on SIGTERM (%r)" % ("ok" if stopping else "not ok", msg))
        ok &= stopping
        rc = d.wait(timeout=20)
        print("%s - exit status %d" % ("ok" if rc == 0 else "not ok", rc))
        ok &= rc == 0
    finally:
        if d.poll() is None:
            d.kill()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
