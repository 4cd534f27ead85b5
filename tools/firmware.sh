#!/usr/bin/env bash
# Fetches the RT2870/RT3070/RT5370 USB firmware, rt2870.bin, from Debian's
# firmware-misc-nonfree (component non-free-firmware, which the host's apt
# sources need not list) into build/firmware/rt2870.bin, checks its size and
# hash, and prints its path. apt runs with a private state under
# build/firmware/apt (as tools/uboot.sh does for U-Boot): the host's sources
# and dpkg state stay as they are. The file is never committed (build/ is
# ignored). Usage: tools/firmware.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD/build/firmware
out=$root/rt2870.bin
# rt2870.bin as Debian ships it: two 4 KiB images (RT2860/RT2872/RT3070, then
# the later chips, the RT5370 among them), each ending in its CRC.
size=8192
sha256=251b8918391eac6415d60dca239e415aad0177e885376f2a17782e64fcbbe317

check() {
    [ "$(stat -c %s "$1")" = "$size" ] || { echo "$1: $(stat -c %s "$1") bytes, expected $size" >&2; return 1; }
    [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$sha256" ] || { echo "$1: unexpected SHA-256" >&2; return 1; }
}

if [ -f "$out" ] && check "$out"; then
    echo "$out"
    exit 0
fi

dir=$root/apt
mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$root/pkg"
mirror=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
[ -n "$mirror" ] || mirror=$(grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | head -1 || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm non-free-firmware" > "$dir/sources.list"
fw_apt() {
    "$1" -q -o APT::Architecture=all -o APT::Architectures=all -o Dir::Etc::SourceParts=/nonexistent \
        -o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache" \
        -o APT::Sandbox::User=root "${@:2}"
}
fw_apt apt-get update >&2 || echo "warning: apt-get update reported errors; using the lists it got" >&2
rm -f "$root/pkg"/*.deb
(cd "$root/pkg" && fw_apt apt-get download firmware-misc-nonfree >&2)
deb=$(ls "$root/pkg"/firmware-misc-nonfree_*.deb)
rm -rf "$root/pkg/x"
dpkg-deb -x "$deb" "$root/pkg/x"
src=$(find "$root/pkg/x" -name 'rt2870.bin*' | head -1)
[ -n "$src" ] || { echo "no rt2870.bin in $deb" >&2; exit 1; }
case "$src" in
    *.xz) xz -dc "$src" > "$out.new" ;;
    *.zst) zstd -dqc "$src" > "$out.new" ;;
    *) cp "$src" "$out.new" ;;
esac
dpkg-deb -f "$deb" Version > "$root/version.txt"
rm -rf "$root/pkg/x" "$deb"
check "$out.new"
mv "$out.new" "$out"
echo "$out"
