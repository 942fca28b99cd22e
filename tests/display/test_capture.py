#!/usr/bin/env python3
"""vmbuf-capture: a VM's screen through QEMU's D-Bus display into a vmbuf export.

capture: a VM that is in no pool and has no vmbuf device ("stock") runs with a VGA card
    on QEMU's D-Bus display, on a private dbus-daemon. vmbuf-capture listens to it and
    exports its screen as 'screen0' in pool gfx for VM 'viewer'. Text written on the
    stock VM's console must appear in the export exactly as QEMU's own screendump shows
    it (every pixel), and again after a second change, which arrives as a damaged
    rectangle smaller than the frame (--stats). The viewer VM imports the export: same
    size and format in the metadata, the same bytes (FNV-1a of the whole buffer); its
    wait for the next point wakes when the stock VM writes again. A second capture
    under the same name fails with EEXIST naming the export and the pool; one with
    --full beside it copies a whole frame per update. When the
    stock VM's QEMU dies, the viewer's wait for the next point ends with ENODEV, the
    capture exits 0, the export is gone and the pool's usage is back to 0.
errors: usage errors exit 2; a bus with no QEMU on it fails within --timeout, naming
    the console and the bus.

Usage: test_capture.py SCENARIO@ivshmem --build-dir DIR
"""

import os
import re
import secrets
import subprocess
import time

import vmkit
from childout import Lines, fnv1a

BUS_CONF = """<busconfig>
  <type>session</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def start_bus(kit):
    sock = os.path.join(kit.tmp, "display.bus")
    conf = os.path.join(kit.tmp, "display-bus.conf")
    with open(conf, "w") as f:
        f.write(BUS_CONF % sock)
    proc = subprocess.Popen(["dbus-daemon", "--config-file=" + conf, "--nofork", "--nopidfile"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            preexec_fn=vmkit._die_with_parent)
    deadline = time.time() + 10
    while not os.path.exists(sock):
        if proc.poll() is not None or time.time() > deadline:
            vmkit._fail("dbus-daemon did not start")
        time.sleep(0.05)
    return proc, "unix:path=" + sock


def capture_bin(t):
    return os.path.join(os.path.abspath(t.build), "host", "capture", "vmbuf-capture")


def screendump(vm):
    """QEMU's own picture of @vm's screen: (width, height, RGB bytes)."""
    path = os.path.join(vm.dir, "screen.ppm")
    vm.qmp("screendump", filename=path)
    with open(path, "rb") as f:
        data = f.read()
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", data)
    assert m, "screendump is not a binary PPM"
    return int(m.group(1)), int(m.group(2)), data[m.end():]


def export_bytes(kit, pool, name):
    for b in kit.pool_status(pool)["buffers"]:
        if b.get("export", {}).get("name") == name:
            return kit.read_pool(pool, b["offset"], b["size"])
    return None


def same_picture(xrgb, rgb):
    """Whether XRGB8888 bytes (B, G, R, X) show the RGB picture, pixel for pixel."""
    n = len(rgb) // 3 * 4          # the buffer is whole pages: the picture, then zeros
    if xrgb is None or len(xrgb) < n:
        return False
    xrgb = xrgb[:n]
    return (xrgb[2::4] == rgb[0::3]
            and xrgb[1::4] == rgb[1::3] and xrgb[0::4] == rgb[2::3])


def converge(kit, vm, timeout=60):
    """Wait until the export shows what QEMU shows; returns (width, height, raw bytes)."""
    deadline = time.time() + timeout
    while True:
        w, h, rgb = screendump(vm)
        raw = export_bytes(kit, "gfx", "screen0")
        if same_picture(raw, rgb):
            return w, h, raw
        if time.time() > deadline:
            diff = "no export"
            if raw is not None and len(raw) >= len(rgb) // 3 * 4:
                bad = [i for i in range(len(rgb) // 3)
                       if raw[4 * i:4 * i + 3] != rgb[3 * i:3 * i + 3][::-1]]
                diff = "%d of %d pixels differ, in x %d..%d, y %d..%d" % (
                    len(bad), w * h, min(i % w for i in bad), max(i % w for i in bad),
                    min(bad) // w, max(bad) // w) if bad else "sizes differ"
            vmkit._fail("the export never showed the screen QEMU shows (%dx%d): %s" % (w, h, diff))
        time.sleep(0.5)


def write_screen(vm, row, text):
    """Text at @row of the stock VM's VGA console (tty1), the cursor hidden."""
    vm.run(r"printf '\033[?25l\033[%d;1H\033[1;3%dm%s\033[0m' > /dev/tty1" % (row, row % 7 + 1, text))


