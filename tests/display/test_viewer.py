#!/usr/bin/env python3
"""vmbuf-view against the demo's producer in a real VM, through the real vmbufd:

window: under Xvfb, vmbuf-view --ring 3 --release shows the producer's frames in a real
    window (SDL2 on X11) and gives each one back, so the producer's ring runs against it
    as against a consuming VM. While it runs, screenshots of the X screen (xwd) must show
    whole producer frames: the counter squares spell a frame number, the footer holds
    that number and the checksum of everything above it, all read from the screen. The
    window title names export, VM, size, format and drawing path; the viewer ends after
    --frames frames and the producer sees every release. With --shot PNG the last
    screenshot is kept (docs/display.md shows one).
headless: vmbuf-view --png-dir writes one PNG per frame, each a whole frame.
formats: ARGB8888 and NV12 images a host client exports (tests/display/host_producer.c,
    four coloured quadrants), shown by handle in a real window: each quadrant's colour is
    read back from the screen.
demo_view: the main job with --view (tests/vm/demo.py): the producer's ring runs against
    the viewer on the host, no frame dropped, and the host's PNG snapshot is the last frame.

Usage: test_viewer.py SCENARIO@TRANSPORT --build-dir DIR [--shot PNG]
"""

import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import vmkit

W, H = 1920, 1080
FOOTER = H - 1


def frame_sum(pixel):
    """guest/demo.c's checksum: FNV-style fold of the 64-bit words of rows 0..H-2."""
    h = 1469598103934665603
    for i in range(0, W * FOOTER, 2):
        h = ((h ^ (pixel(i) | pixel(i + 1) << 32)) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def check_frame(pixel, what):
    """@pixel(i): the 0x00RRGGBB value of pixel i (row-major). Returns the frame number."""
    bits = "".join("1" if pixel(20 * W + 20 + b * 28) == 0xFFFFFF else "0" for b in range(32))
    k = int(bits, 2)
    foot = [pixel(FOOTER * W + i) for i in range(4)]
    assert foot[0] == k and foot[1] == 0, "%s: counter squares say %d, footer %r" % (what, k, foot)
    s = frame_sum(pixel)
    # The screen keeps 24 bits of each 32-bit footer word (no X byte): 48 bits of checksum.
    assert (foot[2], foot[3]) == (s & 0xFFFFFF, (s >> 32) & 0xFFFFFF), \
        "%s: frame %d is torn or not the producer's (checksum)" % (what, k)
    return k


def xwd_screen(display):
    """The X screen as a function pixel(i) -> 0x00RRGGBB, from xwd."""
    data = subprocess.run(["xwd", "-root", "-silent", "-display", display],
                          check=True, capture_output=True).stdout
    f = struct.unpack(">25I", data[:100])
    header, byte_order, bpp, bpl, width, height, ncolors = f[0], f[7], f[11], f[12], f[4], f[5], f[19]
    assert bpp in (24, 32) and (width, height) == (W, H), \
        "unexpected X screen %dx%d@%d" % (width, height, bpp)
    pixels = data[header + ncolors * 12:]
    stride, step = len(pixels) // height, bpp // 8     # xwd pads rows its own way
    assert stride >= width * step, (stride, width, step)
    big = byte_order != 0

    def pixel(i):
        y, x = divmod(i, W)
        o = y * stride + step * x + (step - 3 if big else 0)     # skip an MSB-first pad byte
        b = pixels[o:o + 3]
        return (b[0] << 16 | b[1] << 8 | b[2]) if big else (b[2] << 16 | b[1] << 8 | b[0])
    return pixel


def write_png(path, pixel, scale=2):
    """The screen, every @scale-th pixel, as an RGB PNG (sub filter: small)."""
    w, h = W // scale, H // scale
    raw = bytearray()
    for y in range(h):
        row = bytearray()
        for x in range(w):
            v = pixel(y * scale * W + x * scale)
            row += bytes(((v >> 16) & 255, (v >> 8) & 255, v & 255))
        sub = bytearray(row[:3]) + bytearray((row[i] - row[i - 3]) & 255 for i in range(3, len(row)))
        raw += b"\x01" + sub

    def chunk(tag, body):
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))


