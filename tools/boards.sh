# Sourced: what each board is built for and how QEMU runs it.
# board_info BOARD sets TARGET, QEMU, QEMU_MACHINE, QEMU_RAM and QEMU_NIC
# (empty: virtio-net on virtio-mmio; otherwise the emulated SoC NIC's model),
# UBOOT (Debian u-boot-sunxi build for the SD card image; empty: none) and
# QEMU_STORAGE, where QEMU keeps the leaderboard (virtio: a virtio-blk disk;
# sd: an SD card; empty: nowhere, it stays in RAM).
board_info() {
    UBOOT=; QEMU_NIC=; QEMU_RAM=128M; QEMU_STORAGE=virtio
    case "$1" in
        qemu-virt-armv7)
            TARGET=armv7a-none-eabihf; QEMU=qemu-system-arm; QEMU_MACHINE="-M virt -cpu cortex-a7" ;;
        qemu-virt-aarch64)
            TARGET=aarch64-unknown-none; QEMU=qemu-system-aarch64; QEMU_MACHINE="-M virt -cpu cortex-a53" ;;
        orangepi-pc)
            # Debian has no orangepi_pc U-Boot; nanopi_neo (also H3) boots it.
            TARGET=armv7a-none-eabihf; QEMU=qemu-system-arm; QEMU_MACHINE="-M orangepi-pc"
            QEMU_RAM=1G; QEMU_NIC=allwinner-sun8i-emac; UBOOT=armhf:nanopi_neo; QEMU_STORAGE=sd ;;
        cubieboard)
            TARGET=armv7a-none-eabihf; QEMU=qemu-system-arm; QEMU_MACHINE="-M cubieboard"
            QEMU_RAM=1G; QEMU_NIC=allwinner-emac; UBOOT=armhf:Cubieboard; QEMU_STORAGE= ;;
        cubieboard2)
            TARGET=armv7a-none-eabihf; QEMU=; QEMU_MACHINE=; UBOOT=armhf:Cubieboard2; QEMU_STORAGE= ;;
        pine64)
            TARGET=aarch64-unknown-none; QEMU=; QEMU_MACHINE=; UBOOT=arm64:pine64_plus; QEMU_STORAGE= ;;
        *) echo "unknown board '$1' ($ALL_BOARDS)" >&2; return 1 ;;
    esac
}
# The QEMU virt boards: what the end-to-end tests and the benchmark run.
BOARDS="qemu-virt-armv7 qemu-virt-aarch64"
# Allwinner boards: orangepi-pc and cubieboard run in QEMU, the others build only.
ALLWINNER_BOARDS="orangepi-pc cubieboard cubieboard2 pine64"
# Every board tools/build.sh knows.
ALL_BOARDS="$BOARDS $ALLWINNER_BOARDS"
