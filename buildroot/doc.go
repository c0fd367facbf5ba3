// Package buildroot holds the BR2_EXTERNAL tree that builds the kiosk's
// firmware image with Buildroot: the palmd package, the Raspberry Pi 4 board
// (defconfig, kernel fragment, rootfs overlay, genimage layout with two root
// slots) and the post-image hook that signs the root filesystem with fwsign.
//
// There is no Go API here. The package's tests check the tree's consistency
// without Buildroot: every file the tree names exists, package names match
// their directories, the build targets are main packages of this module,
// the example config is one palmd accepts, the slot UUIDs agree between the
// partition table and the kernel command lines, the scripts parse and use
// "set -eu", and post-build.sh and post-image.sh do their job when run the
// way Buildroot runs them (with genimage stubbed). See README.md.
package buildroot