def read_png(path):
    """A PNG vmbuf-view wrote (RGB, filter 0) as pixel(i) -> 0x00RRGGBB."""
    data = open(path, "rb").read()
    pos, idat = 8, b""
    while pos < len(data):
        n, tag = struct.unpack(">I4s", data[pos:pos + 8])
        if tag == b"IHDR":
            assert struct.unpack(">IIBB", data[pos + 8:pos + 18]) == (W, H, 8, 2)
        elif tag == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = W * 3 + 1

    def pixel(i):
        y, x = divmod(i, W)
        o = y * stride + 1 + 3 * x
        return raw[o] << 16 | raw[o + 1] << 8 | raw[o + 2]
    return pixel


def viewer(kit):
    return os.path.join(kit.paths.build, "host", "view", "vmbuf-view")


def viewer_env(**kw):
    """The environment for vmbuf-view: leaks of the X11/GL libraries under it are not ours."""
    env = dict(os.environ, **kw)
    env["LSAN_OPTIONS"] = "suppressions=%s:print_suppressions=0" % os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "lsan.supp")
    return env


def producer_kit(t, name):
    # The producer exports to VM 'consumer' (not booted: the host is the consumer).
    return t.kit(name, {"producer": {"quota": "64M"}, "consumer": {"quota": "16M"}},
                 {"frames": ("64M", ["producer", "consumer"])})


