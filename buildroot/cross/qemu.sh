#!/bin/sh
# go test -exec wrapper: runs an arm64 test binary under qemu-aarch64 with
# the cross toolchain's C library and the sysroot's libraries (build.sh sets
# PALMD_CROSS_LIBS).
set -eu

: "${PALMD_CROSS_LIBS:?qemu.sh runs from build.sh, which sets PALMD_CROSS_LIBS}"
export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
export LD_LIBRARY_PATH="$PALMD_CROSS_LIBS"
exec qemu-aarch64-static "$@"
