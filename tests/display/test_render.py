#!/usr/bin/env python3
"""vmbuf-render: virglrenderer rendering into vmbuf buffers, a VM reading them, and a VM's
frame sampled as the texture.

render: with no GPU and no render node, virglrenderer (surfaceless EGL, llvmpipe) renders
    three frames into export 'own' in pool gfx: a clear, then a textured quad of a
    pattern made on the host (seq:N at frame N, 64x48 at 16,8 of 128x96). The frame the
    host read back must be, byte for byte, what the test computes here from the pattern
    and the clear colour (the sum printed per frame), and the VM 'gpu' importing 'own'
    must read those bytes (FNV-1a of the buffer) once point 3 of its timeline is
    reached. Reverse: the VM exports a 64x48 XRGB8888 frame 'cam' (seq:9) for host
    clients; vmbuf-render --from cam --sync does not read it before the VM signals
    point 1, then samples it as the texture (its 4th byte made opaque) into 'out',
    which the VM imports and finds as computed. Once both renderers and the VM's export
    are gone, the pool's usage is 0.
errors: usage errors exit 2 (--help exits 0); a --from export that does not exist fails
    with ENOENT naming it; a texture that leaves the output fails naming both sizes.

Usage: test_render.py SCENARIO@TRANSPORT --build-dir DIR
"""

import os
import re
import subprocess
import time

import vmkit
from childout import Lines, fnv1a

W, H = 128, 96
SW, SH = 64, 48


def render_bin(t):
    return os.path.join(os.path.abspath(t.build), "host", "render", "vmbuf-render")


def expected(src, at, clear, opaque=False):
    """The frame: @clear (0xAARRGGBB) everywhere, @src (SW x SH BGRA bytes) at @at."""
    frame = bytearray(clear.to_bytes(4, "little") * (W * H))
    for y in range(SH):
        row = bytearray(src[y * SW * 4:(y + 1) * SW * 4])
        if opaque:
            row[3::4] = b"\xff" * SW
        o = ((at[1] + y) * W + at[0]) * 4
        frame[o:o + SW * 4] = row
    return bytes(frame)


def start(t, kit, *args):
    p = subprocess.Popen([render_bin(t), "-s", kit.sockdir, "-p", "gfx", "-t", "gpu",
                          "-W", str(W), "-H", str(H), "-k", "-v"] + list(args),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, preexec_fn=vmkit._die_with_parent)
    out = Lines(p, "vmbuf-render")
    m = out.wait(r"export '(\w+)': %dx%d AR24 handle ([0-9a-f]{32})" % (W, H), timeout=60)
    return p, out, m.group(2)


def finish(p):
    p.stdin.close()
    assert p.wait(timeout=30) == 0, "vmbuf-render exited %r: %s" % (p.returncode,
                                                                    p.stderr.read())


def guest_sum(vm, name):
    _, text = vm.run("vmbuf import -n %s --sum" % name)
    m = re.search(r"sum ([0-9a-f]{16})", text)
    assert m, text
    return int(m.group(1), 16)


def scenario_render(t):
    with t.kit("render", vms={"gpu": {"quota": "8M"}}, pools={"gfx": ("8M", ["gpu"])}) as kit:
        gpu = kit.boot("gpu")

        # Host to guest: the pattern made on the host, three frames.
        p, out, handle = start(t, kit, "-a", "16,8", "-C", "0x336699", "-f", "3", "own")
        got = int(out.wait(r"frame 3: sum ([0-9a-f]{16})").group(1), 16)
        want = fnv1a(expected(vmkit.pattern(SW * SH * 4, 3), (16, 8), 0xFF336699))
        assert got == want, "frame 3 as rendered %016x, as computed %016x" % (got, want)
        _, text = gpu.run("vmbuf wait %s 3 -t 5000" % handle)
        assert "reached" in text, text
        assert guest_sum(gpu, "own") == want, "the VM reads other bytes than were rendered"
        print("render: %s" % out.wait(r"frame 3: .* as they must be, .* ms").group(0))
        finish(p)

        # Guest to host and back: the VM's frame as the texture, in step with its timeline.
        cam = gpu.hold("3", "vmbuf export -p gfx -n cam -s %d -f seq:9 --host --width %d "
                       "--height %d --fourcc XR24 --stride %d" % (SW * SH * 4, SW, SH, SW * 4))
        cam_handle = re.search(r"handle ([0-9a-f]{32})", cam).group(1)
        p, out, handle = start(t, kit, "--from", "cam", "--sync", "out")
        time.sleep(1.5)
        assert out.last(r"^frame 1") is None, "rendered before the VM signalled point 1"
        gpu.run("vmbuf signal %s 1" % cam_handle)
        got = int(out.wait(r"frame 1: sum ([0-9a-f]{16})").group(1), 16)
        at = ((W - SW) // 2, (H - SH) // 2)
        want = fnv1a(expected(vmkit.pattern(SW * SH * 4, 9), at, 0xFF204080, opaque=True))
        assert got == want, "the VM's frame rendered as %016x, computed %016x" % (got, want)
        assert guest_sum(gpu, "out") == want, "the VM reads other bytes than were rendered"
        finish(p)
        gpu.release("3")
        kit.wait_used("gfx", 0)
        print("render: the VM's frame sampled at %d,%d after its point 1" % at)


def scenario_errors(t):
    exe = render_bin(t)
    for args in ([], ["own"], ["-p", "gfx"], ["-p", "gfx", "-W", "0", "o"],
                 ["-p", "gfx", "-W", "16385", "o"], ["-p", "gfx", "-a", "1", "o"],
                 ["-p", "gfx", "-C", "0x1000000", "o"], ["-p", "gfx", "--sync", "o"],
                 ["-p", "gfx", "-t", "a,b,c,d,e,f,g,h,i", "o"], ["-p", "gfx", "bad/name"]):
        r = subprocess.run([exe] + args, capture_output=True, text=True)
        assert r.returncode == 2, "vmbuf-render %s: exit %d" % (args, r.returncode)
    r = subprocess.run([exe, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--from" in r.stdout and "EIO" in r.stdout, r.stdout
    with t.kit("render-errors", vms={}, pools={"gfx": ("4M", [])}) as kit:
        base = [exe, "-s", kit.sockdir, "-p", "gfx"]
        r = subprocess.run(base + ["--from", "nope", "o"], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 1 and "'nope'" in r.stderr and "(ENOENT)" in r.stderr, r.stderr
        r = subprocess.run(base + ["-W", "64", "-H", "48", "-a", "40,0", "o"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 1 and "32x24 texture at 40,0 leaves the 64x48" in r.stderr, \
            r.stderr
        kit.wait_used("gfx", 0)
        print("errors: %s" % r.stderr.strip())


if __name__ == "__main__":
    raise SystemExit(vmkit.main(globals()))