def scenario_capture(t):
    vms = {"viewer": {"quota": "16M"}}
    with t.kit("capture", vms=vms, pools={"gfx": ("16M", ["viewer"])}) as kit:
        bus_proc, bus = start_bus(kit)
        try:
            kit.displays["stock"] = bus
            stock, viewer = kit.boot("stock", "viewer")
            capture(t, kit, bus, stock, viewer)
        finally:
            bus_proc.kill()
            bus_proc.wait()


def capture(t, kit, bus, stock, viewer):
    cmd = [capture_bin(t), "-s", kit.sockdir, "-b", bus, "-p", "gfx", "--to", "viewer"]
    cap = subprocess.Popen(cmd + ["-vv", "--stats", "screen0"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    out = Lines(cap, "vmbuf-capture")
    export_line = r"export 'screen0': (\d+)x(\d+) (XR24|AR24) handle ([0-9a-f]{32})"
    out.wait(export_line)
    stock.run(r"printf '\033[?25l\033[2J' > /dev/tty1")
    token = secrets.token_hex(8)
    write_screen(stock, 3, "vmbuf-capture " + token)
    try:
        w, h, raw = converge(kit, stock)
    except vmkit.KitError:
        cap.terminate()
        print("vmbuf-capture said:\n" + "\n".join(out.lines[-40:]) + "\n" + cap.stderr.read())
        raise
    # QEMU may start with a 640x480 placeholder: the latest export is the screen's.
    m = out.last(export_line)
    handle = m.group(4)
    assert (w, h) == (int(m.group(1)), int(m.group(2))), "export %sx%s, screen %dx%d" % (
        m.group(1), m.group(2), w, h)
    assert len(set(raw[0::4])) > 1, "the screen is one colour: the text did not arrive"
    print("capture: %dx%d screen equal to QEMU's screendump" % (w, h))

    # The viewer VM sees the same bytes, described by the metadata.
    _, text = viewer.run("vmbuf import -n screen0 --sum")
    assert "meta %dx%d fourcc XR24 stride %d" % (w, h, 4 * w) in text, text
    assert "from VM 'host'" in text or "from VM" in text, text
    s = re.search(r"sum ([0-9a-f]{16})", text)
    assert s and int(s.group(1), 16) == fnv1a(raw), "viewer's sum %s, the host's %016x" % (
        s and s.group(1), fnv1a(raw))
    print("capture: the viewer VM reads the same %d bytes" % len(raw))

    # A wait in the viewer VM wakes when the stock VM's screen changes.
    nxt = out.last_point() + 1
    viewer.spawn("vmbuf wait %s %d -t 60000 > /tmp/wait1 2>&1" % (handle, nxt))
    time.sleep(1)
    write_screen(stock, 12, "second change " + secrets.token_hex(4))
    viewer.wait_file("/tmp/wait1", "reached", timeout=60)
    converge(kit, stock)
    upd = out.wait(r"point \d+: update (\d+)x(\d+) at \d+,\d+ \((\d+) bytes\)")
    assert int(upd.group(3)) < 4 * w * h, "an update copied the whole frame: %s" % upd.group(0)
    print("capture: the viewer's wait for point %d woke; an update copied %s bytes of %d"
          % (nxt, upd.group(3), 4 * w * h))

    # The name is taken: a second capture of the same screen says so.
    r = subprocess.run(cmd + ["-T", "20", "screen0"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1 and "export 'screen0' in pool 'gfx'" in r.stderr and \
        "EEXIST" in r.stderr, "second capture: %d %r" % (r.returncode, r.stderr)
    print("capture: a second capture under the same name: %s" % r.stderr.strip())

    # --full (the benchmark's baseline) copies the whole frame at every update.
    r = subprocess.run(cmd + ["--full", "--stats", "-f", "20", "screen1"], capture_output=True,
                       text=True, timeout=120)
    full = re.search(r"(\d+) updates .* (\d+) per update, a whole frame is (\d+)", r.stdout)
    assert r.returncode == 0 and full and int(full.group(1)) >= 1, (r.returncode, r.stdout,
                                                                   r.stderr)
    # Each scanout and each update copies one whole frame.
    assert int(full.group(2)) == int(full.group(3)) == 4 * w * h, full.group(0)
    print("capture: --full: %s" % full.group(0))

    # QEMU dies: the next point carries ENODEV, the capture ends, the export goes.
    time.sleep(1)
    # (QEMU redraws the text cursor's cell ~30 times a second: points keep coming.)
    nxt = out.last_point() + 100000
    viewer.spawn("vmbuf wait %s %d -t 60000 > /tmp/wait2 2>&1" % (handle, nxt))
    time.sleep(1)
    stock.kill()
    viewer.wait_file("/tmp/wait2", "error ENODEV", timeout=60)
    assert cap.wait(timeout=30) == 0, "vmbuf-capture exited %r: %s" % (cap.returncode,
                                                                       cap.stderr.read())
    stats = out.wait(r"(\d+) scanouts, (\d+) updates .* (\d+) per update, a whole frame is (\d+)")
    assert int(stats.group(2)) >= 1, stats.group(0)
    assert export_bytes(kit, "gfx", "screen0") is None, "the export outlived the capture"
    kit.wait_used("gfx", 0)
    print("capture: QEMU killed: the viewer's wait ended with ENODEV; %s" % stats.group(0))


def scenario_errors(t):
    exe = capture_bin(t)
    for args in ([], ["screen0"], ["-p", "gfx"], ["-p", "gfx", "-c", "x", "s"],
                 ["-p", "gfx", "-t", "a,b,c,d,e,f,g,h,i", "s"], ["-p", "gfx", "bad/name"]):
        r = subprocess.run([exe] + args, capture_output=True, text=True)
        assert r.returncode == 2, "vmbuf-capture %s: exit %d" % (args, r.returncode)
    r = subprocess.run([exe, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--bus" in r.stdout and "ENODEV" in r.stdout, r.stdout
    with t.kit("capture-errors", vms={}, pools={"gfx": ("4M", [])}) as kit:
        bus_proc, bus = start_bus(kit)
        try:
            t0 = time.time()
            r = subprocess.run([exe, "-s", kit.sockdir, "-b", bus, "-p", "gfx", "-T", "2",
                                "screen0"], capture_output=True, text=True, timeout=30)
            took = time.time() - t0
            assert r.returncode == 1 and "console 0 on " + bus in r.stderr, r.stderr
            assert 1.5 < took < 15, "gave up after %.1f s, --timeout 2" % took
            print("errors: %s (after %.1f s)" % (r.stderr.strip(), took))
            r = subprocess.run([exe, "-s", kit.sockdir, "-b", "unix:path=/nonexistent/bus",
                                "-p", "gfx", "screen0"], capture_output=True, text=True,
                               timeout=30)
            assert r.returncode == 1 and "/nonexistent/bus" in r.stderr, r.stderr
        finally:
            bus_proc.kill()
            bus_proc.wait()


if __name__ == "__main__":
    raise SystemExit(vmkit.main(globals()))
