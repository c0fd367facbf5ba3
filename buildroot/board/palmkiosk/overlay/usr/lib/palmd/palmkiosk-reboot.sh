#!/bin/sh
# Reboots the kiosk when palmd asks (palmd-reboot.path: palmd creates
# /run/palmd/reboot). With a trial pending (RAUC has just installed the
# other slot) the reboot is a one-time tryboot into it; otherwise a normal
# reboot into the committed slot.
set -eu

BOOT="${PALMKIOSK_BOOT:-/boot}"
rm -f /run/palmd/reboot
if [ -e "$BOOT/tryboot-pending" ]; then
	exec systemctl reboot "0 tryboot"
fi
exec systemctl reboot
