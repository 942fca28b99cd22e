#!/bin/sh
# Build vmbuf.ko out of tree without writing into the source tree:
#   build.sh KDIR SRCDIR WORKDIR [OUTPUT]
# copies the module sources to WORKDIR, runs Kbuild there (warnings are
# errors, see Kbuild), and copies the module to OUTPUT when given.
set -eu
kdir=$1 src=$2 work=$3 out=${4:-}
if [ ! -e "$kdir/Makefile" ]; then
	echo "kmod/build.sh: no kernel build tree at $kdir (install linux-headers, see tests/deps.sh)" >&2
	exit 1
fi
mkdir -p "$work/include/uapi/linux" "$work/include/vmbuf"
cp "$src"/Kbuild "$src"/Makefile "$src"/*.c "$src"/*.h "$work"/
cp "$src"/include/uapi/linux/*.h "$work/include/uapi/linux/"
cp "$src"/include/vmbuf/*.h "$work/include/vmbuf/"
rm -f "$work/vmbuf.ko"
if ! make -s -C "$kdir" M="$(cd "$work" && pwd)" modules >"$work/build.log" 2>&1; then
	cat "$work/build.log" >&2
	echo "kmod/build.sh: building against $kdir failed" >&2
	exit 1
fi
grep -v "Skipping BTF generation" "$work/build.log" >&2 || true
[ -z "$out" ] || cp "$work/vmbuf.ko" "$out"
