#!/usr/bin/env python3
"""Cross-VM fence round-trip benchmark.

Boots two guests in one pool and measures, in the same run, on the same pair:
  baseline  raw ivshmem doorbell ping-pong between the VMs (pool device peer
            doorbells; no daemon in the path)
  fence     timeline ping-pong through vmbufd: A signals, B's fence wakes, B
            signals, A's fence wakes (each round also checks shared bytes)
  fast      the same on a fast timeline (VMBUF_EXPORT_FAST): each signal rings the
            waiting VM's pool doorbell itself and tells vmbufd afterwards; each wait
            sleeps on the pool's doorbell with no fence (up to fast_wait_ms)
  fast/fence  the same with fast_wait_ms=0 in both VMs: each wait makes a dma_fence,
            as before light waits (the difference is what a fence object costs)
and prints p50/p99 of each and their ratios to the baseline. With --load, a third VM in
the same pool burns its CPU (a shell busy loop) throughout: the loaded machine.

Usage: bench_fence.py --build-dir DIR [--rounds N] [--repeat K] [--load]
Default 2000 rounds; the test suite runs a short version (--rounds 300).
"""

import argparse
import re
import sys

import vmkit

LINE = re.compile(r"pingpong (\w+) rounds (\d+) errors (\d+) p50 ([\d.]+) us p99 ([\d.]+) us")


def position(vm, pool):
    _, out = vm.run("vmbuf info")
    m = re.search(r"pool %s .* position (\d+)" % pool, out)
    return int(m.group(1))


def run_doorbell(a, b, rounds, tag):
    pa, pb = position(a, "p"), position(b, "p")
    b.spawn("vmbuf pingpong follow --doorbell %d -p p -r %d > /tmp/d%s 2>&1" % (pa, rounds, tag))
    b.wait_file("/tmp/d%s" % tag, "ready")
    _, out = a.run("vmbuf pingpong lead --doorbell %d -p p -r %d" % (pb, rounds), timeout=900)
    return LINE.search(out)


def run_fence(a, b, rounds, tag, fast=False):
    b.spawn("vmbuf pingpong follow -n pp%s -r %d > /tmp/f%s 2>&1" % (tag, rounds, tag))
    _, out = a.run("vmbuf pingpong lead -p p -n pp%s -t b -r %d%s"
                   % (tag, rounds, " --fast" if fast else ""), timeout=900)
    b.wait_file("/tmp/f%s" % tag, "follow done")
    return LINE.search(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    vmkit.add_transport_argument(ap)
    ap.add_argument("--rounds", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--load", action="store_true", help="a third VM burning CPU meanwhile")
    args = ap.parse_args()
    if args.transport != "ivshmem":
        print("bench_fence: the baseline is a raw pool doorbell, which only ivshmem VMs have "
              "(a %s VM maps no pool device); run it with --transport ivshmem" % args.transport,
              file=sys.stderr)
        return 2

    rows = []
    vms = ["a", "b"] + (["c"] if args.load else [])
    with vmkit.Kit("bench", args.build_dir, {v: {} for v in vms}, {"p": ("4M", vms)},
                   transport=args.transport) as kit:
        booted = kit.boot(*vms)
        a, b = booted[0], booted[1]
        if args.load:
            booted[2].spawn("while :; do :; done")
        for i in range(args.repeat):
            d = run_doorbell(a, b, args.rounds, str(i))
            f = run_fence(a, b, args.rounds, str(i))
            q = run_fence(a, b, args.rounds, "q%d" % i, fast=True)
            was = [vm.param("fast_wait_ms", 0) for vm in (a, b)]
            z = run_fence(a, b, args.rounds, "z%d" % i, fast=True)
            for vm, ms in zip((a, b), was):
                vm.param("fast_wait_ms", ms)
            ms = (d, f, q, z)
            if not all(ms) or any(int(m.group(3)) for m in ms):
                print("FAIL: a ping-pong reported errors or no result")
                return 1
            if q.group(1) != "fast" or z.group(1) != "fast":
                print("FAIL: the fast ping-pong got no fast timeline")
                return 1
            rows.append([float(m.group(g)) for m in ms for g in (4, 5)])
        kit.wait_used("p", 0)
    print("cross-VM round trip, %d rounds, TCG guests, same run, same pair of VMs%s (us):"
          % (args.rounds, ", a third VM burning CPU" if args.load else ""))
    print("%-4s %9s %9s %9s %9s %9s %9s %9s %8s %8s %8s %8s" % (
        "run", "door p50", "door p99", "fence p50", "fence p99", "fast p50", "fast p99",
        "f/fen p50", "fence/db", "fast/db", "fast p99", "f/fen/db"))
    for i, (dp50, dp99, fp50, fp99, qp50, qp99, zp50, _) in enumerate(rows):
        print("%-4d %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %7.2fx %7.2fx %7.2fx %7.2fx" % (
            i, dp50, dp99, fp50, fp99, qp50, qp99, zp50, fp50 / dp50, qp50 / dp50,
            qp99 / dp99, zp50 / dp50))

    def median(xs):
        xs = sorted(xs)
        return xs[len(xs) // 2]
    print("fence/doorbell p50 ratio: %.2f (median of %d run(s))"
          % (median(r[2] / r[0] for r in rows), len(rows)))
    print("fast/doorbell p50 ratio: %.2f, p99 ratio: %.2f (median of %d run(s); "
          "target <= 1.1 and <= 1.3)" % (median(r[4] / r[0] for r in rows),
                                          median(r[5] / r[1] for r in rows), len(rows)))
    print("fast with a fence per wait (fast_wait_ms=0)/doorbell p50 ratio: %.2f"
          % median(r[6] / r[0] for r in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
