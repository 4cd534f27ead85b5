#!/usr/bin/env bash
# Builds a board and boots it in QEMU, with the NIC on user networking
# (host port forward) or a TAP device; prints the URL and streams the console.
#
# Usage: ./qemu.sh [BOARD] [options]
#   BOARD              qemu-virt-armv7 (default), qemu-virt-aarch64, orangepi-pc or cubieboard
#   --port N           host port forwarded to the appliance's port 80 (default 8080)
#   --tls-port N       host port forwarded to the appliance's HTTPS port 443 (default 8443)
#   --tap IFACE        attach the NIC to TAP device IFACE instead of user networking
#   --append 'ARGS'    kernel bootargs, e.g. 'ip=10.42.0.1/24 http_slots=32'
#   --virtualization   start at EL2/Hyp, as U-Boot does on real boards
#   --virtio-modern    virtio-mmio version 2 (virtio 1.0) instead of QEMU's legacy default
#   --gdb              wait for gdb on tcp::1234 (gdb build/BOARD/BOARD.elf)
#   --no-build         boot the last build (BUILD_DIR=folder: the one in that folder)
#   --reboot           let a crash reset reboot the guest (default: QEMU exits)
#   --sd               orangepi-pc: boot build/BOARD/BOARD.img through U-Boot (tools/sdcard.sh) instead of -kernel
#   --monitor PATH     QEMU monitor on a unix socket (e.g. 'set_link nic0 off' to pull the cable)
#   --wifi PORT        virt boards: add the virtual radio, its link on UDP 127.0.0.1:PORT (the phone
#                      listens on PORT+1; tools/phone.sh --wifi PORT joins it; docs/wifi.md)
#   --usb-net          orangepi-pc, cubieboard: the NIC is a USB CDC Ethernet adapter (-device usb-net,
#                      id usbnet0, full speed: on OHCI0) instead of the EMAC, with the same port forwards
#   --usb-kbd          orangepi-pc, cubieboard: a USB keyboard on OHCI1 (id usbkbd0)
#   --usb-storage FILE orangepi-pc, cubieboard: a high-speed USB stick holding FILE (raw) on EHCI0 (id usbstick0):
#                      the leaderboard's storage if FILE has a leaderboard partition (imgtool leaderboard-card FILE)
#                      and the board no SD card with one
#   --disk FILE|none   the leaderboard's storage: virt boards a virtio-blk disk (default
#                      BUILD_DIR/BOARD/leaderboard.img, 128 KiB), orangepi-pc an SD card (default
#                      BUILD_DIR/BOARD/leaderboard-card.img, 1 MiB, by imgtool leaderboard-card;
#                      with --sd the boot card's own area); made if missing; if another run holds
#                      it, this one keeps its leaderboard in RAM; none: no disk
set -euo pipefail
cd "$(dirname "$0")"
. tools/boards.sh

board=qemu-virt-armv7; port=8080; tls_port=8443; tap=; append=; virt=; gdb=(); build=1; reboot=-no-reboot; modern=(); sd=; monitor=(); wifi=; disk=; usb_net=; usb_kbd=; usb_stick=; usb=()
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port=$2; shift ;;
        --tls-port) tls_port=$2; shift ;;
        --tap) tap=$2; shift ;;
        --append) append=$2; shift ;;
        --virtualization) virt=,virtualization=on ;;
        --gdb) gdb=(-s -S) ;;
        --virtio-modern) modern=(-global virtio-mmio.force-legacy=false) ;;
        --no-build) build= ;;
        --reboot) reboot= ;;
        --sd) sd=1 ;;
        --monitor) monitor=(-monitor "unix:$2,server,nowait"); shift ;;
        --wifi) wifi=$2; shift ;;
        --disk) disk=$2; shift ;;
        --usb-net) usb_net=1 ;;
        --usb-kbd) usb_kbd=1 ;;
        --usb-storage) usb_stick=$2; shift ;;
        -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) board=$1 ;;
    esac
    shift
done
board_info "$board"
[ -n "$QEMU" ] || { echo "$board is real hardware only: QEMU has no such machine (build it with tools/build.sh)" >&2; exit 2; }

if ! command -v "$QEMU" >/dev/null 2>&1; then
    . tools/toolchain.sh
    apt_install qemu-system-arm
fi
if [ -n "$sd" ]; then
    [ -z "$build" ] || tools/sdcard.sh "$board" >/dev/null
    image=build/$board/$board.img
    boot=(-sd "$image")
    [ -z "$append" ] || echo "--append is ignored with --sd: boot.scr sets the boot arguments" >&2
else
    [ -z "$build" ] || tools/build.sh "$board" >/dev/null
    image=${BUILD_DIR:-build}/$board/$board.bin
    boot=(-kernel "$image" ${append:+-append "$append"})
    [ -z "$append" ] || [ -z "$QEMU_NIC" ] || echo "--append is ignored on $board with -kernel: QEMU passes it no device tree (use --sd)" >&2
fi
[ -f "$image" ] || { echo "no image at $image: build first" >&2; exit 1; }

if [ -n "$tap" ]; then
    netdev="tap,id=n0,ifname=$tap,script=no,downscript=no"
    echo "appliance NIC on TAP $tap; open http://10.42.0.1/ from that network" >&2
else
    netdev="user,id=n0,net=10.42.0.0/24,hostfwd=tcp:127.0.0.1:$port-10.42.0.1:80,hostfwd=tcp:127.0.0.1:$tls_port-10.42.0.1:443"
    echo "open http://127.0.0.1:$port/ (HTTPS: https://127.0.0.1:$tls_port/ with build/tls/ca.pem)" >&2
