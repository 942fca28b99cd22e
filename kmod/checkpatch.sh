#!/bin/sh
# Run the kernel's checkpatch.pl (from Debian's linux-source-6.12 tarball,
# extracted once into WORKDIR) over the module:  checkpatch.sh SRCDIR WORKDIR
# Fails on any error, warning or --strict check.
set -eu
src=$1 work=$2
tarball=$(ls /usr/src/linux-source-6.12*.tar.xz 2>/dev/null | head -n1)
if [ -z "$tarball" ]; then
	echo "checkpatch.sh: no /usr/src/linux-source-6.12*.tar.xz (tests/deps.sh installs it)" >&2
	exit 1
fi
top=$(basename "$tarball" .tar.xz)
if [ ! -f "$work/$top/scripts/checkpatch.pl" ]; then
	mkdir -p "$work"
	tar -C "$work" -xJf "$tarball" "$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
		"$top/scripts/const_structs.checkpatch"
fi
# Check a copy: checkpatch leaves a cache file in its current directory, and needs
# relative paths to know include/uapi/ headers for what they are.
rm -rf "$work/src"
mkdir -p "$work/src/include/uapi/linux" "$work/src/include/vmbuf"
cp "$src"/*.c "$src"/*.h "$work/src/"
cp "$src"/include/uapi/linux/*.h "$work/src/include/uapi/linux/"
cp "$src"/include/vmbuf/*.h "$work/src/include/vmbuf/"
cd "$work/src"
out=$(perl "$work/$top/scripts/checkpatch.pl" --no-tree --terse --strict --show-types \
	--ignore CAMELCASE -f ./*.c ./*.h include/uapi/linux/*.h include/vmbuf/*.h 2>/dev/null |
	grep -v '^total:' || true)
if [ -n "$out" ]; then
	echo "$out"
	exit 1
fi
echo "checkpatch: kmod is clean (--strict)"
