#!/usr/bin/env python3
"""Guest-side benchmark: allocation + free rate and CPU bandwidth through mmap of a
/dev/dma_heap/vmbuf-POOL buffer against /dev/dma_heap/system, in the same guest in
the same run (vmbuf-bench, guest/bench.c). Prints a table of rates and ratios.

Usage: bench_guest.py --build-dir DIR [--iterations N] [--passes P] [--reclaim]
"""

import argparse
import sys

import vmkit


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    vmkit.add_transport_argument(ap)
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--passes", type=int, default=8)
    ap.add_argument("--reclaim", action="store_true",
                    help="pool with reclaim = yes (freed pages go back to the host)")
    args = ap.parse_args()
    with vmkit.Kit("benchguest", args.build_dir, {"a": {}},
                   {"p": ("128M", ["a"], {"reclaim": "yes" if args.reclaim else "no"})},
                   transport=args.transport) as kit:
        a = kit.boot("a")
        st, out = a.run("vmbuf-bench -p p -n %d -b %d" % (args.iterations, args.passes),
                        timeout=900, check=False)
        print(out.strip())
        ok = st == 0 and "CPU read" in out
        if not ok:
            kit.mark_failed()
        kit.wait_used("p", 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
