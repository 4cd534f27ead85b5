# Sourced: what each board is built for and how QEMU runs it.
# board_info BOARD sets TARGET, QEMU, QEMU_MACHINE.
board_info() {
    case "$1" in
        qemu-virt-armv7)
            TARGET=armv7a-none-eabihf; QEMU=qemu-system-arm; QEMU_MACHINE="-M virt -cpu cortex-a7" ;;
        qemu-virt-aarch64)
            TARGET=aarch64-unknown-none; QEMU=qemu-system-aarch64; QEMU_MACHINE="-M virt -cpu cortex-a53" ;;
        *) echo "unknown board '$1' (qemu-virt-armv7, qemu-virt-aarch64)" >&2; return 1 ;;
    esac
}
BOARDS="qemu-virt-armv7 qemu-virt-aarch64"
