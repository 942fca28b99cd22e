#!/usr/bin/env python3
"""vmbufd refuses a bad configuration with exit status 1 and one message naming the
file, the line and the problem (vmbufd --check, as systemd's ExecStartPre runs it).
Usage: test_bad_config.py PATH-TO-VMBUFD. TAP output.
"""

import os
import subprocess
import sys
import tempfile

CASES = [
    ("unknown key", "[vmbufd]\nsocket-dir = /run/x\nfrobnicate = 1\n",
     ":3: unknown key 'frobnicate'"),
    ("pool size not a power of two", "[vm a]\n[pool p]\nsize = 3M\nmembers = a\n",
     ":3: pool size 3M must be a power of two from 2M to 64G"),
    ("pool size below 2 MiB", "[vm a]\n[pool p]\nsize = 1M\nmembers = a\n",
     ":3: pool size 1M must be a power of two from 2M to 64G"),
    ("VM in two pools with the same name",
     "[vm a]\n[pool p]\nsize = 2M\nmembers = a\n[pool p]\nsize = 4M\nmembers = a\n",
     ":5: pool 'p' defined twice (first at line 2)"),
    ("unknown VM in a pool", "[vm a]\n[pool p]\nsize = 2M\nmembers = a ghost\n",
     ":4: pool 'p' names unknown VM 'ghost'"),
    ("VM defined twice", "[vm a]\n[vm a]\n", ":2: VM 'a' defined twice"),
    ("pool without size", "[vm a]\n[pool p]\nmembers = a\n", ":2: pool 'p' has no size"),
    ("garbage line", "[vm a]\nthis is not a key\n", ":2: expected 'key = value'"),
]


def main():
    daemon = sys.argv[1]
    n = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for what, text, want in CASES:
            path = os.path.join(tmp, "bad.conf")
            with open(path, "w") as f:
                f.write(text)
            r = subprocess.run([daemon, "--check", "-c", path], capture_output=True, text=True)
            ok = r.returncode == 1 and (path + want) in r.stderr and r.stderr.count("\n") == 1
            n += 1
            failed += not ok
            print("%s %d - refused: %s%s" % ("ok" if ok else "not ok", n, what,
                                              "" if ok else " (got %d: %r)" % (r.returncode, r.stderr)))
        path = os.path.join(tmp, "good.conf")
        with open(path, "w") as f:
            f.write("[vm a]\n[vm b]\n[pool p]\nsize = 2M\nmembers = a b\n")
        r = subprocess.run([daemon, "--check", "-c", path], capture_output=True, text=True)
        n += 1
        ok = r.returncode == 0 and "2 VM(s), 1 pool(s)" in r.stdout
        failed += not ok
        print("%s %d - a good file passes" % ("ok" if ok else "not ok", n))
        # ... but members of a shared pool without a quota can fill it: warned, per VM.
        ok = (path + ":1: warning: vm 'a' has no quota") in r.stderr and \
            (path + ":2: warning: vm 'b' has no quota") in r.stderr
        n += 1
        failed += not ok
        print("%s %d - shared-pool members without a quota are warned about%s"
              % ("ok" if ok else "not ok", n, "" if ok else " (%r)" % r.stderr))
        with open(path, "w") as f:
            f.write("[vm a]\nquota = 1M\n[vm b]\nquota = 1M\n[pool p]\nsize = 2M\nmembers = a b\n"
                    "[pool q]\nsize = 2M\nmembers = a\n")
        r = subprocess.run([daemon, "--check", "-c", path], capture_output=True, text=True)
        ok = r.returncode == 0 and "warning" not in r.stderr
        n += 1
        failed += not ok
        print("%s %d - quotas everywhere: no warning (a pool of one needs none)%s"
              % ("ok" if ok else "not ok", n, "" if ok else " (%r)" % r.stderr))
    print("1..%d\n%d passed, %d failed" % (n, n - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
