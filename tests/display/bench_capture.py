#!/usr/bin/env python3
"""Screen-capture benchmark: vmbuf-capture copying only the damaged rectangles against
the same capture copying the whole frame at every update (--full), both listening to
the same console of the same stock VM (QEMU's D-Bus display) in the same run, while the
VM writes a line of text to its VGA console --updates times.

Prints, per mode, the timeline points (scanouts + updates), points per second and bytes
copied into the pool per point over the capture's life (--stats), and the capture
process's CPU time per point over the writing phase only (/proc/PID/schedstat in
nanoseconds, divided by the points -vv printed in that phase; both modes print the same
lines), then the ratios full / damaged. Both exports must end up holding the same
screen.

Usage: bench_capture.py --build-dir DIR [--updates N]
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import time

import vmkit
from childout import Lines
from test_capture import export_bytes, start_bus, write_screen

STATS = re.compile(r"(\d+) scanouts, (\d+) updates in ([\d.]+) s .*?; (\d+) bytes copied, "
                   r"(\d+) per update, a whole frame is (\d+)")


def cpu_ns(pid):
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--updates", type=int, default=100)
    args = ap.parse_args()
    exe = os.path.join(os.path.abspath(args.build_dir), "host", "capture", "vmbuf-capture")
    rows = {}
    with vmkit.Kit("bench-capture", args.build_dir, {}, {"gfx": ("16M", [])}) as kit:
        bus_proc, bus = start_bus(kit)
        caps = {}
        try:
            kit.displays["stock"] = bus
            stock = kit.boot("stock")
            stock.run(r"printf '\033[?25l\033[2J' > /dev/tty1")
            for mode, extra in (("damaged", []), ("full", ["--full"])):
                p = subprocess.Popen([exe, "-s", kit.sockdir, "-b", bus, "-p", "gfx", "--stats",
                                      "-vv", "screen-" + mode] + extra, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     preexec_fn=vmkit._die_with_parent)
                caps[mode] = (p, Lines(p, "vmbuf-capture"))
                caps[mode][1].wait(r"export 'screen-%s'" % mode)
            time.sleep(2)		# past QEMU's first refresh (docs/display.md)
            cpu0 = {m: (cpu_ns(p.pid), out.last_point()) for m, (p, out) in caps.items()}
            for i in range(args.updates):
                write_screen(stock, 2 + i % 20, "vmbuf bench_capture update %05d" % i)
            time.sleep(1)
            cpu1 = {m: (cpu_ns(p.pid), out.last_point()) for m, (p, out) in caps.items()}
            deadline = time.time() + 20
            while export_bytes(kit, "gfx", "screen-damaged") != export_bytes(kit, "gfx",
                                                                              "screen-full"):
                if time.time() > deadline:
                    vmkit._fail("the two captures do not hold the same screen")
                time.sleep(0.5)
            for mode, (p, out) in caps.items():
                p.send_signal(signal.SIGTERM)
                if p.wait(timeout=30) != 0:
                    vmkit._fail("vmbuf-capture %s exited %d: %s" % (mode, p.returncode,
                                                                   p.stderr.read()))
                m = out.wait(STATS.pattern)
                points = int(m.group(1)) + int(m.group(2))
                window = cpu1[mode][1] - cpu0[mode][1]
                rows[mode] = (points, points / float(m.group(3)), int(m.group(5)),
                              (cpu1[mode][0] - cpu0[mode][0]) / 1e3 / max(window, 1),
                              int(m.group(6)))
            kit.wait_used("gfx", 0)  # both captures gave their buffers back
        finally:
            for p, _ in caps.values():
                if p.poll() is None:
                    p.kill()
            bus_proc.kill()
            bus_proc.wait()
    frame = rows["full"][4]
    print("screen capture of a TCG VM's VGA text console (frame %d bytes), %d lines written, "
          "two listeners on one console, same run:" % (frame, args.updates))
    print("%-8s %8s %10s %14s %16s" % ("mode", "points", "points/s", "bytes/point",
                                       "CPU us/point"))
    for mode in ("damaged", "full"):
        pts, rate, per, cpu, _ = rows[mode]
        print("%-8s %8d %10.1f %14d %16.1f" % (mode, pts, rate, per, cpu))
    d, f = rows["damaged"], rows["full"]
    print("full / damaged: %.1fx the bytes, %.2fx the CPU per point"
          % (f[2] / max(d[2], 1), f[3] / d[3] if d[3] else float("nan")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
