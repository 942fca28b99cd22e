#!/bin/sh
# The test command (README.md, .ci/run): on a fresh Debian 12 machine, as root,
# install what is missing, build everything, run every suite:
#   unit, daemon   host tests, under ASan and UBSan
#   kbuild         checkpatch on the module (the 6.1 and 6.12 builds are build steps)
#   vm             QEMU guests with vmbuf.ko against the real vmbufd (also under ASan)
#   debug          the module's scenarios and a guest ioctl fuzzer on a debug kernel
#                  (KASAN, lockdep, UBSAN, DEBUG_OBJECTS, DMA_API_DEBUG; tests/kernel/)
#   libvirt        the same through a private libvirtd (own mount namespace), the hook
#   display        vmbuf-view in a real window under Xvfb, and headless
#   install        meson install layout, libvmbuf linkage, systemd-analyze, dkms build
#   bench          the fence round-trip benchmark, briefly
#   fuzz           libFuzzer on the request parser (clang build, bounded time)
# Ends with "N passed, N failed". Extra arguments go to 'meson test' (e.g. --suite vm).
# Environment: VMBUF_FUZZ_SECONDS (default 60).
set -eu
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then
	./tests/deps.sh
else
	echo "run.sh: not root: skipping package installation (tests/deps.sh)" >&2
fi

fuzz_seconds=${VMBUF_FUZZ_SECONDS:-60}
setup() {
	dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

setup build-test -Dsanitize_host=true -Dcompat_kernel_dir=auto -Ddebug_kernel_dir=auto \
	-Dvm_tests=enabled -Dviewer=enabled -Dcapture=enabled -Drender=enabled \
	-Dprefix=/usr -Dsysconfdir=/etc -Ddkms=true
ninja -C build-test
CC=clang setup build-fuzz -Dguest=false -Dvm_tests=disabled -Dfuzz=enabled -Dkernel_dir=none \
	-Dfuzz_seconds="$fuzz_seconds"
ninja -C build-fuzz

status=0
meson test -C build-test --print-errorlogs --num-processes 2 "$@" || status=1
if [ $# -eq 0 ]; then
	meson test -C build-fuzz --suite fuzz --print-errorlogs || status=1
fi

python3 - <<'PY'
import json, os
passed = failed = skipped = 0
for d in ("build-test", "build-fuzz"):
    path = os.path.join(d, "meson-logs", "testlog.json")
    if not os.path.exists(path):
        continue
    for line in open(path):
        r = json.loads(line)["result"]
        if r == "OK":
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
PY
exit $status
