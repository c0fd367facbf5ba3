#!/bin/sh
# Makes an arm64 sysroot with OpenCV for cross-compiling palmd with cgo: the
# Debian arm64 packages libopencv-dev depends on, unpacked with dpkg -x (not
# installed). The C library, its headers and libstdc++ come from Debian's
# cross toolchain (gcc-aarch64-linux-gnu, under /usr/aarch64-linux-gnu),
# so libc6-dev:arm64 and the other toolchain packages are left out.
#
# Usage: sysroot.sh [DIR]   (default $PALMD_CROSS_DIR/sysroot, with
# PALMD_CROSS_DIR defaulting to ~/.cache/palmd-cross). Prints the sysroot.
# Needs root (or sudo) the first time: it adds the arm64 architecture to
# apt and installs the cross toolchain and qemu-user-static.
set -eu

CROSS_DIR="${PALMD_CROSS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/palmd-cross}"
SYSROOT="${1:-$CROSS_DIR/sysroot}"
DEBS="$CROSS_DIR/debs"

SUDO=""
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
fi

if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64-static >/dev/null; then
	echo "installing the arm64 cross toolchain and qemu-user-static" >&2
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
		gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user-static pkg-config >&2
fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	echo "adding the arm64 architecture to apt" >&2
	$SUDO dpkg --add-architecture arm64
	$SUDO apt-get update -qq
fi

if [ -e "$SYSROOT/.complete" ]; then
	echo "$SYSROOT"
	exit 0
fi

# Everything libopencv-dev:arm64 pulls in, as arm64 packages, minus what the
# cross toolchain already provides.
toolchain='^(libc6|libc6-dev|libc-dev-bin|linux-libc-dev|libcrypt-dev|libnsl-dev|rpcsvc-proto|libtirpc-dev|libgcc-s1|libgcc-12-dev|libstdc\+\+6|libstdc\+\+-12-dev|gcc-12-base|gcc-12|cpp-12|libcc1-0|libasan8|libtsan2|liblsan0|libubsan1|libhwasan0|libitm1|libatomic1|libgomp1|binutils.*|libbinutils|libctf.*|libjansson4):arm64$'
mkdir -p "$DEBS"
apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
	--no-breaks --no-replaces --no-enhances libopencv-dev:arm64 |
	grep -v '^ ' | grep ':arm64$' | grep -v '^<' | grep -Ev "$toolchain" |
	sort -u >"$CROSS_DIR/packages.txt"
echo "downloading $(wc -l <"$CROSS_DIR/packages.txt") arm64 packages to $DEBS" >&2
(cd "$DEBS" && xargs apt-get download -qq <"$CROSS_DIR/packages.txt")

rm -rf "$SYSROOT"
mkdir -p "$SYSROOT"
for deb in "$DEBS"/*.deb; do
	dpkg -x "$deb" "$SYSROOT"
done
touch "$SYSROOT/.complete"
echo "$SYSROOT"