class Xvfb:
    def __init__(self):
        self.display = ":%d" % (100 + os.getpid() % 800)
        self.proc = subprocess.Popen(["Xvfb", self.display, "-screen", "0", "%dx%dx24" % (W, H),
                                      "-nolisten", "tcp"], stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while subprocess.run(["xdpyinfo", "-display", self.display],
                             capture_output=True).returncode != 0:
            assert time.time() < deadline and self.proc.poll() is None, "Xvfb did not start"
            time.sleep(0.1)

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def scenario_window(t):
    frames = 60
    x = Xvfb()
    try:
        with producer_kit(t, "view-window") as kit:
            prod = kit.boot("producer")
            prod.spawn("vmbuf-demo produce -p frames -n cam -t consumer -f %d > /tmp/p 2>&1"
                       % frames)
            prod.wait_file("/tmp/p", "exported")
            env = viewer_env(DISPLAY=x.display, SDL_VIDEODRIVER="x11")
            v = subprocess.Popen([viewer(kit), "-s", kit.sockdir, "--ring", "3", "--release",
                                  "--frames", str(frames), "--keep", "-v", "cam"], env=env,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
            out, seen = "", []
            for line in v.stdout:
                out += line
                m = re.match(r"frame (\d+) shown", line)
                if m and int(m.group(1)) in (10, 30):
                    # Taken while frames go by: the frame on screen may be a later one
                    # than the line said, but it must be a whole one.
                    k = check_frame(xwd_screen(x.display), "screenshot at frame %s" % m.group(1))
                    assert int(m.group(1)) <= k <= frames, (m.group(1), k)
                    seen.append(k)
                if line.startswith("vmbuf-view: %d frames of 'cam0'" % frames):
                    break
            assert len(seen) == 2 and "drawing by texture upload" in out, out
            # --keep: the last frame stays on screen, in the documented title.
            screen = xwd_screen(x.display)
            assert check_frame(screen, "the last frame") == frames
            seen.append(frames)
            names = subprocess.run(["xwininfo", "-root", "-tree", "-display", x.display],
                                   capture_output=True, text=True).stdout
            assert re.search(r"vmbuf-view: cam0 ring from VM 'producer', 1920x1080 XRGB8888, "
                             r"[\d.]+ fps, texture upload", names), \
                "no window titled as documented: " + names[:2000]
            if t.shot:
                write_png(t.shot, screen)
            v.stdin.close()
            assert v.wait(timeout=30) == 0, "vmbuf-view failed: " + out + v.stdout.read()
            pout = prod.wait_file("/tmp/p", "holding")
            assert "%d frames in" % frames in pout, pout
            print("screenshots showed whole frames %s; the producer ran %d frames against the "
                  "viewer" % (seen, frames))
    finally:
        x.close()


def scenario_headless(t):
    frames = 5
    with producer_kit(t, "view-headless") as kit, tempfile.TemporaryDirectory() as pngs:
        prod = kit.boot("producer")
        prod.spawn("vmbuf-demo produce -p frames -n cam -t consumer -f %d > /tmp/p 2>&1" % frames)
        prod.wait_file("/tmp/p", "exported")
        env = viewer_env()
        env.pop("DISPLAY", None)
        r = subprocess.run([viewer(kit), "-s", kit.sockdir, "--ring", "3", "--release",
                            "--frames", str(frames), "--png-dir", pngs, "cam"], env=env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        files = sorted(os.listdir(pngs))
        assert files == ["frame-%06d.png" % k for k in range(1, frames + 1)], files
        for k in (1, frames):
            got = check_frame(read_png(os.path.join(pngs, "frame-%06d.png" % k)), "PNG %d" % k)
            assert got == k, (k, got)
        prod.wait_file("/tmp/p", "holding")


def scenario_demo_view(t):
    frames = 30
    x = Xvfb()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            png = os.path.join(tmp, "frame.png")
            demo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vm", "demo.py")
            r = subprocess.run([sys.executable, demo, "--build-dir", t.build, "--view",
                                "--frames", str(frames), "--png", png, "--transport", t.transport],
                               env=viewer_env(DISPLAY=x.display, SDL_VIDEODRIVER="x11"),
                               capture_output=True, text=True, timeout=500)
            assert r.returncode == 0 and ", 0 dropped frames" in r.stdout, r.stdout + r.stderr
            assert "consumer: (host) vmbuf-view: %d frames of 'cam0'" % frames in r.stdout, r.stdout
            assert check_frame(read_png(png), "the demo's snapshot") == frames
    finally:
        x.close()


def window_origin(display):
    """Where vmbuf-view's window is on the screen, from xwininfo."""
    tree = subprocess.run(["xwininfo", "-root", "-tree", "-display", display],
                          capture_output=True, text=True).stdout
    for line in tree.splitlines():
        m = re.search(r'"vmbuf-view: [^"]*".*\s(\d+)x(\d+)\+-?\d+\+-?\d+\s+\+(-?\d+)\+(-?\d+)', line)
        if m:
            return [int(g) for g in m.groups()]
    raise AssertionError("no vmbuf-view window: " + tree[:2000])


def scenario_formats(t):
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]
    producer = os.path.join(t.build, "tests", "display", "host_producer")
    x = Xvfb()
    try:
        with t.kit("view-formats", {"a": {}}, {"p": ("16M", ["a"])}) as kit:
            for fmt, label in (("argb", "ARGB8888"), ("nv12", "NV12")):
                p = subprocess.Popen([producer, kit.sockdir, "p", "quad-" + fmt, fmt, "640", "480"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                handle = re.match(r"handle ([0-9a-f]{32})", p.stdout.readline()).group(1)
                assert p.stdout.readline().strip() == "ready"
                v = subprocess.Popen([viewer(kit), "-s", kit.sockdir, "-H", handle, "--frames", "1",
                                      "--keep", "-v"],
                                     env=viewer_env(DISPLAY=x.display, SDL_VIDEODRIVER="x11"),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
                out = ""
                for line in v.stdout:
                    out += line
                    if line.startswith("vmbuf-view: 1 frames"):
                        break
                assert "640x480 %s" % label in out, out
                w, h, ox, oy = window_origin(x.display)
                assert (w, h) == (640, 480), (w, h)
                screen = xwd_screen(x.display)
                for q, want in enumerate(colours):
                    px, py = ox + (q % 2) * 320 + 160, oy + (q // 2) * 240 + 120
                    v24 = screen(py * W + px)
                    got = (v24 >> 16, (v24 >> 8) & 255, v24 & 255)
                    assert all(abs(a - b) <= 16 for a, b in zip(got, want)), \
                        "%s quadrant %d: %r on screen, expected %r" % (label, q, got, want)
                v.stdin.close()
                assert v.wait(timeout=30) == 0, out + v.stdout.read()
                p.stdin.close()
                assert p.wait(timeout=30) == 0
    finally:
        x.close()


if __name__ == "__main__":
    shot = None
    if "--shot" in sys.argv:
        i = sys.argv.index("--shot")
        shot = os.path.abspath(sys.argv[i + 1])
        del sys.argv[i:i + 2]
    vmkit.Target.shot = shot
    sys.exit(vmkit.main(globals()))
