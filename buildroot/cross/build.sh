#!/bin/sh
# make cross: builds the production palmd for linux/arm64 with cgo and OpenCV
# (from the arm64 sysroot sysroot.sh makes) and runs the vision packages'
# tests on arm64 under qemu-aarch64 (qemu-user-static).
#
# Environment: PALMD_CROSS_DIR (the cache for packages and the sysroot,
# default ~/.cache/palmd-cross); PALMD_CROSS_OUT (default bin/linux-arm64);
# PALMD_CROSS_TESTFLAGS (default -short).
set -eu

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
SYSROOT="$(buildroot/cross/sysroot.sh)"
LIB="$SYSROOT/usr/lib/aarch64-linux-gnu"
# Bookworm's packages still put some libraries under /lib (zlib, lzma, …),
# and a few outside the multiarch directory (GDAL's HDF4, OGDI, Armadillo).
BASELIB="$SYSROOT/lib/aarch64-linux-gnu"
PLAINLIB="$SYSROOT/usr/lib"
OUT="${PALMD_CROSS_OUT:-bin/linux-arm64}"

export GOOS=linux GOARCH=arm64 CGO_ENABLED=1
export CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++
# pkg-config reads only the sysroot's .pc files and prefixes their paths.
export PKG_CONFIG_LIBDIR="$LIB/pkgconfig:$SYSROOT/usr/share/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$SYSROOT"
# The linker finds OpenCV's own dependencies (never linked directly) there;
# BLAS and LAPACK sit in Debian's alternatives directories.
export CGO_LDFLAGS="-Wl,-rpath-link,$LIB -Wl,-rpath-link,$BASELIB -Wl,-rpath-link,$PLAINLIB -Wl,-rpath-link,$LIB/blas -Wl,-rpath-link,$LIB/lapack"
# For the test binaries under qemu: the C library from the cross toolchain,
# everything else from the sysroot.
export PALMD_CROSS_LIBS="$LIB:$BASELIB:$PLAINLIB:$LIB/blas:$LIB/lapack"

mkdir -p "$OUT"
echo "building $OUT/palmd" >&2
go build -trimpath -o "$OUT/palmd" ./cmd/palmd
file "$OUT/palmd"

# shellcheck disable=SC2086 # PALMD_CROSS_TESTFLAGS is a list of flags
go test ${PALMD_CROSS_TESTFLAGS:--short} -exec "$ROOT/buildroot/cross/qemu.sh" ./vision/...