fi
# Where each USB device goes. orangepi-pc: the EHCIs' buses usb-bus.0-3 take
# high-speed devices only, the OHCIs have their own, usb-bus.4-7. cubieboard
# (USB hosts only with -usb): the OHCIs are the EHCIs' companions, so a
# full-speed device on usb-bus.0-1 is handed to the OHCI beside its EHCI.
case "$board" in
    orangepi-pc) usb_at=(bus=usb-bus.4,port=1 bus=usb-bus.5,port=1 bus=usb-bus.0,port=1) ;;
    cubieboard) usb_at=(bus=usb-bus.0,port=1 bus=usb-bus.1,port=1 bus=usb-bus.0,port=2) ;;
    *) usb_at=() ;;
esac
if [ -n "$usb_net$usb_kbd$usb_stick" ]; then
    [ ${#usb_at[@]} -gt 0 ] || { echo "--usb-net, --usb-kbd and --usb-storage need orangepi-pc or cubieboard (the boards whose QEMU machines have USB hosts)" >&2; exit 2; }
    [ "$board" != cubieboard ] || usb+=(-usb)
    [ -z "$usb_kbd" ] || usb+=(-device "usb-kbd,${usb_at[1]},id=usbkbd0")
    [ -z "$usb_stick" ] || usb+=(-drive "file=$usb_stick,if=none,format=raw,id=usbdisk0" -device "usb-storage,${usb_at[2]},drive=usbdisk0,id=usbstick0")
fi
if [ -n "$usb_net" ]; then
    nic=(-netdev "$netdev" -device "usb-net,netdev=n0,${usb_at[0]},id=usbnet0")
elif [ -n "$QEMU_NIC" ]; then
    # The SoC's own EMAC: QEMU wires it from -nic (it has no virtio-mmio bus).
    nic=(-nic "${netdev/id=n0/id=n0,model=$QEMU_NIC}")
else
    nic=(-netdev "$netdev" -device virtio-net-device,netdev=n0 -device virtio-rng-device)
fi
radio=()
if [ -n "$wifi" ]; then
    [ -z "$QEMU_NIC" ] || { echo "--wifi needs a virt board: $board has no virtual radio" >&2; exit 2; }
    case "$wifi" in ''|*[!0-9]*) echo "--wifi takes a UDP port, not '$wifi'" >&2; exit 2 ;; esac
    [ "$wifi" -ge 1024 ] && [ "$wifi" -le 65534 ] || { echo "--wifi port must be 1024-65534" >&2; exit 2; }
    # After the NIC on the command line: QEMU gives it the next lower virtio-mmio
    # slot, which is how the kernel knows it is the radio's link.
    radio=(-netdev "dgram,id=w0,local.type=inet,local.host=127.0.0.1,local.port=$wifi,remote.type=inet,remote.host=127.0.0.1,remote.port=$((wifi + 1))"
           -device virtio-net-device,netdev=w0,mac=52:54:00:20:48:01)
    echo "virtual radio on UDP 127.0.0.1:$wifi (phone: tools/phone.sh --wifi $wifi)" >&2
fi
storage=()
case "$QEMU_STORAGE" in
    virtio) default_disk=leaderboard.img ;;
    sd) default_disk=leaderboard-card.img ;;
    *) [ -z "$disk" ] || [ "$disk" = none ] || { echo "--disk: $board has no SD card in QEMU; its leaderboard goes on a USB stick (--usb-storage FILE, imgtool leaderboard-card FILE makes one), else in RAM" >&2; exit 2; }
       disk=none ;;
esac
if [ -n "$sd" ]; then
    [ -z "$disk" ] || [ "$disk" = none ] || { echo "--disk with --sd: the boot card $image holds the leaderboard's area" >&2; exit 2; }
    disk=none
fi
if [ "$disk" != none ]; then
    if [ -z "$disk" ]; then
        disk=${BUILD_DIR:-build}/$board/$default_disk
        # One run at a time per disk: QEMU refuses an image another run has open.
        exec {disk_lock}>"$disk.lock"
        flock -n "$disk_lock" || { echo "$disk is in use by another run: this one keeps its leaderboard in RAM" >&2; disk=none; }
    fi
fi
if [ "$disk" != none ]; then
    if [ ! -f "$disk" ]; then
        mkdir -p "$(dirname "$disk")"
        if [ "$QEMU_STORAGE" = sd ]; then
            [ -x target/release/imgtool ] || { . tools/toolchain.sh; cargo build -q --release -p imgtool; }
            target/release/imgtool leaderboard-card "$disk" >/dev/null
        else
            truncate -s 128K "$disk"
        fi
    fi
    if [ "$QEMU_STORAGE" = sd ]; then
        storage=(-drive "file=$disk,if=sd,format=raw")
    else
        storage=(-drive "file=$disk,if=none,format=raw,id=d0" -device virtio-blk-device,drive=d0)
    fi
    echo "leaderboard disk: $disk" >&2
fi
machine=${QEMU_MACHINE/-M virt/-M virt$virt}
# shellcheck disable=SC2086
exec "$QEMU" $machine -m "$QEMU_RAM" -nographic $reboot "${gdb[@]}" "${modern[@]}" "${monitor[@]}" \
    "${boot[@]}" "${nic[@]}" "${radio[@]}" "${storage[@]}" "${usb[@]}"
