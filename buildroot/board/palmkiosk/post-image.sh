#!/bin/sh
# Buildroot post-image script: makes the update (a RAUC bundle of the root
# filesystem, inside the project's signed envelope) and assembles the
# factory SD card image.
#
# Environment: BINARIES_DIR and HOST_DIR (from Buildroot); PALMD_SIGNING_KEY
# and PALMD_SIGNING_PUB, the release key pair made by "fwsign keygen";
# PALMD_FW_VERSION, the anti-rollback version; PALMD_RAUC_CERT and
# PALMD_RAUC_KEY, the RAUC signing certificate and key; optionally
# PALMD_FW_RELEASE (e.g. 1.4.2) and SOURCE_DATE_EPOCH (the bundle's creation
# time, for reproducible builds).
set -eu

BOARD_DIR="$(dirname "$0")"
: "${BINARIES_DIR:?post-image.sh runs from Buildroot, which sets BINARIES_DIR}"
: "${HOST_DIR:?post-image.sh runs from Buildroot, which sets HOST_DIR}"
: "${PALMD_SIGNING_KEY:?set PALMD_SIGNING_KEY to the release private key file (fwsign keygen)}"
: "${PALMD_SIGNING_PUB:?set PALMD_SIGNING_PUB to the release public key file (fwsign keygen)}"
: "${PALMD_FW_VERSION:?set PALMD_FW_VERSION to the anti-rollback version (rises with every release)}"
: "${PALMD_RAUC_CERT:?set PALMD_RAUC_CERT to the RAUC signing certificate}"
: "${PALMD_RAUC_KEY:?set PALMD_RAUC_KEY to the RAUC signing key}"

FWSIGN="$HOST_DIR/bin/fwsign"
FIRMWARE="$BINARIES_DIR/rpi-firmware"
RELEASE="${PALMD_FW_RELEASE:-dev}"

# Boot files. The factory image commits slot A.
install -m 0644 "$BOARD_DIR/config.txt" "$BOARD_DIR/tryboot.txt" \
	"$BOARD_DIR/cmdline-a.txt" "$BOARD_DIR/cmdline-b.txt" "$FIRMWARE/"
install -m 0644 "$BOARD_DIR/cmdline-a.txt" "$FIRMWARE/cmdline.txt"
install -m 0644 "$BOARD_DIR/cmdline-a.txt" "$FIRMWARE/cmdline-trial.txt"

# The RAUC bundle: the root filesystem for the rootfs slot class.
work="$BINARIES_DIR/rauc-bundle"
rm -rf "$work" "$BINARIES_DIR/palmkiosk.raucb"
mkdir -p "$work"
cp "$BINARIES_DIR/rootfs.ext4" "$work/rootfs.ext4"
cat >"$work/manifest.raucm" <<MANIFEST
[update]
compatible=palmkiosk-rpi4
version=$RELEASE
build=$PALMD_FW_VERSION

[bundle]
format=verity

[image.rootfs]
filename=rootfs.ext4
MANIFEST
"$HOST_DIR/bin/rauc" bundle --cert="$PALMD_RAUC_CERT" --key="$PALMD_RAUC_KEY" \
	"$work" "$BINARIES_DIR/palmkiosk.raucb"
rm -rf "$work"

# The update palmd fetches: the RAUC bundle in the signed envelope (version
# for anti-rollback, verified while it streams), then checked with the public
# key the image trusts.
"$FWSIGN" bundle -key "$PALMD_SIGNING_KEY" -version "$PALMD_FW_VERSION" \
	-release "$RELEASE" -created "${SOURCE_DATE_EPOCH:-$(date +%s)}" \
	-image "$BINARIES_DIR/palmkiosk.raucb" -out "$BINARIES_DIR/palmkiosk.bundle"
"$FWSIGN" verify -pub "$PALMD_SIGNING_PUB" "$BINARIES_DIR/palmkiosk.bundle" >/dev/null

# The factory image (Buildroot's genimage wrapper; the working directory is
# Buildroot's top directory).
support/scripts/genimage.sh -c "$BOARD_DIR/genimage.cfg"
