#!/bin/sh
# Build vmbuf.ko out of tree without writing into the source tree:
#   build.sh KDIR SRCDIR WORKDIR [OUTPUT [ROOT]]
# copies the module sources to WORKDIR, runs Kbuild there (warnings are
# errors, see Kbuild), and copies the module to OUTPUT when given. With ROOT,
# the build runs in that tree (chroot: its compiler, for a kernel of another
# distribution release); KDIR and WORKDIR are then paths inside ROOT.
set -eu
kdir=$1 src=$2 work=$3 out=${4:-} root=${5:-}
if [ ! -e "$root$kdir/Makefile" ]; then
	echo "kmod/build.sh: no kernel build tree at $root$kdir (install linux-headers, see tests/deps.sh)" >&2
	exit 1
fi
w=$root$work
mkdir -p "$w/include/uapi/linux" "$w/include/vmbuf"
cp "$src"/Kbuild "$src"/Makefile "$src"/*.c "$src"/*.h "$w"/
cp "$src"/include/uapi/linux/*.h "$w/include/uapi/linux/"
cp "$src"/include/vmbuf/*.h "$w/include/vmbuf/"
rm -f "$w/vmbuf.ko"
if [ -n "$root" ]; then
	# The compiler the kernel was built with (its tree has no plain "gcc").
	cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' "$root$kdir/.config")
	# objtool reads /proc: a proc mount of its own, in a mount namespace of its own.
	set -- unshare -m sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$root" \
		make -s -C "$kdir" M="$work" ${cc:+CC=$cc} modules
else
	set -- make -s -C "$kdir" M="$(cd "$w" && pwd)" modules
fi
if ! "$@" >"$w/build.log" 2>&1; then
	cat "$w/build.log" >&2
	echo "kmod/build.sh: building against $root$kdir failed" >&2
	exit 1
fi
grep -v "Skipping BTF generation" "$w/build.log" >&2 || true
[ -z "$out" ] || cp "$w/vmbuf.ko" "$out"
