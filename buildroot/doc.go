// Package buildroot holds the BR2_EXTERNAL tree that builds the kiosk's
// firmware image with Buildroot: the palmd package, RAUC, the Raspberry Pi 4
// board (defconfig, kernel fragment, rootfs overlay with the factory config,
// RAUC's tryboot backend and the hardened unit, genimage layout with two
// root slots and a data partition), the post-build and post-image hooks that
// sign the release and the update, and cross/, the arm64 cross build behind
// "make cross".
//
// There is no Go API here. The package's tests check the tree without
// Buildroot: its consistency (files, names, build targets, partition UUIDs,
// RAUC slots and boot names), the factory config against palmd's own
// config.Load, device paths between the example config, the image and the
// unit, kconfiglib on the Kconfig files, shellcheck on every script,
// systemd-analyze verify and security on the units, the tryboot backend
// through a trial, and the hooks run the way Buildroot runs them with a real
// fwsign and RAUC. Each tool-based test skips when its tool is missing. See
// README.md.
package buildroot
