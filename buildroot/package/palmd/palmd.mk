################################################################################
#
# palmd
#
################################################################################

# The source is this repository (BR2_EXTERNAL sits in its buildroot/
# directory). Buildroot builds Go offline with -mod=vendor, so run
# `go mod vendor` in the repository before building (see buildroot/README.md).
PALMD_VERSION = $(or $(PALMD_FW_RELEASE),dev)
PALMD_SITE = $(BR2_EXTERNAL_PALMD_PATH)/..
PALMD_SITE_METHOD = local
PALMD_LICENSE = Proprietary

PALMD_GOMOD = github.com/palmd/palmd
PALMD_BUILD_TARGETS = cmd/palmd
PALMD_LDFLAGS = -X main.version=$(PALMD_VERSION)
# gocv finds OpenCV with pkg-config (cgo), through Buildroot's wrapper
# that points at the staging directory.
PALMD_DEPENDENCIES = opencv4 host-pkgconf host-palmd

# fwsign for the host: post-image.sh signs the root filesystem with it. It
# uses only the standard library, so it needs none of the target's libraries.
HOST_PALMD_GOMOD = $(PALMD_GOMOD)
HOST_PALMD_BUILD_TARGETS = cmd/fwsign
HOST_PALMD_LDFLAGS = $(PALMD_LDFLAGS)
HOST_PALMD_DEPENDENCIES =

# palmd runs as its own user, with the groups of the devices it drives
# (the udev rules in the board overlay give gpio, i2c and tss their devices).
define PALMD_USERS
	palmd -1 palmd -1 * /data/palmd - video,gpio,i2c,dialout,input,tss palm kiosk daemon
endef

define PALMD_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(PALMD_PKGDIR)/palmd.service \
		$(TARGET_DIR)/usr/lib/systemd/system/palmd.service
endef

# What palmd needs from any kernel; board-specific drivers (BCM2835 PWM,
# I2C, watchdog, VC4) are in the board's linux.fragment.
define PALMD_LINUX_CONFIG_FIXUPS
	$(call KCONFIG_ENABLE_OPT,CONFIG_MEDIA_SUPPORT)
	$(call KCONFIG_ENABLE_OPT,CONFIG_MEDIA_CAMERA_SUPPORT)
	$(call KCONFIG_ENABLE_OPT,CONFIG_MEDIA_USB_SUPPORT)
	$(call KCONFIG_ENABLE_OPT,CONFIG_VIDEO_DEV)
	$(call KCONFIG_ENABLE_OPT,CONFIG_VIDEO_V4L2)
	$(call KCONFIG_ENABLE_OPT,CONFIG_USB_VIDEO_CLASS)
	$(call KCONFIG_ENABLE_OPT,CONFIG_GPIOLIB)
	$(call KCONFIG_ENABLE_OPT,CONFIG_GPIO_CDEV)
	$(call KCONFIG_ENABLE_OPT,CONFIG_PWM)
	$(call KCONFIG_ENABLE_OPT,CONFIG_PWM_SYSFS)
	$(call KCONFIG_ENABLE_OPT,CONFIG_I2C)
	$(call KCONFIG_ENABLE_OPT,CONFIG_I2C_CHARDEV)
	$(call KCONFIG_ENABLE_OPT,CONFIG_FB)
	$(call KCONFIG_ENABLE_OPT,CONFIG_INPUT_EVDEV)
	$(call KCONFIG_ENABLE_OPT,CONFIG_USB_SERIAL)
	$(call KCONFIG_ENABLE_OPT,CONFIG_WATCHDOG)
	$(call KCONFIG_ENABLE_OPT,CONFIG_SQUASHFS)
	$(call KCONFIG_ENABLE_OPT,CONFIG_BLK_DEV_LOOP)
	$(call KCONFIG_ENABLE_OPT,CONFIG_MD)
	$(call KCONFIG_ENABLE_OPT,CONFIG_BLK_DEV_DM)
	$(call KCONFIG_ENABLE_OPT,CONFIG_DM_VERITY)
	$(call KCONFIG_ENABLE_OPT,CONFIG_TCG_TPM)
	$(call KCONFIG_DISABLE_OPT,CONFIG_SWAP)
	$(call KCONFIG_DISABLE_OPT,CONFIG_COREDUMP)
endef

$(eval $(golang-package))
$(eval $(host-golang-package))
