#!/usr/bin/env bash
# Writes a bootable SD card image for an Allwinner board: build/BOARD/BOARD.img
# (MBR, U-Boot with SPL at 8 KiB from Debian's u-boot-sunxi, FAT partition at
# 1 MiB with the kernel and boot.scr). Builds the kernel first.
# Usage: tools/sdcard.sh BOARD ['BOOTARGS']
# Flash it with: sudo dd if=build/BOARD/BOARD.img of=/dev/sdX bs=1M conv=fsync
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/boards.sh
. tools/uboot.sh
board=${1:?usage: tools/sdcard.sh BOARD [BOOTARGS]}
board_info "$board"
[ -n "$UBOOT" ] || { echo "$board boots without an SD card (no U-Boot build for it)" >&2; exit 2; }
tools/build.sh "$board" >/dev/null
spl=$(uboot_spl "$UBOOT")
target/release/imgtool sdcard "build/$board/$board.bin" "$spl" "build/$board/$board.img" "${2:-}" >&2
echo "build/$board/$board.img"
