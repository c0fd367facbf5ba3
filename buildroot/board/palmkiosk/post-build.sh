#!/bin/sh
# Buildroot post-build script: runs after the packages are installed into
# TARGET_DIR and before the root filesystem image is made.
#
# Environment: TARGET_DIR (from Buildroot) and PALMD_SIGNING_PUB, the release
# public key(s) made by "fwsign keygen", which the kiosk will trust for
# firmware bundles and signed config.
set -eu

: "${TARGET_DIR:?post-build.sh runs from Buildroot, which sets TARGET_DIR}"
: "${PALMD_SIGNING_PUB:?set PALMD_SIGNING_PUB to the release public key file (fwsign keygen)}"

install -D -m 0644 "$PALMD_SIGNING_PUB" "$TARGET_DIR/etc/palmd/trusted-keys.pem"

# The root file system is mounted read-only; state lives on the data
# partition, mounted at /data by data.mount (from the overlay).
mkdir -p "$TARGET_DIR/data"
mkdir -p "$TARGET_DIR/etc/systemd/system/local-fs.target.wants"
ln -sf ../data.mount "$TARGET_DIR/etc/systemd/system/local-fs.target.wants/data.mount"
