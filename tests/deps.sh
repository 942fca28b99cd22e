#!/bin/sh
# Install everything vmbuf needs to build and test on a fresh Debian 12 machine.
#
# Adds bookworm-backports (QEMU 10.0, Linux 6.12, meson 1.7) with the archive URI read
# at run time from the machine's own debian.sources, so no registry host is written
# into the project, and builds a trixie tree with trixie-backports' QEMU (>= 10.2, for
# the vhost-user transport) from the same archive. Idempotent: a second run only checks
# that everything is present.
# Must run as root. Records the guest kernel's ABI in tests/vm/.kernel-version and
# the 6.1 ABI in tests/vm/.compat-kernel-version (read by meson and the VM kit).
#   deps.sh            everything the test command needs
#   deps.sh --demo     what the main job needs (no debug kernel, no compatibility matrix)
set -eu
demo=false
[ "${1:-}" = --demo ] && demo=true

here=$(cd "$(dirname "$0")" && pwd)
sources=/etc/apt/sources.list.d/debian.sources
bp=/etc/apt/sources.list.d/vmbuf-bookworm-backports.sources

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: must run as root (apt-get install)" >&2
	exit 1
fi

# The archive URI of the machine's own bookworm sources (nothing here names a host).
uri_main=""
if [ -f "$sources" ]; then
	# First URIs line of the stanza that carries the bookworm suite.
	uri_main=$(awk '/^URIs:/ { u = $2 } /^Suites:/ && / bookworm( |$)/ { print u; exit }' "$sources")
fi
if [ -z "$uri_main" ] && [ -f /etc/apt/sources.list ]; then
	uri_main=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)
fi
if [ -z "$uri_main" ]; then
	echo "deps.sh: cannot find the bookworm archive URI in $sources or sources.list" >&2
	exit 1
fi

if [ ! -f "$bp" ]; then
	cat >"$bp" <<EOT
Types: deb
URIs: $uri_main
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
	updated=0
fi

