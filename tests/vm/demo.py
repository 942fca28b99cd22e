#!/usr/bin/env python3
"""The vmbuf demo: two QEMU guests share a ring of three 1920x1080 XRGB8888 frames
through vmbufd, with no copy, synchronised by cross-VM fences; the host takes a
snapshot of the last frame as a PNG.

Usage: demo.py --build-dir DIR [--frames N] [--png FILE] [--view]

--view: the host is the consumer: vmbuf-view shows the frames in a window as they are
drawn and gives each back (needs a display: DISPLAY, or xvfb-run); the consumer VM is
not booted.
"""

import argparse
import os
import re
import struct
import subprocess
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
    ap.add_argument("--view", action="store_true",
                    help="show the frames on the host with vmbuf-view (the host consumes)")
    args = ap.parse_args()
    viewer = os.path.join(args.build_dir, "host", "view", "vmbuf-view")
    if args.view and not os.environ.get("DISPLAY"):
        print("demo: --view needs a display (DISPLAY is not set); without one try\n"
              "  xvfb-run -s '-screen 0 1920x1080x24' tests/demo.sh --view", file=sys.stderr)
        return 2
    if args.view and not os.path.exists(viewer):
        print("demo: --view needs %s (build with libsdl2-dev installed)" % viewer, file=sys.stderr)
        return 2
    png = os.path.abspath(args.png or os.path.join(args.build_dir, "vmbuf-demo-frame.png"))

    print("vmbuf demo: two QEMU guests share 1920x1080 XRGB8888 frames through vmbufd, no copy")
    with vmkit.Kit("demo", args.build_dir,
                   {"producer": {"quota": "64M"}, "consumer": {"quota": "16M"}},
                   {"frames": ("64M", ["producer", "consumer"])},
                   transport=args.transport) as kit:
        print("[1/5] vmbufd: pool 'frames' (64 MiB sealed memfd) shared by VMs 'producer' "
              "and 'consumer'")
        t = time.time()
        if args.view:
            prod = kit.boot("producer")
        else:
            prod, cons = kit.boot("producer", "consumer")
        print("[2/5] %s booted (Debian 6.12, TCG) with vmbuf.ko in %.1f s"
              % ("the producer" if args.view else "both guests", time.time() - t))
        produce = "vmbuf-demo produce -p frames -n cam -t consumer -f %d" % args.frames
        if args.view:
            # The host consumes: a window shows each frame, then gives it back.
            prod.hold("7", produce, suffix="", ready="exported", timeout=600)
            view = subprocess.Popen([viewer, "-s", kit.sockdir, "--ring", "3", "--release",
                                     "--frames", str(args.frames), "cam"],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            vout = view.communicate(timeout=600)[0]
            out = prod.wait_file("/tmp/o7", "holding", timeout=60)
            cout = "\n".join("consumer: (host) " + line for line in vout.splitlines())
            m = re.search(r"vmbuf-view: (\d+) frames", vout)
            shown = int(m.group(1)) if m and view.returncode == 0 else 0
            # The viewer draws what comes and checks no checksum: dropped = not shown.
            cout += "\nconsumer: (host) dropped or corrupt: %d" % (args.frames - shown)
        else:
            cons.spawn("vmbuf-demo consume -n cam -f %d > /tmp/c 2>&1" % args.frames)
            out = prod.hold("7", produce, suffix="", timeout=600)
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
