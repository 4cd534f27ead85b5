//! Links the board image at the address QEMU's `-kernel` and U-Boot put it.

fn main() {
    board_link::link_at(0x40080000);
}
