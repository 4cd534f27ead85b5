#!/usr/bin/env bash
# Builds a board's image: build/BOARD/BOARD.elf (the kernel, for gdb) and
# build/BOARD/BOARD.bin (what QEMU's -kernel and U-Boot boot: the unpacker,
# unpack/, followed by the compressed kernel; imgtool packed joins them).
# Usage: tools/build.sh [BOARD|all]   (default qemu-virt-armv7; all: every board in $ALL_BOARDS)
# SITE_DIR=folder embeds another site instead of static/; BUILD_DIR=folder puts
# the images there instead of build/ (qemu.sh reads BUILD_DIR too).
# RT2870_FIRMWARE=file embeds that rt2870.bin (default on USB boards: tools/firmware.sh's).
# KERNEL_FEATURES='talc' builds the board with those Cargo features (e.g. the
# talc heap allocator instead of linked_list_allocator).
# The SD card image is separate: tools/sdcard.sh BOARD.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/toolchain.sh
. tools/boards.sh
board=${1:-qemu-virt-armv7}
if [ "$board" = all ]; then
    for b in $ALL_BOARDS; do "$0" "$b"; done
    exit 0
fi
board_info "$board"
# Boards with a USB host embed the RT5370 Wi-Fi dongle's firmware
# (kernel/src/rt2800/firmware.rs), fetched once by tools/firmware.sh; once
# fetched, every board gets the same setting (no rebuild when switching
# between boards of one target; the linker drops it where unused).
# RT2870_FIRMWARE=file uses another copy, RT2870_FIRMWARE= none.
if [[ -z ${RT2870_FIRMWARE+set} && ( -f build/firmware/rt2870.bin || " $ALLWINNER_BOARDS " == *" $board "* ) ]]; then
    if fw=$(tools/firmware.sh 2>/dev/null); then
        export RT2870_FIRMWARE=$fw
    else
        echo "warning: tools/firmware.sh failed; $board builds without the RT5370 firmware" >&2
    fi
fi
cargo build -q --release -p imgtool
cross_cargo "$TARGET" build -q --release -p "$board" ${KERNEL_FEATURES:+--features "$KERNEL_FEATURES"}
cross_cargo "$TARGET" build -q --release -p unpack
out=${BUILD_DIR:-build}/$board
mkdir -p "$out"
cp "target/$TARGET/release/$board" "$out/$board.elf"
target/release/imgtool packed "$out/$board.elf" "target/$TARGET/release/unpack" "$out/$board.bin" >&2
echo "$out/$board.bin"
