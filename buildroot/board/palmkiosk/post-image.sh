#!/bin/sh
# Buildroot post-image script: signs the root filesystem into a firmware
# bundle (the update) and assembles the factory SD card image.
#
# Environment: BINARIES_DIR and HOST_DIR (from Buildroot); PALMD_SIGNING_KEY
# and PALMD_SIGNING_PUB, the release key pair made by "fwsign keygen";
# PALMD_FW_VERSION, the anti-rollback version, a number that must rise with
# every release; optionally PALMD_FW_RELEASE (e.g. 1.4.2) and
# SOURCE_DATE_EPOCH (the bundle's creation time, for reproducible builds).
set -eu

BOARD_DIR="$(dirname "$0")"
: "${BINARIES_DIR:?post-image.sh runs from Buildroot, which sets BINARIES_DIR}"
: "${HOST_DIR:?post-image.sh runs from Buildroot, which sets HOST_DIR}"
: "${PALMD_SIGNING_KEY:?set PALMD_SIGNING_KEY to the release private key file (fwsign keygen)}"
: "${PALMD_SIGNING_PUB:?set PALMD_SIGNING_PUB to the release public key file (fwsign keygen)}"
: "${PALMD_FW_VERSION:?set PALMD_FW_VERSION to the anti-rollback version (rises with every release)}"

FWSIGN="$HOST_DIR/bin/fwsign"
FIRMWARE="$BINARIES_DIR/rpi-firmware"

# Boot files. The factory image commits slot A.
install -m 0644 "$BOARD_DIR/config.txt" "$BOARD_DIR/tryboot.txt" \
	"$BOARD_DIR/cmdline-a.txt" "$BOARD_DIR/cmdline-b.txt" "$FIRMWARE/"
install -m 0644 "$BOARD_DIR/cmdline-a.txt" "$FIRMWARE/cmdline.txt"
install -m 0644 "$BOARD_DIR/cmdline-a.txt" "$FIRMWARE/cmdline-trial.txt"

# The update: the root filesystem image, signed, then checked with the
# public key the image trusts.
"$FWSIGN" bundle -key "$PALMD_SIGNING_KEY" -version "$PALMD_FW_VERSION" \
	-release "${PALMD_FW_RELEASE:-dev}" -created "${SOURCE_DATE_EPOCH:-$(date +%s)}" \
	-image "$BINARIES_DIR/rootfs.ext4" -out "$BINARIES_DIR/palmkiosk.bundle"
"$FWSIGN" verify -pub "$PALMD_SIGNING_PUB" "$BINARIES_DIR/palmkiosk.bundle" >/dev/null

# The factory image (Buildroot's genimage wrapper; the working directory is
# Buildroot's top directory).
support/scripts/genimage.sh -c "$BOARD_DIR/genimage.cfg"
