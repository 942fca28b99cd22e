#!/usr/bin/env python3
"""The vmbuf demo: two QEMU guests share a ring of three 1920x1080 XRGB8888 frames
through vmbufd, with no copy, synchronised by cross-VM fences; the host takes a
snapshot of the last frame as a PNG.

Usage: demo.py --build-dir DIR [--frames N] [--png FILE]
"""

import argparse
import os
import re
import struct
import sys
import time

import vmkit

W, H = 1920, 1080
FRAME = W * H * 4


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    vmkit.add_transport_argument(ap)
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--png", default=None)
    args = ap.parse_args()
    png = os.path.abspath(args.png or os.path.join(args.build_dir, "vmbuf-demo-frame.png"))

    print("vmbuf demo: two QEMU guests share 1920x1080 XRGB8888 frames through vmbufd, no copy")
    with vmkit.Kit("demo", args.build_dir,
                   {"producer": {"quota": "64M"}, "consumer": {"quota": "16M"}},
                   {"frames": ("64M", ["producer", "consumer"])},
                   transport=args.transport) as kit:
        print("[1/5] vmbufd: pool 'frames' (64 MiB sealed memfd) shared by VMs 'producer' "
              "and 'consumer'")
        t = time.time()
        prod, cons = kit.boot("producer", "consumer")
        print("[2/5] both guests booted (Debian 6.12, TCG) with vmbuf.ko in %.1f s"
              % (time.time() - t))
        cons.spawn("vmbuf-demo consume -n cam -f %d > /tmp/c 2>&1" % args.frames)
        out = prod.hold("7", "vmbuf-demo produce -p frames -n cam -t consumer -f %d" % args.frames,
                        suffix="", timeout=600)
        cout = cons.wait_file("/tmp/c", "dropped or corrupt", timeout=60)
        print("[3/5] the producer drew %d animated frames into its /dev/dma_heap/vmbuf-frames "
              "buffers, one timeline point per frame:" % args.frames)
        for line in (out + cout).splitlines():
            if line.startswith(("producer:", "consumer:")):
                print("        " + line)
        dropped = int(re.search(r"dropped or corrupt: (\d+)", cout).group(1))
        fps = re.search(r"([\d.]+) fps", out).group(1)

        last = args.frames % 3
        t = time.time()
        out = kit.ctl("snapshot", "cam%d" % last, png).decode().strip()
        buf = [b for b in kit.pool_status("frames")["buffers"]
               if b.get("export", {}).get("name") == "cam%d" % last][0]
        footer = kit.read_pool("frames", buf["offset"] + (H - 1) * W * 4, 8)
        frame_no = struct.unpack("<Q", footer)[0]
        print("[4/5] host: vmbufctl snapshot cam%d (frame %d, %.1f s): %s"
              % (last, frame_no, time.time() - t, out))
        prod.release("7")
        kit.wait_used("frames", 0)
        print("[5/5] the producer closed its buffers: the daemon zeroed and freed them; "
              "pool usage is 0")
        print("demo: %s fps, %d dropped frames, snapshot at %s" % (fps, dropped, png))
        ok = dropped == 0 and frame_no == args.frames
        if not ok:
            kit.mark_failed()
    print("demo %s" % ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
