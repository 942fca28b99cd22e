#!/usr/bin/env python3
"""The vmbuf demo: a real guest allocates a frame-sized buffer from its vmbuf
heap and draws into it; the host sees the same bytes in the shared pool.

Usage: demo.py --build-dir DIR [--keep]
(The two-VM frame demo with fences replaces this once sharing and fences land.)
"""

import argparse
import sys
import time

import vmkit

W, H = 1920, 1080
FRAME = W * H * 4


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    args = ap.parse_args()

    print("vmbuf demo: a QEMU guest shares a %dx%d XRGB8888 frame with the host, no copy"
          % (W, H))
    kit = vmkit.Kit("demo", args.build_dir, {"producer": {"quota": "32M"}},
                    {"frames": ("64M", ["producer"])})
    ok = False
    try:
        print("[1/5] vmbufd running: pool 'frames' (64 MiB sealed memfd), VM 'producer'")
        t = time.time()
        vm = kit.boot("producer")
        _, info = vm.run("vmbuf info")
        print("[2/5] guest booted (Debian kernel, TCG) and vmbuf.ko loaded in %.1f s:"
              % (time.time() - t))
        for line in info.strip().splitlines():
            print("        guest$ " + line)
        vm.run("mkfifo /tmp/hold")
        vm.run("vmbuf alloc -p frames -s %d -f seq:42 -k < /tmp/hold > /tmp/out 2>&1 &" % FRAME)
        vm.run("exec 7>/tmp/hold")
        vm.wait_file("/tmp/out", "holding")
        print("[3/5] guest allocated %d bytes from /dev/dma_heap/vmbuf-frames and drew "
              "pattern seq:42 through mmap" % FRAME)
        buf = [b for b in kit.pool_status("frames")["buffers"] if b["owner"] == "producer"][0]
        t = time.time()
        got = kit.read_pool("frames", buf["offset"], FRAME)
        same = got == vmkit.pattern(FRAME, 42)
        print("[4/5] host reads the pool memfd at offset %d: %s (%.1f MB in %.2f s)"
              % (buf["offset"], "all bytes match what the guest drew" if same else "MISMATCH",
                 FRAME / 1e6, time.time() - t))
        print("        host$ vmbufctl status")
        for line in kit.ctl("status").decode().strip().splitlines():
            print("        " + line)
        vm.run("echo >&7; exec 7>&-; wait")
        kit.wait_used("frames", 0)
        print("[5/5] guest closed the dma-buf: the daemon freed and zeroed the range; "
              "pool usage is 0")
        ok = same
    finally:
        kit.close(ok)
    print("demo %s" % ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
