#!/usr/bin/env bash
# Builds the Linux VM of the Wi-Fi rig (the "phone", and the hostapd peer from the same image):
# Debian's amd64 kernel, its mac80211_hwsim and virtio modules, busybox, wpa_supplicant, iw, curl,
# hostapd, dnsmasq, the hwsim-link forwarder and a copy of the site, in one gzipped initramfs.
#
# Packages come from the host's apt sources (`apt-get download`, `dpkg-deb -x`; nothing is
# installed in the host) and are cached in build/phone/debs/. Outputs: build/phone/vmlinux and
# build/phone/rig.cpio. Rebuilds them only when an input is newer. Idempotent.
# Boot time under TCG is what matters (a test boots two of these): the kernel is unpacked from its
# bzImage to an ELF that QEMU starts through its PVH entry, the initramfs is not compressed, and
# the modules' signatures are cut off (checking them costs seconds); 25-45 s to ready became ~11.
# Env: SITE_DIR (default static/) is served by the peer; REFRESH=1 downloads the packages again.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. tools/apt.sh
OUT=$ROOT/build/phone
SITE_DIR=${SITE_DIR:-static}
# Guest programs; their shared libraries are found with ldd and come from these packages' closure.
PKGS="busybox-static wireless-regdb wpasupplicant iw curl hostapd dnsmasq-base"
# Kernel modules in load order (dependencies first); modules.dep adds what these need.
MODULES="rfkill cfg80211 libarc4 mac80211 virtio_ring virtio mac80211_hwsim ccm ctr cmac gcm
virtio_pci failover net_failover virtio_net"
BINS="sbin/wpa_supplicant sbin/wpa_cli sbin/iw usr/bin/curl usr/sbin/hostapd usr/sbin/hostapd_cli usr/sbin/dnsmasq"

apt_install qemu-system-x86 cpio file python3

fetch() {
    [[ -f $OUT/debs/.done && -z ${REFRESH:-} ]] && return
    rm -rf "$OUT/debs" && mkdir -p "$OUT/debs"
    local kpkg
    kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-6/ {print $2; exit}')
    [[ -n $kpkg ]] || { echo "phone: apt offers no linux-image-amd64 (run apt-get update?)" >&2; exit 1; }
    # shared libraries the programs need: every lib* package in their dependency closure
    local libs
    libs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
        --no-replaces --no-enhances $PKGS | grep -E '^lib[^ ]*$' | sort -u)
    echo "phone: downloading $kpkg $PKGS and $(wc -w <<<"$libs") library packages" >&2
    (cd "$OUT/debs" && apt-get download -q "$kpkg" $PKGS $libs >&2)
    touch "$OUT/debs/.done"
}

forwarder() {
    # static and not position-independent: no loader at all (ldd: "not a dynamic executable")
    RUSTFLAGS="-C target-feature=+crt-static -C relocation-model=static" \
        nice -n 10 cargo build -q --release -p hwsim-link --target x86_64-unknown-linux-gnu
    local bin=target/x86_64-unknown-linux-gnu/release/hwsim-link
    { ldd "$bin" 2>&1 || true; } | grep -q 'not a dynamic executable' \
        || { echo "phone: $bin is not static" >&2; exit 1; }
    echo "$ROOT/$bin"
}

# Prints the .ko paths (relative to the module tree) for $MODULES, dependencies first. The
# package has no modules.dep (depmod makes it at install time): read each module's `depends=`.
module_paths() {
    python3 - "$1" $MODULES <<'EOF'
import pathlib, re, sys
tree, wanted = pathlib.Path(sys.argv[1]), sys.argv[2:]
name = lambda p: p.name.split(".ko")[0].replace("-", "_")
paths = {name(p): p for p in tree.rglob("*.ko*")}
builtin = {name(pathlib.Path(l.strip())) for l in open(tree / "modules.builtin")}
order = []
def add(mod):
    if mod in builtin or any(mod == name(p) for p in order):
        return
    if mod not in paths:
        sys.exit(f"phone: no module {mod} in {tree}")
    data = paths[mod].read_bytes()
    if paths[mod].suffix == ".xz":
        import lzma
        data = lzma.decompress(data)
    deps = re.search(rb"\0depends=([^\0]*)", data)
    for dep in (deps.group(1).decode().split(",") if deps and deps.group(1) else []):
        add(dep.replace("-", "_"))
    order.append(paths[mod])
for mod in wanted:
    add(mod)
print("\n".join(str(p.relative_to(tree)) for p in order))
EOF
}

