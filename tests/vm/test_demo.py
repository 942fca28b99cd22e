#!/usr/bin/env python3
"""Runs the demo (demo.py) and checks its PNG: decoded here, its counter squares must
spell the last frame's number and its gradient must be the producer's formula.
Usage: test_demo.py --build-dir DIR
"""

import argparse
import os
import struct
import subprocess
import sys
import tempfile
import zlib

W, H = 1920, 1080


def read_png_rgb(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        n, tag = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if tag == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype == 2, "expected 8-bit RGB"
        elif tag == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = width * 3 + 1
    assert all(raw[y * stride] == 0 for y in range(height)), "unexpected PNG filter"
    return width, height, lambda x, y: tuple(raw[y * stride + 1 + 3 * x:y * stride + 4 + 3 * x])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--transport", default="ivshmem")
    args = ap.parse_args()
    frames = 90
    with tempfile.TemporaryDirectory() as tmp:
        png = os.path.join(tmp, "frame.png")
        r = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "demo.py"),
                            "--build-dir", args.build_dir, "--frames", str(frames), "--png", png,
                            "--transport", args.transport])
        if r.returncode != 0:
            print("FAIL demo")
            return 1
        width, height, px = read_png_rgb(png)
        assert (width, height) == (W, H)
        bits = "".join("1" if px(20 + b * 28, 20) == (255, 255, 255) else "0" for b in range(32))
        assert int(bits, 2) == frames, "counter squares read %d, expected %d" % (int(bits, 2), frames)
        k = frames
        for x, y in ((100, 100), (1000, 500), (1919, 1000)):
            want = ((x + k * 8) & 0xFF, (y + k * 3) & 0xFF, (x + y + k) & 0xFF)
            assert px(x, y) == want, "pixel %d,%d is %s, expected %s" % (x, y, px(x, y), want)
    print("PASS demo on %s (PNG counter %d and gradient verified)" % (args.transport, frames))
    return 0


if __name__ == "__main__":
    sys.exit(main())
