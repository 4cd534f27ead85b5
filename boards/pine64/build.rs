//! Links the board image at the address U-Boot's `booti` (and QEMU's `-kernel`) start it at.

fn main() {
    board_link::link_at(0x40080000);
}
