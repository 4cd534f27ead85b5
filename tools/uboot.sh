# Sourced: fetches Debian's u-boot-sunxi for a board, cached under build/u-boot/.
# uboot_spl ARCH:BUILD prints the path of u-boot-sunxi-with-spl.bin, e.g.
#   uboot_spl armhf:nanopi_neo  ->  build/u-boot/armhf/usr/lib/u-boot/nanopi_neo/u-boot-sunxi-with-spl.bin
# apt runs with private state (lists and archives under build/u-boot/apt-ARCH):
# the host's dpkg architectures and sources stay as they are.

UBOOT_CACHE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/u-boot

uboot_apt() { # ARCH apt-get|apt-cache ARGS...
    local arch=$1 dir=$UBOOT_CACHE/apt-$1; shift
    "$1" -q -o "APT::Architecture=$arch" -o "APT::Architectures=$arch" -o Dir::Etc::SourceParts=/nonexistent \
        -o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache" \
        -o APT::Sandbox::User=root "${@:2}"
}

uboot_spl() {
    local arch=${1%%:*} build=${1#*:}
    local root=$UBOOT_CACHE/$arch
    if [ ! -f "$root/.done" ]; then
        local dir=$UBOOT_CACHE/apt-$arch mirror
        mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$root"
        mirror=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1)
        [ -n "$mirror" ] || mirror=$(grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | head -1)
        [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
        echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main" > "$dir/sources.list"
        uboot_apt "$arch" apt-get update >&2 || echo "warning: apt-get update reported errors; using the lists it got" >&2
        rm -f "$root"/*.deb
        (cd "$root" && uboot_apt "$arch" apt-get download u-boot-sunxi >&2) || return 1
        dpkg-deb -x "$root"/u-boot-sunxi_*.deb "$root" || return 1
        dpkg-deb -f "$root"/u-boot-sunxi_*.deb Version > "$root/version.txt"
        touch "$root/.done"
    fi
    local dir=$root/usr/lib/u-boot/$build spl=$root/usr/lib/u-boot/$build/u-boot-sunxi-with-spl.bin
    if [ ! -f "$spl" ] && [ -f "$dir/sunxi-spl.bin" ] && [ -f "$dir/u-boot-sunxi-with-spl.fit.itb" ]; then
        # arm64: Debian ships the SPL and the FIT (U-Boot + TF-A) apart, for
        # 8 KiB and 40 KiB on the card; join them as one blob for 8 KiB.
        spl=$root/$build-u-boot-sunxi-with-spl.bin
        { head -c 32768 "$dir/sunxi-spl.bin"; head -c $((32768 - $(stat -c %s "$dir/sunxi-spl.bin"))) /dev/zero
          cat "$dir/u-boot-sunxi-with-spl.fit.itb"; } > "$spl"
    fi
    [ -f "$spl" ] || { echo "no $build in Debian's u-boot-sunxi ($arch)" >&2; return 1; }
    echo "$spl"
}
