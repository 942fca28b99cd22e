#!/bin/sh
# Build the debug guest kernel of the test command (KASAN, lockdep, UBSAN,
# DEBUG_OBJECTS, DMA_API_DEBUG: tests/kernel/debug.config on top of
# tinyconfig) from Debian's linux-source-6.12, once: it is cached under
# CACHE/debug-kernel-HASH, HASH covering the config, this script and the
# source package, so it is rebuilt only when one of them changes.
#   build.sh [CACHE]      prints the build tree (bzImage at arch/x86/boot/)
# CACHE defaults to $VMBUF_DEBUG_KERNEL_CACHE or /var/cache/vmbuf-tests.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:-${VMBUF_DEBUG_KERNEL_CACHE:-/var/cache/vmbuf-tests}}
src=$(ls /usr/src/linux-source-6.12.tar.xz 2>/dev/null || true)
if [ -z "$src" ]; then
	echo "tests/kernel/build.sh: no /usr/src/linux-source-6.12.tar.xz (apt install linux-source-6.12)" >&2
	exit 1
fi
hash=$( (cat "$here/debug.config" "$0"; stat -c %s "$src"; dpkg-query -W -f '${Version}' linux-source-6.12 2>/dev/null) |
	sha256sum | cut -c1-12)
tree=$cache/debug-kernel-$hash
if [ -f "$tree/.vmbuf-built" ]; then
	echo "$tree"
	exit 0
fi
mkdir -p "$cache"
rm -rf "$tree.new" "$cache"/debug-kernel-*.new
mkdir "$tree.new"
start=$(date +%s)
tar -xJf "$src" -C "$tree.new" --strip-components=1
(
	cd "$tree.new"
	make -s tinyconfig
	scripts/kconfig/merge_config.sh -m .config "$here/debug.config" >/dev/null
	make -s olddefconfig
	# Every option of the fragment must have survived olddefconfig (a missing
	# dependency drops it silently, as SLUB_TINY once dropped KASAN).
	grep '^CONFIG_[A-Z0-9_]*=[ym]' "$here/debug.config" | while read -r want; do
		grep -qx "$want" .config || { echo "tests/kernel/build.sh: $want did not survive" >&2; exit 1; }
	done
	make -s -j"$(nproc)" bzImage modules >build.log 2>&1 || { tail -40 build.log >&2; exit 1; }
)
for old in "$cache"/debug-kernel-*; do	# earlier configurations
	[ "$old" = "$tree.new" ] || rm -rf "$old"
done
mv "$tree.new" "$tree"
touch "$tree/.vmbuf-built"
echo "tests/kernel/build.sh: debug kernel built in $(( $(date +%s) - start )) s" >&2
echo "$tree"