build() {
    fetch
    local fwd; fwd=$(forwarder)
    local stamp=$OUT/rig.cpio
    local newer; newer=$(find "$0" tools/phone "$SITE_DIR" "$fwd" "$OUT/debs/.done" -newer "$stamp" 2>/dev/null || true)
    if [[ -f $stamp && -z $newer ]]; then
        return
    fi
    local X=$OUT/x R=$OUT/root
    rm -rf "$R" && mkdir -p "$R"/{bin,dev,proc,sys,etc,tmp,run,var,lib/modules,lib/firmware,usr/bin}
    if [[ ! -f $X/.done || $OUT/debs/.done -nt $X/.done ]]; then   # the unpacked packages, kept
        rm -rf "$X" && mkdir -p "$X"
        for d in "$OUT"/debs/*.deb; do dpkg-deb -x "$d" "$X"; done
        touch "$X/.done"
    fi
    for d in "$OUT"/debs/*.deb; do echo "$(dpkg-deb -f "$d" Package) $(dpkg-deb -f "$d" Version)"; done \
        > "$OUT/versions.txt"
    local bz; bz=$(echo "$X"/boot/vmlinuz-*)
    python3 - "$bz" "$OUT/vmlinux" <<'EOF'
import lzma, sys
data = open(sys.argv[1], "rb").read()
at = data.find(b"\xfd7zXZ\x00")
while at >= 0:  # the first XZ stream that unpacks is the kernel
    try:
        open(sys.argv[2], "wb").write(lzma.LZMADecompressor(lzma.FORMAT_XZ).decompress(data[at:]))
        break
    except lzma.LZMAError:
        at = data.find(b"\xfd7zXZ\x00", at + 1)
EOF
    file "$OUT/vmlinux" | grep -q 'ELF 64-bit' || { echo "phone: could not unpack $bz" >&2; exit 1; }
    local tree; tree=$(echo "$X"/lib/modules/*)
    module_paths "$tree" > "$OUT/modules.list"
    while read -r ko; do
        local name; name=$(basename "$ko"); name=${name%%.ko*}
        case $ko in
            *.xz) xz -dc "$tree/$ko" > "$R/lib/modules/$name.ko" ;;
            *) cp "$tree/$ko" "$R/lib/modules/$name.ko" ;;
        esac
        echo "$name" >> "$R/etc/modules.order"
    done < "$OUT/modules.list"
    python3 - "$R"/lib/modules/*.ko <<'EOF'
import struct, sys
MAGIC = b"~Module signature appended~\n"
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    if data.endswith(MAGIC):  # struct module_signature (12 bytes, sig_len last, BE) precedes it
        sig_len = struct.unpack(">I", data[-len(MAGIC) - 4:-len(MAGIC)])[0]
        open(path, "wb").write(data[:-(len(MAGIC) + 12 + sig_len)])
EOF
    cp "$X/lib/firmware/regulatory.db-debian" "$R/lib/firmware/regulatory.db"
    cp "$X/lib/firmware/regulatory.db.p7s-debian" "$R/lib/firmware/regulatory.db.p7s"
    cp "$X/bin/busybox" "$R/bin/" && ln -s busybox "$R/bin/sh"
    local libpath="$X/lib/x86_64-linux-gnu:$X/usr/lib/x86_64-linux-gnu"
    for b in $BINS; do
        cp "$X/$b" "$R/usr/bin/"
        # the libraries ldd resolves, preferring the downloaded ones over the host's
        LD_LIBRARY_PATH=$libpath ldd "$X/$b" | awk '/=> \// {print $3} /^\t\/lib64/ {print $1}' |
        while read -r lib; do
            local dest=$R/lib/x86_64-linux-gnu; [[ $lib == /lib64/* ]] && dest=$R/lib64
            mkdir -p "$dest"; [[ -e $dest/$(basename "$lib") ]] || cp -L "$lib" "$dest/"
        done
        if LD_LIBRARY_PATH=$libpath ldd "$X/$b" | grep -q 'not found'; then
            echo "phone: $b needs a library none of the packages has:" >&2
            LD_LIBRARY_PATH=$libpath ldd "$X/$b" | grep 'not found' >&2; exit 1
        fi
    done
    strip -o "$R/usr/bin/hwsim-link" "$fwd"
    cp tools/phone/init "$R/init"
    cp tools/phone/rig-console tools/phone/rig-ap tools/phone/udhcpc.script "$R/bin/"
    chmod +x "$R/init" "$R/bin/rig-console" "$R/bin/rig-ap" "$R/bin/udhcpc.script"
    cp -r "$SITE_DIR" "$R/www"
    printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$R/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' > "$R/etc/group"
    (cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) > "$stamp.tmp"
    mv "$stamp.tmp" "$stamp"
    rm -rf "$R"
    echo "phone: built $stamp ($(du -k "$stamp" | cut -f1) KiB), kernel $(basename "$tree")" >&2
}

build
