#!/usr/bin/env bash
# Builds a board's image: build/BOARD/BOARD.elf (for gdb) and
# build/BOARD/BOARD.bin (the raw image QEMU's -kernel and U-Boot boot).
# Usage: tools/build.sh [BOARD]   (default qemu-virt-armv7)
# SITE_DIR=folder embeds another site instead of static/.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/toolchain.sh
. tools/boards.sh
board=${1:-qemu-virt-armv7}
board_info "$board"
cargo build -q --release -p imgtool
cross_cargo "$TARGET" build -q --release -p "$board"
mkdir -p "build/$board"
cp "target/$TARGET/release/$board" "build/$board/$board.elf"
target/release/imgtool raw "build/$board/$board.elf" "build/$board/$board.bin" >&2
echo "build/$board/$board.bin"
