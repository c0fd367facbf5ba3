#!/bin/sh
# Buildroot post-build script: runs after the packages are installed into
# TARGET_DIR and before the root filesystem image is made.
#
# Environment: TARGET_DIR and HOST_DIR (from Buildroot);
# PALMD_SIGNING_KEY and PALMD_SIGNING_PUB, the release key pair made by
# "fwsign keygen" (the kiosk trusts the public key for firmware bundles and
# signed config); PALMD_FW_VERSION, the anti-rollback version, a number that
# must rise with every release; PALMD_RAUC_CERT, the certificate (chain)
# RAUC bundles are signed with, which becomes RAUC's keyring;
# PALMD_FACTORY_KEY, the factory station's console key (the "key" that
# "palmctl keygen -role factory" prints: an Ed25519 public key, standard
# base64), the one login a factory-fresh kiosk admits; optionally
# PALMD_FW_RELEASE and SOURCE_DATE_EPOCH.
set -eu

: "${TARGET_DIR:?post-build.sh runs from Buildroot, which sets TARGET_DIR}"
: "${HOST_DIR:?post-build.sh runs from Buildroot, which sets HOST_DIR}"
: "${PALMD_SIGNING_KEY:?set PALMD_SIGNING_KEY to the release private key file (fwsign keygen)}"
: "${PALMD_SIGNING_PUB:?set PALMD_SIGNING_PUB to the release public key file (fwsign keygen)}"
: "${PALMD_FW_VERSION:?set PALMD_FW_VERSION to the anti-rollback version (rises with every release)}"
: "${PALMD_RAUC_CERT:?set PALMD_RAUC_CERT to the certificate RAUC bundles are signed with}"
: "${PALMD_FACTORY_KEY:?set PALMD_FACTORY_KEY to the factory station console key (the key palmctl keygen -role factory prints)}"
case "$PALMD_FACTORY_KEY" in
*[!A-Za-z0-9+/=]*)
	echo "post-build.sh: PALMD_FACTORY_KEY: want an Ed25519 public key in standard base64 (A-Z, a-z, 0-9, +, /, =)" >&2
	exit 1
	;;
esac

install -D -m 0644 "$PALMD_SIGNING_PUB" "$TARGET_DIR/etc/palmd/trusted-keys.pem"
install -D -m 0644 "$PALMD_RAUC_CERT" "$TARGET_DIR/etc/rauc/keyring.pem"

# The release's floor: a signed header over this very palmd binary. palmd
# verifies it against itself at start; no state file can take the firmware
# minimum below this version.
mkdir -p "$TARGET_DIR/usr/lib/palmd"
"$HOST_DIR/bin/fwsign" release -key "$PALMD_SIGNING_KEY" -version "$PALMD_FW_VERSION" \
	-release "${PALMD_FW_RELEASE:-dev}" -created "${SOURCE_DATE_EPOCH:-$(date +%s)}" \
	-exe "$TARGET_DIR/usr/bin/palmd" -out "$TARGET_DIR/usr/lib/palmd/release.sig" >/dev/null

# The factory config (copied to /data on first boot) admits the factory
# station's key, so that it can provision the kiosk over the console.
config="$TARGET_DIR/usr/share/palmd/config.json"
if ! grep -q '"technicians": \[\]' "$config"; then
	echo "post-build.sh: $config: want an empty \"technicians\": [] to name the factory key in" >&2
	exit 1
fi
sed -i "s|\"technicians\": \[\]|\"technicians\": [{\"role\": \"factory\", \"name\": \"factory\", \"key\": \"$PALMD_FACTORY_KEY\"}]|" "$config"

# The root file system is mounted read-only; state lives on the data
# partition (/data, data.mount), the boot files on the boot partition
# (/boot, boot.mount, written by RAUC's tryboot backend).
mkdir -p "$TARGET_DIR/data" "$TARGET_DIR/boot"
wants="$TARGET_DIR/etc/systemd/system/local-fs.target.wants"
mkdir -p "$wants" "$TARGET_DIR/etc/systemd/system/multi-user.target.wants"
ln -sf ../data.mount "$wants/data.mount"
ln -sf ../boot.mount "$wants/boot.mount"
ln -sf ../palmd-reboot.path "$TARGET_DIR/etc/systemd/system/multi-user.target.wants/palmd-reboot.path"
