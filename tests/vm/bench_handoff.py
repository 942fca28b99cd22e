#!/usr/bin/env python3
"""Hand-off benchmark: frames handed from one VM to another without a copy (the
buffer is exported and imported once; each frame is one fence round trip) against
the same hand-off with the frame copied into the shared buffer (memcpy) every time.
Both in the same run on the same two VMs, for 4 KiB, 8 MiB and 32 MiB.

Usage: bench_handoff.py --build-dir DIR [--rounds N]
The zero-copy rate should not fall with size; the copy rate does.
"""

import argparse
import re
import sys

import vmkit

LINE = re.compile(r"pingpong (\w+) rounds (\d+) errors (\d+) .* rate ([\d.]+)/s size (\d+)")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    vmkit.add_transport_argument(ap)
    ap.add_argument("--rounds", type=int, default=200)
    args = ap.parse_args()
    rows = []
    with vmkit.Kit("handoff", args.build_dir, {"a": {}, "b": {}}, {"p": ("128M", ["a", "b"])},
                   transport=args.transport) as kit:
        a, b = kit.boot("a", "b")
        n = 0
        for size in (4096, 8 << 20, 32 << 20):
            rates = {}
            for mode in ("fence", "copy"):
                n += 1
                b.spawn("vmbuf pingpong follow -n h%d -r %d > /tmp/h%d 2>&1" % (n, args.rounds, n))
                _, out = a.run("vmbuf pingpong lead -p p -n h%d -t b -r %d -s %d %s"
                               % (n, args.rounds, size, "--copy" if mode == "copy" else ""),
                               timeout=1800)
                b.wait_file("/tmp/h%d" % n, "follow done")
                m = LINE.search(out)
                if not m or int(m.group(3)):
                    print("FAIL: %s" % out)
                    return 1
                rates[mode] = float(m.group(4))
            rows.append((size, rates["fence"], rates["copy"]))
        kit.wait_used("p", 0)
    print("hand-off between two TCG guests, %d frames each, same run:" % args.rounds)
    print("%-10s %16s %16s %10s" % ("size", "zero-copy", "memcpy", "ratio"))
    for size, z, c in rows:
        print("%-10s %11.1f fr/s %11.1f fr/s %9.2fx" % ("%d KiB" % (size >> 10), z, c, z / c))
    return 0


if __name__ == "__main__":
    sys.exit(main())
