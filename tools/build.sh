#!/usr/bin/env bash
# Builds a board's image: build/BOARD/BOARD.elf (the kernel, for gdb) and
# build/BOARD/BOARD.bin (what QEMU's -kernel and U-Boot boot: the unpacker,
# unpack/, followed by the compressed kernel; imgtool packed joins them).
# Usage: tools/build.sh [BOARD...|all]   (default qemu-virt-armv7; all: every board in $ALL_BOARDS)
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
[ "${1:-}" = all ] && set -- $ALL_BOARDS
[ $# -gt 0 ] || set -- qemu-virt-armv7
# Boards of one target are built by one cargo run, so their link-time
# optimizations (a minute each, one core each) run side by side.
declare -A boards_of
for board in "$@"; do
    board_info "$board"
    boards_of[$TARGET]+=" -p $board"
done
# Boards with a USB host embed the RT5370 Wi-Fi dongle's firmware
# (kernel/src/rt2800/firmware.rs), fetched once by tools/firmware.sh; once
# fetched, every board gets the same setting (no rebuild when switching
# between boards of one target; the linker drops it where unused).
# RT2870_FIRMWARE=file uses another copy, RT2870_FIRMWARE= none.
usb_board=
for board in "$@"; do [[ " $ALLWINNER_BOARDS " == *" $board "* ]] && usb_board=$board; done
if [[ -z ${RT2870_FIRMWARE+set} && ( -f build/firmware/rt2870.bin || -n $usb_board ) ]]; then
    if fw=$(tools/firmware.sh 2>/dev/null); then
        export RT2870_FIRMWARE=$fw
    else
        echo "warning: tools/firmware.sh failed; ${usb_board:-the boards} build without the RT5370 firmware" >&2
    fi
fi
cargo build -q --release -p imgtool
for target in "${!boards_of[@]}"; do
    # shellcheck disable=SC2086
    cross_cargo "$target" build -q --release ${boards_of[$target]} ${KERNEL_FEATURES:+--features "$KERNEL_FEATURES"}
    cross_cargo "$target" build -q --release -p unpack
done
for board in "$@"; do
    board_info "$board"
    out=${BUILD_DIR:-build}/$board
    mkdir -p "$out"
    cp "target/$TARGET/release/$board" "$out/$board.elf"
    target/release/imgtool packed "$out/$board.elf" "target/$TARGET/release/unpack" "$out/$board.bin" >&2
    echo "$out/$board.bin"
done
