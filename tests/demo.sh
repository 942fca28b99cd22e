#!/bin/sh
# The main job (README.md): on a fresh Debian 12 machine, as root, install what is
# missing, build, and run the demo: vmbufd plus two real QEMU guests sharing a ring of
# 1920x1080 frames with cross-VM fences; the host writes a PNG snapshot of the last one.
# Arguments go to tests/vm/demo.py (--frames N, --png FILE).
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" -eq 0 ]; then
	./tests/deps.sh --demo >/dev/null
fi
if [ -f build/build.ninja ]; then
	meson setup --reconfigure build >/dev/null
else
	meson setup build >/dev/null
fi
ninja -C build >/dev/null
PYTHONPATH=tests/kit exec python3 tests/vm/demo.py --build-dir build "$@"