export DEBIAN_FRONTEND=noninteractive
if [ "${updated:-1}" = 0 ] || [ ! -e /var/lib/apt/lists/partial ] ||
   ! ls /var/lib/apt/lists/*bookworm-backports*Packages* >/dev/null 2>&1; then
	apt-get update -q
fi

# Newest 6.12 ABI in backports and newest 6.1 ABI in bookworm.
abi612=$(apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb[0-9u.]*-amd64$' |
	awk '{print $1}' | sed 's/^linux-headers-//' | sort -V | tail -n1)
abi61=$(apt-cache search --names-only '^linux-headers-6\.1\.0-[0-9]*-amd64$' |
	awk '{print $1}' | sed 's/^linux-headers-//' | sort -V | tail -n1)
if [ -z "$abi612" ] || [ -z "$abi61" ]; then
	echo "deps.sh: no 6.12 or 6.1 kernel headers found in the archive" >&2
	exit 1
fi

pkgs="build-essential meson ninja-build pkg-config python3 clang llvm libclang-rt-14-dev
	busybox-static cpio kmod xz-utils zstd libpng-dev libjson-c-dev libxml2-dev linux-source-6.12
	libvirglrenderer-dev
	linux-headers-$abi612 linux-image-$abi612-unsigned linux-headers-$abi61"

apt-get install -y -q --no-install-recommends $pkgs
apt-get install -y -q --no-install-recommends -t bookworm-backports \
	qemu-system-x86 qemu-system-modules-opengl qemu-utils meson libsystemd-dev libsdl2-dev \
	libglib2.0-dev dbus-daemon xvfb x11-apps x11-utils xauth \
	libvirt-daemon libvirt-daemon-driver-qemu libvirt-daemon-system libvirt-clients
apt-get install -y -q --no-install-recommends dkms systemd libxml2-utils debootstrap
# The debug guest kernel (tests/kernel/build.sh) is built from linux-source-6.12.
apt-get install -y -q --no-install-recommends flex bison bc libelf-dev libssl-dev

# QEMU >= 10.2 for the vhost-user transport: trixie-backports' QEMU in a
# debootstrapped trixie tree outside the checkout (about 45 s and 500 MB once),
# run through the tree's own loader by tests/kit/vmkit.py. Rebuilt only when
# missing; an unfinished tree is started over.
# The tree holds the same QEMU module packages as the host: a module missing from
# the tree's directory is looked up in the host's, and QEMU aborts on a module of
# another build (libvirt's capability probe loads every display module).
tree=${VMBUF_QEMU_TREE:-/var/cache/vmbuf-tests/trixie}
tree_qemu="qemu-system-x86 qemu-system-modules-opengl"
tree_install() {
	chroot "$1" sh -c "apt-get update -q >/dev/null &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			-t trixie-backports $tree_qemu >/dev/null && apt-get clean"
}
if [ ! -x "$tree/usr/bin/qemu-system-x86_64" ]; then
	rm -rf "$tree.new"
	mkdir -p "$(dirname "$tree")"
	debootstrap --variant=minbase trixie "$tree.new" "$uri_main" >/dev/null
	echo "deb $uri_main trixie-backports main" >"$tree.new/etc/apt/sources.list.d/backports.list"
	tree_install "$tree.new"
	rm -rf "$tree"
	mv "$tree.new" "$tree"
elif [ ! -e "$tree/usr/lib/x86_64-linux-gnu/qemu/ui-opengl.so" ]; then
	tree_install "$tree"	# a tree made before the modules were added
fi

mkdir -p "$here/vm"
echo "$abi612" >"$here/vm/.kernel-version"
echo "$abi61" >"$here/vm/.compat-kernel-version"
if $demo; then
	echo "deps.sh: guest kernel $abi612 (for the demo)"
	exit 0
fi

# The debug guest kernel: KASAN, lockdep, UBSAN, ... (about 10 minutes the first time
# on 2 cores, cached until tests/kernel/debug.config or the source package changes).
debug_tree=$("$here/kernel/build.sh")

# The compatibility matrix (README.md): Debian 12's own QEMU 7.2 and the 6.1 guest
# kernel, unpacked into the cache (nothing of theirs is installed on the host), and
# trixie-backports' Linux 7.3 in the trixie tree, with what builds vmbuf.ko for it.
cache=/var/cache/vmbuf-tests
unpack() {	# unpack DIR PACKAGE...: dpkg -x of the packages' current versions, once
	dir=$1
	shift
	[ -f "$dir/.vmbuf-unpacked" ] && return 0
	rm -rf "$dir" "$dir.debs"
	mkdir -p "$dir.debs"
	(cd "$dir.debs" && apt-get download -q "$@" >/dev/null 2>&1)
	for deb in "$dir.debs"/*.deb; do
		dpkg -x "$deb" "$dir"
	done
	rm -rf "$dir.debs"
	touch "$dir/.vmbuf-unpacked"
}
unpack "$cache/qemu-7.2" qemu-system-x86/bookworm qemu-system-common/bookworm \
	qemu-system-data/bookworm
unpack "$cache/linux-$abi61" "linux-image-$abi61-unsigned"
abi73=$(chroot "$tree" apt-cache search --names-only '^linux-headers-7\.3\.[0-9]+\+deb13-amd64$' |
	awk '{print $1}' | sed 's/^linux-headers-//' | sort -V | tail -n1)
vmlinuz73=/usr/lib/modules/$abi73/vmlinuz.unsigned
if [ -n "$abi73" ] && [ ! -f "$tree$vmlinuz73" ]; then
	chroot "$tree" sh -c "DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends -t trixie-backports make binutils linux-headers-$abi73 >/dev/null &&
		cd /tmp && apt-get download -q -t trixie-backports \
			linux-binary-unsigned-$abi73 >/dev/null 2>&1 &&
		dpkg -x linux-binary-unsigned-${abi73}_*.deb / && rm -f /tmp/*.deb && apt-get clean"
fi

echo "$debug_tree" >"$here/vm/.debug-kernel"
# What the matrix runs on: QEMU 7.2's tree, the 6.1 kernel, the trixie tree's 7.3.
cat >"$here/vm/.matrix" <<EOT
qemu72 $cache/qemu-7.2
linux61 $cache/linux-$abi61/boot/vmlinuz-$abi61
linux73 ${abi73:+$tree$vmlinuz73}
linux73_headers ${abi73:+/usr/src/linux-headers-$abi73}
EOT
echo "deps.sh: guest kernel $abi612, compat headers $abi61, debug kernel $debug_tree"
