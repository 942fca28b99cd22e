"""What the Python daemon tests share: a vmbufd.conf in a temporary directory and the
real vmbufd started on it."""

import os
import subprocess
import time


def write_config(tmp, body, daemon_keys=""):
    """TMP/vmbufd.conf: [vmbufd] with socket-dir TMP/run, state-dir TMP/state and
    @daemon_keys, then @body. Returns (config path, socket dir)."""
    run = os.path.join(tmp, "run")
    conf = os.path.join(tmp, "vmbufd.conf")
    with open(conf, "w") as f:
        f.write("[vmbufd]\nsocket-dir = %s\nstate-dir = %s/state\n%s\n%s" %
                (run, tmp, daemon_keys, body))
    return conf, run


def start(vmbufd, conf, run, log, args=(), timeout=20):
    """vmbufd -c @conf, its output to @log; returns it once host.sock exists."""
    d = subprocess.Popen([vmbufd, "-c", conf] + list(args), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + timeout
    while not os.path.exists(os.path.join(run, "host.sock")):
        if time.time() > deadline or d.poll() is not None:
            d.kill()
            raise RuntimeError("vmbufd did not start")
        time.sleep(0.05)
    return d
