#!/bin/sh
# RAUC custom boot loader backend for the Raspberry Pi's tryboot.
#
# The boot partition (boot.mount, /boot) holds one kernel command line per
# slot (cmdline-a.txt, cmdline-b.txt, each with rauc.slot=A|B), the
# committed slot's as cmdline.txt, and the trial slot's as
# cmdline-trial.txt, which the firmware uses only on the one boot after
# "reboot '0 tryboot'" (tryboot.txt). A trial is pending while the file
# tryboot-pending exists; it holds the boot id of the boot that set it, so a
# later boot that is not the trial knows the trial has come and gone.
#
# RAUC calls: get-primary | set-primary SLOT | get-state SLOT |
# set-state SLOT good|bad, SLOT being a bootname (A or B).
set -eu

BOOT="${PALMKIOSK_BOOT:-/boot}"
BOOT_ID_FILE="${PALMKIOSK_BOOT_ID:-/proc/sys/kernel/random/boot_id}"
TRYBOOT_FLAG="${PALMKIOSK_TRYBOOT_FLAG:-/proc/device-tree/chosen/bootloader/tryboot}"
PENDING="$BOOT/tryboot-pending"

die() {
	echo "palmkiosk-tryboot: $*" >&2
	exit 1
}

# slot_of FILE prints the bootname a command line file boots.
slot_of() {
	sed -n 's/.*rauc\.slot=\([AB]\).*/\1/p' "$1"
}

check_slot() {
	case "$1" in
	A | B) ;;
	*) die "unknown slot '$1' (want A or B)" ;;
	esac
}

# replace SRC DST copies SRC over DST so that a power cut leaves one or the
# other: write a new file, flush it, rename it.
replace() {
	cp "$1" "$2.new"
	sync
	mv "$2.new" "$2"
	sync
}

# in_trial succeeds while a trial is pending: set during this boot (not yet
# rebooted), or this boot is the trial itself.
in_trial() {
	[ -e "$PENDING" ] || return 1
	[ "$(cat "$PENDING")" = "$(cat "$BOOT_ID_FILE")" ] && return 0
	[ -e "$TRYBOOT_FLAG" ] && [ "$(od -An -tu1 -j3 -N1 "$TRYBOOT_FLAG" | tr -d ' ')" = 1 ]
}

committed() { slot_of "$BOOT/cmdline.txt"; }

[ $# -ge 1 ] || die "no command"
case "$1" in
get-primary)
	if in_trial; then slot_of "$BOOT/cmdline-trial.txt"; else committed; fi
	;;
set-primary)
	[ $# -eq 2 ] || die "set-primary SLOT"
	check_slot "$2"
	if [ "$(committed)" = "$2" ]; then
		rm -f "$PENDING"
		sync
	else
		lower=$(echo "$2" | tr AB ab)
		replace "$BOOT/cmdline-$lower.txt" "$BOOT/cmdline-trial.txt"
		cat "$BOOT_ID_FILE" >"$PENDING.new"
		sync
		mv "$PENDING.new" "$PENDING"
		sync
	fi
	;;
get-state)
	[ $# -eq 2 ] || die "get-state SLOT"
	check_slot "$2"
	if [ "$(committed)" = "$2" ]; then echo good; else echo bad; fi
	;;
set-state)
	[ $# -eq 3 ] || die "set-state SLOT good|bad"
	check_slot "$2"
	lower=$(echo "$2" | tr AB ab)
	case "$3" in
	good)
		# Commit: the slot's command line becomes the one booted normally.
		if [ "$(committed)" != "$2" ]; then
			replace "$BOOT/cmdline-$lower.txt" "$BOOT/cmdline.txt"
		fi
		rm -f "$PENDING"
		sync
		;;
	bad)
		if [ -e "$PENDING" ] && [ "$(slot_of "$BOOT/cmdline-trial.txt")" = "$2" ]; then
			rm -f "$PENDING"
			sync
		fi
		;;
	*) die "set-state: '$3' (want good or bad)" ;;
	esac
	;;
*) die "unknown command '$1'" ;;
esac
